//! `Module`: a validated module, its metadata and what the engine's tier
//! made of it, ready to instantiate any number of times.

use crate::module::{validate, ModuleInfo};
use crate::runtime::store::TierCode;
use crate::types::{ExportType, ExternType, ImportType};
use crate::Engine;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::Arc;

impl Engine {
    /// Compiles a module (binary or text) ahead of time into an artifact
    /// that [`Module::deserialize`] loads without compiling, in an engine
    /// with the same code-changing settings on a host with the same CPU
    /// features (`strata compile`).
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let bytes = wat::parse_bytes(bytes)?;
        #[cfg(strata_jit)]
        {
            if !self.config().tier.compiles() {
                anyhow::bail!(
                    "precompiling needs the JIT (the `jit` or `tiered` tier), but the engine's tier is the interpreter"
                );
            }
            validate(self, &bytes)?;
            let info = ModuleInfo::parse(self, &bytes).context("failed to decode module")?;
            let image = crate::jit::compile_image(&info, &crate::jit::selected_functions(&info))?;
            let hash = crate::artifact::hash(&bytes);
            crate::artifact::write(self, &hash, &bytes, &image)
        }
        #[cfg(not(strata_jit))]
        {
            let _ = bytes;
            anyhow::bail!("precompiling needs the JIT tier, which this build does not have")
        }
    }
}

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
        Module::from_file_contents(engine, path, &bytes)
    }

    /// Loads a module from `bytes`, the contents of the `.wasm` or `.wat`
    /// file at `path` that the caller already read (errors name `path`,
    /// as [`Module::from_file`]'s do).
    pub fn from_file_contents(
        engine: &Engine,
        path: impl AsRef<Path>,
        bytes: &[u8],
    ) -> Result<Module> {
        let path = path.as_ref();
        let bytes = wat::parse_bytes(bytes)
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
        #[cfg(strata_jit)]
        if let Some(found) = crate::artifact::cache::find(engine, bytes) {
            // A cache entry exists only for a module that validated with
            // these settings, so this one did.
            let info =
                Arc::new(ModuleInfo::parse(engine, bytes).context("failed to decode module")?);
            if let Some(jit) = found.load(engine, &info) {
                let code = crate::tier::with_code(engine, &info, Some(jit))?;
                return Ok(Module { inner: info, code });
            }
        }
        validate(engine, bytes)?;
        let info = Arc::new(ModuleInfo::parse(engine, bytes).context("failed to decode module")?);
        // The cache was searched above (a JIT build): no second look.
        let code = crate::tier::compile(engine, &info, cfg!(strata_jit))?;
        Ok(Module { inner: info, code })
    }

    /// Writes the module's compiled code, with its binary, as an
    /// ahead-of-time artifact that [`Module::deserialize`] loads without
    /// compiling (what [`Engine::precompile_module`] produces); under tiered
    /// execution, the whole module is compiled for it. Fails when the
    /// engine's tier compiles nothing (the interpreter).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        #[cfg(strata_jit)]
        if let Some(jit) = self
            .code
            .jit
            .as_ref()
            .and_then(|j| j.downcast_ref::<crate::jit::CompiledModule>())
        {
            let hash = crate::artifact::hash(&self.inner.bytes);
            return crate::artifact::write(self.engine(), &hash, &self.inner.bytes, &jit.image());
        }
        // Tiered execution compiles only what is hot: compile it all now.
        #[cfg(strata_jit)]
        if self.engine().config().tier.compiles() {
            let info = &self.inner;
            let image = crate::jit::compile_image(info, &crate::jit::selected_functions(info))?;
            let hash = crate::artifact::hash(&info.bytes);
            return crate::artifact::write(self.engine(), &hash, &info.bytes, &image);
        }
        anyhow::bail!(
            "the module has no compiled code to serialize: its engine's tier is the interpreter"
        )
    }

    /// Loads an artifact made by [`Module::serialize`] or
    /// [`Engine::precompile_module`] (`strata compile`) without compiling.
    ///
    /// The artifact's header, length and checksum are checked, and it must
    /// come from this version of Strata and an engine with the same
    /// code-changing settings on a host with the same CPU features (the
    /// error names the first setting that differs); its module is
    /// validated again.
    ///
    /// # Safety
    ///
    /// The artifact's machine code is run as it is: the checks above catch
    /// damage and mismatches, not a forged file. Only pass bytes that a
    /// trusted Strata produced, as with wasmtime's `Module::deserialize`.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        Module::from_artifact(engine, bytes.as_ref())
    }

    /// [`Module::deserialize`] of the file at `path`.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]: the file must come from a trusted
    /// Strata, and must not change while it is read.
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        Module::from_artifact(engine, &bytes)
            .with_context(|| format!("failed to load precompiled module `{}`", path.display()))
    }

    /// Whether `bytes` start like an artifact of [`Module::serialize`]
    /// (only the header's magic is looked at).
    pub fn is_precompiled(bytes: &[u8]) -> bool {
        #[cfg(strata_jit)]
        return crate::artifact::is_artifact(bytes);
        #[cfg(not(strata_jit))]
        return bytes.starts_with(b"\x7fSTRATA\0");
    }

    /// Loads a checked artifact (see [`Module::deserialize`]).
    #[cfg(strata_jit)]
    fn from_artifact(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        if !engine.config().tier.compiles() {
            anyhow::bail!(
                "a precompiled module needs the JIT (the `jit` or `tiered` tier), but the engine's tier is the interpreter"
            );
        }
        let artifact = crate::artifact::parse(engine, bytes)?;
        if artifact.wasm.is_empty() {
            anyhow::bail!("the precompiled module holds no WebAssembly module (a cache entry?)");
        }
        validate(engine, artifact.wasm)?;
        let info =
            Arc::new(ModuleInfo::parse(engine, artifact.wasm).context("failed to decode module")?);
        let image = artifact.image(info.bodies.len())?;
        let jit = crate::jit::load(&info, &image)?;
        let code = crate::tier::with_code(engine, &info, Some(jit))?;
        Ok(Module { inner: info, code })
    }

    /// Loading artifacts needs the JIT tier, which this build lacks.
    #[cfg(not(strata_jit))]
    fn from_artifact(_engine: &Engine, _bytes: &[u8]) -> Result<Module> {
        anyhow::bail!("precompiled modules need the JIT tier, which this build does not have")
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

    /// The module's binary (text modules as converted to binary).
    pub fn binary(&self) -> &[u8] {
        &self.inner.bytes
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
