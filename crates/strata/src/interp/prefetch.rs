//! Translating functions ahead of the program on a spare core.
//!
//! With lazy translation, the thread that runs the program translates
//! each function on its first call: in a short run of a large program (the
//! 1.1 MB regex app) that was 14% of the main thread. The prefetcher does
//! that work on another thread, just ahead of the program: when the program
//! first uses a function (`ModuleCode::get`), the prefetcher translates the
//! functions it calls directly (but not its panic paths,
//! [`direct_callees`]), in the order it calls them, and theirs
//! ([`DEPTH`] levels below a used function). The queue is a stack, so the
//! function the program reached last comes first: the program runs depth
//! first, and its next calls are most likely below where it is now.
//!
//! Both threads translate into the same `OnceLock` (`LazyFunc::compiled`):
//! whichever finishes first stores its translation, and a translation is
//! the same whoever makes it, so the program sees no difference but time.
//! The program never waits for the prefetcher: needing a function the
//! prefetcher is still translating, it translates it too (a preempted
//! prefetcher could otherwise hold it up for a time slice). A function
//! only the prefetcher translated still goes through the driver on its
//! first call (`LazyFunc::used`), which is how the prefetcher learns
//! where the program is.

use super::ops::Op;
use super::LazyFunc;
use crate::module::ModuleInfo;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How many levels of direct callees below a used function the prefetcher
/// translates. One is often too late (the program calls a function soon
/// after it starts running its caller); more spends the spare core on
/// functions the run never reaches.
const DEPTH: u8 = 2;

/// How long the prefetcher's thread waits for more work before it ends (a
/// later first use starts a new one).
const LINGER: Duration = Duration::from_millis(20);

/// Whether the machine has a core to spare for prefetching.
pub(super) fn spare_core() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// The prefetcher of one module's functions.
pub(super) struct Prefetch {
    module: Arc<ModuleInfo>,
    funcs: Arc<[LazyFunc]>,
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// Work for the prefetcher's thread.
struct Queue {
    /// (defined function index, levels below a used function), the next
    /// at the end.
    stack: Vec<(u32, u8)>,
    /// Whether a thread serves the queue.
    running: bool,
}

impl Prefetch {
    pub(super) fn new(module: &Arc<ModuleInfo>, funcs: &Arc<[LazyFunc]>) -> Prefetch {
        Prefetch {
            module: Arc::clone(module),
            funcs: Arc::clone(funcs),
            queue: Mutex::new(Queue {
                stack: Vec::new(),
                running: false,
            }),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves a queue that is still
        // consistent (a stack of hints), so a poisoned lock is used as is.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The program used defined function `defined` for the first time:
    /// queue its callees for translation, starting the thread if none
    /// serves the queue.
    pub(super) fn used(self: &Arc<Self>, defined: u32) {
        let mut queue = self.lock();
        queue.stack.push((defined, 0));
        if queue.running {
            drop(queue);
            self.wake.notify_one();
            return;
        }
        queue.running = true;
        drop(queue);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("strata-prefetch".into())
            .spawn(move || me.serve());
        if spawned.is_err() {
            // No thread: the program translates on its own, as without
            // prefetching.
            let mut queue = self.lock();
            queue.running = false;
            queue.stack.clear();
        }
    }

    /// The thread's loop: translate what the stack holds, wait a little
    /// for more, end.
    fn serve(&self) {
        loop {
            let next = {
                let mut queue = self.lock();
                match queue.stack.pop() {
                    Some(next) => next,
                    None => {
                        let (mut again, _) = self
                            .wake
                            .wait_timeout(queue, LINGER)
                            .unwrap_or_else(|e| e.into_inner());
                        match again.stack.pop() {
                            Some(next) => next,
                            None => {
                                again.running = false;
                                return;
                            }
                        }
                    }
                }
            };
            self.visit(next.0, next.1);
        }
    }

    /// Translates defined function `defined` (`depth` levels below a used
    /// one) and queues its direct callees, the first called on top.
    fn visit(&self, defined: u32, depth: u8) {
        let Some(lazy) = self.funcs.get(defined as usize) else {
            return;
        };
        // An error stays in the slot; the program reports it if it calls
        // the function.
        let Ok(code) = lazy.translation(&self.module) else {
            return;
        };
        if depth >= DEPTH {
            return;
        }
        let imported = self.module.num_imported_funcs;
        let mut callees: Vec<(u32, u8)> = Vec::new();
        for func in direct_callees(&code.ops) {
            let Some(callee) = func.checked_sub(imported) else {
                continue;
            };
            let Some(f) = self.funcs.get(callee as usize) else {
                continue;
            };
            if f.compiled.get().is_none() && !f.queued.swap(true, Ordering::Relaxed) {
                callees.push((callee, depth + 1));
            }
        }
        if callees.is_empty() {
            return;
        }
        let mut queue = self.lock();
        queue.stack.extend(callees.into_iter().rev());
    }
}

/// The functions `ops` calls directly, in call order, without the calls
/// that never return: a call followed by `unreachable` is how compiled
/// Rust and C call a panic or abort path, which a run that goes well never
/// takes. Of the functions the prefetcher translated in a cold regex run
/// and the run never called (159 to 166 of 312 to 346), leaving those
/// calls out removed about 35 (128 to 131 left; 3 runs each).
fn direct_callees(ops: &[Op]) -> impl Iterator<Item = u32> + '_ {
    ops.iter().enumerate().filter_map(|(i, op)| match op {
        Op::Call { func, .. } if !matches!(ops.get(i + 1), Some(Op::Unreachable)) => Some(*func),
        Op::ReturnCall { func, .. } => Some(*func),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_that_never_return_are_left_out() {
        let ops = [
            Op::Call { func: 1, base: 0 },
            Op::Call { func: 2, base: 0 },
            Op::Unreachable,
            Op::Call { func: 4, base: 0 },
            Op::ReturnCall { func: 3, base: 0 },
        ];
        assert_eq!(direct_callees(&ops).collect::<Vec<_>>(), [1, 4, 3]);
    }
}
