//! Traps in compiled code: the registry of code addresses, the signal
//! handler that recognises a trapping instruction, and the catch/unwind
//! pair that returns control to the host-to-wasm entry.
//!
//! Compiled code traps by executing a trapping instruction (`ud2` for the
//! explicit checks), by touching a guard page (out-of-bounds memory access)
//! or by a hardware division fault. The handler looks the faulting address
//! up among the registered functions, records the trap and the wasm frames
//! (walking frame pointers, which compiled code keeps), and jumps to the
//! innermost [`catch`] on the thread. A fault anywhere else goes to the
//! handler that was installed before ours.

use super::TrapCodes;
use crate::trap::{FrameInfo, WasmBacktrace};
use crate::Trap;
use cranelift_codegen::ir::TrapCode;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_int, c_void};
use std::sync::{Arc, Once, RwLock};

extern "C" {
    fn strata_jit_catch(
        slot: *mut *mut c_void,
        body: extern "C" fn(*mut c_void),
        data: *mut c_void,
    ) -> c_int;
    fn strata_jit_unwind(buf: *mut c_void) -> !;
}

/// One compiled function's code, for mapping a program counter back to it.
pub(crate) struct FuncCode {
    pub start: usize,
    pub len: usize,
    /// Index in the module's function space; `None` for trampolines.
    pub func_index: Option<u32>,
    /// Trapping instructions: offset from `start`, trap code.
    pub traps: Vec<(u32, TrapCode)>,
}

/// A compiled module's code, as the handler and backtraces see it.
pub(crate) struct CodeInfo {
    pub funcs: Vec<FuncCode>,
    pub module_name: Option<String>,
    pub func_names: HashMap<u32, String>,
}

/// Every live compiled function: start address -> (its module's code, its
/// position in `CodeInfo::funcs`). Keyed per function because the code of
/// modules compiled at different times can interleave in memory.
type Registry = BTreeMap<usize, (Arc<CodeInfo>, usize)>;

static REGISTRY: RwLock<Registry> = RwLock::new(BTreeMap::new());

/// Makes the functions of `code` known to the trap handler.
pub(crate) fn register(code: Arc<CodeInfo>) {
    install_handlers();
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    for (i, f) in code.funcs.iter().enumerate() {
        registry.insert(f.start, (Arc::clone(&code), i));
    }
}

/// Forgets the functions of `code` (before their memory is freed).
pub(crate) fn unregister(code: &CodeInfo) {
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    for f in &code.funcs {
        registry.remove(&f.start);
    }
}

/// The compiled function containing `pc`: its module's code and its
/// position there. The handler calls this only on a thread that is running
/// compiled code, which never holds the write lock (it is taken only to
/// add or remove a module, never around execution), so waiting for another
/// thread's registration cannot deadlock.
fn lookup(pc: usize) -> Option<(Arc<CodeInfo>, usize)> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, (info, i)) = registry.range(..=pc).next_back()?;
    let f = &info.funcs[*i];
    (pc < f.start + f.len).then(|| (Arc::clone(info), *i))
}

/// What stopped compiled code.
pub(crate) struct Unwound {
    /// `None` when a runtime helper left its error in `helpers::PENDING`.
    pub trap: Option<Trap>,
    pub backtrace: WasmBacktrace,
    /// The code of each recorded frame, to find its instance.
    pub codes: Vec<Arc<CodeInfo>>,
}

thread_local! {
    /// The jump buffer of the innermost active [`catch`], or null.
    static JMP_BUF: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
    /// What the handler recorded before unwinding.
    static UNWOUND: RefCell<Option<Unwound>> = const { RefCell::new(None) };
}

/// Runs `f`, which calls compiled code, and returns what stopped it if a
/// trap unwound it.
pub(crate) fn catch(mut f: impl FnMut()) -> Result<(), Unwound> {
    extern "C" fn body(data: *mut c_void) {
        // SAFETY: `data` is the `&mut dyn FnMut()` passed below, alive for
        // the duration of `strata_jit_catch`.
        let f = unsafe { &mut *data.cast::<&mut dyn FnMut()>() };
        f();
    }
    // Touch the thread-local now, so its first use (which may allocate to
    // register a destructor) never happens inside the signal handler.
    UNWOUND.with(|u| drop(u.borrow_mut().take()));
    let mut f: &mut dyn FnMut() = &mut f;
    let slot = JMP_BUF.with(|b| b.as_ptr());
    // SAFETY: `slot` is this thread's jump-buffer cell; `body` only calls
    // `f`, whose frames (like the compiled code's) own nothing that must be
    // dropped if the handler jumps over them: `f` calls a trampoline with
    // raw pointers only.
    let unwound = unsafe { strata_jit_catch(slot, body, (&mut f as *mut &mut dyn FnMut()).cast()) };
    if unwound == 0 {
        return Ok(());
    }
    Err(UNWOUND.with(|u| u.borrow_mut().take()).unwrap_or(Unwound {
        trap: Some(Trap::UnreachableCodeReached),
        backtrace: WasmBacktrace::default(),
        codes: Vec::new(),
    }))
}

