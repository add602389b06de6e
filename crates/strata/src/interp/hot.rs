//! Tiered execution, the interpreter's side: deciding what to do when a
//! function's call count runs out or its loops have iterated enough
//! (`LazyFunc::calls`, `LazyFunc::iterations`). The JIT compiles
//! (`runtime::tiering::TierUp`); the interpreter switches to its code.

use super::{CompiledFunc, LazyFunc, ModuleCode};
use crate::runtime::store::StoreInner;
use crate::runtime::tiering::TierStatus;
use std::sync::atomic::Ordering;

/// The interpreter's code for instance `instance`'s module.
pub(super) fn module_code(store: &StoreInner, instance: u32) -> &ModuleCode {
    store.instances[instance as usize]
        .code
        .interp
        .downcast_ref::<ModuleCode>()
        .unwrap_or_else(|| unreachable!("every instance has interpreter code"))
}

/// The lazily translated code of function `index` of instance `instance`.
pub(super) fn func_code(store: &StoreInner, instance: u32, index: u32) -> &LazyFunc {
    let code = module_code(store, instance);
    &code.funcs[(index - code.module.num_imported_funcs) as usize]
}

/// Counts a call of function `index` of instance `instance` made through
/// the driver; true when the call should go to the function's compiled
/// code, which its entry now holds.
pub(super) fn count_call(store: &mut StoreInner, instance: u32, index: u32) -> bool {
    count_calls(store, instance, index, 1)
}

/// How many calls a call from outside the interpreter counts for
/// ([`count_entry`]).
const ENTRY_WEIGHT: u32 = 16;

/// Counts a call of function `index` of instance `instance` that enters
/// the interpreter from outside it: from compiled code (a compiled
/// function calling one that is still interpreted) or from the host. Such
/// a call is a whole entry (`exec::invoke`: a stack, an activation, the
/// driver) and, from compiled code, a helper call out and back, about 540
/// instructions more than a call between interpreted functions; so it
/// counts [`ENTRY_WEIGHT`] times, and the callees of compiled code follow
/// it into the JIT sooner. In a cold run of the regex app that took the
/// program's thread from about 885M to 855M instructions (callgrind; 16
/// did better than 1, 64 and "at once"). As with [`count_call`], the call
/// that spends the last of the count still runs interpreted (so a small
/// threshold still lets a first entry reach its loops) and a count of 0
/// makes the call hot.
pub(super) fn count_entry(store: &mut StoreInner, instance: u32, index: u32) -> bool {
    count_calls(store, instance, index, ENTRY_WEIGHT)
}

/// Counts `weight` calls (at most what is left) of function `index`;
/// true as [`count_call`].
fn count_calls(store: &mut StoreInner, instance: u32, index: u32, weight: u32) -> bool {
    let lazy = func_code(store, instance, index);
    let calls = lazy.calls.load(Ordering::Relaxed);
    if calls > 0 {
        lazy.calls
            .store(calls.saturating_sub(weight), Ordering::Relaxed);
        return false;
    }
    hot_call(store, instance, index)
}

/// Function `index` of instance `instance` ran out of counted calls: asks
/// for it to be compiled, and says whether it is (its entry then holds the
/// code). Otherwise sets the count again: to look again later while it is
/// compiled in the background, or never.
fn hot_call(store: &mut StoreInner, instance: u32, index: u32) -> bool {
    let inst = &store.instances[instance as usize];
    let lazy = func_code(store, instance, index);
    let Some(tier_up) = inst.code.tier_up.clone() else {
        lazy.calls.store(u32::MAX, Ordering::Relaxed);
        return false;
    };
    let defined = index - inst.module.num_imported_funcs;
    match tier_up.request(defined, None) {
        TierStatus::Compiled => {
            store.sync_compiled(instance);
            true
        }
        TierStatus::Pending => {
            let config = store.engine.config();
            let again = config.tier_up_calls.clamp(1, 1000);
            lazy.calls.store(again, Ordering::Relaxed);
            false
        }
        TierStatus::Refused => {
            lazy.calls.store(u32::MAX, Ordering::Relaxed);
            false
        }
    }
}

/// The loop budget of the driver: how many backward jumps a chain of
/// handlers takes before the driver counts them.
pub(super) fn hop_budget(store: &StoreInner) -> usize {
    let config = store.engine.config();
    match config.tier {
        crate::Tier::Tiered => {
            (config.tier_up_loop_iterations as usize).clamp(1, super::handlers::LOOP_HOPS)
        }
        _ => super::handlers::LOOP_HOPS,
    }
}

/// A loop of `code` (function `code.func_index` of instance `instance`)
/// spent `hops` of the loop budget and continues at instruction `target`.
/// Once its iterations pass the threshold, asks for the function and an
/// entry at that loop to be compiled; returns the entry once it is (the
/// driver then runs the rest of the frame there).
pub(super) fn hot_loop(
    store: &mut StoreInner,
    instance: u32,
    code: &CompiledFunc,
    target: u32,
    hops: usize,
) -> Option<*const u8> {
    let inst = &store.instances[instance as usize];
    let tier_up = inst.code.tier_up.as_ref()?;
    let lazy = func_code(store, instance, code.func_index);
    let hops = u32::try_from(hops).unwrap_or(u32::MAX);
    let iterations = lazy.iterations.load(Ordering::Relaxed).saturating_add(hops);
    lazy.iterations.store(iterations, Ordering::Relaxed);
    let defined = code.func_index - inst.module.num_imported_funcs;
    let size = inst
        .module
        .bodies
        .get(defined as usize)
        .map_or(0, |b| b.len());
    if iterations < scaled(store.engine.config().tier_up_loop_iterations, size) {
        return None;
    }
    let header = code.loop_at(target)?;
    match tier_up.request(defined, Some((header.pc, &header.state))) {
        TierStatus::Compiled => {
            let entry = tier_up.osr_entry(defined, header.pc);
            // Compiled code calls the functions published with or before
            // it straight through their entries: they must be set.
            store.sync_compiled(instance);
            entry
        }
        TierStatus::Pending | TierStatus::Refused => None,
    }
}

/// Body bytes per step of [`scaled`].
const SIZE_STEP: usize = 512;

/// The most [`scaled`] multiplies a threshold by.
const MAX_FACTOR: u32 = 16;

/// `threshold` (of calls or loop iterations) for a function whose body is
/// `size` bytes: one more time the threshold per 512 bytes, at most 16
/// times. Compiling costs about in proportion to size, so a large function
/// must show more work before it pays back; in a short run (a 1 MB program
/// that runs for 0.1 s) compiling its large hot functions took more CPU
/// than interpreting them, competing with the interpreter for the cores.
/// The cap keeps a hot loop in a large `main` from waiting long.
/// Thresholds of 0 and 1 ("at once", what the tests use to force tier-up)
/// are left as they are.
pub(crate) fn scaled(threshold: u32, size: usize) -> u32 {
    if threshold <= 1 {
        return threshold;
    }
    let steps = u32::try_from(size / SIZE_STEP).unwrap_or(u32::MAX);
    threshold.saturating_mul(steps.saturating_add(1).min(MAX_FACTOR))
}
