//! Lane semantics of the SIMD instructions, written once for every consumer
//! of the SIMD table (`isa/simd.rs`): the interpreter's handlers and driver,
//! and constant evaluation.
//!
//! A `v128` is its 16 bytes as in memory, lane 0 first ([`V128`]), which
//! is also the bytes of its two cells (`types::raw`). The helpers below
//! split it into lanes of a Rust type, apply a scalar function per lane
//! and join the results. They are plain loops over byte arrays, portable
//! to every host (no `std::arch`); as long as the bytes come from memory
//! (not from a `u128` in two general registers) the compiler turns the
//! simple ones into single vector instructions.

use super::semantics::{fmax, fmin, round, Float};

/// A `v128` value: its bytes, lane 0 first.
pub(crate) type V128 = [u8; 16];

/// A lane type: how it is read from and written to the vector's bytes.
pub(crate) trait Lane: Copy {
    /// The lane's width in bytes.
    const BYTES: usize;
    /// Reads the lane starting at `b[0]`.
    fn read(b: &[u8]) -> Self;
    /// Writes the lane to `b[..BYTES]`.
    fn write(self, b: &mut [u8]);
}

macro_rules! lanes {
    ($($t:ty: $n:literal),*) => {$(
        impl Lane for $t {
            const BYTES: usize = $n;
            #[inline(always)]
            fn read(b: &[u8]) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                <$t>::from_le_bytes(a)
            }
            #[inline(always)]
            fn write(self, b: &mut [u8]) {
                b[..$n].copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
lanes!(i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, f32: 4, f64: 8);

/// Lane `i` of `v` read as an `L`.
#[inline(always)]
pub(crate) fn lane<L: Lane>(v: V128, i: usize) -> L {
    L::read(&v[i * L::BYTES..])
}

/// `v` with lane `i` replaced by `x`.
#[inline(always)]
pub(crate) fn with_lane<L: Lane>(v: V128, i: usize, x: L) -> V128 {
    let mut b = v;
    x.write(&mut b[i * L::BYTES..]);
    b
}

/// Every lane of `x`.
#[inline(always)]
pub(crate) fn splat<L: Lane>(x: L) -> V128 {
    let mut b = [0u8; 16];
    for i in 0..16 / L::BYTES {
        x.write(&mut b[i * L::BYTES..]);
    }
    b
}

/// `f` on each lane (input and output lanes of the same width).
#[inline(always)]
pub(crate) fn map<L: Lane, R: Lane>(v: V128, f: impl Fn(L) -> R) -> V128 {
    let a = v;
    let mut o = [0u8; 16];
    for i in 0..16 / L::BYTES {
        f(L::read(&a[i * L::BYTES..])).write(&mut o[i * R::BYTES..]);
    }
    o
}

/// `f` on each pair of corresponding lanes.
#[inline(always)]
pub(crate) fn zip<L: Lane, R: Lane>(x: V128, y: V128, f: impl Fn(L, L) -> R) -> V128 {
    let (a, b) = (x, y);
    let mut o = [0u8; 16];
    for i in 0..16 / L::BYTES {
        let k = i * L::BYTES;
        f(L::read(&a[k..]), L::read(&b[k..])).write(&mut o[i * R::BYTES..]);
    }
    o
}

/// `f` on each triple of corresponding lanes.
#[inline(always)]
pub(crate) fn zip3<L: Lane>(x: V128, y: V128, z: V128, f: impl Fn(L, L, L) -> L) -> V128 {
    let (a, b, c) = (x, y, z);
    let mut o = [0u8; 16];
    for i in 0..16 / L::BYTES {
        let k = i * L::BYTES;
        f(L::read(&a[k..]), L::read(&b[k..]), L::read(&c[k..])).write(&mut o[k..]);
    }
    o
}

/// A comparison's lane: all ones when it holds.
#[inline(always)]
pub(crate) fn mask<R: From<i8>>(holds: bool) -> R {
    R::from(-(holds as i8))
}

/// Widening: output lane `i` is `f` of input lane `i` of the low half (or
/// of the high half, `high`) of `v`. Also serves conversions that read the
/// low half only (`f64x2.convert_low_i32x4_s`).
#[inline(always)]
pub(crate) fn widen<L: Lane, W: Lane>(v: V128, high: bool, f: impl Fn(L) -> W) -> V128 {
    let n = 16 / W::BYTES;
    let first = if high { n } else { 0 };
    let a = v;
    let mut o = [0u8; 16];
    for i in 0..n {
        f(L::read(&a[(first + i) * L::BYTES..])).write(&mut o[i * W::BYTES..]);
    }
    o
}

/// Widening of a pair: output lane `i` is `f` of lane `i` of the low (or
/// high) halves of `x` and `y` (`extmul`).
#[inline(always)]
pub(crate) fn widen2<L: Lane, W: Lane>(
    x: V128,
    y: V128,
    high: bool,
    f: impl Fn(L, L) -> W,
) -> V128 {
    let n = 16 / W::BYTES;
    let first = if high { n } else { 0 };
    let (a, b) = (x, y);
    let mut o = [0u8; 16];
    for i in 0..n {
        let k = (first + i) * L::BYTES;
        f(L::read(&a[k..]), L::read(&b[k..])).write(&mut o[i * W::BYTES..]);
    }
    o
}

/// Narrowing into the low lanes: output lane `i` is `f` of input lane `i`,
/// the remaining output lanes zero (`trunc_sat_f64x2_s_zero`,
/// `demote_f64x2_zero`).
#[inline(always)]
pub(crate) fn narrow_zero<L: Lane, N: Lane>(v: V128, f: impl Fn(L) -> N) -> V128 {
    let a = v;
    let mut o = [0u8; 16];
    for i in 0..16 / L::BYTES {
        f(L::read(&a[i * L::BYTES..])).write(&mut o[i * N::BYTES..]);
    }
    o
}

/// Narrowing of two vectors: the lanes of `x`, then those of `y`, each
/// through `f` (`narrow_i16x8_s`).
#[inline(always)]
pub(crate) fn narrow<L: Lane, N: Lane>(x: V128, y: V128, f: impl Fn(L) -> N) -> V128 {
    let n = 16 / L::BYTES;
    let (a, b) = (x, y);
    let mut o = [0u8; 16];
    for i in 0..n {
        f(L::read(&a[i * L::BYTES..])).write(&mut o[i * N::BYTES..]);
        f(L::read(&b[i * L::BYTES..])).write(&mut o[(n + i) * N::BYTES..]);
    }
    o
}

/// Pairwise: output lane `i` is `f` of input lanes `2i` and `2i + 1` of
/// `x` and of `y` (`extadd_pairwise` passes `y == x` and ignores it, `dot`
/// multiplies).
#[inline(always)]
pub(crate) fn pairwise<L: Lane, W: Lane>(
    x: V128,
    y: V128,
    f: impl Fn([L; 2], [L; 2]) -> W,
) -> V128 {
    let (a, b) = (x, y);
    let mut o = [0u8; 16];
    for i in 0..16 / W::BYTES {
        let (k0, k1) = (2 * i * L::BYTES, (2 * i + 1) * L::BYTES);
        let xs = [L::read(&a[k0..]), L::read(&a[k1..])];
        let ys = [L::read(&b[k0..]), L::read(&b[k1..])];
        f(xs, ys).write(&mut o[i * W::BYTES..]);
    }
    o
}

/// Whether every lane is non-zero.
#[inline(always)]
pub(crate) fn all_true<L: Lane + PartialEq + Default>(v: V128) -> i32 {
    let a = v;
    (0..16 / L::BYTES).all(|i| L::read(&a[i * L::BYTES..]) != L::default()) as i32
}

/// The lanes' sign bits, lane 0 in bit 0.
#[inline(always)]
pub(crate) fn bitmask<L: Lane + PartialOrd + Default>(v: V128) -> i32 {
    let a = v;
    let mut m = 0;
    for i in 0..16 / L::BYTES {
        if L::read(&a[i * L::BYTES..]) < L::default() {
            m |= 1 << i;
        }
    }
    m
}

/// `i8x16.swizzle`: lane `i` is lane `s[i]` of `v`, or 0 when `s[i]` is out
/// of range. Also the deterministic `i8x16.relaxed_swizzle`.
pub(crate) fn swizzle(v: V128, s: V128) -> V128 {
    let (a, idx) = (v, s);
    let mut o = [0u8; 16];
    for i in 0..16 {
        o[i] = a.get(usize::from(idx[i])).copied().unwrap_or(0);
    }
    o
}

/// `i8x16.shuffle`: lane `i` is lane `mask[i]` of the 32 lanes of `x` then
/// `y` (validation keeps the mask's lanes below 32).
pub(crate) fn shuffle(x: V128, y: V128, mask: V128) -> V128 {
    let (a, b, m) = (x, y, mask);
    let mut o = [0u8; 16];
    for i in 0..16 {
        let k = usize::from(m[i] & 31);
        o[i] = if k < 16 { a[k] } else { b[k - 16] };
    }
    o
}

/// `v128.bitselect`: bits of `x` where `c` is 1, of `y` where it is 0.
/// Also the deterministic `relaxed_laneselect`.
#[inline(always)]
pub(crate) fn bitselect(x: V128, y: V128, c: V128) -> V128 {
    zip3::<u8>(x, y, c, |x, y, c| (x & c) | (y & !c))
}

/// Rounding average of unsigned lanes.
#[inline(always)]
pub(crate) fn avgr<T: Into<u32>>(a: T, b: T) -> u32 {
    (a.into() + b.into()).div_ceil(2)
}

/// `i16x8.q15mulr_sat_s`: rounding, saturating Q15 multiplication. Also the
/// deterministic `i16x8.relaxed_q15mulr_s`.
#[inline(always)]
pub(crate) fn q15mulr(a: i16, b: i16) -> i16 {
    let p = (i32::from(a) * i32::from(b) + 0x4000) >> 15;
    p.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// `fNN.min` per lane (NaN wins, -0 < +0).
#[inline(always)]
pub(crate) fn lane_min<F: Float>(a: F, b: F) -> F {
    fmin(a, b)
}

/// `fNN.max` per lane.
#[inline(always)]
pub(crate) fn lane_max<F: Float>(a: F, b: F) -> F {
    fmax(a, b)
}

/// `pmin`: `b < a ? b : a`, as C's `std::min` (no NaN or zero special case).
#[inline(always)]
pub(crate) fn pmin<F: Float>(a: F, b: F) -> F {
    if b < a {
        b
    } else {
        a
    }
}

/// `pmax`: `a < b ? b : a`.
#[inline(always)]
pub(crate) fn pmax<F: Float>(a: F, b: F) -> F {
    if a < b {
        b
    } else {
        a
    }
}

/// A float rounding per lane, with the scalar instructions' NaN rule.
#[inline(always)]
pub(crate) fn lane_round<F: Float>(x: F, f: impl Fn(F) -> F) -> F {
    round(x, f)
}

/// Fused multiply-add, `a * b + c` rounded once: the deterministic
/// `relaxed_madd` (and, with `a` negated, `relaxed_nmadd`), the same in
/// every tier and on every host.
pub(crate) trait MulAdd: Copy {
    fn fma(self, b: Self, c: Self) -> Self;
}

impl MulAdd for f32 {
    #[inline(always)]
    fn fma(self, b: f32, c: f32) -> f32 {
        self.mul_add(b, c)
    }
}

impl MulAdd for f64 {
    #[inline(always)]
    fn fma(self, b: f64, c: f64) -> f64 {
        self.mul_add(b, c)
    }
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`, deterministically: both operands'
/// lanes signed, the pair's sum wrapping to 16 bits.
#[inline(always)]
pub(crate) fn dot_i8(a: [i8; 2], b: [i8; 2]) -> i16 {
    (i16::from(a[0]) * i16::from(b[0])).wrapping_add(i16::from(a[1]) * i16::from(b[1]))
}

/// `i32x4.relaxed_dot_i8x16_i7x16_add_s`, deterministically: the four
/// signed products of each 32-bit lane summed, plus the lane of `c`.
pub(crate) fn dot_i8_add(x: V128, y: V128, c: V128) -> V128 {
    let (a, b) = (x, y);
    let mut o = [0u8; 16];
    for i in 0..4 {
        let mut sum = lane::<i32>(c, i);
        for k in 4 * i..4 * i + 4 {
            sum = sum.wrapping_add(i32::from(a[k] as i8) * i32::from(b[k] as i8));
        }
        sum.write(&mut o[4 * i..]);
    }
    o
}

/// Loads that widen: each of the `8 / L::BYTES` lanes of `bytes` through
/// `f` (`v128.load8x8_s`, ...).
#[inline(always)]
pub(crate) fn load_extend<L: Lane, W: Lane>(bytes: [u8; 8], f: impl Fn(L) -> W) -> V128 {
    widen(load_zero(bytes), false, f)
}

/// Loads that zero the rest: the bytes in the low lanes.
#[inline(always)]
pub(crate) fn load_zero<const N: usize>(bytes: [u8; N]) -> V128 {
    let mut o = [0u8; 16];
    o[..N].copy_from_slice(&bytes);
    o
}

/// Loads that splat: the `N` bytes repeated in every lane.
#[inline(always)]
pub(crate) fn load_splat<const N: usize>(bytes: [u8; N]) -> V128 {
    let mut o = [0u8; 16];
    for chunk in o.chunks_exact_mut(N) {
        chunk.copy_from_slice(&bytes);
    }
    o
}

/// Lane loads: `v` with its `N`-byte lane `lane` replaced by `bytes`.
#[inline(always)]
pub(crate) fn load_lane<const N: usize>(v: V128, lane: usize, bytes: [u8; N]) -> V128 {
    let mut o = v;
    o[lane * N..lane * N + N].copy_from_slice(&bytes);
    o
}

/// Lane stores: the `N`-byte lane `lane` of `v`.
#[inline(always)]
pub(crate) fn store_lane<const N: usize>(v: V128, lane: usize) -> [u8; N] {
    let mut o = [0u8; N];
    o.copy_from_slice(&v[lane * N..lane * N + N]);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_little_endian() {
        let v = 0x0f0e0d0c0b0a09080706050403020100u128.to_le_bytes();
        assert_eq!(lane::<u8>(v, 0), 0);
        assert_eq!(lane::<u8>(v, 15), 15);
        assert_eq!(lane::<u32>(v, 1), 0x07060504);
        assert_eq!(
            u128::from_le_bytes(with_lane::<u16>(v, 7, 0xffff)) >> 112,
            0xffff
        );
        assert_eq!(
            splat::<u32>(7),
            0x00000007_00000007_00000007_00000007u128.to_le_bytes()
        );
    }

    #[test]
    fn shuffles_and_swizzles() {
        let x = 0x0f0e0d0c0b0a09080706050403020100u128.to_le_bytes();
        let y = 0x1f1e1d1c1b1a19181716151413121110u128.to_le_bytes();
        let mask = 0x000102030405060708090a0b0c0d0e1fu128.to_le_bytes();
        let r = shuffle(x, y, mask);
        assert_eq!(lane::<u8>(r, 0), 0x1f);
        assert_eq!(lane::<u8>(r, 15), 0);
        assert_eq!(swizzle(x, splat::<u8>(200)), [0; 16]);
        assert_eq!(swizzle(x, splat::<u8>(3)), splat::<u8>(3));
    }

    #[test]
    fn widening_narrowing_and_masks() {
        let v = splat::<i8>(-2);
        assert_eq!(widen::<i8, i16>(v, true, i16::from), splat::<i16>(-2));
        let sat = narrow::<i16, i8>(splat::<i16>(300), [0; 16], |x| x.clamp(-128, 127) as i8);
        assert_eq!(lane::<i8>(sat, 0), 127);
        assert_eq!(lane::<i8>(sat, 8), 0);
        assert_eq!(bitmask::<i8>(v), 0xffff);
        assert_eq!(all_true::<i32>(with_lane::<i32>(v, 2, 0)), 0);
        assert_eq!(q15mulr(i16::MIN, i16::MIN), i16::MAX);
        assert_eq!(avgr(255u8, 254u8), 255);
    }
}
