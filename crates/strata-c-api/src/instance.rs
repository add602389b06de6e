//! Instances: `wasm_instance_new` and `wasm_instance_exports`.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::vec::{wasm_extern_vec_t, WasmVec};
use crate::{guard, wasm_extern_t, wasm_module_t, wasm_store_t, wasm_trap_t};
use std::mem::MaybeUninit;
use strata::Instance;

ref_type!(
    /// `wasm_instance_t`: an instantiated module.
    wasm_instance_t,
    crate::r#ref::wasm_ref_t,
    Instance(..)
);
declare_ref!(instance, wasm_instance_t);

/// `wasm_instance_new`: instantiates `module` with `imports` in the order
/// of `wasm_module_imports`. On failure returns null and, when `trap` is
/// not null, stores a trap that says why (a trap of the start function, a
/// missing or mistyped import, an exceeded limit).
#[no_mangle]
pub extern "C" fn wasm_instance_new(
    store: Option<&wasm_store_t>,
    module: Option<&wasm_module_t>,
    imports: Option<&wasm_extern_vec_t>,
    trap: Option<&mut *mut wasm_trap_t>,
) -> Option<Box<wasm_instance_t>> {
    let fail = |trap: Option<&mut *mut wasm_trap_t>, t: Box<wasm_trap_t>| {
        if let Some(out) = trap {
            *out = Box::into_raw(t);
        }
        None
    };
    let (Some(store), Some(module)) = (store, module) else {
        return fail(
            trap,
            wasm_trap_t::from_message("null store or module".into()),
        );
    };
    let ctx = store.ctx.clone();
    let mut items = Vec::new();
    for import in imports.map_or(&[][..], WasmVec::as_slice) {
        match import.as_deref() {
            Some(e) => items.push(e.item().1),
            None => return fail(trap, wasm_trap_t::from_message("null import".into())),
        }
    }
    let module = module.data().module.clone();
    let result = guard(|| ctx.with(|s| Instance::new(s, &module, &items)))
        .unwrap_or_else(|| Err(anyhow::anyhow!("internal error: instantiation panicked")));
    match result {
        Ok(instance) => Some(wasm_instance_t::boxed(RefKind::Instance(ctx, instance))),
        Err(e) => fail(trap, wasm_trap_t::from_error(e, &ctx)),
    }
}

/// `wasm_instance_exports`: new handles to the exports, in the module's
/// order.
#[no_mangle]
pub extern "C" fn wasm_instance_exports(
    instance: Option<&wasm_instance_t>,
    out: Option<&mut MaybeUninit<wasm_extern_vec_t>>,
) {
    let Some(out) = out else { return };
    let items = match instance.map(|i| &i.inner.kind) {
        Some(RefKind::Instance(store, instance)) => store.with(|s| {
            instance
                .exports(s)
                .into_iter()
                // A shared memory, which `wasm.h` cannot name, is a null
                // entry.
                .map(|(_, item)| wasm_extern_t::boxed_from(store, item))
                .collect()
        }),
        _ => Vec::new(),
    };
    out.write(WasmVec::from_vec(items));
}
