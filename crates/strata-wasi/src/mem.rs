//! Bounds-checked access to guest linear memory. Every pointer a guest
//! passes is checked here; a bad one is the `fault` errno, never a panic.
//!
//! The memory is reached through a raw base pointer and a length, never
//! through a Rust slice held across the call: a shared memory may be
//! written by other threads at any moment, and a `&mut [u8]` (or `&[u8]`)
//! over it would promise Rust that nobody else does. Every access is a
//! copy between guest memory and a host buffer (`read`/`write` and the
//! fixed-width helpers built on them), so the same code serves unshared
//! and shared memories. This is the only module of the crate with
//! `unsafe` code.

use crate::types::{Errno, WasiResult};
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// The word in which shared memory is copied.
const WORD: usize = std::mem::size_of::<usize>();

/// The calling instance's linear memory (its export named `memory`), for
/// the duration of one WASI call.
pub(crate) struct Mem<'a> {
    /// The first byte of the memory.
    base: *mut u8,
    /// Its length in bytes when the call started. A shared memory only
    /// grows, and never moves, so the bytes below `len` stay valid for the
    /// whole call whatever other threads do.
    len: usize,
    /// Whether other threads may access the memory concurrently. Copies
    /// then go through relaxed atomic loads and stores (aligned words, and
    /// single bytes at the unaligned ends), so each byte is read or
    /// written once, untorn, which is all the threads proposal promises for
    /// non-atomic accesses: a racing guest thread is a race in the guest's
    /// program, not a data race in Strata.
    shared: bool,
    /// Ties the pointer to the borrow of the memory it came from.
    _borrow: PhantomData<&'a [UnsafeCell<u8>]>,
}

/// The most bytes one read or write call moves through a host buffer; a
/// larger request is a short read or write, which every caller must
/// already handle.
pub(crate) const MAX_TRANSFER: usize = 16 << 20;

