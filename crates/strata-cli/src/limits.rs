//! `-W` options: resource limits, WebAssembly proposals and what to do with
//! unknown imports, as wasmtime spells them (`-W fuel=N,timeout=2s
//! -W max-memory-size=BYTES -W simd=y -W unknown-imports-trap=y`).

use anyhow::{anyhow, bail, Context, Result};
use std::time::Duration;
use strata::{Config, Engine, StoreLimits, StoreLimitsBuilder};

/// Limits and metering chosen with `-W`.
#[derive(Debug, Default, Clone)]
pub struct WasmOptions {
    fuel: Option<u64>,
    timeout: Option<Duration>,
    max_memory_size: Option<usize>,
    max_table_elements: Option<usize>,
    max_instances: Option<usize>,
    max_tables: Option<usize>,
    max_memories: Option<usize>,
    max_wasm_stack: Option<usize>,
    /// `-W max-gc-heap-size=BYTES`: the most each store's GC heap takes.
    max_gc_heap_size: Option<u64>,
    /// `-W max-threads=N`: the most wasi-threads threads running at once.
    max_threads: Option<usize>,
    /// Proposals switched with `-W NAME=y|n`, in order.
    features: Vec<(String, bool)>,
    /// `-W unknown-imports-trap=y`: unknown function imports fail when
    /// called.
    unknown_imports_trap: bool,
    /// `-W unknown-imports-default=y`: unknown function imports return
    /// zeros.
    unknown_imports_default: bool,
}

/// Every `-W` key besides the proposals: the key, its value, and what it
/// does. `-W help` and `strata run --help` print this table.
pub const OPTIONS: [(&str, &str, &str); 12] = [
    (
        "fuel",
        "N",
        "give wasm N units of fuel (an instruction costs 1); running out traps",
    ),
    (
        "timeout",
        "DURATION",
        "trap once DURATION has passed: 500ms, 2s, 1.5m, 1h",
    ),
    (
        "max-memory-size",
        "BYTES",
        "let no linear memory grow past BYTES",
    ),
    (
        "max-table-elements",
        "N",
        "let no table grow past N elements",
    ),
    ("max-instances", "N", "allow at most N instances"),
    ("max-tables", "N", "allow at most N tables"),
    ("max-memories", "N", "allow at most N linear memories"),
    (
        "max-gc-heap-size",
        "BYTES",
        "let the GC heap (structs, arrays) grow to BYTES at most; allocating more traps",
    ),
    (
        "max-wasm-stack",
        "BYTES",
        "the wasm stack; deeper recursion traps (`call stack exhausted`)",
    ),
    (
        "max-threads",
        "N",
        "let at most N wasi-threads threads run at once besides the main thread (default 256); \
         more spawns fail in the guest",
    ),
    (
        "unknown-imports-trap",
        "y|n",
        "define function imports nothing provides as functions that fail when called",
    ),
    (
        "unknown-imports-default",
        "y|n",
        "define function imports nothing provides as functions that return zeros",
    ),
];

/// The keys that take `y` or `n` besides the proposals; a bare key means
/// `y`, as in wasmtime.
const SWITCHES: [&str; 2] = ["unknown-imports-trap", "unknown-imports-default"];

/// What `-W help` prints: every key with its value and meaning, then the
/// proposals, and an example.
pub fn help() -> String {
    let mut text = String::from("Options of -W (comma-separated or repeated):\n\n");
    for (key, value, what) in OPTIONS {
        text.push_str(&format!("  -W {:<32} {what}\n", format!("{key}={value}")));
    }
    text.push_str(&format!(
        "  -W {:<32} switch a WebAssembly proposal on or off; NAME is one of:\n",
        "NAME=y|n"
    ));
    let names: Vec<&str> = Config::feature_names().collect();
    for line in names.chunks(6) {
        text.push_str(&format!("        {}\n", line.join(", ")));
    }
    text.push_str(
        "\nA bare switch means y (-W simd is -W simd=y).\n\
         Example: strata run -W fuel=1000000,timeout=2s -W max-memory-size=16777216 prog.wasm\n",
    );
    text
}

