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
//! Lowering also picks where each operand comes from ([`Src`]): a frame
//! slot, an immediate in the instruction (a constant's value), or the
//! accumulator. Every handler that computes a value writes it to its slot
//! *and* passes it to the next handler in a register (`acc`, or `facc` for
//! `f64`), so an instruction that reads the result of the one right before
//! it (and is not a branch target) reads the register instead of memory.
//! Because the slot is always written, the accumulator is only ever a
//! shortcut: any instruction may still read the slot.
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
//! - `numeric.rs`: the handlers generated from the instruction table in
//!   `crate::isa`, sharing its semantics closures with the driver's `match`;
//! - `simd.rs`: the handlers of the SIMD table, which read and write slots
//!   only; `wide.rs`: the wide-arithmetic instructions, likewise;
//! - `control.rs`: branches, copies, globals, fuel, calls and returns;
//! - `fused.rs`: superinstructions, an address sum and the memory access
//!   that uses it.

mod control;
mod fused;
mod numeric;
mod simd;
mod wide;

use super::exec::Frame;
use super::ops::Op;
use super::LazyFunc;
use crate::runtime::store::StoreOps;
use crate::runtime::vm::{VMContext, VMMemory};
use crate::types::raw::Raw;

/// A handler: executes the instruction at `ip` on the frame at `sp`. `acc`
/// and `facc` hold the previous instruction's result (see the module
/// documentation).
pub(crate) type Handler = unsafe fn(
    ip: *const Instr,
    sp: *mut u64,
    mem: *const VMMemory,
    vmctx: *const VMContext,
    acc: u64,
    cx: *mut CallCx,
    facc: f64,
) -> Flow;

/// A lowered instruction. Operand meaning depends on the handler; branch
/// targets are stored as byte offsets relative to the instruction itself.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Instr {
    handler: Handler,
    // 16 bytes in all: two 16-bit operands (slots, or a 16-bit immediate)
    // and one 32-bit operand (slot, immediate, offset or branch delta). An
    // instruction whose operands do not fit runs in the driver instead.
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
        let (acc, facc) = (cx.acc, cx.facc);
        // SAFETY: forwarded from the caller.
        unsafe { ((*ip).handler)(ip, sp, mem, vmctx, acc, cx, facc) }
    }
}

/// Why a chain of handlers returned to the driver, packed in one machine
/// word so handlers return it in a register (a larger return value would
/// go through memory and stop the compiler from turning the call to the
/// next handler into a jump). Instructions are 8-byte aligned, so the low
/// bits of an address are free for the tag.
///
/// An instruction that traps returns `Slow` with its own address: the
/// driver runs it again, traps there, and so knows which instruction
/// trapped (for the backtrace's offsets). Running it again is harmless: a
/// trapping instruction has changed nothing, and its operands are still in
/// their slots (every result is written to its slot, not only to an
/// accumulator).
#[derive(Clone, Copy)]
pub(crate) struct Flow(usize);

const TAG_CONTINUE: usize = 0;
const TAG_SLOW: usize = 1;
const TAG_LOOP: usize = 2;

/// The unpacked form of a [`Flow`], for the driver.
pub(crate) enum Next {
    /// Continue with the instruction at this address.
    Continue(*const Instr),
    /// The instruction at this address needs the driver (store access), or
    /// traps.
    Slow(*const Instr),
    /// A backward jump to this address spent the loop budget: the driver
    /// counts the iterations (tiered execution may move the loop to
    /// compiled code here) and continues there.
    Loop(*const Instr),
}

#[allow(non_snake_case)]
impl Flow {
    // Only debug builds return to the driver after every instruction.
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    fn Continue(ip: *const Instr) -> Flow {
        Flow(ip as usize | TAG_CONTINUE)
    }
    fn Slow(ip: *const Instr) -> Flow {
        Flow(ip as usize | TAG_SLOW)
    }
    fn Loop(ip: *const Instr) -> Flow {
        Flow(ip as usize | TAG_LOOP)
    }

    /// Unpacks the flow.
    pub(crate) fn next(self) -> Next {
        let ip = (self.0 & !3) as *const Instr;
        match self.0 & 3 {
            TAG_CONTINUE => Next::Continue(ip),
            TAG_LOOP => Next::Loop(ip),
            _ => Next::Slow(ip),
        }
    }
}

