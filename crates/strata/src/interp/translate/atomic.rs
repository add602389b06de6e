//! Translation of the threads proposal's atomic instructions: every row of
//! `isa/atomic.rs` becomes one `Op::Atomic` that the driver runs
//! (`interp/atomic.rs`), with its memory, offset and operands in two
//! extension words.

use super::Translator;
use crate::interp::ops::Op;
use crate::isa::atomic::{AtomicKind, AtomicOp};
use crate::types::ValType;
use anyhow::{bail, Result};
use wasmparser::Operator;

impl Translator<'_> {
    /// Translates an atomic instruction; false when `op` is not one.
    pub(super) fn atomic(&mut self, op: &Operator<'_>) -> Result<bool> {
        if let Operator::AtomicFence { .. } = op {
            self.emit(Op::AtomicFence);
            return Ok(true);
        }
        let Some((row, memarg)) = AtomicOp::decode(op) else {
            return Ok(false);
        };
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            bail!("atomic accesses to GC arrays are not supported");
        };
        let (low, high) = (memarg.offset as u32, (memarg.offset >> 32) as u32);
        // Operands after the address, popped in reverse.
        let (first, second) = match row.kind() {
            AtomicKind::Load => (0, 0),
            AtomicKind::Store | AtomicKind::Rmw(_) | AtomicKind::Notify => (self.pop(), 0),
            AtomicKind::Cmpxchg | AtomicKind::Wait => {
                let second = self.pop();
                (self.pop(), second)
            }
        };
        let addr = self.pop();
        let dst = match row.kind() {
            AtomicKind::Store => 0,
            AtomicKind::Notify | AtomicKind::Wait => self.push_temp(ValType::I32),
            _ => self.push_temp(row.ty()),
        };
        self.emit(Op::Atomic {
            op: row,
            dst,
            addr,
            offset: low,
        });
        self.emit(Op::Ext {
            a: memory,
            b: high,
            c: first,
        });
        self.emit(Op::Ext {
            a: second,
            b: 0,
            c: 0,
        });
        Ok(true)
    }
}
