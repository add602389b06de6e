//! Engine-wide settings: execution tier, WebAssembly features, stack limits.

use crate::profiling::ProfilingStrategy;
use std::path::PathBuf;
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
    /// Both: every function starts in the interpreter (so a module starts
    /// in about the time validation takes), and functions that become hot
    /// (see [`Config::tier_up_calls`] and
    /// [`Config::tier_up_loop_iterations`]) are compiled by the JIT and run
    /// compiled from their next call, or, for a hot loop, from its next
    /// iteration. The default where the JIT is available.
    Tiered,
}

impl Tier {
    /// The default tier of this build on this host: tiered execution where
    /// the JIT is available, the interpreter elsewhere.
    pub fn best_available() -> Tier {
        if Tier::Jit.is_available() {
            Tier::Tiered
        } else {
            Tier::Interp
        }
    }

    /// Whether this build can run the tier on this host.
    pub fn is_available(self) -> bool {
        match self {
            Tier::Interp => true,
            #[cfg(strata_jit)]
            // Cranelift supports the host's architecture and features.
            Tier::Jit | Tier::Tiered => cranelift_native::builder().is_ok(),
            #[cfg(not(strata_jit))]
            Tier::Jit | Tier::Tiered => false,
        }
    }
}

impl Tier {
    /// Whether the tier compiles code with the JIT (all of it, or the hot
    /// part).
    pub fn compiles(self) -> bool {
        matches!(self, Tier::Jit | Tier::Tiered)
    }
}

impl std::str::FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Tier, String> {
        match s {
            "interp" | "interpreter" => Ok(Tier::Interp),
            "jit" if Tier::Jit.is_available() => Ok(Tier::Jit),
            "tiered" if Tier::Tiered.is_available() => Ok(Tier::Tiered),
            "jit" | "tiered" => Err(format!(
                "the `{s}` tier is not available in this build or on this host; use `interp`"
            )),
            other => Err(format!(
                "unknown tier `{other}`; expected `tiered`, `jit` or `interp`"
            )),
        }
    }
}

/// The default of [`Config::max_gc_heap_size`]: 1 GiB.
pub(crate) const DEFAULT_MAX_GC_HEAP_SIZE: u64 = 1 << 30;

/// The largest GC heap: references are 32-bit offsets into it.
pub(crate) const MAX_GC_HEAP_SIZE: u64 = 1 << 32;

/// The largest `max_wasm_stack` a host can honour: the user address space
/// of the supported 64-bit hosts (128 TiB with x86_64's four-level page
/// tables; aarch64 has at least as much), or all of a 32-bit one.
#[cfg(target_pointer_width = "64")]
const MAX_WASM_STACK: usize = 1 << 47;
#[cfg(not(target_pointer_width = "64"))]
const MAX_WASM_STACK: usize = isize::MAX as usize;

/// Settings shared by every module compiled by an [`Engine`](crate::Engine).
///
/// Every WebAssembly proposal has a switch here (`wasm_*`, named as in
/// wasmtime); a module that uses a disabled one is rejected when it is
/// loaded, with an error that names the switch.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) tier: Tier,
    pub(crate) features: WasmFeatures,
    pub(crate) relaxed_simd_deterministic: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) max_call_depth: usize,
    pub(crate) max_gc_heap_size: u64,
    pub(crate) gc_stress: bool,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) lazy_translation: bool,
    pub(crate) memory_guard_pages: bool,
    pub(crate) memory_init_cow: bool,
    pub(crate) jit_max_function_size: usize,
    pub(crate) tier_up_calls: u32,
    pub(crate) tier_up_loop_iterations: u32,
    pub(crate) tier_up_in_background: bool,
    pub(crate) coredump_on_trap: bool,
    pub(crate) profiler: ProfilingStrategy,
    pub(crate) cache: Option<CacheConfig>,
}

/// Where and how much the compile cache keeps ([`Config::cache`]).
///
/// Compiled code is stored in one file per module and configuration, in
/// [`CacheConfig::with_directory`]'s directory or, by default, in
/// `$STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`, else
/// `$HOME/.cache/strata`. When the files add up to more than the size
/// limit, the least recently used ones are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    pub(crate) directory: Option<PathBuf>,
    pub(crate) max_size: u64,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            directory: None,
            // wasmtime's default soft limit.
            max_size: 512 << 20,
        }
    }
}

