//! The atomic instructions of the threads proposal (the `0xFE` prefix):
//! one row each, naming the access size, the value type and what the
//! instruction does. Both tiers are generated from these rows: the
//! interpreter translates every row to one `Op::Atomic` and executes it
//! with `runtime::vm::atomic` (the semantics, written once with Rust's
//! atomics),
//! and the JIT lowers each kind to Cranelift's `atomic_load`,
//! `atomic_store`, `atomic_rmw` and `atomic_cas` (`jit/atomic.rs`).
//! `atomic.fence` has no memory operand and is not a row.

use crate::types::ValType;
use wasmparser::{MemArg, Operator};

/// A read-modify-write operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RmwOp {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Xchg,
}

/// What an atomic instruction does with its operands (after the address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtomicKind {
    /// `-> value`.
    Load,
    /// `value ->`.
    Store,
    /// `value -> old`.
    Rmw(RmwOp),
    /// `expected replacement -> old`.
    Cmpxchg,
    /// `memory.atomic.notify`: `count -> woken`.
    Notify,
    /// `memory.atomic.wait32/64`: `expected timeout -> 0|1|2`.
    Wait,
}

macro_rules! atomic_table {
    ($($name:ident($size:literal, $ty:ident) => $kind:expr;)*) => {
        /// One atomic instruction (a row of the table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum AtomicOp {
            $( $name, )*
        }

        impl AtomicOp {
            /// The row of `op` and its memory argument, if `op` is atomic.
            pub(crate) fn decode(op: &Operator<'_>) -> Option<(AtomicOp, MemArg)> {
                Some(match op {
                    $( Operator::$name { memarg } => (AtomicOp::$name, *memarg), )*
                    _ => return None,
                })
            }

            /// The bytes accessed (and the alignment required).
            pub(crate) fn size(self) -> u32 {
                match self {
                    $( AtomicOp::$name => $size, )*
                }
            }

            /// The type of the value operand and result (the address's
            /// type is the memory's; `notify` counts and `wait` results
            /// are i32).
            pub(crate) fn ty(self) -> ValType {
                match self {
                    $( AtomicOp::$name => ValType::$ty, )*
                }
            }

            /// What the instruction does.
            pub(crate) fn kind(self) -> AtomicKind {
                use AtomicKind::*;
                use RmwOp::*;
                match self {
                    $( AtomicOp::$name => $kind, )*
                }
            }
        }
    };
}

