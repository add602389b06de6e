//! Copy-on-write memory images: instantiation maps a module's initial
//! memory contents instead of copying its data segments.
//!
//! For each defined memory of a module, the first instantiation computes
//! (once, lazily) the memory's initial bytes from its active data segments
//! and puts them in a sealed `memfd`. Every instance then maps that file
//! `MAP_PRIVATE | MAP_FIXED` over the start of its memory's reservation, so
//! instantiating costs one `mmap` whatever the amount of data, pages are
//! read from the shared image only when touched, and the first write to a
//! page gives the instance its own copy (the image itself never changes:
//! it is sealed against writes, shrinking and growing).
//!
//! An image is used only where that is exactly what applying the segments
//! would do (see [`MemoryImages::new`]); everything else falls back to
//! applying the segments at instantiation. Platforms without `memfd` (all
//! but Linux) always apply the segments.

use crate::module::{ConstExpr, ConstOp, ElemMode, ModuleInfo};
use crate::runtime::memory::PAGE_SIZE;
use std::sync::Arc;

/// The prepared initial contents of the defined memories of one module,
/// and which data segments they already contain.
#[derive(Debug, Default)]
pub(crate) struct MemoryImages {
    /// One entry per defined memory (imported ones are never imaged).
    memories: Vec<Option<Arc<MemoryImage>>>,
    /// Per data segment: whether an image already contains it, so that
    /// instantiation does not apply it again.
    covered: Vec<bool>,
}

impl MemoryImages {
    /// The images of `m`'s defined memories, for the segments whose result
    /// an image can reproduce exactly. A memory gets an image when it is
    /// not shared (another thread's writes must be seen by all, a private
    /// mapping would hide them), its pages are 64 KiB (whole host pages;
    /// 1-byte pages are copied), and every active segment that targets it
    /// has a constant offset (no `global.get`) and lies within its initial
    /// size (a segment that traps must trap after the segments before it
    /// took effect). No memory gets one when an active element segment
    /// targets an imported table: a failed instantiation could then leave
    /// functions of the instance reachable through that table, and they
    /// must see memories without the data of segments never applied.
    pub(crate) fn new(m: &ModuleInfo) -> MemoryImages {
        let mut images = MemoryImages {
            memories: vec![None; m.memories.len() - m.num_imported_memories as usize],
            covered: vec![false; m.datas.len()],
        };
        if !imp::AVAILABLE || !m.engine.config().memory_init_cow {
            return images;
        }
        let imported_table = m.elems.iter().any(|e| {
            matches!(&e.mode, ElemMode::Active { table, .. }
                if *table < m.num_imported_tables)
        });
        if imported_table {
            return images;
        }
        for (defined, memory) in (m.num_imported_memories..m.memories.len() as u32).enumerate() {
            let ty = m.memories[memory as usize];
            if ty.is_shared() || ty.page_size() != PAGE_SIZE {
                continue;
            }
            let Some(initial) = ty.minimum().checked_mul(PAGE_SIZE) else {
                continue;
            };
            // (segment index, offset) of every active segment of `memory`.
            let mut segments = Vec::new();
            let mut exact = true;
            for (i, data) in m.datas.iter().enumerate() {
                let Some((target, offset)) = &data.active else {
                    continue;
                };
                if *target != memory {
                    continue;
                }
                match constant_offset(offset) {
                    Some(o) if o.checked_add(data.bytes.len() as u64) <= Some(initial) => {
                        segments.push((i, o));
                    }
                    _ => exact = false,
                }
            }
            if !exact || segments.is_empty() {
                continue;
            }
            let end = segments
                .iter()
                .map(|&(i, o)| o + m.datas[i].bytes.len() as u64)
                .max()
                .unwrap_or(0);
            let image = if end == 0 {
                // Only empty segments: nothing to map, nothing to copy.
                None
            } else {
                // Rounded up to host pages, which stays within the initial
                // size: it is a whole number of 64 KiB pages, a multiple of
                // every host page size Linux has.
                let len = super::memory::round_up_to_host_page(end);
                if len > initial {
                    continue;
                }
                let parts = segments.iter().map(|&(i, o)| (o, &m.datas[i].bytes[..]));
                match imp::MemoryImage::new(len, parts) {
                    Some(image) => Some(Arc::new(image)),
                    // The host refused a memfd (seccomp, no memory):
                    // copying still works.
                    None => continue,
                }
            };
            images.memories[defined] = image;
            for (i, _) in segments {
                images.covered[i] = true;
            }
        }
        images
    }

