//! Interpreter benchmark: times Strata on the programs in
//! `benches/programs/` and `benches/corpus/` and, when wasmi's CLI is
//! installed, runs the same programs under wasmi side by side and prints
//! the ratios.
//!
//! Run with `cargo bench -p strata --bench interp` (or `benches/run.sh`).
//!
//! For each program Strata is measured in process:
//! - `load`: `Module::new` with eager translation (parse, validate and
//!   translate every function),
//! - `inst`: `Instance::new`,
//! - `exec`: the call of the exported `run` function,
//! - `total`: a fresh end to end run with the default (lazy translation)
//!   engine: `Module::new` + `Instance::new` + call.
//!
//! wasmi is measured as the wall time of a whole `wasmi run --invoke run
//! FILE.wasm ARG` process, so its column includes process start-up (a few
//! milliseconds, small next to the ~0.3–2 s the programs take). When
//! `STRATA_CLI` names a built `strata` binary, the same command is timed with
//! it too, for a like-for-like whole-process comparison.
//!
//! Every measurement is the best of `STRATA_BENCH_RUNS` runs (default 3).
//! Both runtimes must print the same result; a disagreement fails the run.
//!
//! Environment:
//! - `STRATA_BENCH_RUNS`: runs per measurement (default 3),
//! - `WASMI`: the wasmi CLI to use (default: `wasmi`, then `wasmi_cli`, on
//!   the PATH; install with `cargo install wasmi_cli --version '^2' --locked`,
//!   which installs a binary named `wasmi`),
//! - `STRATA_CLI`: path to the `strata` binary (optional).

mod common;

use common::{best, cell, find_tool, geomean, ms, ratio, runs_ok, CliRun};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use strata::{Config, Engine, Instance, Module, Store, Tier};

/// Each program exports `run(i32) -> i32`; the argument sizes the work.
/// Paths are relative to `benches/`: our WAT programs, and the Rust
/// programs of the tier benchmark's corpus (`benches/corpus/build.sh`).
/// Arguments are chosen so each run takes roughly 0.1–1 s in Strata's
/// interpreter on the development machine.
const PROGRAMS: &[(&str, i32, &str)] = &[
    ("programs/fib.wat", 35, "recursive Fibonacci: calls"),
    (
        "programs/collatz.wat",
        1_000_000,
        "Collatz lengths: tight integer loop",
    ),
    (
        "programs/sieve.wat",
        60,
        "sieve of Eratosthenes: byte loads/stores",
    ),
    (
        "programs/matmul.wat",
        320,
        "f64 matrix multiply in linear memory",
    ),
    (
        "programs/hash.wat",
        1_500,
        "FNV-1a/rotate hash over memory: bit twiddling",
    ),
    (
        "programs/simd_matmul.wat",
        512,
        "f32x4 matrix multiply: vector loads/stores, splats",
    ),
    (
        "programs/simd_bytes.wat",
        1_000,
        "i8x16 byte scan: compares, widening adds, swizzle",
    ),
    (
        "corpus/simd_image.wasm",
        300,
        "Rust image kernels with SIMD intrinsics and auto-vectorised loops",
    ),
    (
        "corpus/nbody.wasm",
        1_000_000,
        "Rust n-body: f64 arithmetic, sqrt",
    ),
    (
        "corpus/sha256.wasm",
        600,
        "Rust SHA-256: 32-bit rotates, byte loads",
    ),
    (
        "corpus/mandelbrot.wasm",
        800,
        "Rust Mandelbrot: f64 loop, early exit",
    ),
    (
        "corpus/quicksort.wasm",
        10,
        "Rust quicksort: recursion, i32 memory",
    ),
    (
        "corpus/fannkuch.wasm",
        9,
        "Rust fannkuch-redux: small arrays, loops",
    ),
];

/// The short name of a program: its file name without the extension.
fn short_name(file: &str) -> &str {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.split('.').next().unwrap_or(base)
}

