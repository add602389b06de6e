//! References: `wasm_ref_t`, the base of every runtime object, host
//! information, and the functions every reference type shares
//! (`_delete`, `_copy`, `_same`, `_get_host_info`, `_set_host_info`,
//! `_set_host_info_with_finalizer`, `_as_ref`, `wasm_ref_as_*`).
//!
//! Host information of an object that lives in a store is attached to the
//! object itself, not to one C handle: every handle of the same function,
//! memory, ... (copies, repeated `wasm_instance_exports`) sees it, and its
//! finalizer runs when the store goes away or the information is replaced.
//! Modules and traps, which live outside stores, carry it per handle.

use crate::module::ModuleData;
use crate::store::{EntityKey, StoreRc};
use crate::trap::TrapData;
use std::cell::RefCell;
use std::ffi::c_void;
use std::rc::Rc;
use strata::{AnyRef, ExnRef, ExternRef, Func, Global, Instance, Memory, Table, Tag};

/// A finalizer C attaches to host information.
pub type Finalizer = Option<unsafe extern "C" fn(*mut c_void)>;

/// Host information and the finalizer that releases it.
pub struct HostInfo {
    data: *mut c_void,
    finalizer: Finalizer,
}

impl Drop for HostInfo {
    fn drop(&mut self) {
        if let Some(f) = self.finalizer {
            // SAFETY: C gave this finalizer for this data, to be called once.
            unsafe { f(self.data) }
        }
    }
}

/// What a reference refers to.
#[derive(Clone)]
pub(crate) enum RefKind {
    Func(StoreRc, Func),
    Global(StoreRc, Global),
    Table(StoreRc, Table),
    Memory(StoreRc, Memory),
    Tag(StoreRc, Tag),
    Instance(StoreRc, Instance),
    /// A foreign object, which is also what an `externref` value is.
    Foreign(StoreRc, ExternRef),
    /// A reference of the `any` hierarchy (`gc.rs`), manually rooted
    /// (`AnyRef::to_manually_rooted`) for as long as this C handle lives:
    /// each handle owns its root, and dropping the handle releases it.
    Any(StoreRc, AnyRef),
    /// An exception (`exn.rs`), manually rooted like `Any`.
    Exn(StoreRc, ExnRef),
    Module(ModuleData),
    Trap(Rc<TrapData>),
}

impl RefKind {
    fn entity(&self) -> Option<(&StoreRc, EntityKey)> {
        Some(match self {
            RefKind::Func(s, f) => (s, EntityKey::Func(*f)),
            RefKind::Global(s, g) => (s, EntityKey::Global(*g)),
            RefKind::Table(s, t) => (s, EntityKey::Table(*t)),
            RefKind::Memory(s, m) => (s, EntityKey::Memory(*m)),
            RefKind::Tag(s, t) => (s, EntityKey::Tag(*t)),
            RefKind::Instance(s, i) => (s, EntityKey::Instance(*i)),
            RefKind::Foreign(s, e) => (s, EntityKey::Foreign(*e)),
            RefKind::Module(_) | RefKind::Trap(_) | RefKind::Any(..) | RefKind::Exn(..) => {
                return None
            }
        })
    }
}

/// `wasm_ref_t`: a reference to a runtime object.
pub struct wasm_ref_t {
    pub(crate) kind: RefKind,
    /// Host information of an object outside any store.
    own_info: RefCell<Option<HostInfo>>,
}

impl wasm_ref_t {
    pub(crate) fn new(kind: RefKind) -> wasm_ref_t {
        wasm_ref_t {
            kind,
            own_info: RefCell::new(None),
        }
    }

    /// Whether two references denote the same object.
    pub(crate) fn same(&self, other: &wasm_ref_t) -> bool {
        match (&self.kind, &other.kind) {
            (RefKind::Module(a), RefKind::Module(b)) => a.same(b),
            (RefKind::Trap(a), RefKind::Trap(b)) => Rc::ptr_eq(a, b),
            (RefKind::Any(sa, a), RefKind::Any(sb, b)) => Rc::ptr_eq(sa, sb) && a == b,
            (RefKind::Exn(sa, a), RefKind::Exn(sb, b)) => Rc::ptr_eq(sa, sb) && a == b,
            (a, b) => match (a.entity(), b.entity()) {
                (Some((sa, a)), Some((sb, b))) => Rc::ptr_eq(sa, sb) && a == b,
                _ => false,
            },
        }
    }

    pub(crate) fn host_info(&self) -> *mut c_void {
        let data = |i: Option<&HostInfo>| i.map_or(std::ptr::null_mut(), |i| i.data);
        match self.kind.entity() {
            Some((store, key)) => data(store.host_info.borrow().get(&key)),
            None => data(self.own_info.borrow().as_ref()),
        }
    }

