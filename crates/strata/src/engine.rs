//! The engine: compilation settings and the type registry shared by modules
//! and stores.

use crate::{Config, FuncType};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A shared compilation environment. Cheap to clone; every [`Module`] and
/// [`Store`] belongs to one engine.
///
/// [`Module`]: crate::Module
/// [`Store`]: crate::Store
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug, Default)]
struct EngineInner {
    config: Config,
    types: Mutex<TypeRegistry>,
    /// The current epoch (see `Config::epoch_interruption`).
    epoch: AtomicU64,
}

/// Function types interned engine-wide, so that a signature check
/// (`call_indirect`, linking) compares two integers.
#[derive(Debug, Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
    types: Vec<Arc<FuncType>>,
}

impl Engine {
    /// Creates an engine with the given configuration.
    pub fn new(config: &Config) -> anyhow::Result<Engine> {
        config.validate().map_err(anyhow::Error::msg)?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: Mutex::default(),
                epoch: AtomicU64::new(0),
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

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The function type registered under `id`.
    pub(crate) fn func_type(&self, id: u32) -> Arc<FuncType> {
        let registry = self.inner.types.lock().unwrap_or_else(|e| e.into_inner());
        registry.types[id as usize].clone()
    }
}

/// The engine-wide id of a function type, registering it on first sight.
pub(crate) fn intern_type(engine: &Engine, ty: &FuncType) -> u32 {
    let mut registry = engine.inner.types.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(id) = registry.ids.get(ty) {
        return *id;
    }
    let id = registry.types.len() as u32;
    registry.types.push(Arc::new(ty.clone()));
    registry.ids.insert(ty.clone(), id);
    id
}
