//! `Memory`, `Global`, `Table` and `Tag` handles.

use crate::convert::{self, val_to_py, value_from_py, Int};
use crate::error::{api_error, wasmtime_error};
use crate::store::StoreRef;
use crate::types::{GlobalType, MemoryType, TableType, TagType, ValKind};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

/// A linear memory. Its bytes are reached with `read` and `write` (or, as
/// in wasmtime-py, the raw `data_ptr`, which stays valid while the store
/// lives: Strata never moves a memory, it grows in place).
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) mem: strata::Memory,
}

impl Memory {
    fn store(&self, store: &Bound<'_, PyAny>) -> PyResult<StoreRef> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the memory")?;
        Ok(store)
    }

    /// The address of the first byte and the length in bytes.
    fn span(&self, store: &Bound<'_, PyAny>) -> PyResult<(usize, usize)> {
        let mut lease = self.store(store)?.lease()?;
        let data = self.mem.data(&*lease.store());
        Ok((data.as_ptr() as usize, data.len()))
    }
}

/// `index` of a sequence of `len` items, Python slice style: negative
/// counts from the end, and the result is clamped to `0..=len`.
fn slice_index(index: i64, len: usize) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if index < 0 {
        index.saturating_add(len_i).max(0)
    } else {
        index.min(len_i)
    };
    i as usize
}

#[pymethods]
impl Memory {
    /// Creates a memory of type `ty` in `store`.
    #[new]
    fn new(store: &Bound<'_, PyAny>, ty: &Bound<'_, PyAny>) -> PyResult<Memory> {
        let store = StoreRef::from_py(store)?;
        let ty = ty
            .cast::<MemoryType>()
            .map_err(|_| PyTypeError::new_err("expected a MemoryType"))?;
        let ty = convert::memorytype(ty.get())?;
        let mut lease = store.lease()?;
        let mem = strata::Memory::new(lease.store(), ty).map_err(api_error)?;
        Ok(Memory {
            store_id: store.id(),
            mem,
        })
    }

