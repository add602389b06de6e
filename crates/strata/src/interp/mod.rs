//! The interpreter tier.
//!
//! - `ops.rs`: the instruction set (`Op`), generated from the instruction
//!   table in `crate::isa` plus the control instructions.
//! - `translate.rs`: wasm function body -> register bytecode, on a
//!   function's first call (or for all functions when the module loads,
//!   with `Config::lazy_translation(false)`).
//! - `handlers/`: threaded handlers for the hot instructions, generated
//!   from the same table.
//! - `exec.rs`: the driver: frames, calls, and the instructions that need the
//!   store; value and call stacks live on the heap.

mod atomic;
pub(crate) mod exec;
pub(crate) mod frames;
pub(crate) mod gc;
mod handlers;
mod hot;
mod offsets;
mod ops;
mod prefetch;
mod stack_maps;
mod translate;
mod unwind;

use crate::module::ModuleInfo;
use crate::runtime::tiering::LoopState;
use crate::Engine;
pub(crate) use exec::invoke;
use ops::{Op, Slot};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// The interpreter's code for one module: each defined function, translated
/// on its first call. Owned by the `Module` and by every instance of it.
pub(crate) struct ModuleCode {
    pub module: Arc<ModuleInfo>,
    /// The defined functions, in index order after the imported ones.
    pub funcs: Arc<[LazyFunc]>,
    /// Translates functions the program is likely to call next on another
    /// thread (`prefetch.rs`), when the engine translates lazily under
    /// tiered execution with background work allowed.
    prefetch: Option<Arc<prefetch::Prefetch>>,
}

impl ModuleCode {
    /// Prepares the module's functions for lazy translation, or translates
    /// them all now when the engine asks for eager translation.
    pub(crate) fn new(module: &Arc<ModuleInfo>, engine: &Engine) -> anyhow::Result<ModuleCode> {
        // With tiered execution, calls count down to the point where the
        // function is hot; otherwise the count never matters.
        let config = engine.config();
        let calls = match config.tier {
            crate::Tier::Tiered => config.tier_up_calls,
            _ => u32::MAX,
        };
        let funcs: Arc<[LazyFunc]> = (0..module.bodies.len())
            .map(|i| {
                let calls = match config.tier {
                    crate::Tier::Tiered => hot::scaled(calls, module.bodies[i].len()),
                    _ => calls,
                };
                LazyFunc::new(module.num_imported_funcs + i as u32, calls)
            })
            .collect();
        let prefetch = (config.tier == crate::Tier::Tiered
            && config.lazy_translation
            && config.tier_up_in_background
            && prefetch::spare_core())
        .then(|| Arc::new(prefetch::Prefetch::new(module, &funcs)));
        let code = ModuleCode {
            module: Arc::clone(module),
            funcs,
            prefetch,
        };
        // The JIT tier interprets only what it leaves (large functions),
        // so it always translates lazily.
        if !config.lazy_translation && config.tier != crate::Tier::Jit {
            for f in code.funcs.iter() {
                f.translation(module)?;
                f.used.store(true, Ordering::Release);
            }
        }
        Ok(code)
    }

    /// The translated code of function `func_index` (a defined one),
    /// translated now if needed (or once the prefetcher, which is
    /// translating it, is done). Its first use hands it to the
    /// prefetcher, which translates its callees ahead of the program.
    pub(crate) fn get(&self, func_index: u32) -> anyhow::Result<&CompiledFunc> {
        let defined = func_index - self.module.num_imported_funcs;
        let lazy = &self.funcs[defined as usize];
        let code = lazy.translation(&self.module)?;
        if !lazy.used.swap(true, Ordering::Release) {
            if let Some(prefetch) = &self.prefetch {
                prefetch.used(defined);
            }
        }
        Ok(code)
    }
}

/// A function body, translated on its first call (or when the module is
/// loaded, with `Config::lazy_translation(false)`). The module was
/// validated as a whole when it was loaded, so translating later only
/// moves work, not checks.
#[derive(Debug)]
pub(crate) struct LazyFunc {
    /// Index in the module's function index space.
    func_index: u32,
    /// The translation, by whichever thread finished first (the program's
    /// or the prefetcher's). Neither waits for the other to translate
    /// (`LazyFunc::translation`). A translation error (a limit the
    /// validator does not check) is kept as its message.
    compiled: OnceLock<Result<CompiledFunc, String>>,
    /// Whether the program has used the translation (`ModuleCode::get`):
    /// until then the call handlers leave calls of the function to the
    /// driver, which tells the prefetcher about its first use.
    used: AtomicBool,
    /// Whether the prefetcher has it queued or has seen it already.
    queued: AtomicBool,
    /// Calls left before the function counts as hot: the call handlers and
    /// the driver count it down (racy across threads, which only makes the
    /// count approximate), and at 0 the driver decides (`hot.rs`). Stays 0
    /// once the function has compiled code, so that calls go to it.
    pub(crate) calls: AtomicU32,
    /// Loop iterations counted so far (in units of the driver's loop
    /// budget), towards `Config::tier_up_loop_iterations`.
    pub(crate) iterations: AtomicU32,
}

