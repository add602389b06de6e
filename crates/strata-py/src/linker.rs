//! `Linker`: instantiation with imports resolved by name.

use crate::config::Engine;
use crate::convert::{self, extern_from_py, extern_to_py};
use crate::error::{api_error, from_call, wasmtime_error};
use crate::func::{Callable, Func, HostFn};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{bare_store, HostData, StoreRef};
use crate::types::FuncType;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::collections::HashMap;

/// Resolves a module's imports by `(module, name)` from host functions,
/// items of a store, instances, and WASI, and instantiates it.
#[pyclass(module = "strata._strata")]
pub struct Linker {
    linker: strata::Linker<HostData>,
    engine: Py<Engine>,
    /// The callables of `define_func`, for the garbage collector.
    callables: Vec<Py<PyAny>>,
    /// The store of each definition that is an item of a store: the
    /// linker may be used with other stores, which must not see them.
    owners: HashMap<(String, String), u64>,
}

impl Linker {
    fn check_owner(&self, store: &StoreRef, module: &str, name: &str) -> PyResult<()> {
        match self.owners.get(&(module.to_string(), name.to_string())) {
            Some(&id) if id != store.id() => Err(wasmtime_error(format!(
                "`{module}::{name}` is defined by an item of another store"
            ))),
            _ => Ok(()),
        }
    }

    fn record(&mut self, module: &str, name: &str, owner: Option<u64>) {
        let key = (module.to_string(), name.to_string());
        match owner {
            Some(id) => self.owners.insert(key, id),
            None => self.owners.remove(&key),
        };
    }

    /// Instantiates `module` in `store` (running wasm without the GIL).
    fn instantiate_in(
        &self,
        py: Python<'_>,
        store: &StoreRef,
        module: &strata::Module,
    ) -> PyResult<strata::Instance> {
        for import in module.imports() {
            self.check_owner(store, import.module(), import.name())?;
        }
        let mut lease = store.lease()?;
        let linker = &self.linker;
        let result = lease.run(py, |s| linker.instantiate(s, module));
        drop(lease);
        result.map_err(|e| from_call(py, e))
    }

    /// The function imports of `module` this linker does not define, with
    /// their types (asked of a scratch store, since definitions that are
    /// host functions materialise in the store that asks).
    fn undefined_funcs(&self, module: &strata::Module) -> Vec<(String, String, strata::FuncType)> {
        let mut scratch = bare_store(self.linker.engine(), None);
        module
            .imports()
            .filter_map(|i| match i.ty() {
                strata::ExternType::Func(ty)
                    if self
                        .linker
                        .get(&mut scratch, i.module(), i.name())
                        .is_none() =>
                {
                    Some((i.module().to_string(), i.name().to_string(), ty))
                }
                _ => None,
            })
            .collect()
    }

    fn define_instance_exports(
        &mut self,
        store: &StoreRef,
        name: &str,
        instance: strata::Instance,
    ) -> PyResult<()> {
        let mut lease = store.lease()?;
        let names: Vec<String> = instance
            .exports(lease.store())
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        self.linker
            .instance(lease.store(), name, instance)
            .map_err(api_error)?;
        for n in names {
            self.record(name, &n, Some(store.id()));
        }
        Ok(())
    }
}

fn module_of<'a>(module: &'a Bound<'_, PyAny>) -> PyResult<&'a strata::Module> {
    Ok(&module
        .cast::<Module>()
        .map_err(|_| PyTypeError::new_err("expected a Module"))?
        .get()
        .module)
}

#[pymethods]
impl Linker {
    /// An empty linker for modules of `engine`.
    #[new]
    fn new(engine: &Bound<'_, PyAny>) -> PyResult<Linker> {
        let engine = engine
            .cast::<Engine>()
            .map_err(|_| PyTypeError::new_err("expected an Engine"))?;
        Ok(Linker {
            linker: strata::Linker::new(&engine.get().engine),
            engine: engine.clone().unbind(),
            callables: Vec::new(),
            owners: HashMap::new(),
        })
    }

    /// The engine of the linker.
    #[getter]
    fn engine(&self, py: Python<'_>) -> Py<Engine> {
        self.engine.clone_ref(py)
    }

