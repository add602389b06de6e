//! Tiered execution, the JIT's side: compiles the functions and loop
//! entries the interpreter finds hot, in batches, on a background thread
//! (or on the caller's, when `Config::tier_up_in_background` is off), and
//! publishes the code in the module's log (`runtime::tiering`).
//!
//! A batch that fails to compile is retried one job at a time, so one
//! function the JIT cannot compile leaves only itself interpreted. Such a
//! failure is a Strata bug or a resource limit, never the guest's fault, so
//! it is reported (`log::warn!`, which `strata run` prints) rather than
//! dropped, and the program goes on in the interpreter.

use super::{compile_parts, load, signals, CompiledModule};
use crate::module::ModuleInfo;
use crate::runtime::store::StoreOps;
use crate::runtime::tiering::{LoopState, TierStatus, TierUp};
use crate::runtime::vm::VMContext;
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// One module's tier-up compiler.
pub(crate) struct JitTierUp {
    shared: Arc<Shared>,
}

struct Shared {
    module: Arc<ModuleInfo>,
    state: Mutex<State>,
    /// The length of `State::log`, readable without the lock.
    published: AtomicUsize,
}

/// A function (defined index) and, for a loop entry, the interpreter's key
/// of the loop.
type Key = (u32, Option<u32>);

#[derive(Default)]
struct State {
    /// Every job ever asked for, with its outcome once known.
    jobs: HashMap<Key, TierStatus>,
    /// Jobs waiting for the compiler, with the loop state of loop entries.
    queue: Vec<(Key, Option<LoopState>)>,
    /// Whether a background thread is compiling.
    worker: bool,
    /// Published native code: (function, native entry, array-call entry).
    log: Vec<(u32, usize, usize)>,
    /// Which functions have published native code.
    compiled: HashSet<u32>,
    /// Published loop entries (array-call).
    loops: HashMap<(u32, u32), usize>,
    /// The code, kept alive as long as the module.
    images: Vec<CompiledModule>,
}

impl JitTierUp {
    /// A tier-up compiler for `module`, which has compiled nothing yet.
    pub(crate) fn new(module: &Arc<ModuleInfo>) -> JitTierUp {
        JitTierUp {
            shared: Arc::new(Shared {
                module: Arc::clone(module),
                state: Mutex::new(State::default()),
                published: AtomicUsize::new(0),
            }),
        }
    }

    /// Whether `code` is one of this compiler's pieces of code.
    pub(crate) fn owns(&self, code: &Arc<signals::CodeInfo>) -> bool {
        self.shared
            .lock()
            .images
            .iter()
            .any(|i| Arc::ptr_eq(&i.info, code))
    }

    /// How many functions and loop entries it has published.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.shared.lock();
        (state.compiled.len(), state.loops.len())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while compiling leaves the state consistent (jobs are
        // only marked done after their code is published).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Compiles queued jobs until the queue is empty.
    fn drain(&self) {
        loop {
            let batch = {
                let mut state = self.lock();
                if state.queue.is_empty() {
                    state.worker = false;
                    return;
                }
                std::mem::take(&mut state.queue)
            };
            if let Err(e) = self.compile(&batch) {
                log::debug!(
                    "a tier-up batch of {} jobs failed to compile: {e}",
                    batch.len()
                );
                for job in batch {
                    if let Err(e) = self.compile(std::slice::from_ref(&job)) {
                        let ((defined, key), _) = &job;
                        let index = self.module.num_imported_funcs + *defined;
                        let what = match key {
                            Some(_) => "a loop entry of function",
                            None => "function",
                        };
                        log::warn!(
                            "the JIT failed to compile {what} {index}, which stays in the interpreter: {e}"
                        );
                        self.lock().jobs.insert(job.0, TierStatus::Refused);
                    }
                }
            }
        }
    }

    /// Compiles and publishes `batch`, or says why it failed to compile.
    fn compile(&self, batch: &[(Key, Option<LoopState>)]) -> Result<(), String> {
        let m = &*self.module;
        let mut funcs = Vec::new();
        let mut loops = Vec::new();
        for ((defined, key), state) in batch {
            match (key, state) {
                (Some(_), Some(state)) => loops.push((*defined as usize, state)),
                _ => funcs.push(*defined as usize),
            }
        }
        let mut compiled = vec![false; m.bodies.len()];
        for &f in self.lock().compiled.iter() {
            compiled[f as usize] = true;
        }
        for &f in &funcs {
            compiled[f] = true;
        }
        // The compiler's panics are failures to compile too.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            load(m, &compile_parts(m, &funcs, &loops, &compiled)?)
        }));
        let image = match result {
            Ok(Ok(image)) => image,
            Ok(Err(e)) => return Err(format!("{e:#}")),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown cause".into());
                return Err(format!("the compiler panicked: {message}"));
            }
        };
        let mut state = self.lock();
        for &f in &funcs {
            let entry = (
                f as u32,
                image.native(f) as usize,
                image.trampoline(f) as usize,
            );
            state.log.push(entry);
            state.compiled.insert(f as u32);
        }
        let mut k = 0;
        for ((defined, key), _) in batch {
            if let Some(key) = key {
                state
                    .loops
                    .insert((*defined, *key), image.osr_entry(k) as usize);
                k += 1;
            }
            state.jobs.insert((*defined, *key), TierStatus::Compiled);
        }
        state.images.push(image);
        self.published.store(state.log.len(), Ordering::Release);
        Ok(())
    }
}

