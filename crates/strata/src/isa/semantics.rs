//! Numeric semantics that are more than one Rust operator: float min/max and
//! rounding, checked and saturating float-to-int conversions, checked
//! division. The instruction table (`isa/numeric.rs`) refers here, so each
//! semantic is written once for the interpreter and constant evaluation.
//! The JIT does not use them: it lowers each instruction to the Cranelift
//! instruction with the same semantics (`jit/numeric.rs`).

use crate::Trap;

/// A float type as WebAssembly sees it.
pub(crate) trait Float: Copy + PartialOrd {
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn add(self, other: Self) -> Self;
    fn to_f64(self) -> f64;
}

impl Float for f32 {
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f32::is_sign_negative(self)
    }
    fn add(self, other: f32) -> f32 {
        self + other
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f64::is_sign_negative(self)
    }
    fn add(self, other: f64) -> f64 {
        self + other
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// `fNN.min`: NaN if either operand is NaN (adding propagates and quiets
/// it), and -0 is less than +0.
pub(crate) fn fmin<F: Float>(a: F, b: F) -> F {
    if a.is_nan() || b.is_nan() {
        return a.add(b);
    }
    if a == b {
        // Equal but possibly zeros of different sign: prefer the negative.
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b {
        a
    } else {
        b
    }
}

/// `fNN.max`: NaN if either operand is NaN, and +0 is greater than -0.
pub(crate) fn fmax<F: Float>(a: F, b: F) -> F {
    if a.is_nan() || b.is_nan() {
        return a.add(b);
    }
    if a == b {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b {
        a
    } else {
        b
    }
}

/// `fNN.ceil/floor/trunc/nearest`: a NaN operand gives a quiet NaN. (The
/// library rounding functions return a signalling NaN unchanged.)
pub(crate) fn round<F: Float>(x: F, f: impl Fn(F) -> F) -> F {
    if x.is_nan() {
        x.add(x)
    } else {
        f(x)
    }
}

/// Checked float-to-int truncation: NaN is an invalid conversion, a value
/// whose truncation falls outside `[min, max_exclusive)` overflows. Every
/// float fits in an `f64` exactly, so one implementation serves all eight
/// trapping conversions.
pub(crate) fn trunc_checked<F: Float>(x: F, min: f64, max_exclusive: f64) -> Result<f64, Trap> {
    let x = x.to_f64();
    if x.is_nan() {
        return Err(Trap::BadConversionToInteger);
    }
    let t = x.trunc();
    if t < min || t >= max_exclusive {
        return Err(Trap::IntegerOverflow);
    }
    Ok(t)
}

pub(crate) const I32_MIN: f64 = -2147483648.0;
pub(crate) const I32_END: f64 = 2147483648.0;
pub(crate) const U32_END: f64 = 4294967296.0;
pub(crate) const I64_MIN: f64 = -9223372036854775808.0;
pub(crate) const I64_END: f64 = 9223372036854775808.0;
pub(crate) const U64_END: f64 = 18446744073709551616.0;

/// Signed division: traps on zero and on `MIN / -1`.
pub(crate) fn div_s<I: SignedInt>(a: I, b: I) -> Result<I, Trap> {
    if b == I::ZERO {
        return Err(Trap::IntegerDivisionByZero);
    }
    a.checked_div(b).ok_or(Trap::IntegerOverflow)
}

/// Signed remainder: traps on zero; `MIN % -1` is 0.
pub(crate) fn rem_s<I: SignedInt>(a: I, b: I) -> Result<I, Trap> {
    if b == I::ZERO {
        return Err(Trap::IntegerDivisionByZero);
    }
    Ok(a.wrapping_rem(b))
}

/// Unsigned division and remainder trap on zero.
pub(crate) fn div_u<I: SignedInt>(a: I, b: I) -> Result<I, Trap> {
    if b == I::ZERO {
        return Err(Trap::IntegerDivisionByZero);
    }
    Ok(a.udiv(b))
}

/// Unsigned remainder; traps on zero.
pub(crate) fn rem_u<I: SignedInt>(a: I, b: I) -> Result<I, Trap> {
    if b == I::ZERO {
        return Err(Trap::IntegerDivisionByZero);
    }
    Ok(a.urem(b))
}

/// The integer operations the division helpers need.
pub(crate) trait SignedInt: Copy + PartialEq {
    const ZERO: Self;
    fn checked_div(self, b: Self) -> Option<Self>;
    fn wrapping_rem(self, b: Self) -> Self;
    fn udiv(self, b: Self) -> Self;
    fn urem(self, b: Self) -> Self;
}

macro_rules! signed_int {
    ($($s:ty, $u:ty;)*) => {$(
        impl SignedInt for $s {
            const ZERO: Self = 0;
            fn checked_div(self, b: Self) -> Option<Self> {
                <$s>::checked_div(self, b)
            }
            fn wrapping_rem(self, b: Self) -> Self {
                <$s>::wrapping_rem(self, b)
            }
            fn udiv(self, b: Self) -> Self {
                ((self as $u) / (b as $u)) as $s
            }
            fn urem(self, b: Self) -> Self {
                ((self as $u) % (b as $u)) as $s
            }
        }
    )*};
}

signed_int! {
    i32, u32;
    i64, u64;
}

/// The wide-arithmetic instructions: 128-bit results as `(low, high)`
/// halves. `i64.add128` and `i64.sub128` take both operands as halves.
pub(crate) fn add128(al: u64, ah: u64, bl: u64, bh: u64) -> (u64, u64) {
    split128(join128(al, ah).wrapping_add(join128(bl, bh)))
}

/// `i64.sub128`.
pub(crate) fn sub128(al: u64, ah: u64, bl: u64, bh: u64) -> (u64, u64) {
    split128(join128(al, ah).wrapping_sub(join128(bl, bh)))
}

/// `i64.mul_wide_s`: the full signed product.
pub(crate) fn mul_wide_s(a: u64, b: u64) -> (u64, u64) {
    split128((i128::from(a as i64) * i128::from(b as i64)) as u128)
}

/// `i64.mul_wide_u`: the full unsigned product.
pub(crate) fn mul_wide_u(a: u64, b: u64) -> (u64, u64) {
    split128(u128::from(a) * u128::from(b))
}

fn join128(low: u64, high: u64) -> u128 {
    u128::from(low) | (u128::from(high) << 64)
}

fn split128(v: u128) -> (u64, u64) {
    (v as u64, (v >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zeros_and_nan() {
        assert!(fmin(0.0f32, -0.0).is_sign_negative());
        assert!(fmin(-0.0f32, 0.0).is_sign_negative());
        assert!(!fmax(-0.0f64, 0.0).is_sign_negative());
        assert!(fmin(f32::NAN, 1.0).is_nan());
        assert!(fmax(1.0, f64::NAN).is_nan());
        assert_eq!(fmin(1.0f64, 2.0), 1.0);
        assert_eq!(fmax(1.0f32, 2.0), 2.0);
    }

    #[test]
    fn truncation_bounds() {
        assert_eq!(
            trunc_checked(-2147483648.9f64, I32_MIN, I32_END),
            Ok(-2147483648.0)
        );
        assert_eq!(
            trunc_checked(2147483648.0f64, I32_MIN, I32_END),
            Err(Trap::IntegerOverflow)
        );
        assert_eq!(trunc_checked(-0.9f32, 0.0, U32_END), Ok(0.0));
        assert_eq!(
            trunc_checked(f32::NAN, 0.0, U32_END),
            Err(Trap::BadConversionToInteger)
        );
    }

    #[test]
    fn wide_arithmetic() {
        assert_eq!(add128(u64::MAX, 0, 1, 0), (0, 1));
        assert_eq!(sub128(0, 0, 1, 0), (u64::MAX, u64::MAX));
        assert_eq!(mul_wide_s(-1i64 as u64, 2), (-2i64 as u64, u64::MAX));
        assert_eq!(mul_wide_u(u64::MAX, 2), (u64::MAX - 1, 1));
    }

    #[test]
    fn division() {
        assert_eq!(div_s(i32::MIN, -1), Err(Trap::IntegerOverflow));
        assert_eq!(rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(div_u(-1i32, 2), Ok(0x7fff_ffff));
        assert_eq!(rem_u(5i64, 0), Err(Trap::IntegerDivisionByZero));
    }
}
