//! Superinstructions: an `i32.add` whose sum is the address of the memory
//! 0 load or store right after it runs as one handler.
//!
//! Compiled C and Rust compute most addresses that way (`base + index *
//! size`, `base + field` where the offset would not fold), and the pair is
//! the most frequent one in real programs: in a cold run of the regex app,
//! an add followed by a load or store that uses its sum was about one
//! instruction in eleven. The fused handler saves the add's dispatch.
//!
//! Only the first instruction's handler changes. The access keeps its own
//! lowered instruction right after it, whose operands (destination or
//! value, offset) the fused handler reads, and which nothing else runs: it
//! is not a branch target (lowering checks), nor a landing pad (those are
//! jumps) nor a return point (the add is not a call). The add's sum is
//! still written to its slot, so the access's slot operand holds it. An
//! access out of bounds returns to the driver at the access, which traps
//! there, with its offset.

use super::{
    load_mem0, next, operand, pick, produce, set_slot, store_mem0, CallCx, Flow, Handler, Instr,
    Lowered, Lowering, Prev, Src, ACC, IMM, SLOT,
};
use crate::interp::ops::{Access, Op};
use crate::isa::numeric_ops;
use crate::runtime::vm::{VMContext, VMMemory};
use crate::types::raw::Raw;

/// The address sum of the fused instruction at `ip`: its left operand
/// (`b`, source `L`) plus its right one (`c`, source `R`), written to its
/// slot (`a`) as `i32.add` does.
///
/// # Safety
/// `ip` must be a fused instruction lowered for `L` and `R`, on the frame
/// at `sp`.
#[inline(always)]
unsafe fn sum<const L: Src, const R: Src>(
    ip: *const Instr,
    sp: *mut u64,
    acc: u64,
    facc: f64,
) -> u32 {
    // SAFETY: see the function documentation.
    let i = unsafe { &*ip };
    let (x, y): (i32, i32) = unsafe {
        (
            operand::<i32, L>(u32::from(i.b), sp, acc, facc),
            operand::<i32, R>(i.c, sp, acc, facc),
        )
    };
    let sum = x.wrapping_add(y);
    set_slot!(sp, i.a, sum.to_raw());
    sum as u32
}

macro_rules! fused {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
    ) => {
        /// Lowers `op` fused with `next`, the instruction after it, when
        /// `op` is an `i32.add` and `next` a memory 0 access at its sum;
        /// `prev` is what the instruction before `op` left in an
        /// accumulator.
        pub(super) fn lower(op: &Op, next: &Op, l: &Lowering<'_>, prev: Option<Prev>) -> Option<Lowered> {
            let Op::I32Add { dst, lhs, rhs } = *op else {
                return None;
            };
            let ls = l.src::<i32>(lhs, prev);
            let (rs, rf) = l.src_imm::<i32>(rhs, prev, 32);
            // The handler reads the access's own operand from its lowered
            // instruction, so it must fit there.
            let fits = |slot: u32| u16::try_from(slot).is_ok();
            Some(match *next {
                $( Op::$L { dst: to, addr, access: Access::Mem0, .. } if addr == dst && fits(to) => {
                    unsafe fn h<const L: Src, const R: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: `ip` is this fused instruction and the
                        // load's follows it; `mem` is memory 0.
                        let (addr, at) = unsafe { (sum::<L, R>(ip, sp, acc, facc), ip.add(1)) };
                        let v = match unsafe { load_mem0(mem, addr, (*at).c) } {
                            Some(bytes) => <$LM>::from_le_bytes(bytes) as $LO,
                            None => return Flow::Slow(at),
                        };
                        produce!(v, at, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC]), dst, lhs, rf, None)
                } )*
                $( Op::$S { addr, value, access: Access::Mem0, .. } if addr == dst && fits(value) => {
                    unsafe fn h<const L: Src, const R: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for loads; the value is read from its
                        // slot after the sum is written, in case it is the
                        // sum itself.
                        let (addr, at) = unsafe { (sum::<L, R>(ip, sp, acc, facc), ip.add(1)) };
                        let v: $SI = unsafe { operand::<$SI, SLOT>(u32::from((*at).b), sp, acc, facc) };
                        if unsafe { store_mem0(mem, addr, (*at).c, (v as $SM).to_le_bytes()) }.is_none() {
                            return Flow::Slow(at);
                        }
                        next!(unsafe { at.add(1) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC]), dst, lhs, rf, None)
                } )*
                _ => return None,
            })
        }
    };
}

numeric_ops!(fused);
