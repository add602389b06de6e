//! Strata: a WebAssembly runtime.
//!
//! Strata loads WebAssembly modules (binary `.wasm` or text `.wat`),
//! validates them, and runs them in one of two tiers over the same runtime
//! layout: an interpreter that needs no executable memory, or a JIT that
//! compiles to native code with Cranelift, or both, tiered ([`Tier`]). Its embedding API
//! follows wasmtime's vocabulary, so code written against one reads
//! naturally against the other.
//!
//! # Example
//!
//! ```
//! use strata::{Engine, Linker, Module, Store};
//!
//! # fn main() -> anyhow::Result<()> {
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"
//!     (module
//!       (import "host" "log" (func $log (param i32)))
//!       (func (export "double_and_log") (param i32) (result i32)
//!         (call $log (local.get 0))
//!         (i32.mul (local.get 0) (i32.const 2))))
//! "#)?;
//!
//! // Host state lives in the store; host functions reach it through `Caller`.
//! let mut store = Store::new(&engine, Vec::<i32>::new());
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "log", |mut caller: strata::Caller<'_, Vec<i32>>, x: i32| {
//!     caller.data_mut().push(x);
//! })?;
//!
//! let instance = linker.instantiate(&mut store, &module)?;
//! let double = instance.get_typed_func::<i32, i32>(&mut store, "double_and_log")?;
//! assert_eq!(double.call(&mut store, 21)?, 42);
//! assert_eq!(store.data(), &[21]);
//! # Ok(())
//! # }
//! ```
//!
//! # Core concepts
//!
//! - [`Engine`] holds the [`Config`]: the execution [`Tier`], the enabled
//!   WebAssembly features, stack limits. Share one engine across threads.
//! - [`Module`] is a validated module: compiled to native code when it is
//!   loaded with the JIT tier (or taken from the compile cache,
//!   [`Config::cache`], on by default); with the interpreter, each function
//!   is translated to bytecode on its first call; with tiered execution
//!   (the default), interpreted first and compiled once it is hot. Create
//!   it once and instantiate it many times. [`Engine::precompile_module`]
//!   and [`Module::serialize`] write its compiled code as an ahead-of-time
//!   artifact, which [`Module::deserialize`] loads without compiling.
//! - [`Store`] owns all runtime state — instances, memories, tables,
//!   globals, functions — plus your own data `T`, and moves between threads
//!   when `T` does. Handles such as [`Func`] and [`Memory`] are only
//!   meaningful together with their store: given another store, a method
//!   fails, or panics where it cannot fail (see [`Store`]).
//! - [`Linker`] resolves imports by name from host functions
//!   ([`Linker::func_wrap`]) and from other instances' exports.
//! - [`Instance`] gives access to a module's exports.
//! - [`Func`] calls into wasm with [`Val`]s; [`TypedFunc`] does so with Rust
//!   types and no conversions; [`Func::wrap`] turns a Rust closure into a
//!   host function, and [`Caller`] lets it reach the calling instance's
//!   memory and the store's data.
//! - Errors are `anyhow::Error`. A WebAssembly trap downcasts to [`Trap`]
//!   and carries a [`WasmBacktrace`]; an error returned by a host function
//!   comes back to the embedder unchanged.
//!
//! # Resource control
//!
//! Untrusted code is bounded the same way in every tier:
//!
//! - **Fuel** ([`Config::consume_fuel`], [`Store::set_fuel`]): a
//!   deterministic instruction budget; running out traps with
//!   [`Trap::OutOfFuel`]. The cost model is documented on
//!   [`Config::consume_fuel`].
//! - **Epoch deadlines** ([`Config::epoch_interruption`],
//!   [`Store::set_epoch_deadline`], [`Engine::increment_epoch`]): wall-clock
//!   interruption driven by another thread; traps with [`Trap::Interrupt`].
//! - **Limits** ([`Store::limiter`], [`StoreLimitsBuilder`],
//!   [`ResourceLimiter`]): memory and table growth, and the number of
//!   instances, memories and tables. A refused `memory.grow` returns -1.
//! - **Stack** ([`Config::max_wasm_stack`]): deep recursion is the
//!   [`Trap::StackOverflow`] trap, never a host stack overflow.
//!
//! ```
//! use strata::{Config, Engine, Instance, Module, Store, Trap};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut config = Config::new();
//! config.consume_fuel(true);
//! let engine = Engine::new(&config)?;
//! let module = Module::new(&engine, r#"(module (func (export "spin") (loop (br 0))))"#)?;
//! let mut store = Store::new(&engine, ());
//! store.set_fuel(10_000)?;
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
//! let err = spin.call(&mut store, ()).unwrap_err();
//! assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
//! # Ok(())
//! # }
//! ```
//!
//! # Cargo features
//!
//! - `profiling` (default): the guest profiler ([`GuestProfiler`]), which
//!   writes Firefox Profiler JSON (`--profile=guest` in the CLI).
//! - `jit` (default): the Cranelift JIT tier ([`Tier::Jit`]) on Linux
//!   x86_64 and aarch64. Without it (or on other hosts) Strata is an
//!   interpreter only and never maps executable memory;
//!   [`Tier::is_available`] tells which tiers a build can run.
//!
//! The default [`Config`] uses the best tier available
//! ([`Tier::best_available`]): tiered execution where the JIT is built and
//! supported (functions start interpreted; hot functions and loops are
//! compiled in the background and switched to compiled code), the
//! interpreter elsewhere. Choose one explicitly with [`Config::tier`]:
//!
//! ```
//! use strata::{Config, Engine, Instance, Module, Store, Tier};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut config = Config::new();
//! config.tier(Tier::Interp); // no executable memory
//! let engine = Engine::new(&config)?;
//! let module = Module::new(&engine, r#"(module (func (export "inc") (param i32) (result i32)
//!     (i32.add (local.get 0) (i32.const 1))))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let inc = instance.get_typed_func::<i32, i32>(&mut store, "inc")?;
//! assert_eq!(inc.call(&mut store, 41)?, 42);
//! # Ok(())
//! # }
//! ```
//!
//! # Crate layout
//!
//! Layers, from the bottom up; each imports only from the layers below it.
//!
//! 1. `config.rs`, `engine.rs`, `types/`, `trap.rs`, `profiling/`:
//!    settings, the type system and the engine's type registry, the cell
//!    encoding of values (`types/raw.rs`), trap kinds and backtraces, and
//!    the observers that describe compiled code to external profilers.
//! 2. `module/`: decoding and validation (`wasmparser`) into module
//!    metadata, constant expressions; `isa/`: the instruction table, one row
//!    per instruction, with its semantics.
//! 3. `runtime/`: the runtime representation every tier shares: the
//!    `VMContext` layout (`vm.rs`), linear memories reserved up front so
//!    they never move, tables, the store's internals (`store.rs`), the bulk
//!    memory and table operations (`ops.rs`), the fuel cost model.
//! 4. `interp/` (translator to register bytecode, threaded handlers,
//!    driver) and `jit/` (Cranelift translation, runtime helpers, traps);
//!    `tier.rs`, the one interface the API uses to compile for a tier and
//!    call into one.
//! 5. `api/`: the public API re-exported here.