impl<'a> Mem<'a> {
    /// An unshared memory the caller holds exclusively for `'a`.
    pub(crate) fn new(data: &'a mut [u8]) -> Mem<'a> {
        Mem {
            base: data.as_mut_ptr(),
            len: data.len(),
            shared: false,
            _borrow: PhantomData,
        }
    }

    /// A shared memory: its bytes may change under us at any time, which
    /// `UnsafeCell` allows.
    pub(crate) fn shared(data: &'a [UnsafeCell<u8>]) -> Mem<'a> {
        Mem {
            // `UnsafeCell<u8>` has the layout of `u8`, and writing through
            // a pointer derived from a shared reference to an `UnsafeCell`
            // is allowed.
            base: UnsafeCell::raw_get(data.as_ptr()),
            len: data.len(),
            shared: true,
            _borrow: PhantomData,
        }
    }

    /// The offset of `ptr` once `[ptr, ptr + len)` is known to lie inside
    /// memory.
    pub(crate) fn check(&self, ptr: u32, len: u32) -> WasiResult<usize> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.len {
            return Err(Errno::FAULT);
        }
        Ok(start)
    }

    /// Fills `out` from guest memory at `ptr`.
    pub(crate) fn read(&self, ptr: u32, out: &mut [u8]) -> WasiResult {
        let len = u32::try_from(out.len()).map_err(|_| Errno::FAULT)?;
        let at = self.check(ptr, len)?;
        // SAFETY: `[at, at + out.len())` is in bounds (checked above), and
        // `out` is a writable host buffer of that length.
        unsafe { self.copy_out(at, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copies `len` bytes of guest memory at offset `at` to `dst`.
    ///
    /// # Safety
    /// `[at, at + len)` must be in bounds (`check`), and `dst` valid for
    /// `len` bytes of writes; `dst` is host memory, so it cannot overlap
    /// guest memory.
    unsafe fn copy_out(&self, at: usize, dst: *mut u8, len: usize) {
        if self.shared {
            // SAFETY: in bounds of a memory that stays mapped for `'a`, and
            // `dst` is valid (the caller's contract).
            unsafe { load_shared(self.base.add(at), dst, len) };
        } else {
            // SAFETY: in bounds of a memory borrowed exclusively for `'a`;
            // `dst` is valid and is host memory (the caller's contract).
            unsafe { std::ptr::copy_nonoverlapping(self.base.add(at), dst, len) };
        }
    }

    /// `len` bytes of guest memory at `ptr`, copied out.
    pub(crate) fn read_vec(&self, ptr: u32, len: u32) -> WasiResult<Vec<u8>> {
        // Checked first, so a guest cannot make the host allocate more than
        // the memory it already has.
        self.check(ptr, len)?;
        let mut out = vec![0; len as usize];
        self.read(ptr, &mut out)?;
        Ok(out)
    }

    /// Writes `bytes` at `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> WasiResult {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::FAULT)?;
        let at = self.check(ptr, len)?;
        if self.shared {
            // SAFETY: `[at, at + bytes.len())` is in bounds (checked above)
            // of a memory that stays mapped for `'a`.
            unsafe { store_shared(bytes, self.base.add(at)) };
        } else {
            // SAFETY: `[at, at + bytes.len())` is in bounds (checked above)
            // of a memory borrowed exclusively for `'a`; `bytes` is a host
            // buffer, so the ranges cannot overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base.add(at), bytes.len())
            };
        }
        Ok(())
    }

    fn read_array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let mut out = [0; N];
        self.read(ptr, &mut out)?;
        Ok(out)
    }

    pub(crate) fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.read_array::<1>(ptr)?[0])
    }

    pub(crate) fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.read_array(ptr)?))
    }

    pub(crate) fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.read_array(ptr)?))
    }

    pub(crate) fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.read_array(ptr)?))
    }

    pub(crate) fn write_u8(&mut self, ptr: u32, v: u8) -> WasiResult {
        self.write(ptr, &[v])
    }

    pub(crate) fn write_u16(&mut self, ptr: u32, v: u16) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The `(buf, buf_len)` pairs of an `iovec`/`ciovec` array, each
    /// already checked to lie inside memory.
    pub(crate) fn iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        let bytes = count.checked_mul(8).ok_or(Errno::FAULT)?;
        self.check(ptr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = ptr.checked_add(i * 8).ok_or(Errno::FAULT)?;
            let buf = self.read_u32(at)?;
            let len = self.read_u32(at.checked_add(4).ok_or(Errno::FAULT)?)?;
            self.check(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }

    /// The bytes of a `ciovec` array, concatenated (at most
    /// [`MAX_TRANSFER`] of them): one copy from each guest buffer straight
    /// into the host buffer the write call takes.
    pub(crate) fn gather(&self, ptr: u32, count: u32) -> WasiResult<Vec<u8>> {
        let iovs = self.iovecs(ptr, count)?;
        let total = Self::iovecs_len(&iovs);
        // Filled straight from guest memory, never zeroed first: a write
        // call would otherwise touch every byte twice.
        let mut out: Vec<u8> = Vec::with_capacity(total);
        for (buf, len) in iovs {
            let take = (len as usize).min(total - out.len());
            // `take <= len`, and `iovecs` checked `[buf, buf + len)`.
            let at = self.check(buf, len)?;
            // SAFETY: `[at, at + take)` is in bounds, and the spare capacity
            // holds `total - out.len() >= take` bytes; once they are
            // written, the vector may count them.
            unsafe {
                self.copy_out(at, out.as_mut_ptr().add(out.len()), take);
                out.set_len(out.len() + take);
            }
            if out.len() == total {
                break;
            }
        }
        Ok(out)
    }

    /// The total length of an `iovec` array (capped at
    /// [`MAX_TRANSFER`]), for sizing a host read buffer.
    pub(crate) fn iovecs_len(iovs: &[(u32, u32)]) -> usize {
        iovs.iter()
            .fold(0usize, |acc, (_, len)| acc.saturating_add(*len as usize))
            .min(MAX_TRANSFER)
    }

    /// Copies `data` into the buffers of an `iovec` array, in order.
    pub(crate) fn scatter(&mut self, iovs: &[(u32, u32)], mut data: &[u8]) -> WasiResult {
        for &(buf, len) in iovs {
            if data.is_empty() {
                break;
            }
            let n = (len as usize).min(data.len());
            self.write(buf, &data[..n])?;
            data = &data[n..];
        }
        Ok(())
    }

    /// A path argument. Preview1 paths are byte strings; the host (Unix)
    /// takes them as they are, except that an embedded NUL cannot reach
    /// the host and is `ilseq`.
    pub(crate) fn path(&self, ptr: u32, len: u32) -> WasiResult<std::path::PathBuf> {
        use std::os::unix::ffi::OsStringExt;
        let bytes = self.read_vec(ptr, len)?;
        if bytes.contains(&0) {
            return Err(Errno::ILSEQ);
        }
        Ok(std::ffi::OsString::from_vec(bytes).into())
    }
}

