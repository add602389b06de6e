//! Globals: `wasm_global_new`, `_type`, `_get`, `_set`.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::StoreRc;
use crate::val::wasm_val_t;
use crate::{wasm_extern_t, wasm_globaltype_t, wasm_store_t};
use std::mem::MaybeUninit;
use strata::{ExternType, Global};

ref_type!(
    /// `wasm_global_t`: a global of a store.
    wasm_global_t,
    wasm_extern_t,
    Global(..)
);
declare_ref!(global, wasm_global_t);

impl wasm_global_t {
    fn global(&self) -> (&StoreRc, Global) {
        match &self.inner.inner.kind {
            RefKind::Global(s, g) => (s, *g),
            // `RefType::accepts` admits only globals.
            _ => unreachable!("wasm_global_t holds a global"),
        }
    }
}

/// `wasm_global_new`: null when the value does not fit the type.
#[no_mangle]
pub extern "C" fn wasm_global_new(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_globaltype_t>,
    val: Option<&wasm_val_t>,
) -> Option<Box<wasm_global_t>> {
    let ctx = &store?.ctx;
    let Some(ExternType::Global(ty)) = ty?.ext.ty() else {
        return None;
    };
    let val = val?.to_val().ok()?;
    let global = ctx.with(|s| Global::new(s, ty, val)).ok()?;
    Some(wasm_global_t::boxed(RefKind::Global(ctx.clone(), global)))
}

/// `wasm_global_type`.
#[no_mangle]
pub extern "C" fn wasm_global_type(g: Option<&wasm_global_t>) -> Option<Box<wasm_globaltype_t>> {
    let (store, global) = g?.global();
    let ty = store.with(|s| global.ty(&*s));
    Some(wasm_globaltype_t::boxed(ExternType::Global(ty)))
}

/// `wasm_global_get`: the value, owned by `out`.
#[no_mangle]
pub extern "C" fn wasm_global_get(
    g: Option<&wasm_global_t>,
    out: Option<&mut MaybeUninit<wasm_val_t>>,
) {
    let (Some(g), Some(out)) = (g, out) else {
        return;
    };
    let (store, global) = g.global();
    let val = store.with(|s| {
        let scope = strata::RootScope::new(s);
        crate::val::escape(global.get(&scope), strata::AsContext::as_context(&scope))
    });
    out.write(wasm_val_t::from_val(val, store));
}

/// `wasm_global_set`: ignored for an immutable global or a value of
/// another type (the standard API has no way to report it).
#[no_mangle]
pub extern "C" fn wasm_global_set(g: Option<&mut wasm_global_t>, val: Option<&wasm_val_t>) {
    let (Some(g), Some(val)) = (g, val) else {
        return;
    };
    let (store, global) = g.global();
    if let Ok(val) = val.to_val() {
        let _ = store.with(|s| global.set(s, val));
    }
}