/// `y` or `n` (and wasmtime's other spellings of them).
fn parse_switch(key: &str, value: &str) -> Result<bool> {
    match value {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => bail!("invalid value `{value}` for -W {key}; expected `y` or `n`"),
    }
}

impl WasmOptions {
    /// Parses every `-W` argument (each a comma-separated `key=value` list).
    pub fn parse(args: &[String]) -> Result<WasmOptions> {
        let mut options = WasmOptions::default();
        for item in args
            .iter()
            .flat_map(|a| a.split(','))
            .filter(|i| !i.is_empty())
        {
            let is_switch =
                |key: &str| SWITCHES.contains(&key) || Config::feature_names().any(|n| n == key);
            let (key, value) = match item.split_once('=') {
                Some(pair) => pair,
                None if is_switch(item) => (item, "y"),
                None => bail!("-W option `{item}` needs a value (`{item}=...`)"),
            };
            let bad = || format!("invalid value `{value}` for -W {key}");
            match key {
                "fuel" => options.fuel = Some(value.parse().with_context(bad)?),
                "timeout" => options.timeout = Some(parse_duration(value).with_context(bad)?),
                "max-memory-size" => {
                    options.max_memory_size = Some(value.parse().with_context(bad)?)
                }
                "max-table-elements" => {
                    options.max_table_elements = Some(value.parse().with_context(bad)?)
                }
                "max-instances" => options.max_instances = Some(value.parse().with_context(bad)?),
                "max-tables" => options.max_tables = Some(value.parse().with_context(bad)?),
                "max-memories" => options.max_memories = Some(value.parse().with_context(bad)?),
                "max-wasm-stack" => options.max_wasm_stack = Some(value.parse().with_context(bad)?),
                "max-gc-heap-size" => {
                    options.max_gc_heap_size = Some(value.parse().with_context(bad)?)
                }
                "max-threads" => options.max_threads = Some(value.parse().with_context(bad)?),
                "unknown-imports-trap" => options.unknown_imports_trap = parse_switch(key, value)?,
                "unknown-imports-default" => {
                    options.unknown_imports_default = parse_switch(key, value)?
                }
                feature if Config::feature_names().any(|n| n == feature) => {
                    let enable = parse_switch(key, value)?;
                    options.features.push((feature.to_string(), enable));
                }
                other => {
                    let keys: Vec<&str> = OPTIONS.iter().map(|(key, _, _)| *key).collect();
                    let features: Vec<&str> = Config::feature_names().collect();
                    bail!(
                        "unknown -W option `{other}`; expected one of: {}, \
                         or a WebAssembly proposal ({}) set to y or n (see -W help)",
                        keys.join(", "),
                        features.join(", ")
                    )
                }
            }
        }
        Ok(options)
    }

    /// Switches on what the options need in the engine's configuration.
    pub fn configure(&self, config: &mut Config) {
        for (name, enable) in &self.features {
            // Only names `set_feature` knows were accepted by `parse`.
            let _ = config.set_feature(name, *enable);
        }
        config.consume_fuel(self.fuel.is_some());
        config.epoch_interruption(self.timeout.is_some());
        if let Some(bytes) = self.max_wasm_stack {
            config.max_wasm_stack(bytes);
        }
        if let Some(bytes) = self.max_gc_heap_size {
            config.max_gc_heap_size(bytes);
        }
    }

    /// The store limits the options ask for.
    pub fn store_limits(&self) -> StoreLimits {
        let mut b = StoreLimitsBuilder::new();
        if let Some(n) = self.max_memory_size {
            b = b.memory_size(n);
        }
        if let Some(n) = self.max_table_elements {
            b = b.table_elements(n);
        }
        if let Some(n) = self.max_instances {
            b = b.instances(n);
        }
        if let Some(n) = self.max_tables {
            b = b.tables(n);
        }
        if let Some(n) = self.max_memories {
            b = b.memories(n);
        }
        b.build()
    }

