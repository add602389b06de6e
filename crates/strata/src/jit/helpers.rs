//! Runtime helpers: the `extern "C"` functions compiled code calls for what
//! needs the store (host calls, growing, bulk memory and table operations,
//! subtype checks). Compiled code finds them in the [`Builtins`] table its
//! `VMContext` points to, never at addresses compiled into the code.
//!
//! Compiled code reaches the store through [`STORE`], set by each
//! host-to-wasm entry. A helper that fails leaves its error in [`PENDING`]
//! and returns a failure value; the compiled code then traps with
//! `TrapCodes::PENDING`, and the entry hands the pending error back.

use crate::runtime::ops;
use crate::runtime::store::{FuncKind, StoreOps};
use crate::runtime::vm::{VMContext, VMRuntimeLimits};
use crate::types::SharedTypeIndex;
use crate::Trap;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;

/// A helper's failure, handed back by the entry.
pub(crate) enum Pending {
    Error(anyhow::Error),
    Panic(Box<dyn Any + Send>),
}

thread_local! {
    /// The store of the innermost host-to-wasm entry on this thread.
    static STORE: Cell<Option<NonNull<dyn StoreOps>>> = const { Cell::new(None) };
    /// The failure of the helper that made compiled code trap.
    pub(crate) static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Makes `store` the one helpers use until [`leave`]; returns the previous.
///
/// # Safety
/// `store` must stay valid, and otherwise unused, until `leave`.
pub(crate) unsafe fn enter(store: NonNull<dyn StoreOps>) -> Option<NonNull<dyn StoreOps>> {
    STORE.with(|s| s.replace(Some(store)))
}

/// Restores the store of the enclosing entry.
pub(crate) fn leave(previous: Option<NonNull<dyn StoreOps>>) {
    STORE.with(|s| s.set(previous));
}

/// Runs `f` with the current store and the calling instance; a failure or
/// panic is parked in `PENDING` and gives `None`.
///
/// # Safety
/// `vmctx` must be the context of the instance whose compiled code called.
pub(super) unsafe fn with_store<R>(
    vmctx: *const VMContext,
    f: impl FnOnce(&mut dyn StoreOps, u32) -> anyhow::Result<R>,
) -> Option<R> {
    let mut store = STORE.with(|s| s.get())?;
    // SAFETY: compiled code runs only inside an entry, which published its
    // store and does not touch it until the code returns.
    let (store, instance) = unsafe { (store.as_mut(), (*vmctx).instance) };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(store, instance)));
    let pending = match outcome {
        Ok(Ok(r)) => return Some(r),
        Ok(Err(e)) => Pending::Error(e),
        Err(panic) => Pending::Panic(panic),
    };
    PENDING.with(|p| *p.borrow_mut() = Some(pending));
    None
}

/// Result of a helper that can fail: 0 for success, 1 when the error is
/// pending.
fn status(r: Option<()>) -> u32 {
    u32::from(r.is_none())
}

/// Result of a grow helper, which stores the grown entity's old size, or
/// -1 (all ones, as wasm's -1 of either index type) when growing was
/// refused, in `*out`, and returns its status: 0, or 1 when an error is
/// pending. The status is separate from the value, so a memory64 or
/// table64 result can never be mistaken for a failure.
///
/// # Safety
/// `out` must be valid for a write.
unsafe fn grown(r: Option<Option<u64>>, out: *mut u64) -> u32 {
    match r {
        Some(old) => {
            // SAFETY: guaranteed by the caller.
            unsafe { out.write(old.unwrap_or(u64::MAX)) };
            0
        }
        None => 1,
    }
}

/// A trap raised by a helper (as opposed to an error a host function
/// returned, which passes through unchanged).
#[derive(Debug)]
pub(crate) struct HelperTrap(pub Trap);

impl std::fmt::Display for HelperTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for HelperTrap {}

fn trap(r: Result<(), Trap>) -> anyhow::Result<()> {
    r.map_err(|t| anyhow::Error::new(HelperTrap(t)))
}

