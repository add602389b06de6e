//! The cell encoding of values, shared by every tier, the host calling
//! convention, globals, tables and the C API.

/// Conversion between a typed value and its untyped slot encoding. Integers
/// are zero-extended, floats stored as their bits, so `reinterpret` is a
/// plain copy. Every slot write goes through this encoding (or copies a
/// slot), so the upper half of an i32 slot is always zero; branches rely on
/// that to test i32 and i64 conditions with one instruction.
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
