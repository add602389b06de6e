//! The one interface between the public API and the tiers: what a module
//! is compiled to when it is loaded, and how a call into a store function
//! reaches the tier that runs it.

use crate::module::ModuleInfo;
use crate::runtime::store::{FuncKind, StoreOps, TierCode};
use crate::{Engine, Tier};
use anyhow::Result;
use std::sync::Arc;

/// Prepares `module` for the engine's tier: the interpreter's lazily
/// translated code always (it also runs functions the JIT does not have),
/// with the JIT tier every function compiled to native code, and with
/// tiered execution a compiler for the functions that become hot.
pub(crate) fn compile(engine: &Engine, module: &Arc<ModuleInfo>) -> Result<TierCode> {
    let interp = Arc::new(crate::interp::ModuleCode::new(module, engine)?);
    let mut code = TierCode {
        interp,
        jit: None,
        tier_up: None,
    };
    match engine.config().tier {
        #[cfg(strata_jit)]
        Tier::Jit => code.jit = Some(Arc::new(crate::jit::compile(module)?)),
        #[cfg(strata_jit)]
        Tier::Tiered => code.tier_up = Some(Arc::new(crate::jit::JitTierUp::new(module))),
        #[cfg(not(strata_jit))]
        Tier::Jit | Tier::Tiered => {
            anyhow::bail!("the JIT tier is not available in this build")
        }
        Tier::Interp => {}
    }
    Ok(code)
}

/// Calls store function `func` with arguments in `raw` and leaves its
/// results there (`raw` holds `max(params, results)` cells): a host
/// function directly, a wasm function in the tier that has code for it.
/// Every host-to-wasm call goes through here.
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
