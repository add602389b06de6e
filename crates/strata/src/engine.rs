//! The engine: compilation settings and the type registry shared by modules
//! and stores.

use crate::profiling::CodeObserver;
use crate::types::registry::TypeRegistry;
use crate::Config;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A shared compilation environment. Cheap to clone; every [`Module`] and
/// [`Store`] belongs to one engine.
///
/// [`Module`]: crate::Module
/// [`Store`]: crate::Store
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Default)]
struct EngineInner {
    config: Config,
    types: TypeRegistry,
    /// The current epoch (see `Config::epoch_interruption`).
    epoch: AtomicU64,
    /// Told about compiled code (`Config::profiler`).
    code_observer: Option<Arc<dyn CodeObserver>>,
}

impl std::fmt::Debug for EngineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineInner")
            .field("config", &self.config)
            .field("types", &self.types)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Creates an engine with the given configuration.
    pub fn new(config: &Config) -> anyhow::Result<Engine> {
        config.validate().map_err(anyhow::Error::msg)?;
        // The tiers that compile announce their code to the observer.
        let code_observer = match config.tier.compiles() {
            true => crate::profiling::observer(config.profiler)?,
            false => None,
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: TypeRegistry::default(),
                epoch: AtomicU64::new(0),
                code_observer,
            }),
        })
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Advances the epoch by one. Stores whose epoch deadline this reaches
    /// interrupt their running wasm (with `Config::epoch_interruption`).
    /// Safe to call from any thread, e.g. a timer.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// The epoch counter's stable address, for executing code.
    pub(crate) fn epoch_ptr(&self) -> *const AtomicU64 {
        &self.inner.epoch
    }

    /// Where tiers announce the machine code they publish, if a profiler
    /// wants to know (`Config::profiler`).
    pub(crate) fn code_observer(&self) -> Option<&dyn CodeObserver> {
        self.inner.code_observer.as_deref()
    }

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The engine's type registry: every type of its modules and host
    /// functions, canonicalised.
    pub(crate) fn types(&self) -> &TypeRegistry {
        &self.inner.types
    }
}
