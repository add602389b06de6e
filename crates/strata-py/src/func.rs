//! `Func`: calling wasm from Python, and Python callables as host functions.

use crate::convert::{self, val_to_py, value_from_py, Value};
use crate::error::{from_call, wasmtime_error, HostError};
use crate::store::{Caller, HostData, RCaller, StoreRef};
use crate::types::{list, FuncType, ValKind};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::panic::AssertUnwindSafe;
use strata::{AsContext, AsContextMut};

/// A WebAssembly function, exported by an instance or defined by the host.
/// Call it as `func(store, *params)`: parameters are plain Python values
/// (or `Val`s); the result is `None`, one value, or a list of values.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) func: strata::Func,
    pub(crate) ty: FuncType,
}

impl PartialEq for Func {
    fn eq(&self, other: &Func) -> bool {
        self.store_id == other.store_id && self.func == other.func
    }
}
impl Eq for Func {}
impl std::hash::Hash for Func {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.store_id.hash(state);
        self.func.hash(state);
    }
}

impl Func {
    /// The Python handle of `func`, which has type `ty`, in store `store_id`.
    pub(crate) fn handle(
        store_id: u64,
        func: strata::Func,
        ty: &strata::FuncType,
    ) -> PyResult<Func> {
        Ok(Func {
            store_id,
            func,
            ty: convert::functype_from(ty)?,
        })
    }
}

#[pymethods]
impl Func {
    /// Defines a host function of type `ty` in `store` that calls `func`
    /// with the parameters as plain Python values (preceded by a `Caller`
    /// when `access_caller` is true). `func` returns `None`, one value, or
    /// a sequence of values; an exception it raises propagates, unchanged,
    /// through wasm to the code that called into wasm.
    #[new]
    #[pyo3(signature = (store, ty, func, access_caller=false))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        ty: &Bound<'_, PyAny>,
        func: Py<PyAny>,
        access_caller: bool,
    ) -> PyResult<Func> {
        let store = StoreRef::from_py(store)?;
        let ty = ty
            .cast::<FuncType>()
            .map_err(|_| PyTypeError::new_err("expected a FuncType"))?
            .get()
            .clone();
        if !func.bind(py).is_callable() {
            return Err(PyTypeError::new_err("expected a callable"));
        }
        let rty = convert::functype(&ty);
        let mut lease = store.lease()?;
        let objects = &mut lease.store().data_mut().objects;
        objects.push(func);
        let host = HostFn {
            callable: Callable::Store(objects.len() - 1),
            results: ty.results.clone(),
            access_caller,
        };
        let func = strata::Func::new(lease.store(), rty, move |caller, params, results| {
            host.call(caller, params, results)
        });
        Ok(Func {
            store_id: store.id(),
            func,
            ty,
        })
    }

    /// The function's type.
    fn r#type(&self, store: &Bound<'_, PyAny>) -> PyResult<FuncType> {
        StoreRef::from_py(store)?.check(self.store_id, "the function")?;
        Ok(self.ty.clone())
    }

    /// The number of parameters.
    #[getter]
    fn param_arity(&self) -> usize {
        self.ty.params.len()
    }

    /// The number of results.
    #[getter]
    fn result_arity(&self) -> usize {
        self.ty.results.len()
    }

    /// Calls the function in `store` (the GIL is released while wasm runs).
    /// A trap raises `Trap`; `proc_exit` raises `ExitTrap`; an exception
    /// raised by a host function on the way is raised again as it was.
    #[pyo3(signature = (store, *params))]
    fn __call__(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        params: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the function")?;
        let expected = self.ty.params.len();
        let given = params.len();
        if given != expected {
            let which = if given > expected { "many" } else { "few" };
            return Err(wasmtime_error(format!(
                "too {which} parameters provided: given {given}, expected {expected}"
            )));
        }
        let mut values = Vec::with_capacity(given);
        for (param, kind) in params.iter().zip(&self.ty.params) {
            values.push(value_from_py(&param, *kind)?);
        }
        let id = store.id();
        let mut lease = store.lease()?;
        let args = values
            .into_iter()
            .map(|v| v.into_val(lease.store(), id))
            .collect::<PyResult<Vec<_>>>()?;
        let mut results = convert::result_slots(self.ty.results.len());
        let func = self.func;
        if let Err(e) = lease.run(py, |s| func.call(s, &args, &mut results)) {
            drop(lease);
            return Err(from_call(py, e));
        }
        let store = lease.store();
        match results.len() {
            0 => Ok(py.None()),
            1 => val_to_py(py, results[0], store, id),
            _ => {
                let items = results
                    .into_iter()
                    .map(|v| val_to_py(py, v, store, id))
                    .collect::<PyResult<Vec<_>>>()?;
                list(py, items)
            }
        }
    }

    fn __repr__(&self) -> String {
        format!("<Func {}>", self.ty.describe())
    }
}

