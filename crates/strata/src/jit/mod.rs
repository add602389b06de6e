//! The JIT tier: every function of a module compiled to native code with
//! Cranelift when the module is loaded, running on the runtime layout the
//! interpreter uses (`runtime::vm`).
//!
//! - `translate.rs` turns wasm bodies into Cranelift IR (control flow and
//!   locals there, `access.rs` for memory, globals, tables and calls,
//!   `numeric.rs` for the numeric instructions).
//! - `abi.rs` holds the calling conventions: each function's native entry
//!   (`vmctx, params... -> results`) and the array-call trampoline that
//!   host-to-wasm calls enter through.
//! - `helpers.rs` are the runtime functions compiled code calls for what
//!   needs the store.
//! - `signals.rs` turns faults and trap instructions in compiled code into
//!   [`Trap`]s and unwinds to the entry.
//!
//! Code is published by `cranelift_jit`, which maps it writable, copies it,
//! then makes it executable and never writable again.

mod abi;
mod access;
mod helpers;
pub(crate) use helpers::BUILTINS;
mod numeric;
mod profiling;
mod signals;
mod tier_up;
mod translate;
pub(crate) use tier_up::JitTierUp;

use crate::module::ModuleInfo;
use crate::runtime::store::{FuncKind, StoreInner, StoreOps};
use crate::runtime::tiering::LoopState;
use crate::runtime::vm::VMContext;
use crate::Trap;
use anyhow::{anyhow, bail, Context as _, Result};
use cranelift_codegen::ir::{TrapCode, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module as _, ModuleReloc};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The trap codes compiled code uses besides Cranelift's own.
pub(crate) struct TrapCodes;

impl TrapCodes {
    /// A runtime helper failed; its error is in `helpers::PENDING`.
    pub const PENDING: TrapCode = TrapCode::unwrap_user(200);

    /// The trap code of `trap` (its kind code plus one, since 0 is not a
    /// valid user code).
    pub fn of(trap: Trap) -> TrapCode {
        TrapCode::unwrap_user(trap.code() + 1)
    }
}

fn isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| format!("cranelift setting {name}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    // Backtraces walk frame pointers.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    // Functions may return more values than fit in registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    set(&mut flags, "enable_verifier", verify)?;
    let builder = cranelift_native::builder()
        .map_err(|e| format!("the JIT tier does not support this host: {e}"))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("the JIT tier does not support this host: {e}"))
}

/// A module's compiled code.
pub(crate) struct CompiledModule {
    /// Native entry of each defined function (0 when it is not compiled).
    natives: Vec<usize>,
    /// Array-call trampoline of each defined function.
    trampolines: Vec<usize>,
    /// Array-call trampoline of each loop entry compiled, in the order
    /// they were asked for.
    osr: Vec<usize>,
    /// The code as the trap handler knows it.
    info: Arc<signals::CodeInfo>,
    /// Owns the executable memory.
    code: Mutex<Option<JITModule>>,
}

// SAFETY: the compiled code and its metadata are immutable once published;
// the `JITModule` is only touched again (behind the mutex) to free it.
unsafe impl Send for CompiledModule {}
// SAFETY: as for `Send`.
unsafe impl Sync for CompiledModule {}

impl CompiledModule {
    /// The native entry of defined function `i`.
    pub(crate) fn native(&self, i: usize) -> *const u8 {
        self.natives[i] as *const u8
    }

    /// The array-call trampoline of defined function `i`.
    pub(crate) fn trampoline(&self, i: usize) -> *const u8 {
        self.trampolines[i] as *const u8
    }

    /// The array-call trampoline of loop entry `k`.
    pub(crate) fn osr_entry(&self, k: usize) -> *const u8 {
        self.osr[k] as *const u8
    }
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        signals::unregister(&self.info);
        let code = self
            .code
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(code) = code {
            // SAFETY: the module (and so every instance, which keeps it
            // alive) is gone, so nothing can run this code any more.
            unsafe { code.free_memory() };
        }
    }
}

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("functions", &self.natives.len())
            .finish_non_exhaustive()
    }
}

/// Compiles the functions of `m`: all of them, except those whose body is
/// larger than `Config::jit_max_function_size`, which run in the
/// interpreter (their entries have no native code).
pub(crate) fn compile(m: &ModuleInfo) -> Result<CompiledModule> {
    let limit = m.engine.config().jit_max_function_size;
    let compiled: Vec<bool> = m.bodies.iter().map(|b| b.len() <= limit).collect();
    let funcs: Vec<usize> = (0..compiled.len()).filter(|&i| compiled[i]).collect();
    compile_parts(m, &funcs, &[], &compiled)
}

