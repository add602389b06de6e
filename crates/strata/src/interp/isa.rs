//! The interpreter's instruction set, described once.
//!
//! Every numeric instruction is one row of [`numeric_ops!`]: its name (the
//! same as the wasm operator's name in `wasmparser`), its operand and result
//! types, and its semantics. From those rows macros generate the `Op` enum
//! variants, the executor's match arms (`exec.rs`), the translation from
//! wasm operators (`translate.rs`) and constant folding of initialiser
//! expressions. Control, call, memory-management and table instructions are
//! listed by hand in [`Op`] below the generated part.
//!
//! Operands are frame slots (`Slot`): indices into the current frame's
//! slots, which hold the function's locals, its constants and its operand
//! stack. Every slot is an untyped `u64`; `Raw` converts typed values.

use crate::Trap;

/// A frame slot index.
pub(crate) type Slot = u32;

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

/// The table of numeric instructions. `$callback` receives all rows; see the
/// module documentation.
macro_rules! numeric_ops {
    ($callback:ident $($extra:tt)*) => {
        $callback! {
            $($extra)*
            unary {
                I32Eqz(i32) -> i32 = |x: i32| (x == 0) as i32;
                I64Eqz(i64) -> i32 = |x: i64| (x == 0) as i32;
                RefIsNull(u64) -> i32 = |x: u64| (x == 0) as i32;
                I32Clz(i32) -> i32 = |x: i32| x.leading_zeros() as i32;
                I32Ctz(i32) -> i32 = |x: i32| x.trailing_zeros() as i32;
                I32Popcnt(i32) -> i32 = |x: i32| x.count_ones() as i32;
                I64Clz(i64) -> i64 = |x: i64| x.leading_zeros() as i64;
                I64Ctz(i64) -> i64 = |x: i64| x.trailing_zeros() as i64;
                I64Popcnt(i64) -> i64 = |x: i64| x.count_ones() as i64;
                F32Abs(f32) -> f32 = |x: f32| x.abs();
                F32Neg(f32) -> f32 = |x: f32| -x;
                F32Ceil(f32) -> f32 = |x: f32| crate::semantics::round(x, f32::ceil);
                F32Floor(f32) -> f32 = |x: f32| crate::semantics::round(x, f32::floor);
                F32Trunc(f32) -> f32 = |x: f32| crate::semantics::round(x, f32::trunc);
                F32Nearest(f32) -> f32 = |x: f32| crate::semantics::round(x, f32::round_ties_even);
                F32Sqrt(f32) -> f32 = |x: f32| x.sqrt();
                F64Abs(f64) -> f64 = |x: f64| x.abs();
                F64Neg(f64) -> f64 = |x: f64| -x;
                F64Ceil(f64) -> f64 = |x: f64| crate::semantics::round(x, f64::ceil);
                F64Floor(f64) -> f64 = |x: f64| crate::semantics::round(x, f64::floor);
                F64Trunc(f64) -> f64 = |x: f64| crate::semantics::round(x, f64::trunc);
                F64Nearest(f64) -> f64 = |x: f64| crate::semantics::round(x, f64::round_ties_even);
                F64Sqrt(f64) -> f64 = |x: f64| x.sqrt();
                I32WrapI64(i64) -> i32 = |x: i64| x as i32;
                I64ExtendI32S(i32) -> i64 = |x: i32| x as i64;
                I64ExtendI32U(u32) -> i64 = |x: u32| x as i64;
                I32Extend8S(i32) -> i32 = |x: i32| x as i8 as i32;
                I32Extend16S(i32) -> i32 = |x: i32| x as i16 as i32;
                I64Extend8S(i64) -> i64 = |x: i64| x as i8 as i64;
                I64Extend16S(i64) -> i64 = |x: i64| x as i16 as i64;
                I64Extend32S(i64) -> i64 = |x: i64| x as i32 as i64;
                F32DemoteF64(f64) -> f32 = |x: f64| x as f32;
                F64PromoteF32(f32) -> f64 = |x: f32| x as f64;
                F32ConvertI32S(i32) -> f32 = |x: i32| x as f32;
                F32ConvertI32U(u32) -> f32 = |x: u32| x as f32;
                F32ConvertI64S(i64) -> f32 = |x: i64| x as f32;
                F32ConvertI64U(u64) -> f32 = |x: u64| x as f32;
                F64ConvertI32S(i32) -> f64 = |x: i32| x as f64;
                F64ConvertI32U(u32) -> f64 = |x: u32| x as f64;
                F64ConvertI64S(i64) -> f64 = |x: i64| x as f64;
                F64ConvertI64U(u64) -> f64 = |x: u64| x as f64;
                // Slots hold floats as bits and integers zero-extended, so
                // reinterpretation does not change the slot.
                I32ReinterpretF32(u64) -> u64 = |x: u64| x;
                I64ReinterpretF64(u64) -> u64 = |x: u64| x;
                F32ReinterpretI32(u64) -> u64 = |x: u64| x;
                F64ReinterpretI64(u64) -> u64 = |x: u64| x;
                // Rust's float-to-int `as` saturates and maps NaN to 0,
                // which is exactly `trunc_sat`.
                I32TruncSatF32S(f32) -> i32 = |x: f32| x as i32;
                I32TruncSatF32U(f32) -> u32 = |x: f32| x as u32;
                I32TruncSatF64S(f64) -> i32 = |x: f64| x as i32;
                I32TruncSatF64U(f64) -> u32 = |x: f64| x as u32;
                I64TruncSatF32S(f32) -> i64 = |x: f32| x as i64;
                I64TruncSatF32U(f32) -> u64 = |x: f32| x as u64;
                I64TruncSatF64S(f64) -> i64 = |x: f64| x as i64;
                I64TruncSatF64U(f64) -> u64 = |x: f64| x as u64;
            }
            unary_trap {
                I32TruncF32S(f32) -> i32 = |x: f32| crate::semantics::trunc_checked(x, crate::semantics::I32_MIN, crate::semantics::I32_END).map(|t| t as i32);
                I32TruncF32U(f32) -> u32 = |x: f32| crate::semantics::trunc_checked(x, 0.0, crate::semantics::U32_END).map(|t| t as u32);
                I32TruncF64S(f64) -> i32 = |x: f64| crate::semantics::trunc_checked(x, crate::semantics::I32_MIN, crate::semantics::I32_END).map(|t| t as i32);
                I32TruncF64U(f64) -> u32 = |x: f64| crate::semantics::trunc_checked(x, 0.0, crate::semantics::U32_END).map(|t| t as u32);
                I64TruncF32S(f32) -> i64 = |x: f32| crate::semantics::trunc_checked(x, crate::semantics::I64_MIN, crate::semantics::I64_END).map(|t| t as i64);
                I64TruncF32U(f32) -> u64 = |x: f32| crate::semantics::trunc_checked(x, 0.0, crate::semantics::U64_END).map(|t| t as u64);
                I64TruncF64S(f64) -> i64 = |x: f64| crate::semantics::trunc_checked(x, crate::semantics::I64_MIN, crate::semantics::I64_END).map(|t| t as i64);
                I64TruncF64U(f64) -> u64 = |x: f64| crate::semantics::trunc_checked(x, 0.0, crate::semantics::U64_END).map(|t| t as u64);
            }
            binary {
                I32Add(i32) -> i32 = |a: i32, b: i32| a.wrapping_add(b);
                I32Sub(i32) -> i32 = |a: i32, b: i32| a.wrapping_sub(b);
                I32Mul(i32) -> i32 = |a: i32, b: i32| a.wrapping_mul(b);
                I32And(i32) -> i32 = |a: i32, b: i32| a & b;
                I32Or(i32) -> i32 = |a: i32, b: i32| a | b;
                I32Xor(i32) -> i32 = |a: i32, b: i32| a ^ b;
                I32Shl(i32) -> i32 = |a: i32, b: i32| a.wrapping_shl(b as u32);
                I32ShrS(i32) -> i32 = |a: i32, b: i32| a.wrapping_shr(b as u32);
                I32ShrU(u32) -> u32 = |a: u32, b: u32| a.wrapping_shr(b);
                I32Rotl(i32) -> i32 = |a: i32, b: i32| a.rotate_left(b as u32 % 32);
                I32Rotr(i32) -> i32 = |a: i32, b: i32| a.rotate_right(b as u32 % 32);
                I64Add(i64) -> i64 = |a: i64, b: i64| a.wrapping_add(b);
                I64Sub(i64) -> i64 = |a: i64, b: i64| a.wrapping_sub(b);
                I64Mul(i64) -> i64 = |a: i64, b: i64| a.wrapping_mul(b);
                I64And(i64) -> i64 = |a: i64, b: i64| a & b;
                I64Or(i64) -> i64 = |a: i64, b: i64| a | b;
                I64Xor(i64) -> i64 = |a: i64, b: i64| a ^ b;
                I64Shl(i64) -> i64 = |a: i64, b: i64| a.wrapping_shl(b as u32);
                I64ShrS(i64) -> i64 = |a: i64, b: i64| a.wrapping_shr(b as u32);
                I64ShrU(u64) -> u64 = |a: u64, b: u64| a.wrapping_shr(b as u32);
                I64Rotl(i64) -> i64 = |a: i64, b: i64| a.rotate_left((b % 64) as u32);
                I64Rotr(i64) -> i64 = |a: i64, b: i64| a.rotate_right((b % 64) as u32);
                F32Add(f32) -> f32 = |a: f32, b: f32| a + b;
                F32Sub(f32) -> f32 = |a: f32, b: f32| a - b;
                F32Mul(f32) -> f32 = |a: f32, b: f32| a * b;
                F32Div(f32) -> f32 = |a: f32, b: f32| a / b;
                F32Min(f32) -> f32 = |a: f32, b: f32| crate::semantics::fmin(a, b);
                F32Max(f32) -> f32 = |a: f32, b: f32| crate::semantics::fmax(a, b);
                F32Copysign(f32) -> f32 = |a: f32, b: f32| a.copysign(b);
                F64Add(f64) -> f64 = |a: f64, b: f64| a + b;
                F64Sub(f64) -> f64 = |a: f64, b: f64| a - b;
                F64Mul(f64) -> f64 = |a: f64, b: f64| a * b;
                F64Div(f64) -> f64 = |a: f64, b: f64| a / b;
                F64Min(f64) -> f64 = |a: f64, b: f64| crate::semantics::fmin(a, b);
                F64Max(f64) -> f64 = |a: f64, b: f64| crate::semantics::fmax(a, b);
                F64Copysign(f64) -> f64 = |a: f64, b: f64| a.copysign(b);
            }
            // Comparisons: also fused with a following `br_if` into the
            // branch instruction named after the slash, and, for integers,
            // with an `if` into the branch on the negated comparison named
            // after the `!` (floats have no negation because of NaN).
            compare {
                I32Eq / BrIfI32Eq ! BrIfI32Ne(i32) = |a: i32, b: i32| a == b;
                I32Ne / BrIfI32Ne ! BrIfI32Eq(i32) = |a: i32, b: i32| a != b;
                I32LtS / BrIfI32LtS ! BrIfI32GeS(i32) = |a: i32, b: i32| a < b;
                I32LtU / BrIfI32LtU ! BrIfI32GeU(u32) = |a: u32, b: u32| a < b;
                I32GtS / BrIfI32GtS ! BrIfI32LeS(i32) = |a: i32, b: i32| a > b;
                I32GtU / BrIfI32GtU ! BrIfI32LeU(u32) = |a: u32, b: u32| a > b;
                I32LeS / BrIfI32LeS ! BrIfI32GtS(i32) = |a: i32, b: i32| a <= b;
                I32LeU / BrIfI32LeU ! BrIfI32GtU(u32) = |a: u32, b: u32| a <= b;
                I32GeS / BrIfI32GeS ! BrIfI32LtS(i32) = |a: i32, b: i32| a >= b;
                I32GeU / BrIfI32GeU ! BrIfI32LtU(u32) = |a: u32, b: u32| a >= b;
                I64Eq / BrIfI64Eq ! BrIfI64Ne(i64) = |a: i64, b: i64| a == b;
                I64Ne / BrIfI64Ne ! BrIfI64Eq(i64) = |a: i64, b: i64| a != b;
                I64LtS / BrIfI64LtS ! BrIfI64GeS(i64) = |a: i64, b: i64| a < b;
                I64LtU / BrIfI64LtU ! BrIfI64GeU(u64) = |a: u64, b: u64| a < b;
                I64GtS / BrIfI64GtS ! BrIfI64LeS(i64) = |a: i64, b: i64| a > b;
                I64GtU / BrIfI64GtU ! BrIfI64LeU(u64) = |a: u64, b: u64| a > b;
                I64LeS / BrIfI64LeS ! BrIfI64GtS(i64) = |a: i64, b: i64| a <= b;
                I64LeU / BrIfI64LeU ! BrIfI64GtU(u64) = |a: u64, b: u64| a <= b;
                I64GeS / BrIfI64GeS ! BrIfI64LtS(i64) = |a: i64, b: i64| a >= b;
                I64GeU / BrIfI64GeU ! BrIfI64LtU(u64) = |a: u64, b: u64| a >= b;
                F32Eq / BrIfF32Eq(f32) = |a: f32, b: f32| a == b;
                F32Ne / BrIfF32Ne(f32) = |a: f32, b: f32| a != b;
                F32Lt / BrIfF32Lt(f32) = |a: f32, b: f32| a < b;
                F32Gt / BrIfF32Gt(f32) = |a: f32, b: f32| a > b;
                F32Le / BrIfF32Le(f32) = |a: f32, b: f32| a <= b;
                F32Ge / BrIfF32Ge(f32) = |a: f32, b: f32| a >= b;
                F64Eq / BrIfF64Eq(f64) = |a: f64, b: f64| a == b;
                F64Ne / BrIfF64Ne(f64) = |a: f64, b: f64| a != b;
                F64Lt / BrIfF64Lt(f64) = |a: f64, b: f64| a < b;
                F64Gt / BrIfF64Gt(f64) = |a: f64, b: f64| a > b;
                F64Le / BrIfF64Le(f64) = |a: f64, b: f64| a <= b;
                F64Ge / BrIfF64Ge(f64) = |a: f64, b: f64| a >= b;
            }
            binary_trap {
                I32DivS(i32) -> i32 = crate::semantics::div_s::<i32>;
                I32DivU(i32) -> i32 = crate::semantics::div_u::<i32>;
                I32RemS(i32) -> i32 = crate::semantics::rem_s::<i32>;
                I32RemU(i32) -> i32 = crate::semantics::rem_u::<i32>;
                I64DivS(i64) -> i64 = crate::semantics::div_s::<i64>;
                I64DivU(i64) -> i64 = crate::semantics::div_u::<i64>;
                I64RemS(i64) -> i64 = crate::semantics::rem_s::<i64>;
                I64RemU(i64) -> i64 = crate::semantics::rem_u::<i64>;
            }
            // Loads: the value read from memory, converted with `as`.
            load {
                I32Load(i32) -> i32;
                I64Load(i64) -> i64;
                F32Load(f32) -> f32;
                F64Load(f64) -> f64;
                I32Load8S(i8) -> i32;
                I32Load8U(u8) -> i32;
                I32Load16S(i16) -> i32;
                I32Load16U(u16) -> i32;
                I64Load8S(i8) -> i64;
                I64Load8U(u8) -> i64;
                I64Load16S(i16) -> i64;
                I64Load16U(u16) -> i64;
                I64Load32S(i32) -> i64;
                I64Load32U(u32) -> i64;
            }
            // Stores: the operand, converted with `as` to the stored type.
            store {
                I32Store(i32) -> i32;
                I64Store(i64) -> i64;
                F32Store(f32) -> f32;
                F64Store(f64) -> f64;
                I32Store8(i32) -> u8;
                I32Store16(i32) -> u16;
                I64Store8(i64) -> u8;
                I64Store16(i64) -> u16;
                I64Store32(i64) -> u32;
            }
        }
    };
}
pub(crate) use numeric_ops;

