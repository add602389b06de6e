//! Configuration and engines: `wasm_config_t`, `wasm_engine_t`.
//!
//! `strata.h` adds setters for the configuration (fuel, epochs, stack);
//! see [`crate::strata`].

use strata::{Config, Engine};

/// `wasm_config_t`: engine settings, consumed by
/// `wasm_engine_new_with_config`.
pub struct wasm_config_t {
    pub(crate) config: Config,
}

/// `wasm_engine_t`: a compilation environment, shareable between threads.
pub struct wasm_engine_t {
    pub(crate) engine: Engine,
}

/// The configuration `wasm_config_new` and `wasm_engine_new` start from:
/// the library's default (tiered execution where the JIT is available),
/// with the tier overridable by the `STRATA_TIER` environment variable
/// (`tiered`, `jit` or `interp`), so a C program can be run in either tier without rebuilding
/// it. An unknown or unavailable tier there is ignored.
fn default_config() -> Config {
    let mut config = Config::new();
    if let Some(tier) = std::env::var("STRATA_TIER")
        .ok()
        .and_then(|t| t.parse::<strata::Tier>().ok())
    {
        config.tier(tier);
    }
    config
}

/// `wasm_config_new`: the default configuration.
#[no_mangle]
pub extern "C" fn wasm_config_new() -> Box<wasm_config_t> {
    Box::new(wasm_config_t {
        config: default_config(),
    })
}

/// `wasm_config_delete`.
#[no_mangle]
pub extern "C" fn wasm_config_delete(_config: Option<Box<wasm_config_t>>) {}

/// `wasm_engine_new`: an engine with the default configuration.
#[no_mangle]
pub extern "C" fn wasm_engine_new() -> Box<wasm_engine_t> {
    // The default configuration is always valid.
    let engine = Engine::new(&default_config()).unwrap_or_default();
    Box::new(wasm_engine_t { engine })
}

/// `wasm_engine_new_with_config`: takes ownership of the configuration;
/// null when it is null or the engine cannot be created.
#[no_mangle]
pub extern "C" fn wasm_engine_new_with_config(
    config: Option<Box<wasm_config_t>>,
) -> Option<Box<wasm_engine_t>> {
    let engine = Engine::new(&config?.config).ok()?;
    Some(Box::new(wasm_engine_t { engine }))
}

/// `wasm_engine_delete`.
#[no_mangle]
pub extern "C" fn wasm_engine_delete(_engine: Option<Box<wasm_engine_t>>) {}
