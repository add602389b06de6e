//! The SIMD instructions (fixed-width SIMD of WebAssembly 2.0 and relaxed
//! SIMD of 3.0): one row each, with lane semantics from `isa/lanes.rs`
//! (whose items are in scope where a consumer expands a row's closure).
//!
//! Sections, by the shape of the instruction (a `v128` is its bytes,
//! `lanes::V128`):
//!
//! - `v_unary`: `v128 -> v128`;
//! - `v_binary`: `(v128, v128) -> v128`;
//! - `v_ternary`: `(v128, v128, v128) -> v128`;
//! - `v_test`: `v128 -> i32` (`any_true`, `all_true`, `bitmask`);
//! - `v_shift`: `(v128, i32) -> v128`, the shift count as `u32`;
//! - `v_splat`: a scalar of the given type `-> v128`;
//! - `v_extract`: `(v128, lane) -> scalar` of the given type;
//! - `v_replace`: `(v128, lane, scalar) -> v128`;
//! - `v_load`: the `N` bytes read from memory `-> v128`;
//! - `v_load_lane` / `v_store_lane`: lane accesses of `N` bytes.
//!
//! `i8x16.shuffle` (its 16 lane indices are a constant operand) and
//! `v128.store` are written by hand in each consumer.
//!
//! Relaxed SIMD rows compute the deterministic result (the same bits on
//! every host and in every tier, as `Config::relaxed_simd_deterministic`
//! promises): each is the fixed-width instruction it relaxes, or a fused
//! multiply-add. The interpreter always computes it; a `[?f]` column
//! lets the JIT pick the host's fastest instruction instead when the
//! deterministic switch is off.
//!
//! After `=>`, each row's Cranelift lowering (`jit/simd.rs` explains the
//! column), so both tiers come from the same rows.

