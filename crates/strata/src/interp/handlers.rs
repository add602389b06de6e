//! Threaded dispatch for the hot instructions.
//!
//! After translation, each function's `Op`s are lowered to `Instr`s: a
//! handler function pointer plus three operands. A handler does its work and
//! then calls the next instruction's handler as its last action, with the
//! same signature, so optimised builds turn the call into a jump and the
//! interpreter state (instruction pointer, frame pointer, memory) stays in
//! registers, with no central dispatch loop in between (the technique of
//! wasm3 and wasmi 2.0).
//!
//! Calls within an instance and their returns are handlers too: they push
//! and pop frames through [`CallCx`] and continue in the other function.
//! Every instruction that needs the store (other calls, tables, bulk
//! memory, `memory.grow`) returns a [`Flow`] to the driver loop in
//! `exec.rs`, which runs it through its `match` on `Op`. Backward branches
//! chain too, but at most `LOOP_HOPS` times before returning to the driver,
//! so even a build where the calls did not become jumps would bound the
//! host stack a loop uses. Debug builds always return to the driver.
//!
//! Handlers are generated from the instruction table in `isa.rs` and share
//! its semantics closures with the driver's `match`.

use super::exec::{enter, Frame};
use super::isa::{numeric_ops, Op, Raw};
use super::LazyFunc;
use crate::runtime::vm::{VMContext, VMMemory, VMRuntimeLimits};
use crate::Trap;
use std::sync::Arc;

/// A handler: executes the instruction at `ip` on the frame at `sp`.
pub(crate) type Handler = unsafe fn(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow;

/// A lowered instruction. Operand meaning depends on the handler; branch
/// targets are stored as offsets relative to the instruction itself.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Instr {
    handler: Handler,
    // 16 bytes in all: two 16-bit slot operands and one 32-bit operand
    // (slot, offset or branch delta). An instruction whose operands do not
    // fit runs in the driver instead (`lower_op`).
    a: u16,
    b: u16,
    c: u32,
}

impl std::fmt::Debug for Instr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Instr({}, {}, {})", self.a, self.b, self.c)
    }
}

impl Instr {
    /// Runs the chain of instructions starting at `ip`.
    ///
    /// # Safety
    /// `ip` must point into a lowered function whose slots start at `sp`
    /// with at least `frame_size` slots, `mem` and `vmctx` must be the
    /// current instance's memory 0 and context, and `cx` must describe the
    /// stack `sp` points into, with the current function's frame on top.
    #[inline(always)]
    pub(crate) unsafe fn run(
        ip: *const Instr,
        sp: *mut u64,
        mem: *const VMMemory,
        vmctx: *const VMContext,
        cx: &mut CallCx,
    ) -> Flow {
        // SAFETY: forwarded from the caller.
        unsafe { ((*ip).handler)(ip, sp, mem, vmctx, LOOP_HOPS, cx) }
    }
}

/// Why a chain of handlers returned to the driver, packed in one machine
/// word so handlers return it in a register (a larger return value would
/// go through memory and stop the compiler from turning the call to the
/// next handler into a jump). Instructions are 8-byte aligned, so the low
/// bits of an address are free for the tag.
#[derive(Clone, Copy)]
pub(crate) struct Flow(usize);

const TAG_CONTINUE: usize = 0;
const TAG_SLOW: usize = 1;
const TAG_TRAP: usize = 2;

/// The unpacked form of a [`Flow`], for the driver.
pub(crate) enum Next {
    /// Continue with the instruction at this address.
    Continue(*const Instr),
    /// The instruction at this address needs the driver (store access).
    Slow(*const Instr),
    /// Execution trapped.
    Trap(Trap),
}

#[allow(non_snake_case)]
impl Flow {
    fn Continue(ip: *const Instr) -> Flow {
        Flow(ip as usize | TAG_CONTINUE)
    }
    fn Slow(ip: *const Instr) -> Flow {
        Flow(ip as usize | TAG_SLOW)
    }
    fn Trap(trap: Trap) -> Flow {
        Flow((usize::from(trap.code()) << 8) | TAG_TRAP)
    }

