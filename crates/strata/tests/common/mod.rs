//! Helpers shared by the integration tests that run in every tier.
#![allow(dead_code)]

use strata::{Config, Engine, Tier};

/// The tiers this build can run here (tiered execution with its default
/// thresholds, so mostly interpreted; `tests/tiering.rs` moves code
/// between the tiers on purpose).
pub fn tiers() -> Vec<Tier> {
    [Tier::Interp, Tier::Jit, Tier::Tiered]
        .into_iter()
        .filter(|t| t.is_available())
        .collect()
}

/// An engine with the default configuration in `tier`.
pub fn tier_engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config.tier(tier);
    Engine::new(&config).expect("the default configuration is valid")
}
