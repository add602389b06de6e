//! The parking lot of `memory.atomic.wait32/64` and `memory.atomic.notify`:
//! the threads waiting on a shared memory, queued by address.
//!
//! Each shared memory owns one (so the key is (memory, address)). A waiter
//! checks the memory's value and enqueues itself under the lot's lock; a
//! notifier dequeues under the same lock. A store that writes the value and
//! then notifies therefore either runs before the waiter's check (which
//! sees the new value and returns "not-equal") or after its enqueue (and
//! wakes it): no wake-up is lost. Waiters sleep in slices of at most
//! `SLICE` so that an interrupted store (its epoch deadline passed, e.g.
//! under `-W timeout`) ends a wait in a deadlocked guest.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a waiter sleeps before it checks for interruption.
const SLICE: Duration = Duration::from_millis(5);

/// How a wait ended, as `memory.atomic.wait` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// Woken by a notify (0).
    Ok,
    /// The value differed from the expected one (1).
    Mismatch,
    /// The timeout passed (2).
    TimedOut,
}

impl WaitResult {
    /// The value `memory.atomic.wait` returns.
    pub fn code(self) -> u32 {
        match self {
            WaitResult::Ok => 0,
            WaitResult::Mismatch => 1,
            WaitResult::TimedOut => 2,
        }
    }
}

/// Waiters by address; each waiter's flag is set when it is notified.
#[derive(Debug, Default)]
pub struct ParkingLot {
    queues: Mutex<HashMap<u64, VecDeque<Arc<AtomicBool>>>>,
    wake: Condvar,
}

impl ParkingLot {
    /// Locks the queues. A panic while they were locked cannot leave them
    /// inconsistent (every update is a single push or pop), so a poisoned
    /// lock is used as is.
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, VecDeque<Arc<AtomicBool>>>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits at `addr` while `still_expected()` (called under the lot's
    /// lock) holds, until notified, `timeout` passes (`None`: forever) or
    /// `interrupted()` says the waiting store must stop (then `Err(())`).
    pub fn wait(
        &self,
        addr: u64,
        still_expected: impl FnOnce() -> bool,
        timeout: Option<Duration>,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<WaitResult, ()> {
        let mut queues = self.lock();
        if !still_expected() {
            return Ok(WaitResult::Mismatch);
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let me = Arc::new(AtomicBool::new(false));
        queues.entry(addr).or_default().push_back(me.clone());
        loop {
            if me.load(Ordering::Acquire) {
                return Ok(WaitResult::Ok);
            }
            let now = Instant::now();
            let timed_out = match (timeout, deadline) {
                (Some(_), Some(d)) => now >= d,
                // A timeout too far in the future to represent: forever.
                _ => false,
            };
            let stop = !timed_out && interrupted();
            if timed_out || stop {
                // Leave the queue (a notify may have taken us meanwhile:
                // then the wait succeeded).
                if me.load(Ordering::Acquire) {
                    return Ok(WaitResult::Ok);
                }
                if let Some(q) = queues.get_mut(&addr) {
                    q.retain(|w| !Arc::ptr_eq(w, &me));
                    if q.is_empty() {
                        queues.remove(&addr);
                    }
                }
                return if stop {
                    Err(())
                } else {
                    Ok(WaitResult::TimedOut)
                };
            }
            let sleep = deadline.map_or(SLICE, |d| (d - now).min(SLICE));
            queues = self
                .wake
                .wait_timeout(queues, sleep)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wakes up to `count` waiters at `addr`, oldest first; returns how
    /// many it woke.
    pub fn notify(&self, addr: u64, count: u32) -> u32 {
        let mut queues = self.lock();
        let Some(q) = queues.get_mut(&addr) else {
            return 0;
        };
        let mut woken = 0;
        while woken < count {
            let Some(w) = q.pop_front() else { break };
            w.store(true, Ordering::Release);
            woken += 1;
        }
        if q.is_empty() {
            queues.remove(&addr);
        }
        drop(queues);
        if woken > 0 {
            // One condition variable serves every address: waiters of
            // other addresses wake, see their flag unset and sleep again.
            self.wake.notify_all();
        }
        woken
    }
}

#[cfg(test)]
mod tests {
    use super::{ParkingLot, WaitResult};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn waits_time_out_mismatch_and_are_woken() {
        let lot = Arc::new(ParkingLot::default());
        let never = &mut || false;
        assert_eq!(lot.wait(8, || false, None, never), Ok(WaitResult::Mismatch));
        let t = Some(Duration::from_millis(10));
        assert_eq!(lot.wait(8, || true, t, never), Ok(WaitResult::TimedOut));
        assert_eq!(lot.notify(8, 1), 0);
        let waiter = {
            let lot = lot.clone();
            std::thread::spawn(move || lot.wait(16, || true, None, &mut || false))
        };
        let mut woken = 0;
        while woken == 0 {
            std::thread::sleep(Duration::from_millis(1));
            woken = lot.notify(16, 5);
        }
        assert_eq!(woken, 1);
        assert_eq!(waiter.join().ok(), Some(Ok(WaitResult::Ok)));
        // An interrupted wait ends with an error.
        assert_eq!(lot.wait(8, || true, None, &mut || true), Err(()));
    }
}