/// Where a host function finds its Python callable.
pub(crate) enum Callable {
    /// In `HostData::objects` of the store (functions made with `Func`).
    Store(usize),
    /// Here (functions a `Linker` defines for any store).
    Owned(Py<PyAny>),
}

/// A Python callable as a host function.
pub(crate) struct HostFn {
    pub callable: Callable,
    pub results: Vec<ValKind>,
    pub access_caller: bool,
}

impl HostFn {
    /// The host function body: runs the callable with the GIL, publishing
    /// the caller so Python code can reach the store meanwhile.
    pub fn call(
        &self,
        mut caller: strata::Caller<'_, HostData>,
        params: &[strata::Val],
        results: &mut [strata::Val],
    ) -> anyhow::Result<()> {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            Python::attach(|py| self.call_attached(py, &mut caller, params, results))
        }));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::new(HostError(e))),
            Err(_) => Err(anyhow::anyhow!("internal error: a host function panicked")),
        }
    }

    fn call_attached(
        &self,
        py: Python<'_>,
        caller: &mut strata::Caller<'_, HostData>,
        params: &[strata::Val],
        results: &mut [strata::Val],
    ) -> PyResult<()> {
        let cell = caller
            .data()
            .cell
            .upgrade()
            .ok_or_else(|| wasmtime_error("the store is gone"))?;
        let id = cell.id;
        let callable = match &self.callable {
            Callable::Owned(c) => c.clone_ref(py),
            Callable::Store(i) => caller
                .data()
                .objects
                .get(*i)
                .map(|c| c.clone_ref(py))
                .ok_or_else(|| wasmtime_error("the host function was cleared"))?,
        };
        let mut args = Vec::with_capacity(params.len() + 1);
        let store = caller.as_context();
        for p in params {
            args.push(val_to_py(py, *p, store, id)?);
        }
        let level =
            cell.push_caller((caller as *mut strata::Caller<'_, HostData>).cast::<RCaller>());
        if self.access_caller {
            let handle = Caller {
                cell: cell.clone(),
                token: level.token,
            };
            args.insert(0, Py::new(py, handle)?.into_any());
        }
        let ret = callable.bind(py).call1(PyTuple::new(py, args)?)?;
        let values = self.results_from(&ret)?;
        drop(level);
        for (slot, v) in results.iter_mut().zip(values) {
            *slot = v.into_val(caller.as_context_mut(), id)?;
        }
        Ok(())
    }

    /// The callable's return value as values of the result types.
    fn results_from(&self, ret: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
        match self.results.as_slice() {
            [] if ret.is_none() => Ok(Vec::new()),
            [] => Err(wasmtime_error(
                "callback produced results when it shouldn't",
            )),
            [kind] => Ok(vec![value_from_py(ret, *kind)?]),
            kinds => {
                if ret.len().is_err() {
                    return Err(PyTypeError::new_err(format!(
                        "a callback with {} results must return a sequence of them",
                        kinds.len()
                    )));
                }
                let items = ret.try_iter()?.collect::<PyResult<Vec<_>>>()?;
                if items.len() != kinds.len() {
                    return Err(wasmtime_error("callback produced wrong number of results"));
                }
                items
                    .iter()
                    .zip(kinds)
                    .map(|(item, kind)| value_from_py(item, *kind))
                    .collect()
            }
        }
    }
}
