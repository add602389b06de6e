//! Tier benchmark: Strata's interpreter and JIT on the benchmark corpus,
//! and, when wasmtime's CLI is installed, the same programs under wasmtime
//! side by side, as ratios.
//!
//! Run with `cargo bench -p strata --bench tiers` (or `benches/tiers.sh`).
//!
//! The corpus is `benches/corpus/*.wasm` (Rust sources next to them,
//! rebuilt by `benches/corpus/build.sh`) and `benches/programs/*.wat`. Each
//! exports `run(i32) -> i32`.
//!
//! In process, per tier: `load` is `Module::new` (for the JIT: decode,
//! validate and compile every function; for the interpreter: decode,
//! validate and translate every function), `inst` is `Instance::new`,
//! `exec` is the call of `run`.
//!
//! Against wasmtime, whole processes are timed with the same command shape:
//! `strata run --tier jit -C cache=n --invoke run FILE ARG` and
//! `wasmtime run -C cache=n --invoke run FILE ARG` (both compiling every
//! time; `benches/startup.sh` measures the caches), once with the
//! program's full argument (`run` columns) and once with a tiny one
//! (`start` columns: process start, load, compile and instantiate
//! dominate).
//!
//! Every measurement is the best of `STRATA_BENCH_RUNS` runs (default 3).
//! All runs must agree on the result; a disagreement fails the benchmark.
//!
//! Environment: `STRATA_BENCH_RUNS`; `WASMTIME` (default `wasmtime` on the
//! PATH; `cargo install wasmtime-cli --locked --version 48.0.8`); `STRATA_CLI` (the `strata`
//! binary; `benches/tiers.sh` builds and sets it).

mod common;

use common::{best, cell, find_tool, geomean, ms, ratio, runs_ok, CliRun};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use strata::{Config, Engine, Instance, Module, Store, Tier};

/// (file under `benches/`, argument, small argument, what it exercises).
const PROGRAMS: &[(&str, i32, i32, &str)] = &[
    (
        "corpus/nbody.wasm",
        5_000_000,
        1,
        "n-body: f64 arithmetic, sqrt",
    ),
    (
        "corpus/sha256.wasm",
        3_000,
        1,
        "SHA-256: 32-bit rotates, byte loads",
    ),
    (
        "corpus/mandelbrot.wasm",
        2_000,
        1,
        "Mandelbrot: f64 loop, early exit",
    ),
    (
        "corpus/quicksort.wasm",
        30,
        1,
        "quicksort: recursion, i32 memory",
    ),
    (
        "corpus/fannkuch.wasm",
        10,
        3,
        "fannkuch-redux: small arrays, loops",
    ),
    ("programs/fib.wat", 35, 1, "recursive Fibonacci: calls"),
    (
        "programs/collatz.wat",
        1_000_000,
        1,
        "Collatz lengths: integer loop",
    ),
    (
        "programs/sieve.wat",
        60,
        1,
        "sieve of Eratosthenes: byte memory",
    ),
    ("programs/matmul.wat", 320, 1, "f64 matrix multiply"),
    (
        "programs/hash.wat",
        1_500,
        1,
        "FNV-1a/rotate hash: bit twiddling",
    ),
    (
        "programs/simd_matmul.wat",
        512,
        4,
        "f32x4 matrix multiply: vector loads, splats",
    ),
    (
        "programs/simd_bytes.wat",
        1_000,
        1,
        "i8x16 byte scan: compares, widening adds",
    ),
    (
        "corpus/simd_image.wasm",
        300,
        1,
        "Rust image kernels: SIMD intrinsics, auto-vectorised",
    ),
];

/// `Module::new`, `Instance::new` and the call, timed in process.
fn in_process(tier: Tier, bytes: &[u8], arg: i32, runs: usize) -> ([Duration; 3], i32) {
    let mut config = Config::new();
    // `load` measures compiling, not the compile cache.
    config.tier(tier).lazy_translation(false).cache(None);
    let engine = Engine::new(&config).expect("engine");
    let (load, module) = best(runs, || Module::new(&engine, bytes).expect("module loads"));
    let mut store = Store::new(&engine, ());
    let (inst, instance) = best(runs, || {
        Instance::new(&mut store, &module, &[]).expect("instantiates")
    });
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .expect("exports run(i32) -> i32");
    let (exec, result) = best(runs, || run.call(&mut store, arg).expect("runs"));
    ([load, inst, exec], result)
}