/// The trap a compiled-code trap code stands for; `None` for a helper's
/// pending error.
fn trap_for(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        code if code == TrapCodes::PENDING => return None,
        code => Trap::from_code(code.as_raw().get().wrapping_sub(1)),
    })
}

/// Reads the program counter and frame pointer from a signal context.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to the handler.
unsafe fn registers(ctx: *mut c_void) -> (usize, usize) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: guaranteed by the caller.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let regs = &(*uc).uc_mcontext.gregs;
            (
                regs[libc::REG_RIP as usize] as usize,
                regs[libc::REG_RBP as usize] as usize,
            )
        }
        #[cfg(target_arch = "aarch64")]
        {
            let mc = &(*uc).uc_mcontext;
            (mc.pc as usize, mc.regs[29] as usize)
        }
    }
}

/// The wasm frames from the trapping function outwards, stopping at the
/// first frame that is not compiled wasm code (the entry trampoline).
///
/// # Safety
/// `fp` must be the frame pointer of the compiled function containing `pc`.
unsafe fn backtrace(pc: usize, mut fp: usize) -> (WasmBacktrace, Vec<Arc<CodeInfo>>) {
    let mut trace = WasmBacktrace::default();
    let mut codes = Vec::new();
    let mut pc = pc;
    while let Some((info, i)) = lookup(pc) {
        let Some(index) = info.funcs[i].func_index else {
            break;
        };
        if trace.frames.len() < WasmBacktrace::MAX_FRAMES {
            trace.frames.push(FrameInfo {
                func_index: index,
                func_name: info.func_names.get(&index).cloned(),
                module_name: info.module_name.clone(),
                // Filled in by the entry, which can see the store.
                store_id: 0,
                instance: u32::MAX,
            });
            codes.push(Arc::clone(&info));
        } else {
            trace.omitted += 1;
        }
        if fp == 0 {
            break;
        }
        // SAFETY: compiled code keeps frame pointers: `fp` points at the
        // saved caller frame pointer, followed by the return address.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    (trace, codes)
}

const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers ours replaced, to pass foreign faults on to.
static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 4] =
    [const { std::mem::MaybeUninit::uninit() }; 4];

fn install_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed `sigaction` is a valid starting point; the
            // handler has the `SA_SIGINFO` signature. `PREVIOUS` is written
            // only here, once, before any handler can read it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (&raw mut PREVIOUS[i]).cast::<libc::sigaction>();
                libc::sigaction(sig, &action, previous);
            }
        }
    });
}

extern "C" fn handler(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let buf = JMP_BUF.with(|b| b.get());
    if !buf.is_null() {
        // SAFETY: the kernel passes the interrupted context.
        let (pc, fp) = unsafe { registers(ctx) };
        if let Some((info, i)) = lookup(pc) {
            let f = &info.funcs[i];
            let offset = (pc - f.start) as u32;
            let code = f
                .traps
                .iter()
                .find(|(o, _)| *o == offset)
                .map(|&(_, c)| c)
                .or_else(|| (sig == libc::SIGFPE).then_some(TrapCode::INTEGER_DIVISION_BY_ZERO));
            if let Some(code) = code {
                // SAFETY: `pc` is in compiled code, whose frame pointer is `fp`.
                let (backtrace, codes) = unsafe { backtrace(pc, fp) };
                let unwound = Unwound {
                    trap: trap_for(code),
                    backtrace,
                    codes,
                };
                UNWOUND.with(|u| {
                    if let Ok(mut u) = u.try_borrow_mut() {
                        *u = Some(unwound);
                    }
                });
                // SAFETY: `buf` is the live jump buffer of the innermost
                // catch; only compiled frames and `catch`'s trampoline are
                // between here and there.
                unsafe { strata_jit_unwind(buf) };
            }
        }
    }
    // Not a wasm trap: hand it to whoever handled it before us.
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    // SAFETY: `PREVIOUS[i]` was initialised before our handler was
    // installed; the previous handler gets exactly what we got.
    unsafe {
        let previous = &*(&raw const PREVIOUS[i]).cast::<libc::sigaction>();
        match previous.sa_sigaction {
            libc::SIG_DFL | libc::SIG_IGN => {
                // Restore it and return: the fault repeats and takes the
                // default action (usually terminating the process).
                libc::sigaction(sig, previous, std::ptr::null_mut());
            }
            f if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    std::mem::transmute(f);
                f(sig, info, ctx);
            }
            f => {
                let f: extern "C" fn(c_int) = std::mem::transmute(f);
                f(sig);
            }
        }
    }
}