/// What one compilation job produces.
#[derive(Clone, Copy)]
enum Job {
    /// Defined function `i`'s native code, or its array-call trampoline.
    Native(usize),
    Trampoline(usize),
    /// Loop entry `k` of the request, or its trampoline.
    Osr(usize),
    OsrTrampoline(usize),
}

/// Compiles defined functions `funcs` of `m` and the loop entries `osr`
/// (defined function, state at the loop) into one piece of code. Calls to
/// a function whose flag in `compiled` is set go straight to its native
/// entry: it is in this piece or was published before it.
pub(crate) fn compile_parts(
    m: &ModuleInfo,
    funcs: &[usize],
    osr: &[(usize, &LoopState)],
    compiled: &[bool],
) -> Result<CompiledModule> {
    let isa = isa().map_err(|e| anyhow!(e))?;
    let host_call_conv = isa.default_call_conv();
    let mut jit = JITModule::new(JITBuilder::with_isa(
        isa.clone(),
        cranelift_module::default_libcall_names(),
    ));
    let config = m.engine.config();
    let defined = m.bodies.len();
    let mut ids = vec![None; defined];
    let mut tramp_ids = vec![None; defined];
    let tsig = abi::trampoline_signature(host_call_conv);
    for &i in funcs {
        let ty = m.func_type(m.num_imported_funcs + i as u32);
        let sig = abi::native_signature(ty);
        ids[i] = Some(jit.declare_function(&format!("wasm{i}"), Linkage::Local, &sig)?);
        tramp_ids[i] = Some(jit.declare_function(&format!("array{i}"), Linkage::Local, &tsig)?);
    }
    let mut osr_ids = Vec::with_capacity(osr.len());
    for (k, &(i, _)) in osr.iter().enumerate() {
        let ty = m.func_type(m.num_imported_funcs + i as u32);
        let sig = abi::osr_signature(ty);
        let id = jit.declare_function(&format!("loop{i}_{k}"), Linkage::Local, &sig)?;
        let tramp = jit.declare_function(&format!("looparray{i}_{k}"), Linkage::Local, &tsig)?;
        osr_ids.push((id, tramp));
    }
    let env = translate::Env {
        module: m,
        compiled,
        host_call_conv,
        fuel: config.consume_fuel,
        epoch: config.epoch_interruption,
        explicit_bounds: !config.memory_guard_pages,
    };
    let jobs: Vec<Job> = funcs
        .iter()
        .flat_map(|&i| [Job::Native(i), Job::Trampoline(i)])
        .chain((0..osr.len()).flat_map(|k| [Job::Osr(k), Job::OsrTrampoline(k)]))
        .collect();
    let declared = |id: Option<FuncId>| id.unwrap_or_else(|| unreachable!("declared above"));

    // Compile functions (and their trampolines) on every core when there
    // are enough to be worth it; `jit` then only places the machine code.
    let threads = if jobs.len() < 64 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    };
    let next = AtomicUsize::new(0);
    let worker = || -> Result<Vec<Artifact>> {
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut done = Vec::new();
        loop {
            let job = next.fetch_add(1, Ordering::Relaxed);
            let Some(&job) = jobs.get(job) else {
                return Ok(done);
            };
            let (i, id) = match job {
                Job::Native(i) => (i, declared(ids[i])),
                Job::Trampoline(i) => (i, declared(tramp_ids[i])),
                Job::Osr(k) => (osr[k].0, osr_ids[k].0),
                Job::OsrTrampoline(k) => (osr[k].0, osr_ids[k].1),
            };
            let index = m.num_imported_funcs + i as u32;
            ctx.clear();
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            let ty = m.func_type(index);
            match job {
                Job::Native(_) | Job::Osr(_) => {
                    let state = match job {
                        Job::Osr(k) => Some(osr[k].1),
                        _ => None,
                    };
                    let body = m.body(i);
                    translate::translate(&env, &mut fctx, &mut ctx.func, index, &body, state)
                        .with_context(|| format!("failed to compile function {index}"))?;
                }
                Job::Trampoline(_) => {
                    let native = declared(ids[i]).as_u32();
                    abi::trampoline(
                        &mut fctx,
                        &mut ctx.func,
                        ty,
                        (native, false),
                        host_call_conv,
                    );
                }
                Job::OsrTrampoline(k) => {
                    let entry = osr_ids[k].0.as_u32();
                    abi::trampoline(&mut fctx, &mut ctx.func, ty, (entry, true), host_call_conv);
                }
            }
            ctx.compile(&*isa, &mut Default::default())
                .map_err(|e| anyhow!("failed to compile function {index}: {:?}", e.inner))?;
            let Some(code) = ctx.compiled_code() else {
                bail!("failed to compile function {index}");
            };
            let relocs = code
                .buffer
                .relocs()
                .iter()
                .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
                .collect();
            let is_code = matches!(job, Job::Native(_) | Job::Osr(_));
            done.push(Artifact {
                func_index: is_code.then_some(index),
                id,
                alignment: u64::from(code.buffer.alignment),
                bytes: code.code_buffer().to_vec(),
                relocs,
                traps: code
                    .buffer
                    .traps()
                    .iter()
                    .map(|t| (t.offset, t.code))
                    .collect(),
                srclocs: signals::SrcLocs::new(code.buffer.get_srclocs_sorted()),
            });
        }
    };
    let artifacts: Vec<Artifact> = if threads == 1 {
        worker()?
    } else {
        let results: Vec<Result<Vec<Artifact>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut all = Vec::with_capacity(jobs.len());
        for r in results {
            all.extend(r?);
        }
        all
    };
    for a in &artifacts {
        jit.define_function_bytes(a.id, a.alignment, &a.bytes, &a.relocs)
            .map_err(|e| anyhow!("failed to place compiled code: {e}"))?;
    }
    jit.finalize_definitions()
        .map_err(|e| anyhow!("failed to publish compiled code: {e}"))?;
    let funcs = artifacts
        .into_iter()
        .map(|a| signals::FuncCode {
            start: jit.get_finalized_function(a.id) as usize,
            len: a.bytes.len(),
            func_index: a.func_index,
            traps: a.traps,
            srclocs: a.srclocs,
            body_start: a
                .func_index
                .map_or(0, |i| m.bodies[(i - m.num_imported_funcs) as usize].start),
        })
        .collect();
    // Functions left to the interpreter have no code: 0, a null entry.
    let address = |id: &Option<FuncId>| id.map_or(0, |id| jit.get_finalized_function(id) as usize);
    let natives = ids.iter().map(address).collect();
    let trampolines = tramp_ids.iter().map(address).collect();
    let osr = osr_ids
        .iter()
        .map(|&(_, tramp)| jit.get_finalized_function(tramp) as usize)
        .collect();
    let info = Arc::new(signals::CodeInfo {
        funcs,
        module_name: m.name.clone(),
        func_names: m.func_names.clone(),
    });
    signals::register(Arc::clone(&info));
    if let Some(observer) = m.engine.code_observer() {
        profiling::announce(observer, &info);
    }
    Ok(CompiledModule {
        natives,
        trampolines,
        osr,
        info,
        code: Mutex::new(Some(jit)),
    })
}

