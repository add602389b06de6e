//! What tiered execution shares between the interpreter, which finds hot
//! code, and the JIT, which compiles it: the [`TierUp`] interface, the
//! state a compiled loop entry takes over from an interpreter frame
//! ([`LoopState`]), and how an instance learns of newly compiled code
//! ([`StoreInner::sync_compiled`]).
//!
//! Compiled code is published per module, in a log of (function, entry)
//! pairs that only grows; each instance remembers how much of it it has
//! applied to its function entries (`VMFuncRef`s) and applies the rest when
//! the interpreter or the host next calls into it. Calls made after that
//! run compiled code; frames already running keep their tier until they
//! return (or, for a loop, until its next iteration: on-stack
//! replacement).
//!
//! Without the JIT nothing implements [`TierUp`]: the interface stays, and
//! the parts only an implementation uses are unused.
#![cfg_attr(not(strata_jit), allow(dead_code))]

use super::store::{StoreInner, StoreOps};
use super::vm::VMContext;
use crate::types::ValType;
use std::any::Any;

/// The state at the header of a loop, in the interpreter's frame: the
/// module offset of the `loop` operator (which the JIT finds again when it
/// translates the function) and the frame slot and type of each operand on
/// the wasm stack there, bottom first, the loop's parameters last. Locals
/// are at their slots (`cells below them`), so only the operands need
/// describing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoopState {
    pub offset: u32,
    pub stack: Box<[(u32, ValType)]>,
}

/// What became of a request to compile a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TierStatus {
    /// Its code is published: sync the instance and call it.
    Compiled,
    /// It is being compiled in the background; ask again later.
    Pending,
    /// It cannot be compiled (too large, or a failure): it stays
    /// interpreted.
    Refused,
}

/// A module's tier-up compiler (the JIT's `JitTierUp`), owned with the
/// module's code.
pub(crate) trait TierUp: Send + Sync {
    /// Asks for defined function `defined` to be compiled, and with `osr`
    /// also its entry at the loop header that the interpreter knows by
    /// `key` and whose state is `state`. Compiles now, on this thread, when
    /// the engine does not compile in the background.
    fn request(&self, defined: u32, osr: Option<(u32, &LoopState)>) -> TierStatus;
    /// How many entries the publish log holds.
    fn published(&self) -> usize;
    /// Calls `apply(defined, native, array_call)` for each log entry from
    /// `from` on.
    fn replay(&self, from: usize, apply: &mut dyn FnMut(u32, *const u8, *const u8));
    /// The array-call entry of the compiled code of defined function
    /// `defined` that starts at its loop `key`, once published.
    fn osr_entry(&self, defined: u32, key: u32) -> Option<*const u8>;
    /// Runs the compiled array-call entry `entry` with `vmctx` on the cells
    /// at `values` (which hold the arguments, or for a loop entry the
    /// interpreter frame, and receive the results), on behalf of instance
    /// `instance`.
    fn enter(
        &self,
        store: &mut dyn StoreOps,
        entry: *const u8,
        vmctx: *const VMContext,
        values: *mut u64,
        instance: u32,
    ) -> anyhow::Result<()>;
    /// The concrete type, for the JIT.
    fn as_any(&self) -> &dyn Any;
}

impl StoreInner {
    /// Points the entries of instance `instance`'s functions at the
    /// compiled code its module published since the instance last looked.
    pub(crate) fn sync_compiled(&mut self, instance: u32) {
        let inst = &self.instances[instance as usize];
        let Some(tier_up) = inst.code.tier_up.as_ref() else {
            return;
        };
        let published = tier_up.published();
        if inst.synced == published {
            return;
        }
        let imported = inst.module.num_imported_funcs as usize;
        let funcs = inst.vm.funcs();
        let func_refs = &self.func_refs;
        tier_up.replay(inst.synced, &mut |defined, native, array_call| {
            let entry = &func_refs[funcs[imported + defined as usize] as usize];
            let mut e = entry.get();
            e.native = native;
            e.array_call = array_call;
            entry.set(e);
        });
        self.instances[instance as usize].synced = published;
    }
}
