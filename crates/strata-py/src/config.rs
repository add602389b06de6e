//! `Config` and `Engine`.

use crate::convert::Int;
use crate::error::{api_error, wasmtime_error};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use strata::Tier;

/// Settings for an `Engine`. Every option is a write-only property, as in
/// wasmtime-py: `config.consume_fuel = True`.
#[pyclass(module = "strata._strata")]
#[derive(Default)]
pub struct Config {
    pub(crate) config: strata::Config,
}

#[pymethods]
impl Config {
    /// The default configuration: WebAssembly 2.0 (with SIMD), relaxed SIMD
    /// and wide arithmetic, tiered execution where this build and host
    /// support the JIT (else the interpreter).
    #[new]
    fn new() -> Config {
        Config::default()
    }

    /// Meters wasm with fuel: every store starts with none
    /// (`Store.set_fuel`), and running out traps with
    /// `TrapCode.OUT_OF_FUEL`.
    #[setter]
    fn set_consume_fuel(&mut self, enable: bool) {
        self.config.consume_fuel(enable);
    }

    /// Lets `Engine.increment_epoch` interrupt running wasm once a store's
    /// deadline (`Store.set_epoch_deadline`) has passed.
    #[setter]
    fn set_epoch_interruption(&mut self, enable: bool) {
        self.config.epoch_interruption(enable);
    }

    /// The most stack, in bytes, wasm may use before trapping with
    /// `TrapCode.STACK_OVERFLOW`.
    #[setter]
    fn set_max_wasm_stack(&mut self, size: Int<usize>) {
        self.config.max_wasm_stack(size.0);
    }

    /// How wasm runs: `"auto"` (the default: tiered execution where the JIT
    /// is available), `"tiered"` (interpreter first, hot code compiled),
    /// `"cranelift"` (the JIT; an error where it is not available) or
    /// `"interp"` (Strata's interpreter, which needs no executable memory).
    #[setter]
    fn set_strategy(&mut self, strategy: &str) -> PyResult<()> {
        let tier =
            match strategy {
                "auto" => Tier::best_available(),
                "cranelift" | "jit" if Tier::Jit.is_available() => Tier::Jit,
                "cranelift" | "jit" => return Err(wasmtime_error(
                    "the cranelift (JIT) strategy is not available in this build or on this host",
                )),
                "tiered" if Tier::Tiered.is_available() => Tier::Tiered,
                "tiered" => {
                    return Err(wasmtime_error(
                        "the tiered strategy is not available in this build or on this host",
                    ))
                }
                "interp" | "interpreter" => Tier::Interp,
                other => return Err(wasmtime_error(format!("unknown strategy: {other}"))),
            };
        self.config.tier(tier);
        Ok(())
    }

    /// Accepted for compatibility with wasmtime-py (`True` or the path of a
    /// cache configuration file, which is not read): Strata's compile cache
    /// is on by default (`$STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`,
    /// else `~/.cache/strata`), and `False` is refused as in wasmtime-py.
    #[setter]
    fn set_cache(&mut self, enabled: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(enabled) = enabled.extract::<bool>() {
            if !enabled {
                return Err(wasmtime_error("caching cannot be explicitly disabled"));
            }
            return Ok(());
        }
        if enabled.extract::<String>().is_ok() {
            return Ok(());
        }
        Err(PyTypeError::new_err("expected string or bool"))
    }

    /// Accepted for compatibility; has no effect (Strata emits no DWARF).
    #[setter]
    fn set_debug_info(&mut self, _enable: bool) {}

    /// Accepted for compatibility; has no effect (Strata always compiles
    /// the functions of a module in parallel).
    #[setter]
    fn set_parallel_compilation(&mut self, _enable: bool) {}

    /// Accepted for compatibility (`"none"`, `"speed"`,
    /// `"speed_and_size"`); has no effect.
    #[setter]
    fn set_cranelift_opt_level(&mut self, level: &str) -> PyResult<()> {
        match level {
            "none" | "speed" | "speed_and_size" => Ok(()),
            other => Err(wasmtime_error(format!("unknown opt level: {other}"))),
        }
    }

    /// Accepted for compatibility; has no effect.
    #[setter]
    fn set_cranelift_debug_verifier(&mut self, _enable: bool) {}

    /// Switches a proposal by its command-line name (`"simd"`,
    /// `"tail-call"`, ...), with the proposals it depends on. A Strata
    /// extension.
    fn set_feature(&mut self, name: &str, enable: bool) -> PyResult<()> {
        self.config
            .set_feature(name, enable)
            .map(|_| ())
            .map_err(wasmtime_error)
    }

