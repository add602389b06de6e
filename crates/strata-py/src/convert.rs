//! Every conversion between Python and Strata types and values.
//!
//! This is the only module that names Strata's `ValType`, `Val`, the other
//! type structs and `Trap` kinds, so that changes in those Rust types are
//! adapted here alone. Value types are compared with `==`, never matched,
//! so that a new or renamed variant needs no new match arm elsewhere.

use crate::error::wasmtime_error;
use crate::externals::{Global, Memory, Table, Tag};
use crate::func::Func;
use crate::store::{RStore, StoreRef};
use crate::types::{
    ExportType, FuncType, GlobalType, ImportType, MemoryType, TableType, TagType, Val, ValKind,
};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};
use strata::{AsContext, AsContextMut, Extern, ExternType, Mutability};

const KINDS: [(ValKind, strata::ValType); 7] = [
    (ValKind::I32, strata::ValType::I32),
    (ValKind::I64, strata::ValType::I64),
    (ValKind::F32, strata::ValType::F32),
    (ValKind::F64, strata::ValType::F64),
    (ValKind::V128, strata::ValType::V128),
    (ValKind::FuncRef, strata::ValType::FUNCREF),
    (ValKind::ExternRef, strata::ValType::EXTERNREF),
];

/// Strata's type for a Python-side value kind.
pub(crate) fn valtype(kind: ValKind) -> strata::ValType {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .expect("every ValKind has a Strata type")
}

/// The Python-side kind of a Strata value type; an error for types the
/// Python API cannot represent.
pub(crate) fn valkind(ty: strata::ValType) -> PyResult<ValKind> {
    // Typed references are the Python kinds of their hierarchies.
    if let strata::ValType::Ref(r) = ty {
        match r.heap_type().top() {
            strata::HeapType::Func => return Ok(ValKind::FuncRef),
            strata::HeapType::Extern => return Ok(ValKind::ExternRef),
            _ => {}
        }
    }
    KINDS
        .iter()
        .find(|(_, t)| *t == ty)
        .map(|(k, _)| *k)
        .ok_or_else(|| wasmtime_error(format!("the value type {ty} is not supported in Python")))
}

fn valkinds(types: &[strata::ValType]) -> PyResult<Vec<ValKind>> {
    types.iter().map(|t| valkind(*t)).collect()
}

pub(crate) fn functype(ty: &FuncType) -> strata::FuncType {
    strata::FuncType::new(
        ty.params.iter().map(|k| valtype(*k)),
        ty.results.iter().map(|k| valtype(*k)),
    )
}

pub(crate) fn functype_from(ty: &strata::FuncType) -> PyResult<FuncType> {
    Ok(FuncType {
        params: valkinds(ty.params())?,
        results: valkinds(ty.results())?,
    })
}

pub(crate) fn globaltype(ty: &GlobalType) -> strata::GlobalType {
    let mutability = if ty.mutable {
        Mutability::Var
    } else {
        Mutability::Const
    };
    strata::GlobalType::new(valtype(ty.content), mutability)
}

pub(crate) fn globaltype_from(ty: &strata::GlobalType) -> PyResult<GlobalType> {
    Ok(GlobalType {
        content: valkind(ty.content())?,
        mutable: ty.mutability() == Mutability::Var,
    })
}

fn limit32(n: u64, what: &str) -> PyResult<u32> {
    u32::try_from(n).map_err(|_| wasmtime_error(format!("{what} {n} is too large")))
}

pub(crate) fn tabletype(ty: &TableType) -> PyResult<strata::TableType> {
    let max = ty.max.map(|m| limit32(m, "table maximum")).transpose()?;
    let element = valtype(ty.element)
        .as_ref()
        .ok_or_else(|| wasmtime_error("a table's element type must be a reference type"))?;
    Ok(strata::TableType::new(
        element,
        limit32(ty.min, "table minimum")?,
        max,
    ))
}

pub(crate) fn tabletype_from(ty: &strata::TableType) -> PyResult<TableType> {
    Ok(TableType {
        element: valkind(strata::ValType::Ref(ty.element()))?,
        min: ty.minimum(),
        max: ty.maximum(),
    })
}