#![warn(missing_docs)]

// Layers, each importing only from the ones listed before it (see
// ARCHITECTURE.md): settings, types and traps; the module representation
// and the instruction table; the runtime representation; the tiers and the
// interface the API uses to reach them; the public API.
#[cfg(strata_jit)]
mod codec;
mod config;
mod engine;
mod profiling;
mod trap;
mod types;

mod isa;
mod module;

mod runtime;

#[cfg(strata_jit)]
mod artifact;
mod interp;
#[cfg(strata_jit)]
mod jit;
mod tier;

mod api;

pub use api::coredump::WasmCoreDump;
pub use api::epoch::UpdateDeadline;
pub use api::externals::{Extern, Global, Memory, StoreMut, StoreRef, Table, WASM_PAGE_SIZE};
pub use api::func::{Caller, Func};
pub use api::gc::{ArrayRef, EqRef, StructRef, I31};
pub use api::gc_roots::{GcHeapStats, RootScope};
#[cfg(feature = "profiling")]
pub use api::guest_profiler::GuestProfiler;
pub use api::instance::Instance;
pub use api::limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
pub use api::linker::{InstancePre, Linker, UnknownImportError};
pub use api::module::Module;
pub use api::shared_memory::{SharedMemory, WaitResult};
pub use api::store::{AsContext, AsContextMut, Store};
pub use api::tag::Tag;
pub use api::typed::{IntoFunc, TypedFunc, WasmParams, WasmRet, WasmTy};
pub use api::values::{AnyRef, ExnRef, ExternRef, Val};
pub use config::{CacheConfig, Config, Tier};
pub use engine::Engine;
pub use profiling::ProfilingStrategy;
pub use runtime::exn::ThrownException;
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ArrayType, ExportType, ExternType, FieldType, FuncType, GlobalType, HeapType, ImportType,
    MemoryType, Mutability, RefType, SharedTypeIndex, StorageType, StructType, TableType, TagType,
    ValType,
};

/// The result type of fallible Strata operations.
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