/// One function's machine code, compiled on a worker thread.
struct Artifact {
    /// Index in the module's function space; `None` for a trampoline.
    func_index: Option<u32>,
    id: FuncId,
    alignment: u64,
    bytes: Vec<u8>,
    relocs: Vec<ModuleReloc>,
    traps: Vec<(u32, TrapCode)>,
    srclocs: signals::SrcLocs,
}

/// Names the instance of each frame of a trap's backtrace: the entry's
/// instance when the frame's code is its module's, otherwise the first
/// instance of the store running that code (a module instantiated several
/// times in one store can make this ambiguous; compiled frames do not
/// record their context).
fn resolve_instances(store: &StoreInner, entry: u32, unwound: &mut signals::Unwound) {
    let runs = |i: usize, code: &Arc<signals::CodeInfo>| {
        let tiers = &store.instances[i].code;
        let compiled = tiers
            .jit
            .as_ref()
            .and_then(|j| j.downcast_ref::<CompiledModule>())
            .is_some_and(|j| Arc::ptr_eq(&j.info, code));
        compiled
            || tiers
                .tier_up
                .as_ref()
                .and_then(|t| t.as_any().downcast_ref::<JitTierUp>())
                .is_some_and(|t| t.owns(code))
    };
    for (frame, code) in unwound.backtrace.frames.iter_mut().zip(&unwound.codes) {
        let index = if runs(entry as usize, code) {
            entry as usize
        } else {
            (0..store.instances.len())
                .find(|&i| runs(i, code))
                .unwrap_or(entry as usize)
        };
        frame.store_id = store.id;
        frame.instance = index as u32;
    }
}

/// Host stack kept free below the wasm stack limit for host functions and
/// runtime helpers that compiled code calls.
const HOST_RESERVE: usize = 256 << 10;

