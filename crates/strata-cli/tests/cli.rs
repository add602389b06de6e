//! Runs the real `strata` binary and checks its output and exit status.

use std::path::Path;
use std::process::{Command, Output};

fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .output()
        .expect("the strata binary runs")
}

/// The tiers every execution test runs in.
const TIERS: [&str; 2] = ["interp", "jit"];

/// Runs `strata run --tier TIER ARGS...`.
fn run_in(tier: &str, args: &[&str]) -> Output {
    let mut all = vec!["run", "--tier", tier];
    all.extend_from_slice(args);
    strata(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn invoke_prints_results_one_per_line() {
    let fib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fib.wat");
    let o = strata(&["run", "--invoke", "fib", fib.to_str().unwrap(), "20"]);
    assert_eq!(stdout(&o), "6765\n", "stderr: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));

    let o = strata(&["run", "--invoke", "values", "start.wat"]);
    assert_eq!(stdout(&o), "-1\n1234567890123\n1.5\n-0.25\n");
}

#[test]
fn shorthand_runs_the_module() {
    let o = strata(&["--invoke", "div", "trap.wat", "7", "2"]);
    assert_eq!(stdout(&o), "3\n");
    assert_eq!(o.status.code(), Some(0));
    // Without --invoke the `_start` export runs.
    let o = strata(&["start.wat"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
}

#[test]
fn arguments_after_the_module_belong_to_it() {
    // `--invoke` after the module is a guest argument, not an option, so the
    // module runs its `_start` and the extra arguments are ignored.
    let o = strata(&["start.wat", "--invoke", "values"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn trap_exits_134_with_message_and_backtrace() {
    for tier in TIERS {
        let o = run_in(tier, &["--invoke", "outer", "trap.wat"]);
        assert_eq!(o.status.code(), Some(134));
        let err = stderr(&o);
        assert!(err.starts_with("error: wasm trap: unreachable\n"), "{err}");
        let inner = err.find("inner").expect("backtrace names inner");
        let outer = err.find("outer").expect("backtrace names outer");
        assert!(inner < outer, "innermost frame first: {err}");

        let o = run_in(tier, &["--invoke", "div", "trap.wat", "1", "0"]);
        assert_eq!(o.status.code(), Some(134));
        assert!(stderr(&o).contains("wasm trap: integer divide by zero"));
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let o = strata(&["run", "does-not-exist.wasm"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("failed to read `does-not-exist.wasm`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn invalid_module_names_the_file() {
    let o = strata(&["run", "invalid.wasm"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("invalid.wasm"), "{err}");
    assert!(err.contains("offset"), "{err}");
}

#[test]
fn missing_imports_are_all_listed_with_types() {
    let o = strata(&["run", "imports.wat"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("`env::log`") && err.contains("(func (param i32))"),
        "{err}"
    );
    assert!(
        err.contains("`env::counter`") && err.contains("(global (mut i64))"),
        "{err}"
    );
}

#[test]
fn unknown_export_lists_the_exports() {
    let o = strata(&["run", "--invoke", "nope", "trap.wat"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("failed to find export `nope`"), "{err}");
    assert!(err.contains("outer: (func (result i32))"), "{err}");
}

#[test]
fn bad_arguments_are_rejected() {
    let o = strata(&["run", "--invoke", "div", "trap.wat", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expects 2 arguments"));
    let o = strata(&["run", "--invoke", "div", "trap.wat", "one", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot parse `one` as i32"));
}

#[test]
fn unknown_tier_is_an_error() {
    let o = strata(&["run", "--tier", "turbo", "start.wat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown tier `turbo`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wast_reports_totals_and_exit_status() {
    let o = strata(&["wast", "pass.wast"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).ends_with("4 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );

    let o = strata(&["wast", "--tier", "interp", "fail.wast", "pass.wast"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("fail.wast:2:"), "{out}");
    assert!(out.ends_with("6 passed, 1 failed\n"), "{out}");
}

#[test]
fn wast_reports_a_script_parse_error_at_its_line() {
    let dir = std::env::temp_dir().join(format!("strata-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("broken.wast");
    std::fs::write(&path, "(module)\n\n(assert_return (invoke \"f\")").expect("write");
    let o = strata(&["wast", path.to_str().expect("utf-8 temp path")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("broken.wast:3: failed to parse script"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn fuel_stops_an_infinite_loop() {
    for tier in TIERS {
        let o = run_in(
            tier,
            &["-W", "fuel=100000", "--invoke", "spin", "limits.wat"],
        );
        assert_eq!(o.status.code(), Some(134));
        assert!(
            stderr(&o).starts_with("error: wasm trap: all fuel consumed by WebAssembly"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn timeout_interrupts_an_infinite_loop() {
    for tier in TIERS {
        let start = std::time::Instant::now();
        let o = run_in(
            tier,
            &["-W", "timeout=200ms", "--invoke", "spin", "limits.wat"],
        );
        assert_eq!(o.status.code(), Some(134));
        assert!(
            stderr(&o).starts_with("error: wasm trap: interrupt"),
            "{}",
            stderr(&o)
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}

#[test]
fn memory_bomb_stops_at_the_memory_limit() {
    for tier in TIERS {
        // `bomb` grows one page at a time until memory.grow fails, then
        // returns the size: 16 pages of 64 KiB fit in 1 MiB.
        let o = run_in(
            tier,
            &[
                "-W",
                "max-memory-size=1048576",
                "--invoke",
                "bomb",
                "limits.wat",
            ],
        );
        assert_eq!(stdout(&o), "16\n", "{}", stderr(&o));
        assert_eq!(o.status.code(), Some(0));
    }
}

#[test]
fn deep_recursion_stops_at_the_wasm_stack_limit() {
    for tier in TIERS {
        let o = run_in(
            tier,
            &[
                "-W",
                "max-wasm-stack=65536",
                "--invoke",
                "deep",
                "limits.wat",
                "1",
            ],
        );
        assert_eq!(o.status.code(), Some(134));
        let err = stderr(&o);
        assert!(
            err.starts_with("error: wasm trap: call stack exhausted"),
            "{err}"
        );
        assert!(
            err.contains("more frames"),
            "a deep backtrace is cut short: {err}"
        );
    }
}

#[test]
fn bad_wasm_options_are_rejected() {
    let o = strata(&["run", "-W", "fuel", "limits.wat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("needs a value"), "{}", stderr(&o));
    let o = strata(&["run", "-W", "speed=11", "limits.wat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown -W option `speed`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wasm_stack_limits_beyond_the_address_space_are_rejected() {
    let o = strata(&[
        "run",
        "-W",
        "max-wasm-stack=18446744073709551615",
        "--invoke",
        "deep",
        "limits.wat",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.contains("max-wasm-stack"),
        "{err}"
    );
}

#[test]
fn a_huge_wasm_stack_limit_still_ends_in_a_trap() {
    // 1 TiB is more than the machine has: the interpreter must not try to
    // allocate it up front, and running out is a trap, not an abort.
    for tier in TIERS {
        let o = run_in(
            tier,
            &[
                "-W",
                "max-wasm-stack=1099511627776",
                "--invoke",
                "deep",
                "limits.wat",
                "1",
            ],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(134), "{tier}: {err}");
        assert!(
            err.starts_with("error: wasm trap: call stack exhausted"),
            "{tier}: {err}"
        );
    }
}

#[test]
fn invoking_an_export_that_is_not_a_function_says_what_it_is() {
    for (name, kind) in [
        ("memory", "a memory"),
        ("counter", "a global"),
        ("table", "a table"),
    ] {
        let o = strata(&["run", "--invoke", name, "exports.wat"]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "export `{name}` of `exports.wat` is {kind}, not a function"
            )),
            "{err}"
        );
        assert!(err.contains("get: (func (result i32))"), "{err}");
    }
}

#[test]
fn a_wasi_program_without_a_memory_export_fails_loudly() {
    for tier in TIERS {
        let o = run_in(tier, &["no_memory_export.wat"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{tier}: {err}");
        assert!(
            err.contains("missing required memory export")
                && err.contains("`memory`")
                && err.contains("fd_write"),
            "{tier}: {err}"
        );
        assert!(o.stdout.is_empty());
    }
}
