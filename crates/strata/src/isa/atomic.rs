//! The atomic instructions of the threads proposal (the `0xFE` prefix):
//! one row each, naming the access size, the value type and what the
//! instruction does. Both tiers are generated from these rows: the
//! interpreter translates every row to one `Op::Atomic` and executes it
//! with `execute` below (the semantics, written once with Rust's atomics),
//! and the JIT lowers each kind to Cranelift's `atomic_load`,
//! `atomic_store`, `atomic_rmw` and `atomic_cas` (`jit/atomic.rs`).
//! `atomic.fence` has no memory operand and is not a row.

use crate::types::ValType;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};
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

/// Runs a load, store, read-modify-write or compare-exchange of `size`
/// bytes at `p` (sequentially consistent, as the proposal specifies):
/// `a` is the value operand (the expected value for `Cmpxchg`), `b` the
/// replacement. Operands are truncated to the access size (the spec wraps
/// them) and the result is the old value zero-extended (nothing for a
/// store).
///
/// # Safety
/// `p` must be valid for `size` bytes, aligned to `size`, and only ever
/// accessed atomically or through raw pointers by other threads.
pub(crate) unsafe fn execute(kind: AtomicKind, size: u32, p: *mut u8, a: u64, b: u64) -> u64 {
    macro_rules! with_width {
        ($atomic:ty, $int:ty) => {{
            // SAFETY: guaranteed by the caller.
            let cell = unsafe { <$atomic>::from_ptr(p.cast::<$int>()) };
            let (a, b) = (a as $int, b as $int);
            const SC: Ordering = Ordering::SeqCst;
            (match kind {
                AtomicKind::Load => cell.load(SC),
                AtomicKind::Store => {
                    cell.store(a, SC);
                    0
                }
                AtomicKind::Rmw(RmwOp::Add) => cell.fetch_add(a, SC),
                AtomicKind::Rmw(RmwOp::Sub) => cell.fetch_sub(a, SC),
                AtomicKind::Rmw(RmwOp::And) => cell.fetch_and(a, SC),
                AtomicKind::Rmw(RmwOp::Or) => cell.fetch_or(a, SC),
                AtomicKind::Rmw(RmwOp::Xor) => cell.fetch_xor(a, SC),
                AtomicKind::Rmw(RmwOp::Xchg) => cell.swap(a, SC),
                AtomicKind::Cmpxchg => match cell.compare_exchange(a, b, SC, SC) {
                    Ok(old) | Err(old) => old,
                },
                // Not memory accesses of their own: the runtime's
                // parking lot runs them.
                AtomicKind::Notify | AtomicKind::Wait => 0,
            }) as u64
        }};
    }
    match size {
        1 => with_width!(AtomicU8, u8),
        2 => with_width!(AtomicU16, u16),
        4 => with_width!(AtomicU32, u32),
        _ => with_width!(AtomicU64, u64),
    }
}

#[cfg(test)]
mod tests {
    use super::{execute, AtomicKind, AtomicOp, RmwOp};

    #[test]
    fn rows_and_semantics() {
        let mut cell = 0x1122_3344_5566_7788_u64;
        let p = (&mut cell as *mut u64).cast::<u8>();
        // SAFETY (all calls): `p` is an aligned, live u64 only this thread
        // uses.
        unsafe {
            assert_eq!(execute(AtomicKind::Load, 8, p, 0, 0), 0x1122_3344_5566_7788);
            assert_eq!(execute(AtomicKind::Load, 1, p, 0, 0), 0x88);
            let old = execute(AtomicKind::Rmw(RmwOp::Add), 1, p, 0x1_0000_0009, 0);
            assert_eq!(old, 0x88);
            assert_eq!(cell & 0xff, 0x91);
            // Compare-exchange compares the wrapped expected value.
            let old = execute(AtomicKind::Cmpxchg, 2, p, 0xffff_7791, 0xabcd);
            assert_eq!(old, 0x7791);
            assert_eq!(cell & 0xffff, 0xabcd);
            let old = execute(AtomicKind::Cmpxchg, 2, p, 1, 2);
            assert_eq!(old, 0xabcd);
            execute(AtomicKind::Store, 4, p, 7, 0);
            assert_eq!(cell, 0x1122_3344_0000_0007);
        }
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