/// How many bytes from `addr` to the next word boundary, at most `len`.
fn head_len(addr: usize, len: usize) -> usize {
    (addr.wrapping_neg() % WORD).min(len)
}

/// Copies `len` bytes of shared memory at `src` to `dst` with relaxed
/// atomic loads: bytes up to a word boundary, then whole words, then the
/// last bytes.
///
/// # Safety
/// `[src, src + len)` must lie in a shared memory that stays mapped for the
/// call (every access to it from this crate is atomic), and `dst` must be
/// host memory valid for `len` bytes of writes.
unsafe fn load_shared(src: *mut u8, dst: *mut u8, len: usize) {
    let head = head_len(src as usize, len);
    let words = (len - head) / WORD;
    for i in (0..head).chain(head + words * WORD..len) {
        // SAFETY: `i < len`, so both are in range (the caller's contract);
        // `AtomicU8` has the layout and alignment of `u8`.
        unsafe {
            dst.add(i)
                .write(AtomicU8::from_ptr(src.add(i)).load(Ordering::Relaxed))
        };
    }
    for w in 0..words {
        let i = head + w * WORD;
        // SAFETY: `src + head` is word-aligned (`head_len`) and the word
        // ends at or before `len`; `dst` needs no alignment.
        unsafe {
            let value = AtomicUsize::from_ptr(src.add(i).cast()).load(Ordering::Relaxed);
            dst.add(i).cast::<usize>().write_unaligned(value);
        }
    }
}

