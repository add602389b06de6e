//! The SIMD instructions, generated from the SIMD table (`isa/simd.rs`):
//! each row's Cranelift column names what computes it. A row without one
//! does not compile.
//!
//! On the operand stack a `v128` is an `I8X16` value, as in wasmtime's
//! translator: a row's operands are bitcast to the column's lane type, and
//! its vector result back to `I8X16`. Columns:
//!
//! - `[op(TY)]`: the `InstBuilder` method on the operands as `TY`;
//! - `[op(TY, arg)]`: the same with `arg` first (a condition code, or the
//!   result type of a conversion);
//! - `[@f]`, `[@f(args)]`: a function of this module, given the operands as
//!   `I8X16` after `args`;
//! - splats, lane accesses: the vector (or lane) type; extracting a narrow
//!   lane names the extension to `i32`.

use super::access::memarg_memory;
use super::translate::Translator;
use crate::isa::simd_ops;
use crate::types::ValType;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlags, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// Flags of a bitcast between vector types: lanes are little-endian, as
/// wasm's are.
fn lane_flags() -> MemFlags {
    MemFlags::new().with_endianness(Endianness::Little)
}

/// `v` as a vector of type `ty` (a bitcast when its type differs).
fn cast(b: &mut FunctionBuilder<'_>, v: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lane_flags(), v)
    }
}

/// A vector result as the stack's `I8X16`.
fn to_v128(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    cast(b, v, I8X16)
}

/// Expands a row's Cranelift column applied to the `I8X16` operands (one,
/// two or three).
macro_rules! clif {
    ($b:expr, $det:expr; [?$f:ident]; $($v:expr),*) => { $f($b, $det, $($v),*) };
    ($b:expr, $det:expr; [?$f:ident($($a:expr),*)]; $($v:expr),*) => { $f($b, $det, $($a,)* $($v),*) };
    ($b:expr, $det:expr; $col:tt; $($v:expr),*) => { clif!($b; $col; $($v),*) };
    ($b:expr; [@$f:ident]; $($v:expr),*) => { $f($b, $($v),*) };
    ($b:expr; [@$f:ident($($a:expr),*)]; $($v:expr),*) => { $f($b, $($a,)* $($v),*) };
    ($b:expr; [$m:ident($ty:ident $(, $a:expr)?)]; $x:expr) => {{
        let x = cast($b, $x, $ty);
        $b.ins().$m($($a,)? x)
    }};
    ($b:expr; [$m:ident($ty:ident $(, $a:expr)?)]; $x:expr, $y:expr) => {{
        let (x, y) = (cast($b, $x, $ty), cast($b, $y, $ty));
        $b.ins().$m($($a,)? x, y)
    }};
    ($b:expr; [$m:ident($ty:ident $(, $a:expr)?)]; $x:expr, $y:expr, $z:expr) => {{
        let (x, y, z) = (cast($b, $x, $ty), cast($b, $y, $ty), cast($b, $z, $ty));
        $b.ins().$m($($a,)? x, y, z)
    }};
}

/// Expands a load's column with the access's flags, address and offset:
/// `[op]` and `[op(args)]` are `InstBuilder` methods (the column's
/// arguments first), `[@f(args)]` functions of this module.
macro_rules! clif_mem {
    ($b:expr; [@$f:ident($($a:expr),*)]; $($v:expr),*) => { $f($b, $($a,)* $($v),*) };
    ($b:expr; [$m:ident]; $($v:expr),*) => { $b.ins().$m($($v),*) };
    ($b:expr; [$m:ident($($a:expr),*)]; $($v:expr),*) => { $b.ins().$m($($a,)* $($v),*) };
}

/// `v128.bitselect` (and the deterministic `relaxed_laneselect`): bits of
/// `x` where `c` is set.
fn bitselect(b: &mut FunctionBuilder<'_>, x: Value, y: Value, c: Value) -> Value {
    b.ins().bitselect(c, x, y)
}

/// Whether the host has fused multiply-add instructions.
fn host_has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// `relaxed_madd` (`x * y + z`) and, `negate`d, `relaxed_nmadd`
/// (`-(x * y) + z`): fused when deterministic (Cranelift calls the C
/// library per lane on hosts without FMA), else fused only where the host
/// fuses natively.
fn relaxed_madd(
    b: &mut FunctionBuilder<'_>,
    det: bool,
    ty: Type,
    negate: bool,
    x: Value,
    y: Value,
    z: Value,
) -> Value {
    let (x, y, z) = (cast(b, x, ty), cast(b, y, ty), cast(b, z, ty));
    let x = if negate { b.ins().fneg(x) } else { x };
    if det || host_has_fma() {
        b.ins().fma(x, y, z)
    } else {
        let p = b.ins().fmul(x, y);
        b.ins().fadd(p, z)
    }
}