    /// Unpacks the flow.
    pub(crate) fn next(self) -> Next {
        match self.0 & 3 {
            TAG_CONTINUE => Next::Continue(self.0 as *const Instr),
            TAG_SLOW => Next::Slow((self.0 & !3) as *const Instr),
            _ => Next::Trap(Trap::from_code((self.0 >> 8) as u8)),
        }
    }
}

/// Lowers a translated function of a module with `num_imported` imported
/// functions. Branch targets become relative offsets.
pub(crate) fn lower(ops: &[Op], num_imported: u32) -> Box<[Instr]> {
    ops.iter()
        .enumerate()
        .map(|(pc, op)| lower_op(op, pc, num_imported))
        .collect()
}

/// What the call and return handlers need besides their arguments: the
/// stack they push frames on and the current instance's code. The driver
/// builds it before each chain of handlers and re-reads the top frame
/// afterwards, since handlers may have called or returned.
pub(crate) struct CallCx {
    /// The call stack; handlers push only within its capacity.
    pub frames: *mut Vec<Frame>,
    /// The value stack: its first slot and its length.
    pub slots: *mut u64,
    pub len: usize,
    pub max_frames: usize,
    /// The current instance's module: its defined functions' code, which
    /// follow `num_imported` imported functions in the index space.
    pub code: *const Arc<LazyFunc>,
    pub num_imported: u32,
}

/// The relative offset from instruction `pc` to `target`.
fn rel(pc: usize, target: u32) -> u32 {
    (target as i64 - pc as i64) as i32 as u32
}

/// Continues with the instruction at `$next`: a tail call in optimised
/// builds, a return to the driver in debug builds.
macro_rules! next {
    ($next:expr, $sp:expr, $mem:expr, $vmctx:expr, $hops:expr, $cx:expr) => {{
        let next: *const Instr = $next;
        #[cfg(debug_assertions)]
        {
            let _ = ($sp, $mem, $vmctx, $hops, $cx);
            return Flow::Continue(next);
        }
        #[cfg(not(debug_assertions))]
        // SAFETY: `next` is the following instruction, a branch target of
        // the same function, or the first instruction of a frame a call or
        // return just made current with its own `sp`, so the handler's own
        // contract carries over.
        return unsafe { ((*next).handler)(next, $sp, $mem, $vmctx, $hops, $cx) };
    }};
}

/// Jumps by the relative offset `$rel`: forward jumps chain, backward jumps
/// return to the driver so loops never grow the host stack.
macro_rules! jump {
    ($ip:expr, $rel:expr, $sp:expr, $mem:expr, $vmctx:expr, $hops:expr, $cx:expr) => {{
        let delta = $rel as i32;
        // SAFETY: the translator only emits targets inside the function.
        let target = unsafe { $ip.offset(delta as isize) };
        if delta > 0 {
            next!(target, $sp, $mem, $vmctx, $hops, $cx)
        }
        if $hops == 0 {
            return Flow::Continue(target);
        }
        next!(target, $sp, $mem, $vmctx, $hops - 1, $cx)
    }};
}

/// How many backward jumps a chain of handlers may take before it returns
/// to the driver. With tail calls the chain uses no stack at all; without
/// them (a build that did not turn the calls into jumps), this bounds the
/// host stack a loop can use to this many iterations of its body.
const LOOP_HOPS: usize = 256;

/// Reads slot `$i` of the frame. The translator keeps every slot index
/// below the frame size and the driver only enters a frame that fits the
/// stack, so the access is in bounds.
macro_rules! slot {
    ($sp:expr, $i:expr) => {
        // SAFETY: see the macro documentation.
        unsafe { *$sp.add($i as usize) }
    };
}

