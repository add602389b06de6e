//! Linear memory: a reserved virtual address range that never moves.
//!
//! A memory reserves its whole address range up front (inaccessible) and
//! makes pages accessible as it grows, so the base pointer that compiled code
//! or the interpreter caches stays valid for the memory's lifetime. For a
//! 32-bit memory on a 64-bit host the reservation covers the whole 4 GiB
//! index space plus a guard region, which lets compiled code rely on the
//! guard to catch out-of-bounds accesses.

use super::memory_image::MemoryImage;
use super::vm::VMMemory;
use crate::types::MemoryType;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// The size of a WebAssembly page (the default; the custom-page-sizes
/// proposal adds 1-byte pages).
pub const PAGE_SIZE: u64 = 0x1_0000;

/// Bytes reserved beyond the 4 GiB index space of a 32-bit memory, so that
/// `base + u32 index + u32 offset` plus the access size always lands in the
/// reservation.
const GUARD_SIZE: u64 = (4 << 30) + PAGE_SIZE;

/// The largest number of pages a 32-bit memory can have.
pub const MAX_PAGES_32: u64 = 0x1_0000;

/// The most address space a 64-bit memory reserves (and so the furthest it
/// can grow): 16 GiB, beyond the 4 GiB of 32-bit memories, within what a
/// 64-bit host's address space easily holds for many memories at once.
/// Growing beyond it gives -1, as a host that refuses memory does.
pub const MAX_RESERVATION_64: u64 = 16 << 30;

/// A linear memory's storage.
#[derive(Debug)]
pub struct LinearMemory {
    base: NonNull<u8>,
    reserved: usize,
    /// Base and accessible length, where executing code reads them: a
    /// heap allocation at a stable address (freed in `drop`), only ever
    /// accessed through shared references (the length is atomic).
    vm: NonNull<VMMemory>,
    max_pages: u64,
    /// Pages are `2^page_size_log2` bytes (16, or 0 with custom page
    /// sizes).
    page_size_log2: u32,
}