/// `relaxed_swizzle`: `pshufb` when not deterministic on x86-64 (an index
/// of 16 to 127 picks lane `index % 16` instead of 0).
fn relaxed_swizzle(b: &mut FunctionBuilder<'_>, det: bool, x: Value, s: Value) -> Value {
    if det || !cfg!(target_arch = "x86_64") {
        b.ins().swizzle(x, s)
    } else {
        b.ins().x86_pshufb(x, s)
    }
}

/// `i32x4.relaxed_trunc_f32x4_s`: `cvttps2dq` when not deterministic on
/// x86-64 (NaN and out-of-range lanes give `i32::MIN`).
fn relaxed_trunc_s(b: &mut FunctionBuilder<'_>, det: bool, x: Value) -> Value {
    let x = cast(b, x, F32X4);
    if det || !cfg!(target_arch = "x86_64") {
        b.ins().fcvt_to_sint_sat(I32X4, x)
    } else {
        b.ins().x86_cvtt2dq(I32X4, x)
    }
}

/// `i16x8.relaxed_q15mulr_s`: `pmulhrsw` when not deterministic on x86-64
/// (`MIN * MIN` gives `MIN`, not `MAX`).
fn relaxed_q15mulr(b: &mut FunctionBuilder<'_>, det: bool, x: Value, y: Value) -> Value {
    let (x, y) = (cast(b, x, I16X8), cast(b, y, I16X8));
    if det || !cfg!(target_arch = "x86_64") {
        b.ins().sqmul_round_sat(x, y)
    } else {
        b.ins().x86_pmulhrsw(x, y)
    }
}

/// `relaxed_laneselect`: `blendv` when not deterministic on x86-64 (each
/// lane chosen by its mask lane's top bit; there is none for 16-bit lanes).
fn relaxed_laneselect(
    b: &mut FunctionBuilder<'_>,
    det: bool,
    ty: Type,
    x: Value,
    y: Value,
    c: Value,
) -> Value {
    if det || ty == I16X8 || !cfg!(target_arch = "x86_64") {
        b.ins().bitselect(c, x, y)
    } else {
        let (x, y, c) = (cast(b, x, ty), cast(b, y, ty), cast(b, c, ty));
        b.ins().x86_blendv(c, x, y)
    }
}

/// `pmin`: `y < x ? y : x` per lane.
fn pmin(b: &mut FunctionBuilder<'_>, ty: Type, x: Value, y: Value) -> Value {
    let (x, y) = (cast(b, x, ty), cast(b, y, ty));
    let lt = b.ins().fcmp(FloatCC::LessThan, y, x);
    let lt = cast(b, lt, ty);
    b.ins().bitselect(lt, y, x)
}

/// `pmax`: `x < y ? y : x` per lane.
fn pmax(b: &mut FunctionBuilder<'_>, ty: Type, x: Value, y: Value) -> Value {
    let (x, y) = (cast(b, x, ty), cast(b, y, ty));
    let lt = b.ins().fcmp(FloatCC::LessThan, x, y);
    let lt = cast(b, lt, ty);
    b.ins().bitselect(lt, y, x)
}

/// Widens the low and high halves of `x` (lanes of `ty`).
fn widen(b: &mut FunctionBuilder<'_>, ty: Type, signed: bool, x: Value) -> (Value, Value) {
    let x = cast(b, x, ty);
    if signed {
        (b.ins().swiden_low(x), b.ins().swiden_high(x))
    } else {
        (b.ins().uwiden_low(x), b.ins().uwiden_high(x))
    }
}

/// `extadd_pairwise`: sums of adjacent lanes, widened.
fn extadd_pairwise(b: &mut FunctionBuilder<'_>, ty: Type, signed: bool, x: Value) -> Value {
    let (low, high) = widen(b, ty, signed, x);
    b.ins().iadd_pairwise(low, high)
}

/// `extmul`: products of the low (or high) halves' lanes, widened.
fn extmul(
    b: &mut FunctionBuilder<'_>,
    ty: Type,
    signed: bool,
    high: bool,
    x: Value,
    y: Value,
) -> Value {
    let (xl, xh) = widen(b, ty, signed, x);
    let (yl, yh) = widen(b, ty, signed, y);
    if high {
        b.ins().imul(xh, yh)
    } else {
        b.ins().imul(xl, yl)
    }
}

/// `dot`: sums of adjacent lanes' signed products, widened (also the
/// deterministic `relaxed_dot_i8x16_i7x16_s`, with both operands signed).
fn dot(b: &mut FunctionBuilder<'_>, ty: Type, x: Value, y: Value) -> Value {
    let (xl, xh) = widen(b, ty, true, x);
    let (yl, yh) = widen(b, ty, true, y);
    let low = b.ins().imul(xl, yl);
    let high = b.ins().imul(xh, yh);
    b.ins().iadd_pairwise(low, high)
}

