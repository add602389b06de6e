//! Shared linear memories (the threads proposal): a memory owned jointly
//! (`Arc`) by every store that imports it, on any thread.
//!
//! A shared memory is a `LinearMemory` like any other, so it never moves
//! (its whole maximum, which a shared memory must declare, is reserved up
//! front) and its length is atomic; what it adds is a lock that serialises
//! growth and the parking lot of its waiters. No `&[u8]` or `&mut [u8]` is
//! ever formed over its bytes: the host reaches them through raw pointers
//! (`LinearMemory::read`/`write`, or the `UnsafeCell` view of the API).

use super::memory::LinearMemory;
use super::parking::{ParkingLot, WaitResult};
use super::store::MemoryStorage;
use crate::types::MemoryType;
use crate::Trap;
use std::sync::Mutex;
use std::time::Duration;

/// The shared state of one shared memory.
#[derive(Debug)]
pub struct SharedMemoryInner {
    /// The declared type (its minimum is the initial size).
    pub ty: MemoryType,
    /// The storage.
    pub mem: LinearMemory,
    /// Held while growing, so concurrent `memory.grow`s each see and
    /// extend the size the previous one left.
    grow_lock: Mutex<()>,
    /// Threads waiting in `memory.atomic.wait32/64`.
    pub lot: ParkingLot,
}

impl SharedMemoryInner {
    /// Allocates a shared memory of type `ty` (shared, with a maximum).
    pub fn new(ty: MemoryType) -> Result<SharedMemoryInner, String> {
        if !ty.is_shared() {
            return Err("a shared memory needs a memory type marked shared".into());
        }
        if ty.maximum().is_none() {
            return Err("shared memory must have maximum".into());
        }
        Ok(SharedMemoryInner {
            mem: LinearMemory::new(&ty, None)?,
            ty,
            grow_lock: Mutex::new(()),
            lot: ParkingLot::default(),
        })
    }

    /// Grows by `delta` pages, atomically with respect to other growers:
    /// the old size in pages, or `None` (wasm sees -1).
    pub fn grow(&self, delta: u64) -> Option<u64> {
        // Growth leaves no partial state behind a panic, so a poisoned
        // lock is still good.
        let _guard = self.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.mem.grow(delta)
    }
}

/// The checks every atomic access makes, in the reference interpreter's
/// (and wasmtime's) order: the effective address `addr + offset` must be
/// a multiple of `size`, then lie in `[0, len)` with its `size` bytes.
/// Returns the effective address.
pub fn atomic_address(addr: u64, offset: u64, size: u64, len: usize) -> Result<u64, Trap> {
    let ea = addr.checked_add(offset).ok_or(Trap::MemoryOutOfBounds)?;
    if !ea.is_multiple_of(size) {
        return Err(Trap::HeapMisaligned);
    }
    match ea.checked_add(size) {
        Some(end) if end <= len as u64 => Ok(ea),
        _ => Err(Trap::MemoryOutOfBounds),
    }
}

/// `memory.atomic.wait32/64` on memory `mem` (the store's storage of
/// it): the address checks, then the spec's trap on an unshared memory,
/// then the wait itself on the shared memory's parking lot. `timeout_ns`
/// is relative; negative waits forever. `interrupted` is polled while
/// waiting and ends the wait with `Trap::Interrupt` when it says so.
pub fn atomic_wait(
    mem: &MemoryStorage,
    ea: u64,
    expected: u64,
    size: u64,
    timeout_ns: i64,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<WaitResult, Trap> {
    let ea = atomic_address(ea, 0, size, mem.len())?;
    let Some(shared) = mem.shared() else {
        return Err(Trap::AtomicWaitNonSharedMemory);
    };
    shared.wait(ea, expected, size, timeout_ns, interrupted)
}

/// `memory.atomic.notify` on memory `mem`: wakes up to `count` waiters at
/// `ea` (checked like any atomic access); an unshared memory has no
/// waiters, so it wakes none.
pub fn atomic_notify(mem: &MemoryStorage, ea: u64, count: u32) -> Result<u32, Trap> {
    let ea = atomic_address(ea, 0, 4, mem.len())?;
    Ok(mem.shared().map_or(0, |s| s.lot.notify(ea, count)))
}

impl SharedMemoryInner {
    /// Waits at `ea` (checked: in bounds and aligned to `size`, 4 or 8)
    /// while the `size`-byte value there equals `expected`; see
    /// `atomic_wait`.
    pub fn wait(
        &self,
        ea: u64,
        expected: u64,
        size: u64,
        timeout_ns: i64,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<WaitResult, Trap> {
        let ea = atomic_address(ea, 0, size, self.mem.len())?;
        let still_expected = || self.mem.atomic_load(ea, size) == Some(expected);
        let timeout = u64::try_from(timeout_ns).ok().map(Duration::from_nanos);
        self.lot
            .wait(ea, still_expected, timeout, interrupted)
            .map_err(|()| Trap::Interrupt)
    }
}
