//! Instantiation benchmark: microseconds per instance of a module with
//! 1 MiB of data in active segments (and a few functions, globals and a
//! table), through `InstancePre::instantiate` into a fresh store, in each
//! tier, with the memory mapped copy-on-write from the module's image
//! (`Config::memory_init_cow`, the default) and with the segments copied
//! (the only way before images). Run with
//! `cargo bench -p strata --bench instantiate`.
//!
//! Every measurement is the best of `STRATA_BENCH_RUNS` runs (default 3)
//! of 200 instantiations.

use std::time::{Duration, Instant};
use strata::{Config, Engine, Linker, Module, Store, Tier};

/// A module with `segments` active data segments of 64 KiB each.
fn module_text(segments: usize) -> String {
    let chunk: String = (0..65536)
        .map(|i| format!("\\{:02x}", (i * 7 + 3) % 256))
        .collect();
    let mut wat = String::from("(module (memory (export \"memory\") 32)\n");
    for s in 0..segments {
        wat.push_str(&format!("(data (i32.const {}) \"{chunk}\")\n", s * 65536));
    }
    wat.push_str(
        r#"(table 4 funcref) (elem (i32.const 0) $f $f $f $f)
           (global (mut i32) (i32.const 0))
           (func $f (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))"#,
    );
    wat
}

fn main() {
    let runs: usize = std::env::var("STRATA_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    const INSTANCES: u32 = 200;
    println!(
        "instantiating a module with 1 MiB of data, {INSTANCES} instances per run, best of {runs}"
    );
    for (tier, cow) in [Tier::Interp, Tier::Jit, Tier::Tiered]
        .into_iter()
        .flat_map(|t| [(t, true), (t, false)])
    {
        if !tier.is_available() {
            continue;
        }
        let mut config = Config::new();
        config.tier(tier).memory_init_cow(cow);
        let engine = Engine::new(&config).expect("valid config");
        let module = Module::new(&engine, module_text(16)).expect("module");
        let pre = Linker::<()>::new(&engine)
            .instantiate_pre(&module)
            .expect("no imports");
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let start = Instant::now();
            for _ in 0..INSTANCES {
                let mut store = Store::new(&engine, ());
                let instance = pre.instantiate(&mut store).expect("instantiates");
                std::hint::black_box(instance);
            }
            best = best.min(start.elapsed());
        }
        let per = best.as_secs_f64() * 1e6 / f64::from(INSTANCES);
        let how = if cow { "cow" } else { "copy" };
        println!(
            "{:<8} {how:<5} {per:>10.1} us per instance",
            format!("{tier:?}")
        );
    }
}