pub(crate) fn memorytype(ty: &MemoryType) -> PyResult<strata::MemoryType> {
    if ty.is_64 || ty.shared {
        return Err(wasmtime_error(
            "Strata creates 32-bit unshared memories only (memory64 and threads are not implemented)",
        ));
    }
    let max = ty.max.map(|m| limit32(m, "memory maximum")).transpose()?;
    Ok(strata::MemoryType::new(
        limit32(ty.min, "memory minimum")?,
        max,
    ))
}

pub(crate) fn memorytype_from(ty: &strata::MemoryType) -> MemoryType {
    MemoryType {
        min: ty.minimum(),
        max: ty.maximum(),
        is_64: ty.is_64(),
        shared: ty.is_shared(),
    }
}

pub(crate) fn tagtype(ty: &TagType) -> strata::TagType {
    strata::TagType::new(strata::FuncType::new(
        ty.params.iter().map(|k| valtype(*k)),
        [],
    ))
}

pub(crate) fn tagtype_from(ty: &strata::TagType) -> PyResult<TagType> {
    Ok(TagType {
        params: valkinds(ty.ty().params())?,
    })
}

/// The Python type object (`FuncType`, ...) of an import or export.
pub(crate) fn externtype(py: Python<'_>, ty: &ExternType) -> PyResult<Py<PyAny>> {
    Ok(match ty {
        ExternType::Func(t) => Py::new(py, functype_from(t)?)?.into_any(),
        ExternType::Global(t) => Py::new(py, globaltype_from(t)?)?.into_any(),
        ExternType::Table(t) => Py::new(py, tabletype_from(t)?)?.into_any(),
        ExternType::Memory(t) => Py::new(py, memorytype_from(t))?.into_any(),
        ExternType::Tag(t) => Py::new(py, tagtype_from(t)?)?.into_any(),
    })
}

pub(crate) fn import_type(py: Python<'_>, i: &strata::ImportType<'_>) -> PyResult<ImportType> {
    Ok(ImportType {
        module: i.module().to_string(),
        name: i.name().to_string(),
        ty: externtype(py, &i.ty())?,
    })
}

pub(crate) fn export_type(py: Python<'_>, e: &strata::ExportType<'_>) -> PyResult<ExportType> {
    Ok(ExportType {
        name: e.name().to_string(),
        ty: externtype(py, &e.ty())?,
    })
}

/// A Python integer as a value of `kind` (`I32` or `I64`), accepting the
/// signed and the unsigned range and wrapping to signed.
pub(crate) fn int_arg(obj: &Bound<'_, PyAny>, kind: ValKind) -> PyResult<i64> {
    let py = obj.py();
    let not_int = || -> PyErr {
        let name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!(
            "expected an integer for {}, got {name}",
            kind.name()
        ))
    };
    let out_of_range = || -> PyErr {
        let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
        PyValueError::new_err(format!("integer {text} out of range for {}", kind.name()))
    };
    if obj.is_instance_of::<PyFloat>() {
        return Err(not_int());
    }
    let v = match obj.extract::<i64>() {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => match obj.extract::<u64>() {
            Ok(u) if kind == ValKind::I64 => u as i64,
            _ => return Err(out_of_range()),
        },
        Err(_) => return Err(not_int()),
    };
    if kind == ValKind::I32 {
        if !(-(1i64 << 31)..(1i64 << 32)).contains(&v) {
            return Err(out_of_range());
        }
        return Ok(i64::from(v as u32 as i32));
    }
    Ok(v)
}

/// A Python number as a float.
pub(crate) fn float_arg(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if !obj.is_instance_of::<PyFloat>() && !obj.is_instance_of::<PyInt>() {
        return obj.extract::<f64>().map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a float, got {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        });
    }
    obj.extract::<f64>()
}

/// A value converted from Python, not yet placed in a store (references
/// need the store). Converting never runs Python code once this exists.
pub(crate) enum Value {
    Plain(strata::Val),
    Func(u64, strata::Func),
    Extern(Py<PyAny>),
}