fn main() {
    let runs: usize = std::env::var("STRATA_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches");
    let tmp = std::env::temp_dir().join(format!("strata-tiers-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    if !Tier::Jit.is_available() {
        eprintln!("the JIT tier is not available in this build or on this host");
        std::process::exit(1);
    }
    let wasmtime = find_tool("WASMTIME", &["wasmtime"]);
    let strata_cli = std::env::var_os("STRATA_CLI").filter(runs_ok);
    match &wasmtime {
        Some(w) => println!("wasmtime: {}", w.to_string_lossy()),
        None => println!(
            "note: wasmtime CLI not found (cargo install wasmtime-cli --locked --version 48.0.8); showing Strata only"
        ),
    }
    println!("best of {runs} runs per measurement; times in ms\n");
    println!(
        "{:<11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} | {:>7} {:>7} {:>6} | {:>6} {:>6} {:>6}",
        "program",
        "i.load",
        "i.exec",
        "j.load",
        "j.inst",
        "j.exec",
        "i.total",
        "speed",
        "strata",
        "wasmtm",
        "ratio",
        "s.strt",
        "w.strt",
        "ratio"
    );
    let (mut speedups, mut run_ratios, mut start_ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut commands = Vec::new();
    let mut failures = Vec::new();
    for &(file, arg, small, _) in PROGRAMS {
        let path = root.join(file);
        let bytes = if file.ends_with(".wat") {
            wat::parse_file(&path).expect("benchmark program parses")
        } else {
            std::fs::read(&path).expect("benchmark program reads")
        };
        let name = Path::new(file)
            .file_stem()
            .map_or(file.into(), |s| s.to_string_lossy().into_owned());
        let wasm_path: PathBuf = tmp.join(format!("{name}.wasm"));
        std::fs::write(&wasm_path, &bytes).expect("write wasm");

        let ([iload, _, iexec], expected) = in_process(Tier::Interp, &bytes, arg, runs);
        let ([jload, jinst, jexec], got) = in_process(Tier::Jit, &bytes, arg, runs);
        if got != expected {
            failures.push(format!(
                "{name}: jit returned {got}, interpreter {expected}"
            ));
        }
        let speedup = (iload + iexec).as_secs_f64() / (jload + jinst + jexec).as_secs_f64();
        speedups.push(speedup);

        let mut time_cli =
            |program: &Option<OsString>, options: &[&str], arg: i32, want: Option<i32>| {
                let program = program.as_ref()?;
                let cli = CliRun::new(program, options, &wasm_path, arg);
                commands.push(cli.display());
                let (t, out) = cli.time(runs);
                match out {
                    Ok(printed) if want.is_none_or(|w| printed == w.to_string()) => Some(t),
                    Ok(printed) => {
                        failures.push(format!(
                            "{}: printed {printed:?}, expected {want:?}",
                            cli.display()
                        ));
                        None
                    }
                    Err(e) => {
                        failures.push(format!("{}: {e}", cli.display()));
                        None
                    }
                }
            };
        let wasmtime_opts = ["-C", "cache=n"];
        let strata_opts = ["--tier", "jit", "-C", "cache=n"];
        let s_run = time_cli(&strata_cli, &strata_opts, arg, Some(expected));
        let w_run = time_cli(&wasmtime, &wasmtime_opts, arg, Some(expected));
        let s_start = time_cli(&strata_cli, &strata_opts, small, None);
        let w_start = time_cli(&wasmtime, &wasmtime_opts, small, None);

        let r_run = ratio(w_run, s_run, &mut run_ratios);
        let r_start = ratio(w_start, s_start, &mut start_ratios);
        println!(
            "{:<11} {:>8.1} {:>8.1} {:>8.1} {:>8.2} {:>8.1} {:>8.1} {:>6.1} | {:>7} {:>7} {:>6} | {:>6} {:>6} {:>6}",
            name,
            ms(iload),
            ms(iexec),
            ms(jload),
            ms(jinst),
            ms(jexec),
            ms(iload + iexec),
            speedup,
            cell(s_run),
            cell(w_run),
            r_run,
            cell(s_start),
            cell(w_start),
            r_start
        );
    }
    println!(
        "\ngeometric mean speed-up of the JIT over the interpreter (load+exec): {:.1}x",
        geomean(&speedups)
    );
    if !run_ratios.is_empty() {
        println!(
            "geometric mean wasmtime / strata, whole run:  {:.2} (above 1: Strata is faster)",
            geomean(&run_ratios)
        );
        println!(
            "geometric mean wasmtime / strata, start-up:   {:.2}",
            geomean(&start_ratios)
        );
    }
    println!("\nprograms:");
    for &(file, arg, small, what) in PROGRAMS {
        println!("  {file:<24} run({arg}), start-up run({small}): {what}");
    }
    if !commands.is_empty() {
        println!("\ncommands (the .wasm files are removed after the run):");
        for c in &commands {
            println!("  {c}");
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("error: {f}");
        }
        std::process::exit(1);
    }
}
