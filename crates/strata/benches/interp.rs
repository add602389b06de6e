//! Interpreter benchmark: times Strata on the programs in
//! `benches/programs/` (load + validate + translate, instantiate, execute),
//! and, when `wasmi` (from `cargo install wasmi_cli`) is on the PATH, runs the
//! same programs under wasmi side by side and prints the ratios.
//!
//! Run with `cargo bench -p strata --bench interp` (or `benches/run.sh`).
//! Set `STRATA_BENCH_RUNS` to change the number of runs per measurement
//! (default 3; the best run is reported).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use strata::{Engine, Instance, Module, Store};

/// Each program exports `run(i32) -> i32`; the argument sizes the work.
const PROGRAMS: &[(&str, i32)] = &[
    ("fib", 32),
    ("collatz", 1_000_000),
    ("sieve", 30),
    ("matmul", 200),
    ("hash", 300),
];

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn wasmi_available() -> bool {
    Command::new("wasmi")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    let runs: usize = std::env::var("STRATA_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/programs");
    let tmp = std::env::temp_dir().join(format!("strata-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let wasmi = wasmi_available();
    if !wasmi {
        println!("note: `wasmi` not on PATH (cargo install wasmi_cli); showing Strata only\n");
    }

    println!(
        "{:<9} {:>10} {:>10} {:>11} {:>11} {:>11} {:>8}",
        "program", "load ms", "inst ms", "exec ms", "total ms", "wasmi ms", "wasmi/us"
    );
    let mut ratios = Vec::new();
    for &(name, arg) in PROGRAMS {
        let wat_path = root.join(format!("{name}.wat"));
        let bytes = wat::parse_file(&wat_path).expect("benchmark program parses");
        let wasm_path: PathBuf = tmp.join(format!("{name}.wasm"));
        std::fs::write(&wasm_path, &bytes).expect("write wasm");

        let engine = Engine::default();
        let (load, module) = best(runs, || Module::new(&engine, &bytes).expect("module loads"));
        let mut store = Store::new(&engine, ());
        let (inst, instance) = best(runs, || {
            Instance::new(&mut store, &module, &[]).expect("instantiates")
        });
        let run = instance
            .get_typed_func::<i32, i32>(&mut store, "run")
            .expect("exports run");
        let (exec, result) = best(runs, || run.call(&mut store, arg).expect("runs"));
        let total = load + inst + exec;

        let mut wasmi_col = String::from("-");
        let mut ratio_col = String::from("-");
        if wasmi {
            let (t, out) = best(runs, || {
                Command::new("wasmi")
                    .args(["run", "--invoke", "run"])
                    .arg(&wasm_path)
                    .arg(arg.to_string())
                    .output()
                    .expect("wasmi runs")
            });
            let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                printed,
                result.to_string(),
                "wasmi and Strata disagree on {name}"
            );
            let ratio = t.as_secs_f64() / total.as_secs_f64();
            ratios.push(ratio);
            wasmi_col = format!("{:.1}", ms(t));
            ratio_col = format!("{ratio:.2}");
        }
        println!(
            "{:<9} {:>10.3} {:>10.3} {:>11.1} {:>11.1} {:>11} {:>8}",
            name,
            ms(load),
            ms(inst),
            ms(exec),
            ms(total),
            wasmi_col,
            ratio_col
        );
    }
    if !ratios.is_empty() {
        let geomean = ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64;
        println!(
            "\ngeometric mean of wasmi time / Strata time: {:.2} (above 1 means Strata is faster)",
            geomean.exp()
        );
        println!("wasmi: whole-process wall time of `wasmi run --invoke run FILE.wasm ARG`");
        println!("Strata: in-process load + instantiate + execute; best of {runs} runs each");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
