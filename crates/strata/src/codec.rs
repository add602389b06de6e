//! The little-endian byte encoding of Strata's own file formats
//! (ahead-of-time artifacts and compile-cache entries): a writer that
//! appends to a `Vec<u8>`, and a reader that never panics on damaged
//! input, failing with "truncated" instead.

use anyhow::{bail, Result};

/// Appends values to a byte vector.
#[derive(Default)]
pub(crate) struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A length (which must fit in 32 bits: the formats refuse anything
    /// larger when reading, so writing one would make an unreadable file).
    pub fn len(&mut self, n: usize) -> Result<()> {
        let Ok(n) = u32::try_from(n) else {
            bail!("{n} is too large for Strata's artifact format");
        };
        self.u32(n);
        Ok(())
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.len(b.len())?;
        self.bytes.extend_from_slice(b);
        Ok(())
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) -> Result<()> {
        self.bytes(s.as_bytes())
    }
}

/// Reads values written by [`Writer`], failing (never panicking) when the
/// input ends early or holds nonsense.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.bytes.len() {
            bail!("the data is truncated");
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32> {
        let mut b = [0; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let mut b = [0; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    /// A count of items each at least `min_size` bytes long: refused when
    /// the rest of the input could not hold them, so a damaged count never
    /// makes the caller allocate for it.
    pub fn count(&mut self, min_size: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.bytes.len() {
            bail!("the data is truncated");
        }
        Ok(n)
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        match std::str::from_utf8(self.bytes()?) {
            Ok(s) => Ok(s),
            Err(_) => bail!("a string is not UTF-8"),
        }
    }
}