/// What the handlers need besides their arguments: the stack the call and
/// return handlers push frames on, the current instance's code, the loop
/// budget, and the accumulators while the chain is not running. The driver
/// keeps one per execution, refreshes it before each chain of handlers and
/// re-reads the top frame afterwards, since handlers may have called or
/// returned.
pub(crate) struct CallCx {
    /// The call stack; handlers push only within its capacity.
    pub frames: *mut Vec<Frame>,
    /// The value stack: its first slot and its length.
    pub slots: *mut u64,
    pub len: usize,
    pub max_frames: usize,
    /// The current instance's module: its defined functions' code, which
    /// follow `num_imported` imported functions in the index space.
    pub code: *const LazyFunc,
    pub num_imported: u32,
    /// Backward jumps left before a chain returns to the driver (which
    /// happens when it reaches zero; the driver then sets it again). It
    /// carries over from chain to chain, so that a loop whose body goes
    /// through the driver anyway is still counted.
    pub hops: usize,
    /// The accumulators, kept here when a chain returns to the driver in
    /// the middle of straight-line code (every instruction in debug builds).
    pub acc: u64,
    pub facc: f64,
    /// The store, for the calls into compiled code the call handler makes
    /// itself (`control::call_compiled`): the driver's, which it leaves
    /// alone while a chain runs.
    pub store: *mut dyn StoreOps,
    /// The error a call into compiled code ended with: the chain then
    /// returns `Slow` at the call, and the driver raises the error there
    /// (never running the call again).
    pub failed: Option<anyhow::Error>,
}

/// How many backward jumps a chain of handlers may take before it returns
/// to the driver. With tail calls the chain uses no stack at all; without
/// them (a build that did not turn the calls into jumps), this bounds the
/// host stack a loop can use to this many iterations of its body. Tiered
/// execution may use a smaller budget, to count loop iterations finely.
pub(crate) const LOOP_HOPS: usize = 256;

/// Where a handler takes an operand from; lowering picks it and the handler
/// is instantiated for it.
type Src = u8;
/// A frame slot: the operand field is the slot index.
const SLOT: Src = 0;
/// The operand field itself: the low half of a 32-bit value, or a 64-bit
/// value sign-extended from it.
const IMM: Src = 1;
/// The accumulator: the previous instruction's result.
const ACC: Src = 2;
/// The operand field, zero-extended to 64 bits (copies of constants).
const IMMZ: Src = 3;

/// The value types handlers compute with, and how they travel in the
/// accumulators and immediates.
trait Operand: Raw + Copy {
    /// Whether values travel in `facc` rather than `acc`.
    const FLOAT: bool;
    /// Whether the value is 32 bits wide, so the low half of its slot
    /// encoding is all of it.
    const NARROW: bool;
    fn from_acc(acc: u64, facc: f64) -> Self;
    fn into_acc(self, acc: u64, facc: f64) -> (u64, f64);
}

macro_rules! operand_impls {
    ($($t:ty: float $float:literal, narrow $narrow:literal;)*) => {$(
        impl Operand for $t {
            const FLOAT: bool = $float;
            const NARROW: bool = $narrow;
            #[inline(always)]
            fn from_acc(acc: u64, facc: f64) -> Self {
                if $float { <$t>::from_raw(facc.to_bits()) } else { <$t>::from_raw(acc) }
            }
            #[inline(always)]
            fn into_acc(self, acc: u64, facc: f64) -> (u64, f64) {
                if $float { (acc, f64::from_bits(self.to_raw())) } else { (self.to_raw(), facc) }
            }
        }
    )*};
}

operand_impls! {
    i32: float false, narrow true;
    u32: float false, narrow true;
    f32: float false, narrow true;
    i64: float false, narrow false;
    u64: float false, narrow false;
    f64: float true, narrow false;
}

/// Reads an operand of type `T` from source `S`, whose operand field is
/// `field` (for a 16-bit immediate, already sign-extended to 32 bits).
///
/// # Safety
/// For `SLOT`, `field` must be a slot of the frame at `sp`.
#[inline(always)]
unsafe fn operand<T: Operand, const S: Src>(field: u32, sp: *mut u64, acc: u64, facc: f64) -> T {
    match S {
        ACC => T::from_acc(acc, facc),
        IMM if T::NARROW => T::from_raw(u64::from(field)),
        IMM => T::from_raw(field as i32 as i64 as u64),
        IMMZ => T::from_raw(u64::from(field)),
        // SAFETY: see the function documentation.
        _ => T::from_raw(unsafe { *sp.add(field as usize) }),
    }
}

