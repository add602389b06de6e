//! Handlers for the SIMD instructions, one per row of the SIMD table in
//! `crate::isa` (plus `v128.store` and `i8x16.shuffle`).
//!
//! SIMD handlers read and write frame slots only: a `v128` is two adjacent
//! slots, too wide for the accumulators, so they neither read nor set them
//! (lowering records no accumulator result for them) and pass them on
//! untouched. Operands beyond three are in the `Ext` word that follows
//! (lowered with its first operand in `c`, its second in `a`).

use super::{next, Flow, Handler, Instr, Lowered};
use super::{CallCx, Op};
use crate::isa::lanes::V128;
use crate::isa::simd_ops;
use crate::runtime::vm::{VMContext, VMMemory};
use crate::types::raw::Raw;
#[cfg(not(target_endian = "little"))]
use crate::types::raw::{v128_bytes_from_cells, v128_bytes_to_cells};

/// The `v128` in slots `slot` and `slot + 1` of the frame at `sp`.
///
/// # Safety
/// Both slots must be in the frame (the translator keeps every slot a
/// `v128` occupies below the frame size).
#[inline(always)]
unsafe fn get(sp: *mut u64, slot: impl Into<usize>) -> V128 {
    let s = slot.into();
    // On a little-endian host the two cells' bytes in memory are the
    // vector's bytes, so one 16-byte load reads it (and the lane loops
    // that follow become vector instructions); elsewhere the cells are
    // converted one by one.
    #[cfg(target_endian = "little")]
    {
        // SAFETY: see the function documentation; the read is unaligned.
        unsafe { sp.add(s).cast::<V128>().read_unaligned() }
    }
    #[cfg(not(target_endian = "little"))]
    {
        // SAFETY: see the function documentation.
        unsafe { v128_bytes_from_cells(*sp.add(s), *sp.add(s + 1)) }
    }
}

/// Writes `v` to slots `slot` and `slot + 1`.
///
/// # Safety
/// As for [`get`].
#[inline(always)]
unsafe fn put(sp: *mut u64, slot: impl Into<usize>, v: V128) {
    let s = slot.into();
    #[cfg(target_endian = "little")]
    {
        // SAFETY: see the function documentation; the write is unaligned.
        unsafe { sp.add(s).cast::<V128>().write_unaligned(v) }
    }
    #[cfg(not(target_endian = "little"))]
    {
        let [low, high] = v128_bytes_to_cells(v);
        // SAFETY: see the function documentation.
        unsafe {
            *sp.add(s) = low;
            *sp.add(s + 1) = high;
        }
    }
}

/// The scalar in slot `slot`.
///
/// # Safety
/// As for [`get`].
#[inline(always)]
unsafe fn scalar<T: Raw>(sp: *mut u64, slot: impl Into<usize>) -> T {
    // SAFETY: see the function documentation.
    T::from_raw(unsafe { *sp.add(slot.into()) })
}

/// The handler signature, spelled once for the generated handlers.
macro_rules! handler {
    ($name:ident, |$ip:ident, $sp:ident, $mem:ident| $body:block) => {
        unsafe fn $name(
            $ip: *const Instr,
            $sp: *mut u64,
            $mem: *const VMMemory,
            vmctx: *const VMContext,
            acc: u64,
            cx: *mut CallCx,
            facc: f64,
        ) -> Flow {
            let step: usize = $body;
            // SAFETY: the instruction (and its extension word) is followed
            // by another instruction of the same function.
            next!(unsafe { $ip.add(step) }, $sp, $mem, vmctx, acc, cx, facc)
        }
    };
}