thread_local! {
    /// The lowest usable address of this thread's stack (0 if unknown).
    static STACK_LOW: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The lowest address of the current thread's stack, when the platform
/// says.
fn thread_stack_low() -> usize {
    if let Some(low) = STACK_LOW.with(|s| s.get()) {
        return low;
    }
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and
    // destroyed after; the out-pointers are valid locals.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            0
        } else {
            let mut addr = std::ptr::null_mut();
            let mut size = 0;
            let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
            if r == 0 {
                addr as usize
            } else {
                0
            }
        }
    };
    STACK_LOW.with(|s| s.set(Some(low)));
    low
}

/// Calls store function `func`, which is compiled, with arguments and
/// results in `raw`.
pub(crate) fn invoke(store: &mut dyn StoreOps, func: u32, raw: &mut [u64]) -> Result<()> {
    let inner = store.inner();
    let FuncKind::Wasm { instance, .. } = inner.funcs[func as usize].kind else {
        unreachable!("jit::invoke on a host function")
    };
    let entry = inner.func_refs[func as usize].get();
    if entry.array_call.is_null() {
        bail!("function {func} is not compiled");
    }
    enter(
        store,
        entry.array_call,
        entry.vmctx,
        raw.as_mut_ptr(),
        instance,
    )
}

/// Runs compiled code through its array-call entry `array_call` (a
/// function's trampoline, or a loop entry's) with context `vmctx` and the
/// cells at `values`, on behalf of instance `instance`: sets the stack
/// limit at the outermost entry, catches traps and turns them into errors
/// with a backtrace.
pub(crate) fn enter(
    store: &mut dyn StoreOps,
    array_call: *const u8,
    vmctx: *const VMContext,
    values: *mut u64,
    instance: u32,
) -> Result<()> {
    // SAFETY: `array_call` is a trampoline, which has this signature (see
    // `abi::trampoline`).
    let trampoline: unsafe extern "C" fn(*const VMContext, *mut u64) =
        unsafe { std::mem::transmute(array_call) };
    let inner = store.inner();
    let limits = inner.limits.as_ptr();
    // The address of a local approximates the stack pointer.
    let sp = std::ptr::addr_of!(instance) as usize;
    // SAFETY: `limits` is the store's live `VMRuntimeLimits`, not borrowed.
    let outermost = unsafe { (*limits).stack_limit == 0 };
    if outermost {
        let max = inner.engine.config().max_wasm_stack;
        let limit = sp
            .saturating_sub(max)
            .max(thread_stack_low().saturating_add(HOST_RESERVE));
        // SAFETY: as above.
        unsafe { (*limits).stack_limit = limit };
    } else if sp < unsafe { (*limits).stack_limit }.saturating_add(HOST_RESERVE / 2) {
        return Err(Trap::StackOverflow.into());
    }

    let store_ops: NonNull<dyn StoreOps + '_> = NonNull::from(&mut *store);
    // SAFETY: only the lifetime is erased; the pointer is withdrawn by
    // `leave` below, before `store` is used again.
    let store_ops: NonNull<dyn StoreOps> = unsafe { std::mem::transmute(store_ops) };
    // SAFETY: the store is not used until `leave`.
    let previous = unsafe { helpers::enter(store_ops) };
    // SAFETY: `vmctx` is the code's instance context and `values` holds
    // the cells the trampoline reads and writes (the caller's contract).
    let result = signals::catch(|| unsafe { trampoline(vmctx, values) });
    helpers::leave(previous);
    if outermost {
        // SAFETY: as above.
        unsafe { (*limits).stack_limit = 0 };
    }
    let Err(mut unwound) = result else {
        return Ok(());
    };
    resolve_instances(store.inner(), instance, &mut unwound);
    match unwound.trap {
        Some(trap) => Err(anyhow::Error::new(trap).context(unwound.backtrace)),
        None => match helpers::PENDING.with(|p| p.borrow_mut().take()) {
            Some(helpers::Pending::Error(e)) => match e.downcast::<helpers::HelperTrap>() {
                Ok(trap) => Err(anyhow::Error::new(trap.0).context(unwound.backtrace)),
                // A trap in wasm the helper called (interpreted code, say)
                // has its frames; the compiled ones are outer to them.
                Err(mut e) => {
                    if let Some(frames) = e.downcast_mut::<crate::WasmBacktrace>() {
                        frames.append_outer(unwound.backtrace);
                    }
                    Err(e)
                }
            },
            Some(helpers::Pending::Panic(payload)) => std::panic::resume_unwind(payload),
            None => Err(anyhow!("compiled code stopped without an error")),
        },
    }
}