    pub(crate) fn set_host_info(&self, data: *mut c_void, finalizer: Finalizer) {
        let info = HostInfo { data, finalizer };
        // The replaced information is finalized after the borrow ends, so a
        // finalizer may use the API.
        let old = match self.kind.entity() {
            Some((store, key)) => store.host_info.borrow_mut().insert(key, info),
            None => self.own_info.borrow_mut().replace(info),
        };
        drop(old);
    }
}

impl Clone for wasm_ref_t {
    fn clone(&self) -> wasm_ref_t {
        let kind = match &self.kind {
            // The copy owns a root of its own.
            RefKind::Any(store, r) => match store.with(|s| r.to_manually_rooted(&*s)) {
                Ok(copy) => RefKind::Any(store.clone(), copy),
                // Unreachable while this handle lives (it owns its root);
                // a copy of a dead handle would be as dead.
                Err(_) => RefKind::Any(store.clone(), *r),
            },
            RefKind::Exn(store, r) => match store.with(|s| r.to_manually_rooted(&*s)) {
                Ok(copy) => RefKind::Exn(store.clone(), copy),
                Err(_) => RefKind::Exn(store.clone(), *r),
            },
            kind => kind.clone(),
        };
        wasm_ref_t::new(kind)
    }
}

impl Drop for wasm_ref_t {
    fn drop(&mut self) {
        // Never dropped inside `StoreCtx::with` (handles are made and
        // deleted by C, and by host trampolines outside it).
        match &self.kind {
            RefKind::Any(store, r) => store.with(|s| r.unroot(&*s)),
            RefKind::Exn(store, r) => store.with(|s| r.unroot(&*s)),
            _ => {}
        }
    }
}

/// A C object type that is a [`wasm_ref_t`] underneath.
///
/// # Safety
/// Implementors are `#[repr(transparent)]` over `wasm_ref_t` (directly or
/// through another implementor), so a reference to one may be cast to the
/// other once `accepts` holds.
pub(crate) unsafe trait RefType: Sized {
    /// Whether a reference of this kind may be viewed as `Self`.
    fn accepts(kind: &RefKind) -> bool;

    /// The reference underneath.
    fn base(&self) -> &wasm_ref_t {
        // SAFETY: `Self` is transparent over `wasm_ref_t` (trait contract).
        unsafe { &*(self as *const Self).cast::<wasm_ref_t>() }
    }

    /// The reference underneath, writable.
    fn base_mut(&mut self) -> &mut wasm_ref_t {
        // SAFETY: as in `base`.
        unsafe { &mut *(self as *mut Self).cast::<wasm_ref_t>() }
    }

    /// `r` viewed as `Self`, when it is of a fitting kind.
    fn from_base(r: &wasm_ref_t) -> Option<&Self> {
        // SAFETY: transparent layout (trait contract), kind checked.
        Self::accepts(&r.kind).then(|| unsafe { &*(r as *const wasm_ref_t).cast::<Self>() })
    }

    /// `r` viewed as `Self`, writable.
    fn from_base_mut(r: &mut wasm_ref_t) -> Option<&mut Self> {
        // SAFETY: as in `from_base`.
        Self::accepts(&r.kind).then(|| unsafe { &mut *(r as *mut wasm_ref_t).cast::<Self>() })
    }

    /// A new boxed object of this type.
    fn boxed(kind: RefKind) -> Box<Self> {
        debug_assert!(Self::accepts(&kind));
        let b = Box::new(wasm_ref_t::new(kind));
        // SAFETY: transparent layout (trait contract): same size and
        // alignment, so the allocation is also a valid `Box<Self>`.
        unsafe { Box::from_raw(Box::into_raw(b).cast::<Self>()) }
    }
}

// SAFETY: `wasm_ref_t` is itself.
unsafe impl RefType for wasm_ref_t {
    fn accepts(_: &RefKind) -> bool {
        true
    }
}

/// Declares a C object type transparent over `wasm_ref_t` (or over another
/// such type) that accepts the given reference kinds.
macro_rules! ref_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $pat:pat) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name {
            pub(crate) inner: $inner,
        }
        impl Clone for $name {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone(),
                }
            }
        }
        // SAFETY: `#[repr(transparent)]` over `$inner`, itself transparent
        // over `wasm_ref_t`.
        unsafe impl $crate::r#ref::RefType for $name {
            fn accepts(kind: &$crate::r#ref::RefKind) -> bool {
                #[allow(unused_imports)]
                use $crate::r#ref::RefKind::*;
                matches!(kind, $pat)
            }
        }
    };
}
pub(crate) use ref_type;

