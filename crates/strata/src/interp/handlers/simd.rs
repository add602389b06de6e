//! Handlers for the SIMD instructions, one per row of the SIMD table in
//! `crate::isa` (plus `v128.store` and `i8x16.shuffle`).
//!
//! SIMD handlers read and write frame slots only: a `v128` is two adjacent
//! slots, too wide for the accumulators, so they neither read nor set them
//! (lowering records no accumulator result for them) and pass them on
//! untouched. Operands beyond three are in the `Ext` word that follows
//! (lowered with its first operand in `c`, its second in `a`). Vector loads
//! and stores take the scalar ones' memory access paths (`load` and
//! `store` below): memory 0's fast path, or another or 64-bit memory whose
//! extension word comes first.

use super::{load_indexed, load_mem0, next, store_indexed, store_mem0};
use super::{CallCx, Flow, Handler, Instr, Lowered, Op};
use crate::interp::ops::Access;
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

/// Reads the `N` bytes a vector load at `ip` addresses, its address in
/// slot `addr`: memory 0's fast path, or with `X` (`Access::Indexed`) the
/// memory its extension word names and the whole 64-bit address slot
/// (the scalar loads' access paths, `super::load_mem0` and
/// `super::load_indexed`).
///
/// # Safety
/// `ip` must be a vector load of the current instance's code whose slots
/// are in the frame at `sp`; `mem` must be its live memory 0.
#[inline(always)]
unsafe fn load<const X: bool, const N: usize>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    addr: impl Into<usize> + Copy,
) -> Option<[u8; N]> {
    // SAFETY: see the function documentation.
    unsafe {
        if X {
            load_indexed(ip, vmctx, scalar::<u64>(sp, addr))
        } else {
            load_mem0(mem, scalar::<u32>(sp, addr), (*ip).c)
        }
    }
}

/// Writes `bytes` where the vector store at `ip` addresses, its address in
/// slot `addr`; see [`load`].
///
/// # Safety
/// As for [`load`].
#[inline(always)]
unsafe fn store<const X: bool, const N: usize>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    addr: impl Into<usize> + Copy,
    bytes: [u8; N],
) -> Option<()> {
    // SAFETY: see the function documentation.
    unsafe {
        if X {
            store_indexed(ip, vmctx, scalar::<u64>(sp, addr), bytes)
        } else {
            store_mem0(mem, scalar::<u32>(sp, addr), (*ip).c, bytes)
        }
    }
}

/// The instance of handler `$h` for a memory access `$access`: memory 0's
/// fast path, or the indexed one; an access with an offset of 4 GiB or
/// more is left to the driver (`lower` returns `None`).
macro_rules! pick_access {
    ($h:ident, $access:expr) => {
        match $access {
            Access::Mem0 => $h::<false> as Handler,
            Access::Indexed => $h::<true> as Handler,
            Access::Wide => return None,
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
            // instance's live memory 0, and an indexed access's extension
            // word names one of its memories).
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
                $( Op::$VL { dst, addr, offset, access } => {
                    unsafe fn h<const X: bool>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        #[allow(unused_imports)]
                        use crate::isa::lanes::*;
                        let f: fn([u8; $VLN]) -> V128 = $vlf;
                        let i = unsafe { &*ip };
                        let Some(bytes) = (unsafe { load::<X, $VLN>(ip, sp, mem, vmctx, i.b) }) else {
                            return Flow::Slow(ip);
                        };
                        unsafe { put(sp, i.a, f(bytes)) };
                        next!(unsafe { ip.add(1 + usize::from(X)) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick_access!(h, access), dst, addr, offset, None)
                } )*
                $( Op::$VLL { dst, addr, offset, access } => {
                    unsafe fn h<const X: bool>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        // The operands' extension word follows the access's.
                        let (i, e) = unsafe { (&*ip, &*ip.add(1 + usize::from(X))) };
                        let Some(bytes) = (unsafe { load::<X, $VLLN>(ip, sp, mem, vmctx, i.b) }) else {
                            return Flow::Slow(ip);
                        };
                        let v = crate::isa::lanes::load_lane(unsafe { get(sp, e.c as usize) }, usize::from(e.a), bytes);
                        unsafe { put(sp, i.a, v) };
                        next!(unsafe { ip.add(2 + usize::from(X)) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick_access!(h, access), dst, addr, offset, None)
                } )*
                $( Op::$VSL { addr, vec, offset, access } => {
                    unsafe fn h<const X: bool>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        let (i, e) = unsafe { (&*ip, &*ip.add(1 + usize::from(X))) };
                        let bytes = crate::isa::lanes::store_lane::<$VSLN>(unsafe { get(sp, i.b) }, e.c as usize);
                        if unsafe { store::<X, $VSLN>(ip, sp, mem, vmctx, i.a, bytes) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        next!(unsafe { ip.add(2 + usize::from(X)) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick_access!(h, access), addr, vec, offset, None)
                } )*
                Op::V128Store { addr, value, offset, access } => {
                    unsafe fn h<const X: bool>(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, acc: u64, cx: *mut CallCx, facc: f64) -> Flow {
                        let i = unsafe { &*ip };
                        let bytes = unsafe { get(sp, i.b) };
                        if unsafe { store::<X, 16>(ip, sp, mem, vmctx, i.a, bytes) }.is_none() {
                            return Flow::Slow(ip);
                        }
                        next!(unsafe { ip.add(1 + usize::from(X)) }, sp, mem, vmctx, acc, cx, facc)
                    }
                    (pick_access!(h, access), addr, value, offset, None)
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