macro_rules! set_slot {
    ($sp:expr, $i:expr, $v:expr) => {{
        let v = $v;
        // SAFETY: see `slot!`.
        unsafe { *$sp.add($i as usize) = v };
    }};
}

/// Generates `lower_op`: one handler per instruction of the table, plus the
/// hand-written hot control instructions; everything else is `slow`.
macro_rules! lowering {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr;)* }
        load { $($L:ident($LM:ty) -> $LO:ty;)* }
        store { $($S:ident($SI:ty) -> $SM:ty;)* }
    ) => {
        fn lower_op(op: &Op, pc: usize, num_imported: u32) -> Instr {
            let (handler, a, b, c): (Handler, u32, u32, u32) = match *op {
                $( Op::$U { dst, src } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        let v: $UO = ($uf)(<$UI>::from_raw(slot!(sp, i.b)));
                        set_slot!(sp, i.a, v.to_raw());
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, src, 0)
                } )*
                $( Op::$UT { dst, src } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        let v: $UTO = match ($utf)(<$UTI>::from_raw(slot!(sp, i.b))) {
                            Ok(v) => v,
                            Err(t) => return Flow::Trap(t),
                        };
                        set_slot!(sp, i.a, v.to_raw());
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, src, 0)
                } )*
                $( Op::$B { dst, lhs, rhs } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        let v: $BO = ($bf)(<$BI>::from_raw(slot!(sp, i.b)), <$BI>::from_raw(slot!(sp, i.c)));
                        set_slot!(sp, i.a, v.to_raw());
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, lhs, rhs)
                } )*
                $( Op::$C { dst, lhs, rhs } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        let v = ($cf)(<$CI>::from_raw(slot!(sp, i.b)), <$CI>::from_raw(slot!(sp, i.c))) as i32;
                        set_slot!(sp, i.a, v.to_raw());
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, lhs, rhs)
                } )*
                $( Op::$CB { lhs, rhs, target } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        if ($cf)(<$CI>::from_raw(slot!(sp, i.a)), <$CI>::from_raw(slot!(sp, i.b))) {
                            jump!(ip, i.c, sp, mem, vmctx, hops, cx)
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, lhs, rhs, rel(pc, target))
                } )*
                $( Op::$BT { dst, lhs, rhs } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction.
                        let i = unsafe { &*ip };
                        let v: $BTO = match ($btf)(<$BTI>::from_raw(slot!(sp, i.b)), <$BTI>::from_raw(slot!(sp, i.c))) {
                            Ok(v) => v,
                            Err(t) => return Flow::Trap(t),
                        };
                        set_slot!(sp, i.a, v.to_raw());
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, lhs, rhs)
                } )*
                $( Op::$L { dst, addr, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: `ip` points at this instruction and `mem`
                        // at the current instance's live memory 0.
                        let (i, m) = unsafe { (&*ip, mem.read()) };
                        let ea = u64::from(slot!(sp, i.b) as u32) + u64::from(i.c);
                        // SAFETY: `m` describes a live memory.
                        match unsafe { m.load(ea) } {
                            Some(bytes) => {
                                let v = <$LM>::from_le_bytes(bytes) as $LO;
                                set_slot!(sp, i.a, v.to_raw());
                            }
                            None => return Flow::Trap(Trap::MemoryOutOfBounds),
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, dst, addr, offset)
                } )*
                $( Op::$S { addr, value, offset } => {
                    unsafe fn h(ip: *const Instr, sp: *mut u64, mem: *const VMMemory, vmctx: *const VMContext, hops: usize, cx: *mut CallCx) -> Flow {
                        // SAFETY: as for loads.
                        let (i, m) = unsafe { (&*ip, mem.read()) };
                        let ea = u64::from(slot!(sp, i.a) as u32) + u64::from(i.c);
                        let v = <$SI>::from_raw(slot!(sp, i.b)) as $SM;
                        // SAFETY: `m` describes a live memory whose bytes
                        // nothing borrows while wasm runs.
                        if unsafe { m.store(ea, v.to_le_bytes()) }.is_none() {
                            return Flow::Trap(Trap::MemoryOutOfBounds);
                        }
                        next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
                    }
                    (h, addr, value, offset)
                } )*
                Op::Copy { dst, src } => (copy, dst, src, 0),
                Op::Br { target } => (br, 0, 0, rel(pc, target)),
                Op::BrIfNez { cond, target } => (br_if_nez, cond, 0, rel(pc, target)),
                Op::BrIfEqz { cond, target } => (br_if_eqz, cond, 0, rel(pc, target)),
                Op::BrTable { index, len } => (br_table, index, 0, len),
                Op::Select { dst, cond, a } => (select, dst, cond, a),
                Op::ConsumeFuel { amount } => (consume_fuel, 0, 0, amount),
                Op::CheckEpoch => (check_epoch, 0, 0, 0),
                Op::GlobalGet { dst, global } => (global_get, dst, 0, global),
                Op::GlobalSet { global, src } => (global_set, src, 0, global),
                Op::Unreachable => (unreachable, 0, 0, 0),
                Op::Call { func, base } if func >= num_imported => (call_internal, base, 0, func),
                Op::Return => (return0, 0, 0, 0),
                Op::Return1 { src } => (return1, src, 0, 0),
                // Extension words keep their operands for the instruction
                // before them; they are never executed.
                Op::Ext { a, .. } => (slow, 0, 0, a),
                _ => (slow, 0, 0, 0),
            };
            match (u16::try_from(a), u16::try_from(b)) {
                (Ok(a), Ok(b)) => Instr { handler, a, b, c },
                _ => Instr { handler: slow, a: 0, b: 0, c },
            }
        }
    };
}

