//! Telling external profilers about machine code: `perf`'s map files and
//! jitdump files ([`ProfilingStrategy`], chosen with `Config::profiler`).
//!
//! A tier that publishes machine code tells the engine's [`CodeObserver`]
//! where each function is and what it is called. Today that is the JIT
//! when it compiles a module; a compile cache loading code, or tier-up
//! compiling a hot function, announce their code the same way, whenever
//! it is published. The interpreter publishes no machine code, so these
//! profiles say nothing about it (the guest profiler,
//! `GuestProfiler`, samples every tier instead).
//!
//! Without the JIT nothing publishes machine code: the profiler setting
//! still opens its files, and nothing is written to them.
#![cfg_attr(not(strata_jit), allow(dead_code))]

mod jitdump;
mod perfmap;

use std::sync::Arc;

/// How compiled code is described to external profilers, as wasmtime's
/// `ProfilingStrategy` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProfilingStrategy {
    /// No profiler support (the default).
    #[default]
    None,
    /// `/tmp/perf-PID.map`: one line per compiled function (address, size,
    /// name), which `perf report` reads to name samples in JIT code.
    PerfMap,
    /// `jit-PID.dump` in the current directory: the jitdump format that
    /// `perf inject --jit` turns into symbolized code for `perf report`
    /// (record with `perf record -k mono`).
    JitDump,
}

/// One function of machine code, as a tier published it.
pub(crate) struct CodeRegion<'a> {
    /// The address of its first instruction; its code is executable and
    /// readable for as long as the code is registered.
    pub address: usize,
    pub len: usize,
    /// What profiles call it.
    pub name: &'a str,
}

/// Told about machine code as tiers publish it. Observing must not fail a
/// compilation: an observer that cannot write reports nothing more.
pub(crate) trait CodeObserver: Send + Sync {
    /// `regions` were just made executable.
    fn code_published(&self, regions: &[CodeRegion<'_>]);
}

/// The observer for `strategy`, if it has one; opens its file.
pub(crate) fn observer(
    strategy: ProfilingStrategy,
) -> anyhow::Result<Option<Arc<dyn CodeObserver>>> {
    Ok(match strategy {
        ProfilingStrategy::None => None,
        ProfilingStrategy::PerfMap => Some(Arc::new(perfmap::PerfMap::open()?)),
        ProfilingStrategy::JitDump => Some(Arc::new(jitdump::JitDump::open()?)),
    })
}

/// A function's name as profiles show it: demangled from the name section,
/// or `wasm-function[N]`.
pub(crate) fn function_name(index: u32, name: Option<&str>) -> String {
    match name {
        Some(name) => match rustc_demangle::try_demangle(name) {
            Ok(demangled) => format!("{demangled:#}"),
            Err(_) => name.to_string(),
        },
        None => format!("wasm-function[{index}]"),
    }
}
