//! Linear memory: a reserved virtual address range that never moves.
//!
//! A memory reserves its whole address range up front (inaccessible) and
//! makes pages accessible as it grows, so the base pointer that compiled code
//! or the interpreter caches stays valid for the memory's lifetime. For a
//! 32-bit memory on a 64-bit host the reservation covers the whole 4 GiB
//! index space plus a guard region, which lets compiled code rely on the
//! guard to catch out-of-bounds accesses.

use super::memory_image::MemoryImage;
use super::vm::{VMMemory, VmBox};
use crate::types::MemoryType;
use std::ptr::NonNull;

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
    /// Base and accessible length, where executing code reads them.
    vm: VmBox<VMMemory>,
    max_pages: u64,
    /// Pages are `2^page_size_log2` bytes (16, or 0 with custom page
    /// sizes).
    page_size_log2: u32,
}

// SAFETY: the memory is an owned mapping; access is synchronised by the
// store that owns it (`&mut` for writes).
unsafe impl Send for LinearMemory {}
// SAFETY: see `Send`; shared references only read `base` and `len`.
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
        let mut mem = LinearMemory {
            base,
            reserved,
            vm: VmBox::new(VMMemory {
                base: base.as_ptr(),
                len: 0,
            }),
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

    fn set_len(&mut self, new_len: usize) -> Result<(), String> {
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
        self.vm.set(VMMemory {
            base: self.base.as_ptr(),
            len: new_len,
        });
        Ok(())
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        self.len() as u64 >> self.page_size_log2
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` when
    /// the memory cannot grow that far (the caller reports -1).
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        let bytes = new.checked_mul(1 << self.page_size_log2)?;
        if new > self.max_pages || bytes > self.reserved as u64 {
            return None;
        }
        self.set_len(usize::try_from(bytes).ok()?).ok()?;
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base+len)` is mapped read/write and owned by self.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.len()) }
    }

    /// The accessible bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len()) }
    }

    /// The accessible length in bytes.
    pub fn len(&self) -> usize {
        self.vm.get().len
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
        // SAFETY: unmaps exactly the reservation made in `new`.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.reserved);
        }
    }
}