    /// The memory's type, with its current size as the minimum.
    fn r#type(&self, store: &Bound<'_, PyAny>) -> PyResult<MemoryType> {
        let mut lease = self.store(store)?.lease()?;
        Ok(convert::memorytype_from(&self.mem.ty(&*lease.store())))
    }

    /// Grows the memory by `delta` pages; returns the previous size in
    /// pages. Raises `WasmtimeError` when it cannot grow.
    fn grow(&self, store: &Bound<'_, PyAny>, delta: Int<i64>) -> PyResult<u64> {
        let delta =
            u64::try_from(delta.0).map_err(|_| wasmtime_error("cannot grow by negative amount"))?;
        let mut lease = self.store(store)?.lease()?;
        self.mem.grow(lease.store(), delta).map_err(api_error)
    }

    /// The size in pages.
    fn size(&self, store: &Bound<'_, PyAny>) -> PyResult<u64> {
        let mut lease = self.store(store)?.lease()?;
        Ok(self.mem.size(&*lease.store()))
    }

    /// The size in bytes.
    fn data_len(&self, store: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut lease = self.store(store)?.lease()?;
        Ok(self.mem.data_size(&*lease.store()))
    }

    /// Bytes per page (always 65536).
    fn page_size(&self, store: &Bound<'_, PyAny>) -> PyResult<u64> {
        self.store(store)?;
        Ok(strata::WASM_PAGE_SIZE)
    }

    /// The base-2 logarithm of `page_size` (always 16).
    fn page_size_log2(&self, store: &Bound<'_, PyAny>) -> PyResult<u32> {
        self.store(store)?;
        Ok(16)
    }

    /// A `ctypes` pointer to the first byte. Unchecked: stay below
    /// `data_len`, and do not use it after the store is gone.
    fn data_ptr(&self, py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (addr, _) = self.span(store)?;
        let ctypes = py.import("ctypes")?;
        let ptr_type = ctypes
            .getattr("POINTER")?
            .call1((ctypes.getattr("c_ubyte")?,))?;
        Ok(ctypes.getattr("cast")?.call1((addr, ptr_type))?.unbind())
    }

    /// A `ctypes` array of `size` bytes (default: to the end) starting at
    /// `offset`, sharing the memory's bytes (for `numpy.frombuffer` and
    /// the like). Raises `ValueError` when the range is out of bounds.
    #[pyo3(signature = (store, size=None, offset=Int(0)))]
    #[pyo3(text_signature = "(self, store, size=None, offset=0)")]
    fn get_buffer_ptr(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        size: Option<Int<usize>>,
        offset: Int<usize>,
    ) -> PyResult<Py<PyAny>> {
        let (size, offset) = (size.map(|s| s.0), offset.0);
        let (addr, len) = self.span(store)?;
        let size = size.unwrap_or(len.saturating_sub(offset));
        if offset.checked_add(size).is_none_or(|end| end > len) {
            return Err(PyValueError::new_err(format!(
                "{size} bytes at offset {offset} are outside the memory's {len} bytes"
            )));
        }
        let ctypes = py.import("ctypes")?;
        let array = ctypes.getattr("c_ubyte")?.mul(size)?;
        Ok(array
            .call_method1("from_address", (addr + offset,))?
            .unbind())
    }

    /// A copy of the bytes from `start` up to `stop` as a `bytearray`,
    /// indexed like `list[start:stop]` (negative values count from the
    /// end; the range is clamped to the memory).
    #[pyo3(signature = (store, start=None, stop=None))]
    fn read(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        start: Option<Int<i64>>,
        stop: Option<Int<i64>>,
    ) -> PyResult<Py<PyByteArray>> {
        let (start, stop) = (start.map(|s| s.0), stop.map(|s| s.0));
        let mut lease = self.store(store)?.lease()?;
        let data = self.mem.data(&*lease.store());
        let start = slice_index(start.unwrap_or(0), data.len());
        let stop = stop.map_or(data.len(), |s| slice_index(s, data.len()));
        let bytes = if start < stop {
            &data[start..stop]
        } else {
            &[][..]
        };
        Ok(PyByteArray::new(py, bytes).unbind())
    }

    /// Writes `value` (bytes-like) at `start` (default 0; negative counts
    /// from the end); returns the number of bytes written. Raises
    /// `IndexError` when it does not fit.
    #[pyo3(signature = (store, value, start=None))]
    fn write(
        &self,
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        start: Option<Int<i64>>,
    ) -> PyResult<usize> {
        let start = start.map(|s| s.0);
        let bytes: Vec<u8> = if let Ok(b) = value.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = value.cast::<PyByteArray>() {
            b.to_vec()
        } else {
            let converted = py
                .import("builtins")?
                .getattr("bytearray")?
                .call1((value,))
                .map_err(|_| PyTypeError::new_err("expected a bytes-like value"))?;
            converted.cast::<PyByteArray>()?.to_vec()
        };
        let mut lease = self.store(store)?.lease()?;
        let len = self.mem.data_size(&*lease.store()) as i64;
        let mut start = start.unwrap_or(0);
        if start < 0 {
            start += len;
        }
        if start < 0 || start.saturating_add(bytes.len() as i64) > len {
            return Err(PyIndexError::new_err("index out of range"));
        }
        self.mem
            .write(lease.store(), start as usize, &bytes)
            .map_err(api_error)?;
        Ok(bytes.len())
    }
}

/// A global variable.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) global: strata::Global,
    pub(crate) ty: GlobalType,
}

#[pymethods]
impl Global {
    /// Creates a global of type `ty` in `store` holding `val`.
    #[new]
    fn new(
        store: &Bound<'_, PyAny>,
        ty: &Bound<'_, PyAny>,
        val: &Bound<'_, PyAny>,
    ) -> PyResult<Global> {
        let store = StoreRef::from_py(store)?;
        let ty = ty
            .cast::<GlobalType>()
            .map_err(|_| PyTypeError::new_err("expected a GlobalType"))?
            .get()
            .clone();
        let value = value_from_py(val, ty.content)?;
        let mut lease = store.lease()?;
        let val = value.into_val(lease.store(), store.id())?;
        let global =
            strata::Global::new(lease.store(), convert::globaltype(&ty), val).map_err(api_error)?;
        Ok(Global {
            store_id: store.id(),
            global,
            ty,
        })
    }

    /// The global's type.
    fn r#type(&self, store: &Bound<'_, PyAny>) -> PyResult<GlobalType> {
        StoreRef::from_py(store)?.check(self.store_id, "the global")?;
        Ok(self.ty.clone())
    }

    /// The current value, as a plain Python value.
    fn value(&self, py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the global")?;
        let mut lease = store.lease()?;
        let val = self.global.get(&*lease.store());
        val_to_py(py, val, lease.store(), store.id())
    }

    /// Writes a mutable global; raises `WasmtimeError` for an immutable one.
    fn set_value(&self, store: &Bound<'_, PyAny>, val: &Bound<'_, PyAny>) -> PyResult<()> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the global")?;
        let value = value_from_py(val, self.ty.content)?;
        let mut lease = store.lease()?;
        let val = value.into_val(lease.store(), store.id())?;
        self.global.set(lease.store(), val).map_err(api_error)
    }
}

