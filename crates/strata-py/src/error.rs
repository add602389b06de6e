//! How failures become Python exceptions.
//!
//! The exception classes (`WasmtimeError`, `Trap`, `ExitTrap`, `TrapCode`,
//! `Frame`) are plain Python in `strata/_error.py`; this module raises them.
//! A Python exception raised by a host function travels through wasm as a
//! [`HostError`] and is raised again, unchanged, where wasm was entered.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || py.import("strata._error").map(Bound::unbind))
        .map(|m| m.bind(py))
}

fn raise(py: Python<'_>, class: &str, message: String) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let value = errors(py)?.getattr(class)?.call1((message,))?;
        Ok(PyErr::from_value(value))
    };
    make().unwrap_or_else(|e| e)
}

/// A `WasmtimeError` with `message`.
pub(crate) fn wasmtime_error(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| raise(py, "WasmtimeError", message))
}

/// A `WasmtimeError` for an error of the Strata API (not a wasm execution).
pub(crate) fn api_error(e: anyhow::Error) -> PyErr {
    wasmtime_error(format!("{e:#}"))
}

/// A Python exception raised by a host function, on its way through wasm.
#[derive(Debug)]
pub(crate) struct HostError(pub PyErr);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Python exception in a host function: {}", self.0)
    }
}

impl std::error::Error for HostError {}

/// The exception for the failure of a call into wasm (or an
/// instantiation): the host function's own exception, `ExitTrap`, `Trap`,
/// or `WasmtimeError`.
pub(crate) fn from_call(py: Python<'_>, e: anyhow::Error) -> PyErr {
    let e = match e.downcast::<HostError>() {
        Ok(host) => return host.0,
        Err(e) => e,
    };
    if let Some(exit) = e.downcast_ref::<strata_wasi::I32Exit>() {
        let make = || -> PyResult<PyErr> {
            let value = errors(py)?
                .getattr("_exit_trap")?
                .call1((exit.0, format!("Exited with i32 exit status {}", exit.0)))?;
            Ok(PyErr::from_value(value))
        };
        return make().unwrap_or_else(|e| e);
    }
    if let Some(trap) = e.downcast_ref::<strata::Trap>() {
        let backtrace = e.downcast_ref::<strata::WasmBacktrace>();
        let make = || -> PyResult<PyErr> {
            let mut message = format!("wasm trap: {trap}");
            let frames = PyList::empty(py);
            if let Some(bt) = backtrace {
                if !bt.frames().is_empty() {
                    message.push('\n');
                    message.push_str(bt.to_string().trim_end());
                }
                for f in bt.frames() {
                    frames.append((f.func_index(), f.func_name(), f.module_name()))?;
                }
            }
            let code = crate::convert::trap_code(*trap);
            let value = errors(py)?
                .getattr("_trap")?
                .call1((message, code, frames))?;
            Ok(PyErr::from_value(value))
        };
        return make().unwrap_or_else(|e| e);
    }
    raise(py, "WasmtimeError", format!("{e:#}"))
}