macro_rules! define_op {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr;)* }
        load { $($L:ident($LM:ty) -> $LO:ty;)* }
        store { $($S:ident($SI:ty) -> $SM:ty;)* }
    ) => {
        /// One interpreter instruction. Branch targets are absolute
        /// instruction indices, resolved when the function is translated.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) enum Op {
            $( $U { dst: Slot, src: Slot }, )*
            $( $UT { dst: Slot, src: Slot }, )*
            $( $B { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $C { dst: Slot, lhs: Slot, rhs: Slot }, )*
            /// Jump to `target` when the comparison holds.
            $( $CB { lhs: Slot, rhs: Slot, target: u32 }, )*
            $( $BT { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $L { dst: Slot, addr: Slot, offset: u32 }, )*
            $( $S { addr: Slot, value: Slot, offset: u32 }, )*
            /// Extra operands of the preceding instruction; never executed.
            Ext { a: u32, b: u32, c: u32 },
            /// Trap: `unreachable`.
            Unreachable,
            /// Charge `amount` fuel for the straight-line run that starts
            /// here; trap when there is not that much left.
            ConsumeFuel { amount: u32 },
            /// Trap when the store's epoch deadline has passed.
            CheckEpoch,
            /// `dst = src`.
            Copy { dst: Slot, src: Slot },
            /// Jump.
            Br { target: u32 },
            /// Jump when `cond != 0`. Tests the whole slot, so it serves
            /// i32 and i64 conditions alike (i32 slots are zero-extended).
            BrIfNez { cond: Slot, target: u32 },
            /// Jump when `cond == 0` (whole slot, as `BrIfNez`).
            BrIfEqz { cond: Slot, target: u32 },
            /// Jump to the `min(index, len)`-th of the `len + 1` `Br`s that
            /// follow.
            BrTable { index: Slot, len: u32 },
            /// Return with no results.
            Return,
            /// Return one result.
            Return1 { src: Slot },
            /// Return the results whose slots are `slot_lists[list..list+len]`.
            ReturnMany { list: u32, len: u32 },
            /// Call module function `func`; arguments and results at `base..`.
            Call { func: u32, base: Slot },
            /// Call through `table` at `index` with engine type `type_id`;
            /// followed by `Ext { a: base }`.
            CallIndirect { type_id: u32, table: u32, index: Slot },
            /// `dst = if cond != 0 { a } else { b }`; followed by `Ext { a: b }`.
            Select { dst: Slot, cond: Slot, a: Slot },
            GlobalGet { dst: Slot, global: u32 },
            GlobalSet { global: u32, src: Slot },
            RefFunc { dst: Slot, func: u32 },
            MemorySize { dst: Slot },
            MemoryGrow { dst: Slot, delta: Slot },
            MemoryFill { dst: Slot, value: Slot, len: Slot },
            MemoryCopy { dst: Slot, src: Slot, len: Slot },
            /// Followed by `Ext { a: len }`.
            MemoryInit { segment: u32, dst: Slot, src: Slot },
            DataDrop { segment: u32 },
            TableGet { dst: Slot, table: u32, index: Slot },
            TableSet { table: u32, index: Slot, value: Slot },
            TableSize { dst: Slot, table: u32 },
            /// Followed by `Ext { a: init }`.
            TableGrow { dst: Slot, table: u32, delta: Slot },
            /// Followed by `Ext { a: len }`.
            TableFill { table: u32, dst: Slot, value: Slot },
            /// Followed by `Ext { a: dst, b: src, c: len }`.
            TableCopy { dst_table: u32, src_table: u32 },
            /// Followed by `Ext { a: dst, b: src, c: len }`.
            TableInit { table: u32, segment: u32 },
            ElemDrop { segment: u32 },
        }

        impl Op {
            /// The unary instruction for a wasm operator, if it is one.
            pub(crate) fn unary(op: &wasmparser::Operator<'_>) -> Option<fn(Slot, Slot) -> Op> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$U => |dst, src| Op::$U { dst, src }, )*
                    $( W::$UT => |dst, src| Op::$UT { dst, src }, )*
                    _ => return None,
                })
            }

            /// The binary instruction for a wasm operator, if it is one.
            pub(crate) fn binary(op: &wasmparser::Operator<'_>) -> Option<fn(Slot, Slot, Slot) -> Op> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$B => |dst, lhs, rhs| Op::$B { dst, lhs, rhs }, )*
                    $( W::$C => |dst, lhs, rhs| Op::$C { dst, lhs, rhs }, )*
                    $( W::$BT => |dst, lhs, rhs| Op::$BT { dst, lhs, rhs }, )*
                    _ => return None,
                })
            }

            /// The load instruction and its memory argument, if `op` is a load.
            pub(crate) fn load(op: &wasmparser::Operator<'_>) -> Option<(fn(Slot, Slot, u32) -> Op, wasmparser::MemArg)> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$L { memarg } => (|dst, addr, offset| Op::$L { dst, addr, offset }, *memarg), )*
                    _ => return None,
                })
            }

            /// The store instruction and its memory argument, if `op` is a store.
            pub(crate) fn store(op: &wasmparser::Operator<'_>) -> Option<(fn(Slot, Slot, u32) -> Op, wasmparser::MemArg)> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$S { memarg } => (|addr, value, offset| Op::$S { addr, value, offset }, *memarg), )*
                    _ => return None,
                })
            }

            /// The slot this instruction writes its single result to, if it
            /// is a plain computation the translator may retarget.
            pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Op::$U { dst, .. } )|*
                    $( | Op::$UT { dst, .. } )*
                    $( | Op::$B { dst, .. } )*
                    $( | Op::$C { dst, .. } )*
                    $( | Op::$BT { dst, .. } )*
                    $( | Op::$L { dst, .. } )*
                    | Op::Copy { dst, .. }
                    | Op::GlobalGet { dst, .. }
                    | Op::RefFunc { dst, .. }
                    | Op::MemorySize { dst }
                    | Op::TableGet { dst, .. }
                    | Op::TableSize { dst, .. } => Some(dst),
                    _ => None,
                }
            }
        }

        impl Op {
            /// The fused compare-and-branch form of a comparison: its result
            /// slot and the branch instruction that replaces it.
            pub(crate) fn compare_branch(&self, target: u32) -> Option<(Slot, Op)> {
                match *self {
                    $( Op::$C { dst, lhs, rhs } => Some((dst, Op::$CB { lhs, rhs, target })), )*
                    Op::I32Eqz { dst, src } | Op::I64Eqz { dst, src } => {
                        Some((dst, Op::BrIfEqz { cond: src, target }))
                    }
                    _ => None,
                }
            }

            /// The fused branch taken when a comparison does *not* hold, for
            /// comparisons that have an exact negation (integers).
            pub(crate) fn negated_compare_branch(&self, target: u32) -> Option<(Slot, Op)> {
                match *self {
                    $( $( Op::$C { dst, lhs, rhs } => Some((dst, Op::$CN { lhs, rhs, target })), )? )*
                    Op::I32Eqz { dst, src } | Op::I64Eqz { dst, src } => {
                        Some((dst, Op::BrIfNez { cond: src, target }))
                    }
                    _ => None,
                }
            }

            /// The same conditional branch with the opposite condition and
            /// another target, for branches that have an exact negation.
            pub(crate) fn negated_branch(&self, target: u32) -> Option<Op> {
                match *self {
                    $( $( Op::$CB { lhs, rhs, .. } => Some(Op::$CN { lhs, rhs, target }), )? )*
                    Op::BrIfNez { cond, .. } => Some(Op::BrIfEqz { cond, target }),
                    Op::BrIfEqz { cond, .. } => Some(Op::BrIfNez { cond, target }),
                    _ => None,
                }
            }

            /// The branch target of a branch instruction.
            pub(crate) fn branch_target_mut(&mut self) -> Option<&mut u32> {
                match self {
                    Op::Br { target }
                    | Op::BrIfNez { target, .. }
                    | Op::BrIfEqz { target, .. }
                    $( | Op::$CB { target, .. } )* => Some(target),
                    _ => None,
                }
            }
        }

        /// The binary semantics of a wasm operator on raw slots, for constant
        /// expressions (extended-const).
        pub(crate) fn const_binary(op: &wasmparser::Operator<'_>) -> Option<fn(u64, u64) -> Result<u64, Trap>> {
            use wasmparser::Operator as W;
            Some(match op {
                $( W::$B => |a, b| Ok((($bf)(<$BI>::from_raw(a), <$BI>::from_raw(b)) as $BO).to_raw()), )*
                $( W::$C => |a, b| Ok((($cf)(<$CI>::from_raw(a), <$CI>::from_raw(b)) as i32).to_raw()), )*
                _ => return None,
            })
        }
    };
}

numeric_ops!(define_op);
