//! Executable memory: a [`CodeImage`] loaded into a mapping of its own.
//!
//! Loading maps fresh memory read-write, copies the image in, patches its
//! relocations for the address it landed at, and makes it read-execute,
//! never writable again (W^X). The mapping lives until the
//! [`CodeMemory`] is dropped. This module holds all the `unsafe` of
//! mapping and patching code, and of mapping compile-cache entries to read
//! them ([`MappedFile`]).

use super::image::{CodeImage, RelocKind, RelocTarget, LIBCALLS};
use anyhow::{bail, Result};
use cranelift_codegen::ir::LibCall;
use std::collections::HashMap;
use std::ptr::NonNull;

/// A loaded image's code, mapped read-execute.
pub(crate) struct CodeMemory {
    /// The mapping (`None` for an empty image, which maps nothing).
    map: Option<NonNull<u8>>,
    /// Size of the mapping (whole pages).
    mapped: usize,
    /// Bytes of code at its start.
    len: usize,
}

// SAFETY: the mapping is immutable once loaded and owned by this value
// alone; it is only unmapped on drop.
unsafe impl Send for CodeMemory {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for CodeMemory {}

fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(4096)
}

/// The address of libcall [`LIBCALLS`]`[i]`: Rust's implementation of the
/// operation (or libc's, for the memory functions).
fn libcall_address(i: u8) -> usize {
    extern "C" fn ceilf(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn ceil(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn floorf(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn floor(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn truncf(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn trunc(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearbyintf(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn nearbyint(x: f64) -> f64 {
        x.round_ties_even()
    }
    extern "C" fn fmaf(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    extern "C" fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    match LIBCALLS.get(usize::from(i)) {
        Some(LibCall::CeilF32) => ceilf as *const () as usize,
        Some(LibCall::CeilF64) => ceil as *const () as usize,
        Some(LibCall::FloorF32) => floorf as *const () as usize,
        Some(LibCall::FloorF64) => floor as *const () as usize,
        Some(LibCall::TruncF32) => truncf as *const () as usize,
        Some(LibCall::TruncF64) => trunc as *const () as usize,
        Some(LibCall::NearestF32) => nearbyintf as *const () as usize,
        Some(LibCall::NearestF64) => nearbyint as *const () as usize,
        Some(LibCall::FmaF32) => fmaf as *const () as usize,
        Some(LibCall::FmaF64) => fma as *const () as usize,
        Some(LibCall::Memcpy) => libc::memcpy as *const () as usize,
        Some(LibCall::Memset) => libc::memset as *const () as usize,
        Some(LibCall::Memmove) => libc::memmove as *const () as usize,
        Some(LibCall::Memcmp) => libc::memcmp as *const () as usize,
        // `CodeImage::check` admits only indices of `LIBCALLS`, and every
        // entry there has an arm above.
        _ => unreachable!("libcall {i} is not in LIBCALLS"),
    }
}

/// The value a relocation of `kind` at address `at` stores for `target`,
/// or an error when the target is out of the field's reach.
fn patch_value(kind: RelocKind, at: usize, target: usize) -> Result<u64> {
    let delta = (target as i64).wrapping_sub(at as i64);
    Ok(match kind {
        RelocKind::Abs8 => target as u64,
        RelocKind::PcRel4 => match i32::try_from(delta) {
            Ok(d) => u64::from(d as u32),
            Err(_) => bail!("a call in compiled code is out of range"),
        },
        RelocKind::Arm64Call => {
            let words = delta >> 2;
            if !(-(1 << 25)..(1 << 25)).contains(&words) {
                bail!("a call in compiled code is out of range");
            }
            (words as u64) & 0x03ff_ffff
        }
    })
}

impl CodeMemory {
    /// Loads `image` (which `CodeImage::check` accepted) into new
    /// executable memory.
    pub fn load(image: &CodeImage) -> Result<CodeMemory> {
        let len = image.text.len();
        if len == 0 {
            return Ok(CodeMemory {
                map: None,
                mapped: 0,
                len: 0,
            });
        }
        let mapped = len.next_multiple_of(page_size());
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            bail!(
                "failed to map {mapped} bytes for compiled code: {}",
                std::io::Error::last_os_error()
            );
        }
        let Some(base) = NonNull::new(ptr.cast::<u8>()) else {
            bail!("failed to map memory for compiled code");
        };
        let memory = CodeMemory {
            map: Some(base),
            mapped,
            len,
        };
        // SAFETY: the mapping is `mapped >= len` bytes, writable, and not
        // yet shared with anything.
        let text = unsafe { std::slice::from_raw_parts_mut(base.as_ptr(), len) };
        text.copy_from_slice(&image.text);
        let natives: HashMap<u32, u32> = image
            .funcs
            .iter()
            .filter(|f| !f.trampoline && f.loop_entry.is_none())
            .map(|f| (f.defined, f.offset))
            .collect();
        let loops: HashMap<u32, u32> = image
            .funcs
            .iter()
            .filter_map(|f| Some((f.loop_entry?, f.offset)).filter(|_| !f.trampoline))
            .collect();
        let start = base.as_ptr() as usize;
        for r in &image.relocs {
            let target = match r.target {
                RelocTarget::Native(i) => match natives.get(&i) {
                    Some(&offset) => start + offset as usize,
                    None => bail!("a relocation names function {i}, which is not in the image"),
                },
                RelocTarget::LoopEntry(k) => match loops.get(&k) {
                    Some(&offset) => start + offset as usize,
                    None => bail!("a relocation names loop entry {k}, which is not in the image"),
                },
                RelocTarget::LibCall(i) => libcall_address(i),
            };
            let target = target.wrapping_add_signed(r.addend as isize);
            let at = r.offset as usize;
            let value = patch_value(r.kind, start + at, target)?;
            // `CodeImage::check` keeps every field inside the code.
            let field = &mut text[at..at + r.kind.size() as usize];
            match r.kind {
                RelocKind::Abs8 => field.copy_from_slice(&value.to_le_bytes()),
                RelocKind::PcRel4 => field.copy_from_slice(&(value as u32).to_le_bytes()),
                RelocKind::Arm64Call => {
                    // Replace the immediate, so that patching again (an
                    // image read back from loaded code) gives the same.
                    let mut word = [0; 4];
                    word.copy_from_slice(field);
                    let inst = (u32::from_le_bytes(word) & !0x03ff_ffff) | value as u32;
                    field.copy_from_slice(&inst.to_le_bytes());
                }
            }
        }
        // SAFETY: the range is the mapping made above; from now on it is
        // only read and executed.
        if unsafe { libc::mprotect(ptr, mapped, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            bail!(
                "failed to make compiled code executable: {}",
                std::io::Error::last_os_error()
            );
        }
        flush_icache(start, len);
        Ok(memory)
    }

    /// The address of the code's first byte (0 for an empty image).
    pub fn base(&self) -> usize {
        self.map.map_or(0, |p| p.as_ptr() as usize)
    }

    /// The loaded code, relocations applied.
    pub fn text(&self) -> &[u8] {
        match self.map {
            // SAFETY: the mapping holds `len` initialised bytes, readable
            // and never written after loading, alive while `self` is.
            Some(p) => unsafe { std::slice::from_raw_parts(p.as_ptr(), self.len) },
            None => &[],
        }
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(p) = self.map {
            // SAFETY: the mapping was made by `load` and its owner is gone,
            // so no code in it can run any more (modules keep their code
            // alive while instances use it).
            unsafe { libc::munmap(p.as_ptr().cast(), self.mapped) };
        }
    }
}

/// Makes freshly written code visible to instruction fetch.
#[cfg(target_arch = "aarch64")]
fn flush_icache(start: usize, len: usize) {
    extern "C" {
        fn __clear_cache(start: *mut libc::c_char, end: *mut libc::c_char);
    }
    // SAFETY: the range is mapped code; the call only syncs caches.
    unsafe {
        __clear_cache(
            start as *mut libc::c_char,
            (start + len) as *mut libc::c_char,
        )
    };
}

/// x86-64 keeps instruction fetch coherent with data writes.
#[cfg(not(target_arch = "aarch64"))]
fn flush_icache(_start: usize, _len: usize) {}

/// A file mapped read-only, whole: a compile-cache entry read without
/// copying it into a buffer first (its pages come from the page cache,
/// populated in one go since the checksum reads all of them).
///
/// A mapping shows later changes made to the file in place, and a file
/// truncated in place would make reading past its new end fault (SIGBUS).
/// Strata never changes an entry in place: it writes a temporary file and
/// renames it over the entry, which leaves an open mapping on the old
/// file, and removes entries by unlinking them, which keeps the file
/// alive while mapped.
pub(crate) struct MappedFile {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; it is
// only unmapped on drop.
unsafe impl Send for MappedFile {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps the file at `path`; an empty or unreadable file is an error.
    pub(crate) fn open(path: &std::path::Path) -> std::io::Result<MappedFile> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        if len == 0 {
            return Err(std::io::Error::other("empty file"));
        }
        // SAFETY: a new private read-only mapping of a file we opened, at
        // an address of the kernel's choosing; it aliases nothing. The
        // descriptor may close afterwards, the mapping keeps the file.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        Ok(MappedFile { ptr, len })
    }
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `[ptr, ptr + len)` is the readable mapping made in
        // `open`, alive until drop and never written through.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `open`; no slice of
        // it outlives `self` (they borrow it).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::image::{ImageFunc, ImageReloc};
    use crate::jit::signals::SrcLocs;

    /// An image of one function and its trampoline (32 bytes of `nop`s)
    /// whose trampoline calls the function (PC-relative) and holds the
    /// address of libcall `libcall` (absolute).
    fn image(libcall: u8) -> CodeImage {
        let func = |trampoline, offset| ImageFunc {
            defined: 0,
            trampoline,
            loop_entry: None,
            offset,
            len: 16,
            traps: Vec::new(),
            srclocs: SrcLocs::default(),
            call_sites: Vec::new(),
            stack_maps: Vec::new(),
        };
        CodeImage {
            text: vec![0x90; 32],
            funcs: vec![func(false, 0), func(true, 16)],
            relocs: vec![
                ImageReloc {
                    offset: 17,
                    kind: RelocKind::PcRel4,
                    target: RelocTarget::Native(0),
                    addend: -4,
                },
                ImageReloc {
                    offset: 24,
                    kind: RelocKind::Abs8,
                    target: RelocTarget::LibCall(libcall),
                    addend: 0,
                },
            ],
        }
    }

    #[test]
    fn loading_patches_calls_and_libcall_addresses() {
        for (i, call) in LIBCALLS.iter().enumerate() {
            let image = image(i as u8);
            image.check(1).unwrap();
            let memory = CodeMemory::load(&image).unwrap();
            let text = memory.text();
            let rel = i32::from_le_bytes(text[17..21].try_into().unwrap());
            assert_eq!(rel, -21, "from 17 to 0, minus the 4-byte field");
            let abs = u64::from_le_bytes(text[24..32].try_into().unwrap());
            assert_eq!(abs as usize, libcall_address(i as u8), "{call:?}");
            assert_eq!(&text[..17], &[0x90; 17][..]);

            // The loaded bytes, loaded again elsewhere, patch the same.
            let again = CodeImage {
                text: text.to_vec(),
                ..image
            };
            let other = CodeMemory::load(&again).unwrap();
            assert_ne!(other.base(), memory.base());
            assert_eq!(other.text(), memory.text());
        }
    }

    #[test]
    fn the_libcalls_compute_what_wasm_specifies() {
        let unary32 = |i: u8, x: f32| {
            // SAFETY: libcalls 0, 2, 4 and 6 are `extern "C" fn(f32) -> f32`.
            let f: extern "C" fn(f32) -> f32 = unsafe { std::mem::transmute(libcall_address(i)) };
            f(x)
        };
        let unary64 = |i: u8, x: f64| {
            // SAFETY: libcalls 1, 3, 5 and 7 are `extern "C" fn(f64) -> f64`.
            let f: extern "C" fn(f64) -> f64 = unsafe { std::mem::transmute(libcall_address(i)) };
            f(x)
        };
        assert_eq!(unary32(0, 1.25), 2.0);
        assert_eq!(unary64(1, -1.5), -1.0);
        assert_eq!(unary32(2, -1.25), -2.0);
        assert_eq!(unary64(3, 1.5), 1.0);
        assert_eq!(unary32(4, -1.75), -1.0);
        assert_eq!(unary64(5, 1.75), 1.0);
        assert_eq!(unary32(6, 2.5), 2.0, "nearest rounds ties to even");
        assert_eq!(unary64(7, 3.5), 4.0);
        // SAFETY: libcall 9 is `extern "C" fn(f64, f64, f64) -> f64`.
        let fma: extern "C" fn(f64, f64, f64) -> f64 =
            unsafe { std::mem::transmute(libcall_address(9)) };
        assert_eq!(fma(0.1, 10.0, -1.0), 0.1f64.mul_add(10.0, -1.0));
    }
}
