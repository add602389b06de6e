//! The executor: runs register bytecode on a heap-allocated stack.
//!
//! The value stack is one `Vec<u64>` of slots per store entry; a call
//! places the callee's frame right where the caller left the arguments, so
//! arguments are never copied. The call stack is a `Vec<Frame>`. The value
//! stack starts small and doubles when a frame does not fit, up to
//! `Config::max_wasm_stack` bytes; frames record slot indices, not
//! addresses, so growing it only requires re-deriving the pointers the
//! driver and `CallCx` cache. Recursion depth is therefore bounded by heap
//! space that was configured, never by the host stack, and running out
//! (of the configured size, or of memory when growing) is the `call stack
//! exhausted` trap.

use super::handlers::{CallCx, Instr, Next};
use super::hot::{count_call, count_entry, func_code, module_code};
use super::ops::{Access, Op};
use super::CompiledFunc;
use crate::isa::{numeric_ops, simd_ops};
use crate::runtime::ops;
use crate::runtime::store::{FuncKind, StoreInner, StoreOps};
use crate::runtime::vm::{VMContext, VMMemory, VMRuntimeLimits};
use crate::types::raw::Raw;
use crate::{Trap, WasmBacktrace};

/// How much host stack nested host-to-wasm entries (host functions calling
/// back into wasm) may use before the next entry traps with "call stack
/// exhausted". Wasm-to-wasm calls use no host stack; only these re-entries
/// do, and a guest must not be able to overflow the host's stack with them.
const MAX_REENTRY_STACK: usize = 512 << 10;

/// The value stack's first size in slots (8 KiB); it doubles from there.
const INITIAL_SLOTS: usize = 1 << 10;

/// A value stack and call stack for one host-to-wasm entry.
struct Stack {
    slots: Vec<u64>,
    frames: Vec<Frame>,
    /// The index of the instruction the driver ran last in the top frame's
    /// function: the one that trapped, when execution traps.
    trap_pc: usize,
}

impl Stack {
    /// An empty stack; the first entry grows it.
    fn new() -> Stack {
        Stack {
            slots: Vec::new(),
            frames: Vec::new(),
            trap_pc: 0,
        }
    }
}

/// Grows the value stack `slots` to hold at least `needed` slots, doubling
/// its size (from `INITIAL_SLOTS`) but never beyond `max` slots. False when
/// `needed` exceeds `max` or the host refuses the memory: the caller traps.
/// Existing slots keep their values; every pointer into the old slots is
/// invalid afterwards.
#[cold]
#[inline(never)]
fn grow(slots: &mut Vec<u64>, needed: usize, max: usize) -> bool {
    if needed <= slots.len() {
        return true;
    }
    if needed > max {
        return false;
    }
    let mut len = slots.len().max(INITIAL_SLOTS);
    while len < needed {
        len = len.saturating_mul(2);
    }
    let len = len.min(max);
    if slots.try_reserve_exact(len - slots.len()).is_err() {
        return false;
    }
    slots.resize(len, 0);
    true
}

/// A call frame. The threaded call and return handlers push and pop these
/// too, for calls within an instance.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    /// Kept alive by the store's `FuncEntity`, which outlives execution.
    pub code: *const CompiledFunc,
    /// Where the function continues when its frame is on top again: its
    /// first instruction for a new frame, after the call for a caller.
    pub ret: *const Instr,
    /// The frame's first slot in the value stack.
    pub base: usize,
    pub instance: u32,
    /// The instance's context (memories, globals).
    pub vmctx: *const VMContext,
}

enum ExecError {
    Trap(Trap),
    /// An error from a host function, passed through unchanged.
    Host(anyhow::Error),
    /// A thrown exception (its exnref), which unwinds the frames
    /// (`unwind.rs`); one that a call out ended with is taken out of the
    /// store (`runtime::exn::thrown`).
    Throw(u32),
}

/// What a call out (a host function, or code of the other tier) that
/// failed with `e` means here: an exception it threw, or a host error.
fn call_error(store: &mut dyn StoreOps, e: anyhow::Error) -> ExecError {
    match crate::runtime::exn::thrown(store.inner(), &e) {
        Some(exn) => ExecError::Throw(exn),
        None => ExecError::Host(e),
    }
}

impl From<Trap> for ExecError {
    fn from(t: Trap) -> ExecError {
        ExecError::Trap(t)
    }
}

// SAFETY: a `Stack`'s frames point at code and contexts owned by the
// store it belongs to; it moves between threads only with its store, and
// is only used while the store is exclusively borrowed.
unsafe impl Send for Stack {}

