//! The linker: a namespace of host definitions and instance exports that
//! resolves a module's imports by name.

use super::func::{dynamic_host_func, HostFunc};
use super::instance::import_matches;
use crate::runtime::store::WRONG_STORE;
use crate::{
    AsContextMut, Caller, Engine, Extern, ExternType, FuncType, Instance, IntoFunc, Module, Val,
};
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

enum Definition<T> {
    /// An item that already lives in a store.
    Extern(Extern),
    /// A host function, created in each store that instantiates with it.
    HostFunc(FuncType, HostFunc<T>),
}

impl<T: 'static> Definition<T> {
    /// The item in `store`: a host function is created there.
    fn materialize(&self, store: &mut crate::Store<T>) -> Extern {
        match self {
            Definition::Extern(e) => e.clone(),
            Definition::HostFunc(ty, f) => Extern::Func(store.new_host_func(ty.clone(), f.clone())),
        }
    }
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(e.clone()),
            Definition::HostFunc(ty, f) => Definition::HostFunc(ty.clone(), f.clone()),
        }
    }
}

/// Resolves imports by `(module, name)` from host functions and the exports
/// of earlier instances.
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("definitions", &self.defs.len())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for modules of `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// The engine this linker belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition may replace an earlier one of the same name.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            bail!("import of `{module}::{name}` defined twice");
        }
        self.defs.insert(key, def);
        Ok(())
    }

    /// Defines `module::name` as an item from a store.
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function from a Rust closure.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_func();
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function over [`Val`]s.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = dynamic_host_func(ty.clone(), func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines every function import of `module` that this linker has no
    /// definition for as a function that fails when called, with an
    /// [`UnknownImportError`] naming the import, as wasmtime's method of
    /// the same name does. A module whose unused imports are unknown then
    /// instantiates and runs (the command line's
    /// `-W unknown-imports-trap=y`). Other kinds of imports stay undefined.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        for (import, ty) in self.unknown_func_imports(module) {
            let error = UnknownImportError {
                module: import.0.clone(),
                name: import.1.clone(),
                ty: ExternType::Func(ty.clone()),
            };
            self.func_new(&import.0, &import.1, ty, move |_, _, _| {
                Err(anyhow::Error::new(error.clone()))
            })?;
        }
        Ok(())
    }

    /// Defines every function import of `module` that this linker has no
    /// definition for as a function that ignores its arguments and returns
    /// the default value of each result type (zero, or a null reference),
    /// as wasmtime's method of the same name does (the command line's
    /// `-W unknown-imports-default=y`). Other kinds of imports stay
    /// undefined.
    pub fn define_unknown_imports_as_default_values(&mut self, module: &Module) -> Result<()> {
        for (import, ty) in self.unknown_func_imports(module) {
            let result_types = ty.results().to_vec();
            self.func_new(&import.0, &import.1, ty, move |_, _, results| {
                for (slot, ty) in results.iter_mut().zip(&result_types) {
                    *slot = Val::default_for(*ty);
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The function imports of `module` without a definition here, each
    /// name once (a module may import the same name twice).
    fn unknown_func_imports(&self, module: &Module) -> Vec<((String, String), FuncType)> {
        let mut unknown: Vec<((String, String), FuncType)> = Vec::new();
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            if self.defs.contains_key(&key) || unknown.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if let ExternType::Func(ty) = import.ty() {
                unknown.push((key, ty));
            }
        }
        unknown
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let store = store.as_context_mut();
        store.inner.check_owner(instance.store_id)?;
        for (name, item) in instance.exports(store) {
            self.insert(module, name, Definition::Extern(item))?;
        }
        Ok(self)
    }

    /// The definition of `module::name`, created in `store` if it is a host
    /// function.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        Some(self.materialize(store.as_context_mut(), def))
    }

    fn materialize(&self, store: &mut crate::Store<T>, def: &Definition<T>) -> Extern {
        def.materialize(store)
    }

    /// Instantiates `module`, resolving each import by name. Every missing
    /// or mistyped import is reported, with the type the module expects.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let defs = module.imports().map(|import| {
            let key = (import.module().to_string(), import.name().to_string());
            self.defs.get(&key)
        });
        link(store.as_context_mut(), module, defs)
    }

    /// Resolves `module`'s imports by name once, for many instantiations
    /// (as wasmtime's method of the same name does): the result
    /// instantiates the module in any store without looking names up
    /// again. Fails, naming each one, when imports are not defined; types
    /// are checked when instantiating, against the items of that store.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let mut defs = Vec::with_capacity(module.inner.imports.len());
        let mut problems = String::new();
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            match self.defs.get(&key) {
                Some(def) => defs.push(def.clone()),
                None => {
                    let _ = writeln!(
                        problems,
                        "unknown import: `{}::{}` has not been defined (expected {})",
                        import.module(),
                        import.name(),
                        import.ty()
                    );
                }
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.trim_end());
        }
        Ok(InstancePre {
            module: module.clone(),
            defs: defs.into(),
        })
    }

    /// Instantiates `module` and defines its exports under `name`.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        name: &str,
        module: &Module,
    ) -> Result<Instance> {
        let instance = self.instantiate(store.as_context_mut(), module)?;
        self.instance(store.as_context_mut(), name, instance)?;
        Ok(instance)
    }
}

/// A module with its imports resolved by [`Linker::instantiate_pre`],
/// ready to be instantiated many times.
pub struct InstancePre<T> {
    module: Module,
    /// The definition of each import, in the module's import order.
    defs: Arc<[Definition<T>]>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            module: self.module.clone(),
            defs: Arc::clone(&self.defs),
        }
    }
}

impl<T> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre")
            .field("imports", &self.defs.len())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module this instantiates.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store` with the resolved imports (host
    /// functions are created in `store`). Every import of another store or
    /// of the wrong type is reported, with the type the module expects.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        link(
            store.as_context_mut(),
            &self.module,
            self.defs.iter().map(Some),
        )
    }
}

