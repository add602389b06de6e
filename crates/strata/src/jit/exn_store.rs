//! Exception objects as compiled code sees them (provisional, until the
//! shared representation lands).

use crate::runtime::store::{StoreInner, StoreOps};
use anyhow::{anyhow, Result};
use std::cell::RefCell;

thread_local! {
    static EXNS: RefCell<Vec<(u32, Box<[u64]>)>> = const { RefCell::new(Vec::new()) };
}

/// An exception thrown out of wasm.
#[derive(Debug)]
pub(crate) struct Thrown(pub u32);

impl std::fmt::Display for Thrown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uncaught exception {}", self.0)
    }
}

impl std::error::Error for Thrown {}

/// The exception `e` is, if it is one.
pub(crate) fn thrown(e: &anyhow::Error) -> Option<u32> {
    e.downcast_ref::<Thrown>().map(|t| t.0)
}

/// The error for exception `exn` leaving compiled code.
pub(crate) fn thrown_error(exn: u32) -> anyhow::Error {
    anyhow::Error::new(Thrown(exn))
}

/// A new exception of the tag with module index `tag` of `instance`,
/// with the payload at `cells`.
pub(crate) fn throw_new(
    store: &mut dyn StoreOps,
    instance: u32,
    tag: u32,
    cells: *const u64,
) -> Result<u32> {
    let inner = store.inner();
    let tag = inner.instances[instance as usize].tags[tag as usize];
    let n = inner.tags[tag as usize].ty.ty().param_cells();
    // SAFETY: compiled code passes a buffer of the tag's payload cells.
    let payload: Box<[u64]> = unsafe { std::slice::from_raw_parts(cells, n) }.into();
    Ok(EXNS.with(|e| {
        let mut e = e.borrow_mut();
        e.push((tag, payload));
        e.len() as u32
    }))
}

/// The store tag of exception `exn`.
pub(crate) fn tag_of(_store: &StoreInner, exn: u32) -> Result<u32> {
    EXNS.with(|e| e.borrow().get(exn as usize - 1).map(|x| x.0))
        .ok_or_else(|| anyhow!("bad exception"))
}

/// Copies the payload of `exn` to `out`.
pub(crate) fn payload(_store: &StoreInner, exn: u32, out: *mut u64) -> Result<()> {
    EXNS.with(|e| {
        let e = e.borrow();
        let (_, p) = e
            .get(exn as usize - 1)
            .ok_or_else(|| anyhow!("bad exception"))?;
        // SAFETY: compiled code passes a buffer of the tag's payload cells.
        unsafe { std::ptr::copy_nonoverlapping(p.as_ptr(), out, p.len()) };
        Ok(())
    })
}
