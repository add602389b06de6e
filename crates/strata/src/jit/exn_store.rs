//! Exception objects as the throw path of compiled code uses them: thin
//! adapters over `runtime::exn` (the objects, and how an exception crosses
//! tier and host boundaries), so the unwinder never touches their
//! representation.

use crate::runtime::exn;
use crate::runtime::store::{StoreInner, StoreOps};
use anyhow::{anyhow, bail, Result};

/// A new exception of the tag with module index `tag` of `instance`,
/// carrying the payload at `cells`.
///
/// # Safety
/// `cells` must hold the tag's parameter cells.
pub(crate) unsafe fn throw_new(
    store: &mut dyn StoreOps,
    instance: u32,
    tag: u32,
    cells: *const u64,
) -> Result<u32> {
    let inner = store.inner();
    let tag = inner.instances[instance as usize].tags[tag as usize];
    let n = inner.tags[tag as usize].ty.ty().param_cells();
    // SAFETY: guaranteed by the caller.
    let payload: Vec<u64> = unsafe { std::slice::from_raw_parts(cells, n) }.into();
    // Compiled frames are not published: the collector runs here only
    // once it reads them (`runtime::gc::roots`).
    Ok(exn::alloc(inner, tag, &payload, &[])?)
}

/// The store tag of exception `exn`.
pub(crate) fn tag_of(store: &StoreInner, exn: u32) -> Result<u32> {
    exn::tag_of(store, exn).ok_or_else(|| anyhow!("an exception this store does not hold"))
}

/// Copies the payload of `exn` to `out`.
///
/// # Safety
/// `out` must have room for the payload of `exn`'s tag.
pub(crate) unsafe fn payload(store: &StoreInner, exn: u32, out: *mut u64) -> Result<()> {
    let Some(p) = exn::payload_of(store, exn) else {
        bail!("an exception this store does not hold");
    };
    // SAFETY: guaranteed by the caller.
    unsafe { std::ptr::copy_nonoverlapping(p.as_ptr(), out, p.len()) };
    Ok(())
}

/// The exception `error` (a call out's error) carries, taken out of the
/// store, if it is one.
pub(crate) fn thrown(store: &mut StoreInner, error: &anyhow::Error) -> Option<u32> {
    exn::thrown(store, error)
}

/// The error for exception `exn` leaving compiled code (pending in the
/// store, as the tier interface has it).
pub(crate) fn raise(store: &mut StoreInner, exn: u32) -> anyhow::Error {
    exn::raise(store, exn)
}
