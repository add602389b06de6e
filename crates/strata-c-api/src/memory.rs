//! Memories: `wasm_memory_new`, `_type`, `_data`, `_data_size`, `_size`,
//! `_grow`. Strata reserves a memory's address range up front, so the
//! pointer `wasm_memory_data` returns stays valid when the memory grows.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::StoreRc;
use crate::{wasm_extern_t, wasm_memorytype_t, wasm_store_t};
use strata::{ExternType, Memory};

ref_type!(
    /// `wasm_memory_t`: a linear memory of a store.
    wasm_memory_t,
    wasm_extern_t,
    Memory(..)
);
declare_ref!(memory, wasm_memory_t);

/// `wasm_memory_pages_t`.
pub type wasm_memory_pages_t = u32;

impl wasm_memory_t {
    fn memory(&self) -> (&StoreRc, Memory) {
        match &self.inner.inner.kind {
            RefKind::Memory(s, m) => (s, *m),
            // `RefType::accepts` admits only memories.
            _ => unreachable!("wasm_memory_t holds a memory"),
        }
    }
}

/// `wasm_memory_new`: null when a limit forbids the minimum size.
#[no_mangle]
pub extern "C" fn wasm_memory_new(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_memorytype_t>,
) -> Option<Box<wasm_memory_t>> {
    let ctx = &store?.ctx;
    let Some(ExternType::Memory(ty)) = ty?.ext.ty() else {
        return None;
    };
    let memory = ctx.with(|s| Memory::new(s, ty)).ok()?;
    Some(wasm_memory_t::boxed(RefKind::Memory(ctx.clone(), memory)))
}

/// `wasm_memory_type`: the type, with the current size as the minimum.
#[no_mangle]
pub extern "C" fn wasm_memory_type(m: Option<&wasm_memory_t>) -> Option<Box<wasm_memorytype_t>> {
    let (store, memory) = m?.memory();
    let ty = store.with(|s| memory.ty(&*s));
    Some(wasm_memorytype_t::boxed(ExternType::Memory(ty)))
}

/// `wasm_memory_data`: the first byte of the memory.
#[no_mangle]
pub extern "C" fn wasm_memory_data(m: Option<&mut wasm_memory_t>) -> *mut u8 {
    let Some(m) = m else {
        return std::ptr::null_mut();
    };
    let (store, memory) = m.memory();
    store.with(|s| memory.data_mut(s).as_mut_ptr())
}

/// `wasm_memory_data_size`: the size in bytes.
#[no_mangle]
pub extern "C" fn wasm_memory_data_size(m: Option<&wasm_memory_t>) -> usize {
    m.map_or(0, |m| {
        let (store, memory) = m.memory();
        store.with(|s| memory.data_size(&*s))
    })
}

/// `wasm_memory_size`: the size in pages.
#[no_mangle]
pub extern "C" fn wasm_memory_size(m: Option<&wasm_memory_t>) -> wasm_memory_pages_t {
    m.map_or(0, |m| {
        let (store, memory) = m.memory();
        let pages = store.with(|s| memory.size(&*s));
        u32::try_from(pages).unwrap_or(u32::MAX)
    })
}

/// `wasm_memory_grow`: grows by `delta` pages; false when the maximum or a
/// limit forbids it.
#[no_mangle]
pub extern "C" fn wasm_memory_grow(
    m: Option<&mut wasm_memory_t>,
    delta: wasm_memory_pages_t,
) -> bool {
    let Some(m) = m else { return false };
    let (store, memory) = m.memory();
    store.with(|s| memory.grow(s, delta.into())).is_ok()
}

/// `strata_memory_size`: the size in pages, 64-bit (a memory64 memory can
/// have more pages than `wasm_memory_size`'s `u32` holds).
#[no_mangle]
pub extern "C" fn strata_memory_size(m: Option<&wasm_memory_t>) -> u64 {
    m.map_or(0, |m| {
        let (store, memory) = m.memory();
        store.with(|s| memory.size(&*s))
    })
}

/// `strata_memory_grow`: grows by `delta` pages (64-bit) and stores the old
/// size in `prev`; an error when the maximum or a limit forbids it.
#[no_mangle]
pub extern "C" fn strata_memory_grow(
    m: Option<&mut wasm_memory_t>,
    delta: u64,
    prev: Option<&mut u64>,
) -> Option<Box<crate::strata::strata_error_t>> {
    let Some(m) = m else {
        return crate::strata::strata_error_t::boxed(anyhow::anyhow!("null memory"));
    };
    let (store, memory) = m.memory();
    match store.with(|s| memory.grow(s, delta)) {
        Ok(old) => {
            if let Some(prev) = prev {
                *prev = old;
            }
            None
        }
        Err(e) => crate::strata::strata_error_t::boxed(e),
    }
}