/// The result an instruction leaves in an accumulator: its slot, and which
/// accumulator.
#[derive(Clone, Copy)]
struct Prev {
    slot: u32,
    float: bool,
}

impl Prev {
    fn of<T: Operand>(slot: u32) -> Option<Prev> {
        Some(Prev {
            slot,
            float: T::FLOAT,
        })
    }
}

/// What lowering knows about the function: its constants (at slots
/// `const_base..`), the module's imported function count, and whether
/// calls are counted.
pub(crate) struct Lowering<'a> {
    /// The function's instructions (a `br_table`'s lowering also looks
    /// at its entries, a fused one at the instruction after it).
    pub ops: &'a [Op],
    pub consts: &'a [u64],
    pub const_base: u32,
    pub num_imported: u32,
    /// Whether calls count towards tier-up (`LazyFunc::calls`); only
    /// tiered execution pays for counting.
    pub count_calls: bool,
}

impl Lowering<'_> {
    /// The value of slot `slot` if it holds a constant.
    fn constant(&self, slot: u32) -> Option<u64> {
        let k = slot.checked_sub(self.const_base)?;
        self.consts.get(k as usize).copied()
    }

    /// `ACC` when slot `slot` holds the result the previous instruction
    /// left in the accumulator for type `T`, `SLOT` otherwise.
    fn src<T: Operand>(&self, slot: u32, prev: Option<Prev>) -> Src {
        match prev {
            Some(p) if p.slot == slot && p.float == T::FLOAT => ACC,
            _ => SLOT,
        }
    }

    /// Like [`Lowering::src`], but a constant whose value fits a
    /// `bits`-wide immediate field becomes `IMM`; returns the source and
    /// the operand field.
    fn src_imm<T: Operand>(&self, slot: u32, prev: Option<Prev>, bits: u32) -> (Src, u32) {
        if let Some(raw) = self.constant(slot) {
            let shift = 64 - bits;
            let imm = ((raw << shift) as i64 >> shift) as u64;
            let fits = if T::NARROW {
                imm as u32 == raw as u32
            } else {
                imm == raw
            };
            if fits {
                let mask = if bits == 32 {
                    u32::MAX
                } else {
                    (1 << bits) - 1
                };
                return (IMM, imm as u32 & mask);
            }
        }
        (self.src::<T>(slot, prev), slot)
    }
}

/// Lowers a translated function. Branch targets become relative offsets;
/// an instruction that directly follows the one whose result it reads, and
/// that no branch targets, reads it from the accumulator.
pub(crate) fn lower(l: &Lowering<'_>) -> Box<[Instr]> {
    let ops = l.ops;
    let mut targets = vec![false; ops.len() + 1];
    for op in ops {
        if let Some(&mut t) = op.clone().branch_target_mut() {
            if let Some(slot) = targets.get_mut(t as usize) {
                *slot = true;
            }
        }
    }
    let mut prev = None;
    let mut instrs: Vec<Instr> = ops
        .iter()
        .enumerate()
        .map(|(pc, op)| {
            let reads = if targets[pc] { None } else { prev };
            let fused = match ops.get(pc + 1) {
                Some(next) if !targets[pc + 1] => fused::lower(op, next, l, reads),
                _ => None,
            };
            let (handler, a, b, c, produced) = fused
                .or_else(|| numeric::lower(op, pc, l, reads))
                .or_else(|| simd::lower(op))
                .or_else(|| wide::lower(op))
                .or_else(|| control::lower(op, pc, l, reads))
                .unwrap_or((control::slow, 0, 0, 0, None));
            match (u16::try_from(a), u16::try_from(b)) {
                (Ok(a), Ok(b)) => {
                    prev = produced;
                    Instr { handler, a, b, c }
                }
                _ => {
                    prev = None;
                    Instr {
                        handler: control::slow,
                        a: 0,
                        b: 0,
                        c,
                    }
                }
            }
        })
        .collect();
    // An extension word whose second or third operand does not fit its
    // 16-bit field leaves its instruction to the driver, which reads the
    // operands from the `Op`s.
    // An instruction may have two (a memory access's, then its other
    // operands'): the owner is the instruction before them.
    for (pc, op) in ops.iter().enumerate() {
        if let Op::Ext { b, c, .. } = *op {
            if u16::try_from(b).is_err() || u16::try_from(c).is_err() {
                let owner = ops[..pc]
                    .iter()
                    .rposition(|op| !matches!(op, Op::Ext { .. }));
                if let Some(owner) = owner {
                    instrs[owner].handler = control::slow;
                }
            }
        }
    }
    instrs.into_boxed_slice()
}