/// Calls store function `func` with arguments in `raw`, leaving results in
/// `raw`. `raw` must hold `max(params, results)` slots.
pub(crate) fn invoke(store: &mut dyn StoreOps, func: u32, raw: &mut [u64]) -> anyhow::Result<()> {
    let inner = store.inner();
    let (instance, code) = match inner.funcs[func as usize].kind {
        FuncKind::Host(h) => return store.call_host(h, raw, None),
        FuncKind::Wasm {
            instance,
            index,
            vmctx,
        } => {
            if count_entry(inner, instance, index) {
                // Hot, and compiled now.
                return crate::tier::invoke(store, func, raw);
            }
            let inner = store.inner();
            let code: *const CompiledFunc = module_code(inner, instance).get(index)?;
            ((instance, vmctx.0), code)
        }
    };
    // The address of a local approximates the host stack pointer; stacks
    // grow down on every supported platform.
    let here = std::ptr::addr_of!(func) as usize;
    let inner = store.inner();
    if inner.entry_depth == 0 {
        inner.entry_stack = here;
    } else if inner.entry_stack.saturating_sub(here) > MAX_REENTRY_STACK {
        return Err(Trap::StackOverflow.into());
    }
    let stack = match inner.stacks.pop().map(|s| s.downcast::<Stack>()) {
        Some(Ok(stack)) => stack,
        _ => Box::new(Stack::new()),
    };
    inner.entry_depth += 1;
    inner.activations.push_entry();
    let mut guard = LeakOnUnwind(Some(stack));
    let result = match guard.0.as_mut() {
        Some(stack) => run(store, stack, instance, code, raw),
        None => unreachable!("the guard holds the stack until the entry ends"),
    };
    let Some(mut stack) = guard.0.take() else {
        unreachable!("the guard holds the stack until the entry ends")
    };
    let inner = store.inner();
    inner.activations.pop_entry();
    inner.entry_depth -= 1;
    let result = result.map_err(|e| match e {
        // A trap in code the interpreter called (compiled code, or wasm a
        // host function called) has the frames from there in; these
        // frames are outer to them.
        ExecError::Host(mut e) => {
            if let Some(inner_frames) = e.downcast_mut::<WasmBacktrace>() {
                inner_frames.append_outer(super::frames::backtrace(
                    inner,
                    &stack.frames,
                    &stack.slots,
                    None,
                ));
            }
            e
        }
        ExecError::Trap(trap) => {
            let backtrace =
                super::frames::backtrace(inner, &stack.frames, &stack.slots, Some(stack.trap_pc));
            anyhow::Error::new(trap).context(backtrace)
        }
        // No frame of this entry caught it: on to the caller.
        ExecError::Throw(exn) => crate::runtime::exn::raise(inner, exn),
    });
    stack.frames.clear();
    // Keep a few stacks for the next entries; deep re-entry made the rest.
    if inner.stacks.len() < 4 {
        inner.stacks.push(stack);
    }
    result
}

/// Holds an entry's stack, and leaks it if a panic (from a host function)
/// unwinds through the entry: the activation registry may still name its
/// slots (`runtime/gc/roots.rs`), and a leaked stack keeps that memory
/// valid for a store the embedder goes on using after catching the panic.
struct LeakOnUnwind(Option<Box<Stack>>);

impl Drop for LeakOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(stack) = self.0.take() {
                std::mem::forget(stack);
            }
        }
    }
}

fn run(
    store: &mut dyn StoreOps,
    stack: &mut Stack,
    (instance, vmctx): (u32, *const VMContext),
    code: *const CompiledFunc,
    raw: &mut [u64],
) -> Result<(), ExecError> {
    // SAFETY: `code` comes from an `Arc` held by the store's function table.
    let callee = unsafe { &*code };
    let params = callee.num_params as usize;
    let frame_size = callee.frame_size as usize;
    if frame_size > stack.slots.len() && !grow(&mut stack.slots, frame_size, max_slots(store)) {
        return Err(Trap::StackOverflow.into());
    }
    stack.slots[..params].copy_from_slice(&raw[..params]);
    // SAFETY: the stack holds the frame (checked above).
    unsafe { enter(stack.slots.as_mut_ptr(), callee) };
    stack.frames.push(Frame {
        code,
        ret: callee.instrs.as_ptr(),
        base: 0,
        instance,
        vmctx,
    });
    // An exception that a frame catches resumes execution there.
    loop {
        match execute(store, stack) {
            Err(ExecError::Throw(exn)) => {
                let Stack {
                    slots,
                    frames,
                    trap_pc,
                } = stack;
                if !super::unwind::unwind(store.inner(), frames, slots, *trap_pc, exn) {
                    return Err(ExecError::Throw(exn));
                }
            }
            other => break other?,
        }
    }
    let results = callee.num_results as usize;
    raw[..results].copy_from_slice(&stack.slots[..results]);
    Ok(())
}

/// The most slots the store's engine lets the value stack have.
fn max_slots(store: &mut dyn StoreOps) -> usize {
    store.inner().engine.config().max_wasm_stack / size_of::<u64>()
}

/// Zeroes the declared locals and places the constants of a new frame
/// whose first slot is `sp` (its parameters are in place already).
///
/// # Safety
/// `sp` must point at `code.frame_size` writable slots.
#[inline(always)]
pub(crate) unsafe fn enter(sp: *mut u64, code: &CompiledFunc) {
    // Frames have few locals and constants: a loop of moves beats a call
    // to `memcpy`, and keeps the call handler free of calls. Whole chunks
    // (the translator pads `init` to them) take a third of the
    // instructions of a loop of single cells; `enter` runs at every call.
    type Chunk = [u64; INIT_CHUNK];
    // SAFETY: the translator makes `init` a whole number of chunks and
    // `num_params + init.len() <= frame_size`, so every chunk lies within
    // the frame.
    unsafe {
        let dst = sp.add(code.num_params as usize);
        let src = code.init.as_ptr();
        let mut i = 0;
        while i < code.init.len() {
            dst.add(i)
                .cast::<Chunk>()
                .write_unaligned(src.add(i).cast::<Chunk>().read_unaligned());
            i += INIT_CHUNK;
        }
    }
}

/// The cells `enter` copies at a time; `CompiledFunc::init` is a whole
/// number of them.
pub(crate) const INIT_CHUNK: usize = 4;