atomic_table! {
    MemoryAtomicNotify(4, I32) => Notify;
    MemoryAtomicWait32(4, I32) => Wait;
    MemoryAtomicWait64(8, I64) => Wait;
    I32AtomicLoad(4, I32) => Load;
    I64AtomicLoad(8, I64) => Load;
    I32AtomicLoad8U(1, I32) => Load;
    I32AtomicLoad16U(2, I32) => Load;
    I64AtomicLoad8U(1, I64) => Load;
    I64AtomicLoad16U(2, I64) => Load;
    I64AtomicLoad32U(4, I64) => Load;
    I32AtomicStore(4, I32) => Store;
    I64AtomicStore(8, I64) => Store;
    I32AtomicStore8(1, I32) => Store;
    I32AtomicStore16(2, I32) => Store;
    I64AtomicStore8(1, I64) => Store;
    I64AtomicStore16(2, I64) => Store;
    I64AtomicStore32(4, I64) => Store;
    I32AtomicRmwAdd(4, I32) => Rmw(Add);
    I64AtomicRmwAdd(8, I64) => Rmw(Add);
    I32AtomicRmw8AddU(1, I32) => Rmw(Add);
    I32AtomicRmw16AddU(2, I32) => Rmw(Add);
    I64AtomicRmw8AddU(1, I64) => Rmw(Add);
    I64AtomicRmw16AddU(2, I64) => Rmw(Add);
    I64AtomicRmw32AddU(4, I64) => Rmw(Add);
    I32AtomicRmwSub(4, I32) => Rmw(Sub);
    I64AtomicRmwSub(8, I64) => Rmw(Sub);
    I32AtomicRmw8SubU(1, I32) => Rmw(Sub);
    I32AtomicRmw16SubU(2, I32) => Rmw(Sub);
    I64AtomicRmw8SubU(1, I64) => Rmw(Sub);
    I64AtomicRmw16SubU(2, I64) => Rmw(Sub);
    I64AtomicRmw32SubU(4, I64) => Rmw(Sub);
    I32AtomicRmwAnd(4, I32) => Rmw(And);
    I64AtomicRmwAnd(8, I64) => Rmw(And);
    I32AtomicRmw8AndU(1, I32) => Rmw(And);
    I32AtomicRmw16AndU(2, I32) => Rmw(And);
    I64AtomicRmw8AndU(1, I64) => Rmw(And);
    I64AtomicRmw16AndU(2, I64) => Rmw(And);
    I64AtomicRmw32AndU(4, I64) => Rmw(And);
    I32AtomicRmwOr(4, I32) => Rmw(Or);
    I64AtomicRmwOr(8, I64) => Rmw(Or);
    I32AtomicRmw8OrU(1, I32) => Rmw(Or);
    I32AtomicRmw16OrU(2, I32) => Rmw(Or);
    I64AtomicRmw8OrU(1, I64) => Rmw(Or);
    I64AtomicRmw16OrU(2, I64) => Rmw(Or);
    I64AtomicRmw32OrU(4, I64) => Rmw(Or);
    I32AtomicRmwXor(4, I32) => Rmw(Xor);
    I64AtomicRmwXor(8, I64) => Rmw(Xor);
    I32AtomicRmw8XorU(1, I32) => Rmw(Xor);
    I32AtomicRmw16XorU(2, I32) => Rmw(Xor);
    I64AtomicRmw8XorU(1, I64) => Rmw(Xor);
    I64AtomicRmw16XorU(2, I64) => Rmw(Xor);
    I64AtomicRmw32XorU(4, I64) => Rmw(Xor);
    I32AtomicRmwXchg(4, I32) => Rmw(Xchg);
    I64AtomicRmwXchg(8, I64) => Rmw(Xchg);
    I32AtomicRmw8XchgU(1, I32) => Rmw(Xchg);
    I32AtomicRmw16XchgU(2, I32) => Rmw(Xchg);
    I64AtomicRmw8XchgU(1, I64) => Rmw(Xchg);
    I64AtomicRmw16XchgU(2, I64) => Rmw(Xchg);
    I64AtomicRmw32XchgU(4, I64) => Rmw(Xchg);
    I32AtomicRmwCmpxchg(4, I32) => Cmpxchg;
    I64AtomicRmwCmpxchg(8, I64) => Cmpxchg;
    I32AtomicRmw8CmpxchgU(1, I32) => Cmpxchg;
    I32AtomicRmw16CmpxchgU(2, I32) => Cmpxchg;
    I64AtomicRmw8CmpxchgU(1, I64) => Cmpxchg;
    I64AtomicRmw16CmpxchgU(2, I64) => Cmpxchg;
    I64AtomicRmw32CmpxchgU(4, I64) => Cmpxchg;
}

#[cfg(test)]
mod tests {
    use super::{AtomicKind, AtomicOp, RmwOp};

    #[test]
    fn rows_decode() {
        let op = wasmparser::Operator::I64AtomicRmw32XchgU {
            memarg: wasmparser::MemArg {
                align: 2,
                max_align: 2,
                offset: 0,
                target: wasmparser::MemArgTarget::Memory(0),
                ordering: None,
            },
        };
        let (row, _) = AtomicOp::decode(&op).expect("a row");
        assert_eq!(row, AtomicOp::I64AtomicRmw32XchgU);
        assert_eq!(row.size(), 4);
        assert_eq!(row.kind(), AtomicKind::Rmw(RmwOp::Xchg));
    }
}
