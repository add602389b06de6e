//! The one interface between the public API and the tiers: what a module
//! is compiled to when it is loaded, and how a call into a store function
//! reaches the tier that runs it (and how such a call ends: see
//! [`invoke`]; exceptions cross tiers as `runtime/exn.rs` describes).

use crate::module::ModuleInfo;
use crate::runtime::store::{FuncKind, StoreOps, TierCode};
use crate::{Engine, Tier};
use anyhow::Result;
use std::sync::Arc;

/// Prepares `module` for the engine's tier: the interpreter's lazily
/// translated code always (it also runs functions the JIT does not have),
/// with the JIT tier every function compiled to native code, or loaded
/// from the compile cache, and with tiered execution a compiler for the
/// functions that become hot, and the cached code when there is some (then
/// the module runs compiled from its first call). `searched`: the caller
/// already looked in the cache and found nothing usable, so it is not
/// read (nor the module hashed) again; the miss is still counted.
pub(crate) fn compile(
    engine: &Engine,
    module: &Arc<ModuleInfo>,
    searched: bool,
) -> Result<TierCode> {
    let jit = match engine.config().tier {
        #[cfg(strata_jit)]
        Tier::Jit => Some(crate::artifact::cache::compile(engine, module, searched)?),
        #[cfg(strata_jit)]
        Tier::Tiered if searched => {
            crate::artifact::cache::count_miss(engine);
            None
        }
        #[cfg(strata_jit)]
        Tier::Tiered => crate::artifact::cache::lookup(engine, module)
            .and_then(|image| crate::jit::load(module, &image).ok()),
        #[cfg(not(strata_jit))]
        Tier::Jit | Tier::Tiered => {
            let _ = searched;
            anyhow::bail!("the JIT tier is not available in this build")
        }
        Tier::Interp => None,
    };
    with_code(engine, module, jit)
}

/// The tiers' code for `module` with the JIT's code `jit` (compiled, or
/// loaded from an artifact or the cache).
#[cfg(strata_jit)]
pub(crate) fn with_code(
    engine: &Engine,
    module: &Arc<ModuleInfo>,
    jit: Option<crate::jit::CompiledModule>,
) -> Result<TierCode> {
    let interp = Arc::new(crate::interp::ModuleCode::new(module, engine)?);
    let tiered = engine.config().tier == Tier::Tiered;
    let jit = jit.map(|j| Arc::new(j) as Arc<dyn std::any::Any + Send + Sync>);
    let tier_up = tiered.then(|| {
        Arc::new(crate::jit::JitTierUp::new(module)) as Arc<dyn crate::runtime::tiering::TierUp>
    });
    Ok(TierCode {
        interp,
        jit,
        tier_up,
    })
}

/// The tiers' code for `module`: the interpreter's only, in a build
/// without the JIT.
#[cfg(not(strata_jit))]
fn with_code(engine: &Engine, module: &Arc<ModuleInfo>, _jit: Option<()>) -> Result<TierCode> {
    let interp = Arc::new(crate::interp::ModuleCode::new(module, engine)?);
    Ok(TierCode {
        interp,
        jit: None,
        tier_up: None,
    })
}

/// The interpreter's call of store function `func`, a wasm function of
/// instance `instance`, with arguments and results in `raw`: `invoke`
/// without the steps a call from the interpreter does not need. Such a
/// call goes to compiled code (the interpreter runs interpreted callees
/// itself), whose entry the driver synced when it found the callee hot,
/// together with everything published before it (`sync_compiled` applies
/// the log in order), so it neither syncs nor looks the function up again:
/// it enters the code the entry holds. This is the driver's
/// interpreter-to-compiled crossing (the call handler's own,
/// `interp::handlers::control::call_compiled`, enters the entry it holds
/// the same way); anything else goes through `invoke`.
pub(crate) fn call_from_interp(
    store: &mut dyn StoreOps,
    func: u32,
    instance: u32,
    raw: &mut [u64],
) -> Result<()> {
    #[cfg(strata_jit)]
    {
        let entry = store.inner().func_refs[func as usize].get();
        if !entry.array_call.is_null() {
            // `jit::enter` records the compiled segment for the collector.
            return crate::jit::enter(
                store,
                entry.array_call,
                entry.vmctx,
                raw.as_mut_ptr(),
                instance,
            );
        }
    }
    #[cfg(not(strata_jit))]
    let _ = instance;
    invoke(store, func, raw)
}

/// Calls store function `func` with arguments in `raw` and leaves its
/// results there (`raw` holds `max(params, results)` cells): a host
/// function directly, a wasm function in the tier that has code for it.
/// Every host-to-wasm call goes through here.
///
/// A call ends in one of four ways, the same for either tier and for host
/// functions: `Ok` (results in `raw`); a trap (an error that is a
/// [`crate::Trap`]); a thrown WebAssembly exception, an error that is a
/// [`crate::ThrownException`] with the exception's exnref pending in the
/// store (`runtime::exn::raise` leaves it so, `runtime::exn::thrown` takes
/// it back out for a caller that unwinds further); or any other host error.
/// A tier receiving an error from a call out asks `exn::thrown` first.
pub(crate) fn invoke(store: &mut dyn StoreOps, func: u32, raw: &mut [u64]) -> Result<()> {
    match store.inner().funcs[func as usize].kind {
        FuncKind::Host(host) => store.call_host(host, raw, None),
        FuncKind::Wasm { instance, .. } => {
            store.inner().sync_compiled(instance);
            #[cfg(strata_jit)]
            if !store.inner().func_refs[func as usize]
                .get()
                .array_call
                .is_null()
            {
                return crate::jit::invoke(store, func, raw);
            }
            crate::interp::invoke(store, func, raw)
        }
    }
}