/// The table of helpers compiled code calls, one field each; the code
/// loads a helper's address from the table at its field's offset.
#[repr(C)]
pub(crate) struct Builtins {
    pub memory_grow: unsafe extern "C" fn(*const VMContext, u32, u64, *mut u64) -> u32,
    pub memory_fill: unsafe extern "C" fn(*const VMContext, u32, u64, u64, u64) -> u32,
    pub memory_copy: unsafe extern "C" fn(*const VMContext, u32, u32, u64, u64, u64) -> u32,
    pub memory_init: unsafe extern "C" fn(*const VMContext, u32, u32, u64, u64, u64) -> u32,
    pub data_drop: unsafe extern "C" fn(*const VMContext, u32) -> u32,
    pub table_grow: unsafe extern "C" fn(*const VMContext, u32, u64, u64, *mut u64) -> u32,
    pub table_fill: unsafe extern "C" fn(*const VMContext, u32, u64, u64, u64) -> u32,
    pub table_copy: unsafe extern "C" fn(*const VMContext, u32, u32, u64, u64, u64) -> u32,
    pub table_init: unsafe extern "C" fn(*const VMContext, u32, u32, u64, u64, u64) -> u32,
    pub elem_drop: unsafe extern "C" fn(*const VMContext, u32) -> u32,
    pub call: unsafe extern "C" fn(*const VMContext, u32, *mut u64) -> u32,
    pub is_subtype: unsafe extern "C" fn(*const VMContext, u32, u32) -> u32,
    pub epoch_reached: unsafe extern "C" fn(*const VMContext, usize, u32, u32) -> u32,
    // Added last, so the offsets of the fields above stay what code
    // compiled before them uses.
    pub atomic_notify: unsafe extern "C" fn(*const VMContext, u32, u64, u64, *mut u64) -> u32,
    pub atomic_wait:
        unsafe extern "C" fn(*const VMContext, u32, u32, u64, u64, u64, *mut u64) -> u32,
    /// The throw stub (`throw.rs`); `(vmctx, op, a, b)`.
    pub throw: unsafe extern "C" fn(*const VMContext, u32, u64, u64),
    pub exn_payload: unsafe extern "C" fn(*const VMContext, u64, *mut u64) -> u32,
    pub exn_is: unsafe extern "C" fn(*const VMContext, u64, u32) -> u32,
    pub gc: GcHelper,
}

/// The signature of [`gc`]: `vmctx, op, a, b, c, d, e, f, frame, cells`.
pub(crate) type GcHelper =
    unsafe extern "C" fn(*const VMContext, u32, u32, u32, u32, u32, u32, u32, *mut u64, u32) -> u32;

/// The one table every instance's `VMContext::builtins` points to: each
/// helper behind its exit stub (see [`exit_stubs`]); the throw stub
/// records the exit itself (`throw::throw_impl`).
pub(crate) static BUILTINS: Builtins = Builtins {
    memory_grow: exit_memory_grow,
    memory_fill: exit_memory_fill,
    memory_copy: exit_memory_copy,
    memory_init: exit_memory_init,
    data_drop: exit_data_drop,
    table_grow: exit_table_grow,
    table_fill: exit_table_fill,
    table_copy: exit_table_copy,
    table_init: exit_table_init,
    elem_drop: exit_elem_drop,
    call: exit_call,
    is_subtype: exit_is_subtype,
    epoch_reached: exit_epoch_reached,
    atomic_notify: exit_atomic_notify,
    atomic_wait: exit_atomic_wait,
    throw: super::throw::strata_jit_throw_stub,
    exn_payload: exit_exn_payload,
    exn_is: exit_exn_is,
    gc: exit_gc,
};