/// `relaxed_dot_i8x16_i7x16_add_s`, deterministically: the 16-bit dot
/// product, its adjacent lanes summed into 32 bits, plus `c`.
fn dot_add(b: &mut FunctionBuilder<'_>, x: Value, y: Value, c: Value) -> Value {
    let d = dot(b, I8X16, x, y);
    let sums = extadd_pairwise(b, I16X8, true, d);
    let c = cast(b, c, I32X4);
    b.ins().iadd(sums, c)
}

/// `trunc_sat_f64x2_*_zero`: two saturated conversions, then zero lanes.
fn trunc_sat_zero(b: &mut FunctionBuilder<'_>, signed: bool, x: Value) -> Value {
    let x = cast(b, x, F64X2);
    let zero = b.ins().iconst(I64, 0);
    let zero = b.ins().splat(I64X2, zero);
    if signed {
        let c = b.ins().fcvt_to_sint_sat(I64X2, x);
        b.ins().snarrow(c, zero)
    } else {
        let c = b.ins().fcvt_to_uint_sat(I64X2, x);
        b.ins().uunarrow(c, zero)
    }
}

/// `f64x2.convert_low_i32x4_*`.
fn convert_low(b: &mut FunctionBuilder<'_>, signed: bool, x: Value) -> Value {
    let x = cast(b, x, I32X4);
    if signed {
        let w = b.ins().swiden_low(x);
        b.ins().fcvt_from_sint(F64X2, w)
    } else {
        let w = b.ins().uwiden_low(x);
        b.ins().fcvt_from_uint(F64X2, w)
    }
}

/// `v128.any_true` as an `i32`.
fn any_true(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let t = b.ins().vany_true(x);
    b.ins().uextend(I32, t)
}

/// `all_true` as an `i32`.
fn all_true(b: &mut FunctionBuilder<'_>, ty: Type, x: Value) -> Value {
    let x = cast(b, x, ty);
    let t = b.ins().vall_true(x);
    b.ins().uextend(I32, t)
}

/// `bitmask`: the lanes' sign bits in an `i32`.
fn bitmask(b: &mut FunctionBuilder<'_>, ty: Type, x: Value) -> Value {
    let x = cast(b, x, ty);
    b.ins().vhigh_bits(I32, x)
}

/// A scalar as a lane of `ty` (an `i32` narrowed for 8- and 16-bit lanes).
fn as_lane(b: &mut FunctionBuilder<'_>, ty: Type, x: Value) -> Value {
    let lane = ty.lane_type();
    if b.func.dfg.value_type(x) == lane {
        x
    } else {
        b.ins().ireduce(lane, x)
    }
}

/// Loads that splat: one `lane` read, in every lane.
fn load_splat(
    b: &mut FunctionBuilder<'_>,
    lane: Type,
    flags: MemFlags,
    addr: Value,
    offset: i32,
) -> Value {
    let x = b.ins().load(lane, flags, addr, offset);
    let ty = lane.by(16 / lane.bytes()).unwrap_or(I8X16);
    b.ins().splat(ty, x)
}

/// Loads that zero the rest: one lane of `ty` read into lane 0.
fn load_zero(
    b: &mut FunctionBuilder<'_>,
    ty: Type,
    flags: MemFlags,
    addr: Value,
    offset: i32,
) -> Value {
    let x = b.ins().load(ty.lane_type(), flags, addr, offset);
    b.ins().scalar_to_vector(ty, x)
}

/// The vector type whose lanes are `lane`.
fn vector_of(lane: Type) -> Type {
    lane.by(16 / lane.bytes()).unwrap_or(I8X16)
}

