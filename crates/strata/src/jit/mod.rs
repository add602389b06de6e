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
//! - `compile.rs` compiles any subset of a module's functions into a code
//!   image (`image.rs`: machine code laid out with its relocations, trap
//!   sites and source locations, and its byte format), which
//!   `code_memory.rs` loads: maps it writable, copies it, patches its
//!   relocations, then makes it executable and never writable again.

mod abi;
mod access;
mod atomic;
pub(crate) mod code_memory;
mod compile;
mod gc;
pub(crate) use compile::{compile_image, compile_parts, target_description};
mod helpers;
pub(crate) mod image;
pub(crate) use helpers::BUILTINS;
pub(crate) use signals::segment_gc_slots;
mod exn;
mod exn_store;
mod legacy;
mod numeric;
mod profiling;
mod signals;
mod simd;
mod throw;
mod tier_up;
mod translate;
pub(crate) use tier_up::JitTierUp;

use crate::module::ModuleInfo;
use crate::runtime::store::{FuncKind, StoreInner, StoreOps};
use crate::runtime::vm::VMContext;
use crate::Trap;
use anyhow::{anyhow, bail, Result};
use cranelift_codegen::ir::TrapCode;
use std::ptr::NonNull;
use std::sync::Arc;

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

/// A module's compiled code: one loaded [`image::CodeImage`], holding all
/// of the module's functions or a subset of them.
pub(crate) struct CompiledModule {
    /// Native entry of each defined function (0 when it is not compiled).
    natives: Vec<usize>,
    /// Array-call trampoline of each defined function (0 likewise).
    trampolines: Vec<usize>,
    /// Array-call trampoline of each loop entry compiled, in the order
    /// they were asked for.
    osr: Vec<usize>,
    /// The code as the trap handler knows it.
    info: Arc<signals::CodeInfo>,
    /// The image's relocations, to write the loaded code back out as an
    /// image (`image()`).
    relocs: Vec<image::ImageReloc>,
    /// Owns the executable memory; dropped after `info` is unregistered.
    memory: code_memory::CodeMemory,
}

impl CompiledModule {
    /// The native entry of defined function `i` (null when not compiled).
    pub(crate) fn native(&self, i: usize) -> *const u8 {
        self.natives[i] as *const u8
    }

    /// The array-call trampoline of defined function `i` (null likewise).
    pub(crate) fn trampoline(&self, i: usize) -> *const u8 {
        self.trampolines[i] as *const u8
    }

    /// The array-call trampoline of loop entry `k`.
    pub(crate) fn osr_entry(&self, k: usize) -> *const u8 {
        self.osr[k] as *const u8
    }

    /// The loaded code as an image again, for an artifact or the compile
    /// cache. Patching a relocation overwrites its field, so the loaded
    /// bytes load anywhere as the original image did.
    pub(crate) fn image(&self) -> image::CodeImage {
        let base = self.memory.base();
        image::CodeImage {
            text: self.memory.text().to_vec(),
            funcs: self
                .info
                .funcs
                .iter()
                .map(|f| image::ImageFunc {
                    defined: f.defined,
                    trampoline: f.func_index.is_none(),
                    loop_entry: None,
                    offset: (f.start - base) as u32,
                    len: f.len as u32,
                    traps: f.traps.clone(),
                    srclocs: f.srclocs.clone(),
                    call_sites: f.call_sites.clone(),
                    stack_maps: f.stack_maps.clone(),
                })
                .collect(),
            relocs: self.relocs.clone(),
        }
    }
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        // The trap handler must stop knowing the code before its memory
        // (`self.memory`, dropped after this) is unmapped.
        signals::unregister(&self.info);
    }
}

/// Whether the host has the CPU features the JIT's vector code needs:
/// Cranelift's x86-64 SIMD lowering needs SSE4.1 (and the SSSE3 and SSE3
/// before it); every aarch64 host has NEON.
pub(crate) fn host_has_simd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sse4.1")
            && std::arch::is_x86_feature_detected!("ssse3")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// Whether defined function `i` of `m` computes on vectors
/// (`isa::is_simd`); only scanned when the module may.
fn uses_simd(m: &ModuleInfo, i: usize) -> bool {
    if !m
        .engine
        .config()
        .features
        .contains(wasmparser::WasmFeatures::SIMD)
    {
        return false;
    }
    let Ok(mut reader) = m.body(i).get_operators_reader() else {
        return false;
    };
    while !reader.eof() {
        match reader.read() {
            Ok(op) if crate::isa::is_simd(&op) => return true,
            Ok(_) => {}
            // Validated already; a body that does not read is the
            // translator's to report.
            Err(_) => return false,
        }
    }
    false
}

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("functions", &self.natives.len())
            .finish_non_exhaustive()
    }
}

