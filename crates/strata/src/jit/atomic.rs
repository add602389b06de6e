//! The threads proposal's atomic instructions in compiled code, one arm per
//! kind of row of `isa/atomic.rs`: Cranelift's `atomic_load`,
//! `atomic_store`, `atomic_rmw` and `atomic_cas` (sequentially consistent)
//! at an address checked explicitly, alignment first ("unaligned atomic")
//! then bounds (never left to the guard region: an atomic
//! read-modify-write is not one plain load or store whose fault the
//! signal handler knows). `memory.atomic.wait/notify` call runtime
//! helpers, which use the shared memory's parking lot.

use super::access::memarg_memory;
use super::helpers::Builtins;
use super::translate::Translator;
use crate::isa::atomic::{AtomicKind, AtomicOp, RmwOp};
use crate::runtime::vm::VMMemory;
use crate::types::ValType;
use crate::Trap;
use anyhow::Result;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{
    AtomicRmwOp, InstBuilder, MemFlags, StackSlotData, StackSlotKind, TrapCode, Type, Value,
};
use std::mem::offset_of;

/// The Cranelift integer type of an access of `size` bytes.
fn access_type(size: u32) -> Type {
    match size {
        1 => I8,
        2 => I16,
        4 => I32,
        _ => I64,
    }
}

/// The Cranelift operation of a read-modify-write row.
fn rmw_op(op: RmwOp) -> AtomicRmwOp {
    match op {
        RmwOp::Add => AtomicRmwOp::Add,
        RmwOp::Sub => AtomicRmwOp::Sub,
        RmwOp::And => AtomicRmwOp::And,
        RmwOp::Or => AtomicRmwOp::Or,
        RmwOp::Xor => AtomicRmwOp::Xor,
        RmwOp::Xchg => AtomicRmwOp::Xchg,
    }
}

impl Translator<'_, '_> {
    /// Translates an atomic instruction; false when `op` is not one.
    pub(super) fn atomic(&mut self, op: &wasmparser::Operator<'_>) -> Result<bool> {
        if let wasmparser::Operator::AtomicFence { .. } = op {
            self.b.ins().fence();
            return Ok(true);
        }
        let Some((row, memarg)) = AtomicOp::decode(op) else {
            return Ok(false);
        };
        let memory = memarg_memory(&memarg)?;
        let size = row.size();
        let narrow = access_type(size);
        let wide = super::abi::clif_type(row.ty());
        // Operands after the address, as the row's kind takes them.
        let (a, b) = match row.kind() {
            AtomicKind::Load => (None, None),
            AtomicKind::Cmpxchg | AtomicKind::Wait => {
                let (a, b) = self.pop2();
                (Some(a), Some(b))
            }
            _ => (Some(self.pop()), None),
        };
        let index = self.pop();
        let ea = self.atomic_address(memory, index, memarg.offset, size);
        let flags = MemFlags::trusted();
        let narrowed = |t: &mut Self, v: Value| {
            if narrow == wide {
                v
            } else {
                t.b.ins().ireduce(narrow, v)
            }
        };
        let widened = |t: &mut Self, v: Value| {
            if narrow == wide {
                v
            } else {
                t.b.ins().uextend(wide, v)
            }
        };
        let operand = |v: Option<Value>| v.unwrap_or_else(|| unreachable!("popped above"));
        let result = match row.kind() {
            AtomicKind::Load => {
                let (_, base) = self.memory(memory);
                let addr = self.b.ins().iadd(base, ea);
                let v = self.b.ins().atomic_load(narrow, flags, addr);
                Some(widened(self, v))
            }
            AtomicKind::Store => {
                let (_, base) = self.memory(memory);
                let addr = self.b.ins().iadd(base, ea);
                let v = narrowed(self, operand(a));
                self.b.ins().atomic_store(flags, v, addr);
                None
            }
            AtomicKind::Rmw(op) => {
                let (_, base) = self.memory(memory);
                let addr = self.b.ins().iadd(base, ea);
                let v = narrowed(self, operand(a));
                let old = self.b.ins().atomic_rmw(narrow, flags, rmw_op(op), addr, v);
                Some(widened(self, old))
            }
            AtomicKind::Cmpxchg => {
                let (_, base) = self.memory(memory);
                let addr = self.b.ins().iadd(base, ea);
                let expected = narrowed(self, operand(a));
                let replacement = narrowed(self, operand(b));
                let old = self.b.ins().atomic_cas(flags, addr, expected, replacement);
                Some(widened(self, old))
            }
            AtomicKind::Notify => {
                let m = self.b.ins().iconst(I32, i64::from(memory));
                let count = self.b.ins().uextend(I64, operand(a));
                let args = [m, ea, count];
                Some(self.builtin_value(offset_of!(Builtins, atomic_notify), &args))
            }
            AtomicKind::Wait => {
                let m = self.b.ins().iconst(I32, i64::from(memory));
                let s = self.b.ins().iconst(I32, i64::from(size));
                let expected = self.widen(operand(a));
                let args = [m, s, ea, expected, operand(b)];
                Some(self.builtin_value(offset_of!(Builtins, atomic_wait), &args))
            }
        };
        if let Some(v) = result {
            let ty = match row.kind() {
                AtomicKind::Notify | AtomicKind::Wait => ValType::I32,
                _ => row.ty(),
            };
            self.push(v, ty);
        }
        Ok(true)
    }

    /// Calls a helper with `args` and a result slot, traps on a pending
    /// error, and gives the i32 result it stored.
    fn builtin_value(&mut self, offset: usize, args: &[Value]) -> Value {
        let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3);
        let slot = self.b.create_sized_stack_slot(data);
        let out = self.b.ins().stack_addr(I64, slot, 0);
        let mut all = args.to_vec();
        all.push(out);
        self.builtin_status(offset, &all);
        let r = self.b.ins().stack_load(I64, slot, 0);
        self.b.ins().ireduce(I32, r)
    }

    /// The effective address (an i64 offset into memory `memory`) of a
    /// `size`-byte atomic access at `index + offset`, trapping when it is
    /// not a multiple of `size`, then when it is out of bounds.
    fn atomic_address(&mut self, memory: u32, index: Value, offset: u64, size: u32) -> Value {
        let index = self.widen(index);
        let offset = self.b.ins().iconst(I64, offset as i64);
        let ea = self
            .b
            .ins()
            .uadd_overflow_trap(index, offset, TrapCode::HEAP_OUT_OF_BOUNDS);
        if size > 1 {
            let low = self.b.ins().band_imm(ea, i64::from(size - 1));
            self.trap_if(low, Trap::HeapMisaligned);
        }
        let (vmmem, _) = self.memory(memory);
        let size = self.b.ins().iconst(I64, i64::from(size));
        let end = self
            .b
            .ins()
            .uadd_overflow_trap(ea, size, TrapCode::HEAP_OUT_OF_BOUNDS);
        let len = self.load_vm(I64, vmmem, offset_of!(VMMemory, len));
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        ea
    }
}