/// Defines, for each helper, an exit stub: an assembly function of the
/// helper's signature that records where compiled code left (its caller's
/// frame pointer, and the return address into it) in the calling store's
/// `VMRuntimeLimits::last_exit_fp`/`last_exit_pc`, reached through the
/// context (every helper's first argument), then jumps to the helper with
/// every argument register and the stack as it found them, so the helper
/// returns straight to compiled code. Compiled code keeps frame pointers,
/// so at the stub's entry the frame pointer register is its caller's
/// frame pointer, and the return address is on top of the stack (x86-64)
/// or in the link register (aarch64). This is how the collector finds the
/// innermost compiled frame of a segment that called out
/// (`runtime/gc/roots.rs`) without a cost to wasm-to-wasm calls: four
/// instructions per helper call.
macro_rules! exit_stubs {
    ($($helper:ident => $stub:ident ($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $(fn $stub($(_: $arg),*) $(-> $ret)?;)*
        }
        $(
            #[cfg(target_arch = "x86_64")]
            std::arch::global_asm!(
                ".text",
                concat!(".globl ", stringify!($stub)),
                concat!(".hidden ", stringify!($stub)),
                ".p2align 4",
                concat!(stringify!($stub), ":"),
                "mov rax, [rdi + {limits}]",
                "mov [rax + {fp}], rbp",
                "mov r11, [rsp]",
                "mov [rax + {pc}], r11",
                "jmp {helper}",
                limits = const std::mem::offset_of!(VMContext, limits),
                fp = const std::mem::offset_of!(VMRuntimeLimits, last_exit_fp),
                pc = const std::mem::offset_of!(VMRuntimeLimits, last_exit_pc),
                helper = sym $helper,
            );
            #[cfg(target_arch = "aarch64")]
            std::arch::global_asm!(
                ".text",
                concat!(".globl ", stringify!($stub)),
                concat!(".hidden ", stringify!($stub)),
                ".p2align 4",
                concat!(stringify!($stub), ":"),
                "ldr x16, [x0, #{limits}]",
                "str x29, [x16, #{fp}]",
                "str x30, [x16, #{pc}]",
                "b {helper}",
                limits = const std::mem::offset_of!(VMContext, limits),
                fp = const std::mem::offset_of!(VMRuntimeLimits, last_exit_fp),
                pc = const std::mem::offset_of!(VMRuntimeLimits, last_exit_pc),
                helper = sym $helper,
            );
        )*
    };
}

type Ctx = *const VMContext;

exit_stubs! {
    memory_grow => exit_memory_grow(Ctx, u32, u64, *mut u64) -> u32;
    memory_fill => exit_memory_fill(Ctx, u32, u64, u64, u64) -> u32;
    memory_copy => exit_memory_copy(Ctx, u32, u32, u64, u64, u64) -> u32;
    memory_init => exit_memory_init(Ctx, u32, u32, u64, u64, u64) -> u32;
    data_drop => exit_data_drop(Ctx, u32) -> u32;
    table_grow => exit_table_grow(Ctx, u32, u64, u64, *mut u64) -> u32;
    table_fill => exit_table_fill(Ctx, u32, u64, u64, u64) -> u32;
    table_copy => exit_table_copy(Ctx, u32, u32, u64, u64, u64) -> u32;
    table_init => exit_table_init(Ctx, u32, u32, u64, u64, u64) -> u32;
    elem_drop => exit_elem_drop(Ctx, u32) -> u32;
    call => exit_call(Ctx, u32, *mut u64) -> u32;
    is_subtype => exit_is_subtype(Ctx, u32, u32) -> u32;
    epoch_reached => exit_epoch_reached(Ctx, usize, u32, u32) -> u32;
    atomic_notify => exit_atomic_notify(Ctx, u32, u64, u64, *mut u64) -> u32;
    atomic_wait => exit_atomic_wait(Ctx, u32, u32, u64, u64, u64, *mut u64) -> u32;
    exn_payload => exit_exn_payload(Ctx, u64, *mut u64) -> u32;
    exn_is => exit_exn_is(Ctx, u64, u32) -> u32;
    gc => exit_gc(Ctx, u32, u32, u32, u32, u32, u32, u32, *mut u64, u32) -> u32;
}

/// Whether exception `exn` (not null) is of the tag with module index
/// `tag` of the calling instance: 1 or 0 (a legacy `catch`'s test).
pub(crate) unsafe extern "C" fn exn_is(vmctx: *const VMContext, exn: u64, tag: u32) -> u32 {
    // SAFETY: called by compiled code of `vmctx`'s instance.
    let is = unsafe {
        with_store(vmctx, |s, i| {
            let inner = s.inner();
            let own = inner.instances[i as usize].tags[tag as usize];
            Ok(super::exn_store::tag_of(inner, exn as u32)? == own)
        })
    };
    u32::from(is == Some(true))
}

/// Copies the payload of exception `exn` (not null) to `out`, a buffer of
/// its tag's parameter cells.
pub(crate) unsafe extern "C" fn exn_payload(
    vmctx: *const VMContext,
    exn: u64,
    out: *mut u64,
) -> u32 {
    // SAFETY: called by compiled code of `vmctx`'s instance, with a
    // buffer as large as the tag's payload.
    status(unsafe {
        with_store(vmctx, |s, _| {
            super::exn_store::payload(s.inner(), exn as u32, out)
        })
    })
}

/// Stores a helper's value in `*out` and returns its status (see `grown`).
///
/// # Safety
/// `out` must be valid for a write.
unsafe fn value(r: Option<u64>, out: *mut u64) -> u32 {
    match r {
        Some(v) => {
            // SAFETY: guaranteed by the caller.
            unsafe { out.write(v) };
            0
        }
        None => 1,
    }
}

/// `memory.atomic.notify` on memory `memory` at effective address `ea`
/// (checked here like any atomic access): wakes up to `count` waiters.
pub(crate) unsafe extern "C" fn atomic_notify(
    vmctx: *const VMContext,
    memory: u32,
    ea: u64,
    count: u64,
    out: *mut u64,
) -> u32 {
    let r = unsafe {
        with_store(vmctx, |s, i| {
            let inner = s.inner();
            let m = inner.instances[i as usize].memories[memory as usize];
            let mem = &inner.memories[m as usize].mem;
            crate::runtime::shared::atomic_notify(mem, ea, count as u32)
                .map(u64::from)
                .map_err(|t| anyhow::Error::new(HelperTrap(t)))
        })
    };
    // SAFETY: `out` is the caller's stack slot.
    unsafe { value(r, out) }
}

/// `memory.atomic.wait32/64` (`size` 4 or 8) on memory `memory` at
/// effective address `ea`; `timeout` is the instruction's i64 operand.
/// The wait polls the store's epoch deadline, so an interrupt ends it.
pub(crate) unsafe extern "C" fn atomic_wait(
    vmctx: *const VMContext,
    memory: u32,
    size: u32,
    ea: u64,
    expected: u64,
    timeout: u64,
    out: *mut u64,
) -> u32 {
    let r = unsafe {
        with_store(vmctx, |s, i| {
            let inner = s.inner();
            let epochs = inner.engine.config().epoch_interruption;
            let m = inner.instances[i as usize].memories[memory as usize];
            let mem = &inner.memories[m as usize].mem;
            // SAFETY: the context's limits belong to the live store.
            let limits = (*vmctx).limits;
            let mut interrupted = || epochs && VMRuntimeLimits::epoch_passed(limits);
            let size = u64::from(size);
            crate::runtime::shared::atomic_wait(
                mem,
                ea,
                expected,
                size,
                timeout as i64,
                &mut interrupted,
            )
            .map(|w| u64::from(w.code()))
            .map_err(|t| anyhow::Error::new(HelperTrap(t)))
        })
    };
    // SAFETY: `out` is the caller's stack slot.
    unsafe { value(r, out) }
}

// SAFETY (every helper below): called only by compiled code of the instance
// whose context is `vmctx`, inside an entry (see `with_store`).

// Operands arrive as 64-bit cells (compiled code zero-extends i32s), so a
// memory64 or table64 operand is never truncated.

pub(crate) unsafe extern "C" fn memory_grow(
    vmctx: *const VMContext,
    memory: u32,
    delta: u64,
    out: *mut u64,
) -> u32 {
    let r = unsafe {
        with_store(vmctx, |s, i| {
            let m = s.inner().instances[i as usize].memories[memory as usize];
            s.grow_memory(m, delta)
        })
    };
    // SAFETY: `out` is the caller's stack slot.
    unsafe { grown(r, out) }
}

pub(crate) unsafe extern "C" fn memory_fill(
    vmctx: *const VMContext,
    memory: u32,
    dst: u64,
    value: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            trap(ops::memory_fill(s.inner(), i, memory, dst, value, len))
        })
    })
}

