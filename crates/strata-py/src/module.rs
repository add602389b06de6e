//! `Module` and `wat2wasm`.
//!
//! `Module.serialize` writes Strata's ahead-of-time artifact (a checked
//! header, the binary and the compiled code, as `strata compile` and the C
//! API write) when the engine compiles; an interpreting engine compiles
//! nothing, so there it writes a 16-byte header and the binary (the C API's
//! interpreter form). `Module.deserialize` reads both forms: an artifact
//! loads without compiling, and a damaged, truncated or mismatched one
//! raises `WasmtimeError`.

use crate::config::Engine;
use crate::convert;
use crate::error::wasmtime_error;
use crate::types::{ExportType, ImportType};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::sync::Arc;

/// The header of a serialized module (the C API's `SERIALIZED_MAGIC`).
const SERIALIZED_MAGIC: &[u8; 16] = b"\0strata-module\x01\0";

/// The binary form of `wasm`: a text module (`str`, or bytes that do not
/// start with the binary magic) or a binary module (`bytes`, `bytearray`).
fn to_binary(wasm: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let wat_error = |e: wat::Error| wasmtime_error(e.to_string());
    if let Ok(text) = wasm.cast::<PyString>() {
        return wat::parse_str(text.to_cow()?).map_err(wat_error);
    }
    let bytes = if let Ok(b) = wasm.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(b) = wasm.cast::<PyByteArray>() {
        b.to_vec()
    } else {
        return Err(PyTypeError::new_err("expected wasm bytes or a str of text"));
    };
    Ok(wat::parse_bytes(&bytes).map_err(wat_error)?.into_owned())
}

fn engine_of(engine: &Bound<'_, PyAny>) -> PyResult<strata::Engine> {
    Ok(engine
        .cast::<Engine>()
        .map_err(|_| PyTypeError::new_err("expected an Engine"))?
        .get()
        .engine
        .clone())
}

