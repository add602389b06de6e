//! Exceptions in the C API (`strata.h`): exception references made and
//! read from C, the exception a call left uncaught, and throwing from a
//! host function.
//!
//! An exception reaches C as a `wasm_ref_t` of kind `RefKind::Exn`, alone
//! or in a `wasm_val_t` of kind `STRATA_EXNREF`, manually rooted until C
//! deletes it, as anyref handles are (`gc.rs`). A call that ends with an
//! uncaught exception fails with a trap whose message names the tag and
//! payload, and leaves the exception pending in the store
//! (`strata_store_take_pending_exception`). A host function throws by
//! returning the trap `strata_trap_throw` makes.

use crate::r#ref::{wasm_ref_t, RefKind, RefType};
use crate::strata::strata_error_t;
use crate::tag::wasm_tag_t;
use crate::val::{escape, wasm_val_t};
use crate::vec::{wasm_val_vec_t, WasmVec};
use crate::{wasm_store_t, wasm_trap_t};
use anyhow::{bail, Result};
use std::mem::MaybeUninit;
use strata::{ExnRef, RootScope, Val};

/// `strata_exn_new`: a new exception of `tag` carrying `fields` (one
/// value per parameter of the tag's type, borrowed), in `*out` (owned).
#[no_mangle]
pub extern "C" fn strata_exn_new(
    store: Option<&wasm_store_t>,
    tag: Option<&wasm_tag_t>,
    fields: Option<&wasm_val_vec_t>,
    out: Option<&mut *mut wasm_ref_t>,
) -> Option<Box<strata_error_t>> {
    let made = (|| {
        let (Some(store), Some(tag)) = (store, tag) else {
            bail!("null store or tag");
        };
        let ctx = &store.ctx;
        let (_, tag) = tag.tag();
        let vals: Vec<Val> = fields
            .map_or(&[][..], WasmVec::as_slice)
            .iter()
            .map(wasm_val_t::to_val)
            .collect::<Result<_>>()?;
        let exn = ctx.with(|s| {
            let mut scope = RootScope::new(s);
            let e = ExnRef::new(&mut scope, &tag, &vals)?;
            e.to_manually_rooted(&scope)
        })?;
        Ok(wasm_ref_t::new(RefKind::Exn(ctx.clone(), exn)))
    })();
    match (made, out) {
        (Ok(r), Some(out)) => {
            *out = Box::into_raw(Box::new(r));
            None
        }
        (Ok(_), None) => strata_error_t::boxed(anyhow::anyhow!("null output")),
        (Err(e), _) => strata_error_t::boxed(e),
    }
}

/// The exception of handle `r`.
fn exn(r: Option<&wasm_ref_t>) -> Option<(&crate::store::StoreRc, ExnRef)> {
    match &r?.kind {
        RefKind::Exn(store, e) => Some((store, *e)),
        _ => None,
    }
}

/// `strata_exn_tag`: the exception's tag (owned); null when `r` is no
/// exception.
#[no_mangle]
pub extern "C" fn strata_exn_tag(r: Option<&wasm_ref_t>) -> Option<Box<wasm_tag_t>> {
    let (store, e) = exn(r)?;
    let tag = store.with(|s| e.tag(&*s)).ok()?;
    Some(wasm_tag_t::boxed(RefKind::Tag(store.clone(), tag)))
}

/// `strata_exn_fields`: the exception's payload values in `out` (owned by
/// the caller).
#[no_mangle]
pub extern "C" fn strata_exn_fields(
    r: Option<&wasm_ref_t>,
    out: Option<&mut MaybeUninit<wasm_val_vec_t>>,
) -> Option<Box<strata_error_t>> {
    let Some(out) = out else {
        return strata_error_t::boxed(anyhow::anyhow!("null output vector"));
    };
    let Some((store, e)) = exn(r) else {
        out.write(WasmVec::empty());
        return strata_error_t::boxed(anyhow::anyhow!("the reference is not an exception"));
    };
    let fields = store.with(|s| {
        let scope = RootScope::new(s);
        let vals = e.fields(&scope)?;
        Ok::<_, anyhow::Error>(
            vals.into_iter()
                .map(|v| escape(v, strata::AsContext::as_context(&scope)))
                .collect::<Vec<_>>(),
        )
    });
    match fields {
        Ok(vals) => {
            let vals = vals
                .into_iter()
                .map(|v| wasm_val_t::from_val(v, store))
                .collect();
            out.write(WasmVec::from_vec(vals));
            None
        }
        Err(err) => {
            out.write(WasmVec::empty());
            strata_error_t::boxed(err)
        }
    }
}

/// `strata_store_take_pending_exception`: the exception a call left
/// uncaught (its trap names it), taken out of the store (owned); null when
/// none is pending.
#[no_mangle]
pub extern "C" fn strata_store_take_pending_exception(
    store: Option<&wasm_store_t>,
) -> Option<Box<wasm_ref_t>> {
    let ctx = &store?.ctx;
    let e = ctx.with(|s| {
        // Rooted by this call's scope, then by a manual root the C handle
        // owns.
        let mut scope = RootScope::new(s);
        let e = strata::AsContextMut::as_context_mut(&mut scope).take_pending_exception()?;
        e.to_manually_rooted(&scope).ok()
    })?;
    Some(Box::new(wasm_ref_t::new(RefKind::Exn(ctx.clone(), e))))
}

/// `strata_trap_throw`: a trap that, returned by a host function's
/// callback, throws a copy of exception `exn` to the wasm that called it
/// (uncaught, the call fails with it pending). Null when `exn` is no
/// exception.
#[no_mangle]
pub extern "C" fn strata_trap_throw(exn_ref: Option<&wasm_ref_t>) -> Option<Box<wasm_trap_t>> {
    exn(exn_ref)?;
    Some(wasm_trap_t::throwing(exn_ref?.clone()))
}