    /// Mutable globals may be imported and exported.
    #[setter]
    fn set_wasm_mutable_global(&mut self, enable: bool) {
        self.config.wasm_mutable_global(enable);
    }
    /// The sign-extension operators.
    #[setter]
    fn set_wasm_sign_extension(&mut self, enable: bool) {
        self.config.wasm_sign_extension(enable);
    }
    /// The saturating float-to-int conversions.
    #[setter]
    fn set_wasm_saturating_float_to_int(&mut self, enable: bool) {
        self.config.wasm_saturating_float_to_int(enable);
    }
    /// Several results and block parameters.
    #[setter]
    fn set_wasm_multi_value(&mut self, enable: bool) {
        self.config.wasm_multi_value(enable);
    }
    /// Reference types (`funcref`, `externref`, several tables).
    #[setter]
    fn set_wasm_reference_types(&mut self, enable: bool) {
        self.config.wasm_reference_types(enable);
    }
    /// Bulk memory operations.
    #[setter]
    fn set_wasm_bulk_memory(&mut self, enable: bool) {
        self.config.wasm_bulk_memory(enable);
    }
    /// 128-bit SIMD (on by default).
    #[setter]
    fn set_wasm_simd(&mut self, enable: bool) {
        self.config.wasm_simd(enable);
    }
    /// Relaxed SIMD.
    #[setter]
    fn set_wasm_relaxed_simd(&mut self, enable: bool) {
        self.config.wasm_relaxed_simd(enable);
    }
    /// Whether relaxed SIMD gives the same results on every host.
    #[setter]
    fn set_wasm_relaxed_simd_deterministic(&mut self, enable: bool) {
        self.config.relaxed_simd_deterministic(enable);
    }
    /// Tail calls.
    #[setter]
    fn set_wasm_tail_call(&mut self, enable: bool) {
        self.config.wasm_tail_call(enable);
    }
    /// Typed function references.
    #[setter]
    fn set_wasm_function_references(&mut self, enable: bool) {
        self.config.wasm_function_references(enable);
    }
    /// Garbage collection.
    #[setter]
    fn set_wasm_gc(&mut self, enable: bool) {
        self.config.wasm_gc(enable);
    }
    /// Exception handling.
    #[setter]
    fn set_wasm_exceptions(&mut self, enable: bool) {
        self.config.wasm_exceptions(enable);
    }
    /// Several memories per module.
    #[setter]
    fn set_wasm_multi_memory(&mut self, enable: bool) {
        self.config.wasm_multi_memory(enable);
    }
    /// 64-bit memories and tables.
    #[setter]
    fn set_wasm_memory64(&mut self, enable: bool) {
        self.config.wasm_memory64(enable);
    }
    /// Extended constant expressions.
    #[setter]
    fn set_wasm_extended_const(&mut self, enable: bool) {
        self.config.wasm_extended_const(enable);
    }
    /// Threads (shared memories and atomics).
    #[setter]
    fn set_wasm_threads(&mut self, enable: bool) {
        self.config.wasm_threads(enable);
    }
    /// Wide arithmetic.
    #[setter]
    fn set_wasm_wide_arithmetic(&mut self, enable: bool) {
        self.config.wasm_wide_arithmetic(enable);
    }
    /// Custom page sizes.
    #[setter]
    fn set_wasm_custom_page_sizes(&mut self, enable: bool) {
        self.config.wasm_custom_page_sizes(enable);
    }
}

/// Compiles and runs modules under one `Config`. Share one engine between
/// stores and threads.
#[pyclass(frozen, module = "strata._strata")]
pub struct Engine {
    pub(crate) engine: strata::Engine,
}

impl Engine {
    pub(crate) fn default_engine() -> Engine {
        Engine {
            engine: strata::Engine::default(),
        }
    }
}

#[pymethods]
impl Engine {
    /// An engine with `config` (the default configuration when `None`).
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Engine> {
        let Some(config) = config else {
            return Ok(Engine::default_engine());
        };
        let config = config
            .cast::<Config>()
            .map_err(|_| PyTypeError::new_err("expected Config"))?;
        let engine = strata::Engine::new(&config.borrow().config).map_err(api_error)?;
        Ok(Engine { engine })
    }

    /// Advances the epoch by one; stores whose deadline this reaches
    /// interrupt their wasm (with `Config.epoch_interruption`). Safe to
    /// call from any thread, also while wasm runs.
    fn increment_epoch(&self) {
        self.engine.increment_epoch();
    }

    /// Always `False`: Strata has no Pulley interpreter (it has its own,
    /// chosen with `Config.strategy = "interp"`).
    fn is_pulley(&self) -> bool {
        false
    }
}