// SAFETY: the memory is an owned mapping and its `VMMemory` an owned
// allocation; the Rust side only reaches its bytes through raw pointers
// (or, for `data`/`data_mut`, a borrow of an unshared memory's store) and
// its length through an atomic, so it may be used from any thread.
unsafe impl Send for LinearMemory {}
// SAFETY: see `Send`; `grow` is the only mutation through `&self`, and its
// callers serialise it (the store's `&mut`, or a shared memory's lock).
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// Reserves a memory of type `ty`: its minimum size accessible, room to
    /// grow to its maximum (within the limits below), addresses of its
    /// index width and pages of its page size; with `image`, its first
    /// bytes are that image, mapped copy-on-write (the image must fit the
    /// minimum size, which `MemoryImages` ensures). Fails when the host
    /// cannot provide the address space or pages.
    pub(crate) fn new(
        ty: &MemoryType,
        image: Option<&MemoryImage>,
    ) -> Result<LinearMemory, String> {
        let (min, log2) = (ty.minimum(), u32::from(ty.page_size_log2()));
        let max_pages = if ty.is_64() {
            // A 64-bit memory can grow as far as its reservation, which
            // compiled code never relies on as a guard (it checks every
            // access explicitly).
            ty.maximum()
                .unwrap_or(u64::MAX)
                .min(MAX_RESERVATION_64 >> log2)
        } else {
            // 4 GiB of address space, and a page count that fits an i32
            // (`2^32` pages of 1 byte would not).
            let most = ((1_u64 << 32) >> log2).min(u64::from(u32::MAX));
            ty.maximum().unwrap_or(most).min(most)
        };
        if min > max_pages {
            return Err(format!("memory minimum of {min} pages exceeds the maximum"));
        }
        let reserved = if !ty.is_64() && cfg!(target_pointer_width = "64") {
            MAX_PAGES_32 * PAGE_SIZE + GUARD_SIZE
        } else {
            round_up_to_host_page((max_pages << log2).max(1))
        };
        let reserved = usize::try_from(reserved)
            .map_err(|_| format!("a linear memory of {max_pages} pages does not fit this host"))?;
        // SAFETY: an anonymous, private, inaccessible mapping with no fixed
        // address; it aliases nothing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                reserved,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!(
                "failed to reserve {reserved} bytes of address space for a linear memory"
            ));
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or("mmap returned null")?;
        let mem = LinearMemory {
            base,
            reserved,
            vm: NonNull::from(Box::leak(Box::new(VMMemory::new(base.as_ptr(), 0)))),
            max_pages,
            page_size_log2: log2,
        };
        let initial = (min << log2) as usize;
        if let Some(image) = image {
            if image.len() > initial {
                return Err("a memory image larger than its memory".into());
            }
            // SAFETY: `[base, base + image.len())` lies in the reservation
            // just made (the image fits the initial size, which fits the
            // reservation), starts at its page-aligned base, and holds
            // nothing yet. `set_len` below then makes the rest of the
            // initial size accessible; its `mprotect` over the image's
            // pages keeps them read-write and copy-on-write. Growing later
            // commits pages past the image, as without one, and `drop`
            // unmaps the image's pages with the rest of the reservation.
            unsafe { image.map_at(base.as_ptr())? };
        }
        mem.set_len(initial)?;
        Ok(mem)
    }

    fn set_len(&self, new_len: usize) -> Result<(), String> {
        // Host pages are committed whole: with 1-byte wasm pages the bytes
        // past `len` in the last host page are accessible to the host but
        // never to wasm, which checks every access of such a memory
        // against `len` explicitly.
        let committed = round_up_to_host_page(self.len() as u64) as usize;
        let wanted = round_up_to_host_page(new_len as u64) as usize;
        if wanted > committed {
            // SAFETY: `[committed, wanted)` lies inside our own reservation
            // (which is a whole number of host pages) and starts at a host
            // page boundary.
            let rc = unsafe {
                libc::mprotect(
                    self.base.as_ptr().add(committed).cast(),
                    wanted - committed,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                return Err("failed to commit linear memory pages".into());
            }
        }
        // Release: a thread that sees the new length (through an acquire
        // load) sees the pages committed above.
        self.vm().len.store(new_len, Ordering::Release);
        Ok(())
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        self.len() as u64 >> self.page_size_log2
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` when
    /// the memory cannot grow that far (the caller reports -1). Takes
    /// `&self` because a shared memory grows while other threads access
    /// it; callers serialise growth (the store's `&mut` for an unshared
    /// memory, the lock of a shared one).
    pub fn grow(&self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        let bytes = new.checked_mul(1 << self.page_size_log2)?;
        if new > self.max_pages || bytes > self.reserved as u64 {
            return None;
        }
        self.set_len(usize::try_from(bytes).ok()?).ok()?;
        Some(old)
    }

    /// The accessible bytes of an unshared memory. Never called for a
    /// shared memory, whose bytes other threads may write at any time
    /// (see `MemoryStorage::owned`).
    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base+len)` is mapped read/write and owned by self.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.len()) }
    }

    /// The accessible bytes of an unshared memory, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len()) }
    }

    /// The first byte (stable for the memory's lifetime).
    pub fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The accessible length in bytes.
    pub fn len(&self) -> usize {
        self.vm().len.load(Ordering::Acquire)
    }

    /// Whether `[offset, offset + len)` is accessible.
    fn in_bounds(&self, offset: usize, len: usize) -> bool {
        offset.checked_add(len).is_some_and(|end| end <= self.len())
    }

    /// Copies `dst.len()` bytes at `offset` out of the memory; false when
    /// they are out of bounds. Goes through raw pointers, never a slice of
    /// the memory, so other threads writing a shared memory meanwhile do
    /// not invalidate a Rust reference.
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> bool {
        if !self.in_bounds(offset, dst.len()) {
            return false;
        }
        // SAFETY: in bounds of the mapping (checked); `dst` is a distinct
        // Rust allocation.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base().add(offset), dst.as_mut_ptr(), dst.len())
        };
        true
    }

    /// Copies `src` into the memory at `offset`; false when out of bounds.
    /// Raw pointers, as in `read`.
    pub fn write(&self, offset: usize, src: &[u8]) -> bool {
        if !self.in_bounds(offset, src.len()) {
            return false;
        }
        // SAFETY: in bounds (checked); `src` does not overlap the mapping's
        // bytes (no slice of them is ever formed).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.base().add(offset), src.len()) };
        true
    }

    /// Sets `len` bytes at `offset` to `value`; false when out of bounds.
    pub fn fill(&self, offset: usize, value: u8, len: usize) -> bool {
        if !self.in_bounds(offset, len) {
            return false;
        }
        // SAFETY: in bounds (checked).
        unsafe { std::ptr::write_bytes(self.base().add(offset), value, len) };
        true
    }

    /// Copies `len` bytes from `src` at `src_offset` to `dst_offset` of
    /// this memory (`src` may be this memory: the ranges may overlap);
    /// false when either range is out of bounds.
    pub fn copy_from(
        &self,
        dst_offset: usize,
        src: &LinearMemory,
        src_offset: usize,
        len: usize,
    ) -> bool {
        if !self.in_bounds(dst_offset, len) || !src.in_bounds(src_offset, len) {
            return false;
        }
        // SAFETY: both ranges in bounds of live mappings (checked);
        // `ptr::copy` allows overlap.
        unsafe { std::ptr::copy(src.base().add(src_offset), self.base().add(dst_offset), len) };
        true
    }

    /// A sequentially consistent load of the `size`-byte (4 or 8) value
    /// at `ea`, zero-extended; `None` unless it is in bounds and aligned.
    pub fn atomic_load(&self, ea: u64, size: u64) -> Option<u64> {
        let offset = usize::try_from(ea).ok()?;
        if !self.in_bounds(offset, size as usize) || !ea.is_multiple_of(size) {
            return None;
        }
        let kind = crate::isa::atomic::AtomicKind::Load;
        // SAFETY: in bounds of the live mapping and aligned (checked); its
        // bytes are only accessed atomically or through raw pointers.
        Some(unsafe { super::vm::atomic(kind, size as u32, self.base().add(offset), 0, 0) })
    }

    /// The accessible bytes as cells another thread may write (what
    /// `SharedMemory::data` hands out).
    pub fn cells(&self) -> &[std::cell::UnsafeCell<u8>] {
        // SAFETY: `[base, base+len)` is mapped for as long as `self` lives
        // (the memory never moves or shrinks); `UnsafeCell<u8>` has `u8`'s
        // layout and tells the compiler the bytes may change behind a
        // shared reference.
        unsafe { std::slice::from_raw_parts(self.base().cast(), self.len()) }
    }

    /// The definition executing code reads.
    pub fn vm(&self) -> &VMMemory {
        // SAFETY: allocated in `new`, freed only in `drop`, and never
        // accessed through a unique reference.
        unsafe { self.vm.as_ref() }
    }

    /// The definition executing code reads; stable for the memory's
    /// lifetime.
    pub fn vm_ptr(&self) -> *const VMMemory {
        self.vm.as_ptr()
    }
}

/// `bytes` rounded up to a whole number of host pages (the unit `mprotect`
/// works in).
pub(crate) fn round_up_to_host_page(bytes: u64) -> u64 {
    // SAFETY: `sysconf` only reads a configuration value.
    let host = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    bytes.div_ceil(host) * host
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the reservation made in `new`, and frees
        // the definition allocated there (nothing uses either any more:
        // the owner outlives every instance and thread that used them).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.reserved);
            drop(Box::from_raw(self.vm.as_ptr()));
        }
    }
}