fn read_path(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let path: std::path::PathBuf = py
        .import("os")?
        .getattr("fspath")?
        .call1((path,))?
        .extract()?;
    std::fs::read(&path)
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// A compiled WebAssembly module, ready to instantiate in any store of its
/// engine.
#[pyclass(frozen, module = "strata._strata")]
pub struct Module {
    pub(crate) module: strata::Module,
    bytes: Arc<[u8]>,
}

impl Module {
    fn compile(py: Python<'_>, engine: strata::Engine, binary: Vec<u8>) -> PyResult<Module> {
        let module = py
            .detach(|| strata::Module::from_binary(&engine, &binary))
            .map_err(|e| wasmtime_error(format!("{e:#}")))?;
        Ok(Module {
            module,
            bytes: binary.into(),
        })
    }
}

#[pymethods]
impl Module {
    /// Compiles `wasm` (binary, or text as `str`) for `engine`. Raises
    /// `WasmtimeError` when it does not parse or validate.
    #[new]
    fn new(py: Python<'_>, engine: &Bound<'_, PyAny>, wasm: &Bound<'_, PyAny>) -> PyResult<Module> {
        let engine = engine_of(engine)?;
        Module::compile(py, engine, to_binary(wasm)?)
    }

    /// Compiles the module in the file at `path` (`.wasm` or `.wat`).
    #[staticmethod]
    fn from_file(
        py: Python<'_>,
        engine: &Bound<'_, PyAny>,
        path: &Bound<'_, PyAny>,
    ) -> PyResult<Module> {
        let engine = engine_of(engine)?;
        let bytes = read_path(py, path)?;
        let binary = wat::parse_bytes(&bytes)
            .map_err(|e| wasmtime_error(e.to_string()))?
            .into_owned();
        Module::compile(py, engine, binary)
    }

    /// Checks that `wasm` is a valid module for `engine` without compiling
    /// it; raises `WasmtimeError` when it is not.
    #[staticmethod]
    fn validate(
        py: Python<'_>,
        engine: &Bound<'_, PyAny>,
        wasm: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let engine = engine_of(engine)?;
        let binary = to_binary(wasm)?;
        py.detach(|| strata::Module::validate(&engine, &binary))
            .map_err(|e| wasmtime_error(format!("{e:#}")))
    }

    /// The module's imports, in order.
    #[getter]
    fn imports(&self, py: Python<'_>) -> PyResult<Vec<ImportType>> {
        self.module
            .imports()
            .map(|i| convert::import_type(py, &i))
            .collect()
    }

    /// The module's exports, in order.
    #[getter]
    fn exports(&self, py: Python<'_>) -> PyResult<Vec<ExportType>> {
        self.module
            .exports()
            .map(|e| convert::export_type(py, &e))
            .collect()
    }

    /// The module's name from its name section, if any.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.module.name()
    }

    /// The module as bytes for `Module.deserialize`: its ahead-of-time
    /// artifact, or under an interpreting engine a header and the binary.
    fn serialize(&self, py: Python<'_>) -> PyResult<Py<PyByteArray>> {
        let out = if self.module.engine().tier().compiles() {
            py.detach(|| self.module.serialize())
                .map_err(|e| wasmtime_error(format!("{e:#}")))?
        } else {
            let mut out = SERIALIZED_MAGIC.to_vec();
            out.extend_from_slice(&self.bytes);
            out
        };
        Ok(PyByteArray::new(py, &out).unbind())
    }

    /// Compiles what `Module.serialize` produced; raises `WasmtimeError`
    /// for anything else.
    #[staticmethod]
    fn deserialize(
        py: Python<'_>,
        engine: &Bound<'_, PyAny>,
        encoded: &Bound<'_, PyAny>,
    ) -> PyResult<Module> {
        let engine = engine_of(engine)?;
        let bytes = if let Ok(b) = encoded.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = encoded.cast::<PyByteArray>() {
            b.to_vec()
        } else {
            return Err(PyTypeError::new_err("expected bytes"));
        };
        Module::from_serialized(py, engine, &bytes)
    }

    /// `Module.deserialize` of the contents of the file at `path`.
    #[staticmethod]
    fn deserialize_file(
        py: Python<'_>,
        engine: &Bound<'_, PyAny>,
        path: &Bound<'_, PyAny>,
    ) -> PyResult<Module> {
        let engine = engine_of(engine)?;
        let bytes = read_path(py, path)?;
        Module::from_serialized(py, engine, &bytes)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Ends a `with` block. The module is freed when it is garbage-collected
    /// (nothing is mapped from a file, so there is nothing to release now).
    fn __exit__(
        &self,
        _ty: Option<&Bound<'_, PyAny>>,
        _value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) {
    }

    fn __repr__(&self) -> String {
        match self.module.name() {
            Some(name) => format!("<Module {name}>"),
            None => "<Module>".to_string(),
        }
    }
}

impl Module {
    fn from_serialized(py: Python<'_>, engine: strata::Engine, bytes: &[u8]) -> PyResult<Module> {
        if let Some(binary) = bytes.strip_prefix(SERIALIZED_MAGIC) {
            return Module::compile(py, engine, binary.to_vec());
        }
        if !strata::Module::is_precompiled(bytes) {
            return Err(wasmtime_error(
                "not a serialized Strata module (the header is missing)",
            ));
        }
        // SAFETY: like wasmtime-py's `Module.deserialize`, this loads what
        // `Module.serialize` produced, which the caller vouches for; the
        // artifact's header, checksum and settings are checked before use.
        let module = py
            .detach(|| unsafe { strata::Module::deserialize(&engine, bytes) })
            .map_err(|e| wasmtime_error(format!("{e:#}")))?;
        let binary: Arc<[u8]> = module.binary().into();
        Ok(Module {
            module,
            bytes: binary,
        })
    }
}

/// Converts the WebAssembly text format to the binary format; raises
/// `WasmtimeError` when the text does not parse.
#[pyfunction]
pub(crate) fn wat2wasm(py: Python<'_>, wat: &Bound<'_, PyAny>) -> PyResult<Py<PyByteArray>> {
    let binary = if let Ok(text) = wat.cast::<PyString>() {
        wat::parse_str(text.to_cow()?)
    } else if let Ok(b) = wat.cast::<PyBytes>() {
        wat::parse_bytes(b.as_bytes()).map(|b| b.into_owned())
    } else {
        return Err(PyTypeError::new_err("expected a str or bytes"));
    }
    .map_err(|e| wasmtime_error(e.to_string()))?;
    Ok(PyByteArray::new(py, &binary).unbind())
}
