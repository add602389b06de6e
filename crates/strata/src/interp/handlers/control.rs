//! Handlers for control flow, copies, globals, fuel and epochs, and calls
//! and returns within an instance.

use super::{
    jump, next, operand, pick, produce, rel, set_slot, slot, CallCx, Flow, Handler, Instr, Lowered,
    Lowering, Prev, Src, ACC, IMM, IMMZ, SLOT,
};
use crate::interp::exec::{enter, Frame};
use crate::interp::ops::Op;
use crate::interp::CompiledFunc;
use crate::runtime::vm::{VMContext, VMMemory, VMRuntimeLimits};
use std::sync::atomic::Ordering;

/// Lowers a control instruction at `pc`, or `None` when the driver runs
/// it; `prev` is what the previous instruction left in an accumulator.
pub(super) fn lower(op: &Op, pc: usize, l: &Lowering<'_>, prev: Option<Prev>) -> Option<Lowered> {
    let src = |slot| l.src::<u64>(slot, prev);
    Some(match *op {
        Op::Copy { dst, src: from } => {
            // A copy is untyped: a constant whose top half is zero (any
            // `i32`) is `IMMZ`; others may still sign-extend (`IMM`).
            let (s, field) = match l.constant(from) {
                Some(raw) if raw >> 32 == 0 => (IMMZ, raw as u32),
                _ => l.src_imm::<u64>(from, prev, 32),
            };
            (
                pick!(copy; s [SLOT, IMM, IMMZ, ACC]),
                dst,
                0,
                field,
                Prev::of::<u64>(dst),
            )
        }
        Op::Br { target } => {
            let (offset, back) = rel(pc, target);
            (pick!(br; back [true, false]), 0, 0, offset, None)
        }
        Op::BrIfNez { cond, target } | Op::BrIfEqz { cond, target } => {
            let (offset, back) = rel(pc, target);
            let s = src(cond);
            let h = if matches!(op, Op::BrIfNez { .. }) {
                pick!(br_if; s [SLOT, ACC], back [true, false])
            } else {
                pick!(br_unless; s [SLOT, ACC], back [true, false])
            };
            (h, cond, 0, offset, None)
        }
        Op::BrTable { index, len } => {
            let s = src(index);
            // Entries that all jump forward are taken straight from the
            // table, without running the entry's `Br` (a backward one
            // must spend loop budget).
            let entries = l.ops.get(pc + 1..pc + 2 + len as usize).unwrap_or_default();
            let forward = entries
                .iter()
                .enumerate()
                .all(|(k, op)| matches!(*op, Op::Br { target } if target as usize > pc + 1 + k));
            (
                pick!(br_table; s [SLOT, ACC], forward [false, true]),
                index,
                0,
                len,
                None,
            )
        }
        Op::Select { dst, cond, a } => (select, dst, cond, a, None),
        Op::ConsumeFuel { amount } => (consume_fuel, 0, 0, amount, None),
        Op::CheckEpoch => (check_epoch, 0, 0, 0, None),
        Op::GlobalGet { dst, global } => (global_get, dst, 0, global, Prev::of::<u64>(dst)),
        Op::GlobalSet { global, src: from } => {
            let s = src(from);
            (pick!(global_set; s [SLOT, ACC]), from, 0, global, None)
        }
        Op::Unreachable => (unreachable, 0, 0, 0, None),
        Op::Call { func, base } if func >= l.num_imported => {
            let count = l.count_calls;
            (
                pick!(call_internal; count [true, false]),
                base,
                0,
                func,
                None,
            )
        }
        Op::ReturnCall { func, base } if func >= l.num_imported => {
            let count = l.count_calls;
            (
                pick!(return_call_internal; count [true, false]),
                base,
                0,
                func,
                None,
            )
        }
        Op::Return => (return0, 0, 0, 0, None),
        Op::Return1 { src: from } => {
            let s = src(from);
            (pick!(return1; s [SLOT, ACC]), from, 0, 0, None)
        }
        // Extension words keep their operands for the instruction before
        // them (the first in `c`, the second and third, when they fit, in
        // `a` and `b`); they are never executed.
        Op::Ext { a, b, c } => (slow, b, c, a, None),
        _ => return None,
    })
}

/// Every instruction without a handler of its own: the driver runs it.
pub(super) unsafe fn slow(
    ip: *const Instr,
    _sp: *mut u64,
    _mem: *const VMMemory,
    _vmctx: *const VMContext,
    _acc: u64,
    _cx: *mut CallCx,
    _facc: f64,
) -> Flow {
    Flow::Slow(ip)
}

