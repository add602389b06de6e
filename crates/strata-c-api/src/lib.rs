//! The standard WebAssembly C API (`wasm.h`) for Strata, plus the
//! `strata.h` extensions (fuel, epochs, `.wat` input, error messages).
//!
//! The headers live in `include/`; `cargo build --release -p strata-c-api`
//! produces `libstrata_c_api.so` and `libstrata_c_api.a`. Every function is
//! an `extern "C"` wrapper over the public `strata` API.
//!
//! # Object model
//!
//! - Every runtime object (`wasm_func_t`, `wasm_global_t`, `wasm_table_t`,
//!   `wasm_memory_t`, `wasm_extern_t`, `wasm_instance_t`, `wasm_foreign_t`,
//!   `wasm_module_t`, `wasm_trap_t`) is a [`wasm_ref_t`] underneath, so the
//!   `as_ref`/`ref_as_*` and `*_as_extern`/`extern_as_*` conversions are
//!   checked pointer casts.
//! - Objects that live in a store keep the store alive through a reference
//!   count ([`store::StoreCtx`]); deleting a `wasm_store_t` while objects of
//!   it are still alive is therefore memory-safe.
//! - Type objects (`wasm_functype_t`, ...) are all a `wasm_externtype_t`
//!   underneath, for the same reason.
//!
//! # Safety
//!
//! `unsafe` is confined to `vec.rs` (vector memory C sees), `val.rs` (the
//! value union and the references values own), `ref.rs` and `types.rs`
//! (checked casts between `#[repr(transparent)]` wrapper types, generated
//! by their macros), `store.rs` (the store shared between C objects and
//! host calls) and `func.rs` (calling C callbacks and taking back the traps
//! they return); every block carries a `SAFETY:` comment. Pointer
//! parameters that C may pass as null are `Option<&T>` in the Rust
//! signatures, so a null is checked rather than dereferenced, and the
//! longer operations (compiling, instantiating, calling) run under
//! `catch_unwind` as a last-resort guard.

#![allow(non_camel_case_types)]
#![warn(missing_docs)]

pub mod engine;
pub mod exn;
pub mod r#extern;
pub mod func;
pub mod gc;
pub mod global;
pub mod instance;
pub mod memory;
pub mod module;
pub mod r#ref;
pub mod store;
pub mod strata;
pub mod table;
pub mod tag;
pub mod trap;
pub mod types;
pub mod val;
pub mod vec;

pub use engine::{wasm_config_t, wasm_engine_t};
pub use func::wasm_func_t;
pub use global::wasm_global_t;
pub use instance::wasm_instance_t;
pub use memory::wasm_memory_t;
pub use module::{wasm_module_t, wasm_shared_module_t};
pub use r#extern::wasm_extern_t;
pub use r#ref::{wasm_foreign_t, wasm_ref_t};
pub use store::wasm_store_t;
pub use table::wasm_table_t;
pub use tag::wasm_tag_t;
pub use trap::{wasm_frame_t, wasm_trap_t};
pub use types::{
    wasm_exporttype_t, wasm_externtype_t, wasm_functype_t, wasm_globaltype_t, wasm_importtype_t,
    wasm_limits_t, wasm_memorytype_t, wasm_tabletype_t, wasm_tagtype_t, wasm_valtype_t,
};
pub use val::wasm_val_t;
pub use vec::*;

/// Runs `f`, turning a panic (a bug, never expected) into `None` so that it
/// does not unwind into C. A last-resort guard only.
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}
