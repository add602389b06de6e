//! The interpreter's instruction set: the `Op` enum, generated from the
//! instruction table in `crate::isa` (one variant per numeric row), plus
//! the control, call, memory-management and table instructions written by
//! hand below the generated part.
//!
//! Operands are frame slots (`Slot`): indices into the current frame's
//! slots, which hold the function's locals, its constants and its operand
//! stack. Every slot is an untyped `u64` cell (`crate::types::raw`).

use crate::isa::numeric_ops;

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
                    | Op::MemorySize { dst, .. }
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

    };
}

numeric_ops!(define_op);

// An `Op` stays 16 bytes (a tag and three `u32`s): the memory access mode
// of loads and stores fits in the tag's padding.
const _: () = assert!(size_of::<Op>() == 16);