impl CacheConfig {
    /// The default cache: the user's cache directory, 512 MiB at most.
    pub fn new() -> CacheConfig {
        CacheConfig::default()
    }

    /// Keeps the cache in `dir` (created when first written).
    pub fn with_directory(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.directory = Some(dir.into());
        self
    }

    /// The size, in bytes, the cache's files are kept to: after a write
    /// takes them beyond it, the least recently used are removed until
    /// they take at most three quarters of it (wasmtime's name for the
    /// setting).
    pub fn with_files_total_size_soft_limit(&mut self, bytes: u64) -> &mut Self {
        self.max_size = bytes;
        self
    }

    /// The directory the cache uses: the one given to
    /// [`CacheConfig::with_directory`], else `$STRATA_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/strata`, else `$HOME/.cache/strata`; `None` when
    /// none of those is set.
    pub fn directory(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.directory {
            return Some(dir.clone());
        }
        let var = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        var("STRATA_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("strata")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("strata")))
    }
}

impl Default for Config {
    fn default() -> Config {
        // WebAssembly 2.0 (with SIMD) and the 3.0 proposals whose suites
        // pass in both tiers.
        let mut features = WasmFeatures::WASM2;
        features.insert(WasmFeatures::RELAXED_SIMD);
        features.insert(WasmFeatures::WIDE_ARITHMETIC);
        features.insert(WasmFeatures::EXTENDED_CONST);
        features.insert(WasmFeatures::TAIL_CALL);
        features.insert(WasmFeatures::FUNCTION_REFERENCES);
        features.insert(WasmFeatures::MULTI_MEMORY);
        features.insert(WasmFeatures::MEMORY64);
        Config {
            tier: Tier::best_available(),
            features,
            relaxed_simd_deterministic: true,
            max_wasm_stack: 8 << 20,
            max_call_depth: 100_000,
            max_gc_heap_size: DEFAULT_MAX_GC_HEAP_SIZE,
            gc_stress: false,
            consume_fuel: false,
            epoch_interruption: false,
            lazy_translation: true,
            memory_guard_pages: cfg!(target_pointer_width = "64"),
            memory_init_cow: true,
            jit_max_function_size: 1 << 20,
            tier_up_calls: 1000,
            tier_up_loop_iterations: 10_000,
            tier_up_in_background: true,
            coredump_on_trap: false,
            profiler: ProfilingStrategy::None,
            cache: Some(CacheConfig::new()),
        }
    }
}

/// Each proposal switch: its `Config` setter, its `-W` name on the command
/// line, and the validator feature it controls. The one list behind the
/// setters, `Config::set_feature` and the errors for disabled features.
macro_rules! proposals {
    ($($(#[$doc:meta])* $setter:ident, $cli:literal => $flag:ident;)*) => {
        impl Config {
            $(
                $(#[$doc])*
                pub fn $setter(&mut self, enable: bool) -> &mut Self {
                    self.features.set(WasmFeatures::$flag, enable);
                    self
                }
            )*
        }

        /// Every switch: command-line name, setter name, validator flag.
        pub(crate) const PROPOSALS: &[(&str, &str, WasmFeatures)] = &[
            $(($cli, stringify!($setter), WasmFeatures::$flag),)*
        ];
    };
}

/// Proposals that need another one: (proposal, prerequisite).
const PREREQUISITES: [(WasmFeatures, WasmFeatures); 5] = [
    (WasmFeatures::RELAXED_SIMD, WasmFeatures::SIMD),
    (WasmFeatures::LEGACY_EXCEPTIONS, WasmFeatures::EXCEPTIONS),
    (
        WasmFeatures::FUNCTION_REFERENCES,
        WasmFeatures::REFERENCE_TYPES,
    ),
    (WasmFeatures::GC, WasmFeatures::FUNCTION_REFERENCES),
    (WasmFeatures::CUSTOM_DESCRIPTORS, WasmFeatures::GC),
];

proposals! {
    /// Mutable globals may be imported and exported (WebAssembly 1.0).
    wasm_mutable_global, "mutable-global" => MUTABLE_GLOBAL;
    /// `i32.extend8_s` and friends (WebAssembly 2.0).
    wasm_sign_extension, "sign-extension" => SIGN_EXTENSION;
    /// The `*.trunc_sat_*` conversions (WebAssembly 2.0).
    wasm_saturating_float_to_int, "saturating-float-to-int" => SATURATING_FLOAT_TO_INT;
    /// Functions and blocks with several results and block parameters
    /// (WebAssembly 2.0).
    wasm_multi_value, "multi-value" => MULTI_VALUE;
    /// `funcref`/`externref` values, several tables, table instructions
    /// (WebAssembly 2.0).
    wasm_reference_types, "reference-types" => REFERENCE_TYPES;
    /// `memory.copy`, `memory.fill`, passive segments and friends
    /// (WebAssembly 2.0).
    wasm_bulk_memory, "bulk-memory" => BULK_MEMORY;
    /// 128-bit vectors and their instructions (WebAssembly 2.0). On by
    /// default.
    wasm_simd, "simd" => SIMD;
    /// The relaxed SIMD instructions (WebAssembly 3.0); needs `wasm_simd`.
    /// On by default, with deterministic results
    /// ([`Config::relaxed_simd_deterministic`]).
    wasm_relaxed_simd, "relaxed-simd" => RELAXED_SIMD;
    /// `return_call` and friends (WebAssembly 3.0).
    wasm_tail_call, "tail-call" => TAIL_CALL;
    /// Typed function references: `(ref $t)`, `call_ref` and friends
    /// (WebAssembly 3.0); needs `wasm_reference_types`.
    wasm_function_references, "function-references" => FUNCTION_REFERENCES;
    /// Garbage-collected structs, arrays and `i31ref` (WebAssembly 3.0);
    /// needs `wasm_function_references`.
    wasm_gc, "gc" => GC;
    /// Exception handling with `try_table` and `exnref` (WebAssembly 3.0).
    wasm_exceptions, "exceptions" => EXCEPTIONS;
    /// The legacy exception handling instructions (`try`, `catch`,
    /// `catch_all`, `delegate`, `rethrow`) that older toolchains emit; off
    /// by default; needs `wasm_exceptions` (for tags). Both tiers run them.
    wasm_legacy_exceptions, "legacy-exceptions" => LEGACY_EXCEPTIONS;
    /// Several memories per module (WebAssembly 3.0).
    wasm_multi_memory, "multi-memory" => MULTI_MEMORY;
    /// Memories and tables with 64-bit indices (WebAssembly 3.0).
    wasm_memory64, "memory64" => MEMORY64;
    /// Arithmetic in constant expressions (WebAssembly 3.0).
    wasm_extended_const, "extended-const" => EXTENDED_CONST;
    /// Shared memories and atomic instructions (the threads proposal).
    wasm_threads, "threads" => THREADS;
    /// `i64.add128` and friends (the wide-arithmetic proposal). On by
    /// default, as in wasmtime.
    wasm_wide_arithmetic, "wide-arithmetic" => WIDE_ARITHMETIC;
    /// Memories whose page size is 1 byte (the custom-page-sizes proposal).
    wasm_custom_page_sizes, "custom-page-sizes" => CUSTOM_PAGE_SIZES;
    /// The custom-descriptors proposal: exact reference types
    /// `(ref exact $t)`, exact function imports, and descriptor types
    /// (`descriptor`/`describes` clauses, `struct.new_desc`,
    /// `ref.get_desc`, `ref.cast_desc_eq`, `br_on_cast_desc_eq`); needs
    /// `wasm_gc`.
    wasm_custom_descriptors, "custom-descriptors" => CUSTOM_DESCRIPTORS;
}

impl Config {
    /// The default configuration: WebAssembly 2.0, plus relaxed SIMD, tail
    /// calls, typed function references, extended constant expressions,
    /// multiple memories and 64-bit memories and tables from 3.0, and wide
    /// arithmetic; the best tier available ([`Tier::best_available`]:
    /// tiered execution where this build and host support the JIT, else
    /// the interpreter), 8 MiB of wasm stack.
    pub fn new() -> Config {
        Config::default()
    }

    /// Chooses the execution tier.
    pub fn tier(&mut self, tier: Tier) -> &mut Self {
        self.tier = tier;
        self
    }

    /// The most bytes each store's GC heap (structs and arrays of the GC
    /// proposal, host references, exceptions) may take. An
    /// allocation that would take the heap beyond it traps with
    /// [`Trap::GcHeapOutOfMemory`](crate::Trap::GcHeapOutOfMemory) when a
    /// collection cannot make room (what is reachable exceeds the limit,
    /// or collecting is not possible where the allocation happens, see
    /// `Store::gc`). The default is 1 GiB; at most 4 GiB (references are 32-bit
    /// offsets), larger values are clamped. The CLI's `-W
    /// max-gc-heap-size=BYTES`.
    pub fn max_gc_heap_size(&mut self, bytes: u64) -> &mut Self {
        self.max_gc_heap_size = bytes.min(MAX_GC_HEAP_SIZE);
        self
    }

    /// For testing the collector: collect the GC heap before every
    /// allocation (where collecting is allowed), so that a reference the
    /// collector failed to see is freed and reused at once. Very slow;
    /// off by default.
    pub fn gc_stress(&mut self, on: bool) -> &mut Self {
        self.gc_stress = on;
        self
    }

    /// The most stack, in bytes, that wasm code may use before a call traps
    /// with "call stack exhausted". For the interpreter this bounds the heap
    /// stack that holds every frame's values, which starts small and grows
    /// as calls need it (failing to get memory from the host is the same
    /// trap); for the JIT, the host stack that compiled frames use below
    /// the outermost entry (and never closer than 256 KiB to the end of the
    /// thread's stack).
    ///
    /// [`Engine::new`](crate::Engine::new) rejects 0 and any size beyond
    /// what the host can address (128 TiB on 64-bit hosts).
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

    /// With the JIT and tiered tiers, functions whose body is larger than
    /// `bytes` are not compiled: they run in the interpreter, and calls
    /// between them and compiled functions go through the functions'
    /// entries either way. The default, 1 MiB, keeps hostile shapes (a
    /// function of megabytes, a `br_table` of a million targets) from
    /// taking seconds and hundreds of MiB to compile; such functions are
    /// translated by the interpreter in linear time instead.
    pub fn jit_max_function_size(&mut self, bytes: usize) -> &mut Self {
        self.jit_max_function_size = bytes;
        self
    }

    /// With [`Tier::Tiered`], how many calls make a function hot enough to
    /// compile (default 1000; 0 compiles each function before its first
    /// call). A larger function needs more: the threshold once more per
    /// 512 bytes of its body, at most 16 times (thresholds 0 and 1 are
    /// taken as they are), since compiling it costs more.
    pub fn tier_up_calls(&mut self, calls: u32) -> &mut Self {
        self.tier_up_calls = calls;
        self
    }

    /// With [`Tier::Tiered`], how many iterations of its loops make a
    /// function hot enough to compile (default 10,000; 0 compiles at the
    /// first iteration), scaled by the function's size as
    /// [`Config::tier_up_calls`] is. A loop that becomes hot while it runs continues in
    /// compiled code at its next iteration (on-stack replacement), so a
    /// program whose work is one long loop in `main` does not stay
    /// interpreted.
    pub fn tier_up_loop_iterations(&mut self, iterations: u32) -> &mut Self {
        self.tier_up_loop_iterations = iterations;
        self
    }

    /// With [`Tier::Tiered`], whether hot functions are compiled on a
    /// background thread while the interpreter goes on running them (the
    /// default), or on the thread that found them hot, which then waits:
    /// slower to start, but the point where code switches tiers is the
    /// same in every run (tests use it).
    pub fn tier_up_in_background(&mut self, background: bool) -> &mut Self {
        self.tier_up_in_background = background;
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

    /// Whether instantiation maps a module's initial memory contents
    /// copy-on-write from an image prepared once per module (the default,
    /// as wasmtime's option of the same name; Linux only, elsewhere it has
    /// no effect) instead of copying its data segments into every new
    /// memory. Either way the memory holds the same bytes; the image makes
    /// instantiating a module with much data cost one `mmap`.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        self.memory_init_cow = enable;
        self
    }

    /// Attaches a [`WasmCoreDump`](crate::WasmCoreDump) to the error of
    /// every call that traps, as wasmtime's option of the same name does:
    /// the frames (with the locals the interpreter knows), and the store's
    /// instances, memories and globals, which
    /// [`WasmCoreDump::serialize`](crate::WasmCoreDump::serialize) writes
    /// in the tool-conventions core dump format (`strata run -D
    /// coredump=PATH`). Off by default: reading the locals of every frame
    /// makes traps slower.
    pub fn coredump_on_trap(&mut self, enable: bool) -> &mut Self {
        self.coredump_on_trap = enable;
        self
    }

    /// Describes compiled code to an external profiler, as wasmtime's
    /// `Config::profiler` does: [`ProfilingStrategy::PerfMap`] writes
    /// `/tmp/perf-PID.map`, [`ProfilingStrategy::JitDump`] writes
    /// `jit-PID.dump` in the current directory, each with every function
    /// the JIT compiles, named from the name section (or
    /// `wasm-function[N]`). The interpreter tier compiles nothing, so with
    /// it these write nothing. [`Engine::new`](crate::Engine::new) fails
    /// when the file cannot be created.
    pub fn profiler(&mut self, strategy: ProfilingStrategy) -> &mut Self {
        self.profiler = strategy;
        self
    }

    /// The compile cache: compiled code is kept in a directory, keyed by
    /// the module's bytes, Strata's version, the host's code generation
    /// settings and CPU features and every setting here that changes code,
    /// so that loading the same module again skips compilation. On by
    /// default ([`CacheConfig::new`]); `None` turns it off. Only the JIT
    /// tier compiles, so only it uses the cache. A damaged or foreign
    /// entry is never run: it is compiled again and replaced. Writes are
    /// atomic, so processes may share a cache directory.
    pub fn cache(&mut self, cache: Option<CacheConfig>) -> &mut Self {
        self.cache = cache;
        self
    }

    /// Whether relaxed SIMD instructions give the same results on every
    /// host and in every tier (the default), or the fastest the host
    /// offers, which may differ between hosts and tiers.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        self.relaxed_simd_deterministic = enable;
        self
    }

    /// Switches the proposal that `strata run -W NAME=y|n` calls `name`
    /// (`simd`, `tail-call`, `gc`, ...), together with what it depends on:
    /// enabling one enables its prerequisites (`gc` brings
    /// `function-references` and `reference-types`), disabling one disables
    /// the proposals that need it. Fails for an unknown name.
    pub fn set_feature(&mut self, name: &str, enable: bool) -> Result<&mut Self, String> {
        let Some((_, _, flag)) = PROPOSALS.iter().find(|(cli, _, _)| *cli == name) else {
            let names: Vec<&str> = Config::feature_names().collect();
            return Err(format!(
                "unknown WebAssembly feature `{name}`; expected one of: {}",
                names.join(", ")
            ));
        };
        let mut changed = *flag;
        loop {
            let before = changed;
            for (feature, prerequisite) in PREREQUISITES {
                if enable && changed.contains(feature) {
                    changed |= prerequisite;
                }
                if !enable && changed.contains(prerequisite) {
                    changed |= feature;
                }
            }
            if changed == before {
                break;
            }
        }
        self.features.set(changed, enable);
        Ok(self)
    }

    /// The names [`Config::set_feature`] accepts, as `-W` spells them.
    pub fn feature_names() -> impl Iterator<Item = &'static str> {
        PROPOSALS.iter().map(|(cli, _, _)| *cli)
    }

    /// Checks that the settings can be honoured: the enabled proposals are
    /// consistent (each one's prerequisites on) and the stack limit is one
    /// the host can address.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let stack = self.max_wasm_stack;
        if stack == 0 {
            return Err(
                "`Config::max_wasm_stack` of 0 bytes leaves no room for any call \
                 (`-W max-wasm-stack`)"
                    .to_string(),
            );
        }
        if stack > MAX_WASM_STACK {
            return Err(format!(
                "`Config::max_wasm_stack` of {stack} bytes is more than this host can address \
                 (at most {MAX_WASM_STACK}; `-W max-wasm-stack`)"
            ));
        }
        for (feature, prerequisite) in PREREQUISITES {
            if self.features.contains(feature) && !self.features.contains(prerequisite) {
                let name = |f: WasmFeatures| {
                    PROPOSALS
                        .iter()
                        .find(|(_, _, flag)| *flag == f)
                        .map_or("?", |(_, setter, _)| *setter)
                };
                return Err(format!(
                    "`Config::{}` needs `Config::{}`",
                    name(feature),
                    name(prerequisite)
                ));
            }
        }
        Ok(())
    }
}