/// Strata in process: (load, instantiate, execute, end to end, result).
fn strata_in_process(bytes: &[u8], arg: i32, runs: usize) -> [Duration; 4] {
    let mut eager = Config::new();
    eager.tier(Tier::Interp).lazy_translation(false);
    let engine = Engine::new(&eager).expect("engine");
    let (load, module) = best(runs, || Module::new(&engine, bytes).expect("module loads"));
    let mut store = Store::new(&engine, ());
    let (inst, instance) = best(runs, || {
        Instance::new(&mut store, &module, &[]).expect("instantiates")
    });
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .expect("exports run(i32) -> i32");
    let (exec, _) = best(runs, || run.call(&mut store, arg).expect("runs"));

    let engine = Engine::new(Config::new().tier(Tier::Interp)).expect("engine");
    let (total, _) = best(runs, || {
        let module = Module::new(&engine, bytes).expect("module loads");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        let run = instance
            .get_typed_func::<i32, i32>(&mut store, "run")
            .expect("exports run");
        run.call(&mut store, arg).expect("runs")
    });
    [load, inst, exec, total]
}

/// The result of `run(arg)` in Strata, computed once outside the timings.
fn strata_result(bytes: &[u8], arg: i32) -> i32 {
    let engine = Engine::new(Config::new().tier(Tier::Interp)).expect("engine");
    let module = Module::new(&engine, bytes).expect("module loads");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .expect("exports run")
        .call(&mut store, arg)
        .expect("runs")
}

fn main() {
    let runs: usize = std::env::var("STRATA_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches");
    let tmp = std::env::temp_dir().join(format!("strata-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let wasmi = find_tool("WASMI", &["wasmi", "wasmi_cli"]);
    let strata_cli = std::env::var_os("STRATA_CLI").filter(runs_ok);
    match &wasmi {
        Some(w) => println!("wasmi: {}", w.to_string_lossy()),
        None => println!(
            "note: wasmi CLI not found (cargo install wasmi_cli --version '^2' --locked); \
             showing Strata only"
        ),
    }
    if let Some(s) = &strata_cli {
        println!("strata CLI: {}", s.to_string_lossy());
    }
    println!("best of {runs} runs per measurement\n");

    println!(
        "{:<10} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "program",
        "arg",
        "load ms",
        "inst ms",
        "exec ms",
        "total ms",
        "wasmi ms",
        "cli ms",
        "wasmi/in",
        "wasmi/cli"
    );
    let mut ratios = Vec::new();
    let mut cli_ratios = Vec::new();
    let mut commands = Vec::new();
    let mut failures = Vec::new();
    for &(file, arg, _) in PROGRAMS {
        let name = short_name(file);
        let bytes = wat::parse_file(root.join(file)).expect("benchmark program parses");
        let wasm_path: PathBuf = tmp.join(format!("{name}.wasm"));
        std::fs::write(&wasm_path, &bytes).expect("write wasm");

        let expected = strata_result(&bytes, arg);
        let [load, inst, exec, total] = strata_in_process(&bytes, arg, runs);

        let mut time_cli = |program: &Option<OsString>, who: &str| {
            let program = program.as_ref()?;
            let options: &[&str] = if who == "wasmi" {
                &[]
            } else {
                &["--tier", "interp"]
            };
            let cli = CliRun::new(program, options, &wasm_path, arg);
            commands.push(cli.display());
            let (t, out) = cli.time(runs);
            match out {
                Ok(printed) if printed == expected.to_string() => Some(t),
                Ok(printed) => {
                    failures.push(format!(
                        "{name}: {who} printed {printed:?}, Strata returned {expected}"
                    ));
                    None
                }
                Err(e) => {
                    failures.push(format!("{name}: {who} failed: {e}"));
                    None
                }
            }
        };
        let wasmi_t = time_cli(&wasmi, "wasmi");
        let cli_t = time_cli(&strata_cli, "strata CLI");

        let r_in = ratio(wasmi_t, Some(total), &mut ratios);
        let r_cli = ratio(wasmi_t, cli_t, &mut cli_ratios);
        println!(
            "{:<10} {:>8} {:>9.3} {:>8.3} {:>9.1} {:>9.1} {:>9} {:>9} {:>8} {:>8}",
            name,
            arg,
            ms(load),
            ms(inst),
            ms(exec),
            ms(total),
            cell(wasmi_t),
            cell(cli_t),
            r_in,
            r_cli
        );
    }
    if !ratios.is_empty() {
        println!(
            "\ngeometric mean wasmi / Strata in process: {:.2} (above 1: Strata is faster)",
            geomean(&ratios)
        );
    }
    if !cli_ratios.is_empty() {
        println!(
            "geometric mean wasmi / strata CLI:        {:.2}",
            geomean(&cli_ratios)
        );
    }
    println!("\nprograms:");
    for &(file, _, what) in PROGRAMS {
        println!("  {file:<24} {what}");
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