/// The table of SIMD instructions. `$callback` receives the rows after
/// `$extra`, like `numeric_ops!`; `numeric_ops!(simd_ops cb)` hands `cb`
/// both tables, numeric rows first.
macro_rules! simd_ops {
    ($callback:ident $($extra:tt)*) => {
        $callback! {
            $($extra)*
            v_unary {
                V128Not = |a| map::<u8, u8>(a, |x| !x) => [bnot(I8X16)];
                I8x16Abs = |a| map::<i8, i8>(a, |x| x.wrapping_abs()) => [iabs(I8X16)];
                I8x16Neg = |a| map::<i8, i8>(a, |x| x.wrapping_neg()) => [ineg(I8X16)];
                I8x16Popcnt = |a| map::<u8, u8>(a, |x| x.count_ones() as u8) => [popcnt(I8X16)];
                I16x8Abs = |a| map::<i16, i16>(a, |x| x.wrapping_abs()) => [iabs(I16X8)];
                I16x8Neg = |a| map::<i16, i16>(a, |x| x.wrapping_neg()) => [ineg(I16X8)];
                I32x4Abs = |a| map::<i32, i32>(a, |x| x.wrapping_abs()) => [iabs(I32X4)];
                I32x4Neg = |a| map::<i32, i32>(a, |x| x.wrapping_neg()) => [ineg(I32X4)];
                I64x2Abs = |a| map::<i64, i64>(a, |x| x.wrapping_abs()) => [iabs(I64X2)];
                I64x2Neg = |a| map::<i64, i64>(a, |x| x.wrapping_neg()) => [ineg(I64X2)];
                I16x8ExtAddPairwiseI8x16S = |a| pairwise::<i8, i16>(a, a, |x, _| i16::from(x[0]) + i16::from(x[1])) => [@extadd_pairwise(I8X16, true)];
                I16x8ExtAddPairwiseI8x16U = |a| pairwise::<u8, u16>(a, a, |x, _| u16::from(x[0]) + u16::from(x[1])) => [@extadd_pairwise(I8X16, false)];
                I32x4ExtAddPairwiseI16x8S = |a| pairwise::<i16, i32>(a, a, |x, _| i32::from(x[0]) + i32::from(x[1])) => [@extadd_pairwise(I16X8, true)];
                I32x4ExtAddPairwiseI16x8U = |a| pairwise::<u16, u32>(a, a, |x, _| u32::from(x[0]) + u32::from(x[1])) => [@extadd_pairwise(I16X8, false)];
                I16x8ExtendLowI8x16S = |a| widen::<i8, i16>(a, false, i16::from) => [swiden_low(I8X16)];
                I16x8ExtendHighI8x16S = |a| widen::<i8, i16>(a, true, i16::from) => [swiden_high(I8X16)];
                I16x8ExtendLowI8x16U = |a| widen::<u8, u16>(a, false, u16::from) => [uwiden_low(I8X16)];
                I16x8ExtendHighI8x16U = |a| widen::<u8, u16>(a, true, u16::from) => [uwiden_high(I8X16)];
                I32x4ExtendLowI16x8S = |a| widen::<i16, i32>(a, false, i32::from) => [swiden_low(I16X8)];
                I32x4ExtendHighI16x8S = |a| widen::<i16, i32>(a, true, i32::from) => [swiden_high(I16X8)];
                I32x4ExtendLowI16x8U = |a| widen::<u16, u32>(a, false, u32::from) => [uwiden_low(I16X8)];
                I32x4ExtendHighI16x8U = |a| widen::<u16, u32>(a, true, u32::from) => [uwiden_high(I16X8)];
                I64x2ExtendLowI32x4S = |a| widen::<i32, i64>(a, false, i64::from) => [swiden_low(I32X4)];
                I64x2ExtendHighI32x4S = |a| widen::<i32, i64>(a, true, i64::from) => [swiden_high(I32X4)];
                I64x2ExtendLowI32x4U = |a| widen::<u32, u64>(a, false, u64::from) => [uwiden_low(I32X4)];
                I64x2ExtendHighI32x4U = |a| widen::<u32, u64>(a, true, u64::from) => [uwiden_high(I32X4)];
                F32x4Ceil = |a| map::<f32, f32>(a, |x| lane_round(x, f32::ceil)) => [ceil(F32X4)];
                F32x4Floor = |a| map::<f32, f32>(a, |x| lane_round(x, f32::floor)) => [floor(F32X4)];
                F32x4Trunc = |a| map::<f32, f32>(a, |x| lane_round(x, f32::trunc)) => [trunc(F32X4)];
                F32x4Nearest = |a| map::<f32, f32>(a, |x| lane_round(x, f32::round_ties_even)) => [nearest(F32X4)];
                F32x4Abs = |a| map::<f32, f32>(a, f32::abs) => [fabs(F32X4)];
                F32x4Neg = |a| map::<f32, f32>(a, |x| -x) => [fneg(F32X4)];
                F32x4Sqrt = |a| map::<f32, f32>(a, f32::sqrt) => [sqrt(F32X4)];
                F64x2Ceil = |a| map::<f64, f64>(a, |x| lane_round(x, f64::ceil)) => [ceil(F64X2)];
                F64x2Floor = |a| map::<f64, f64>(a, |x| lane_round(x, f64::floor)) => [floor(F64X2)];
                F64x2Trunc = |a| map::<f64, f64>(a, |x| lane_round(x, f64::trunc)) => [trunc(F64X2)];
                F64x2Nearest = |a| map::<f64, f64>(a, |x| lane_round(x, f64::round_ties_even)) => [nearest(F64X2)];
                F64x2Abs = |a| map::<f64, f64>(a, f64::abs) => [fabs(F64X2)];
                F64x2Neg = |a| map::<f64, f64>(a, |x| -x) => [fneg(F64X2)];
                F64x2Sqrt = |a| map::<f64, f64>(a, f64::sqrt) => [sqrt(F64X2)];
                // Rust's float-to-int `as` saturates and maps NaN to 0.
                I32x4TruncSatF32x4S = |a| map::<f32, i32>(a, |x| x as i32) => [fcvt_to_sint_sat(F32X4, I32X4)];
                I32x4TruncSatF32x4U = |a| map::<f32, u32>(a, |x| x as u32) => [fcvt_to_uint_sat(F32X4, I32X4)];
                F32x4ConvertI32x4S = |a| map::<i32, f32>(a, |x| x as f32) => [fcvt_from_sint(I32X4, F32X4)];
                F32x4ConvertI32x4U = |a| map::<u32, f32>(a, |x| x as f32) => [fcvt_from_uint(I32X4, F32X4)];
                I32x4TruncSatF64x2SZero = |a| narrow_zero::<f64, i32>(a, |x| x as i32) => [@trunc_sat_zero(true)];
                I32x4TruncSatF64x2UZero = |a| narrow_zero::<f64, u32>(a, |x| x as u32) => [@trunc_sat_zero(false)];
                F64x2ConvertLowI32x4S = |a| widen::<i32, f64>(a, false, f64::from) => [@convert_low(true)];
                F64x2ConvertLowI32x4U = |a| widen::<u32, f64>(a, false, f64::from) => [@convert_low(false)];
                F32x4DemoteF64x2Zero = |a| narrow_zero::<f64, f32>(a, |x| x as f32) => [fvdemote(F64X2)];
                F64x2PromoteLowF32x4 = |a| widen::<f32, f64>(a, false, f64::from) => [fvpromote_low(F32X4)];
                // Relaxed SIMD, deterministic: the saturating conversions.
                I32x4RelaxedTruncF32x4S = |a| map::<f32, i32>(a, |x| x as i32) => [?relaxed_trunc_s];
                I32x4RelaxedTruncF32x4U = |a| map::<f32, u32>(a, |x| x as u32) => [fcvt_to_uint_sat(F32X4, I32X4)];
                I32x4RelaxedTruncF64x2SZero = |a| narrow_zero::<f64, i32>(a, |x| x as i32) => [@trunc_sat_zero(true)];
                I32x4RelaxedTruncF64x2UZero = |a| narrow_zero::<f64, u32>(a, |x| x as u32) => [@trunc_sat_zero(false)];
            }
            v_binary {
                V128And = |a, b| zip::<u8, u8>(a, b, |x, y| x & y) => [band(I8X16)];
                V128AndNot = |a, b| zip::<u8, u8>(a, b, |x, y| x & !y) => [band_not(I8X16)];
                V128Or = |a, b| zip::<u8, u8>(a, b, |x, y| x | y) => [bor(I8X16)];
                V128Xor = |a, b| zip::<u8, u8>(a, b, |x, y| x ^ y) => [bxor(I8X16)];
                I8x16Swizzle = swizzle => [swizzle(I8X16)];
                I8x16Eq = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x == y)) => [icmp(I8X16, IntCC::Equal)];
                I8x16Ne = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x != y)) => [icmp(I8X16, IntCC::NotEqual)];
                I8x16LtS = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x < y)) => [icmp(I8X16, IntCC::SignedLessThan)];
                I8x16LtU = |a, b| zip::<u8, i8>(a, b, |x, y| mask(x < y)) => [icmp(I8X16, IntCC::UnsignedLessThan)];
                I8x16GtS = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x > y)) => [icmp(I8X16, IntCC::SignedGreaterThan)];
                I8x16GtU = |a, b| zip::<u8, i8>(a, b, |x, y| mask(x > y)) => [icmp(I8X16, IntCC::UnsignedGreaterThan)];
                I8x16LeS = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x <= y)) => [icmp(I8X16, IntCC::SignedLessThanOrEqual)];
                I8x16LeU = |a, b| zip::<u8, i8>(a, b, |x, y| mask(x <= y)) => [icmp(I8X16, IntCC::UnsignedLessThanOrEqual)];
                I8x16GeS = |a, b| zip::<i8, i8>(a, b, |x, y| mask(x >= y)) => [icmp(I8X16, IntCC::SignedGreaterThanOrEqual)];
                I8x16GeU = |a, b| zip::<u8, i8>(a, b, |x, y| mask(x >= y)) => [icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual)];
                I16x8Eq = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x == y)) => [icmp(I16X8, IntCC::Equal)];
                I16x8Ne = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x != y)) => [icmp(I16X8, IntCC::NotEqual)];
                I16x8LtS = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x < y)) => [icmp(I16X8, IntCC::SignedLessThan)];
                I16x8LtU = |a, b| zip::<u16, i16>(a, b, |x, y| mask(x < y)) => [icmp(I16X8, IntCC::UnsignedLessThan)];
                I16x8GtS = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x > y)) => [icmp(I16X8, IntCC::SignedGreaterThan)];
                I16x8GtU = |a, b| zip::<u16, i16>(a, b, |x, y| mask(x > y)) => [icmp(I16X8, IntCC::UnsignedGreaterThan)];
                I16x8LeS = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x <= y)) => [icmp(I16X8, IntCC::SignedLessThanOrEqual)];
                I16x8LeU = |a, b| zip::<u16, i16>(a, b, |x, y| mask(x <= y)) => [icmp(I16X8, IntCC::UnsignedLessThanOrEqual)];
                I16x8GeS = |a, b| zip::<i16, i16>(a, b, |x, y| mask(x >= y)) => [icmp(I16X8, IntCC::SignedGreaterThanOrEqual)];
                I16x8GeU = |a, b| zip::<u16, i16>(a, b, |x, y| mask(x >= y)) => [icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual)];
                I32x4Eq = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x == y)) => [icmp(I32X4, IntCC::Equal)];
                I32x4Ne = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x != y)) => [icmp(I32X4, IntCC::NotEqual)];
                I32x4LtS = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x < y)) => [icmp(I32X4, IntCC::SignedLessThan)];
                I32x4LtU = |a, b| zip::<u32, i32>(a, b, |x, y| mask(x < y)) => [icmp(I32X4, IntCC::UnsignedLessThan)];
                I32x4GtS = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x > y)) => [icmp(I32X4, IntCC::SignedGreaterThan)];
                I32x4GtU = |a, b| zip::<u32, i32>(a, b, |x, y| mask(x > y)) => [icmp(I32X4, IntCC::UnsignedGreaterThan)];
                I32x4LeS = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x <= y)) => [icmp(I32X4, IntCC::SignedLessThanOrEqual)];
                I32x4LeU = |a, b| zip::<u32, i32>(a, b, |x, y| mask(x <= y)) => [icmp(I32X4, IntCC::UnsignedLessThanOrEqual)];
                I32x4GeS = |a, b| zip::<i32, i32>(a, b, |x, y| mask(x >= y)) => [icmp(I32X4, IntCC::SignedGreaterThanOrEqual)];
                I32x4GeU = |a, b| zip::<u32, i32>(a, b, |x, y| mask(x >= y)) => [icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual)];
                I64x2Eq = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x == y)) => [icmp(I64X2, IntCC::Equal)];
                I64x2Ne = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x != y)) => [icmp(I64X2, IntCC::NotEqual)];
                I64x2LtS = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x < y)) => [icmp(I64X2, IntCC::SignedLessThan)];
                I64x2GtS = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x > y)) => [icmp(I64X2, IntCC::SignedGreaterThan)];
                I64x2LeS = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x <= y)) => [icmp(I64X2, IntCC::SignedLessThanOrEqual)];
                I64x2GeS = |a, b| zip::<i64, i64>(a, b, |x, y| mask(x >= y)) => [icmp(I64X2, IntCC::SignedGreaterThanOrEqual)];
                F32x4Eq = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x == y)) => [fcmp(F32X4, FloatCC::Equal)];
                F32x4Ne = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x != y)) => [fcmp(F32X4, FloatCC::NotEqual)];
                F32x4Lt = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x < y)) => [fcmp(F32X4, FloatCC::LessThan)];
                F32x4Gt = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x > y)) => [fcmp(F32X4, FloatCC::GreaterThan)];
                F32x4Le = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x <= y)) => [fcmp(F32X4, FloatCC::LessThanOrEqual)];
                F32x4Ge = |a, b| zip::<f32, i32>(a, b, |x, y| mask(x >= y)) => [fcmp(F32X4, FloatCC::GreaterThanOrEqual)];
                F64x2Eq = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x == y)) => [fcmp(F64X2, FloatCC::Equal)];
                F64x2Ne = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x != y)) => [fcmp(F64X2, FloatCC::NotEqual)];
                F64x2Lt = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x < y)) => [fcmp(F64X2, FloatCC::LessThan)];
                F64x2Gt = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x > y)) => [fcmp(F64X2, FloatCC::GreaterThan)];
                F64x2Le = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x <= y)) => [fcmp(F64X2, FloatCC::LessThanOrEqual)];
                F64x2Ge = |a, b| zip::<f64, i64>(a, b, |x, y| mask(x >= y)) => [fcmp(F64X2, FloatCC::GreaterThanOrEqual)];
                I8x16NarrowI16x8S = |a, b| narrow::<i16, i8>(a, b, |x| x.clamp(i8::MIN.into(), i8::MAX.into()) as i8) => [snarrow(I16X8)];
                I8x16NarrowI16x8U = |a, b| narrow::<i16, u8>(a, b, |x| x.clamp(0, u8::MAX.into()) as u8) => [unarrow(I16X8)];
                I16x8NarrowI32x4S = |a, b| narrow::<i32, i16>(a, b, |x| x.clamp(i16::MIN.into(), i16::MAX.into()) as i16) => [snarrow(I32X4)];
                I16x8NarrowI32x4U = |a, b| narrow::<i32, u16>(a, b, |x| x.clamp(0, u16::MAX.into()) as u16) => [unarrow(I32X4)];
                I8x16Add = |a, b| zip::<i8, i8>(a, b, |x, y| x.wrapping_add(y)) => [iadd(I8X16)];
                I8x16AddSatS = |a, b| zip::<i8, i8>(a, b, |x, y| x.saturating_add(y)) => [sadd_sat(I8X16)];
                I8x16AddSatU = |a, b| zip::<u8, u8>(a, b, |x, y| x.saturating_add(y)) => [uadd_sat(I8X16)];
                I8x16Sub = |a, b| zip::<i8, i8>(a, b, |x, y| x.wrapping_sub(y)) => [isub(I8X16)];
                I8x16SubSatS = |a, b| zip::<i8, i8>(a, b, |x, y| x.saturating_sub(y)) => [ssub_sat(I8X16)];
                I8x16SubSatU = |a, b| zip::<u8, u8>(a, b, |x, y| x.saturating_sub(y)) => [usub_sat(I8X16)];
                I8x16MinS = |a, b| zip::<i8, i8>(a, b, |x, y| x.min(y)) => [smin(I8X16)];
                I8x16MinU = |a, b| zip::<u8, u8>(a, b, |x, y| x.min(y)) => [umin(I8X16)];
                I8x16MaxS = |a, b| zip::<i8, i8>(a, b, |x, y| x.max(y)) => [smax(I8X16)];
                I8x16MaxU = |a, b| zip::<u8, u8>(a, b, |x, y| x.max(y)) => [umax(I8X16)];
                I8x16AvgrU = |a, b| zip::<u8, u8>(a, b, |x, y| avgr(x, y) as u8) => [avg_round(I8X16)];
                I16x8Q15MulrSatS = |a, b| zip::<i16, i16>(a, b, q15mulr) => [sqmul_round_sat(I16X8)];
                I16x8Add = |a, b| zip::<i16, i16>(a, b, |x, y| x.wrapping_add(y)) => [iadd(I16X8)];
                I16x8AddSatS = |a, b| zip::<i16, i16>(a, b, |x, y| x.saturating_add(y)) => [sadd_sat(I16X8)];
                I16x8AddSatU = |a, b| zip::<u16, u16>(a, b, |x, y| x.saturating_add(y)) => [uadd_sat(I16X8)];
                I16x8Sub = |a, b| zip::<i16, i16>(a, b, |x, y| x.wrapping_sub(y)) => [isub(I16X8)];
                I16x8SubSatS = |a, b| zip::<i16, i16>(a, b, |x, y| x.saturating_sub(y)) => [ssub_sat(I16X8)];
                I16x8SubSatU = |a, b| zip::<u16, u16>(a, b, |x, y| x.saturating_sub(y)) => [usub_sat(I16X8)];
                I16x8Mul = |a, b| zip::<i16, i16>(a, b, |x, y| x.wrapping_mul(y)) => [imul(I16X8)];
                I16x8MinS = |a, b| zip::<i16, i16>(a, b, |x, y| x.min(y)) => [smin(I16X8)];
                I16x8MinU = |a, b| zip::<u16, u16>(a, b, |x, y| x.min(y)) => [umin(I16X8)];
                I16x8MaxS = |a, b| zip::<i16, i16>(a, b, |x, y| x.max(y)) => [smax(I16X8)];
                I16x8MaxU = |a, b| zip::<u16, u16>(a, b, |x, y| x.max(y)) => [umax(I16X8)];
                I16x8AvgrU = |a, b| zip::<u16, u16>(a, b, |x, y| avgr(x, y) as u16) => [avg_round(I16X8)];
                I16x8ExtMulLowI8x16S = |a, b| widen2::<i8, i16>(a, b, false, |x, y| i16::from(x) * i16::from(y)) => [@extmul(I8X16, true, false)];
                I16x8ExtMulHighI8x16S = |a, b| widen2::<i8, i16>(a, b, true, |x, y| i16::from(x) * i16::from(y)) => [@extmul(I8X16, true, true)];
                I16x8ExtMulLowI8x16U = |a, b| widen2::<u8, u16>(a, b, false, |x, y| u16::from(x) * u16::from(y)) => [@extmul(I8X16, false, false)];
                I16x8ExtMulHighI8x16U = |a, b| widen2::<u8, u16>(a, b, true, |x, y| u16::from(x) * u16::from(y)) => [@extmul(I8X16, false, true)];
                I32x4Add = |a, b| zip::<i32, i32>(a, b, |x, y| x.wrapping_add(y)) => [iadd(I32X4)];
                I32x4Sub = |a, b| zip::<i32, i32>(a, b, |x, y| x.wrapping_sub(y)) => [isub(I32X4)];
                I32x4Mul = |a, b| zip::<i32, i32>(a, b, |x, y| x.wrapping_mul(y)) => [imul(I32X4)];
                I32x4MinS = |a, b| zip::<i32, i32>(a, b, |x, y| x.min(y)) => [smin(I32X4)];
                I32x4MinU = |a, b| zip::<u32, u32>(a, b, |x, y| x.min(y)) => [umin(I32X4)];
                I32x4MaxS = |a, b| zip::<i32, i32>(a, b, |x, y| x.max(y)) => [smax(I32X4)];
                I32x4MaxU = |a, b| zip::<u32, u32>(a, b, |x, y| x.max(y)) => [umax(I32X4)];
                I32x4DotI16x8S = |a, b| pairwise::<i16, i32>(a, b, |x, y| {
                    (i32::from(x[0]) * i32::from(y[0])).wrapping_add(i32::from(x[1]) * i32::from(y[1]))
                }) => [@dot(I16X8)];
                I32x4ExtMulLowI16x8S = |a, b| widen2::<i16, i32>(a, b, false, |x, y| i32::from(x) * i32::from(y)) => [@extmul(I16X8, true, false)];
                I32x4ExtMulHighI16x8S = |a, b| widen2::<i16, i32>(a, b, true, |x, y| i32::from(x) * i32::from(y)) => [@extmul(I16X8, true, true)];
                I32x4ExtMulLowI16x8U = |a, b| widen2::<u16, u32>(a, b, false, |x, y| u32::from(x) * u32::from(y)) => [@extmul(I16X8, false, false)];
                I32x4ExtMulHighI16x8U = |a, b| widen2::<u16, u32>(a, b, true, |x, y| u32::from(x) * u32::from(y)) => [@extmul(I16X8, false, true)];
                I64x2Add = |a, b| zip::<i64, i64>(a, b, |x, y| x.wrapping_add(y)) => [iadd(I64X2)];
                I64x2Sub = |a, b| zip::<i64, i64>(a, b, |x, y| x.wrapping_sub(y)) => [isub(I64X2)];
                I64x2Mul = |a, b| zip::<i64, i64>(a, b, |x, y| x.wrapping_mul(y)) => [imul(I64X2)];
                I64x2ExtMulLowI32x4S = |a, b| widen2::<i32, i64>(a, b, false, |x, y| i64::from(x) * i64::from(y)) => [@extmul(I32X4, true, false)];
                I64x2ExtMulHighI32x4S = |a, b| widen2::<i32, i64>(a, b, true, |x, y| i64::from(x) * i64::from(y)) => [@extmul(I32X4, true, true)];
                I64x2ExtMulLowI32x4U = |a, b| widen2::<u32, u64>(a, b, false, |x, y| u64::from(x) * u64::from(y)) => [@extmul(I32X4, false, false)];
                I64x2ExtMulHighI32x4U = |a, b| widen2::<u32, u64>(a, b, true, |x, y| u64::from(x) * u64::from(y)) => [@extmul(I32X4, false, true)];
                F32x4Add = |a, b| zip::<f32, f32>(a, b, |x, y| x + y) => [fadd(F32X4)];
                F32x4Sub = |a, b| zip::<f32, f32>(a, b, |x, y| x - y) => [fsub(F32X4)];
                F32x4Mul = |a, b| zip::<f32, f32>(a, b, |x, y| x * y) => [fmul(F32X4)];
                F32x4Div = |a, b| zip::<f32, f32>(a, b, |x, y| x / y) => [fdiv(F32X4)];
                F32x4Min = |a, b| zip::<f32, f32>(a, b, lane_min) => [fmin(F32X4)];
                F32x4Max = |a, b| zip::<f32, f32>(a, b, lane_max) => [fmax(F32X4)];
                F32x4PMin = |a, b| zip::<f32, f32>(a, b, pmin) => [@pmin(F32X4)];
                F32x4PMax = |a, b| zip::<f32, f32>(a, b, pmax) => [@pmax(F32X4)];
                F64x2Add = |a, b| zip::<f64, f64>(a, b, |x, y| x + y) => [fadd(F64X2)];
                F64x2Sub = |a, b| zip::<f64, f64>(a, b, |x, y| x - y) => [fsub(F64X2)];
                F64x2Mul = |a, b| zip::<f64, f64>(a, b, |x, y| x * y) => [fmul(F64X2)];
                F64x2Div = |a, b| zip::<f64, f64>(a, b, |x, y| x / y) => [fdiv(F64X2)];
                F64x2Min = |a, b| zip::<f64, f64>(a, b, lane_min) => [fmin(F64X2)];
                F64x2Max = |a, b| zip::<f64, f64>(a, b, lane_max) => [fmax(F64X2)];
                F64x2PMin = |a, b| zip::<f64, f64>(a, b, pmin) => [@pmin(F64X2)];
                F64x2PMax = |a, b| zip::<f64, f64>(a, b, pmax) => [@pmax(F64X2)];
                // Relaxed SIMD, deterministic.
                I8x16RelaxedSwizzle = swizzle => [?relaxed_swizzle];
                F32x4RelaxedMin = |a, b| zip::<f32, f32>(a, b, lane_min) => [fmin(F32X4)];
                F32x4RelaxedMax = |a, b| zip::<f32, f32>(a, b, lane_max) => [fmax(F32X4)];
                F64x2RelaxedMin = |a, b| zip::<f64, f64>(a, b, lane_min) => [fmin(F64X2)];
                F64x2RelaxedMax = |a, b| zip::<f64, f64>(a, b, lane_max) => [fmax(F64X2)];
                I16x8RelaxedQ15mulrS = |a, b| zip::<i16, i16>(a, b, q15mulr) => [?relaxed_q15mulr];
                I16x8RelaxedDotI8x16I7x16S = |a, b| pairwise::<i8, i16>(a, b, dot_i8) => [@dot(I8X16)];
            }
            v_ternary {
                V128Bitselect = bitselect => [@bitselect];
                F32x4RelaxedMadd = |a, b, c| zip3::<f32>(a, b, c, MulAdd::fma) => [?relaxed_madd(F32X4, false)];
                F32x4RelaxedNmadd = |a, b, c| zip3::<f32>(a, b, c, |x, y, z| (-x).fma(y, z)) => [?relaxed_madd(F32X4, true)];
                F64x2RelaxedMadd = |a, b, c| zip3::<f64>(a, b, c, MulAdd::fma) => [?relaxed_madd(F64X2, false)];
                F64x2RelaxedNmadd = |a, b, c| zip3::<f64>(a, b, c, |x, y, z| (-x).fma(y, z)) => [?relaxed_madd(F64X2, true)];
                I8x16RelaxedLaneselect = bitselect => [?relaxed_laneselect(I8X16)];
                I16x8RelaxedLaneselect = bitselect => [?relaxed_laneselect(I16X8)];
                I32x4RelaxedLaneselect = bitselect => [?relaxed_laneselect(I32X4)];
                I64x2RelaxedLaneselect = bitselect => [?relaxed_laneselect(I64X2)];
                I32x4RelaxedDotI8x16I7x16AddS = dot_i8_add => [@dot_add];
            }
            v_test {
                V128AnyTrue = |a| (a != [0; 16]) as i32 => [@any_true];
                I8x16AllTrue = all_true::<i8> => [@all_true(I8X16)];
                I16x8AllTrue = all_true::<i16> => [@all_true(I16X8)];
                I32x4AllTrue = all_true::<i32> => [@all_true(I32X4)];
                I64x2AllTrue = all_true::<i64> => [@all_true(I64X2)];
                I8x16Bitmask = bitmask::<i8> => [@bitmask(I8X16)];
                I16x8Bitmask = bitmask::<i16> => [@bitmask(I16X8)];
                I32x4Bitmask = bitmask::<i32> => [@bitmask(I32X4)];
                I64x2Bitmask = bitmask::<i64> => [@bitmask(I64X2)];
            }
            // The count is taken modulo the lane width, which is what
            // `wrapping_shl` and `wrapping_shr` do.
            v_shift {
                I8x16Shl = |a, s| map::<i8, i8>(a, |x| x.wrapping_shl(s)) => [ishl(I8X16)];
                I8x16ShrS = |a, s| map::<i8, i8>(a, |x| x.wrapping_shr(s)) => [sshr(I8X16)];
                I8x16ShrU = |a, s| map::<u8, u8>(a, |x| x.wrapping_shr(s)) => [ushr(I8X16)];
                I16x8Shl = |a, s| map::<i16, i16>(a, |x| x.wrapping_shl(s)) => [ishl(I16X8)];
                I16x8ShrS = |a, s| map::<i16, i16>(a, |x| x.wrapping_shr(s)) => [sshr(I16X8)];
                I16x8ShrU = |a, s| map::<u16, u16>(a, |x| x.wrapping_shr(s)) => [ushr(I16X8)];
                I32x4Shl = |a, s| map::<i32, i32>(a, |x| x.wrapping_shl(s)) => [ishl(I32X4)];
                I32x4ShrS = |a, s| map::<i32, i32>(a, |x| x.wrapping_shr(s)) => [sshr(I32X4)];
                I32x4ShrU = |a, s| map::<u32, u32>(a, |x| x.wrapping_shr(s)) => [ushr(I32X4)];
                I64x2Shl = |a, s| map::<i64, i64>(a, |x| x.wrapping_shl(s)) => [ishl(I64X2)];
                I64x2ShrS = |a, s| map::<i64, i64>(a, |x| x.wrapping_shr(s)) => [sshr(I64X2)];
                I64x2ShrU = |a, s| map::<u64, u64>(a, |x| x.wrapping_shr(s)) => [ushr(I64X2)];
            }
            v_splat {
                I8x16Splat(i32) = |x| splat::<u8>(x as u8) => [I8X16];
                I16x8Splat(i32) = |x| splat::<u16>(x as u16) => [I16X8];
                I32x4Splat(i32) = splat::<i32> => [I32X4];
                I64x2Splat(i64) = splat::<i64> => [I64X2];
                F32x4Splat(f32) = splat::<f32> => [F32X4];
                F64x2Splat(f64) = splat::<f64> => [F64X2];
            }
            v_extract {
                I8x16ExtractLaneS -> i32 = |a, i| i32::from(lane::<i8>(a, i)) => [I8X16 sextend];
                I8x16ExtractLaneU -> i32 = |a, i| i32::from(lane::<u8>(a, i)) => [I8X16 uextend];
                I16x8ExtractLaneS -> i32 = |a, i| i32::from(lane::<i16>(a, i)) => [I16X8 sextend];
                I16x8ExtractLaneU -> i32 = |a, i| i32::from(lane::<u16>(a, i)) => [I16X8 uextend];
                I32x4ExtractLane -> i32 = lane::<i32> => [I32X4];
                I64x2ExtractLane -> i64 = lane::<i64> => [I64X2];
                F32x4ExtractLane -> f32 = lane::<f32> => [F32X4];
                F64x2ExtractLane -> f64 = lane::<f64> => [F64X2];
            }
            v_replace {
                I8x16ReplaceLane(i32) = |a, i, x| with_lane::<u8>(a, i, x as u8) => [I8X16];
                I16x8ReplaceLane(i32) = |a, i, x| with_lane::<u16>(a, i, x as u16) => [I16X8];
                I32x4ReplaceLane(i32) = with_lane::<i32> => [I32X4];
                I64x2ReplaceLane(i64) = with_lane::<i64> => [I64X2];
                F32x4ReplaceLane(f32) = with_lane::<f32> => [F32X4];
                F64x2ReplaceLane(f64) = with_lane::<f64> => [F64X2];
            }
            v_load {
                V128Load(16) = |b| b => [load(I8X16)];
                V128Load8x8S(8) = |b| load_extend::<i8, i16>(b, i16::from) => [sload8x8];
                V128Load8x8U(8) = |b| load_extend::<u8, u16>(b, u16::from) => [uload8x8];
                V128Load16x4S(8) = |b| load_extend::<i16, i32>(b, i32::from) => [sload16x4];
                V128Load16x4U(8) = |b| load_extend::<u16, u32>(b, u32::from) => [uload16x4];
                V128Load32x2S(8) = |b| load_extend::<i32, i64>(b, i64::from) => [sload32x2];
                V128Load32x2U(8) = |b| load_extend::<u32, u64>(b, u64::from) => [uload32x2];
                V128Load8Splat(1) = load_splat::<1> => [@load_splat(I8)];
                V128Load16Splat(2) = load_splat::<2> => [@load_splat(I16)];
                V128Load32Splat(4) = load_splat::<4> => [@load_splat(I32)];
                V128Load64Splat(8) = load_splat::<8> => [@load_splat(I64)];
                V128Load32Zero(4) = load_zero::<4> => [@load_zero(I32X4)];
                V128Load64Zero(8) = load_zero::<8> => [@load_zero(I64X2)];
            }
            v_load_lane {
                V128Load8Lane(1) => [I8];
                V128Load16Lane(2) => [I16];
                V128Load32Lane(4) => [I32];
                V128Load64Lane(8) => [I64];
            }
            v_store_lane {
                V128Store8Lane(1) => [I8];
                V128Store16Lane(2) => [I16];
                V128Store32Lane(4) => [I32];
                V128Store64Lane(8) => [I64];
            }
        }
    };
}
pub(crate) use simd_ops;