    /// Whether a definition may replace an earlier one of the same name
    /// (write-only).
    #[setter]
    fn set_allow_shadowing(&mut self, allow: bool) {
        self.linker.allow_shadowing(allow);
    }

    /// Defines `module::name` as `item` (a `Func`, `Memory`, `Global` or
    /// `Table` of `store`).
    fn define(
        &mut self,
        store: &Bound<'_, PyAny>,
        module: &str,
        name: &str,
        item: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let store = StoreRef::from_py(store)?;
        let ext = extern_from_py(item, &store)?;
        self.linker.define(module, name, ext).map_err(api_error)?;
        self.record(module, name, Some(store.id()));
        Ok(())
    }

    /// Defines `module::name` as a host function of type `ty` calling
    /// `func` (see `Func`), usable in every store.
    #[pyo3(signature = (module, name, ty, func, access_caller=false))]
    fn define_func(
        &mut self,
        py: Python<'_>,
        module: &str,
        name: &str,
        ty: &Bound<'_, PyAny>,
        func: Py<PyAny>,
        access_caller: bool,
    ) -> PyResult<()> {
        let ty = ty
            .cast::<FuncType>()
            .map_err(|_| PyTypeError::new_err("expected a FuncType"))?
            .get()
            .clone();
        if !func.bind(py).is_callable() {
            return Err(PyTypeError::new_err("expected a callable"));
        }
        let host = HostFn {
            callable: Callable::Owned(func.clone_ref(py)),
            results: ty.results.clone(),
            access_caller,
        };
        self.linker
            .func_new(
                module,
                name,
                convert::functype(&ty),
                move |caller, params, results| host.call(caller, params, results),
            )
            .map_err(api_error)?;
        self.callables.push(func);
        self.record(module, name, None);
        Ok(())
    }

    /// Defines every export of `instance` (of `store`) under the module
    /// name `name`.
    fn define_instance(
        &mut self,
        store: &Bound<'_, PyAny>,
        name: &str,
        instance: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let store = StoreRef::from_py(store)?;
        let instance = instance
            .cast::<Instance>()
            .map_err(|_| PyTypeError::new_err("expected an `Instance`"))?;
        store.check(instance.get().store_id, "the instance")?;
        self.define_instance_exports(&store, name, instance.get().instance)
    }

    /// Defines the WASI functions (`wasi_snapshot_preview1` and
    /// `wasi_unstable`); each store gives them the context of its
    /// `Store.set_wasi` (an empty one until then: no arguments, no
    /// environment, empty standard input, discarded output, no files).
    fn define_wasi(&mut self) -> PyResult<()> {
        strata_wasi::add_to_linker(&mut self.linker, |data: &mut HostData| &mut data.wasi)
            .map_err(api_error)?;
        for module in ["wasi_snapshot_preview1", "wasi_unstable"] {
            self.owners.retain(|(m, _), _| m != module);
        }
        Ok(())
    }

    /// Instantiates `module` in `store` and defines its exports under
    /// `name`; a module exporting `_initialize` (a WASI reactor) has it
    /// called first.
    fn define_module(
        &mut self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        name: &str,
        module: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let store = StoreRef::from_py(store)?;
        let module = module_of(module)?;
        let instance = self.instantiate_in(py, &store, module)?;
        let init = {
            let mut lease = store.lease()?;
            instance.get_func(&*lease.store(), "_initialize")
        };
        if let Some(init) = init {
            let mut lease = store.lease()?;
            let result = lease.run(py, |s| init.call(s, &[], &mut []));
            drop(lease);
            result.map_err(|e| from_call(py, e))?;
        }
        self.define_instance_exports(&store, name, instance)
    }

    /// Defines every function import of `module` that this linker does not
    /// define yet as a function that fails when called (raising
    /// `WasmtimeError` that names the import).
    fn define_unknown_imports_as_traps(&mut self, module: &Bound<'_, PyAny>) -> PyResult<()> {
        for (m, n, ty) in self.undefined_funcs(module_of(module)?) {
            let message = format!("unknown import: `{m}::{n}` has not been defined");
            self.linker
                .func_new(&m, &n, ty, move |_, _, _| Err(anyhow::anyhow!("{message}")))
                .map_err(api_error)?;
            self.record(&m, &n, None);
        }
        Ok(())
    }