/// A table of references.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) table: strata::Table,
    pub(crate) element: ValKind,
}

impl Table {
    fn store(&self, store: &Bound<'_, PyAny>) -> PyResult<StoreRef> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the table")?;
        Ok(store)
    }
}

#[pymethods]
impl Table {
    /// Creates a table of type `ty` in `store`, every element `init`.
    #[new]
    fn new(
        store: &Bound<'_, PyAny>,
        ty: &Bound<'_, PyAny>,
        init: &Bound<'_, PyAny>,
    ) -> PyResult<Table> {
        let store = StoreRef::from_py(store)?;
        let ty = ty
            .cast::<TableType>()
            .map_err(|_| PyTypeError::new_err("expected a TableType"))?
            .get()
            .clone();
        let value = value_from_py(init, ty.element)?;
        let rty = convert::tabletype(&ty)?;
        let mut lease = store.lease()?;
        let init = value.into_val(lease.store(), store.id())?;
        let table = strata::Table::new(lease.store(), rty, init).map_err(api_error)?;
        Ok(Table {
            store_id: store.id(),
            table,
            element: ty.element,
        })
    }

    /// The table's type, with its current size as the minimum.
    fn r#type(&self, store: &Bound<'_, PyAny>) -> PyResult<TableType> {
        let mut lease = self.store(store)?.lease()?;
        convert::tabletype_from(&self.table.ty(&*lease.store()))
    }

    /// The size in elements.
    fn size(&self, store: &Bound<'_, PyAny>) -> PyResult<u64> {
        let mut lease = self.store(store)?.lease()?;
        Ok(self.table.size(&*lease.store()))
    }

    /// Grows the table by `amt` elements set to `init`; returns the previous
    /// size. Raises `WasmtimeError` when it cannot grow.
    fn grow(
        &self,
        store: &Bound<'_, PyAny>,
        amt: Int<u64>,
        init: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        let store = self.store(store)?;
        let value = value_from_py(init, self.element)?;
        let mut lease = store.lease()?;
        let init = value.into_val(lease.store(), store.id())?;
        self.table
            .grow(lease.store(), amt.0, init)
            .map_err(api_error)
    }

    /// The element at `idx` (a `Func`, the referenced object, or `None` for
    /// a null reference), or `None` when `idx` is out of bounds.
    fn get(&self, py: Python<'_>, store: &Bound<'_, PyAny>, idx: Int<u64>) -> PyResult<Py<PyAny>> {
        let store = self.store(store)?;
        let mut lease = store.lease()?;
        match self.table.get(&*lease.store(), idx.0) {
            Some(val) => val_to_py(py, val, lease.store(), store.id()),
            None => Ok(py.None()),
        }
    }

    /// Writes the element at `idx`; raises `WasmtimeError` when `idx` is out
    /// of bounds.
    fn set(&self, store: &Bound<'_, PyAny>, idx: Int<u64>, val: &Bound<'_, PyAny>) -> PyResult<()> {
        let store = self.store(store)?;
        let value = value_from_py(val, self.element)?;
        let mut lease = store.lease()?;
        let val = value.into_val(lease.store(), store.id())?;
        self.table.set(lease.store(), idx.0, val).map_err(api_error)
    }
}

/// An exception tag: a module's export, or one made here to satisfy a
/// tag import. Two tags are the same tag only if they are the same object
/// of the store (equal types are not enough), as in WebAssembly.
#[pyclass(frozen, eq, hash, module = "strata._strata")]
#[derive(PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store_id: u64,
    pub(crate) tag: strata::Tag,
}

#[pymethods]
impl Tag {
    /// Creates a new tag of type `ty` in `store`.
    #[new]
    fn new(store: &Bound<'_, PyAny>, ty: &Bound<'_, PyAny>) -> PyResult<Tag> {
        let store = StoreRef::from_py(store)?;
        let ty = ty
            .cast::<TagType>()
            .map_err(|_| PyTypeError::new_err("expected a TagType"))?;
        let ty = convert::tagtype(ty.get());
        let mut lease = store.lease()?;
        let tag = strata::Tag::new(lease.store(), &ty).map_err(api_error)?;
        Ok(Tag {
            store_id: store.id(),
            tag,
        })
    }

    /// The tag's type.
    fn r#type(&self, store: &Bound<'_, PyAny>) -> PyResult<TagType> {
        let store = StoreRef::from_py(store)?;
        store.check(self.store_id, "the tag")?;
        let mut lease = store.lease()?;
        convert::tagtype_from(&self.tag.ty(&*lease.store()))
    }
}