pub(crate) unsafe extern "C" fn memory_copy(
    vmctx: *const VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            let memories = (dst_mem, src_mem);
            trap(ops::memory_copy(s.inner(), i, memories, dst, src, len))
        })
    })
}

pub(crate) unsafe extern "C" fn memory_init(
    vmctx: *const VMContext,
    memory: u32,
    segment: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            let which = (memory, segment);
            trap(ops::memory_init(s.inner(), i, which, dst, src, len))
        })
    })
}

pub(crate) unsafe extern "C" fn data_drop(vmctx: *const VMContext, segment: u32) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            ops::data_drop(s.inner(), i, segment);
            Ok(())
        })
    })
}

pub(crate) unsafe extern "C" fn table_grow(
    vmctx: *const VMContext,
    table: u32,
    delta: u64,
    init: u64,
    out: *mut u64,
) -> u32 {
    let r = unsafe {
        with_store(vmctx, |s, i| {
            let t = s.inner().instances[i as usize].tables[table as usize];
            s.grow_table(t, delta, init)
        })
    };
    // SAFETY: `out` is the caller's stack slot.
    unsafe { grown(r, out) }
}

pub(crate) unsafe extern "C" fn table_fill(
    vmctx: *const VMContext,
    table: u32,
    dst: u64,
    value: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            trap(ops::table_fill(s.inner(), i, table, dst, value, len))
        })
    })
}

pub(crate) unsafe extern "C" fn table_copy(
    vmctx: *const VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            let tables = (dst_table, src_table);
            trap(ops::table_copy(s.inner(), i, tables, dst, src, len))
        })
    })
}

pub(crate) unsafe extern "C" fn table_init(
    vmctx: *const VMContext,
    table: u32,
    segment: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            let which = (table, segment);
            trap(ops::table_init_segment(s.inner(), i, which, dst, src, len))
        })
    })
}

