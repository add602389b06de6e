//! The interpreter's instruction set: the `Op` enum, generated from the
//! instruction table in `crate::isa` (one variant per numeric row), plus
//! the control, call, memory-management and table instructions written by
//! hand below the generated part.
//!
//! Operands are frame slots (`Slot`): indices into the current frame's
//! slots, which hold the function's locals, its constants and its operand
//! stack. Every slot is an untyped `u64` cell (`crate::types::raw`).

use crate::isa::atomic::AtomicOp;
use crate::isa::gc::GcOp;
use crate::isa::{numeric_ops, simd_ops};
use crate::types::ValType;

/// A frame slot index.
pub(crate) type Slot = u32;

/// How a load or store finds its memory, address and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The fast path: memory 0 with 32-bit addresses, the whole offset in
    /// the instruction (the handlers' cached `mem`).
    Mem0,
    /// Any other memory, or a 64-bit one: followed by `Ext { a: memory, b:
    /// offset >> 32 }`, resolved through the `VMContext`; the address is
    /// the whole slot (an `i32` is zero-extended) and the effective address
    /// is computed in 64 bits with an overflow check. `offset >> 32` is 0,
    /// so handlers run it.
    Indexed,
    /// As `Indexed`, with an offset of 4 GiB or more (memory64 only): the
    /// driver runs it.
    Wide,
}

