//! What a store does when its epoch deadline passes: trap (the default),
//! or call the embedder back, as wasmtime's `Store::epoch_deadline_callback`
//! does. While the callback runs, [`WasmBacktrace::capture`] sees the wasm
//! frames it interrupted: that is how the guest profiler samples, in every
//! tier, without signals.

use super::store::{AsContext, Store};
use crate::runtime::store::StoreInner;
use crate::trap::WasmBacktrace;
use crate::Trap;

/// What an epoch-deadline callback wants next
/// ([`Store::epoch_deadline_callback`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateDeadline {
    /// Go on running wasm, with the deadline this many ticks after the
    /// current epoch.
    Continue(u64),
}

/// A store's epoch-deadline callback.
type Callback<T> =
    Box<dyn FnMut(&mut Store<T>) -> anyhow::Result<UpdateDeadline> + Send + Sync + 'static>;

/// The epoch state of a store.
pub(crate) struct EpochState<T> {
    callback: Option<Callback<T>>,
    /// The wasm frames an epoch callback interrupted, while it runs.
    suspended: Option<WasmBacktrace>,
    /// How many times the callback was set or removed, to tell whether a
    /// running callback replaced itself.
    changes: u64,
}

impl<T> Default for EpochState<T> {
    fn default() -> EpochState<T> {
        EpochState {
            callback: None,
            suspended: None,
            changes: 0,
        }
    }
}

impl<T> Store<T> {
    /// Calls `callback` whenever wasm reaches the epoch deadline
    /// ([`Config::epoch_interruption`](crate::Config::epoch_interruption))
    /// instead of trapping: it may look at the store (and sample the
    /// interrupted stack with [`WasmBacktrace::capture`]), then returns
    /// [`UpdateDeadline::Continue`] with the next deadline, or an error,
    /// which the interrupted call returns (an `Err(Trap::Interrupt.into())`
    /// is a trap with its backtrace). Wasm checks the deadline at function
    /// entries and loop headers, in every tier.
    pub fn epoch_deadline_callback(
        &mut self,
        callback: impl FnMut(&mut Store<T>) -> anyhow::Result<UpdateDeadline> + Send + Sync + 'static,
    ) {
        self.epoch.callback = Some(Box::new(callback));
        self.epoch.changes += 1;
    }

    /// Makes reaching the epoch deadline trap with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) again (the default),
    /// dropping any callback.
    pub fn epoch_deadline_trap(&mut self) {
        self.epoch.callback = None;
        self.epoch.changes += 1;
    }
}

/// `StoreOps::epoch_deadline_reached` for `store`.
pub(crate) fn deadline_reached<T>(
    store: &mut Store<T>,
    stack: &dyn Fn(&StoreInner) -> WasmBacktrace,
) -> anyhow::Result<()> {
    let Some(mut callback) = store.epoch.callback.take() else {
        return Err(Trap::Interrupt.into());
    };
    let interrupted = stack(&store.inner);
    // A callback may run wasm that reaches the deadline again: the inner
    // callback sees its own frames, then these are restored.
    let outer = store.epoch.suspended.replace(interrupted);
    let changes = store.epoch.changes;
    let result = callback(store);
    store.epoch.suspended = outer;
    // Unless the callback installed another one or went back to traps.
    if store.epoch.changes == changes {
        store.epoch.callback = Some(callback);
    }
    match result? {
        UpdateDeadline::Continue(ticks) => store.set_epoch_deadline(ticks),
    }
    Ok(())
}

impl WasmBacktrace {
    /// The wasm frames active in `store`, innermost first: inside an
    /// epoch-deadline callback ([`Store::epoch_deadline_callback`]), the
    /// frames it interrupted. Elsewhere (for instance in a host function)
    /// Strata does not capture the stack yet and the backtrace is empty.
    pub fn capture(store: impl AsContext) -> WasmBacktrace {
        store
            .as_context()
            .epoch
            .suspended
            .clone()
            .unwrap_or_default()
    }
}
