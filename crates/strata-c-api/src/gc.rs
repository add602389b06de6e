//! GC references in the C API (`strata.h`): `anyref` handles, `i31`s,
//! struct fields and array elements read and written from C, and
//! collecting on demand.
//!
//! **Handles.** An `anyref` reaches C as a `wasm_ref_t` (kind
//! `RefKind::Any`), alone or in a `wasm_val_t` of kind `STRATA_ANYREF`.
//! Each handle owns a manual root (`AnyRef::to_manually_rooted`): its
//! object lives until C deletes the handle (`wasm_ref_delete`, or
//! `wasm_val_delete` / a vector's delete for the value holding it), and a
//! copy (`wasm_ref_copy`, `wasm_val_copy`) roots it again. So C never has
//! to open scopes, and a handle C still holds can never name a collected
//! object; a handle C forgets keeps its object alive until the store is
//! deleted. Values the library reads for C (call results, globals,
//! tables, fields) are rooted by a scope of that one call until their
//! handles take over.
//!
//! **Values** go in and out as `wasm_val_t`, as wasm.h passes every value:
//! a packed field reads as an `i32` (zero-extended) and is written from
//! one (its low bits); a reference field of the `any` hierarchy is a
//! `STRATA_ANYREF` value.

use crate::r#ref::{wasm_ref_t, RefKind};
use crate::store::StoreRc;
use crate::strata::strata_error_t;
use crate::val::{escape, wasm_val_t};
use crate::wasm_store_t;
use anyhow::{bail, Result};
use std::mem::MaybeUninit;
use strata::{AnyRef, AsContext, RootScope, Store, Val, I31};

/// The store and reference of an anyref handle.
fn anyref(r: Option<&wasm_ref_t>) -> Result<(&StoreRc, AnyRef)> {
    match r.map(|r| &r.kind) {
        Some(RefKind::Any(store, r)) => Ok((store, *r)),
        Some(_) => bail!("the reference is not an anyref"),
        None => bail!("null reference"),
    }
}

/// Runs `f` with the store in a root scope of its own, converting the
/// value it reads to one a C handle owns (`escape`) before the scope ends.
fn read(store: &StoreRc, f: impl FnOnce(&RootScope<&mut Store<()>>) -> Result<Val>) -> Result<Val> {
    store.with(|s| {
        let scope = RootScope::new(s);
        let v = f(&scope)?;
        Ok(escape(v, scope.as_context()))
    })
}

/// The error of `result`, boxed for C (null on success).
fn status(result: Result<()>) -> Option<Box<strata_error_t>> {
    result.err().and_then(strata_error_t::boxed)
}

/// `strata_i31_new`: the `anyref` of the low 31 bits of `value` (wasm's
/// `ref.i31`); null for a null store.
#[no_mangle]
pub extern "C" fn strata_i31_new(
    store: Option<&wasm_store_t>,
    value: i32,
) -> Option<Box<wasm_ref_t>> {
    let ctx = &store?.ctx;
    let r = ctx.with(|s| {
        let r = AnyRef::from_i31(&*s, I31::wrapping_i32(value));
        r.to_manually_rooted(&*s)
    });
    Some(Box::new(wasm_ref_t::new(RefKind::Any(
        ctx.clone(),
        r.ok()?,
    ))))
}

/// What an anyref handle is: `None` when it is no live anyref.
fn kind(r: Option<&wasm_ref_t>) -> Option<(bool, bool, bool, bool)> {
    let (store, r) = anyref(r).ok()?;
    store.with(|s| {
        let s = &*s;
        Some((
            r.is_i31(s).ok()?,
            r.is_struct(s).ok()?,
            r.is_array(s).ok()?,
            r.is_eqref(s).ok()?,
        ))
    })
}

/// `strata_anyref_is_i31`: false for anything but an `i31` anyref.
#[no_mangle]
pub extern "C" fn strata_anyref_is_i31(r: Option<&wasm_ref_t>) -> bool {
    kind(r).is_some_and(|k| k.0)
}

/// `strata_anyref_is_struct`.
#[no_mangle]
pub extern "C" fn strata_anyref_is_struct(r: Option<&wasm_ref_t>) -> bool {
    kind(r).is_some_and(|k| k.1)
}

/// `strata_anyref_is_array`.
#[no_mangle]
pub extern "C" fn strata_anyref_is_array(r: Option<&wasm_ref_t>) -> bool {
    kind(r).is_some_and(|k| k.2)
}

/// `strata_anyref_is_eq`: an `i31`, a struct or an array (an `eqref`),
/// not an internalized host reference.
#[no_mangle]
pub extern "C" fn strata_anyref_is_eq(r: Option<&wasm_ref_t>) -> bool {
    kind(r).is_some_and(|k| k.3)
}

/// The value of an `i31` handle.
fn i31(r: Option<&wasm_ref_t>) -> Option<I31> {
    let (store, r) = anyref(r).ok()?;
    store.with(|s| r.as_i31(&*s).ok()?)
}