numeric_ops!(lowering);

unsafe fn slow(
    ip: *const Instr,
    _sp: *mut u64,
    _mem: *const VMMemory,
    _vmctx: *const VMContext,
    _hops: usize,
    _cx: *mut CallCx,
) -> Flow {
    Flow::Slow(ip)
}

unsafe fn unreachable(
    _ip: *const Instr,
    _sp: *mut u64,
    _mem: *const VMMemory,
    _vmctx: *const VMContext,
    _hops: usize,
    _cx: *mut CallCx,
) -> Flow {
    Flow::Trap(Trap::UnreachableCodeReached)
}

unsafe fn copy(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    set_slot!(sp, i.a, slot!(sp, i.b));
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

unsafe fn br(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    jump!(ip, i.c, sp, mem, vmctx, hops, cx)
}

unsafe fn br_if_nez(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    if slot!(sp, i.a) != 0 {
        jump!(ip, i.c, sp, mem, vmctx, hops, cx)
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

unsafe fn br_if_eqz(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    if slot!(sp, i.a) == 0 {
        jump!(ip, i.c, sp, mem, vmctx, hops, cx)
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

/// `BrTable { index, len }` is followed by `len + 1` `Br`s.
unsafe fn br_table(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    let k = (slot!(sp, i.a) as u32).min(i.c) as usize;
    // SAFETY: the translator emits the `len + 1` entries after the table.
    next!(unsafe { ip.add(1 + k) }, sp, mem, vmctx, hops, cx)
}

/// `Select { dst, cond, a }` is followed by `Ext { a: b }` (lowered with
/// `b` in `c`).
unsafe fn select(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction, followed by its `Ext` word.
    let (i, ext) = unsafe { (&*ip, &*ip.add(1)) };
    let v = if slot!(sp, i.b) as u32 != 0 {
        slot!(sp, i.c)
    } else {
        slot!(sp, ext.c)
    };
    set_slot!(sp, i.a, v);
    next!(unsafe { ip.add(2) }, sp, mem, vmctx, hops, cx)
}

/// `GlobalGet { dst, global }` through the instance's context.
unsafe fn global_get(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction; `vmctx` is the instance's
    // context and validation bounds the global index.
    let (i, value) = unsafe {
        let i = &*ip;
        (i, (**(*vmctx).globals.add(i.c as usize)).bits)
    };
    set_slot!(sp, i.a, value);
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

/// `GlobalSet { global, src }` through the instance's context.
unsafe fn global_set(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction.
    let i = unsafe { &*ip };
    let value = slot!(sp, i.a);
    // SAFETY: as in `global_get`; validation allows only mutable globals.
    unsafe { (**(*vmctx).globals.add(i.c as usize)).bits = value };
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

/// `ConsumeFuel { amount }`.
unsafe fn consume_fuel(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction and `vmctx` is the instance's
    // context, whose `limits` belong to the live store.
    let ok = unsafe { VMRuntimeLimits::consume_fuel((*vmctx).limits, u64::from((*ip).c)) };
    if !ok {
        return Flow::Trap(Trap::OutOfFuel);
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

/// `CheckEpoch`.
unsafe fn check_epoch(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: as in `consume_fuel`; the engine outlives its stores.
    if unsafe { VMRuntimeLimits::epoch_passed((*vmctx).limits) } {
        return Flow::Trap(Trap::Interrupt);
    }
    next!(unsafe { ip.add(1) }, sp, mem, vmctx, hops, cx)
}

/// `Call { func, base }` of a function the instance defines: pushes the
/// callee's frame at `base` and continues in it. A callee that is not
/// translated yet, or a frame that does not fit, goes to the driver, which
/// translates or traps.
unsafe fn call_internal(
    ip: *const Instr,
    _sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction and `cx` is the driver's, whose
    // `frames` nothing else uses while handlers run. Lowering emits this
    // handler only for `func >= num_imported`, and validation bounds `func`
    // by the module's functions, so the code index is in bounds.
    let (i, cxr, frames, lazy) = unsafe {
        let i = &*ip;
        let cxr = &*cx;
        let lazy = &*cxr.code.add((i.c - cxr.num_imported) as usize);
        (i, cxr, &mut *cxr.frames, lazy)
    };
    let Some(callee) = lazy.translated() else {
        return Flow::Slow(ip);
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
    next!(start, callee_sp, mem, vmctx, hops, cx)
}

/// Returns from the current frame to a caller of the same instance;
/// returns to the entry or to another instance go to the driver.
#[inline(always)]
unsafe fn return_within_instance(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
    result: Option<u16>,
) -> Flow {
    // SAFETY: as in `call_internal`.
    let (cx_ref, frames) = unsafe { (&*cx, &mut *(*cx).frames) };
    let depth = frames.len();
    let caller = match frames.get(depth.wrapping_sub(2)) {
        Some(caller) if std::ptr::eq(caller.vmctx, vmctx) => *caller,
        _ => return Flow::Slow(ip),
    };
    if let Some(src) = result {
        set_slot!(sp, 0, slot!(sp, src));
    }
    // SAFETY: `depth >= 2`: the caller stays.
    unsafe { frames.set_len(depth - 1) };
    // SAFETY: the caller's frame lies within the stack.
    let caller_sp = unsafe { cx_ref.slots.add(caller.base) };
    next!(caller.ret, caller_sp, mem, vmctx, hops, cx)
}

/// `Return`.
unsafe fn return0(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: forwarded.
    unsafe { return_within_instance(ip, sp, mem, vmctx, hops, cx, None) }
}

/// `Return1 { src }`: the result goes to the frame's first slot.
unsafe fn return1(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    hops: usize,
    cx: *mut CallCx,
) -> Flow {
    // SAFETY: `ip` points at this instruction; the rest is forwarded.
    let src = unsafe { (*ip).a };
    unsafe { return_within_instance(ip, sp, mem, vmctx, hops, cx, Some(src)) }
}
