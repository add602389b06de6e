//! The type classes: `ValType`, `FuncType`, `TagType`, `GlobalType`, `Limits`,
//! `TableType`, `MemoryType`, `ImportType`, `ExportType`, and `Val`.
//!
//! They are plain Python-side data; `convert.rs` maps them to and from
//! Strata's types.

use crate::convert::Int;
use crate::error::wasmtime_error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// The kind of a WebAssembly value, as the Python classes record it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum ValKind {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

impl ValKind {
    pub fn name(self) -> &'static str {
        match self {
            ValKind::I32 => "i32",
            ValKind::I64 => "i64",
            ValKind::F32 => "f32",
            ValKind::F64 => "f64",
            ValKind::V128 => "v128",
            ValKind::FuncRef => "funcref",
            ValKind::ExternRef => "externref",
        }
    }
}

/// The type of a WebAssembly value. Create one with `ValType.i32()`,
/// `ValType.i64()`, `ValType.f32()`, `ValType.f64()`, `ValType.funcref()`
/// or `ValType.externref()`.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ValType {
    pub(crate) kind: ValKind,
}

#[pymethods]
impl ValType {
    /// The 32-bit integer type.
    #[staticmethod]
    fn i32() -> ValType {
        ValType { kind: ValKind::I32 }
    }
    /// The 64-bit integer type.
    #[staticmethod]
    fn i64() -> ValType {
        ValType { kind: ValKind::I64 }
    }
    /// The 32-bit float type.
    #[staticmethod]
    fn f32() -> ValType {
        ValType { kind: ValKind::F32 }
    }
    /// The 64-bit float type.
    #[staticmethod]
    fn f64() -> ValType {
        ValType { kind: ValKind::F64 }
    }
    /// The 128-bit vector type (needs `Config.wasm_simd`).
    #[staticmethod]
    fn v128() -> ValType {
        ValType {
            kind: ValKind::V128,
        }
    }
    /// The nullable function reference type.
    #[staticmethod]
    fn funcref() -> ValType {
        ValType {
            kind: ValKind::FuncRef,
        }
    }
    /// The nullable host reference type.
    #[staticmethod]
    fn externref() -> ValType {
        ValType {
            kind: ValKind::ExternRef,
        }
    }

    fn __str__(&self) -> &'static str {
        self.kind.name()
    }

    fn __repr__(&self) -> String {
        format!("ValType.{}()", self.kind.name())
    }
}

pub(crate) fn valtypes(py: Python<'_>, kinds: &[ValKind]) -> PyResult<Vec<Py<ValType>>> {
    kinds
        .iter()
        .map(|&kind| Py::new(py, ValType { kind }))
        .collect()
}

fn kinds_from(list: &Bound<'_, PyAny>) -> PyResult<Vec<ValKind>> {
    let mut kinds = Vec::new();
    for item in list.try_iter()? {
        let item = item?;
        let ty = item
            .cast::<ValType>()
            .map_err(|_| PyTypeError::new_err("expected ValType"))?;
        kinds.push(ty.get().kind);
    }
    Ok(kinds)
}

fn list_str(kinds: &[ValKind]) -> String {
    kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(" ")
}

/// The type of a function: its parameter and result types.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub(crate) params: Vec<ValKind>,
    pub(crate) results: Vec<ValKind>,
}

#[pymethods]
impl FuncType {
    /// A function type from lists of `ValType`s.
    #[new]
    fn new(params: &Bound<'_, PyAny>, results: &Bound<'_, PyAny>) -> PyResult<FuncType> {
        Ok(FuncType {
            params: kinds_from(params)?,
            results: kinds_from(results)?,
        })
    }

    /// The parameter types.
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<Vec<Py<ValType>>> {
        valtypes(py, &self.params)
    }

    /// The result types.
    #[getter]
    fn results(&self, py: Python<'_>) -> PyResult<Vec<Py<ValType>>> {
        valtypes(py, &self.results)
    }

    fn __repr__(&self) -> String {
        self.describe()
    }
}