/// `strata_i31_get_s`: the value sign-extended in `out`; false (`out`
/// untouched) when the reference is no `i31`.
#[no_mangle]
pub extern "C" fn strata_i31_get_s(r: Option<&wasm_ref_t>, out: Option<&mut i32>) -> bool {
    match (i31(r), out) {
        (Some(v), Some(out)) => {
            *out = v.get_i32();
            true
        }
        _ => false,
    }
}

/// `strata_i31_get_u`: the value zero-extended in `out`.
#[no_mangle]
pub extern "C" fn strata_i31_get_u(r: Option<&wasm_ref_t>, out: Option<&mut u32>) -> bool {
    match (i31(r), out) {
        (Some(v), Some(out)) => {
            *out = v.get_u32();
            true
        }
        _ => false,
    }
}

/// Writes `result`'s value to `out` for C, or returns its error.
fn give(
    store: &StoreRc,
    result: Result<Val>,
    out: Option<&mut MaybeUninit<wasm_val_t>>,
) -> Option<Box<strata_error_t>> {
    let Some(out) = out else {
        return strata_error_t::boxed(anyhow::anyhow!("null output value"));
    };
    match result {
        Ok(v) => {
            out.write(wasm_val_t::from_val(v, store));
            None
        }
        Err(e) => strata_error_t::boxed(e),
    }
}

/// The value C passes in `v`.
fn take(v: Option<&wasm_val_t>) -> Result<Val> {
    match v {
        Some(v) => v.to_val(),
        None => bail!("null value"),
    }
}

/// `strata_structref_field_get`: field `index` of a struct in `out` (owned
/// by the caller).
#[no_mangle]
pub extern "C" fn strata_structref_field_get(
    r: Option<&wasm_ref_t>,
    index: usize,
    out: Option<&mut MaybeUninit<wasm_val_t>>,
) -> Option<Box<strata_error_t>> {
    let (store, r) = match anyref(r) {
        Ok(x) => x,
        Err(e) => return strata_error_t::boxed(e),
    };
    let v = read(store, |s| match r.as_struct(s)? {
        Some(st) => st.field(s, index),
        None => bail!("the reference is not a struct"),
    });
    give(store, v, out)
}

/// `strata_structref_field_set`: sets mutable field `index` of a struct
/// to `value` (of the field's type; an `i32` for a packed field).
#[no_mangle]
pub extern "C" fn strata_structref_field_set(
    r: Option<&wasm_ref_t>,
    index: usize,
    value: Option<&wasm_val_t>,
) -> Option<Box<strata_error_t>> {
    status((|| {
        let (store, r) = anyref(r)?;
        let v = take(value)?;
        store.with(|s| match r.as_struct(&*s)? {
            Some(st) => st.set_field(s, index, v),
            None => bail!("the reference is not a struct"),
        })
    })())
}

/// `strata_arrayref_len`: an array's length in `out`.
#[no_mangle]
pub extern "C" fn strata_arrayref_len(
    r: Option<&wasm_ref_t>,
    out: Option<&mut u32>,
) -> Option<Box<strata_error_t>> {
    status((|| {
        let (store, r) = anyref(r)?;
        let len = store.with(|s| match r.as_array(&*s)? {
            Some(a) => a.len(&*s),
            None => bail!("the reference is not an array"),
        })?;
        match out {
            Some(out) => *out = len,
            None => bail!("null output"),
        }
        Ok(())
    })())
}

/// `strata_arrayref_get`: element `index` of an array in `out` (owned by
/// the caller).
#[no_mangle]
pub extern "C" fn strata_arrayref_get(
    r: Option<&wasm_ref_t>,
    index: u32,
    out: Option<&mut MaybeUninit<wasm_val_t>>,
) -> Option<Box<strata_error_t>> {
    let (store, r) = match anyref(r) {
        Ok(x) => x,
        Err(e) => return strata_error_t::boxed(e),
    };
    let v = read(store, |s| match r.as_array(s)? {
        Some(a) => a.get(s, index),
        None => bail!("the reference is not an array"),
    });
    give(store, v, out)
}

/// `strata_arrayref_set`: sets element `index` of a mutable array.
#[no_mangle]
pub extern "C" fn strata_arrayref_set(
    r: Option<&wasm_ref_t>,
    index: u32,
    value: Option<&wasm_val_t>,
) -> Option<Box<strata_error_t>> {
    status((|| {
        let (store, r) = anyref(r)?;
        let v = take(value)?;
        store.with(|s| match r.as_array(&*s)? {
            Some(a) => a.set(s, index, v),
            None => bail!("the reference is not an array"),
        })
    })())
}

/// `strata_store_gc`: collects the store's GC heap now; false when it
/// cannot (called from a host function while compiled code is live
/// below it).
#[no_mangle]
pub extern "C" fn strata_store_gc(store: Option<&wasm_store_t>) -> bool {
    store.is_some_and(|s| s.ctx.with(|s| s.gc()))
}

/// `strata_store_gc_objects`: how many objects the store's GC heap holds
/// (after `strata_store_gc`, the reachable ones).
#[no_mangle]
pub extern "C" fn strata_store_gc_objects(store: Option<&wasm_store_t>) -> u64 {
    store.map_or(0, |s| s.ctx.with(|s| s.gc_stats().objects))
}
