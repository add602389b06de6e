//! Handlers for the numeric instructions and memory accesses, one generic
//! handler per row of the instruction table in `crate::isa`, instantiated per
//! operand source.

use super::{
    jump, load_indexed, load_mem0, next, operand, pick, produce, rel, set_slot, store_indexed,
    store_mem0, Flow, Handler, Instr, Lowered, Lowering, Prev, ACC, IMM, SLOT,
};
use super::{CallCx, Src};
use crate::interp::ops::{Access, Op};
use crate::isa::numeric_ops;
use crate::runtime::vm::{VMContext, VMMemory};

macro_rules! lowering {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
    ) => {
        /// Lowers a numeric instruction, a load or a store at `pc`; `prev`
        /// is what the previous instruction left in an accumulator.
        pub(super) fn lower(op: &Op, pc: usize, l: &Lowering<'_>, prev: Option<Prev>) -> Option<Lowered> {
            Some(match *op {
                $( Op::$U { dst, src } => {
                    unsafe fn h<const S: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: `ip` points at this instruction, whose
                        // operands lowering chose for `S`.
                        let x: $UI = unsafe { operand::<$UI, S>(u32::from((*ip).b), sp, acc, facc) };
                        let v: $UO = ($uf)(x);
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    let s = l.src::<$UI>(src, prev);
                    (pick!(h; s [SLOT, ACC]), dst, src, 0, Prev::of::<$UO>(dst))
                } )*
                $( Op::$UT { dst, src } => {
                    unsafe fn h<const S: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions.
                        let x: $UTI = unsafe { operand::<$UTI, S>(u32::from((*ip).b), sp, acc, facc) };
                        let v: $UTO = match ($utf)(x) {
                            Ok(v) => v,
                            Err(_) => return Flow::Slow(ip),
                        };
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    let s = l.src::<$UTI>(src, prev);
                    (pick!(h; s [SLOT, ACC]), dst, src, 0, Prev::of::<$UTO>(dst))
                } )*
                $( Op::$B { dst, lhs, rhs } => {
                    unsafe fn h<const L: Src, const R: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions.
                        let (x, y): ($BI, $BI) = unsafe {
                            let i = &*ip;
                            (operand::<$BI, L>(u32::from(i.b), sp, acc, facc), operand::<$BI, R>(i.c, sp, acc, facc))
                        };
                        let v: $BO = ($bf)(x, y);
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    let ls = l.src::<$BI>(lhs, prev);
                    let (rs, rf) = l.src_imm::<$BI>(rhs, prev, 32);
                    (pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC]), dst, lhs, rf, Prev::of::<$BO>(dst))
                } )*
                $( Op::$C { dst, lhs, rhs } => {
                    unsafe fn h<const L: Src, const R: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions.
                        let (x, y): ($CI, $CI) = unsafe {
                            let i = &*ip;
                            (operand::<$CI, L>(u32::from(i.b), sp, acc, facc), operand::<$CI, R>(i.c, sp, acc, facc))
                        };
                        let v = ($cf)(x, y) as i32;
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    let ls = l.src::<$CI>(lhs, prev);
                    let (rs, rf) = l.src_imm::<$CI>(rhs, prev, 32);
                    (pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC]), dst, lhs, rf, Prev::of::<i32>(dst))
                } )*
                $( Op::$CB { lhs, rhs, target } => {
                    // The right operand's immediate is 16 bits: `c` holds
                    // the branch offset.
                    unsafe fn h<const L: Src, const R: Src, const BACK: bool>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions.
                        let (i, x, y): (&Instr, $CI, $CI) = unsafe {
                            let i = &*ip;
                            let rf = if R == IMM { i.b as i16 as i32 as u32 } else { u32::from(i.b) };
                            (i, operand::<$CI, L>(u32::from(i.a), sp, acc, facc), operand::<$CI, R>(rf, sp, acc, facc))
                        };
                        if ($cf)(x, y) {
                            jump!(BACK, ip, i.c, sp, mem, vmctx, acc, cx, facc)
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    let ls = l.src::<$CI>(lhs, prev);
                    let (rs, rf) = l.src_imm::<$CI>(rhs, prev, 16);
                    let (offset, back) = rel(pc, target);
                    let handler = pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC], back [true, false]);
                    (handler, lhs, rf, offset, None)
                } )*
                $( Op::$BT { dst, lhs, rhs } => {
                    unsafe fn h<const L: Src, const R: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions.
                        let (x, y): ($BTI, $BTI) = unsafe {
                            let i = &*ip;
                            (operand::<$BTI, L>(u32::from(i.b), sp, acc, facc), operand::<$BTI, R>(i.c, sp, acc, facc))
                        };
                        let v: $BTO = match ($btf)(x, y) {
                            Ok(v) => v,
                            Err(_) => return Flow::Slow(ip),
                        };
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    let ls = l.src::<$BTI>(lhs, prev);
                    let (rs, rf) = l.src_imm::<$BTI>(rhs, prev, 32);
                    (pick!(h; ls [SLOT, ACC], rs [SLOT, IMM, ACC]), dst, lhs, rf, Prev::of::<$BTO>(dst))
                } )*
                $( Op::$L { dst, addr, offset, access } => {
                    unsafe fn h<const A: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions; `mem` is the
                        // current instance's live memory 0.
                        let i = unsafe { &*ip };
                        let base: u32 = unsafe { operand::<u32, A>(u32::from(i.b), sp, acc, facc) };
                        let v = match unsafe { load_mem0(mem, base, i.c) } {
                            Some(bytes) => <$LM>::from_le_bytes(bytes) as $LO,
                            None => return Flow::Slow(ip),
                        };
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
                    }
                    unsafe fn hx<const A: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for unary instructions; the extension
                        // word names a memory of the current instance.
                        let i = unsafe { &*ip };
                        let addr: u64 = unsafe { operand::<u64, A>(u32::from(i.b), sp, acc, facc) };
                        let v = match unsafe { load_indexed(ip, vmctx, addr) } {
                            Some(bytes) => <$LM>::from_le_bytes(bytes) as $LO,
                            None => return Flow::Slow(ip),
                        };
                        produce!(v, ip, sp, mem, vmctx, acc, cx, facc; 2)
                    }
                    match access {
                        Access::Mem0 => {
                            let s = l.src::<u32>(addr, prev);
                            (pick!(h; s [SLOT, ACC]), dst, addr, offset, Prev::of::<$LO>(dst))
                        }
                        Access::Indexed => {
                            let s = l.src::<u64>(addr, prev);
                            (pick!(hx; s [SLOT, ACC]), dst, addr, offset, Prev::of::<$LO>(dst))
                        }
                        Access::Wide => return None,
                    }
                } )*
                $( Op::$S { addr, value, offset, access } => {
                    unsafe fn h<const A: Src, const V: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for loads.
                        let i = unsafe { &*ip };
                        let (base, v): (u32, $SI) = unsafe {
                            (operand::<u32, A>(u32::from(i.a), sp, acc, facc), operand::<$SI, V>(u32::from(i.b), sp, acc, facc))
                        };
                        if unsafe { store_mem0(mem, base, i.c, (v as $SM).to_le_bytes()) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    unsafe fn hx<const A: Src, const V: Src>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // SAFETY: as for indexed loads.
                        let i = unsafe { &*ip };
                        let (addr, v): (u64, $SI) = unsafe {
                            (operand::<u64, A>(u32::from(i.a), sp, acc, facc), operand::<$SI, V>(u32::from(i.b), sp, acc, facc))
                        };
                        if unsafe { store_indexed(ip, vmctx, addr, (v as $SM).to_le_bytes()) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        // The extension word follows.
                        next!(unsafe { ip.add(2) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    match access {
                        Access::Mem0 => {
                            let (a, v) = (l.src::<u32>(addr, prev), l.src::<$SI>(value, prev));
                            (pick!(h; a [SLOT, ACC], v [SLOT, ACC]), addr, value, offset, None)
                        }
                        Access::Indexed => {
                            let (a, v) = (l.src::<u64>(addr, prev), l.src::<$SI>(value, prev));
                            (pick!(hx; a [SLOT, ACC], v [SLOT, ACC]), addr, value, offset, None)
                        }
                        Access::Wide => return None,
                    }
                } )*
                _ => return None,
            })
        }
    };
}

numeric_ops!(lowering);
