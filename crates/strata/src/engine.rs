//! The engine: compilation settings and the type registry shared by modules
//! and stores.

use crate::profiling::CodeObserver;
use crate::types::registry::TypeRegistry;
use crate::{Config, Tier};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// A shared compilation environment. Cheap to clone; every [`Module`] and
/// [`Store`] belongs to one engine.
///
/// [`Module`]: crate::Module
/// [`Store`]: crate::Store
#[derive(Debug, Clone)]
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
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    code_observer: Option<Arc<dyn CodeObserver>>,
    /// The compile cache, when it is on and the engine compiles.
    cache: Option<CacheDir>,
    /// What compiled code depends on (`artifact::fingerprint`), computed
    /// when first needed.
    fingerprint: OnceLock<String>,
}

/// The compile cache of an engine: its directory, size limit and what it
/// did so far (`artifact::cache` reads and writes it).
#[derive(Debug)]
#[cfg_attr(not(strata_jit), allow(dead_code))]
pub(crate) struct CacheDir {
    pub dir: PathBuf,
    pub max_size: u64,
    /// Modules whose code came from the cache.
    pub hits: AtomicU64,
    /// Modules compiled (and written to the cache) because it had no
    /// usable entry.
    pub misses: AtomicU64,
    /// Entries this engine wrote (the size check runs on some of them).
    pub writes: AtomicU64,
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

impl Default for Engine {
    /// An engine with the default configuration (the best tier, the
    /// compile cache on).
    fn default() -> Engine {
        Engine::new(&Config::default()).unwrap_or_else(|_| Engine {
            inner: Arc::default(),
        })
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
        let cache = match (config.tier, &config.cache) {
            (crate::Tier::Jit | crate::Tier::Tiered, Some(cache)) => {
                cache.directory().map(|dir| CacheDir {
                    dir,
                    max_size: cache.max_size,
                    hits: AtomicU64::new(0),
                    misses: AtomicU64::new(0),
                    writes: AtomicU64::new(0),
                })
            }
            _ => None,
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: TypeRegistry::default(),
                epoch: AtomicU64::new(0),
                code_observer,
                cache,
                fingerprint: OnceLock::new(),
            }),
        })
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The tier that runs this engine's code (whether it compiles anything
    /// decides, for example, what a serialized module holds).
    pub fn tier(&self) -> Tier {
        self.inner.config.tier
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
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    pub(crate) fn code_observer(&self) -> Option<&dyn CodeObserver> {
        self.inner.code_observer.as_deref()
    }

    /// The compile cache, if this engine uses one.
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    pub(crate) fn cache(&self) -> Option<&CacheDir> {
        self.inner.cache.as_ref()
    }

    /// How many modules this engine loaded from its compile cache, and how
    /// many it compiled and wrote there: (hits, misses). For tests.
    #[doc(hidden)]
    pub fn cache_statistics(&self) -> (u64, u64) {
        self.inner.cache.as_ref().map_or((0, 0), |c| {
            (
                c.hits.load(Ordering::Relaxed),
                c.misses.load(Ordering::Relaxed),
            )
        })
    }

    /// The engine's configuration fingerprint, computed by `compute` the
    /// first time.
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    pub(crate) fn fingerprint(
        &self,
        compute: impl FnOnce() -> anyhow::Result<String>,
    ) -> anyhow::Result<&str> {
        if let Some(f) = self.inner.fingerprint.get() {
            return Ok(f);
        }
        let f = compute()?;
        Ok(self.inner.fingerprint.get_or_init(|| f))
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
