//! `SharedMemory`: a linear memory of the threads proposal, owned by the
//! engine and usable by several stores on several threads (wasmtime's
//! `SharedMemory`).

use crate::runtime::parking;
use crate::runtime::shared::SharedMemoryInner;
use crate::types::MemoryType;
use crate::{Engine, Trap};
use anyhow::{bail, Result};
use std::cell::UnsafeCell;
use std::sync::Arc;
use std::time::Duration;
use wasmparser::WasmFeatures;

/// How [`SharedMemory::atomic_wait32`] and `memory.atomic.wait32/64` end.
pub use parking::WaitResult;

/// A shared linear memory. Cloning gives another handle to the same
/// memory; it lives as long as any handle or any store that imported it.
/// Unlike a [`Memory`](crate::Memory) it belongs to no store: it is
/// imported with [`Linker::define`](crate::Linker::define) or
/// [`Instance::new`](crate::Instance::new) as
/// [`Extern::SharedMemory`](crate::Extern::SharedMemory), and a module's
/// own shared memory is exported as one
/// ([`Instance::get_shared_memory`](crate::Instance::get_shared_memory)).
///
/// Its bytes may change at any time (another thread may run), so it is
/// never viewed as `&[u8]`: [`SharedMemory::data`] gives `UnsafeCell`s,
/// as wasmtime does.
#[derive(Clone)]
pub struct SharedMemory {
    pub(crate) inner: Arc<SharedMemoryInner>,
    engine: Engine,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ty", &self.inner.ty)
            .field("size", &self.size())
            .finish()
    }
}

impl SharedMemory {
    /// Creates a shared memory of type `ty` for `engine`, which must have
    /// `Config::wasm_threads` on; `ty` must be shared and have a maximum
    /// (`MemoryType::shared`). Its whole maximum is reserved up front, so
    /// it never moves.
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        if !engine.config().features.contains(WasmFeatures::THREADS) {
            bail!("shared memories need `Config::wasm_threads`");
        }
        if !ty.is_shared() {
            bail!("shared memory must have the `shared` flag");
        }
        if ty.is_64() && !engine.config().features.contains(WasmFeatures::MEMORY64) {
            bail!("a 64-bit memory needs `Config::wasm_memory64`");
        }
        let inner = SharedMemoryInner::new(ty).map_err(anyhow::Error::msg)?;
        Ok(SharedMemory::from_inner(engine.clone(), Arc::new(inner)))
    }

    pub(crate) fn from_inner(engine: Engine, inner: Arc<SharedMemoryInner>) -> SharedMemory {
        SharedMemory { inner, engine }
    }

    /// The engine the memory was created for (only its stores can import
    /// it).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The memory's type, with its current size as the minimum.
    pub fn ty(&self) -> MemoryType {
        self.inner.ty.with_minimum(self.size())
    }

    /// The current size in pages.
    pub fn size(&self) -> u64 {
        self.inner.mem.pages()
    }

    /// The size of a page in bytes.
    pub fn page_size(&self) -> u64 {
        self.inner.ty.page_size()
    }

    /// The current size in bytes.
    pub fn data_size(&self) -> usize {
        self.inner.mem.len()
    }

    /// Grows by `delta` pages and returns the previous size in pages.
    /// Safe while other threads run wasm on the memory: the memory never
    /// moves and its length is updated atomically.
    pub fn grow(&self, delta: u64) -> Result<u64> {
        match self.inner.grow(delta) {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by {delta} pages"),
        }
    }

    /// The memory's bytes (its current size) as cells that other threads
    /// may write at any time: read and write them through raw pointers
    /// (`UnsafeCell::get`), never through a `&[u8]`.
    pub fn data(&self) -> &[UnsafeCell<u8>] {
        self.inner.mem.cells()
    }

    /// `memory.atomic.notify` from the host: wakes up to `count` threads
    /// waiting at byte address `addr`; returns how many it woke. Traps
    /// like the instruction (out of bounds, or not 4-byte aligned).
    pub fn atomic_notify(&self, addr: u64, count: u32) -> Result<u32, Trap> {
        let ea = crate::runtime::shared::atomic_address(addr, 0, 4, self.data_size())?;
        Ok(self.inner.lot.notify(ea, count))
    }

    /// `memory.atomic.wait32` from the host: blocks this thread while the
    /// 32-bit value at `addr` is `expected`, until notified or `timeout`
    /// (`None`: forever) passes.
    pub fn atomic_wait32(
        &self,
        addr: u64,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        self.inner.wait(
            addr,
            u64::from(expected),
            4,
            timeout_ns(timeout),
            &mut || false,
        )
    }

    /// `memory.atomic.wait64` from the host; see [`SharedMemory::atomic_wait32`].
    pub fn atomic_wait64(
        &self,
        addr: u64,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        self.inner
            .wait(addr, expected, 8, timeout_ns(timeout), &mut || false)
    }
}

/// A host timeout as the instruction's operand: nanoseconds, negative for
/// none (a timeout beyond `i64::MAX` ns, 292 years, is none too).
fn timeout_ns(timeout: Option<Duration>) -> i64 {
    timeout.map_or(-1, |t| i64::try_from(t.as_nanos()).unwrap_or(-1))
}

impl PartialEq for SharedMemory {
    fn eq(&self, other: &SharedMemory) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
impl Eq for SharedMemory {}
impl std::hash::Hash for SharedMemory {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.inner).hash(state);
    }
}
