//! The numeric instructions of WebAssembly 1.0 and 2.0: one row each.

/// The table of numeric instructions. `$callback` receives all rows; see the
/// module documentation.
macro_rules! numeric_ops {
    ($callback:ident $($extra:tt)*) => {
        $callback! {
            $($extra)*
            unary {
                I32Eqz(i32) -> i32 = |x: i32| (x == 0) as i32 => [@eqz];
                I64Eqz(i64) -> i32 = |x: i64| (x == 0) as i32 => [@eqz];
                RefIsNull(u64) -> i32 = |x: u64| (x == 0) as i32 => [@eqz];
                I32Clz(i32) -> i32 = |x: i32| x.leading_zeros() as i32 => [clz];
                I32Ctz(i32) -> i32 = |x: i32| x.trailing_zeros() as i32 => [ctz];
                I32Popcnt(i32) -> i32 = |x: i32| x.count_ones() as i32 => [popcnt];
                I64Clz(i64) -> i64 = |x: i64| x.leading_zeros() as i64 => [clz];
                I64Ctz(i64) -> i64 = |x: i64| x.trailing_zeros() as i64 => [ctz];
                I64Popcnt(i64) -> i64 = |x: i64| x.count_ones() as i64 => [popcnt];
                F32Abs(f32) -> f32 = |x: f32| x.abs() => [fabs];
                F32Neg(f32) -> f32 = |x: f32| -x => [fneg];
                F32Ceil(f32) -> f32 = |x: f32| crate::isa::semantics::round(x, f32::ceil) => [ceil];
                F32Floor(f32) -> f32 = |x: f32| crate::isa::semantics::round(x, f32::floor) => [floor];
                F32Trunc(f32) -> f32 = |x: f32| crate::isa::semantics::round(x, f32::trunc) => [trunc];
                F32Nearest(f32) -> f32 = |x: f32| crate::isa::semantics::round(x, f32::round_ties_even) => [nearest];
                F32Sqrt(f32) -> f32 = |x: f32| x.sqrt() => [sqrt];
                F64Abs(f64) -> f64 = |x: f64| x.abs() => [fabs];
                F64Neg(f64) -> f64 = |x: f64| -x => [fneg];
                F64Ceil(f64) -> f64 = |x: f64| crate::isa::semantics::round(x, f64::ceil) => [ceil];
                F64Floor(f64) -> f64 = |x: f64| crate::isa::semantics::round(x, f64::floor) => [floor];
                F64Trunc(f64) -> f64 = |x: f64| crate::isa::semantics::round(x, f64::trunc) => [trunc];
                F64Nearest(f64) -> f64 = |x: f64| crate::isa::semantics::round(x, f64::round_ties_even) => [nearest];
                F64Sqrt(f64) -> f64 = |x: f64| x.sqrt() => [sqrt];
                I32WrapI64(i64) -> i32 = |x: i64| x as i32 => [ireduce(I32)];
                I64ExtendI32S(i32) -> i64 = |x: i32| x as i64 => [sextend(I64)];
                I64ExtendI32U(u32) -> i64 = |x: u32| x as i64 => [uextend(I64)];
                I32Extend8S(i32) -> i32 = |x: i32| x as i8 as i32 => [@extend_low(I8)];
                I32Extend16S(i32) -> i32 = |x: i32| x as i16 as i32 => [@extend_low(I16)];
                I64Extend8S(i64) -> i64 = |x: i64| x as i8 as i64 => [@extend_low(I8)];
                I64Extend16S(i64) -> i64 = |x: i64| x as i16 as i64 => [@extend_low(I16)];
                I64Extend32S(i64) -> i64 = |x: i64| x as i32 as i64 => [@extend_low(I32)];
                F32DemoteF64(f64) -> f32 = |x: f64| x as f32 => [fdemote(F32)];
                F64PromoteF32(f32) -> f64 = |x: f32| x as f64 => [fpromote(F64)];
                F32ConvertI32S(i32) -> f32 = |x: i32| x as f32 => [fcvt_from_sint(F32)];
                F32ConvertI32U(u32) -> f32 = |x: u32| x as f32 => [fcvt_from_uint(F32)];
                F32ConvertI64S(i64) -> f32 = |x: i64| x as f32 => [fcvt_from_sint(F32)];
                F32ConvertI64U(u64) -> f32 = |x: u64| x as f32 => [fcvt_from_uint(F32)];
                F64ConvertI32S(i32) -> f64 = |x: i32| x as f64 => [fcvt_from_sint(F64)];
                F64ConvertI32U(u32) -> f64 = |x: u32| x as f64 => [fcvt_from_uint(F64)];
                F64ConvertI64S(i64) -> f64 = |x: i64| x as f64 => [fcvt_from_sint(F64)];
                F64ConvertI64U(u64) -> f64 = |x: u64| x as f64 => [fcvt_from_uint(F64)];
                // Cells hold floats as bits and integers zero-extended, so
                // reinterpretation leaves the cell as it is.
                I32ReinterpretF32(f32) -> i32 = |x: f32| x.to_bits() as i32 => [bitcast(I32, MemFlags::new())];
                I64ReinterpretF64(f64) -> i64 = |x: f64| x.to_bits() as i64 => [bitcast(I64, MemFlags::new())];
                F32ReinterpretI32(i32) -> f32 = |x: i32| f32::from_bits(x as u32) => [bitcast(F32, MemFlags::new())];
                F64ReinterpretI64(i64) -> f64 = |x: i64| f64::from_bits(x as u64) => [bitcast(F64, MemFlags::new())];
                // Rust's float-to-int `as` saturates and maps NaN to 0,
                // which is exactly `trunc_sat`.
                I32TruncSatF32S(f32) -> i32 = |x: f32| x as i32 => [fcvt_to_sint_sat(I32)];
                I32TruncSatF32U(f32) -> u32 = |x: f32| x as u32 => [fcvt_to_uint_sat(I32)];
                I32TruncSatF64S(f64) -> i32 = |x: f64| x as i32 => [fcvt_to_sint_sat(I32)];
                I32TruncSatF64U(f64) -> u32 = |x: f64| x as u32 => [fcvt_to_uint_sat(I32)];
                I64TruncSatF32S(f32) -> i64 = |x: f32| x as i64 => [fcvt_to_sint_sat(I64)];
                I64TruncSatF32U(f32) -> u64 = |x: f32| x as u64 => [fcvt_to_uint_sat(I64)];
                I64TruncSatF64S(f64) -> i64 = |x: f64| x as i64 => [fcvt_to_sint_sat(I64)];
                I64TruncSatF64U(f64) -> u64 = |x: f64| x as u64 => [fcvt_to_uint_sat(I64)];
            }
            unary_trap {
                I32TruncF32S(f32) -> i32 = |x: f32| crate::isa::semantics::trunc_checked(x, crate::isa::semantics::I32_MIN, crate::isa::semantics::I32_END).map(|t| t as i32) => [fcvt_to_sint(I32)];
                I32TruncF32U(f32) -> u32 = |x: f32| crate::isa::semantics::trunc_checked(x, 0.0, crate::isa::semantics::U32_END).map(|t| t as u32) => [fcvt_to_uint(I32)];
                I32TruncF64S(f64) -> i32 = |x: f64| crate::isa::semantics::trunc_checked(x, crate::isa::semantics::I32_MIN, crate::isa::semantics::I32_END).map(|t| t as i32) => [fcvt_to_sint(I32)];
                I32TruncF64U(f64) -> u32 = |x: f64| crate::isa::semantics::trunc_checked(x, 0.0, crate::isa::semantics::U32_END).map(|t| t as u32) => [fcvt_to_uint(I32)];
                I64TruncF32S(f32) -> i64 = |x: f32| crate::isa::semantics::trunc_checked(x, crate::isa::semantics::I64_MIN, crate::isa::semantics::I64_END).map(|t| t as i64) => [fcvt_to_sint(I64)];
                I64TruncF32U(f32) -> u64 = |x: f32| crate::isa::semantics::trunc_checked(x, 0.0, crate::isa::semantics::U64_END).map(|t| t as u64) => [fcvt_to_uint(I64)];
                I64TruncF64S(f64) -> i64 = |x: f64| crate::isa::semantics::trunc_checked(x, crate::isa::semantics::I64_MIN, crate::isa::semantics::I64_END).map(|t| t as i64) => [fcvt_to_sint(I64)];
                I64TruncF64U(f64) -> u64 = |x: f64| crate::isa::semantics::trunc_checked(x, 0.0, crate::isa::semantics::U64_END).map(|t| t as u64) => [fcvt_to_uint(I64)];
            }
            binary {
                I32Add(i32) -> i32 = |a: i32, b: i32| a.wrapping_add(b) => [iadd];
                I32Sub(i32) -> i32 = |a: i32, b: i32| a.wrapping_sub(b) => [isub];
                I32Mul(i32) -> i32 = |a: i32, b: i32| a.wrapping_mul(b) => [imul];
                I32And(i32) -> i32 = |a: i32, b: i32| a & b => [band];
                I32Or(i32) -> i32 = |a: i32, b: i32| a | b => [bor];
                I32Xor(i32) -> i32 = |a: i32, b: i32| a ^ b => [bxor];
                I32Shl(i32) -> i32 = |a: i32, b: i32| a.wrapping_shl(b as u32) => [ishl];
                I32ShrS(i32) -> i32 = |a: i32, b: i32| a.wrapping_shr(b as u32) => [sshr];
                I32ShrU(u32) -> u32 = |a: u32, b: u32| a.wrapping_shr(b) => [ushr];
                I32Rotl(i32) -> i32 = |a: i32, b: i32| a.rotate_left(b as u32 % 32) => [rotl];
                I32Rotr(i32) -> i32 = |a: i32, b: i32| a.rotate_right(b as u32 % 32) => [rotr];
                I64Add(i64) -> i64 = |a: i64, b: i64| a.wrapping_add(b) => [iadd];
                I64Sub(i64) -> i64 = |a: i64, b: i64| a.wrapping_sub(b) => [isub];
                I64Mul(i64) -> i64 = |a: i64, b: i64| a.wrapping_mul(b) => [imul];
                I64And(i64) -> i64 = |a: i64, b: i64| a & b => [band];
                I64Or(i64) -> i64 = |a: i64, b: i64| a | b => [bor];
                I64Xor(i64) -> i64 = |a: i64, b: i64| a ^ b => [bxor];
                I64Shl(i64) -> i64 = |a: i64, b: i64| a.wrapping_shl(b as u32) => [ishl];
                I64ShrS(i64) -> i64 = |a: i64, b: i64| a.wrapping_shr(b as u32) => [sshr];
                I64ShrU(u64) -> u64 = |a: u64, b: u64| a.wrapping_shr(b as u32) => [ushr];
                I64Rotl(i64) -> i64 = |a: i64, b: i64| a.rotate_left((b % 64) as u32) => [rotl];
                I64Rotr(i64) -> i64 = |a: i64, b: i64| a.rotate_right((b % 64) as u32) => [rotr];
                F32Add(f32) -> f32 = |a: f32, b: f32| a + b => [fadd];
                F32Sub(f32) -> f32 = |a: f32, b: f32| a - b => [fsub];
                F32Mul(f32) -> f32 = |a: f32, b: f32| a * b => [fmul];
                F32Div(f32) -> f32 = |a: f32, b: f32| a / b => [fdiv];
                F32Min(f32) -> f32 = |a: f32, b: f32| crate::isa::semantics::fmin(a, b) => [fmin];
                F32Max(f32) -> f32 = |a: f32, b: f32| crate::isa::semantics::fmax(a, b) => [fmax];
                F32Copysign(f32) -> f32 = |a: f32, b: f32| a.copysign(b) => [fcopysign];
                F64Add(f64) -> f64 = |a: f64, b: f64| a + b => [fadd];
                F64Sub(f64) -> f64 = |a: f64, b: f64| a - b => [fsub];
                F64Mul(f64) -> f64 = |a: f64, b: f64| a * b => [fmul];
                F64Div(f64) -> f64 = |a: f64, b: f64| a / b => [fdiv];
                F64Min(f64) -> f64 = |a: f64, b: f64| crate::isa::semantics::fmin(a, b) => [fmin];
                F64Max(f64) -> f64 = |a: f64, b: f64| crate::isa::semantics::fmax(a, b) => [fmax];
                F64Copysign(f64) -> f64 = |a: f64, b: f64| a.copysign(b) => [fcopysign];
            }
            // Comparisons: also fused with a following `br_if` into the
            // branch instruction named after the slash, and, for integers,
            // with an `if` into the branch on the negated comparison named
            // after the `!` (floats have no negation because of NaN).
            compare {
                I32Eq / BrIfI32Eq ! BrIfI32Ne(i32) = |a: i32, b: i32| a == b => [icmp(IntCC::Equal)];
                I32Ne / BrIfI32Ne ! BrIfI32Eq(i32) = |a: i32, b: i32| a != b => [icmp(IntCC::NotEqual)];
                I32LtS / BrIfI32LtS ! BrIfI32GeS(i32) = |a: i32, b: i32| a < b => [icmp(IntCC::SignedLessThan)];
                I32LtU / BrIfI32LtU ! BrIfI32GeU(u32) = |a: u32, b: u32| a < b => [icmp(IntCC::UnsignedLessThan)];
                I32GtS / BrIfI32GtS ! BrIfI32LeS(i32) = |a: i32, b: i32| a > b => [icmp(IntCC::SignedGreaterThan)];
                I32GtU / BrIfI32GtU ! BrIfI32LeU(u32) = |a: u32, b: u32| a > b => [icmp(IntCC::UnsignedGreaterThan)];
                I32LeS / BrIfI32LeS ! BrIfI32GtS(i32) = |a: i32, b: i32| a <= b => [icmp(IntCC::SignedLessThanOrEqual)];
                I32LeU / BrIfI32LeU ! BrIfI32GtU(u32) = |a: u32, b: u32| a <= b => [icmp(IntCC::UnsignedLessThanOrEqual)];
                I32GeS / BrIfI32GeS ! BrIfI32LtS(i32) = |a: i32, b: i32| a >= b => [icmp(IntCC::SignedGreaterThanOrEqual)];
                I32GeU / BrIfI32GeU ! BrIfI32LtU(u32) = |a: u32, b: u32| a >= b => [icmp(IntCC::UnsignedGreaterThanOrEqual)];
                I64Eq / BrIfI64Eq ! BrIfI64Ne(i64) = |a: i64, b: i64| a == b => [icmp(IntCC::Equal)];
                I64Ne / BrIfI64Ne ! BrIfI64Eq(i64) = |a: i64, b: i64| a != b => [icmp(IntCC::NotEqual)];
                I64LtS / BrIfI64LtS ! BrIfI64GeS(i64) = |a: i64, b: i64| a < b => [icmp(IntCC::SignedLessThan)];
                I64LtU / BrIfI64LtU ! BrIfI64GeU(u64) = |a: u64, b: u64| a < b => [icmp(IntCC::UnsignedLessThan)];
                I64GtS / BrIfI64GtS ! BrIfI64LeS(i64) = |a: i64, b: i64| a > b => [icmp(IntCC::SignedGreaterThan)];
                I64GtU / BrIfI64GtU ! BrIfI64LeU(u64) = |a: u64, b: u64| a > b => [icmp(IntCC::UnsignedGreaterThan)];
                I64LeS / BrIfI64LeS ! BrIfI64GtS(i64) = |a: i64, b: i64| a <= b => [icmp(IntCC::SignedLessThanOrEqual)];
                I64LeU / BrIfI64LeU ! BrIfI64GtU(u64) = |a: u64, b: u64| a <= b => [icmp(IntCC::UnsignedLessThanOrEqual)];
                I64GeS / BrIfI64GeS ! BrIfI64LtS(i64) = |a: i64, b: i64| a >= b => [icmp(IntCC::SignedGreaterThanOrEqual)];
                I64GeU / BrIfI64GeU ! BrIfI64LtU(u64) = |a: u64, b: u64| a >= b => [icmp(IntCC::UnsignedGreaterThanOrEqual)];
                F32Eq / BrIfF32Eq(f32) = |a: f32, b: f32| a == b => [fcmp(FloatCC::Equal)];
                F32Ne / BrIfF32Ne(f32) = |a: f32, b: f32| a != b => [fcmp(FloatCC::NotEqual)];
                F32Lt / BrIfF32Lt(f32) = |a: f32, b: f32| a < b => [fcmp(FloatCC::LessThan)];
                F32Gt / BrIfF32Gt(f32) = |a: f32, b: f32| a > b => [fcmp(FloatCC::GreaterThan)];
                F32Le / BrIfF32Le(f32) = |a: f32, b: f32| a <= b => [fcmp(FloatCC::LessThanOrEqual)];
                F32Ge / BrIfF32Ge(f32) = |a: f32, b: f32| a >= b => [fcmp(FloatCC::GreaterThanOrEqual)];
                F64Eq / BrIfF64Eq(f64) = |a: f64, b: f64| a == b => [fcmp(FloatCC::Equal)];
                F64Ne / BrIfF64Ne(f64) = |a: f64, b: f64| a != b => [fcmp(FloatCC::NotEqual)];
                F64Lt / BrIfF64Lt(f64) = |a: f64, b: f64| a < b => [fcmp(FloatCC::LessThan)];
                F64Gt / BrIfF64Gt(f64) = |a: f64, b: f64| a > b => [fcmp(FloatCC::GreaterThan)];
                F64Le / BrIfF64Le(f64) = |a: f64, b: f64| a <= b => [fcmp(FloatCC::LessThanOrEqual)];
                F64Ge / BrIfF64Ge(f64) = |a: f64, b: f64| a >= b => [fcmp(FloatCC::GreaterThanOrEqual)];
            }
            binary_trap {
                I32DivS(i32) -> i32 = crate::isa::semantics::div_s::<i32> => [sdiv];
                I32DivU(i32) -> i32 = crate::isa::semantics::div_u::<i32> => [udiv];
                I32RemS(i32) -> i32 = crate::isa::semantics::rem_s::<i32> => [srem];
                I32RemU(i32) -> i32 = crate::isa::semantics::rem_u::<i32> => [urem];
                I64DivS(i64) -> i64 = crate::isa::semantics::div_s::<i64> => [sdiv];
                I64DivU(i64) -> i64 = crate::isa::semantics::div_u::<i64> => [udiv];
                I64RemS(i64) -> i64 = crate::isa::semantics::rem_s::<i64> => [srem];
                I64RemU(i64) -> i64 = crate::isa::semantics::rem_u::<i64> => [urem];
            }
            // Loads: the value read from memory, converted with `as`.
            load {
                I32Load(i32) -> i32 => [load(I32)];
                I64Load(i64) -> i64 => [load(I64)];
                F32Load(f32) -> f32 => [load(F32)];
                F64Load(f64) -> f64 => [load(F64)];
                I32Load8S(i8) -> i32 => [sload8(I32)];
                I32Load8U(u8) -> i32 => [uload8(I32)];
                I32Load16S(i16) -> i32 => [sload16(I32)];
                I32Load16U(u16) -> i32 => [uload16(I32)];
                I64Load8S(i8) -> i64 => [sload8(I64)];
                I64Load8U(u8) -> i64 => [uload8(I64)];
                I64Load16S(i16) -> i64 => [sload16(I64)];
                I64Load16U(u16) -> i64 => [uload16(I64)];
                I64Load32S(i32) -> i64 => [sload32];
                I64Load32U(u32) -> i64 => [uload32];
            }
            // Stores: the operand, converted with `as` to the stored type.
            store {
                I32Store(i32) -> i32 => [store];
                I64Store(i64) -> i64 => [store];
                F32Store(f32) -> f32 => [store];
                F64Store(f64) -> f64 => [store];
                I32Store8(i32) -> u8 => [istore8];
                I32Store16(i32) -> u16 => [istore16];
                I64Store8(i64) -> u8 => [istore8];
                I64Store16(i64) -> u16 => [istore16];
                I64Store32(i64) -> u32 => [istore32];
            }
        }
    };
}
pub(crate) use numeric_ops;