/// Declares `wasm_<name>_delete`, `_copy`, `_same` and the host-info
/// functions of a reference type.
macro_rules! declare_ref_base {
    ($name:ident, $ty:ty) => {
        paste::paste! {
            #[doc = concat!("`wasm_", stringify!($name), "_delete`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _delete>](_r: Option<Box<$ty>>) {}

            #[doc = concat!("`wasm_", stringify!($name), "_copy`: a new handle to the same object.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _copy>](r: Option<&$ty>) -> Option<Box<$ty>> {
                r.map(|r| Box::new(r.clone()))
            }

            #[doc = concat!("`wasm_", stringify!($name), "_same`: whether both denote one object.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _same>](a: Option<&$ty>, b: Option<&$ty>) -> bool {
                use $crate::r#ref::RefType;
                match (a, b) {
                    (Some(a), Some(b)) => a.base().same(b.base()),
                    _ => false,
                }
            }

            #[doc = concat!("`wasm_", stringify!($name), "_get_host_info`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _get_host_info>](r: Option<&$ty>) -> *mut std::ffi::c_void {
                use $crate::r#ref::RefType;
                r.map_or(std::ptr::null_mut(), |r| r.base().host_info())
            }

            #[doc = concat!("`wasm_", stringify!($name), "_set_host_info`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _set_host_info>](r: Option<&$ty>, info: *mut std::ffi::c_void) {
                use $crate::r#ref::RefType;
                if let Some(r) = r {
                    r.base().set_host_info(info, None);
                }
            }

            #[doc = concat!("`wasm_", stringify!($name), "_set_host_info_with_finalizer`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _set_host_info_with_finalizer>](
                r: Option<&$ty>,
                info: *mut std::ffi::c_void,
                finalizer: $crate::r#ref::Finalizer,
            ) {
                use $crate::r#ref::RefType;
                if let Some(r) = r {
                    r.base().set_host_info(info, finalizer);
                }
            }
        }
    };
}
pub(crate) use declare_ref_base;

/// Declares the base functions plus `wasm_<name>_as_ref`,
/// `wasm_ref_as_<name>` and their `_const` forms.
macro_rules! declare_ref {
    ($name:ident, $ty:ty) => {
        $crate::r#ref::declare_ref_base!($name, $ty);
        paste::paste! {
            #[doc = concat!("`wasm_", stringify!($name), "_as_ref`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _as_ref>](
                r: Option<&mut $ty>,
            ) -> Option<&mut $crate::r#ref::wasm_ref_t> {
                use $crate::r#ref::RefType;
                r.map(|r| r.base_mut())
            }

            #[doc = concat!("`wasm_", stringify!($name), "_as_ref_const`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $name _as_ref_const>](
                r: Option<&$ty>,
            ) -> Option<&$crate::r#ref::wasm_ref_t> {
                use $crate::r#ref::RefType;
                r.map(|r| r.base())
            }

            #[doc = concat!("`wasm_ref_as_", stringify!($name), "`: null when the reference is another kind of object.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ref_as_ $name>](
                r: Option<&mut $crate::r#ref::wasm_ref_t>,
            ) -> Option<&mut $ty> {
                use $crate::r#ref::RefType;
                <$ty>::from_base_mut(r?)
            }

            #[doc = concat!("`wasm_ref_as_", stringify!($name), "_const`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ref_as_ $name _const>](
                r: Option<&$crate::r#ref::wasm_ref_t>,
            ) -> Option<&$ty> {
                use $crate::r#ref::RefType;
                <$ty>::from_base(r?)
            }
        }
    };
}
pub(crate) use declare_ref;

declare_ref_base!(ref, wasm_ref_t);

ref_type!(
    /// `wasm_foreign_t`: a host object that wasm sees as an `externref`.
    wasm_foreign_t,
    wasm_ref_t,
    Foreign(..)
);
declare_ref!(foreign, wasm_foreign_t);

/// Marks the values behind foreign objects in the store.
struct Foreign;

/// `wasm_foreign_new`: a new foreign object; pass it to wasm as an
/// `externref` with `wasm_foreign_as_ref`.
#[no_mangle]
pub extern "C" fn wasm_foreign_new(
    store: Option<&crate::wasm_store_t>,
) -> Option<Box<wasm_foreign_t>> {
    let ctx = &store?.ctx;
    // No room in the GC heap for it: no reference, as for a missing store.
    let r = ctx.with(|s| ExternRef::new(s, Foreign)).ok()?;
    Some(wasm_foreign_t::boxed(RefKind::Foreign(ctx.clone(), r)))
}