/// Expands to the executor's `match`: the arms generated from the numeric
/// instruction table, then the hand-written arms given in braces.
macro_rules! exec_match {
    (
        ($op:expr, $r:ident, $w:ident, $access:ident, $trap:ident, $jump:ident, $ext:ident) { $($arms:tt)* }
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
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
    ) => {{
        // A `v128` operand: the vector in slots `s` and `s + 1`.
        macro_rules! rv {
            ($s:expr) => {
                $crate::types::raw::v128_bytes_from_cells($r!($s), $r!($s + 1))
            };
        }
        macro_rules! wv {
            ($s:expr, $v:expr) => {{
                let [low, high] = $crate::types::raw::v128_bytes_to_cells($v);
                $w!($s, low);
                $w!($s + 1, high);
            }};
        }
        #[allow(unused_imports)]
        use $crate::isa::lanes::*;
        match $op {
            $( Op::$U { dst, src } => {
                let v: $UO = ($uf)(<$UI>::from_raw($r!(src)));
                $w!(dst, v.to_raw());
            } )*
            $( Op::$UT { dst, src } => {
                let v: $UTO = match ($utf)(<$UTI>::from_raw($r!(src))) {
                    Ok(v) => v,
                    Err(t) => $trap!(t),
                };
                $w!(dst, v.to_raw());
            } )*
            $( Op::$B { dst, lhs, rhs } => {
                let v: $BO = ($bf)(<$BI>::from_raw($r!(lhs)), <$BI>::from_raw($r!(rhs)));
                $w!(dst, v.to_raw());
            } )*
            $( Op::$C { dst, lhs, rhs } => {
                let v = ($cf)(<$CI>::from_raw($r!(lhs)), <$CI>::from_raw($r!(rhs))) as i32;
                $w!(dst, v.to_raw());
            } )*
            $( Op::$CB { lhs, rhs, target } => {
                if ($cf)(<$CI>::from_raw($r!(lhs)), <$CI>::from_raw($r!(rhs))) {
                    $jump!(target);
                }
            } )*
            $( Op::$BT { dst, lhs, rhs } => {
                let v: $BTO = match ($btf)(<$BTI>::from_raw($r!(lhs)), <$BTI>::from_raw($r!(rhs))) {
                    Ok(v) => v,
                    Err(t) => $trap!(t),
                };
                $w!(dst, v.to_raw());
            } )*
            $( Op::$L { dst, addr, offset, access } => {
                let (m, addr, offset) = $access!(access, addr, offset);
                // SAFETY: `m` is a live memory of the current instance.
                match unsafe { (*m).load_at(addr, offset) } {
                    Some(bytes) => {
                        let v = <$LM>::from_le_bytes(bytes) as $LO;
                        $w!(dst, v.to_raw());
                    }
                    None => $trap!(Trap::MemoryOutOfBounds),
                }
            } )*
            $( Op::$S { addr, value, offset, access } => {
                let (m, addr, offset) = $access!(access, addr, offset);
                let v = <$SI>::from_raw($r!(value)) as $SM;
                // SAFETY: as for loads; nothing borrows the memory's bytes
                // while the executor runs.
                if unsafe { (*m).store_at(addr, offset, v.to_le_bytes()) }.is_none() {
                    $trap!(Trap::MemoryOutOfBounds);
                }
            } )*
            $( Op::$VU { dst, src } => {
                let f: fn(V128) -> V128 = $vuf;
                wv!(dst, f(rv!(src)));
            } )*
            $( Op::$VB { dst, lhs, rhs } => {
                let f: fn(V128, V128) -> V128 = $vbf;
                wv!(dst, f(rv!(lhs), rv!(rhs)));
            } )*
            $( Op::$VT { dst, a, b } => {
                let (c, _, _) = $ext!();
                let f: fn(V128, V128, V128) -> V128 = $vtf;
                wv!(dst, f(rv!(a), rv!(b), rv!(c)));
            } )*
            $( Op::$VX { dst, src } => {
                let f: fn(V128) -> i32 = $vxf;
                $w!(dst, f(rv!(src)).to_raw());
            } )*
            $( Op::$VS { dst, lhs, rhs } => {
                let f: fn(V128, u32) -> V128 = $vsf;
                wv!(dst, f(rv!(lhs), $r!(rhs) as u32));
            } )*
            $( Op::$VP { dst, src } => {
                let f: fn($VPT) -> V128 = $vpf;
                wv!(dst, f(<$VPT>::from_raw($r!(src))));
            } )*
            $( Op::$VE { dst, src, lane } => {
                let f: fn(V128, usize) -> $VET = $vef;
                $w!(dst, f(rv!(src), lane as usize).to_raw());
            } )*
            $( Op::$VR { dst, vec, val } => {
                let (lane, _, _) = $ext!();
                let f: fn(V128, usize, $VRT) -> V128 = $vrf;
                wv!(dst, f(rv!(vec), lane as usize, <$VRT>::from_raw($r!(val))));
            } )*
            // Vector loads and stores find their memory as scalar ones do
            // (`$access`, which consumes the access's extension word
            // before those of the other operands).
            $( Op::$VL { dst, addr, offset, access } => {
                let f: fn([u8; $VLN]) -> V128 = $vlf;
                let (m, addr, offset) = $access!(access, addr, offset);
                // SAFETY: `m` is a live memory of the current instance.
                match unsafe { (*m).load_at::<$VLN>(addr, offset) } {
                    Some(bytes) => wv!(dst, f(bytes)),
                    None => $trap!(Trap::MemoryOutOfBounds),
                }
            } )*
            $( Op::$VLL { dst, addr, offset, access } => {
                let (m, addr, offset) = $access!(access, addr, offset);
                let (vec, lane, _) = $ext!();
                // SAFETY: as for loads.
                match unsafe { (*m).load_at::<$VLLN>(addr, offset) } {
                    Some(bytes) => wv!(dst, load_lane(rv!(vec), lane as usize, bytes)),
                    None => $trap!(Trap::MemoryOutOfBounds),
                }
            } )*
            $( Op::$VSL { addr, vec, offset, access } => {
                let (m, addr, offset) = $access!(access, addr, offset);
                let (lane, _, _) = $ext!();
                let bytes = store_lane::<$VSLN>(rv!(vec), lane as usize);
                // SAFETY: as for stores.
                if unsafe { (*m).store_at(addr, offset, bytes) }.is_none() {
                    $trap!(Trap::MemoryOutOfBounds);
                }
            } )*
            Op::V128Store { addr, value, offset, access } => {
                let (m, addr, offset) = $access!(access, addr, offset);
                let bytes = rv!(value);
                // SAFETY: as for stores.
                if unsafe { (*m).store_at(addr, offset, bytes) }.is_none() {
                    $trap!(Trap::MemoryOutOfBounds);
                }
            }
            Op::I64Add128 { dst, low, high } | Op::I64Sub128 { dst, low, high } => {
                let (bl, bh, _) = $ext!();
                let f = if matches!($op, Op::I64Add128 { .. }) {
                    $crate::isa::semantics::add128
                } else {
                    $crate::isa::semantics::sub128
                };
                let (l, h) = f($r!(low), $r!(high), $r!(bl), $r!(bh));
                $w!(dst, l);
                $w!(dst + 1, h);
            }
            Op::I64MulWideS { dst, lhs, rhs } | Op::I64MulWideU { dst, lhs, rhs } => {
                let f = if matches!($op, Op::I64MulWideS { .. }) {
                    $crate::isa::semantics::mul_wide_s
                } else {
                    $crate::isa::semantics::mul_wide_u
                };
                let (l, h) = f($r!(lhs), $r!(rhs));
                $w!(dst, l);
                $w!(dst + 1, h);
            }
            Op::I8x16Shuffle { dst, a, b } => {
                let (mask, _, _) = $ext!();
                wv!(dst, shuffle(rv!(a), rv!(b), rv!(mask)));
            }
            $($arms)*
        }
    }};
}