    /// The image to map into defined memory `defined`, if it has one.
    pub(crate) fn memory(&self, defined: usize) -> Option<&MemoryImage> {
        self.memories.get(defined)?.as_deref()
    }

    /// Whether data segment `index` is already in its memory's image.
    pub(crate) fn covers(&self, index: usize) -> bool {
        self.covered.get(index).copied().unwrap_or(false)
    }
}

/// The offset of a segment whose offset expression reads no global (plain
/// or extended-const arithmetic on constants), as its cell (an i32
/// zero-extended); `None` when it depends on the instance or fails.
fn constant_offset(offset: &ConstExpr) -> Option<u64> {
    if offset
        .ops
        .iter()
        .any(|op| !matches!(op, ConstOp::Const(_) | ConstOp::Binary(_)))
    {
        return None;
    }
    offset
        .eval(&|_| 0, &|_| 0, &mut |_, _| {
            anyhow::bail!("not a constant offset")
        })
        .ok()
        .map(|v| v as u64)
}

pub(crate) use imp::MemoryImage;

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::FileExt;

    /// Whether this platform maps images (otherwise segments are copied).
    pub(super) const AVAILABLE: bool = true;

    /// One memory's initial contents in a sealed `memfd`, `len` bytes (a
    /// whole number of host pages).
    #[derive(Debug)]
    pub(crate) struct MemoryImage {
        file: File,
        len: usize,
    }

    impl MemoryImage {
        /// An image of `len` bytes, zero but for `parts` (offset, bytes),
        /// written in order so a later segment overwrites an earlier one as
        /// applying them would. `None` when the host refuses.
        pub(super) fn new<'a>(
            len: u64,
            parts: impl Iterator<Item = (u64, &'a [u8])>,
        ) -> Option<MemoryImage> {
            // SAFETY: `memfd_create` takes a NUL-terminated name and flags
            // and returns a new descriptor (or -1), which nothing else owns.
            let fd = unsafe {
                libc::memfd_create(
                    c"strata-memory-image".as_ptr(),
                    libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
                )
            };
            if fd < 0 {
                return None;
            }
            // SAFETY: `fd` was just created and is owned by no one else.
            let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
            // A sparse file: pages no segment touches cost nothing.
            file.set_len(len).ok()?;
            for (offset, bytes) in parts {
                file.write_all_at(bytes, offset).ok()?;
            }
            // Sealed, nothing can change the image under the instances
            // that map it, nor shrink it (which would turn their accesses
            // into SIGBUS).
            let seals =
                libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
            // SAFETY: `fcntl(F_ADD_SEALS)` on a descriptor we own only
            // changes what later operations on the file may do.
            if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
                return None;
            }
            Some(MemoryImage {
                file,
                len: usize::try_from(len).ok()?,
            })
        }

        /// The image's length in bytes.
        pub(crate) fn len(&self) -> usize {
            self.len
        }

        /// Maps the image copy-on-write, readable and writable, at `base`.
        ///
        /// # Safety
        ///
        /// `[base, base + self.len())` must be host-page aligned and lie in
        /// a mapping the caller owns and whose old contents nobody needs
        /// (it is replaced).
        pub(crate) unsafe fn map_at(&self, base: *mut u8) -> Result<(), String> {
            // SAFETY: the caller guarantees the range is its own to
            // replace; `MAP_FIXED` replaces exactly that range, and
            // `MAP_PRIVATE` means writes go to private copies, never the
            // file. The mapping holds its own reference to the file.
            let ptr = unsafe {
                libc::mmap(
                    base.cast(),
                    self.len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_FIXED,
                    self.file.as_raw_fd(),
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err("failed to map a memory image".into());
            }
            Ok(())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// Whether this platform maps images (otherwise segments are copied).
    pub(super) const AVAILABLE: bool = false;

    /// No images here: the type exists so the code that uses them needs no
    /// `cfg`; none is ever created.
    #[derive(Debug)]
    pub(crate) enum MemoryImage {}

    impl MemoryImage {
        pub(super) fn new<'a>(
            _len: u64,
            _parts: impl Iterator<Item = (u64, &'a [u8])>,
        ) -> Option<MemoryImage> {
            None
        }

        /// The image's length in bytes.
        pub(crate) fn len(&self) -> usize {
            match *self {}
        }

        /// Never called: no image exists.
        ///
        /// # Safety
        ///
        /// As on Linux.
        pub(crate) unsafe fn map_at(&self, _base: *mut u8) -> Result<(), String> {
            match *self {}
        }
    }
}
