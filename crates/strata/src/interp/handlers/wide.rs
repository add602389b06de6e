//! Handlers for the wide-arithmetic instructions (`i64.add128`,
//! `i64.sub128`, `i64.mul_wide_s`, `i64.mul_wide_u`), whose 128-bit result
//! goes to two slots. Like the SIMD handlers they read and write slots only
//! and leave the accumulators alone. The semantics are in
//! `isa/semantics.rs`, shared with the driver.

use super::{next, slot, CallCx, Flow, Handler, Instr, Lowered};
use crate::interp::ops::Op;
use crate::isa::semantics::{add128, mul_wide_s, mul_wide_u, sub128};
use crate::runtime::vm::{VMContext, VMMemory};

/// The handler of a four-operand instruction: `a` is the destination, `b`
/// and `c` the first operand's halves, the `Ext` word's `c` and `a` the
/// second's.
macro_rules! quad {
    ($name:ident, $f:path) => {
        unsafe fn $name(
            ip: *const Instr,
            sp: *mut u64,
            mem: *const VMMemory,
            vmctx: *const VMContext,
            acc: u64,
            cx: *mut CallCx,
            facc: f64,
        ) -> Flow {
            // SAFETY: `ip` points at this instruction, followed by its
            // `Ext` word; their operands are slots of the frame.
            let (i, e) = unsafe { (&*ip, &*ip.add(1)) };
            let (l, h) = $f(
                slot!(sp, i.b),
                slot!(sp, i.c),
                slot!(sp, e.c),
                slot!(sp, e.a),
            );
            let dst = usize::from(i.a);
            // SAFETY: the translator placed both result slots in the frame.
            unsafe {
                *sp.add(dst) = l;
                *sp.add(dst + 1) = h;
            }
            next!(unsafe { ip.add(2) }, sp, mem, vmctx, acc, cx, facc)
        }
    };
}

/// The handler of a two-operand instruction: `a` is the destination, `b`
/// and `c` the operands.
macro_rules! pair {
    ($name:ident, $f:path) => {
        unsafe fn $name(
            ip: *const Instr,
            sp: *mut u64,
            mem: *const VMMemory,
            vmctx: *const VMContext,
            acc: u64,
            cx: *mut CallCx,
            facc: f64,
        ) -> Flow {
            // SAFETY: `ip` points at this instruction, whose operands are
            // slots of the frame.
            let i = unsafe { &*ip };
            let (l, h) = $f(slot!(sp, i.b), slot!(sp, i.c));
            let dst = usize::from(i.a);
            // SAFETY: the translator placed both result slots in the frame.
            unsafe {
                *sp.add(dst) = l;
                *sp.add(dst + 1) = h;
            }
            next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
        }
    };
}

quad!(i64_add128, add128);
quad!(i64_sub128, sub128);
pair!(i64_mul_wide_s, mul_wide_s);
pair!(i64_mul_wide_u, mul_wide_u);

/// Lowers a wide-arithmetic instruction.
pub(super) fn lower(op: &Op) -> Option<Lowered> {
    Some(match *op {
        Op::I64Add128 { dst, low, high } => (i64_add128 as Handler, dst, low, high, None),
        Op::I64Sub128 { dst, low, high } => (i64_sub128 as Handler, dst, low, high, None),
        Op::I64MulWideS { dst, lhs, rhs } => (i64_mul_wide_s as Handler, dst, lhs, rhs, None),
        Op::I64MulWideU { dst, lhs, rhs } => (i64_mul_wide_u as Handler, dst, lhs, rhs, None),
        _ => return None,
    })
}