/// `store` as the raw pointer `CallCx` carries, taken afresh before each
/// chain of handlers.
fn erase(store: &mut dyn StoreOps) -> *mut dyn StoreOps {
    // SAFETY: only the lifetime is erased: the handlers use the pointer
    // only while the chain runs, inside `execute`'s borrow of the store,
    // and `execute` does not touch the store meanwhile.
    unsafe { std::mem::transmute::<*mut (dyn StoreOps + '_), *mut (dyn StoreOps + 'static)>(store) }
}

fn execute(store: &mut dyn StoreOps, stack: &mut Stack) -> Result<(), ExecError> {
    let max_slots = max_slots(store);
    let Stack {
        slots,
        frames,
        trap_pc,
    } = stack;
    let top = *frames.last().expect("execute starts with a frame");
    // SAFETY (for every `&*frame.code` below): the code is owned by an `Arc`
    // in the store's function table, which only grows and outlives this call.
    let mut code: &CompiledFunc = unsafe { &*top.code };
    let mut base = top.base;
    let mut instance = top.instance;
    let mut vmctx = top.vmctx;
    // SAFETY (for every read of `*vmctx` below): a frame's context belongs
    // to an instance of this store, which outlives the call.
    // The current instance's memory 0; its definition is updated in place
    // by `memory.grow`, so only a change of instance changes `mem`.
    let mut mem: *const VMMemory = unsafe { (*vmctx).memory0 };
    let max_frames = store.inner().engine.config().max_call_depth;
    // The current instance's module code, for calls the handlers make.
    let code_table = |store: &mut dyn StoreOps, instance: u32| {
        let code = module_code(store.inner(), instance);
        (code.funcs.as_ptr(), code.module.num_imported_funcs)
    };
    let (code_table_ptr, num_imported) = code_table(store, instance);
    let hop_budget = super::hot::hop_budget(store.inner());
    // Its stack pointers and length are taken afresh before each chain of
    // handlers (the driver may have grown the stack); its code table
    // follows the current instance; it keeps the accumulators between
    // chains.
    let mut cx = CallCx {
        frames: std::ptr::null_mut(),
        slots: std::ptr::null_mut(),
        len: 0,
        max_frames,
        code: code_table_ptr,
        num_imported,
        hops: super::hot::hop_budget(store.inner()),
        acc: 0,
        facc: 0.0,
        store: erase(store),
        failed: None,
    };
    // The index of instruction `ip` of the current function.
    macro_rules! pc_of {
        ($ip:expr) => {
            // SAFETY: `ip` points into the current function's instructions.
            unsafe { $ip.offset_from(code.instrs.as_ptr()) as usize }
        };
    }
    let mut pc = pc_of!(top.ret);

    // Slot access is the hottest path: `sp` points at the current frame's
    // first slot. The translator only emits slot indices below the
    // function's `frame_size`, and a frame is only entered when
    // `base + frame_size <= slots.len()` (checked in `call!`, `run` and the
    // call handler), so every access below is in bounds. `slots` only grows
    // in `call!` (which moves it), after which control goes back to the top
    // of the loop: `sp`, `cx.slots` and `cx.len` are derived afresh there,
    // before every chain of handlers, and `sp` again after it.
    let mut sp: *mut u64;
    // The current function's instructions; recomputed with `code`.
    let mut ops: *const Op = code.ops.as_ptr();
    macro_rules! r {
        ($s:expr) => {{
            debug_assert!(base + ($s as usize) < slots.len());
            // SAFETY: in bounds, see above.
            unsafe { *sp.add($s as usize) }
        }};
    }
    macro_rules! w {
        ($s:expr, $v:expr) => {{
            let v = $v;
            debug_assert!(base + ($s as usize) < slots.len());
            // SAFETY: in bounds, see above.
            unsafe { *sp.add($s as usize) = v };
        }};
    }
    macro_rules! trap {
        ($t:expr) => {
            return Err(ExecError::Trap($t))
        };
    }
    macro_rules! jump {
        ($t:expr) => {
            pc = $t as usize
        };
    }
    macro_rules! ext {
        () => {{
            let Op::Ext { a, b, c } = code.ops[pc] else {
                unreachable!("instruction without its extension word")
            };
            pc += 1;
            (a, b, c)
        }};
    }
    // The memory, address and offset of a load or store: memory 0's fast
    // path, or the memory its extension word names (whose offset's high
    // half is there too).
    macro_rules! access {
        ($access:expr, $addr:expr, $offset:expr) => {
            match $access {
                Access::Mem0 => (mem, u64::from(r!($addr) as u32), u64::from($offset)),
                Access::Indexed | Access::Wide => {
                    let (memory, high, _) = ext!();
                    let offset = u64::from(high) << 32 | u64::from($offset);
                    // SAFETY: `vmctx` is the current instance's live
                    // context and the validated index one of its memories.
                    let m = unsafe { VMContext::memory(vmctx, memory) };
                    (m, r!($addr), offset)
                }
            }
        };
    }
    // Makes the top frame's function and instance current; returns the
    // frame.
    macro_rules! top_frame {
        () => {{
            let f = *frames.last().expect("a frame is active");
            code = unsafe { &*f.code };
            ops = code.ops.as_ptr();
            base = f.base;
            if f.instance != instance {
                instance = f.instance;
                vmctx = f.vmctx;
                mem = unsafe { (*vmctx).memory0 };
                (cx.code, cx.num_imported) = code_table(store, instance);
            }
            f
        }};
    }
    // Makes the top frame current after a call or return, where it resumes.
    macro_rules! switch_to_top {
        () => {{
            let f = top_frame!();
            pc = pc_of!(f.ret);
        }};
    }
    macro_rules! ret {
        () => {{
            frames.pop();
            if frames.is_empty() {
                return Ok(());
            }
            switch_to_top!();
        }};
    }
    // Calls host or compiled function `$f` with its argument cells at slot
    // `$args` (an absolute stack index); its results come back there.
    macro_rules! call_out {
        ($f:expr, $args:expr) => {{
            let (f, args) = ($f, $args);
            let inner = store.inner();
            let n = inner.funcs[f].ty.buffer_cells();
            let kind = inner.funcs[f].kind;
            if args + n > slots.len() && !grow(slots, args + n, max_slots) {
                trap!(Trap::StackOverflow);
            }
            // The frames are the collector's roots while it runs, each at
            // the safepoint its `ret` names (`runtime/gc/roots.rs`); the
            // buffer above `args` is the callee's.
            let p = slots.as_mut_ptr();
            store.inner().activations.publish(frames, p, args);
            // SAFETY: `args + n` slots exist (grown above), and the
            // published slots lie below `args`, apart from the buffer.
            let buf = unsafe { std::slice::from_raw_parts_mut(p.add(args), n) };
            let result = match kind {
                FuncKind::Host(h) => store.call_host(h, buf, Some(instance)),
                FuncKind::Wasm {
                    instance: callee, ..
                } => crate::tier::call_from_interp(store, f as u32, callee, buf),
            };
            store.inner().activations.unpublish();
            result.map_err(|e| call_error(store, e))?;
        }};
    }
    // The interpreted code of store function `$f`, translated now if it is
    // not yet; `None` for a host function or one with compiled code, which
    // run through `call_out!`.
    macro_rules! interpreted {
        ($f:expr) => {{
            let inner = store.inner();
            let kind = inner.funcs[$f].kind;
            match kind {
                FuncKind::Wasm {
                    instance: callee_instance,
                    index: callee_index,
                    vmctx: callee_vmctx,
                } if inner.func_refs[$f].get().array_call.is_null()
                    && !count_call(inner, callee_instance, callee_index) =>
                {
                    let inner = store.inner();
                    let lazy = func_code(inner, callee_instance, callee_index);
                    // Translated already (the common case), or now.
                    let callee: &CompiledFunc = match lazy.translated() {
                        Some(code) => code,
                        None => module_code(inner, callee_instance)
                            .get(callee_index)
                            .map_err(ExecError::Host)?,
                    };
                    Some((
                        callee as *const CompiledFunc,
                        callee_instance,
                        callee_vmctx.0,
                    ))
                }
                _ => None,
            }
        }};
    }
    macro_rules! call {
        ($f:expr, $args:expr) => {{
            let f = $f as usize;
            let args = base + $args as usize;
            if let Some(caller) = frames.last_mut() {
                caller.ret = unsafe { code.instrs.as_ptr().add(pc) };
            }
            match interpreted!(f) {
                Some((callee_ptr, callee_instance, callee_vmctx)) => {
                    // SAFETY: the store keeps the code alive.
                    let callee = unsafe { &*callee_ptr };
                    let end = args + callee.frame_size as usize;
                    if frames.len() >= max_frames
                        || (end > slots.len() && !grow(slots, end, max_slots))
                    {
                        trap!(Trap::StackOverflow);
                    }
                    // SAFETY: the frame fits (checked above); the pointer
                    // is taken after any growth.
                    unsafe { enter(slots.as_mut_ptr().add(args), callee) };
                    frames.push(Frame {
                        code: callee_ptr,
                        ret: callee.instrs.as_ptr(),
                        base: args,
                        instance: callee_instance,
                        vmctx: callee_vmctx,
                    });
                    switch_to_top!();
                }
                None => call_out!(f, args),
            }
        }};
    }

    // A tail call: the callee replaces the current frame. Its arguments
    // move down to the frame's base (ascending, which is safe: they lie
    // above it), so wasm and host stacks stay the same size however long a
    // chain of tail calls runs. A host or compiled callee is called, then
    // the frame returns its results.
    macro_rules! tail_call {
        ($f:expr, $args:expr, $ext:expr) => {{
            let f = $f as usize;
            let args = base + $args as usize;
            match interpreted!(f) {
                Some((callee_ptr, callee_instance, callee_vmctx)) => {
                    // SAFETY: the store keeps the code alive.
                    let callee = unsafe { &*callee_ptr };
                    let end = base + callee.frame_size as usize;
                    if end > slots.len() && !grow(slots, end, max_slots) {
                        trap!(Trap::StackOverflow);
                    }
                    let params = callee.num_params as usize;
                    slots.copy_within(args..args + params, base);
                    // SAFETY: the frame fits (checked above).
                    unsafe { enter(slots.as_mut_ptr().add(base), callee) };
                    let frame = frames.last_mut().expect("a frame is active");
                    *frame = Frame {
                        code: callee_ptr,
                        ret: callee.instrs.as_ptr(),
                        base,
                        instance: callee_instance,
                        vmctx: callee_vmctx,
                    };
                    switch_to_top!();
                }
                None => {
                    // The frame is suspended at the tail call, whose stack
                    // map lists its locals only (`$ext` words follow it).
                    if let Some(frame) = frames.last_mut() {
                        // SAFETY: the instruction and its extension words
                        // lie within the function, which ends in another.
                        frame.ret = unsafe { code.instrs.as_ptr().add(pc + $ext) };
                    }
                    call_out!(f, args);
                    let results = store.inner().funcs[f].ty.result_cells();
                    slots.copy_within(args..args + results, base);
                    ret!();
                }
            }
        }};
    }
    // The store function a function reference in slot `$r` names, trapping
    // on null.
    macro_rules! deref {
        ($r:expr) => {{
            let Some(f) = r!($r).checked_sub(1) else {
                trap!(Trap::NullFunctionReference);
            };
            f
        }};
    }
    // The store function at `index` of table `table`, checked against the
    // expected type id `type_id` (a subtype will do).
    macro_rules! table_callee {
        ($type_id:expr, $table:expr, $index:expr) => {{
            let inner = store.inner();
            let t = inner.instances[instance as usize].tables[$table as usize];
            let i = usize::try_from(r!($index)).unwrap_or(usize::MAX);
            let Some(&raw) = inner.tables[t as usize].elements.get(i) else {
                trap!(Trap::TableOutOfBounds);
            };
            let Some(f) = raw.checked_sub(1) else {
                trap!(Trap::IndirectCallToNull);
            };
            let actual = inner.funcs[f as usize].type_id;
            if actual.bits() != $type_id
                && !inner
                    .engine
                    .types()
                    .is_subtype(actual, crate::types::SharedTypeIndex($type_id))
            {
                trap!(Trap::BadSignature);
            }
            f
        }};
    }

    loop {
        // Run threaded handlers until an instruction needs the driver.
        debug_assert!(pc < code.ops.len() && std::ptr::eq(ops, code.ops.as_ptr()));
        let instrs = code.instrs.as_ptr();
        // SAFETY: every instruction sequence the translator emits ends in a
        // return, branch, `br_table` or `unreachable`, and branch targets are
        // instruction indices inside the function, so `pc` and every address
        // a handler moves to stay inside `instrs`; `sp` is the current frame
        // (see above) and `mem`/`vmctx` the current instance's memory and
        // context.
        let ip: *const Instr = unsafe { instrs.add(pc) };
        let slots_ptr = slots.as_mut_ptr();
        cx.frames = &mut *frames;
        cx.slots = slots_ptr;
        cx.len = slots.len();
        cx.store = erase(store);
        let flow = unsafe { Instr::run(ip, slots_ptr.add(base), mem, vmctx, &mut cx) }.next();
        // Handlers call and return within the instance: continue in the
        // frame on top now, at the instruction the chain stopped at, which
        // belongs to that frame's function.
        top_frame!();
        sp = unsafe { slots.as_mut_ptr().add(base) };
        match flow {
            Next::Continue(next) => {
                pc = pc_of!(next);
                continue;
            }
            Next::Slow(at) => {
                pc = pc_of!(at);
                // A call the handler made into compiled code failed: the
                // error is the call's, as if the driver had made it.
                if let Some(e) = cx.failed.take() {
                    *trap_pc = pc;
                    return Err(call_error(store, e));
                }
            }
            Next::Loop(target) => {
                pc = pc_of!(target);
                cx.hops = hop_budget;
                let osr =
                    super::hot::hot_loop(store.inner(), instance, code, pc as u32, hop_budget);
                if let Some(entry) = osr {
                    // The rest of this frame runs compiled, from the loop's
                    // header: the compiled entry reads the locals and
                    // operands from the frame's slots and leaves the
                    // function's results at its base, as a return does.
                    frames.pop();
                    let tier_up = store.inner().instances[instance as usize]
                        .code
                        .tier_up
                        .clone();
                    let Some(tier_up) = tier_up else {
                        unreachable!("a loop entry comes from the instance's tier-up")
                    };
                    let p = slots.as_mut_ptr();
                    // SAFETY: the frame's slots lie within the stack.
                    let values = unsafe { p.add(base) };
                    // The frames below are suspended at their calls; the
                    // compiled rest of this one owns the slots from `base`
                    // (its references are in its stack maps).
                    store.inner().activations.publish(frames, p, base);
                    let entered = tier_up.enter(store, entry, vmctx, values, instance);
                    store.inner().activations.unpublish();
                    if let Err(e) = entered {
                        let e = call_error(store, e);
                        // The compiled rest of the frame is gone: an
                        // exception unwinds from its caller's call.
                        if let (ExecError::Throw(_), Some(caller)) = (&e, frames.last()) {
                            // SAFETY: the store keeps the caller's code
                            // alive, and its return address points into
                            // it, just after the call.
                            let ret =
                                unsafe { caller.ret.offset_from((*caller.code).instrs.as_ptr()) };
                            *trap_pc = (ret as usize).saturating_sub(1);
                        }
                        return Err(e);
                    }
                    if frames.is_empty() {
                        return Ok(());
                    }
                    switch_to_top!();
                }
                continue;
            }
        }
        // SAFETY: `pc` is in bounds (see above).
        let op = unsafe { *ops.add(pc) };
        // Where the backtrace starts if this instruction traps, also when
        // the trap is returned with `?`.
        *trap_pc = pc;
        pc += 1;
        numeric_ops!(simd_ops exec_match (op, r, w, access, trap, jump, ext) {
            Op::Ext { .. } => unreachable!("extension word executed"),
            Op::Unreachable => trap!(Trap::UnreachableCodeReached),
            Op::ConsumeFuel { amount } => {
                // SAFETY: the context's limits belong to the live store.
                if !unsafe { VMRuntimeLimits::consume_fuel((*vmctx).limits, u64::from(amount)) } {
                    trap!(Trap::OutOfFuel);
                }
            }
            Op::CheckEpoch => {
                // SAFETY: as for `ConsumeFuel`.
                if unsafe { VMRuntimeLimits::epoch_passed((*vmctx).limits) } {
                    // The store's callback decides (it may sample this
                    // stack); without one, the `Interrupt` trap.
                    let at = *trap_pc;
                    let (frames, slots) = (&*frames, &*slots);
                    let stack =
                        |s: &StoreInner| super::frames::backtrace(s, frames, slots, Some(at));
                    if let Err(e) = store.epoch_deadline_reached(&stack) {
                        match e.downcast::<Trap>() {
                            Ok(t) => trap!(t),
                            Err(e) => return Err(ExecError::Host(e)),
                        }
                    }
                }
            }
            Op::Copy { dst, src } => w!(dst, r!(src)),
            Op::Br { target } => pc = target as usize,
            Op::BrIfNez { cond, target } => {
                if r!(cond) != 0 {
                    pc = target as usize;
                }
            }
            Op::BrIfEqz { cond, target } => {
                if r!(cond) == 0 {
                    pc = target as usize;
                }
            }
            Op::BrTable { index, len } => {
                pc += (r!(index) as u32).min(len) as usize;
            }
            Op::Return => ret!(),
            Op::Return1 { src } => {
                w!(0, r!(src));
                ret!();
            }
            Op::ReturnMany { list, len } => {
                let sources = &code.slot_lists[list as usize..(list + len) as usize];
                let values: Vec<u64> = sources.iter().map(|s| r!(*s)).collect();
                slots[base..base + values.len()].copy_from_slice(&values);
                ret!();
            }
            Op::Call { func, base: args } => {
                let f = store.inner().instances[instance as usize].vm.funcs()[func as usize];
                call!(f, args);
            }
            Op::CallIndirect { type_id, table, index } => {
                let (args, _, _) = ext!();
                let f = table_callee!(type_id, table, index);
                call!(f, args);
            }
            Op::CallRef { callee, base: args } => {
                let f = deref!(callee);
                call!(f, args);
            }
            Op::ReturnCall { func, base: args } => {
                let f = store.inner().instances[instance as usize].vm.funcs()[func as usize];
                tail_call!(f, args, 0);
            }
            Op::ReturnCallIndirect { type_id, table, index } => {
                // The extension word is read in place: the frame is
                // replaced, so nothing continues after it.
                let Op::Ext { a: args, .. } = code.ops[pc] else {
                    unreachable!("instruction without its extension word")
                };
                let f = table_callee!(type_id, table, index);
                tail_call!(f, args, 1);
            }
            Op::ReturnCallRef { callee, base: args } => {
                let f = deref!(callee);
                tail_call!(f, args, 0);
            }
            Op::RefAsNonNull { dst, src } => {
                let v = r!(src);
                if v == 0 {
                    trap!(Trap::NullReference);
                }
                w!(dst, v);
            }
            Op::Select { dst, cond, a } => {
                let (b, _, _) = ext!();
                let v = if r!(cond) as u32 != 0 { r!(a) } else { r!(b) };
                w!(dst, v);
            }
            Op::GlobalGet { dst, global } => {
                let g = store.inner().instances[instance as usize].globals[global as usize];
                w!(dst, store.inner().globals[g as usize].get() as u64);
            }
            Op::GlobalSet { global, src } => {
                let g = store.inner().instances[instance as usize].globals[global as usize];
                store.inner().globals[g as usize].set(u128::from(r!(src)));
            }
            Op::GlobalGetV128 { dst, global } => {
                let g = store.inner().instances[instance as usize].globals[global as usize];
                let [low, high] = store.inner().globals[g as usize].cells();
                w!(dst, low);
                w!(dst + 1, high);
            }
            Op::GlobalSetV128 { global, src } => {
                let g = store.inner().instances[instance as usize].globals[global as usize];
                let value = crate::types::raw::v128_from_cells(r!(src), r!(src + 1));
                store.inner().globals[g as usize].set(value);
            }
            Op::RefFunc { dst, func } => {
                let f = store.inner().instances[instance as usize].vm.funcs()[func as usize];
                w!(dst, u64::from(f) + 1);
            }
            Op::MemorySize { dst, memory } => {
                let m = store.inner().instances[instance as usize].memories[memory as usize];
                w!(dst, store.inner().memories[m as usize].mem.pages());
            }
            Op::MemoryGrow { dst, delta, memory } => {
                let m = store.inner().instances[instance as usize].memories[memory as usize];
                let is_64 = store.inner().memories[m as usize].ty.is_64();
                let delta = if is_64 { r!(delta) } else { u64::from(r!(delta) as u32) };
                let old = store.grow_memory(m, delta).map_err(ExecError::Host)?;
                // -1 of the memory's index type when it cannot grow.
                let failed = if is_64 { u64::MAX } else { u64::from(u32::MAX) };
                w!(dst, old.unwrap_or(failed));
            }
            Op::MemoryFill { dst, value, len } => {
                let (memory, _, _) = ext!();
                ops::memory_fill(store.inner(), instance, memory, r!(dst), r!(value), r!(len))?;
            }
            Op::MemoryCopy { dst, src, len } => {
                let (dst_mem, src_mem, _) = ext!();
                let memories = (dst_mem, src_mem);
                ops::memory_copy(store.inner(), instance, memories, r!(dst), r!(src), r!(len))?;
            }
            Op::MemoryInit { segment, dst, src } => {
                let (len, memory, _) = ext!();
                let (dst, src, len) = (r!(dst), r!(src), r!(len));
                ops::memory_init(store.inner(), instance, (memory, segment), dst, src, len)?;
            }
            Op::DataDrop { segment } => ops::data_drop(store.inner(), instance, segment),
            Op::Atomic { op, dst, addr, offset } => {
                let (memory, high, a) = ext!();
                let (b, _, _) = ext!();
                let at = (r!(addr), u64::from(high) << 32 | u64::from(offset));
                let v = super::atomic::run(store.inner(), instance, vmctx, op, memory, at, r!(a), r!(b))?;
                if op.kind() != crate::isa::atomic::AtomicKind::Store {
                    w!(dst, v);
                }
            }
            Op::AtomicFence => std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst),
            Op::Gc { op, a, b, c } => {
                let ext = ext!();
                let end = base + code.frame_size as usize;
                if op.allocates() {
                    // A safepoint: the frames, this one suspended here (its
                    // stack map resumes after the extension word), are the
                    // collector's roots.
                    if let Some(frame) = frames.last_mut() {
                        // SAFETY: `pc` is past the extension word, within
                        // the function (which ends in a return or branch).
                        frame.ret = unsafe { code.instrs.as_ptr().add(pc) };
                    }
                    let p = slots.as_mut_ptr();
                    let inner = store.inner();
                    inner.activations.publish(frames, p, end);
                    // SAFETY: the frame lies within the stack; the slice
                    // is made after each collection and dropped before the
                    // next, so it never overlaps the collector's reads of
                    // the published slots.
                    let frame = || unsafe { std::slice::from_raw_parts_mut(p.add(base), end - base) };
                    let result = super::gc::run_allocating(inner, instance, op, (a, b, c), ext, frame, false);
                    inner.activations.unpublish();
                    result?;
                } else {
                    let frame = &mut slots[base..end];
                    super::gc::run(store.inner(), instance, op, (a, b, c), ext, frame)?;
                }
            }
            Op::TableGet { dst, table, index } => {
                let t = store.inner().instances[instance as usize].tables[table as usize];
                // An i32 index is zero-extended in its slot; a table64
                // index is the whole slot.
                let i = usize::try_from(r!(index)).unwrap_or(usize::MAX);
                let Some(&v) = store.inner().tables[t as usize].elements.get(i) else {
                    trap!(Trap::TableOutOfBounds);
                };
                w!(dst, v);
            }
            Op::TableSet { table, index, value } => {
                let t = store.inner().instances[instance as usize].tables[table as usize];
                let i = usize::try_from(r!(index)).unwrap_or(usize::MAX);
                let v = r!(value);
                let Some(e) = store.inner().tables[t as usize].elements.get_mut(i) else {
                    trap!(Trap::TableOutOfBounds);
                };
                *e = v;
            }
            Op::TableSize { dst, table } => {
                let t = store.inner().instances[instance as usize].tables[table as usize];
                w!(dst, store.inner().tables[t as usize].elements.len() as u64);
            }
            Op::TableGrow { dst, table, delta } => {
                let (init, _, _) = ext!();
                let t = store.inner().instances[instance as usize].tables[table as usize];
                let is_64 = store.inner().tables[t as usize].ty.is_64();
                let old = store.grow_table(t, r!(delta), r!(init)).map_err(ExecError::Host)?;
                let failed = if is_64 { u64::MAX } else { u64::from(u32::MAX) };
                w!(dst, old.unwrap_or(failed));
            }
            Op::TableFill { table, dst, value } => {
                let (len, _, _) = ext!();
                ops::table_fill(store.inner(), instance, table, r!(dst), r!(value), r!(len))?;
            }
            Op::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = ext!();
                ops::table_copy(store.inner(), instance, (dst_table, src_table), r!(dst), r!(src), r!(len))?;
            }
            Op::TableInit { table, segment } => {
                let (dst, src, len) = ext!();
                ops::table_init_segment(store.inner(), instance, (table, segment), r!(dst), r!(src), r!(len))?;
            }
            Op::ElemDrop { segment } => ops::elem_drop(store.inner(), instance, segment),
            Op::Throw { tag, base: args } => {
                let inner = store.inner();
                let t = inner.instances[instance as usize].tags[tag as usize];
                let cells = inner.tags[t as usize].ty.ty().param_cells();
                let args = base + args as usize;
                let payload: Vec<u64> = slots[args..args + cells].to_vec();
                // Allocating the exception is a safepoint, as for `Op::Gc`:
                // the frames, this one suspended here (its stack map, which
                // the translator recorded with the payload), are published.
                if let Some(frame) = frames.last_mut() {
                    // SAFETY: `pc` is past the instruction, within the
                    // function (which ends in a return or branch).
                    frame.ret = unsafe { code.instrs.as_ptr().add(pc) };
                }
                let end = base + code.frame_size as usize;
                inner.activations.publish(frames, slots.as_ptr(), end);
                let exn = crate::runtime::exn::alloc(inner, t, &payload, &[]);
                inner.activations.unpublish();
                return Err(ExecError::Throw(exn?));
            }
            Op::ThrowRef { src } => {
                let exn = r!(src) as u32;
                if exn == 0 {
                    trap!(Trap::NullReference);
                }
                return Err(ExecError::Throw(exn));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{grow, INITIAL_SLOTS};

    #[test]
    fn the_value_stack_doubles_up_to_its_maximum_keeping_its_values() {
        let mut slots = Vec::new();
        assert!(grow(&mut slots, 10, 1 << 20));
        assert_eq!(slots.len(), INITIAL_SLOTS);
        slots[7] = 42;
        assert!(grow(&mut slots, INITIAL_SLOTS + 1, 1 << 20));
        assert_eq!(slots.len(), 2 * INITIAL_SLOTS);
        assert!(grow(&mut slots, 5 * INITIAL_SLOTS, 1 << 20));
        assert_eq!(slots.len(), 8 * INITIAL_SLOTS);
        assert_eq!(slots[7], 42);
        // Capped at the maximum; more than it is refused.
        assert!(grow(&mut slots, 9 * INITIAL_SLOTS, 10 * INITIAL_SLOTS));
        assert_eq!(slots.len(), 10 * INITIAL_SLOTS);
        assert!(!grow(
            &mut slots,
            10 * INITIAL_SLOTS + 1,
            10 * INITIAL_SLOTS
        ));
        assert_eq!(slots.len(), 10 * INITIAL_SLOTS);
        assert_eq!(slots[7], 42);
    }

    #[test]
    fn a_stack_the_host_cannot_allocate_is_refused_not_an_abort() {
        let mut slots = vec![1_u64; 4];
        // More bytes than a `Vec` may hold, and more than any machine has.
        for needed in [usize::MAX / 4, 1 << 44] {
            assert!(!grow(&mut slots, needed, usize::MAX), "{needed} slots");
            assert_eq!(slots, [1; 4]);
        }
    }
}