/// A lowered instruction before packing: handler, operands, and the result
/// it leaves in an accumulator.
type Lowered = (Handler, u32, u32, u32, Option<Prev>);

/// The handler `$h` instantiated for the generic arguments chosen at
/// lowering time: `pick!(h; l [SLOT, ACC], r [SLOT, IMM, ACC])` matches the
/// variable `l` against the first list and `r` against the second, and
/// yields `h::<l, r>`. Each list's first entry is also what any other value
/// selects; it must be the always-correct choice (`SLOT`: every result is
/// also in its slot; `true` for a branch's direction: counting a jump as
/// backward only spends loop budget).
macro_rules! pick {
    ($h:ident; $sel:ident $choices:tt $($rest:tt)*) => {
        pick!(@dim $h, [], $sel, $choices, ($($rest)*))
    };
    (@dim $h:ident, $p:tt, $sel:ident, [$first:tt $(, $c:tt)*], $rest:tt) => {
        {
            #[allow(unreachable_patterns)]
            let h: Handler = match $sel {
                $( $c => pick!(@push $h, $p, $c, $rest), )*
                _ => pick!(@push $h, $p, $first, $rest),
            };
            h
        }
    };
    (@push $h:ident, [$($p:tt)*], $c:tt, ()) => {
        $h::<$($p)* $c> as Handler
    };
    (@push $h:ident, [$($p:tt)*], $c:tt, (, $sel:ident $choices:tt $($rest:tt)*)) => {
        pick!(@dim $h, [$($p)* $c,], $sel, $choices, ($($rest)*))
    };
}
use pick;

/// Continues with the instruction at `$next`: a tail call in optimised
/// builds, a return to the driver (with the accumulators kept in `cx`) in
/// debug builds.
macro_rules! next {
    ($next:expr, $sp:expr, $mem:expr, $vmctx:expr, $acc:expr, $cx:expr, $facc:expr) => {{
        let next: *const Instr = $next;
        #[cfg(debug_assertions)]
        {
            let _ = ($sp, $mem, $vmctx);
            // SAFETY: `cx` is the driver's.
            unsafe {
                (*$cx).acc = $acc;
                (*$cx).facc = $facc;
            }
            return Flow::Continue(next);
        }
        #[cfg(not(debug_assertions))]
        // SAFETY: `next` is the following instruction, a branch target of
        // the same function, or the first instruction of a frame a call or
        // return just made current with its own `sp`, so the handler's own
        // contract carries over.
        return unsafe { ((*next).handler)(next, $sp, $mem, $vmctx, $acc, $cx, $facc) };
    }};
}
use next;

/// Jumps by the byte offset `$rel`. A backward jump (`$back`) spends one
/// unit of the loop budget, and returns to the driver when it is spent.
macro_rules! jump {
    ($back:expr, $ip:expr, $rel:expr, $sp:expr, $mem:expr, $vmctx:expr, $acc:expr, $cx:expr, $facc:expr) => {{
        // SAFETY: the translator only emits targets inside the function.
        let target = unsafe { $ip.byte_offset($rel as i32 as isize) };
        if $back {
            // SAFETY: `cx` is the driver's.
            let cx = unsafe { &mut *$cx };
            cx.hops = cx.hops.wrapping_sub(1);
            if cx.hops == 0 {
                (cx.acc, cx.facc) = ($acc, $facc);
                return Flow::Loop(target);
            }
        }
        next!(target, $sp, $mem, $vmctx, $acc, $cx, $facc)
    }};
}
use jump;

/// The memory an `Access::Indexed` load or store at `ip` addresses: its
/// extension word (lowered with the memory index in `c`) names it, and the
/// context resolves it. Memory 0's 32-bit accesses use the handlers' `mem`
/// instead.
///
/// # Safety
/// `ip` must be such an instruction of code of `vmctx`'s instance.
#[inline(always)]
unsafe fn indexed_memory(ip: *const Instr, vmctx: *const VMContext) -> *const VMMemory {
    // SAFETY: the extension word follows its instruction, and the
    // validated memory index is one of the instance's.
    unsafe { VMContext::memory(vmctx, (*ip.add(1)).c) }
}

// The handlers' memory accesses, scalar and vector alike: `*_mem0` is the
// fast path (memory 0, a 32-bit address plus the instruction's 32-bit
// offset, which cannot overflow 64 bits), `*_indexed` the path of any
// other memory or a 64-bit one (`Access::Indexed`: the memory from the
// extension word, the whole address slot, the effective address
// overflow-checked by `VMMemory::load_at`/`store_at`). `None` means out of
// bounds: the handler returns to the driver, which traps.

