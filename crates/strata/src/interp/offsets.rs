//! Where interpreter instructions come from in the module binary, for
//! backtraces and core dumps.
//!
//! Each translated function keeps a sparse table: one entry per instruction
//! that can trap or call (the only places a frame can be stopped at), with
//! the offset of the wasm operator it was translated from. Instructions that
//! only compute (arithmetic, copies, branches, global accesses) have none,
//! so the table is a fraction of the code's size. The handlers never look at
//! it: it is read only when a backtrace is built.

use super::ops::Op;
use crate::isa::numeric_ops;

/// (instruction index, module offset) pairs, sorted by instruction index.
#[derive(Debug, Default)]
pub(crate) struct OffsetMap {
    entries: Box<[(u32, u32)]>,
}

impl OffsetMap {
    /// The map of `entries`, which must be sorted by instruction index.
    pub(crate) fn new(entries: Vec<(u32, u32)>) -> OffsetMap {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        OffsetMap {
            entries: entries.into(),
        }
    }

    /// The module offset of the instruction at `pc`, which stopped (trapped
    /// or called out): the last entry at or before it.
    pub(crate) fn at(&self, pc: usize) -> Option<usize> {
        let after = self.entries.partition_point(|&(i, _)| i as usize <= pc);
        let &(_, offset) = self.entries.get(after.checked_sub(1)?)?;
        Some(offset as usize)
    }

    /// The module offset of the call a frame resumes after, given the index
    /// `ret` it resumes at: the last entry before it (a call may be followed
    /// by extension words, which have no entry).
    pub(crate) fn before(&self, ret: usize) -> Option<usize> {
        self.at(ret.checked_sub(1)?)
    }
}

macro_rules! define_records_offset {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
    ) => {
        /// Whether a frame can stop at `op` (it may trap, call, or run
        /// host code), so its offset belongs in the map. Listed by what
        /// cannot stop, so an instruction added later is mapped until it
        /// is listed here.
        pub(crate) fn records_offset(op: &Op) -> bool {
            !matches!(
                op,
                $( Op::$U { .. } | )*
                $( Op::$B { .. } | )*
                $( Op::$C { .. } | Op::$CB { .. } | )*
                Op::Ext { .. }
                    | Op::Copy { .. }
                    | Op::Br { .. }
                    | Op::BrIfNez { .. }
                    | Op::BrIfEqz { .. }
                    | Op::BrTable { .. }
                    | Op::Return
                    | Op::Return1 { .. }
                    | Op::ReturnMany { .. }
                    | Op::Select { .. }
                    | Op::GlobalGet { .. }
                    | Op::GlobalSet { .. }
                    | Op::GlobalGetV128 { .. }
                    | Op::GlobalSetV128 { .. }
                    | Op::RefFunc { .. }
                    | Op::MemorySize { .. }
                    | Op::DataDrop { .. }
                    | Op::ElemDrop { .. }
                    | Op::TableSize { .. }
            )
        }
    };
}

numeric_ops!(define_records_offset);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_the_instruction_or_the_call_before_a_return_address() {
        let map = OffsetMap::new(vec![(2, 0x20), (5, 0x31), (6, 0x40)]);
        assert_eq!(map.at(0), None);
        assert_eq!(map.at(2), Some(0x20));
        assert_eq!(map.at(4), Some(0x20));
        assert_eq!(map.at(5), Some(0x31));
        assert_eq!(map.at(100), Some(0x40));
        // A call at 5 followed by an extension word resumes at 7.
        assert_eq!(map.before(7), Some(0x40));
        assert_eq!(map.before(6), Some(0x31));
        assert_eq!(map.before(0), None);
    }

    #[test]
    fn only_instructions_that_can_stop_a_frame_are_recorded() {
        assert!(records_offset(&Op::Unreachable));
        assert!(records_offset(&Op::Call { func: 0, base: 0 }));
        assert!(records_offset(&Op::I32DivS {
            dst: 0,
            lhs: 0,
            rhs: 0
        }));
        assert!(records_offset(&Op::I32Load {
            dst: 0,
            addr: 0,
            offset: 0,
            access: crate::interp::ops::Access::Mem0,
        }));
        assert!(records_offset(&Op::CheckEpoch));
        assert!(!records_offset(&Op::I32Add {
            dst: 0,
            lhs: 0,
            rhs: 0
        }));
        assert!(!records_offset(&Op::Br { target: 0 }));
        assert!(!records_offset(&Op::Copy { dst: 0, src: 0 }));
    }
}
