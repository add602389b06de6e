//! `Module`: a validated module, its metadata and what the engine's tier
//! made of it, ready to instantiate any number of times.

use crate::module::{validate, ModuleInfo};
use crate::runtime::store::TierCode;
use crate::types::{ExportType, ExternType, ImportType};
use crate::Engine;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::Arc;

/// A validated, compiled WebAssembly module, ready to instantiate any number
/// of times. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInfo>,
    /// The tiers' code, shared with every instance.
    pub(crate) code: TierCode,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl Module {
    /// Loads a module from binary or text (`.wat`) bytes.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = wat::parse_bytes(bytes.as_ref())?;
        Module::from_binary(engine, &bytes)
    }

    /// Loads a module from a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        let bytes = wat::parse_bytes(&bytes)
            .map_err(|e| {
                let mut e = e;
                e.set_path(path);
                e
            })
            .with_context(|| format!("failed to parse `{}`", path.display()))?;
        Module::from_binary(engine, &bytes)
            .with_context(|| format!("failed to load module `{}`", path.display()))
    }

    /// Loads a module from the binary format only.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        validate(engine, bytes)?;
        let info = Arc::new(ModuleInfo::parse(engine, bytes).context("failed to decode module")?);
        let code = crate::tier::compile(engine, &info)?;
        Ok(Module { inner: info, code })
    }

    /// Checks that `bytes` is a valid module under the engine's features,
    /// without compiling it.
    pub fn validate(engine: &Engine, bytes: &[u8]) -> Result<()> {
        validate(engine, bytes)
    }

    /// The module's name from the name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// With tiered execution, how many of the module's functions and loop
    /// entries have been compiled so far (for tests and diagnostics).
    #[doc(hidden)]
    pub fn tiered_up(&self) -> (usize, usize) {
        #[cfg(strata_jit)]
        if let Some(t) = self.code.tier_up.as_ref() {
            if let Some(t) = t.as_any().downcast_ref::<crate::jit::JitTierUp>() {
                return t.counts();
            }
        }
        (0, 0)
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: self.inner.entity_type(i.kind),
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner.exports.iter().map(|(name, index)| ExportType {
            name,
            ty: self.inner.entity_type(*index),
        })
    }

    /// The type of the export called `name`, if there is one.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        self.inner
            .exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, index)| self.inner.entity_type(*index))
    }
}
