//! Strata: a WebAssembly runtime.
//!
//! Strata loads WebAssembly modules (binary `.wasm` or text `.wat`),
//! validates them, and runs them in one of two tiers over the same runtime
//! layout: an interpreter that needs no executable memory, or a JIT that
//! compiles to native code with Cranelift ([`Tier`]). Its embedding API
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
//!   loaded with the JIT tier; with the interpreter, each function is
//!   translated to bytecode on its first call. Create it once and
//!   instantiate it many times.
//! - [`Store`] owns all runtime state — instances, memories, tables,
//!   globals, functions — plus your own data `T`. Handles such as [`Func`]
//!   and [`Memory`] are only meaningful together with their store.
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
//! - `jit` (default): the Cranelift JIT tier ([`Tier::Jit`]) on Linux
//!   x86_64 and aarch64. Without it (or on other hosts) Strata is an
//!   interpreter only and never maps executable memory;
//!   [`Tier::is_available`] tells which tiers a build can run.
//!
//! The default [`Config`] uses the best tier available
//! ([`Tier::best_available`]): the JIT where it is built and supported, the
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
//! - `module/`: decoding and validation (`wasmparser`) and module metadata.
//! - `runtime/`: the runtime representation shared by every tier (linear
//!   memories reserved up front so they never move, tables, the
//!   `VMContext` layout in `vm.rs`), the bulk memory and table operations
//!   both tiers execute (`ops.rs`), and the fuel cost model (`fuel.rs`).
//! - `interp/`: the interpreter tier: the instruction table (`isa.rs`), the
//!   translator from wasm to register bytecode, threaded handlers and the
//!   driver.
//! - `jit/`: the JIT tier: translation to Cranelift IR, runtime helpers,
//!   and trap handling (signals and unwinding).
//! - `limits.rs`: resource limiters.
//! - The files at the root are the public API.

#![warn(missing_docs)]

mod config;
mod engine;
mod externals;
mod func;
mod instance;
mod interp;
#[cfg(strata_jit)]
mod jit;
mod limits;
mod linker;
mod module;
mod runtime;
mod semantics;
mod store;
mod trap;
mod types;
mod values;

pub use config::{Config, Tier};
pub use engine::Engine;
pub use externals::{Extern, Global, Memory, StoreMut, StoreRef, Table, WASM_PAGE_SIZE};
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmRet, WasmTy};
pub use instance::Instance;
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
pub use linker::{Linker, UnknownImportError};
pub use module::Module;
pub use store::{AsContext, AsContextMut, Store};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, Mutability, TableType,
    ValType,
};
pub use values::{ExternRef, Val};

/// The result type of fallible Strata operations.
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
