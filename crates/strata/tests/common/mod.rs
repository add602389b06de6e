//! Helpers shared by the integration tests that run in every tier.
#![allow(dead_code)]

use strata::{Config, Engine, Instance, Store, Tier, Val};

/// The tiers this build can run here (tiered execution with its default
/// thresholds, so mostly interpreted; `tests/tiering.rs` moves code
/// between the tiers on purpose).
pub fn tiers() -> Vec<Tier> {
    [Tier::Interp, Tier::Jit, Tier::Tiered]
        .into_iter()
        .filter(|t| t.is_available())
        .collect()
}

/// Under tiered execution, makes `config` compile every function before
/// its first call and every loop at its first iteration, on the calling
/// thread, so a test's code runs compiled in that tier too.
pub fn compile_at_once(config: &mut Config, tier: Tier) {
    if tier == Tier::Tiered {
        config
            .tier_up_calls(0)
            .tier_up_loop_iterations(0)
            .tier_up_in_background(false);
    }
}

/// An engine with the default configuration in `tier`.
pub fn tier_engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config.tier(tier);
    Engine::new(&config).expect("the default configuration is valid")
}

/// Calls export `name` of `i` with `args`; returns its results.
pub fn call(
    store: &mut Store<()>,
    i: &Instance,
    name: &str,
    args: &[Val],
) -> anyhow::Result<Vec<Val>> {
    let f = i
        .get_func(&mut *store, name)
        .ok_or_else(|| anyhow::anyhow!("no export {name}"))?;
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut results)?;
    Ok(results)
}