/// Reads `N` bytes at `addr + offset` of memory 0.
///
/// # Safety
/// `mem` must be the current instance's live memory 0.
#[inline(always)]
unsafe fn load_mem0<const N: usize>(
    mem: *const VMMemory,
    addr: u32,
    offset: u32,
) -> Option<[u8; N]> {
    // SAFETY: `mem` describes a live memory.
    unsafe { (*mem).load(u64::from(addr) + u64::from(offset)) }
}

/// Writes `bytes` at `addr + offset` of memory 0.
///
/// # Safety
/// As for [`load_mem0`], and nothing may borrow the memory's bytes (none
/// does while wasm runs).
#[inline(always)]
unsafe fn store_mem0<const N: usize>(
    mem: *const VMMemory,
    addr: u32,
    offset: u32,
    bytes: [u8; N],
) -> Option<()> {
    // SAFETY: see the function documentation.
    unsafe { (*mem).store(u64::from(addr) + u64::from(offset), bytes) }
}

/// Reads `N` bytes at `addr` plus the offset (in `c`) of the
/// `Access::Indexed` instruction at `ip`, in the memory its extension word
/// names.
///
/// # Safety
/// As for [`indexed_memory`].
#[inline(always)]
unsafe fn load_indexed<const N: usize>(
    ip: *const Instr,
    vmctx: *const VMContext,
    addr: u64,
) -> Option<[u8; N]> {
    // SAFETY: see the function documentation; the memory is live.
    unsafe { (*indexed_memory(ip, vmctx)).load_at(addr, u64::from((*ip).c)) }
}

/// Writes `bytes` at `addr` plus the offset of the `Access::Indexed`
/// instruction at `ip`; see [`load_indexed`].
///
/// # Safety
/// As for [`load_indexed`] and [`store_mem0`].
#[inline(always)]
unsafe fn store_indexed<const N: usize>(
    ip: *const Instr,
    vmctx: *const VMContext,
    addr: u64,
    bytes: [u8; N],
) -> Option<()> {
    // SAFETY: see the function documentation.
    unsafe { (*indexed_memory(ip, vmctx)).store_at(addr, u64::from((*ip).c), bytes) }
}

/// The byte offset from instruction `pc` to `target`, and whether the jump
/// goes backward (a jump to itself counts as backward: it loops).
fn rel(pc: usize, target: u32) -> (u32, bool) {
    let delta = (target as i64 - pc as i64) * size_of::<Instr>() as i64;
    (delta as i32 as u32, target as usize <= pc)
}

/// Reads slot `$i` of the frame. The translator keeps every slot index
/// below the frame size and the driver only enters a frame that fits the
/// stack, so the access is in bounds.
macro_rules! slot {
    ($sp:expr, $i:expr) => {
        // SAFETY: see the macro documentation.
        unsafe { *$sp.add($i as usize) }
    };
}
use slot;

macro_rules! set_slot {
    ($sp:expr, $i:expr, $v:expr) => {{
        let v = $v;
        // SAFETY: see `slot!`.
        unsafe { *$sp.add($i as usize) = v };
    }};
}
use set_slot;

/// Finishes a handler that computed `$v`: writes it to slot `a` of the
/// instruction, passes it on in its accumulator and continues with the
/// next instruction.
/// `; $len` continues `$len` instructions on (after the instruction's
/// extension words).
macro_rules! produce {
    ($v:expr, $ip:expr, $sp:expr, $mem:expr, $vmctx:expr, $acc:expr, $cx:expr, $facc:expr) => {
        produce!($v, $ip, $sp, $mem, $vmctx, $acc, $cx, $facc; 1)
    };
    ($v:expr, $ip:expr, $sp:expr, $mem:expr, $vmctx:expr, $acc:expr, $cx:expr, $facc:expr; $len:expr) => {{
        let v = $v;
        // SAFETY: `ip` points at the handler's own instruction.
        let dst = unsafe { (*$ip).a };
        set_slot!($sp, dst, $crate::types::raw::Raw::to_raw(v));
        let (acc, facc) = $crate::interp::handlers::Operand::into_acc(v, $acc, $facc);
        next!(unsafe { $ip.add($len) }, $sp, $mem, $vmctx, acc, $cx, facc)
    }};
}
use produce;
