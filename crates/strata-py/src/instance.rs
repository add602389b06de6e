//! `Instance` and its exports.

use crate::convert::{extern_from_py, extern_to_py};
use crate::error::from_call;
use crate::module::Module;
use crate::store::StoreRef;
use pyo3::exceptions::{PyIndexError, PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString, PyTuple};
use std::collections::HashMap;

/// An instantiated module, living in a store.
#[pyclass(frozen, module = "strata._strata")]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) instance: strata::Instance,
    exports: PyOnceLock<Py<InstanceExports>>,
}

impl Instance {
    pub(crate) fn handle(store_id: u64, instance: strata::Instance) -> Instance {
        Instance {
            store_id,
            instance,
            exports: PyOnceLock::new(),
        }
    }
}

#[pymethods]
impl Instance {
    /// Instantiates `module` in `store` with `imports` (a sequence of
    /// `Func`, `Memory`, `Global` and `Table`, in the order of
    /// `module.imports`), running its start function. A trap raises `Trap`.
    #[new]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        imports: &Bound<'_, PyAny>,
    ) -> PyResult<Instance> {
        let store = StoreRef::from_py(store)?;
        let module = module
            .cast::<Module>()
            .map_err(|_| PyTypeError::new_err("expected a Module"))?;
        let mut externs = Vec::new();
        for item in imports.try_iter()? {
            externs.push(extern_from_py(&item?, &store)?);
        }
        let module = &module.get().module;
        let mut lease = store.lease()?;
        let result = lease.run(py, |s| strata::Instance::new(s, module, &externs));
        drop(lease);
        let instance = result.map_err(|e| from_call(py, e))?;
        Ok(Instance::handle(store.id(), instance))
    }

    /// The instance's exports: a mapping from names to `Func`, `Memory`,
    /// `Global` and `Table` objects that also accepts an index
    /// (`exports[0]`, or `exports.by_index[0]`).
    fn exports(&self, py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<Py<InstanceExports>> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the instance")?;
        let exports = self.exports.get_or_try_init(py, || {
            let mut lease = store.lease()?;
            let list: Vec<(String, strata::Extern)> = self
                .instance
                .exports(lease.store())
                .into_iter()
                .map(|(n, e)| (n.to_string(), e))
                .collect();
            let mut names = Vec::with_capacity(list.len());
            let mut items = Vec::with_capacity(list.len());
            for (name, ext) in list {
                items.push(extern_to_py(py, ext, store.id(), lease.store())?);
                names.push(name);
            }
            let index = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
            Py::new(
                py,
                InstanceExports {
                    names,
                    items,
                    index,
                },
            )
        })?;
        Ok(exports.clone_ref(py))
    }
}

/// The exports of an instance, by name (a read-only mapping) and by index.
#[pyclass(frozen, module = "strata._strata")]
pub struct InstanceExports {
    names: Vec<String>,
    items: Vec<Py<PyAny>>,
    index: HashMap<String, usize>,
}

impl InstanceExports {
    fn lookup(&self, py: Python<'_>, name: &str) -> Option<Py<PyAny>> {
        self.index.get(name).map(|&i| self.items[i].clone_ref(py))
    }
}

#[pymethods]
impl InstanceExports {
    /// The export called `key` (a `str`), or the export at position `key`
    /// (an `int`, negative counting from the end).
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(name) = key.cast::<PyString>() {
            let name = name.to_cow()?;
            return self
                .lookup(py, &name)
                .ok_or_else(|| PyKeyError::new_err(name.to_string()));
        }
        if key.cast::<pyo3::types::PyInt>().is_err() {
            return Err(PyTypeError::new_err(
                "export keys are names (str) or positions (int)",
            ));
        }
        let i: isize = key
            .extract()
            .map_err(|_| PyIndexError::new_err("export index out of range"))?;
        let len = self.items.len() as isize;
        let j = if i < 0 { i + len } else { i };
        if !(0..len).contains(&j) {
            return Err(PyIndexError::new_err("export index out of range"));
        }
        Ok(self.items[j as usize].clone_ref(py))
    }

    /// The export called `name`, or `default`.
    #[pyo3(signature = (name, default=None))]
    fn get(&self, py: Python<'_>, name: &str, default: Option<Py<PyAny>>) -> Py<PyAny> {
        self.lookup(py, name)
            .or(default)
            .unwrap_or_else(|| py.None())
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        key.extract::<String>()
            .is_ok_and(|name| self.index.contains_key(&name))
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(PyList::new(py, &self.names)?
            .try_iter()?
            .into_any()
            .unbind())
    }

    /// The export names, in order.
    fn keys(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The exported items, in order.
    fn values(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        self.items.iter().map(|i| i.clone_ref(py)).collect()
    }

    /// `(name, item)` pairs, in order.
    fn items(&self, py: Python<'_>) -> Vec<(String, Py<PyAny>)> {
        self.names
            .iter()
            .cloned()
            .zip(self.items.iter().map(|i| i.clone_ref(py)))
            .collect()
    }

    /// The exported items as a tuple, in order.
    #[getter]
    fn by_index(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, self.items.iter().map(|i| i.clone_ref(py)))?.unbind())
    }
}
