//! Throwing in compiled code: the exception tables of call sites, the
//! throw stub compiled code calls, and the search for a handler.
//!
//! **No Rust frame that owns anything is ever jumped over.** Compiled code
//! calls [`strata_jit_throw_stub`] (assembly, below), which calls
//! [`throw_impl`], an ordinary Rust function that does all the work that
//! allocates, locks or borrows (the exception object, the registry
//! lookups, the tag comparisons) and *returns* where to resume. Only then
//! does the stub, a frame that owns nothing, set the stack pointer, frame
//! pointer and payload register and jump to the handler, discarding the
//! compiled frames in between (which own nothing either). The search
//! stops at the first frame that is not compiled wasm code (a trampoline,
//! whose caller is Rust), so a handler is only ever found inside the
//! current compiled activation; beyond it the exception goes back to the
//! entry as a pending error.

use super::helpers::{self, Pending, PENDING};
use crate::runtime::vm::VMContext;
use anyhow::{anyhow, Result};
use cranelift_codegen::{FinalizedMachCallSite, FinalizedMachExceptionHandler};

/// A call site that exceptions may unwind to: a `try_call` with handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallSite {
    /// The call's return address, as an offset from the function's start.
    pub ret: u32,
    /// The size of the frame below its frame pointer at the call: the
    /// handler runs with `sp = fp - frame_offset`.
    pub frame_offset: u32,
    /// Where the frame keeps its `VMContext` (the exception table's
    /// dynamic context): an offset from the stack pointer at the call, or
    /// `None` when it is in a register. Only a call of the throw stub
    /// (host convention: callee-saved registers survive its exceptional
    /// edge) keeps it in one, and the stub's caller is the innermost frame
    /// searched, whose context the stub is given.
    pub context: Option<u32>,
    /// The handlers in the order they are tried: the module's tag index
    /// (`None` for a catch-all) and the handler's offset in the function.
    pub handlers: Box<[(Option<u32>, u32)]>,
}

/// The call sites with handlers among a compiled function's `sites`.
pub(crate) fn call_sites<'a>(
    sites: impl Iterator<Item = FinalizedMachCallSite<'a>>,
) -> Result<Vec<CallSite>> {
    let mut out = Vec::new();
    for site in sites {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let mut context = None;
        let mut handlers = Vec::new();
        for h in site.exception_handlers {
            match *h {
                FinalizedMachExceptionHandler::Tag(tag, at) => {
                    handlers.push((Some(tag.as_u32()), at));
                }
                FinalizedMachExceptionHandler::Default(at) => handlers.push((None, at)),
                FinalizedMachExceptionHandler::Context(
                    cranelift_codegen::ExceptionContextLoc::SPOffset(at),
                ) => context = Some(at),
                FinalizedMachExceptionHandler::Context(_) => context = None,
            }
        }
        let Some(frame_offset) = site.frame_offset else {
            return Err(anyhow!(
                "a call site's exception table lacks its frame layout"
            ));
        };
        out.push(CallSite {
            ret: site.ret_addr,
            frame_offset,
            context,
            handlers: handlers.into(),
        });
    }
    out.sort_by_key(|s| s.ret);
    Ok(out)
}

/// Where the stub resumes: in, the return address into the compiled
/// code that called the stub and that code's frame pointer; out, the
/// handler's address, stack and frame pointers, and the exception.
#[repr(C)]
pub(crate) struct Resume {
    pub pc: usize,
    pub sp: usize,
    pub fp: usize,
    pub payload: usize,
}

extern "C" {
    /// The throw stub: `(vmctx, op, a, b)`, see `exn::op`. Returns only
    /// when no handler of the activation takes the exception, leaving it
    /// (or the helper's error) pending.
    pub(crate) fn strata_jit_throw_stub(vmctx: *const VMContext, op: u32, a: u64, b: u64);
}