unsafe fn unreachable(
    ip: *const Instr,
    _sp: *mut u64,
    _mem: *const VMMemory,
    _vmctx: *const VMContext,
    _acc: u64,
    _cx: *mut CallCx,
    _facc: f64,
) -> Flow {
    // The driver traps.
    Flow::Slow(ip)
}

/// `Copy { dst, src }`, with the source in `c`.
unsafe fn copy<const S: Src>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let v: u64 = unsafe { operand::<u64, S>((*ip).c, sp, acc, facc) };
    produce!(v, ip, sp, mem, vmctx, acc, cx, facc)
}

unsafe fn br<const BACK: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    jump!(BACK, ip, i.c, sp, mem, vmctx, acc, cx, facc)
}

/// `BrIfNez { cond, target }`.
unsafe fn br_if<const S: Src, const BACK: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let (i, cond) = unsafe { (&*ip, operand::<u64, S>(u32::from((*ip).a), sp, acc, facc)) };
    if cond != 0 {
        jump!(BACK, ip, i.c, sp, mem, vmctx, acc, cx, facc)
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

/// `BrIfEqz { cond, target }`.
unsafe fn br_unless<const S: Src, const BACK: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let (i, cond) = unsafe { (&*ip, operand::<u64, S>(u32::from((*ip).a), sp, acc, facc)) };
    if cond == 0 {
        jump!(BACK, ip, i.c, sp, mem, vmctx, acc, cx, facc)
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

/// `BrTable { index, len }` is followed by `len + 1` `Br`s.
/// With `FORWARD`, every entry is a forward `Br`, and the handler jumps to
/// the entry's target itself.
unsafe fn br_table<const S: Src, const FORWARD: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let (i, index) = unsafe { (&*ip, operand::<u32, S>(u32::from((*ip).a), sp, acc, facc)) };
    let k = index.min(i.c) as usize;
    // SAFETY: the translator emits the `len + 1` entries after the table.
    let entry = unsafe { ip.add(1 + k) };
    if FORWARD {
        // SAFETY: lowering checked that the entry is a `Br`, whose `c` is
        // its offset to a target inside the function.
        let target = unsafe { entry.byte_offset((*entry).c as i32 as isize) };
        next!(target, sp, mem, vmctx, acc, cx, facc)
    }
    next!(entry, sp, mem, vmctx, acc, cx, facc)
}

/// `Select { dst, cond, a }` is followed by `Ext { a: b }` (lowered with
/// `b` in `c`).
unsafe fn select(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, followed by its `Ext` word.
    let (i, ext) = unsafe { (&*ip, &*ip.add(1)) };
    let v = if slot!(sp, i.b) as u32 != 0 {
        slot!(sp, i.c)
    } else {
        slot!(sp, ext.c)
    };
    set_slot!(sp, i.a, v);
    next!(unsafe { ip.add(2) }, sp, mem, vmctx, acc, cx, facc)
}

/// `GlobalGet { dst, global }` through the instance's context.
unsafe fn global_get(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction; `vmctx` is the instance's
    // context and validation bounds the global index.
    let value: u64 = unsafe { (**(*vmctx).globals.add((*ip).c as usize)).bits };
    produce!(value, ip, sp, mem, vmctx, acc, cx, facc)
}

/// `GlobalSet { global, src }` through the instance's context.
unsafe fn global_set<const S: Src>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let (i, value) = unsafe { (&*ip, operand::<u64, S>(u32::from((*ip).a), sp, acc, facc)) };
    // SAFETY: as in `global_get`; validation allows only mutable globals.
    unsafe { (**(*vmctx).globals.add(i.c as usize)).bits = value };
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

/// `ConsumeFuel { amount }`.
unsafe fn consume_fuel(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction and `vmctx` is the instance's
    // context, whose `limits` belong to the live store.
    let ok = unsafe { VMRuntimeLimits::consume_fuel((*vmctx).limits, u64::from((*ip).c)) };
    if !ok {
        // The driver traps (charging fuel failed and changed nothing).
        return Flow::Slow(ip);
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

/// `CheckEpoch`.
unsafe fn check_epoch(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: as in `consume_fuel`; the engine outlives its stores.
    if unsafe { VMRuntimeLimits::epoch_passed((*vmctx).limits) } {
        // The driver traps, or runs the store's epoch callback.
        return Flow::Slow(ip);
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

/// The instruction at `ip`, the call context, its frames and the
/// translated code of the function of this instance the instruction calls
/// (its index in `c`); `None` when that function is not translated or the
/// driver must see the call (`LazyFunc::calls`).
///
/// # Safety
/// `ip` must point at a call instruction lowered for a function the
/// instance defines, and `cx` be the driver's, whose `frames` nothing else
/// uses while handlers run.
#[inline(always)]
unsafe fn internal_callee<'a, const COUNT: bool>(
    ip: *const Instr,
    cx: *mut CallCx,
) -> Option<(&'a Instr, &'a CallCx, &'a mut Vec<Frame>, &'a CompiledFunc)> {
    // SAFETY: see above. Lowering emits these handlers only for `func >=
    // num_imported`, and validation bounds `func` by the module's
    // functions, so the code index is in bounds.
    unsafe {
        let i = &*ip;
        let cxr = &*cx;
        let lazy = &*cxr.code.add((i.c - cxr.num_imported) as usize);
        // With tiered execution, count the call; at 0 the driver decides
        // (it may compile the callee, or has: then the call goes to its
        // code).
        if COUNT {
            let calls = lazy.calls.load(Ordering::Relaxed);
            if calls == 0 {
                return None;
            }
            lazy.calls.store(calls - 1, Ordering::Relaxed);
        }
        Some((i, cxr, &mut *cxr.frames, lazy.translated()?))
    }
}

/// `Call { func, base }` of a function the instance defines: pushes the
/// callee's frame at `base` and continues in it. A callee whose count ran
/// out, or that is not translated yet, goes to [`call_compiled`] (which
/// hands it to the driver when it has no compiled code); a frame that does
/// not fit goes to the driver, which translates or traps.
unsafe fn call_internal<const COUNT: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: forwarded.
    let Some((i, cxr, frames, callee)) = (unsafe { internal_callee::<COUNT>(ip, cx) }) else {
        // SAFETY: forwarded.
        return unsafe { call_compiled(ip, sp, mem, vmctx, acc, cx, facc) };
    };
    let (depth, room) = (frames.len(), frames.len() < frames.capacity());
    let Some(caller) = frames.last_mut() else {
        return Flow::Slow(ip);
    };
    let base = caller.base + usize::from(i.a);
    if base + callee.frame_size as usize > cxr.len || depth >= cxr.max_frames || !room {
        return Flow::Slow(ip);
    }
    // SAFETY: the caller resumes after this instruction, in its function.
    caller.ret = unsafe { ip.add(1) };
    let instance = caller.instance;
    // SAFETY: `base + frame_size` is within the stack (checked above).
    let callee_sp = unsafe { cxr.slots.add(base) };
    // SAFETY: as above; the frame has `frame_size` slots.
    unsafe { enter(callee_sp, callee) };
    let start = callee.instrs.as_ptr();
    let frame = Frame {
        code: callee,
        ret: start,
        base,
        instance,
        vmctx,
    };
    // SAFETY: `depth < capacity` (checked above), so this is `push` without
    // the growth path, which would make this handler save registers.
    unsafe {
        frames.as_mut_ptr().add(depth).write(frame);
        frames.set_len(depth + 1);
    }
    next!(start, callee_sp, mem, vmctx, acc, cx, facc)
}

/// `Call { func, base }` of a function the instance defines that has
/// compiled code (its count ran out, or it came from the cache): calls the
/// code here, as the driver's call path would (the frames published for
/// the collector, the arguments and results in place at `base`), and
/// continues after the call. Crossings are frequent in tiered runs (in a
/// cold run of the regex app, 313,000 calls from large interpreted
/// functions into small compiled ones), and returning to the driver for
/// each was about a third of their cost. A callee without compiled code
/// yet goes to the driver; a call that fails leaves its error in
/// `CallCx::failed` for the driver.
#[cfg(strata_jit)]
#[inline(never)]
unsafe fn call_compiled(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` is a call of a defined function of `vmctx`'s instance
    // (validated index), whose entry the context lists (the store's entry
    // for the function, which the driver synced when it found the callee
    // hot); `cx` is the driver's, with its store and the stack the frames
    // point into.
    unsafe {
        let i = &*ip;
        let entry = &**(*vmctx).func_refs.add(i.c as usize);
        if entry.array_call.is_null() {
            return Flow::Slow(ip);
        }
        let cxr = &mut *cx;
        let frames = &mut *cxr.frames;
        let Some(caller) = frames.last_mut() else {
            return Flow::Slow(ip);
        };
        // The call's cell buffer (arguments in, results out) starts at
        // `base` in the caller's frame, and the translator sized the frame
        // to hold the results pushed there, so the buffer is within the
        // stack the caller's frame fits in.
        let args = caller.base + usize::from(i.a);
        let store = &mut *cxr.store;
        debug_assert!({
            let f = *(*vmctx).funcs.add(i.c as usize);
            let n = store.inner().funcs[f as usize].ty.buffer_cells();
            args + n <= caller.base + (*caller.code).frame_size as usize
        });
        // The caller resumes after the call, whose stack map names its
        // references while the collector may run.
        caller.ret = ip.add(1);
        let instance = caller.instance;
        store.inner().activations.publish(frames, cxr.slots, args);
        let result = crate::jit::enter(
            store,
            entry.array_call,
            entry.vmctx,
            cxr.slots.add(args),
            instance,
        );
        store.inner().activations.unpublish();
        if let Err(e) = result {
            cxr.failed = Some(e);
            return Flow::Slow(ip);
        }
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, acc, cx, facc)
}

// Without the JIT no function has compiled code: the driver calls.
#[cfg(not(strata_jit))]
use self::slow as call_compiled;

/// `ReturnCall { func, base }` of a function the instance defines: the
/// callee replaces the current frame, its arguments moved down to the
/// frame's base, and execution continues in it, so a chain of tail calls
/// runs in constant wasm and host stack. A callee that is not translated
/// yet, or a frame that does not fit, goes to the driver.
unsafe fn return_call_internal<const COUNT: bool>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: forwarded.
    let Some((i, cxr, frames, callee)) = (unsafe { internal_callee::<COUNT>(ip, cx) }) else {
        return Flow::Slow(ip);
    };
    let Some(frame) = frames.last_mut() else {
        return Flow::Slow(ip);
    };
    if frame.base + callee.frame_size as usize > cxr.len {
        return Flow::Slow(ip);
    }
    // The arguments lie above the frame's base (at temporaries), so an
    // ascending copy never overwrites one before it is read.
    let args = usize::from(i.a);
    for c in 0..callee.num_params as usize {
        // SAFETY: both ranges lie within the current frame, whose slots
        // start at `sp`.
        unsafe { *sp.add(c) = *sp.add(args + c) };
    }
    // SAFETY: the callee's frame fits the stack (checked above).
    unsafe { enter(sp, callee) };
    let start = callee.instrs.as_ptr();
    frame.code = callee;
    frame.ret = start;
    next!(start, sp, mem, vmctx, acc, cx, facc)
}

/// Returns from the current frame to a caller of the same instance;
/// returns to the entry or to another instance go to the driver.
#[inline(always)]
unsafe fn return_within_instance(
    ip: *const Instr,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: as in `call_internal`.
    let (cxr, frames) = unsafe { (&*cx, &mut *(*cx).frames) };
    let depth = frames.len();
    let caller = match frames.get(depth.wrapping_sub(2)) {
        Some(caller) if std::ptr::eq(caller.vmctx, vmctx) => *caller,
        _ => return Flow::Slow(ip),
    };
    // SAFETY: `depth >= 2`: the caller stays.
    unsafe { frames.set_len(depth - 1) };
    // SAFETY: the caller's frame lies within the stack.
    let caller_sp = unsafe { cxr.slots.add(caller.base) };
    next!(caller.ret, caller_sp, mem, vmctx, acc, cx, facc)
}

/// `Return`.
unsafe fn return0(
    ip: *const Instr,
    _sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: forwarded.
    unsafe { return_within_instance(ip, mem, vmctx, acc, cx, facc) }
}

/// `Return1 { src }`: the result goes to the frame's first slot. When the
/// return goes to the driver, it runs the instruction again, which is
/// harmless: the source slot is unchanged.
unsafe fn return1<const S: Src>(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow {
    // SAFETY: `ip` points at this instruction, lowered for `S`.
    let v: u64 = unsafe { operand::<u64, S>(u32::from((*ip).a), sp, acc, facc) };
    set_slot!(sp, 0, v);
    // SAFETY: forwarded.
    unsafe { return_within_instance(ip, mem, vmctx, acc, cx, facc) }
}