impl FuncType {
    pub(crate) fn describe(&self) -> String {
        format!(
            "FuncType([{}], [{}])",
            list_str(&self.params),
            list_str(&self.results)
        )
    }
}

/// The type of an exception tag: the types of the payload an exception
/// of the tag carries. wasmtime-py has no tag classes; these follow the
/// Rust API's `TagType`.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TagType {
    pub(crate) params: Vec<ValKind>,
}

#[pymethods]
impl TagType {
    /// A tag type whose exceptions carry values of the `ValType`s listed.
    #[new]
    fn new(params: &Bound<'_, PyAny>) -> PyResult<TagType> {
        Ok(TagType {
            params: kinds_from(params)?,
        })
    }

    /// The payload's types.
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<Vec<Py<ValType>>> {
        valtypes(py, &self.params)
    }

    fn __repr__(&self) -> String {
        format!("TagType([{}])", list_str(&self.params))
    }
}

/// The type of a global: its content type and whether it is mutable.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub(crate) content: ValKind,
    pub(crate) mutable: bool,
}

#[pymethods]
impl GlobalType {
    /// A global type holding `valtype`, writable when `mutable`.
    #[new]
    fn new(valtype: &Bound<'_, ValType>, mutable: bool) -> GlobalType {
        GlobalType {
            content: valtype.get().kind,
            mutable,
        }
    }

    /// The type of the value the global holds.
    #[getter]
    fn content(&self) -> ValType {
        ValType { kind: self.content }
    }

    /// Whether the global can be written.
    #[getter]
    fn mutable(&self) -> bool {
        self.mutable
    }

    fn __repr__(&self) -> String {
        format!(
            "GlobalType(ValType.{}(), {})",
            self.content.name(),
            if self.mutable { "True" } else { "False" }
        )
    }
}

/// Size limits of a table (in elements) or memory (in pages): a minimum and
/// an optional maximum.
#[pyclass(module = "strata._strata")]
#[derive(Clone)]
pub struct Limits {
    /// The minimum size.
    #[pyo3(get, set)]
    pub min: u64,
    /// The maximum size, or `None` for no maximum.
    #[pyo3(get, set)]
    pub max: Option<u64>,
}

#[pymethods]
impl Limits {
    /// Limits from `min` to `max` (`None`: unbounded).
    #[new]
    #[pyo3(signature = (min, max=None))]
    fn new(min: Int<u64>, max: Option<Int<u64>>) -> Limits {
        Limits {
            min: min.0,
            max: max.map(|m| m.0),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<Limits>() {
            Ok(o) => {
                let o = o.borrow();
                o.min == self.min && o.max == self.max
            }
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        match self.max {
            Some(max) => format!("Limits({}, {max})", self.min),
            None => format!("Limits({}, None)", self.min),
        }
    }
}

fn limits_of(obj: &Bound<'_, PyAny>) -> PyResult<(u64, Option<u64>)> {
    let limits = obj
        .cast::<Limits>()
        .map_err(|_| PyTypeError::new_err("expected Limits"))?
        .borrow();
    Ok((limits.min, limits.max))
}

/// The type of a table: its element type and limits.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TableType {
    pub(crate) element: ValKind,
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
}

#[pymethods]
impl TableType {
    /// A table type of `valtype` elements (a reference type) within
    /// `limits`.
    #[new]
    fn new(valtype: &Bound<'_, ValType>, limits: &Bound<'_, PyAny>) -> PyResult<TableType> {
        let element = valtype.get().kind;
        if !matches!(element, ValKind::FuncRef | ValKind::ExternRef) {
            return Err(wasmtime_error(format!(
                "table elements must be references, not {}",
                element.name()
            )));
        }
        let (min, max) = limits_of(limits)?;
        Ok(TableType { element, min, max })
    }

    /// The element type.
    #[getter]
    fn element(&self) -> ValType {
        ValType { kind: self.element }
    }

