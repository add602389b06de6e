//! Bounds-checked access to guest linear memory. Every pointer a guest
//! passes is checked here; a bad one is the `fault` errno, never a panic.

use crate::types::{Errno, WasiResult};

/// The calling instance's linear memory (its export named `memory`).
pub(crate) struct Mem<'a> {
    data: &'a mut [u8],
}

/// The most bytes one read or write call moves through a host buffer; a
/// larger request is a short read or write, which every caller must
/// already handle.
pub(crate) const MAX_TRANSFER: usize = 16 << 20;

impl<'a> Mem<'a> {
    pub(crate) fn new(data: &'a mut [u8]) -> Mem<'a> {
        Mem { data }
    }

    fn range(&self, ptr: u32, len: u32) -> WasiResult<std::ops::Range<usize>> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.data.len() {
            return Err(Errno::FAULT);
        }
        Ok(start..end)
    }

    pub(crate) fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len)?;
        Ok(&self.data[r])
    }

    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.data[r])
    }

    /// Writes `bytes` at `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> WasiResult {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    fn read_array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
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
        self.range(ptr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = ptr.checked_add(i * 8).ok_or(Errno::FAULT)?;
            let buf = self.read_u32(at)?;
            let len = self.read_u32(at.checked_add(4).ok_or(Errno::FAULT)?)?;
            self.range(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }

    /// The bytes of a `ciovec` array, concatenated (at most
    /// [`MAX_TRANSFER`] of them).
    pub(crate) fn gather(&self, ptr: u32, count: u32) -> WasiResult<Vec<u8>> {
        let mut out = Vec::new();
        for (buf, len) in self.iovecs(ptr, count)? {
            let take = (len as usize).min(MAX_TRANSFER - out.len());
            out.extend_from_slice(&self.slice(buf, len)?[..take]);
            if out.len() == MAX_TRANSFER {
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
        use std::os::unix::ffi::OsStrExt;
        let bytes = self.slice(ptr, len)?;
        if bytes.contains(&0) {
            return Err(Errno::ILSEQ);
        }
        Ok(std::ffi::OsStr::from_bytes(bytes).into())
    }
}