macro_rules! define_op {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
        v_unary { $($VU:ident = $vuf:expr => $VUJ:tt;)* }
        v_binary { $($VB:ident = $vbf:expr => $VBJ:tt;)* }
        v_ternary { $($VT:ident = $vtf:expr => $VTJ:tt;)* }
        v_test { $($VX:ident = $vxf:expr => $VXJ:tt;)* }
        v_shift { $($VS:ident = $vsf:expr => $VSJ:tt;)* }
        v_splat { $($VP:ident($VPT:ty) = $vpf:expr => $VPJ:tt;)* }
        v_extract { $($VE:ident -> $VET:ty = $vef:expr => $VEJ:tt;)* }
        v_replace { $($VR:ident($VRT:ty) = $vrf:expr => $VRJ:tt;)* }
        v_load { $($VL:ident($VLN:literal) = $vlf:expr => $VLJ:tt;)* }
        v_load_lane { $($VLL:ident($VLLN:literal) => $VLLJ:tt;)* }
        v_store_lane { $($VSL:ident($VSLN:literal) => $VSLJ:tt;)* }
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
            /// `offset` is the whole offset (`Access::Mem0`) or its low
            /// half (followed by `Ext { a: memory, b: offset >> 32 }`).
            $( $L { dst: Slot, addr: Slot, offset: u32, access: Access }, )*
            $( $S { addr: Slot, value: Slot, offset: u32, access: Access }, )*
            // SIMD rows (`isa/simd.rs`); a `v128` operand or result is the
            // first of its two slots.
            $( $VU { dst: Slot, src: Slot }, )*
            $( $VB { dst: Slot, lhs: Slot, rhs: Slot }, )*
            /// Followed by `Ext { a: c }`, the third operand.
            $( $VT { dst: Slot, a: Slot, b: Slot }, )*
            $( $VX { dst: Slot, src: Slot }, )*
            $( $VS { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $VP { dst: Slot, src: Slot }, )*
            $( $VE { dst: Slot, src: Slot, lane: u32 }, )*
            /// Followed by `Ext { a: lane }`.
            $( $VR { dst: Slot, vec: Slot, val: Slot }, )*
            // Vector loads and stores address memory as scalar ones do
            // (`Access`): unless `Access::Mem0`, the access's `Ext { a:
            // memory, b: offset >> 32 }` follows the instruction, before
            // any extension word of its other operands.
            $( $VL { dst: Slot, addr: Slot, offset: u32, access: Access }, )*
            /// Followed by `Ext { a: vec, b: lane }` (after the access's).
            $( $VLL { dst: Slot, addr: Slot, offset: u32, access: Access }, )*
            /// Followed by `Ext { a: lane }` (after the access's).
            $( $VSL { addr: Slot, vec: Slot, offset: u32, access: Access }, )*
            V128Store { addr: Slot, value: Slot, offset: u32, access: Access },
            /// Followed by `Ext { a: mask }`, the slot of the lane indices
            /// (a `v128` constant).
            I8x16Shuffle { dst: Slot, a: Slot, b: Slot },
            /// Wide arithmetic: the 128-bit result's halves go to `dst`
            /// and `dst + 1`. `I64Add128` and `I64Sub128` take the first
            /// operand's halves here and are followed by `Ext { a: low, b:
            /// high }` of the second.
            I64Add128 { dst: Slot, low: Slot, high: Slot },
            I64Sub128 { dst: Slot, low: Slot, high: Slot },
            I64MulWideS { dst: Slot, lhs: Slot, rhs: Slot },
            I64MulWideU { dst: Slot, lhs: Slot, rhs: Slot },
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
            /// Call the function referenced by `callee` (trap if null);
            /// arguments and results at `base..`.
            CallRef { callee: Slot, base: Slot },
            /// Tail calls: like `Call`, `CallIndirect` and `CallRef`, but
            /// the callee replaces the current frame (its arguments move
            /// down to the frame's base), so the call stack does not grow.
            ReturnCall { func: u32, base: Slot },
            /// Followed by `Ext { a: base }`.
            ReturnCallIndirect { type_id: u32, table: u32, index: Slot },
            ReturnCallRef { callee: Slot, base: Slot },
            /// `dst = src`, trapping when `src` is null.
            RefAsNonNull { dst: Slot, src: Slot },
            /// `dst = if cond != 0 { a } else { b }`; followed by `Ext { a: b }`.
            Select { dst: Slot, cond: Slot, a: Slot },
            GlobalGet { dst: Slot, global: u32 },
            GlobalSet { global: u32, src: Slot },
            /// `global.get` of a `v128` global into `dst` and `dst + 1`.
            GlobalGetV128 { dst: Slot, global: u32 },
            /// `global.set` of a `v128` global from `src` and `src + 1`.
            GlobalSetV128 { global: u32, src: Slot },
            RefFunc { dst: Slot, func: u32 },
            MemorySize { dst: Slot, memory: u32 },
            MemoryGrow { dst: Slot, delta: Slot, memory: u32 },
            /// Followed by `Ext { a: memory }`.
            MemoryFill { dst: Slot, value: Slot, len: Slot },
            /// Followed by `Ext { a: destination memory, b: source memory }`.
            MemoryCopy { dst: Slot, src: Slot, len: Slot },
            /// Followed by `Ext { a: len, b: memory }`.
            MemoryInit { segment: u32, dst: Slot, src: Slot },
            DataDrop { segment: u32 },
            /// An atomic instruction (a row of `isa/atomic.rs`), run by
            /// the driver: `offset` is the low half of the offset; followed
            /// by `Ext { a: memory, b: offset >> 32, c: first operand }`
            /// and `Ext { a: second operand }` (the operands after the
            /// address, as the row's kind takes them).
            Atomic { op: AtomicOp, dst: Slot, addr: Slot, offset: u32 },
            /// `atomic.fence`.
            AtomicFence,
            /// A GC instruction (`isa/gc.rs` lists its operands), run by
            /// the driver (`interp/gc.rs`); always followed by one `Ext`.
            Gc { op: GcOp, a: u32, b: u32, c: u32 },
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
            /// `throw` of module tag `tag` whose payload's cells start at
            /// slot `base`.
            Throw { tag: u32, base: Slot },
            /// `throw_ref` of the exnref in `src`.
            ThrowRef { src: Slot },
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
            pub(crate) fn load(op: &wasmparser::Operator<'_>) -> Option<(fn(Slot, Slot, u32, Access) -> Op, wasmparser::MemArg)> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$L { memarg } => (|dst, addr, offset, access| Op::$L { dst, addr, offset, access }, *memarg), )*
                    _ => return None,
                })
            }

            /// The store instruction and its memory argument, if `op` is a store.
            pub(crate) fn store(op: &wasmparser::Operator<'_>) -> Option<(fn(Slot, Slot, u32, Access) -> Op, wasmparser::MemArg)> {
                use wasmparser::Operator as W;
                Some(match op {
                    $( W::$S { memarg } => (|addr, value, offset, access| Op::$S { addr, value, offset, access }, *memarg), )*
                    _ => return None,
                })
            }

            /// The (first) slot this instruction writes its single result
            /// to, if it is a plain computation the translator may
            /// retarget: it reads all its operands before it writes its
            /// result's one cell (two for a `v128`).
            pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Op::$U { dst, .. } )|*
                    $( | Op::$UT { dst, .. } )*
                    $( | Op::$B { dst, .. } )*
                    $( | Op::$C { dst, .. } )*
                    $( | Op::$BT { dst, .. } )*
                    $( | Op::$L { dst, .. } )*
                    $( | Op::$VX { dst, .. } )*
                    $( | Op::$VE { dst, .. } )*
                    $( | Op::$VU { dst, .. } )*
                    $( | Op::$VB { dst, .. } )*
                    $( | Op::$VT { dst, .. } )*
                    $( | Op::$VS { dst, .. } )*
                    $( | Op::$VP { dst, .. } )*
                    $( | Op::$VR { dst, .. } )*
                    $( | Op::$VL { dst, .. } )*
                    $( | Op::$VLL { dst, .. } )*
                    | Op::I8x16Shuffle { dst, .. }
                    | Op::Copy { dst, .. }
                    | Op::Select { dst, .. }
                    | Op::GlobalGet { dst, .. }
                    | Op::RefFunc { dst, .. }
                    | Op::MemorySize { dst, .. }
                    | Op::TableGet { dst, .. }
                    | Op::TableSize { dst, .. } => Some(dst),
                    _ => None,
                }
            }
        }

        impl Op {
            /// The SIMD instruction for a wasm operator (other than
            /// `v128.store` and `i8x16.shuffle`), by its shape.
            pub(crate) fn simd(op: &wasmparser::Operator<'_>) -> Option<Simd> {
                use wasmparser::Operator as W;
                use crate::isa::Wasm;
                Some(match op {
                    $( W::$VU => Simd::Unary(|dst, src| Op::$VU { dst, src }, ValType::V128), )*
                    $( W::$VX => Simd::Unary(|dst, src| Op::$VX { dst, src }, ValType::I32), )*
                    $( W::$VP => Simd::Unary(|dst, src| Op::$VP { dst, src }, ValType::V128), )*
                    $( W::$VB => Simd::Binary(|dst, lhs, rhs| Op::$VB { dst, lhs, rhs }), )*
                    $( W::$VS => Simd::Binary(|dst, lhs, rhs| Op::$VS { dst, lhs, rhs }), )*
                    $( W::$VT => Simd::Ternary(|dst, a, b| Op::$VT { dst, a, b }), )*
                    $( W::$VE { lane } => Simd::Extract(|dst, src, lane| Op::$VE { dst, src, lane }, <$VET as Wasm>::TYPE, *lane), )*
                    $( W::$VR { lane } => Simd::Replace(|dst, vec, val| Op::$VR { dst, vec, val }, *lane), )*
                    $( W::$VL { memarg } => Simd::Load(|dst, addr, offset, access| Op::$VL { dst, addr, offset, access }, *memarg), )*
                    $( W::$VLL { memarg, lane } => Simd::LoadLane(|dst, addr, offset, access| Op::$VLL { dst, addr, offset, access }, *memarg, *lane), )*
                    $( W::$VSL { memarg, lane } => Simd::StoreLane(|addr, vec, offset, access| Op::$VSL { addr, vec, offset, access }, *memarg, *lane), )*
                    _ => return None,
                })
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

    };
}