    /// The size limits, in elements.
    #[getter]
    fn limits(&self) -> Limits {
        Limits {
            min: self.min,
            max: self.max,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "TableType(ValType.{}(), {})",
            self.element.name(),
            self.limits().__repr__()
        )
    }
}

/// The type of a linear memory: its limits in 64 KiB pages.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
    pub(crate) is_64: bool,
    pub(crate) shared: bool,
}

#[pymethods]
impl MemoryType {
    /// A memory type within `limits` (pages). Strata creates 32-bit,
    /// unshared memories only; `is_64` and `shared` describe the types of
    /// memories modules declare.
    #[new]
    #[pyo3(signature = (limits, is_64=false, shared=false, page_size_log2=16))]
    fn new(
        limits: &Bound<'_, PyAny>,
        is_64: bool,
        shared: bool,
        page_size_log2: u32,
    ) -> PyResult<MemoryType> {
        if page_size_log2 != 16 {
            return Err(wasmtime_error(
                "Strata supports 64 KiB pages only (page_size_log2=16)",
            ));
        }
        let (min, max) = limits_of(limits)?;
        let bound: u128 = if is_64 { 1 << 64 } else { 1 << 32 };
        if u128::from(min) >= bound {
            return Err(wasmtime_error("minimum size too large"));
        }
        if max.is_some_and(|m| u128::from(m) >= bound) {
            return Err(wasmtime_error("maximum size too large"));
        }
        Ok(MemoryType {
            min,
            max,
            is_64,
            shared,
        })
    }

    /// The size limits, in pages.
    #[getter]
    fn limits(&self) -> Limits {
        Limits {
            min: self.min,
            max: self.max,
        }
    }

    /// Whether addresses are 64-bit.
    #[getter]
    fn is_64(&self) -> bool {
        self.is_64
    }

    /// Whether the memory is shared between threads.
    #[getter]
    fn is_shared(&self) -> bool {
        self.shared
    }

    /// Bytes per page (always 65536).
    #[getter]
    fn page_size(&self) -> u64 {
        strata::WASM_PAGE_SIZE
    }

    /// The base-2 logarithm of `page_size` (always 16).
    #[getter]
    fn page_size_log2(&self) -> u32 {
        16
    }

    fn __repr__(&self) -> String {
        format!("MemoryType({})", self.limits().__repr__())
    }
}

/// One import of a module: where it comes from and its type.
#[pyclass(frozen, module = "strata._strata")]
pub struct ImportType {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) ty: Py<PyAny>,
}

#[pymethods]
impl ImportType {
    /// The module name the import comes from.
    #[getter]
    fn module(&self) -> &str {
        &self.module
    }

    /// The name of the import within its module.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The type the import must have: a `FuncType`, `GlobalType`,
    /// `TableType` or `MemoryType`.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> Py<PyAny> {
        self.ty.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ImportType({:?}, {:?}, {})",
            self.module,
            self.name,
            self.ty.bind(py).repr()?
        ))
    }
}

/// One export of a module: its name and type.
#[pyclass(frozen, module = "strata._strata")]
pub struct ExportType {
    pub(crate) name: String,
    pub(crate) ty: Py<PyAny>,
}

#[pymethods]
impl ExportType {
    /// The export's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The exported item's type.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> Py<PyAny> {
        self.ty.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ExportType({:?}, {})",
            self.name,
            self.ty.bind(py).repr()?
        ))
    }
}

/// A WebAssembly value with its type, for when a plain Python value would
/// be ambiguous. Functions accept plain values or `Val`s.
#[pyclass(frozen, module = "strata._strata")]
pub struct Val {
    pub(crate) kind: ValKind,
    /// The Python form: an `int`, a `float`, a `Func`, any object (for
    /// `externref`), or `None` for a null reference.
    pub(crate) value: Py<PyAny>,
}