    /// Defines every function import of `module` that this linker does not
    /// define yet as a function that returns zeros (and null references).
    fn define_unknown_imports_as_default_values(
        &mut self,
        store: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        StoreRef::from_py(store)?;
        for (m, n, ty) in self.undefined_funcs(module_of(module)?) {
            // Results start out as their type's default value.
            self.linker
                .func_new(&m, &n, ty, |_, _, _| Ok(()))
                .map_err(api_error)?;
            self.record(&m, &n, None);
        }
        Ok(())
    }

    /// Instantiates `module` in `store` with its imports taken from this
    /// linker. A missing or mistyped import raises `WasmtimeError` naming
    /// it; a trap in the start function raises `Trap`.
    fn instantiate(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
    ) -> PyResult<Instance> {
        let store = StoreRef::from_py(store)?;
        let instance = self.instantiate_in(py, &store, module_of(module)?)?;
        Ok(Instance::handle(store.id(), instance))
    }

    /// Checks that this linker defines every import of `module` and returns
    /// an `InstancePre` that instantiates it (with the linker's definitions
    /// at that time of instantiation).
    fn instantiate_pre(slf: &Bound<'_, Self>, module: &Bound<'_, PyAny>) -> PyResult<InstancePre> {
        let this = slf.borrow();
        let m = module_of(module)?;
        let mut scratch = bare_store(this.linker.engine(), None);
        let missing: Vec<String> = m
            .imports()
            .filter(|i| {
                this.linker
                    .get(&mut scratch, i.module(), i.name())
                    .is_none()
            })
            .map(|i| {
                format!(
                    "unknown import: `{}::{}` has not been defined",
                    i.module(),
                    i.name()
                )
            })
            .collect();
        if !missing.is_empty() {
            return Err(wasmtime_error(missing.join("\n")));
        }
        Ok(InstancePre {
            linker: slf.clone().unbind(),
            module: module.clone().unbind(),
        })
    }

    /// The default export of the module defined as `name`: its function
    /// named `""` or `_start`, or else a function that does nothing.
    fn get_default(&self, py: Python<'_>, store: &Bound<'_, PyAny>, name: &str) -> PyResult<Func> {
        let store = StoreRef::from_py(store)?;
        for field in ["", "_start"] {
            self.check_owner(&store, name, field)?;
            let mut lease = store.lease()?;
            match self.linker.get(lease.store(), name, field) {
                Some(strata::Extern::Func(f)) => {
                    let ty = f.ty(&*lease.store());
                    return Func::handle(store.id(), f, &ty);
                }
                Some(_) => {
                    return Err(wasmtime_error(format!(
                        "default export `{name}::{field}` is not a function"
                    )))
                }
                None => {}
            }
        }
        let _ = py;
        let mut lease = store.lease()?;
        let ty = strata::FuncType::new([], []);
        let f = strata::Func::new(lease.store(), ty.clone(), |_, _, _| Ok(()));
        Func::handle(store.id(), f, &ty)
    }

    /// The item defined as `module::name`; raises `WasmtimeError` when there
    /// is none.
    fn get(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        module: &str,
        name: &str,
    ) -> PyResult<Py<PyAny>> {
        let store = StoreRef::from_py(store)?;
        self.check_owner(&store, module, name)?;
        let mut lease = store.lease()?;
        match self.linker.get(lease.store(), module, name) {
            Some(ext) => extern_to_py(py, ext, store.id(), lease.store()),
            None => Err(wasmtime_error("item not defined in linker")),
        }
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.engine)?;
        for c in &self.callables {
            visit.call(c)?;
        }
        Ok(())
    }
}

/// A module whose imports a linker was checked to define, ready to be
/// instantiated in any store of the engine.
#[pyclass(frozen, module = "strata._strata")]
pub struct InstancePre {
    linker: Py<Linker>,
    module: Py<PyAny>,
}

#[pymethods]
impl InstancePre {
    /// Instantiates the module in `store`.
    fn instantiate(&self, py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<Instance> {
        self.linker
            .bind(py)
            .borrow()
            .instantiate(py, store, self.module.bind(py))
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.linker)?;
        visit.call(&self.module)
    }
}
