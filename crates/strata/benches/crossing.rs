//! Crossing benchmark: the cost of a call from interpreted code into
//! compiled code, the path tiered execution takes whenever a large
//! function that is still interpreted calls a small one that is compiled
//! already (313,000 times in a cold run of the regex app).
//!
//! Run with `cargo bench -p strata --bench crossing [-- SETUP]`. A loop
//! calls a leaf that adds one, `STRATA_BENCH_CALLS` times (default ten
//! million), in three set-ups (or the one named), and each line prints the
//! best of `STRATA_BENCH_RUNS` (default 5) in nanoseconds per call:
//! - `interp`: caller and leaf interpreted (`Tier::Interp`);
//! - `jit`: both compiled (`Tier::Jit`);
//! - `crossing`: the caller interpreted, the leaf compiled (`Tier::Tiered`
//!   with the leaf hot after 50 calls, and the caller, entered twice, and
//!   its loop never hot).
//!
//! For instruction counts rather than time, run the bench binary for one
//! set-up under `valgrind --tool=callgrind` with `STRATA_BENCH_RUNS=1` and
//! `STRATA_BENCH_CALLS` at two values: the difference divided by the
//! difference in calls is the per-call cost (about 270 instructions for a
//! crossing, 2026-12).

use std::time::{Duration, Instant};
use strata::{Config, Engine, Instance, Module, Store, Tier};

const WAT: &str = r#"(module
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "run") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (call $leaf (local.get 1)))
      (br_if $l (i32.lt_s (local.get 1) (local.get 0))))
    (local.get 1)))"#;

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The best time of `runs` calls of `run(calls)`, each on a fresh module
/// (call counts and compiled code belong to the module).
fn measure(config: &Config, calls: u32, runs: u32) -> anyhow::Result<Duration> {
    let engine = Engine::new(config)?;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let module = Module::new(&engine, WAT)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        // Sixty calls of the leaf make it hot (its code is compiled on this
        // thread, before the timed call); `run`, entered twice from the
        // host (16 calls' worth each), stays cold.
        run.call(&mut store, 60)?;
        let start = Instant::now();
        let got = run.call(&mut store, calls as i32)?;
        best = best.min(start.elapsed());
        anyhow::ensure!(got == calls as i32, "run({calls}) returned {got}");
    }
    Ok(best)
}

fn main() -> anyhow::Result<()> {
    let calls = env("STRATA_BENCH_CALLS", 10_000_000);
    let runs = env("STRATA_BENCH_RUNS", 5);
    let mut setups = vec![("interp", Tier::Interp)];
    if Tier::Jit.is_available() {
        setups.push(("jit", Tier::Jit));
        setups.push(("crossing", Tier::Tiered));
    }
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, tier) in setups {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut config = Config::new();
        config
            .tier(tier)
            .tier_up_calls(50)
            .tier_up_loop_iterations(u32::MAX)
            .tier_up_in_background(false)
            .cache(None);
        let t = measure(&config, calls, runs)?;
        println!(
            "{name:9} {:7.2} ns per call ({calls} calls)",
            t.as_nanos() as f64 / f64::from(calls)
        );
    }
    Ok(())
}