/// How the translator builds a SIMD instruction, by its shape (see
/// `Op::simd`).
pub(crate) enum Simd {
    /// One operand; the result's type.
    Unary(fn(Slot, Slot) -> Op, ValType),
    /// Two operands (the second an `i32` count for shifts), a `v128`.
    Binary(fn(Slot, Slot, Slot) -> Op),
    /// Three `v128` operands, the third in an `Ext` word.
    Ternary(fn(Slot, Slot, Slot) -> Op),
    /// A lane of a `v128`: the result's type and the lane.
    Extract(fn(Slot, Slot, u32) -> Op, ValType, u8),
    /// A `v128` with a lane replaced; the lane goes in an `Ext` word.
    Replace(fn(Slot, Slot, Slot) -> Op, u8),
    /// A load producing a `v128`.
    Load(fn(Slot, Slot, u32, Access) -> Op, wasmparser::MemArg),
    /// A lane load; the vector and the lane go in an `Ext` word.
    LoadLane(fn(Slot, Slot, u32, Access) -> Op, wasmparser::MemArg, u8),
    /// A lane store; the lane goes in an `Ext` word.
    StoreLane(fn(Slot, Slot, u32, Access) -> Op, wasmparser::MemArg, u8),
}

numeric_ops!(simd_ops define_op);

// An `Op` stays 16 bytes (a tag and three `u32`s): the memory access mode
// of loads and stores fits in the tag's padding.
const _: () = assert!(size_of::<Op>() == 16);