/// Extracts lane `lane` of `x` as `ty`'s lane, extended to `i32` by
/// `extend` for narrow lanes.
fn extract(
    b: &mut FunctionBuilder<'_>,
    ty: Type,
    extend: Option<fn(&mut FunctionBuilder<'_>, Value) -> Value>,
    x: Value,
    lane: u8,
) -> Value {
    let x = cast(b, x, ty);
    let v = b.ins().extractlane(x, lane);
    match extend {
        Some(e) => e(b, v),
        None => v,
    }
}

fn sextend(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    b.ins().sextend(I32, v)
}

fn uextend(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    b.ins().uextend(I32, v)
}

/// The extension of an extracted lane, from the column.
macro_rules! extension {
    () => {
        None
    };
    (sextend) => {
        Some(sextend as fn(&mut FunctionBuilder<'_>, Value) -> Value)
    };
    (uextend) => {
        Some(uextend as fn(&mut FunctionBuilder<'_>, Value) -> Value)
    };
}

macro_rules! jit_simd {
    (
        v_unary { $($VU:ident = $vuf:expr => $VUJ:tt;)* }
        v_binary { $($VB:ident = $vbf:expr => $VBJ:tt;)* }
        v_ternary { $($VT:ident = $vtf:expr => $VTJ:tt;)* }
        v_test { $($VX:ident = $vxf:expr => $VXJ:tt;)* }
        v_shift { $($VS:ident = $vsf:expr => [$VSM:ident($VST:ident)];)* }
        v_splat { $($VP:ident($VPT:ty) = $vpf:expr => [$VPV:ident];)* }
        v_extract { $($VE:ident -> $VET:ty = $vef:expr => [$VEV:ident $($VEX:ident)?];)* }
        v_replace { $($VR:ident($VRT:ty) = $vrf:expr => [$VRV:ident];)* }
        v_load { $($VL:ident($VLN:literal) = $vlf:expr => $VLJ:tt;)* }
        v_load_lane { $($VLL:ident($VLLN:literal) => [$VLLT:ident];)* }
        v_store_lane { $($VSL:ident($VSLN:literal) => [$VSLT:ident];)* }
    ) => {
        impl Translator<'_, '_> {
            /// Translates a SIMD instruction; false when `op` is not one.
            pub(super) fn simd(&mut self, op: &wasmparser::Operator<'_>) -> anyhow::Result<bool> {
                use wasmparser::Operator as W;
                let det = self.env.relaxed_deterministic;
                match *op {
                    $( W::$VU => {
                        let x = self.pop();
                        let b = &mut self.b;
                        let v = clif!(b, det; $VUJ; x);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VB => {
                        let (x, y) = self.pop2();
                        let b = &mut self.b;
                        let v = clif!(b, det; $VBJ; x, y);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VT => {
                        let z = self.pop();
                        let (x, y) = self.pop2();
                        let b = &mut self.b;
                        let v = clif!(b, det; $VTJ; x, y, z);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VX => {
                        let x = self.pop();
                        let b = &mut self.b;
                        let v = clif!(b; $VXJ; x);
                        self.push(v, ValType::I32);
                    } )*
                    $( W::$VS => {
                        // The count is taken modulo the lane width, as
                        // Cranelift's vector shifts do.
                        let (x, s) = self.pop2();
                        let b = &mut self.b;
                        let x = cast(b, x, $VST);
                        let v = b.ins().$VSM(x, s);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VP => {
                        let x = self.pop();
                        let b = &mut self.b;
                        let x = as_lane(b, $VPV, x);
                        let v = b.ins().splat($VPV, x);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VE { lane } => {
                        let x = self.pop();
                        let b = &mut self.b;
                        let v = extract(b, $VEV, extension!($($VEX)?), x, lane);
                        self.push(v, <$VET as crate::isa::Wasm>::TYPE);
                    } )*
                    $( W::$VR { lane } => {
                        let (x, y) = self.pop2();
                        let b = &mut self.b;
                        let x = cast(b, x, $VRV);
                        let y = as_lane(b, $VRV, y);
                        let v = b.ins().insertlane(x, y, lane);
                        let v = to_v128(b, v);
                        self.push(v, ValType::V128);
                    } )*
                    $( W::$VL { memarg } => {
                        self.load(&memarg, $VLN, ValType::V128, |b, f, a, o| {
                            let v = clif_mem!(b; $VLJ; f, a, o);
                            to_v128(b, v)
                        })?;
                    } )*
                    $( W::$VLL { memarg, lane } => {
                        let x = self.pop();
                        self.load(&memarg, $VLLN, ValType::V128, |b, f, a, o| {
                            let y = b.ins().load($VLLT, f, a, o);
                            let x = cast(b, x, vector_of($VLLT));
                            let v = b.ins().insertlane(x, y, lane);
                            to_v128(b, v)
                        })?;
                    } )*
                    $( W::$VSL { memarg, lane } => {
                        let memory = memarg_memory(&memarg)?;
                        let x = self.pop();
                        let index = self.pop();
                        let (addr, offset) = self.address(memory, index, memarg.offset, $VSLN);
                        let b = &mut self.b;
                        let x = cast(b, x, vector_of($VSLT));
                        let y = b.ins().extractlane(x, lane);
                        b.ins().store(MemFlags::new(), y, addr, offset);
                    } )*
                    W::V128Store { memarg } => {
                        self.store(&memarg, 16, |b, f, v, a, o| b.ins().store(f, v, a, o))?;
                    }
                    W::I8x16Shuffle { lanes } => {
                        let (x, y) = self.pop2();
                        let b = &mut self.b;
                        let mask = b.func.dfg.immediates.push(lanes.to_vec().into());
                        let v = b.ins().shuffle(x, y, mask);
                        self.push(v, ValType::V128);
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

simd_ops!(jit_simd);