impl TierUp for JitTierUp {
    fn request(&self, defined: u32, osr: Option<(u32, &LoopState)>) -> TierStatus {
        let shared = &self.shared;
        let m = &shared.module;
        let too_large = !super::compilable(m, defined as usize);
        let mut state = shared.lock();
        let mut wanted = vec![((defined, None), None)];
        if let Some((key, loop_state)) = osr {
            wanted.push(((defined, Some(key)), Some(loop_state.clone())));
        }
        let mut status = TierStatus::Compiled;
        for (job, loop_state) in wanted {
            let known = match state.jobs.get(&job) {
                Some(s) => *s,
                None if too_large => {
                    state.jobs.insert(job, TierStatus::Refused);
                    TierStatus::Refused
                }
                None => {
                    state.jobs.insert(job, TierStatus::Pending);
                    state.queue.push((job, loop_state));
                    TierStatus::Pending
                }
            };
            // The request is as far along as its least advanced job.
            status = match (status, known) {
                (TierStatus::Refused, _) | (_, TierStatus::Refused) => TierStatus::Refused,
                (TierStatus::Pending, _) | (_, TierStatus::Pending) => TierStatus::Pending,
                _ => TierStatus::Compiled,
            };
        }
        if status != TierStatus::Pending || state.queue.is_empty() || state.worker {
            return status;
        }
        state.worker = true;
        drop(state);
        if m.engine.config().tier_up_in_background {
            let worker = Arc::clone(shared);
            let spawned = std::thread::Builder::new()
                .name("strata-tier-up".into())
                .spawn(move || worker.drain());
            if spawned.is_ok() {
                return TierStatus::Pending;
            }
        }
        // Compile here (also when no thread could be started).
        shared.drain();
        let state = shared.lock();
        let done = |job: &Key| state.jobs.get(job).copied().unwrap_or(TierStatus::Refused);
        match osr {
            Some((key, _)) => match (done(&(defined, None)), done(&(defined, Some(key)))) {
                (TierStatus::Compiled, TierStatus::Compiled) => TierStatus::Compiled,
                _ => TierStatus::Refused,
            },
            None => done(&(defined, None)),
        }
    }

    fn published(&self) -> usize {
        self.shared.published.load(Ordering::Acquire)
    }

    fn replay(&self, from: usize, apply: &mut dyn FnMut(u32, *const u8, *const u8)) {
        let state = self.shared.lock();
        for &(defined, native, array_call) in state.log.get(from..).unwrap_or_default() {
            apply(defined, native as *const u8, array_call as *const u8);
        }
    }

    fn osr_entry(&self, defined: u32, key: u32) -> Option<*const u8> {
        let state = self.shared.lock();
        state.loops.get(&(defined, key)).map(|&e| e as *const u8)
    }

    fn enter(
        &self,
        store: &mut dyn StoreOps,
        entry: *const u8,
        vmctx: *const VMContext,
        values: *mut u64,
        instance: u32,
    ) -> anyhow::Result<()> {
        super::enter(store, entry, vmctx, values, instance)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