macro_rules! lowering {
    (
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
        /// Lowers a SIMD instruction. None of them leaves a result in an
        /// accumulator.
        pub(super) fn lower(op: &Op) -> Option<Lowered> {
            // SAFETY (for every handler below): `ip` points at the
            // handler's own instruction, whose operands are slots of the
            // frame at `sp` (and, for memory accesses, `mem` is the current
            // instance's live memory 0).
            Some(match *op {
                $( Op::$VU { dst, src } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128) -> V128 = $vuf;
                        let i = unsafe { &*ip };
                        unsafe { put(sp, i.a, f(get(sp, i.b))) };
                        1
                    });
                    (h as Handler, dst, src, 0, None)
                } )*
                $( Op::$VB { dst, lhs, rhs } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128, V128) -> V128 = $vbf;
                        let i = unsafe { &*ip };
                        unsafe { put(sp, i.a, f(get(sp, i.b), get(sp, i.c as usize))) };
                        1
                    });
                    (h as Handler, dst, lhs, rhs, None)
                } )*
                $( Op::$VT { dst, a, b } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128, V128, V128) -> V128 = $vtf;
                        let (i, e) = unsafe { (&*ip, &*ip.add(1)) };
                        unsafe { put(sp, i.a, f(get(sp, i.b), get(sp, i.c as usize), get(sp, e.c as usize))) };
                        2
                    });
                    (h as Handler, dst, a, b, None)
                } )*
                $( Op::$VX { dst, src } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128) -> i32 = $vxf;
                        let i = unsafe { &*ip };
                        let v = f(unsafe { get(sp, i.b) });
                        unsafe { *sp.add(usize::from(i.a)) = v.to_raw() };
                        1
                    });
                    (h as Handler, dst, src, 0, None)
                } )*
                $( Op::$VS { dst, lhs, rhs } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128, u32) -> V128 = $vsf;
                        let i = unsafe { &*ip };
                        unsafe { put(sp, i.a, f(get(sp, i.b), scalar::<u32>(sp, i.c as usize))) };
                        1
                    });
                    (h as Handler, dst, lhs, rhs, None)
                } )*
                $( Op::$VP { dst, src } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn($VPT) -> V128 = $vpf;
                        let i = unsafe { &*ip };
                        unsafe { put(sp, i.a, f(scalar::<$VPT>(sp, i.b))) };
                        1
                    });
                    (h as Handler, dst, src, 0, None)
                } )*
                $( Op::$VE { dst, src, lane } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128, usize) -> $VET = $vef;
                        let i = unsafe { &*ip };
                        let v = f(unsafe { get(sp, i.b) }, i.c as usize);
                        unsafe { *sp.add(usize::from(i.a)) = v.to_raw() };
                        1
                    });
                    (h as Handler, dst, src, lane, None)
                } )*
                $( Op::$VR { dst, vec, val } => {
                    handler!(h, |ip, sp, mem| {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn(V128, usize, $VRT) -> V128 = $vrf;
                        let (i, e) = unsafe { (&*ip, &*ip.add(1)) };
                        let v = f(unsafe { get(sp, i.b) }, e.c as usize, unsafe { scalar::<$VRT>(sp, i.c as usize) });
                        unsafe { put(sp, i.a, v) };
                        2
                    });
                    (h as Handler, dst, vec, val, None)
                } )*
                $( Op::$VL { dst, addr, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn([u8; $VLN]) -> V128 = $vlf;
                        let (i, m) = unsafe { (&*ip, &*mem) };
                        let ea = u64::from(unsafe { scalar::<u32>(sp, i.b) }) + u64::from(i.c);
                        // SAFETY: `m` describes a live memory.
                        let Some(bytes) = (unsafe { m.load::<$VLN>(ea) }) else {
                            return Flow::Slow(ip);
                        };
                        unsafe { put(sp, i.a, f(bytes)) };
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (h as Handler, dst, addr, offset, None)
                } )*
                $( Op::$VLL { dst, addr, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        let (i, e, m) = unsafe { (&*ip, &*ip.add(1), &*mem) };
                        let ea = u64::from(unsafe { scalar::<u32>(sp, i.b) }) + u64::from(i.c);
                        // SAFETY: `m` describes a live memory.
                        let Some(bytes) = (unsafe { m.load::<$VLLN>(ea) }) else {
                            return Flow::Slow(ip);
                        };
                        let v = crate::isa::lanes::load_lane(unsafe { get(sp, e.c as usize) }, usize::from(e.a), bytes);
                        unsafe { put(sp, i.a, v) };
                        next!(unsafe { ip.add(2) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (h as Handler, dst, addr, offset, None)
                } )*
                $( Op::$VSL { addr, vec, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        let (i, e, m) = unsafe { (&*ip, &*ip.add(1), &*mem) };
                        let ea = u64::from(unsafe { scalar::<u32>(sp, i.a) }) + u64::from(i.c);
                        let bytes = crate::isa::lanes::store_lane::<$VSLN>(unsafe { get(sp, i.b) }, e.c as usize);
                        // SAFETY: `m` describes a live memory whose bytes
                        // nothing borrows while wasm runs.
                        if unsafe { m.store(ea, bytes) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        next!(unsafe { ip.add(2) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (h as Handler, addr, vec, offset, None)
                } )*
                Op::V128Store { addr, value, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        let (i, m) = unsafe { (&*ip, &*mem) };
                        let ea = u64::from(unsafe { scalar::<u32>(sp, i.a) }) + u64::from(i.c);
                        let bytes = unsafe { get(sp, i.b) };
                        // SAFETY: as for lane stores.
                        if unsafe { m.store(ea, bytes) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (h as Handler, addr, value, offset, None)
                }
                Op::I8x16Shuffle { dst, a, b } => {
                    handler!(h, |ip, sp, mem| {
                        let (i, e) = unsafe { (&*ip, &*ip.add(1)) };
                        let v = crate::isa::lanes::shuffle(unsafe { get(sp, i.b) }, unsafe { get(sp, i.c as usize) }, unsafe { get(sp, e.c as usize) });
                        unsafe { put(sp, i.a, v) };
                        2
                    });
                    (h as Handler, dst, a, b, None)
                }
                _ => return None,
            })
        }
    };
}

simd_ops!(lowering);