/// Converts `obj` (a plain Python value or a `Val`) to a value of `kind`.
pub(crate) fn value_from_py(obj: &Bound<'_, PyAny>, kind: ValKind) -> PyResult<Value> {
    if let Ok(val) = obj.cast::<Val>() {
        let val = val.get();
        if val.kind != kind {
            return Err(PyTypeError::new_err(format!(
                "wrong type of `Val` provided: {} where {} is expected",
                val.kind.name(),
                kind.name()
            )));
        }
        return value_from_py(val.value.bind(obj.py()), kind);
    }
    let mismatch = || -> PyErr {
        let repr = obj.repr().map(|r| r.to_string()).unwrap_or_default();
        PyTypeError::new_err(format!(
            "don't know how to convert {repr} to {}",
            kind.name()
        ))
    };
    Ok(match kind {
        ValKind::I32 => Value::Plain(strata::Val::I32(int_arg(obj, kind)? as i32)),
        ValKind::I64 => Value::Plain(strata::Val::I64(int_arg(obj, kind)?)),
        ValKind::F32 => Value::Plain(strata::Val::F32((float_arg(obj)? as f32).to_bits())),
        ValKind::F64 => Value::Plain(strata::Val::F64(float_arg(obj)?.to_bits())),
        ValKind::V128 => {
            let v: u128 = obj.extract().map_err(|_| mismatch())?;
            Value::Plain(strata::Val::V128(v))
        }
        ValKind::FuncRef => {
            if obj.is_none() {
                Value::Plain(strata::Val::FuncRef(None))
            } else {
                let f = obj.cast::<Func>().map_err(|_| mismatch())?.get();
                Value::Func(f.store_id, f.func)
            }
        }
        ValKind::ExternRef => {
            if obj.is_none() {
                Value::Plain(strata::Val::ExternRef(None))
            } else {
                Value::Extern(obj.clone().unbind())
            }
        }
    })
}

/// Room for `n` results of a call (`Func::call` overwrites them).
pub(crate) fn result_slots(n: usize) -> Vec<strata::Val> {
    vec![strata::Val::I32(0); n]
}

/// Where an `externref` created from Python keeps its object: an index
/// into `HostData::objects`.
struct ExternSlot(usize);

impl Value {
    /// The Strata value, with references placed in `store`.
    pub fn into_val(self, store: &mut RStore, store_id: u64) -> PyResult<strata::Val> {
        Ok(match self {
            Value::Plain(v) => v,
            Value::Func(id, f) => {
                if id != store_id {
                    return Err(wasmtime_error(
                        "a function of another store cannot be passed to this one",
                    ));
                }
                strata::Val::FuncRef(Some(f))
            }
            Value::Extern(obj) => {
                let objects = &mut store.data_mut().objects;
                objects.push(obj);
                let slot = ExternSlot(objects.len() - 1);
                let r = strata::ExternRef::new(store.as_context_mut(), slot)
                    .map_err(|e| wasmtime_error(e.to_string()))?;
                strata::Val::ExternRef(Some(r))
            }
        })
    }
}

/// The Python form of a value read from `store` (`store_id` tags the
/// handles made for function references).
pub(crate) fn val_to_py(
    py: Python<'_>,
    val: strata::Val,
    store: &RStore,
    store_id: u64,
) -> PyResult<Py<PyAny>> {
    Ok(match val {
        strata::Val::I32(v) => v.into_pyobject(py)?.into_any().unbind(),
        strata::Val::I64(v) => v.into_pyobject(py)?.into_any().unbind(),
        strata::Val::F32(bits) => f64::from(f32::from_bits(bits))
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        strata::Val::F64(bits) => f64::from_bits(bits).into_pyobject(py)?.into_any().unbind(),
        strata::Val::V128(v) => v.into_pyobject(py)?.into_any().unbind(),
        strata::Val::FuncRef(None)
        | strata::Val::ExternRef(None)
        | strata::Val::AnyRef(None)
        | strata::Val::ExnRef(None) => py.None(),
        strata::Val::AnyRef(Some(_)) | strata::Val::ExnRef(Some(_)) => {
            return Err(wasmtime_error(
                "GC and exception references are not supported in Python yet",
            ))
        }
        strata::Val::FuncRef(Some(f)) => {
            let ty = f.ty(store);
            Py::new(py, Func::handle(store_id, f, &ty)?)?.into_any()
        }
        strata::Val::ExternRef(Some(r)) => {
            let slot = r
                .data(store.as_context())
                .and_then(|d| d.downcast_ref::<ExternSlot>())
                .and_then(|slot| store.data().objects.get(slot.0));
            match slot {
                Some(obj) => obj.clone_ref(py),
                None => return Err(wasmtime_error("externref from an unknown source")),
            }
        }
    })
}