/// Instantiates `module` in `store` with `defs`, the definition of each
/// import in order (`None`: undefined). Every undefined import, import of
/// another store or of the wrong type is reported, with the type the
/// module expects.
fn link<'a, T: 'static>(
    store: &mut crate::Store<T>,
    module: &Module,
    defs: impl Iterator<Item = Option<&'a Definition<T>>>,
) -> Result<Instance> {
    let mut imports = Vec::with_capacity(module.inner.imports.len());
    let mut problems = String::new();
    for ((import, info), def) in module.imports().zip(&module.inner.imports).zip(defs) {
        let Some(def) = def else {
            let _ = writeln!(
                problems,
                "unknown import: `{}::{}` has not been defined (expected {})",
                import.module(),
                import.name(),
                import.ty()
            );
            continue;
        };
        let item = def.materialize(store);
        if item.store_id().is_some_and(|id| id != store.inner.id) {
            let _ = writeln!(
                problems,
                "{WRONG_STORE}: import `{}::{}` belongs to another store",
                import.module(),
                import.name()
            );
            continue;
        }
        if !import_matches(&store.inner, &module.inner, info, &item) {
            let actual = item.ty(&*store);
            let _ = writeln!(
                problems,
                "incompatible import type for `{}::{}`: expected {}, found {actual}",
                import.module(),
                import.name(),
                import.ty()
            );
        }
        imports.push(item);
    }
    if !problems.is_empty() {
        bail!("{}", problems.trim_end());
    }
    Instance::new(store, module, &imports)
}

/// The error of calling a function that
/// [`Linker::define_unknown_imports_as_traps`] defined: the module had no
/// definition for this import.
#[derive(Clone, Debug)]
pub struct UnknownImportError {
    module: String,
    name: String,
    ty: ExternType,
}

impl UnknownImportError {
    /// The module name of the import.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The field name of the import.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The type the module expected.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

impl std::fmt::Display for UnknownImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown import: `{}::{}` has not been defined",
            self.module, self.name
        )
    }
}

impl std::error::Error for UnknownImportError {}
