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
    // module runs its `_start` and the extra arguments are ignored; the run
    // succeeds, so no hint.
    let o = strata(&["start.wat", "--invoke", "values"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_failed_run_hints_at_options_after_the_module() {
    for tier in TIERS {
        // `-W fuel=10` went to the `--invoke`d function as arguments, so
        // the call has the wrong number of them. (`wasi.rs` checks the hint
        // after a trap and a failing exit status.)
        let o = run_in(
            tier,
            &[
                "--invoke",
                "div",
                "trap.wat",
                "7",
                "-W",
                "fuel=10",
                "--tier=jit",
                "-Sx",
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            stderr(&o),
            "error: export `div` expects 2 arguments of types [\"i32\", \"i32\"], got 5\n\
             hint: `-W`, `--tier` and `-S` came after the module, so the module got them as \
             arguments; to give them to strata, put them before the module: \
             strata run [OPTIONS] <MODULE> [ARGS]...\n"
        );
    }
}

/// The text of `help` from the line that starts with `start` up to the
/// next option (a line starting with two spaces and `-`).
fn help_section<'a>(help: &'a str, start: &str) -> &'a str {
    let at = help
        .find(&format!("\n  {start}"))
        .or_else(|| help.find(&format!("\n      {start}")))
        .unwrap_or_else(|| panic!("no {start} in:\n{help}"));
    let rest = &help[at + 1..];
    let end = rest[1..]
        .find("\n  -")
        .or_else(|| rest[1..].find("\n      --"))
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn run_help_documents_every_option_with_an_example() {
    let o = strata(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for option in [
        "--invoke", "--tier", "-W", "--dir", "--env", "-S", "<MODULE",
    ] {
        let section = help_section(&help, option);
        assert!(
            section.contains("Example: strata run "),
            "{option} has no example:\n{section}"
        );
    }
    // Every -W key and every proposal, from the tables that parse them.
    let w = help_section(&help, "-W");
    for key in [
        "fuel=N",
        "timeout=DURATION",
        "max-memory-size=BYTES",
        "max-table-elements=N",
        "max-instances=N",
        "max-tables=N",
        "max-memories=N",
        "max-wasm-stack=BYTES",
        "max-gc-heap-size=BYTES",
        "unknown-imports-trap=y|n",
        "unknown-imports-default=y|n",
    ] {
        assert!(w.contains(key), "-W help lacks {key}:\n{w}");
    }
    for proposal in strata::Config::feature_names() {
        assert!(w.contains(proposal), "-W help lacks {proposal}:\n{w}");
    }
    assert!(help.contains("Options go before the module"), "{help}");
    // `-h` is the short form: one line per option.
    let o = strata(&["run", "-h"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("Example:"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("--dir <HOST[::GUEST]>"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn w_help_and_s_help_list_their_keys() {
    for args in [
        &["run", "-W", "help"][..],
        &["-Whelp"],
        &["run", "-W", "help", "start.wat"],
    ] {
        let o = strata(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with("Options of -W"), "{out}");
        for key in [
            "fuel=N",
            "max-wasm-stack=BYTES",
            "unknown-imports-default=y|n",
            "tail-call",
        ] {
            assert!(out.contains(key), "{key}: {out}");
        }
        assert!(out.contains("Example: strata run -W "), "{out}");
    }
    let o = strata(&["run", "-S", "help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("-S tcplisten=ADDR"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Example: strata run -S "),
        "{}",
        stdout(&o)
    );
    // Without a module, any other missing-module error stays clap's.
    let o = strata(&["run", "-W", "fuel=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("required"), "{}", stderr(&o));
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
fn unknown_imports_trap_when_called_or_return_zeros() {
    for tier in TIERS {
        // Without the switches, instantiation fails and names both.
        let o = run_in(tier, &["unknown_imports.wat"]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(
            err.contains("`env::missing`") && err.contains("`env::pair`"),
            "{err}"
        );

        // Traps: the program runs as long as it does not call them.
        let trap = ["-W", "unknown-imports-trap=y"];
        let o = run_in(tier, &[&trap[..], &["unknown_imports.wat"]].concat());
        assert_eq!(
            (o.status.code(), stdout(&o)),
            (
                Some(0),
                "hello
"
                .into()
            )
        );
        // A call fails naming the import; like any error from the host,
        // and as in wasmtime, that is status 1 rather than a wasm trap's
        // 134.
        let o = run_in(
            tier,
            &[&trap[..], &["--invoke", "use", "unknown_imports.wat"]].concat(),
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            "error: unknown import: `env::missing` has not been defined\n"
        );

        // Default values: zeros of each result type.
        let o = run_in(
            tier,
            &[
                "-W",
                "unknown-imports-default",
                "--invoke",
                "use",
                "unknown_imports.wat",
            ],
        );
        assert_eq!((o.status.code(), stdout(&o)), (Some(0), "0\n".into()));
        let o = run_in(
            tier,
            &[
                "-W",
                "unknown-imports-default=y",
                "--invoke",
                "pair",
                "unknown_imports.wat",
            ],
        );
        assert_eq!((o.status.code(), stdout(&o)), (Some(0), "0\n0\n".into()));

        // Both: the traps win, as in wasmtime.
        let o = run_in(
            tier,
            &[
                "-W",
                "unknown-imports-default=y,unknown-imports-trap=y",
                "--invoke",
                "use",
                "unknown_imports.wat",
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("`env::missing` has not been defined"));

        let o = run_in(
            tier,
            &["-W", "unknown-imports-trap=maybe", "unknown_imports.wat"],
        );
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            stderr(&o),
            "error: invalid value `maybe` for -W unknown-imports-trap; expected `y` or `n`\n"
        );
    }
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
fn wast_counts_skipped_component_directives() {
    let dir = std::env::temp_dir().join(format!("strata-cli-skip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("component.wast");
    std::fs::write(
        &path,
        "(module)\n(component)\n(assert_return (invoke \"f\"))\n",
    )
    .expect("write");
    let o = strata(&["wast", path.to_str().expect("utf-8 temp path")]);
    let _ = std::fs::remove_dir_all(&dir);
    let out = stdout(&o);
    assert!(
        out.ends_with(
            "1 skipped (component-model directives are not supported)\n1 passed, 1 failed\n"
        ),
        "{out}"
    );
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
fn the_memory_limit_applies_to_every_memory() {
    for tier in TIERS {
        // Multi-memory and memory64 are on by default: the limit stops the
        // growth of a second, 64-bit memory too.
        let o = run_in(
            tier,
            &[
                "-W",
                "max-memory-size=1048576",
                "--invoke",
                "bomb64",
                "memories.wat",
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
    // Attached values are options too, not the module.
    let o = strata(&["run", "-Wspeed=11", "limits.wat"]);
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

#[test]
fn invoke_prints_vectors_as_wasmtime_does() {
    for tier in TIERS {
        let o = run_in(tier, &["--invoke", "splat_add", "simd.wat", "1"]);
        let two = (0..4).fold(0u128, |v, i| v | (2u128 << (32 * i)));
        assert_eq!(stdout(&o), format!("{two}\n"), "stderr: {}", stderr(&o));
        let o = run_in(tier, &["--invoke", "lanes", "simd.wat"]);
        let bytes: Vec<u8> = (1..=16).collect();
        let v = u128::from_le_bytes(bytes.try_into().unwrap());
        assert_eq!(stdout(&o), format!("{v}\n-600\n"), "stderr: {}", stderr(&o));
    }
}

/// Every tier runs exception handling, legacy exceptions included.
const EXCEPTION_TIERS: [&str; 3] = ["interp", "jit", "tiered"];

#[test]
fn uncaught_exception_exits_134_naming_the_tag() {
    for tier in EXCEPTION_TIERS {
        let w = ["-W", "exceptions=y"];
        let o = run_in(
            tier,
            &[&w[..], &["--invoke", "catch", "exceptions.wat", "5"]].concat(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "5\n");

        let o = run_in(
            tier,
            &[&w[..], &["--invoke", "uncaught", "exceptions.wat", "7"]].concat(),
        );
        assert_eq!(o.status.code(), Some(134));
        let err = stderr(&o);
        assert!(err.contains("uncaught WebAssembly exception"), "{err}");
        assert!(err.contains("tag `e` with payload (i32 7)"), "{err}");

        // A tag no instance exports is named by its index.
        let args = [&w[..], &["--invoke", "uncaught-hidden", "exceptions.wat"]].concat();
        let o = run_in(tier, &args);
        assert_eq!(o.status.code(), Some(134));
        let err = stderr(&o);
        assert!(
            err.contains("tag 1 with payload (i64 -2, f64 0.5)"),
            "{err}"
        );
    }
    // Exceptions are off by default: the error names the switch.
    let o = run_in("interp", &["--invoke", "catch", "exceptions.wat", "5"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("exceptions"), "{}", stderr(&o));
}

/// Legacy exception handling in its flat text form, behind `-W
/// legacy-exceptions=y`; expected results follow the legacy specification
/// (V8, which runs it, agrees).
#[test]
fn legacy_exceptions_run_with_their_switch() {
    for tier in EXCEPTION_TIERS {
        let w = ["-W", "legacy-exceptions=y"];
        let run = |args: &[&str]| {
            let o = run_in(tier, &[&w[..], &["--invoke"], args].concat());
            (o.status.code(), stdout(&o), stderr(&o))
        };
        let file = "legacy_exceptions.wat";
        assert_eq!(run(&["try-catch", file, "0"]).1, "105\n");
        assert_eq!(run(&["try-catch", file, "1"]).1, "200\n");
        assert_eq!(run(&["rethrow", file]).1, "1011\n");
        // `delegate 1` skips the middle `try`'s catch for the outer one's.
        assert_eq!(run(&["delegate", file, "3"]).1, "2003\n");
        let (code, _, err) = run(&["uncaught", file, "9"]);
        assert_eq!(code, Some(134));
        assert!(err.contains("tag `e` with payload (i32 9)"), "{err}");
    }
    let o = run_in("interp", &["--invoke", "rethrow", "legacy_exceptions.wat"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("legacy"), "{}", stderr(&o));
}

#[test]
fn the_gc_heap_limit_traps() {
    // GC code runs in the interpreter (and stays there in tiered mode).
    for tier in ["interp", "tiered"] {
        let run = |limit: &str| {
            let w = format!("gc=y,max-gc-heap-size={limit}");
            run_in(
                tier,
                &["-W", &w, "--invoke", "alloc", "gc_alloc.wat", "100"],
            )
        };
        // 100 live arrays of 1016 bytes fit in 1 MiB...
        let o = run("1048576");
        assert_eq!(stdout(&o), "100\n", "{tier}: {}", stderr(&o));
        // ... but not in 64 KiB.
        let o = run("65536");
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with("error: wasm trap: GC heap out of memory"),
            "{tier}: {err}"
        );
    }
}