    /// Defines the module's unknown function imports in `linker` as
    /// `unknown-imports-trap` or `unknown-imports-default` asks; traps win
    /// when both are given, as in wasmtime.
    pub fn define_unknown_imports<T: 'static>(
        &self,
        linker: &mut strata::Linker<T>,
        module: &strata::Module,
    ) -> Result<()> {
        if self.unknown_imports_trap {
            linker.define_unknown_imports_as_traps(module)?;
        }
        if self.unknown_imports_default {
            linker.define_unknown_imports_as_default_values(module)?;
        }
        Ok(())
    }

    /// Whether `-W NAME=y` switched proposal `name` on (the last setting
    /// wins; proposals that are on by default count only when named).
    pub fn feature_enabled(&self, name: &str) -> bool {
        self.features
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .is_some_and(|(_, enable)| *enable)
    }

    /// The most wasi-threads threads that may run at once (`-W
    /// max-threads`).
    pub fn max_threads(&self) -> usize {
        self.max_threads
            .unwrap_or(strata_wasi::threads::DEFAULT_MAX_THREADS)
    }

    /// Sets up the store of a spawned wasi-threads thread: its own fuel,
    /// and the deadline of the timer [`WasmOptions::start`] armed for the
    /// main store (the epoch is the engine's, so one timer serves all).
    pub fn start_thread<T>(&self, store: &mut strata::Store<T>) -> Result<()> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel)?;
        }
        if self.timeout.is_some() {
            store.set_epoch_deadline(1);
        }
        Ok(())
    }

    /// The `-W timeout`, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Gives the store its fuel and arms the timeout, which interrupts wasm
    /// from a timer thread once it expires.
    pub fn start<T>(&self, store: &mut strata::Store<T>) -> Result<()> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel)?;
        }
        if let Some(timeout) = self.timeout {
            store.set_epoch_deadline(1);
            let engine: Engine = store.engine().clone();
            std::thread::spawn(move || {
                std::thread::sleep(timeout);
                engine.increment_epoch();
            });
        }
        Ok(())
    }
}

/// Parses `10s`, `500ms`, `2m`, `1h`, `250us`, `100ns` or bare seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse()?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" => n / 1e6,
        "ns" => n / 1e9,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => bail!("unknown duration unit `{other}` (use ns, us, ms, s, m or h)"),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wasmtime_style_options() {
        let o = WasmOptions::parse(&[
            "fuel=10,timeout=1.5s".into(),
            "max-memory-size=65536".into(),
        ])
        .unwrap();
        assert_eq!(o.fuel, Some(10));
        assert_eq!(o.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(o.max_memory_size, Some(65536));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(WasmOptions::parse(&["fuel".into()]).is_err());
        assert!(WasmOptions::parse(&["nope=1".into()]).is_err());
        assert!(WasmOptions::parse(&["timeout=5parsecs".into()]).is_err());
        let o = WasmOptions::parse(&["simd=y,tail-call=n".into()]).unwrap();
        assert_eq!(
            o.features,
            [("simd".to_string(), true), ("tail-call".to_string(), false)]
        );
        assert!(WasmOptions::parse(&["simd=maybe".into()]).is_err());
        // A bare switch means `y`; a bare limit is an error.
        let o = WasmOptions::parse(&["unknown-imports-trap,simd".into()]).unwrap();
        assert!(o.unknown_imports_trap && !o.unknown_imports_default);
        assert_eq!(o.features, [("simd".to_string(), true)]);
        let o = WasmOptions::parse(&["unknown-imports-default=yes".into()]).unwrap();
        assert!(o.unknown_imports_default && !o.unknown_imports_trap);
        let o = WasmOptions::parse(&["unknown-imports-trap=n".into()]).unwrap();
        assert!(!o.unknown_imports_trap);
        assert!(WasmOptions::parse(&["unknown-imports-trap=1".into()]).is_err());
    }
}