impl LazyFunc {
    pub(crate) fn new(func_index: u32, calls: u32) -> LazyFunc {
        LazyFunc {
            func_index,
            compiled: OnceLock::new(),
            used: AtomicBool::new(false),
            queued: AtomicBool::new(false),
            calls: AtomicU32::new(calls),
            iterations: AtomicU32::new(0),
        }
    }

    /// The translated function, if it was translated and used already
    /// (the call handlers' fast path: a function only the prefetcher has
    /// translated goes through the driver once, `ModuleCode::get`).
    #[inline(always)]
    pub(crate) fn translated(&self) -> Option<&CompiledFunc> {
        if !self.used.load(Ordering::Acquire) {
            return None;
        }
        self.compiled.get()?.as_ref().ok()
    }

    /// The translated function, translating it now if needed.
    ///
    /// A thread that finds no translation makes its own, even when another
    /// thread is translating the function at that moment, and keeps
    /// whichever is stored first (a translation is the same whoever makes
    /// it). So the program never waits for the prefetcher (`prefetch.rs`),
    /// which a busy machine may have preempted in the middle of a
    /// translation: when both translated inside `get_or_init`, the program
    /// waited until the prefetcher got a core again and finished.
    fn translation(&self, module: &ModuleInfo) -> anyhow::Result<&CompiledFunc> {
        let result = match self.compiled.get() {
            Some(result) => result,
            None => {
                let body = module.body((self.func_index - module.num_imported_funcs) as usize);
                let mine = translate::translate(module, self.func_index, &body).map_err(|e| {
                    format!(
                        "{:#}",
                        e.context(format!("failed to translate function {}", self.func_index))
                    )
                });
                // Another thread's equal translation may have come first;
                // every thread initializes with a finished translation, so
                // this waits at most for another's move into the slot.
                self.compiled.get_or_init(|| mine)
            }
        };
        result.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// A function translated to register bytecode.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub ops: Box<[Op]>,
    /// `ops` lowered for threaded dispatch, index for index.
    pub instrs: Box<[handlers::Instr]>,
    /// Index in the module's function index space, for backtraces.
    pub func_index: u32,
    pub num_params: u32,
    /// What a new frame holds after its parameters, placed at slots
    /// `num_params..` on entry: zeroed declared locals, then the constants,
    /// then zeroes up to a whole number of `exec::INIT_CHUNK` cells.
    pub init: Box<[u64]>,
    /// Slots the frame needs: locals, constants and temporaries.
    pub frame_size: u32,
    /// Operand lists of instructions with many operands (`ReturnMany`).
    pub slot_lists: Box<[Slot]>,
    pub num_results: u32,
    /// The module offsets of the instructions that can trap or call.
    pub offsets: offsets::OffsetMap,
    /// The header of each loop, in the order the loops open, for
    /// on-stack replacement.
    pub loops: Box<[LoopHeader]>,
    /// The exception handlers, in the order their blocks open: for an
    /// instruction, the last entry whose range holds it is the innermost.
    pub handlers: Box<[TryHandler]>,
    /// Which slots hold references at each safepoint, for the collector;
    /// `None` when none ever does.
    pub stack_maps: Option<Box<stack_maps::StackMaps>>,
}

/// The handler of one `try_table` (or legacy `try`): the instructions it
/// covers, `start..end`, and its catch clauses in order.
#[derive(Debug)]
pub(crate) struct TryHandler {
    pub start: u32,
    pub end: u32,
    pub clauses: Box<[CatchClause]>,
}

/// One catch clause: what it catches, the slot where the values it hands
/// its label start (the payload, then the exnref for the `_ref` forms),
/// and the landing pad where execution resumes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CatchClause {
    pub kind: CatchKind,
    pub dst: ops::Slot,
    pub target: u32,
}

/// What a catch clause catches: exceptions of one tag (a module tag
/// index) or all, with or without the exnref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CatchKind {
    Tag(u32),
    TagRef(u32),
    All,
    AllRef,
    /// A legacy `catch`: the exnref at `dst`, the payload after it.
    LegacyTag(u32),
    /// A legacy `catch_all`: the exnref at `dst`.
    LegacyAll,
    /// A legacy `delegate`: the search goes on with handler `to` (and
    /// those around it) of the same frame, or, for `u32::MAX`, in the
    /// caller.
    Delegate(u32),
}

/// Where a loop starts in the bytecode, and the state there that compiled
/// code entering at the loop takes over.
#[derive(Debug)]
pub(crate) struct LoopHeader {
    pub pc: u32,
    pub state: LoopState,
}

impl CompiledFunc {
    /// The loop whose iteration continues at instruction `target` (where a
    /// backward jump lands): the innermost loop starting there, or the loop
    /// just before it, whose first instruction (a conditional exit) the
    /// jump skips (loop inversion, `translate::invert_loop_jump`): that
    /// instruction only tests slots, so entering at the header again
    /// repeats a test that has the same outcome.
    pub(crate) fn loop_at(&self, target: u32) -> Option<&LoopHeader> {
        let at = |pc: u32| self.loops.iter().rev().find(|l| l.pc == pc);
        at(target).or_else(|| at(target.checked_sub(1)?))
    }
}
