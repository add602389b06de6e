//! The native half of the `strata` Python package (`strata._strata`).
//!
//! The package follows wasmtime-py's API, so `import strata as wasmtime`
//! runs wasmtime-py code for the common subset. The Python half
//! (`python/strata/`) re-exports these classes and defines the exception
//! classes; see README.md for the layout, and `store.rs` for how Python
//! reaches a store safely while wasm runs without the GIL.

use pyo3::prelude::*;

mod config;
mod convert;
mod error;
mod externals;
mod func;
mod instance;
mod linker;
mod module;
mod store;
mod types;
mod wasi;

pub use config::{Config, Engine};
pub use externals::{Global, Memory, Table, Tag};
pub use func::Func;
pub use instance::{Instance, InstanceExports};
pub use linker::{InstancePre, Linker};
pub use module::Module;
pub use store::{Caller, Store};
pub use types::{
    ExportType, FuncType, GlobalType, ImportType, Limits, MemoryType, TableType, TagType, Val,
    ValType,
};
pub use wasi::WasiConfig;

#[pymodule]
fn _strata(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Config>()?;
    m.add_class::<Engine>()?;
    m.add_class::<Store>()?;
    m.add_class::<Caller>()?;
    m.add_class::<Module>()?;
    m.add_class::<Instance>()?;
    m.add_class::<InstanceExports>()?;
    m.add_class::<Func>()?;
    m.add_class::<Memory>()?;
    m.add_class::<Global>()?;
    m.add_class::<Table>()?;
    m.add_class::<Tag>()?;
    m.add_class::<Linker>()?;
    m.add_class::<InstancePre>()?;
    m.add_class::<WasiConfig>()?;
    m.add_class::<ValType>()?;
    m.add_class::<FuncType>()?;
    m.add_class::<GlobalType>()?;
    m.add_class::<TagType>()?;
    m.add_class::<Limits>()?;
    m.add_class::<TableType>()?;
    m.add_class::<MemoryType>()?;
    m.add_class::<ImportType>()?;
    m.add_class::<ExportType>()?;
    m.add_class::<Val>()?;
    m.add_function(wrap_pyfunction!(module::wat2wasm, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