/// The defined functions of `m` the JIT compiles (`compilable`); the
/// others run in the interpreter (their entries have no native code).
pub(crate) fn selected_functions(m: &ModuleInfo) -> Vec<usize> {
    let defined = m.bodies.len();
    if !host_has_simd() && (0..defined).any(|i| uses_simd(m, i)) {
        eprintln!(
            "note: this CPU lacks SSE4.1, which the JIT's vector code needs: \
             functions that use SIMD run in the interpreter"
        );
    }
    (0..defined).filter(|&i| compilable(m, i)).collect()
}

/// Whether the JIT compiles defined function `i` of `m`: not when its body
/// is larger than `Config::jit_max_function_size`, nor when it computes on
/// vectors and the host lacks the CPU features vector code needs
/// (`host_has_simd`); such functions run in the interpreter.
pub(crate) fn compilable(m: &ModuleInfo, i: usize) -> bool {
    m.bodies[i].len() <= m.engine.config().jit_max_function_size
        && (host_has_simd() || !uses_simd(m, i))
}

/// Loads `image`, compiled for `m` (by [`compile_image`], or read from an
/// artifact or the cache and checked against `m`), into executable memory,
/// registers it with the trap handler and announces it to the engine's
/// code observer.
pub(crate) fn load(m: &ModuleInfo, image: &image::CodeImage) -> Result<CompiledModule> {
    image.check(m.bodies.len() as u32)?;
    let memory = code_memory::CodeMemory::load(image)?;
    let base = memory.base();
    let defined = m.bodies.len();
    let mut natives = vec![0; defined];
    let mut trampolines = vec![0; defined];
    let mut osr = Vec::new();
    let funcs = image
        .funcs
        .iter()
        .map(|f| {
            let start = base + f.offset as usize;
            let index = m.num_imported_funcs + f.defined;
            match (f.loop_entry, f.trampoline) {
                (Some(k), true) => {
                    let k = k as usize;
                    if osr.len() <= k {
                        osr.resize(k + 1, 0);
                    }
                    osr[k] = start;
                }
                (Some(_), false) => {}
                (None, true) => trampolines[f.defined as usize] = start,
                (None, false) => natives[f.defined as usize] = start,
            }
            signals::FuncCode {
                start,
                len: f.len as usize,
                defined: f.defined,
                func_index: (!f.trampoline).then_some(index),
                traps: f.traps.clone(),
                srclocs: f.srclocs.clone(),
                stack_maps: f.stack_maps.clone(),
                body_start: m.bodies[f.defined as usize].start,
                call_sites: f.call_sites.clone(),
            }
        })
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
        relocs: image.relocs.clone(),
        memory,
    })
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
    let trampoline: unsafe extern "C" fn(*const VMContext, *mut u64) -> u32 =
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

    // A compiled segment begins: the collector walks its frames from the
    // exit of its calls out (`runtime/gc/roots.rs`).
    inner.activations.enter_compiled(&inner.limits);
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
    let inner = store.inner();
    inner.activations.leave_compiled(&inner.limits);
    if outermost {
        // SAFETY: as above.
        unsafe { (*limits).stack_limit = 0 };
    }
    match result {
        Ok(()) => Ok(()),
        Err(unwound) => Err(unwound_error(store, instance, unwound)),
    }
}

/// The error compiled code entered for instance `instance` stopped with:
/// its trap, or the failure of the helper that made it trap, with the
/// compiled frames' backtrace.
#[cold]
fn unwound_error(
    store: &mut dyn StoreOps,
    instance: u32,
    mut unwound: signals::Unwound,
) -> anyhow::Error {
    resolve_instances(store.inner(), instance, &mut unwound);
    match unwound.trap {
        Some(trap) => anyhow::Error::new(trap).context(unwound.backtrace),
        None => match helpers::PENDING.with(|p| p.borrow_mut().take()) {
            Some(helpers::Pending::Error(e)) => match e.downcast::<helpers::HelperTrap>() {
                Ok(trap) => anyhow::Error::new(trap.0).context(unwound.backtrace),
                // A trap in wasm the helper called (interpreted code, say)
                // has its frames; the compiled ones are outer to them.
                Err(mut e) => {
                    if let Some(frames) = e.downcast_mut::<crate::WasmBacktrace>() {
                        frames.append_outer(unwound.backtrace);
                    }
                    e
                }
            },
            Some(helpers::Pending::Panic(payload)) => std::panic::resume_unwind(payload),
            None => anyhow!("compiled code stopped without an error"),
        },
    }
}