pub(crate) unsafe extern "C" fn elem_drop(vmctx: *const VMContext, segment: u32) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            ops::elem_drop(s.inner(), i, segment);
            Ok(())
        })
    })
}

/// Whether the engine type `actual` is `expected` or a subtype of it
/// (`call_indirect` when the ids differ): 1 or 0.
pub(crate) unsafe extern "C" fn is_subtype(
    vmctx: *const VMContext,
    actual: u32,
    expected: u32,
) -> u32 {
    let subtype = unsafe {
        with_store(vmctx, |s, _| {
            let types = s.inner().engine.types();
            Ok(types.is_subtype(SharedTypeIndex(actual), SharedTypeIndex(expected)))
        })
    };
    u32::from(subtype == Some(true))
}

/// Calls store function `func` through the generic path, with arguments
/// and results in `values` (as many slots as the larger of the two).
pub(crate) unsafe extern "C" fn call(vmctx: *const VMContext, func: u32, values: *mut u64) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            let entity = &s.inner().funcs[func as usize];
            let n = entity.ty.buffer_cells();
            // SAFETY: compiled code passes a buffer of `n` slots.
            let raw = std::slice::from_raw_parts_mut(values, n);
            match entity.kind {
                // A host function learns which instance called it.
                FuncKind::Host(h) => s.call_host(h, raw, Some(i)),
                FuncKind::Wasm { .. } => s.call(func, raw),
            }
        })
    })
}

/// The epoch deadline passed in compiled function `func` (of the calling
/// instance), at module offset `offset`, whose frame pointer is `fp`: the
/// store's callback decides whether wasm goes on (0) or fails (1, error
/// pending); it sees the stack from that frame outwards.
pub(crate) unsafe extern "C" fn epoch_reached(
    vmctx: *const VMContext,
    fp: usize,
    func: u32,
    offset: u32,
) -> u32 {
    status(unsafe {
        with_store(vmctx, |s, i| {
            // SAFETY (the enclosing block): `fp` is the frame pointer of
            // the compiled function that called, whose callers up to the
            // entry are compiled frames too.
            let stack = |inner: &crate::runtime::store::StoreInner| {
                super::signals::stack_at(inner, i, fp, func, offset)
            };
            s.epoch_deadline_reached(&stack)
                .map_err(|e| match e.downcast::<Trap>() {
                    Ok(t) => anyhow::Error::new(HelperTrap(t)),
                    Err(e) => e,
                })
        })
    })
}

/// The GC instructions compiled code does not inline (allocation, casts
/// against the registry, bulk array operations, conversions): GC
/// instruction `op` (a `GcOp` as its discriminant) with the operands
/// `isa/gc.rs` lists, run by the interpreter's own implementation
/// (`interp::gc::run`, one definition of the semantics) on `frame`, a
/// buffer of `cells` cells the compiled code filled with the operands and
/// reads the result from. A concrete heap type of `ref.test`/`ref.cast`
/// comes as a module type index (the engine's shared index is not known
/// when the code is compiled) and is mapped here.
#[allow(clippy::too_many_arguments)] // The operands of `isa/gc.rs`, as registers.
pub(crate) unsafe extern "C" fn gc(
    vmctx: *const VMContext,
    op: u32,
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    e: u32,
    f: u32,
    frame: *mut u64,
    cells: u32,
) -> u32 {
    use crate::isa::gc::GcOp;
    status(unsafe {
        with_store(vmctx, |s, i| {
            let op = GcOp::ALL
                .get(op as usize)
                .copied()
                .ok_or_else(|| anyhow::anyhow!("bad GC helper operation {op}"))?;
            let inner = s.inner();
            let mut e = e;
            if matches!(op, GcOp::RefTest | GcOp::RefCast) && (12..=14).contains(&d) {
                e = inner.instances[i as usize].module.types[e as usize]
                    .index
                    .bits();
            }
            // SAFETY: compiled code passes a stack buffer of `cells` cells,
            // which nothing else uses while this helper runs; each use of
            // the slice ends before the next one is made.
            let frame = || std::slice::from_raw_parts_mut(frame, cells as usize);
            // An allocation may collect: the buffer (the operands) is a
            // root besides the compiled frames' stack maps, which the
            // collector walks from the exit the stub recorded.
            let (ops, ext) = ((a, b, c), (d, e, f));
            trap(if op.allocates() {
                crate::interp::gc::run_allocating(inner, i, op, ops, ext, frame, true)
            } else {
                crate::interp::gc::run(inner, i, op, ops, ext, frame())
            })
        })
    })
}
