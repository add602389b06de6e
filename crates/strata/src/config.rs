//! Engine-wide settings: execution tier, WebAssembly features, stack limits.

use wasmparser::WasmFeatures;

/// Which tier executes WebAssembly code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The interpreter: translates each function to Strata's register
    /// bytecode and executes it. Needs no executable memory.
    Interp,
    /// The JIT: compiles every function to native code with Cranelift when
    /// the module is loaded. Available with the `jit` cargo feature on
    /// Linux x86_64 and aarch64.
    Jit,
}

impl Tier {
    /// The fastest tier this build can run on this host: the JIT where it
    /// is available, the interpreter elsewhere.
    pub fn best_available() -> Tier {
        if Tier::Jit.is_available() {
            Tier::Jit
        } else {
            Tier::Interp
        }
    }

    /// Whether this build can run the tier on this host.
    pub fn is_available(self) -> bool {
        match self {
            Tier::Interp => true,
            #[cfg(strata_jit)]
            Tier::Jit => crate::jit::available().is_ok(),
            #[cfg(not(strata_jit))]
            Tier::Jit => false,
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Tier, String> {
        match s {
            "interp" | "interpreter" => Ok(Tier::Interp),
            "jit" if Tier::Jit.is_available() => Ok(Tier::Jit),
            "jit" => Err(
                "the `jit` tier is not available in this build or on this host; use `interp`"
                    .into(),
            ),
            other => Err(format!(
                "unknown tier `{other}`; expected `interp` or `jit`"
            )),
        }
    }
}

/// Settings shared by every module compiled by an [`Engine`](crate::Engine).
///
/// Every WebAssembly proposal is switched here; a module that uses a
/// disabled feature is rejected when it is loaded.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) tier: Tier,
    pub(crate) features: WasmFeatures,
    pub(crate) max_wasm_stack: usize,
    pub(crate) max_call_depth: usize,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) lazy_translation: bool,
    pub(crate) memory_guard_pages: bool,
}

impl Default for Config {
    fn default() -> Config {
        let mut features = WasmFeatures::WASM2;
        // SIMD is part of WebAssembly 2.0 but no tier executes it yet.
        features.remove(WasmFeatures::SIMD);
        Config {
            tier: Tier::best_available(),
            features,
            max_wasm_stack: 8 << 20,
            max_call_depth: 100_000,
            consume_fuel: false,
            epoch_interruption: false,
            lazy_translation: true,
            memory_guard_pages: cfg!(target_pointer_width = "64"),
        }
    }
}

macro_rules! feature_setters {
    ($($(#[$doc:meta])* $name:ident => $flag:ident,)*) => {
        impl Config {
            $(
                $(#[$doc])*
                pub fn $name(&mut self, enable: bool) -> &mut Self {
                    self.features.set(WasmFeatures::$flag, enable);
                    self
                }
            )*
        }
    };
}

feature_setters! {
    /// Mutable globals may be imported and exported.
    wasm_mutable_global => MUTABLE_GLOBAL,
    /// `i32.extend8_s` and friends.
    wasm_sign_extension => SIGN_EXTENSION,
    /// The `*.trunc_sat_*` conversions.
    wasm_saturating_float_to_int => SATURATING_FLOAT_TO_INT,
    /// Functions and blocks with several results and block parameters.
    wasm_multi_value => MULTI_VALUE,
    /// `funcref`/`externref` values, several tables, table instructions.
    wasm_reference_types => REFERENCE_TYPES,
    /// `memory.copy`, `memory.fill`, passive segments and friends.
    wasm_bulk_memory => BULK_MEMORY,
}

impl Config {
    /// The default configuration: WebAssembly 2.0 without SIMD, the best
    /// tier available ([`Tier::best_available`]: the JIT where this build
    /// and host support it, else the interpreter), 8 MiB of wasm stack.
    pub fn new() -> Config {
        Config::default()
    }

    /// Chooses the execution tier.
    pub fn tier(&mut self, tier: Tier) -> &mut Self {
        self.tier = tier;
        self
    }

    /// The most stack, in bytes, that wasm code may use before a call traps
    /// with "call stack exhausted". For the interpreter this bounds the heap
    /// stack that holds every frame's values; for the JIT, the host stack
    /// that compiled frames use below the outermost entry (and never closer
    /// than 256 KiB to the end of the thread's stack).
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Meters execution with fuel: every store starts with none (see
    /// [`Store::set_fuel`](crate::Store::set_fuel)), and running out traps
    /// with [`Trap::OutOfFuel`](crate::Trap::OutOfFuel).
    ///
    /// The cost model: every executed wasm instruction costs one unit of
    /// fuel, except `nop`, `drop`, `block`, `loop`, `else` and `end`, which
    /// are free. Fuel is charged when execution enters a straight-line run
    /// of instructions (at function entry, after each block boundary,
    /// branch or call) for the whole run, so the amount consumed by a given
    /// program and input is the same in every tier.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Lets [`Engine::increment_epoch`](crate::Engine::increment_epoch)
    /// interrupt running code: wasm checks the store's epoch deadline at
    /// every function entry and loop iteration, and traps with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) once it has passed.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Whether the interpreter translates each function on its first call
    /// (the default: modules load in about the time validation takes) or
    /// all of them when the module is loaded. Validation always covers the
    /// whole module up front.
    pub fn lazy_translation(&mut self, lazy: bool) -> &mut Self {
        self.lazy_translation = lazy;
        self
    }

    /// Whether compiled code relies on guard pages to catch out-of-bounds
    /// memory accesses (the default on 64-bit hosts, where every 32-bit
    /// memory reserves 8 GiB of address space) or checks each access
    /// explicitly. Explicit checks cost speed but no fault handling.
    pub fn memory_guard_pages(&mut self, enable: bool) -> &mut Self {
        self.memory_guard_pages = enable && cfg!(target_pointer_width = "64");
        self
    }

    /// The WebAssembly features in force.
    pub fn features(&self) -> WasmFeatures {
        self.features
    }
}