// The stub makes a frame of its own (so the return address and frame
// pointer of the compiled caller are at fixed places), with a `Resume`
// below the frame record, and calls `throw_impl`. When that returns 1 it
// jumps: `sp`, `fp` and the payload register (the first of Cranelift's
// exception payload registers) are set, every other register is dead at
// a landing pad (Cranelift's `try_call` clobbers them all on its
// exceptional edge).
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl strata_jit_throw_stub",
    ".hidden strata_jit_throw_stub",
    ".p2align 4",
    "strata_jit_throw_stub:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 32",
    "mov rax, [rbp + 8]",
    "mov [rsp], rax",
    "mov rax, [rbp]",
    "mov [rsp + 16], rax",
    "mov r8, rsp",
    "call {imp}",
    "test eax, eax",
    "jz 2f",
    "mov rdi, [rsp]",
    "mov rcx, [rsp + 8]",
    "mov rbp, [rsp + 16]",
    "mov rax, [rsp + 24]",
    "mov rsp, rcx",
    "jmp rdi",
    "2:",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
    imp = sym throw_impl,
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".text",
    ".globl strata_jit_throw_stub",
    ".hidden strata_jit_throw_stub",
    ".p2align 4",
    "strata_jit_throw_stub:",
    "stp x29, x30, [sp, #-48]!",
    "mov x29, sp",
    "str x30, [sp, #16]",
    "ldr x9, [sp]",
    "str x9, [sp, #32]",
    "add x4, sp, #16",
    "bl {imp}",
    "cbz w0, 2f",
    "ldr x4, [sp, #16]",
    "ldr x2, [sp, #24]",
    "ldr x29, [sp, #32]",
    "ldr x0, [sp, #40]",
    "mov sp, x2",
    "br x4",
    "2:",
    "ldp x29, x30, [sp], #48",
    "ret",
    imp = sym throw_impl,
);

/// The stub's work: makes or takes the exception, finds the handler in
/// the compiled frames from the stub's caller outwards, and fills
/// `resume` (returning 1), or leaves the exception pending (returning 0).
/// Returns before anything is jumped over, dropping all it owned.
///
/// # Safety
/// Called only by the stub: `vmctx` is the calling code's context, and
/// `resume` holds the caller's return address and frame pointer, the
/// head of a chain of live compiled frames.
unsafe extern "C" fn throw_impl(
    vmctx: *const VMContext,
    op: u32,
    a: u64,
    b: u64,
    resume: *mut Resume,
) -> u32 {
    // SAFETY: the stub passes its own `Resume`.
    let resume = unsafe { &mut *resume };
    // Making the exception may collect: the collector walks the compiled
    // frames from the stub's caller, as the other helpers' exit stubs
    // record it (`helpers::exit_stubs`).
    // SAFETY: `vmctx` is a live context whose limits are the store's.
    unsafe {
        let limits = (*vmctx).limits;
        (*limits).last_exit_fp = resume.fp;
        (*limits).last_exit_pc = resume.pc;
    }
    let exn = if op == super::exn::op::PENDING {
        // A helper failed: only an exception is thrown on; any other
        // error stays pending for the trap that follows.
        let pending = PENDING.with(|p| p.borrow_mut().take());
        let exn = match &pending {
            // SAFETY: the stub's caller is compiled code of `vmctx`'s
            // instance, inside an entry.
            Some(Pending::Error(e)) => unsafe {
                helpers::with_store(vmctx, |store, _| {
                    Ok(super::exn_store::thrown(store.inner(), e))
                })
            }
            .flatten(),
            _ => None,
        };
        match exn {
            Some(exn) => exn,
            None => {
                PENDING.with(|p| *p.borrow_mut() = pending);
                return 0;
            }
        }
    } else {
        // SAFETY: the stub's caller is compiled code of `vmctx`'s
        // instance; `b` is its payload buffer for `THROW`.
        let made = unsafe {
            helpers::with_store(vmctx, |store, instance| {
                if op == super::exn::op::THROW_REF {
                    return Ok(a as u32);
                }
                super::exn_store::throw_new(store, instance, a as u32, b as *const u64)
            })
        };
        match made {
            Some(exn) => exn,
            None => return 0,
        }
    };
    let (pc, fp) = (resume.pc, resume.fp);
    let search = |store: &mut dyn crate::runtime::store::StoreOps, _| {
        let inner = store.inner();
        let tag = super::exn_store::tag_of(inner, exn)?;
        let matches = |ctx: usize, module_tag: u32| {
            // SAFETY: `ctx` is the context a compiled frame of this
            // activation keeps: a live `VMContext` of this store.
            let instance = unsafe { (*(ctx as *const VMContext)).instance };
            inner
                .instances
                .get(instance as usize)
                .and_then(|i| i.tags.get(module_tag as usize))
                == Some(&tag)
        };
        // SAFETY: guaranteed by the caller of `throw_impl`: the frames
        // from `pc` and `fp` out are live.
        match unsafe { super::signals::find_handler(pc, fp, vmctx as usize, matches) } {
            Some(found) => Ok(found),
            // Nothing in this activation takes it: it leaves the entry
            // pending in the store, as the tier interface has it.
            None => Err(super::exn_store::raise(inner, exn)),
        }
    };
    // SAFETY: as for `made`.
    match unsafe { helpers::with_store(vmctx, search) } {
        Some((pc, sp, fp)) => {
            resume.pc = pc;
            resume.sp = sp;
            resume.fp = fp;
            resume.payload = exn as usize;
            1
        }
        // The exception (or the search's failure) is pending.
        None => 0,
    }
}
