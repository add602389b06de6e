//! Externals: `wasm_extern_t`, which is any of a function, global, table,
//! memory or tag, and the conversions between it and each of them.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::StoreRc;
use crate::types::{
    wasm_externkind_t, wasm_externtype_t, WASM_EXTERN_FUNC, WASM_EXTERN_GLOBAL, WASM_EXTERN_MEMORY,
    WASM_EXTERN_TABLE, WASM_EXTERN_TAG,
};
use crate::{wasm_func_t, wasm_global_t, wasm_memory_t, wasm_table_t, wasm_tag_t};
use strata::Extern;

ref_type!(
    /// `wasm_extern_t`: a function, global, table, memory or tag of a store.
    wasm_extern_t,
    crate::r#ref::wasm_ref_t,
    Func(..) | Global(..) | Table(..) | Memory(..) | Tag(..)
);
declare_ref!(extern, wasm_extern_t);

impl wasm_extern_t {
    /// A new handle to `item` of `store`; `None` for a shared memory,
    /// which `wasm.h` has no type for.
    pub(crate) fn boxed_from(store: &StoreRc, item: Extern) -> Option<Box<wasm_extern_t>> {
        let store = store.clone();
        Some(wasm_extern_t::boxed(match item {
            Extern::Func(f) => RefKind::Func(store, f),
            Extern::Global(g) => RefKind::Global(store, g),
            Extern::Table(t) => RefKind::Table(store, t),
            Extern::Memory(m) => RefKind::Memory(store, m),
            Extern::Tag(t) => RefKind::Tag(store, t),
            Extern::SharedMemory(_) => return None,
        }))
    }

    /// The store and the item.
    pub(crate) fn item(&self) -> (&StoreRc, Extern) {
        match &self.inner.kind {
            RefKind::Func(s, f) => (s, Extern::Func(*f)),
            RefKind::Global(s, g) => (s, Extern::Global(*g)),
            RefKind::Table(s, t) => (s, Extern::Table(*t)),
            RefKind::Memory(s, m) => (s, Extern::Memory(*m)),
            RefKind::Tag(s, t) => (s, Extern::Tag(*t)),
            // `RefType::accepts` admits only the five kinds above.
            _ => unreachable!("wasm_extern_t holds an extern"),
        }
    }
}

/// `wasm_extern_kind`.
#[no_mangle]
pub extern "C" fn wasm_extern_kind(e: Option<&wasm_extern_t>) -> wasm_externkind_t {
    match e.map(|e| e.item().1) {
        Some(Extern::Func(_)) => WASM_EXTERN_FUNC,
        Some(Extern::Global(_)) => WASM_EXTERN_GLOBAL,
        Some(Extern::Table(_)) => WASM_EXTERN_TABLE,
        Some(Extern::Memory(_)) => WASM_EXTERN_MEMORY,
        Some(Extern::Tag(_)) => WASM_EXTERN_TAG,
        // `item` never gives a shared memory (see `boxed_from`).
        Some(Extern::SharedMemory(_)) | None => u8::MAX,
    }
}

/// `wasm_extern_type`.
#[no_mangle]
pub extern "C" fn wasm_extern_type(e: Option<&wasm_extern_t>) -> Option<Box<wasm_externtype_t>> {
    let (store, item) = e?.item();
    let ty = store.with(|s| item.ty(&*s));
    Some(Box::new(wasm_externtype_t::new(ty)))
}

/// Declares `wasm_<name>_as_extern`, `wasm_extern_as_<name>` and their
/// `_const` forms.
macro_rules! extern_conversions {
    ($($name:ident: $ty:ty),*) => {$(paste::paste! {
        #[doc = concat!("`wasm_", stringify!($name), "_as_extern`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _as_extern>](x: Option<&mut $ty>) -> Option<&mut wasm_extern_t> {
            x.map(|x| &mut x.inner)
        }
        #[doc = concat!("`wasm_", stringify!($name), "_as_extern_const`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _as_extern_const>](x: Option<&$ty>) -> Option<&wasm_extern_t> {
            x.map(|x| &x.inner)
        }
        #[doc = concat!("`wasm_extern_as_", stringify!($name), "`: null for another kind.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_extern_as_ $name>](e: Option<&mut wasm_extern_t>) -> Option<&mut $ty> {
            <$ty>::from_base_mut(e?.base_mut())
        }
        #[doc = concat!("`wasm_extern_as_", stringify!($name), "_const`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_extern_as_ $name _const>](e: Option<&wasm_extern_t>) -> Option<&$ty> {
            <$ty>::from_base(e?.base())
        }
    })*};
}

extern_conversions!(
    func: wasm_func_t,
    global: wasm_global_t,
    table: wasm_table_t,
    memory: wasm_memory_t,
    tag: wasm_tag_t
);