#[pymethods]
impl Val {
    /// An `i32`; `val` may be signed or unsigned and is stored signed.
    #[staticmethod]
    fn i32(py: Python<'_>, val: &Bound<'_, PyAny>) -> PyResult<Val> {
        let v = crate::convert::int_arg(val, ValKind::I32)? as i32;
        Ok(Val {
            kind: ValKind::I32,
            value: v.into_pyobject(py)?.into_any().unbind(),
        })
    }
    /// An `i64`; `val` may be signed or unsigned and is stored signed.
    #[staticmethod]
    fn i64(py: Python<'_>, val: &Bound<'_, PyAny>) -> PyResult<Val> {
        let v = crate::convert::int_arg(val, ValKind::I64)?;
        Ok(Val {
            kind: ValKind::I64,
            value: v.into_pyobject(py)?.into_any().unbind(),
        })
    }
    /// An `f32` (rounded to single precision).
    #[staticmethod]
    fn f32(py: Python<'_>, val: &Bound<'_, PyAny>) -> PyResult<Val> {
        let v = crate::convert::float_arg(val)? as f32;
        Ok(Val {
            kind: ValKind::F32,
            value: f64::from(v).into_pyobject(py)?.into_any().unbind(),
        })
    }
    /// An `f64`.
    #[staticmethod]
    fn f64(py: Python<'_>, val: &Bound<'_, PyAny>) -> PyResult<Val> {
        let v = crate::convert::float_arg(val)?;
        Ok(Val {
            kind: ValKind::F64,
            value: v.into_pyobject(py)?.into_any().unbind(),
        })
    }
    /// An `externref` to any Python object (`None`: the null reference).
    #[staticmethod]
    fn externref(val: Py<PyAny>) -> Val {
        Val {
            kind: ValKind::ExternRef,
            value: val,
        }
    }
    /// A `funcref` to `f`, a `Func` (`None`: the null reference).
    #[staticmethod]
    fn funcref(f: &Bound<'_, PyAny>) -> PyResult<Val> {
        if !f.is_none() && f.cast::<crate::func::Func>().is_err() {
            return Err(PyTypeError::new_err("expected a Func or None"));
        }
        Ok(Val {
            kind: ValKind::FuncRef,
            value: f.clone().unbind(),
        })
    }
    /// The null reference of reference type `ty`.
    #[staticmethod]
    fn ref_null(py: Python<'_>, ty: &Bound<'_, ValType>) -> PyResult<Val> {
        match ty.get().kind {
            kind @ (ValKind::FuncRef | ValKind::ExternRef) => Ok(Val {
                kind,
                value: py.None(),
            }),
            other => Err(wasmtime_error(format!(
                "Invalid reference type for `ref_null`: {}",
                other.name()
            ))),
        }
    }

    /// The value as a plain Python object.
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.clone_ref(py)
    }

    /// The value's type.
    #[getter]
    fn r#type(&self) -> ValType {
        ValType { kind: self.kind }
    }

    /// The `i32`, or `None` for another type.
    fn as_i32(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::I32).then(|| self.value.clone_ref(py))
    }
    /// The `i64`, or `None` for another type.
    fn as_i64(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::I64).then(|| self.value.clone_ref(py))
    }
    /// The `f32`, or `None` for another type.
    fn as_f32(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::F32).then(|| self.value.clone_ref(py))
    }
    /// The `f64`, or `None` for another type.
    fn as_f64(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::F64).then(|| self.value.clone_ref(py))
    }
    /// The referenced object, or `None` for another type or null.
    fn as_externref(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::ExternRef).then(|| self.value.clone_ref(py))
    }
    /// The referenced `Func`, or `None` for another type or null.
    fn as_funcref(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        (self.kind == ValKind::FuncRef && !self.value.is_none(py)).then(|| self.value.clone_ref(py))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = other.py();
        match other.cast::<Val>() {
            Ok(o) => {
                let o = o.get();
                Ok(o.kind == self.kind && self.value.bind(py).eq(o.value.bind(py))?)
            }
            Err(_) => self.value.bind(py).eq(other),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Val.{}({})",
            self.kind.name(),
            self.value.bind(py).repr()?
        ))
    }
}

/// A Python list of the given objects (for results with several values).
pub(crate) fn list(py: Python<'_>, items: Vec<Py<PyAny>>) -> PyResult<Py<PyAny>> {
    Ok(PyList::new(py, items)?.into_any().unbind())
}