/// The Python handle for an export or import.
pub(crate) fn extern_to_py(
    py: Python<'_>,
    ext: Extern,
    store_id: u64,
    store: &mut RStore,
) -> PyResult<Py<PyAny>> {
    Ok(match ext {
        Extern::Func(f) => {
            let ty = f.ty(&*store);
            Py::new(py, Func::handle(store_id, f, &ty)?)?.into_any()
        }
        Extern::Memory(m) => Py::new(py, Memory { store_id, mem: m })?.into_any(),
        Extern::Tag(tag) => Py::new(py, Tag { store_id, tag })?.into_any(),
        Extern::SharedMemory(_) => {
            return Err(PyTypeError::new_err(
                "shared memories (the threads proposal) are not supported by the Python API",
            ))
        }
        Extern::Global(g) => {
            let ty = globaltype_from(&g.ty(&*store))?;
            Py::new(
                py,
                Global {
                    store_id,
                    global: g,
                    ty,
                },
            )?
            .into_any()
        }
        Extern::Table(t) => {
            let element = valkind(strata::ValType::Ref(t.ty(&*store).element()))?;
            Py::new(
                py,
                Table {
                    store_id,
                    table: t,
                    element,
                },
            )?
            .into_any()
        }
    })
}

/// The Strata item for a Python `Func`, `Memory`, `Global` or `Table`,
/// checked to belong to `store`.
pub(crate) fn extern_from_py(obj: &Bound<'_, PyAny>, store: &StoreRef) -> PyResult<Extern> {
    let (id, ext) = if let Ok(f) = obj.cast::<Func>() {
        (f.get().store_id, Extern::Func(f.get().func))
    } else if let Ok(m) = obj.cast::<Memory>() {
        (m.get().store_id, Extern::Memory(m.get().mem))
    } else if let Ok(g) = obj.cast::<Global>() {
        (g.get().store_id, Extern::Global(g.get().global))
    } else if let Ok(t) = obj.cast::<Table>() {
        (t.get().store_id, Extern::Table(t.get().table))
    } else if let Ok(t) = obj.cast::<Tag>() {
        (t.get().store_id, Extern::Tag(t.get().tag))
    } else {
        return Err(PyTypeError::new_err(format!(
            "expected a Func, Global, Memory, Table or Tag, got {}",
            obj.get_type().name()?
        )));
    };
    store.check(id, "the item")?;
    Ok(ext)
}

/// wasmtime's `TrapCode` number for a trap kind (`None` for kinds it has
/// no number for).
pub(crate) fn trap_code(trap: strata::Trap) -> Option<u8> {
    use strata::Trap as T;
    Some(match trap {
        T::StackOverflow => 0,
        T::MemoryOutOfBounds => 1,
        T::TableOutOfBounds => 3,
        T::IndirectCallToNull => 4,
        T::BadSignature => 5,
        T::IntegerOverflow => 6,
        T::IntegerDivisionByZero => 7,
        T::BadConversionToInteger => 8,
        T::UnreachableCodeReached => 9,
        T::Interrupt => 10,
        T::OutOfFuel => 11,
        T::NullReference => 13,
        _ => return None,
    })
}

/// An integer argument whose overflow is a `ValueError` (Python's own
/// conversions raise `OverflowError`, which is not one).
pub(crate) struct Int<T>(pub T);

impl<'a, 'py, T> FromPyObject<'a, 'py> for Int<T>
where
    T: FromPyObject<'a, 'py>,
    T::Error: Into<PyErr>,
{
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<T>() {
            Ok(v) => Ok(Int(v)),
            Err(e) => {
                let e: PyErr = e.into();
                if e.is_instance_of::<PyOverflowError>(obj.py()) {
                    Err(PyValueError::new_err(format!(
                        "integer {} is out of range",
                        &*obj
                    )))
                } else {
                    Err(e)
                }
            }
        }
    }
}