/// Copies `bytes` into shared memory at `dst` with relaxed atomic stores,
/// in the same pieces as [`load_shared`].
///
/// # Safety
/// `[dst, dst + bytes.len())` must lie in a shared memory that stays
/// mapped for the call.
unsafe fn store_shared(bytes: &[u8], dst: *mut u8) {
    let head = head_len(dst as usize, bytes.len());
    let (first, rest) = bytes.split_at(head);
    for (i, &byte) in first.iter().enumerate() {
        // SAFETY: in bounds (the caller's contract).
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(byte, Ordering::Relaxed);
    }
    // SAFETY: `head` bytes further on is still inside the range.
    let dst = unsafe { dst.add(head) };
    let words = rest.chunks_exact(WORD);
    let done = rest.len() / WORD * WORD;
    let tail = words.remainder();
    for (i, word) in words.enumerate() {
        let mut value = [0; WORD];
        value.copy_from_slice(word);
        // SAFETY: word-aligned and inside the range, as in `load_shared`.
        unsafe { AtomicUsize::from_ptr(dst.add(i * WORD).cast()) }
            .store(usize::from_ne_bytes(value), Ordering::Relaxed);
    }
    for (i, &byte) in tail.iter().enumerate() {
        // SAFETY: as for the head.
        unsafe { AtomicU8::from_ptr(dst.add(done + i)) }.store(byte, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshared_reads_and_writes_are_bounds_checked() {
        let mut data = vec![0u8; 16];
        let mut mem = Mem::new(&mut data);
        mem.write_u32(12, 0x0403_0201).unwrap();
        assert_eq!(mem.read_u32(12), Ok(0x0403_0201));
        assert_eq!(mem.write_u32(13, 1), Err(Errno::FAULT));
        assert_eq!(mem.read_u64(u32::MAX), Err(Errno::FAULT));
        assert_eq!(mem.read_vec(0, 17), Err(Errno::FAULT));
        assert_eq!(data[12..], [1, 2, 3, 4]);
    }

    #[test]
    fn shared_memory_is_written_through_cells() {
        let cells: Vec<UnsafeCell<u8>> = (0..8).map(UnsafeCell::new).collect();
        let mut mem = Mem::shared(&cells);
        assert_eq!(mem.read_vec(2, 3), Ok(vec![2, 3, 4]));
        mem.write(6, &[9, 9]).unwrap();
        assert_eq!(mem.write(7, &[1, 1]), Err(Errno::FAULT));
        let bytes: Vec<u8> = cells.into_iter().map(UnsafeCell::into_inner).collect();
        assert_eq!(bytes, [0, 1, 2, 3, 4, 5, 9, 9]);
    }

    #[test]
    fn shared_copies_agree_with_plain_ones_at_every_alignment() {
        let cells: Vec<UnsafeCell<u8>> = (0..64).map(|_| UnsafeCell::new(0)).collect();
        let mut mem = Mem::shared(&cells);
        let pattern: Vec<u8> = (0..40).map(|i| i * 3 + 1).collect();
        for start in 0..12u32 {
            for len in [0usize, 1, 7, 8, 9, 17, 40] {
                mem.write(0, &[0; 64]).unwrap();
                mem.write(start, &pattern[..len]).unwrap();
                let mut expected = vec![0u8; 64];
                expected[start as usize..start as usize + len].copy_from_slice(&pattern[..len]);
                assert_eq!(mem.read_vec(0, 64), Ok(expected), "start {start} len {len}");
                assert_eq!(mem.read_vec(start, len as u32), Ok(pattern[..len].to_vec()));
            }
        }
    }

    #[test]
    fn gather_reads_shared_memory_at_odd_offsets() {
        let cells: Vec<UnsafeCell<u8>> = (0..96).map(UnsafeCell::new).collect();
        let mut mem = Mem::shared(&cells);
        // Two iovecs at 0: (33, 13) and (50, 20).
        for (i, v) in [33u32, 13, 50, 20].into_iter().enumerate() {
            mem.write_u32(i as u32 * 4, v).unwrap();
        }
        let expected: Vec<u8> = (33..46).chain(50..70).collect();
        assert_eq!(mem.gather(0, 2), Ok(expected));
    }

    #[test]
    fn gather_and_scatter_follow_the_iovecs() {
        let mut data = vec![0u8; 64];
        let mut mem = Mem::new(&mut data);
        // Two iovecs at 0: (32, 3) and (40, 2).
        for (i, v) in [32u32, 3, 40, 2].into_iter().enumerate() {
            mem.write_u32(i as u32 * 4, v).unwrap();
        }
        mem.write(32, b"abc").unwrap();
        mem.write(40, b"de").unwrap();
        assert_eq!(mem.gather(0, 2), Ok(b"abcde".to_vec()));
        let iovs = mem.iovecs(0, 2).unwrap();
        mem.scatter(&iovs, b"vwxy").unwrap();
        assert_eq!(mem.read_vec(32, 3), Ok(b"vwx".to_vec()));
        assert_eq!(mem.read_vec(40, 2), Ok(b"ye".to_vec()));
        // An iovec that reaches past the end is a fault.
        mem.write_u32(4, 33).unwrap();
        mem.write_u32(0, 32).unwrap();
        assert_eq!(mem.gather(0, 1), Err(Errno::FAULT));
    }
}
