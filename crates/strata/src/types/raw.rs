//! The cell encoding of values, written once for every tier, the host
//! calling convention, globals, tables, constant expressions and the C API.
//!
//! Every value lives in 64-bit cells: one cell per value, two adjacent
//! cells for a `v128` (low half first, so the cells' bytes in memory are
//! the vector's little-endian bytes). Within a cell, integers are
//! zero-extended, floats are stored as their bits (NaN payloads survive,
//! and `reinterpret` is a plain copy), and a reference is its raw
//! representation (0 is null). Every cell write goes through this encoding
//! (or copies a cell), so the upper half of an i32 cell is always zero;
//! branches rely on that to test i32 and i64 conditions with one
//! instruction.
//!
//! A call passes its arguments in a buffer of cells and gets its results
//! back in the same buffer (`FuncType::buffer_cells` cells); parameter and
//! result `i` start at `FuncType::param_cell(i)` / `result_cell(i)`.

use super::ValType;

/// Conversion between a one-cell value of a Rust type and its cell.
pub(crate) trait Raw: Sized {
    fn from_raw(raw: u64) -> Self;
    fn to_raw(self) -> u64;
}

macro_rules! raw_impls {
    ($($t:ty: |$v:ident| $to:expr, |$r:ident| $from:expr;)*) => {$(
        impl Raw for $t {
            #[inline(always)]
            fn from_raw($r: u64) -> Self { $from }
            #[inline(always)]
            fn to_raw(self) -> u64 { let $v = self; $to }
        }
    )*};
}

raw_impls! {
    i32: |v| v as u32 as u64, |r| r as u32 as i32;
    u32: |v| v as u64, |r| r as u32;
    i64: |v| v as u64, |r| r as i64;
    u64: |v| v, |r| r;
    f32: |v| v.to_bits() as u64, |r| f32::from_bits(r as u32);
    f64: |v| v.to_bits(), |r| f64::from_bits(r);
}

/// The two cells of a `v128`, low half first.
#[inline]
pub(crate) fn v128_to_cells(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

/// The `v128` in two cells, low half first.
#[inline]
pub(crate) fn v128_from_cells(low: u64, high: u64) -> u128 {
    u128::from(low) | (u128::from(high) << 64)
}

/// The bytes of a `v128` in two cells (`isa::lanes::V128`), low cell first.
#[inline]
pub(crate) fn v128_bytes_from_cells(low: u64, high: u64) -> [u8; 16] {
    v128_from_cells(low, high).to_le_bytes()
}

/// The two cells of a `v128` given as its bytes.
#[inline]
pub(crate) fn v128_bytes_to_cells(bytes: [u8; 16]) -> [u64; 2] {
    v128_to_cells(u128::from_le_bytes(bytes))
}

impl ValType {
    /// How many cells a value of this type takes: 2 for `v128`, else 1.
    #[inline]
    pub(crate) fn cells(&self) -> usize {
        match self {
            ValType::V128 => 2,
            _ => 1,
        }
    }
}

/// Where each value of `types` starts when they are laid out one after
/// another in cells, and how many cells they take in all.
pub(crate) fn cell_offsets(types: &[ValType]) -> (Vec<u32>, u32) {
    let mut at = 0u32;
    let offsets = types
        .iter()
        .map(|t| {
            let start = at;
            at += t.cells() as u32;
            start
        })
        .collect();
    (offsets, at)
}
