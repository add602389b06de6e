//! wasi-threads under the real `strata` binary (`-W threads=y -S
//! threads=y`): the thread limit, `proc_exit` and traps in spawned
//! threads, the option's mistakes, and a threaded Rust program whose
//! output must match the same program's native output. Every run is made
//! in the interpreter, the JIT and the default (tiered) tier.
//!
//! `spawn.wat` needs no shared memory (each thread's instance has its own
//! memory), so it covers `thread-spawn` on its own; `shared.wat` imports a
//! shared memory and writes from it through WASI in two threads;
//! `threads.wasm` is a real `wasm32-wasip1-threads` program
//! (`src/threads.rs`).

mod common;
use common::*;
use std::process::Output;

/// `None` is the default tier.
const TIERS: [Option<&str>; 3] = [Some("interp"), Some("jit"), None];

/// `strata run` in `tier` with `args`.
fn run(tier: Option<&'static str>, args: &[&str]) -> Output {
    let dir = temp_dir("threads");
    let mut out = None;
    match tier {
        Some(tier) => in_tier(tier, || out = Some(strata_in(dir.path(), args, b""))),
        None => out = Some(strata_in(dir.path(), args, b"")),
    }
    out.expect("strata ran")
}

const THREADS: [&str; 5] = ["run", "-W", "threads=y", "-S", "threads=y"];

fn threads(tier: Option<&'static str>, rest: &[&str]) -> Output {
    let mut args = THREADS.to_vec();
    args.extend_from_slice(rest);
    run(tier, &args)
}

#[test]
fn spawning_stops_at_the_thread_limit_with_an_error_for_the_guest() {
    let spawn = program("spawn.wat");
    for tier in TIERS {
        // Thread ids are 1, 2, 3...; the sixth spawn fails (the export
        // returns -1 if an id was out of sequence).
        let o = threads(
            tier,
            &[
                "-W",
                "max-threads=5",
                "--invoke",
                "spawn_until_limit",
                &spawn,
            ],
        );
        assert_lines(&o, &["5"]);
        // The default limit.
        let o = threads(tier, &["--invoke", "spawn_until_limit", &spawn]);
        assert_lines(&o, &["256"]);
    }
}

#[test]
fn proc_exit_in_a_spawned_thread_ends_the_process_with_its_status() {
    let spawn = program("spawn.wat");
    for tier in TIERS {
        let o = threads(tier, &["--invoke", "exit_in_thread", &spawn]);
        assert_eq!(o.status.code(), Some(7), "{tier:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "");
    }
}

#[test]
fn a_trap_in_a_spawned_thread_ends_the_process_as_in_the_main_thread() {
    let spawn = program("spawn.wat");
    for tier in TIERS {
        let o = threads(tier, &["--invoke", "trap_in_thread", &spawn]);
        assert_eq!(o.status.code(), Some(134), "{tier:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with("error: wasm trap: unreachable\n"), "{err}");
        assert!(err.contains("wasm backtrace:"), "{err}");

        // A spawned thread's host stack is its own, and deep recursion on
        // it is the usual trap, not a crash.
        let o = threads(tier, &["--invoke", "overflow_in_thread", &spawn]);
        assert_eq!(o.status.code(), Some(134), "{tier:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with("error: wasm trap: call stack exhausted\n"),
            "{err}"
        );
    }
}

#[test]
fn threads_share_the_memory_and_the_wasi_context() {
    let shared = program("shared.wat");
    for tier in TIERS {
        let o = threads(tier, &[&shared]);
        assert_lines(
            &o,
            &[
                "main writes through shared memory",
                "the thread writes what main stored: X",
            ],
        );
    }
}

#[test]
fn a_deadlocked_program_ends_with_the_timeout_trap() {
    let shared = program("shared.wat");
    for tier in TIERS {
        let started = std::time::Instant::now();
        let o = threads(
            tier,
            &["-W", "timeout=300ms", "--invoke", "deadlock", &shared],
        );
        assert_eq!(o.status.code(), Some(134), "{tier:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with("error: wasm trap: interrupt\n"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }
}

#[test]
fn wasi_threads_needs_the_threads_proposal_and_an_entry_point() {
    let spawn = program("spawn.wat");
    let o = run(None, &["run", "-S", "threads=y", &spawn]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: -S threads=y needs -W threads=y: wasi-threads runs on shared memory and \
         atomics (the threads proposal)\n"
    );

    let o = run(
        None,
        &["run", "-W", "threads=y", "-S", "threads=maybe", &spawn],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: invalid value `maybe` for -S threads"),
        "{}",
        stderr(&o)
    );

    // A module that cannot run threads is refused up front.
    let o = threads(None, &[&program("io.wasm")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not export `wasi_thread_start`"),
        "{}",
        stderr(&o)
    );

    // Without -S threads the import is simply unknown.
    let o = run(
        None,
        &[
            "run",
            "-W",
            "threads=y",
            "--invoke",
            "spawn_until_limit",
            &spawn,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown import: `wasi::thread-spawn`"),
        "{}",
        stderr(&o)
    );

    let o = run(None, &["run", "-S", "help"]);
    assert!(stdout(&o).contains("-S threads=y|n"), "{}", stdout(&o));
}

/// The expected output of `threads.wasm`: the same source built for the
/// host and run natively (`rebuild.sh`).
fn native_output() -> String {
    std::fs::read_to_string(program("threads.out")).expect("threads.out")
}

#[test]
fn a_threaded_rust_program_prints_what_it_prints_natively() {
    let prog = program("threads.wasm");
    let expected = native_output();
    for tier in TIERS {
        let o = threads(tier, &[&prog]);
        assert_eq!(o.status.code(), Some(0), "{tier:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), expected, "{tier:?}");
        assert_eq!(stderr(&o), "", "{tier:?}");
    }
}

#[test]
fn a_threaded_rust_program_sees_the_thread_limit_as_a_spawn_error() {
    let prog = program("threads.wasm");
    for tier in TIERS {
        let o = threads(tier, &["-W", "max-threads=8", &prog, "limit"]);
        // wasi-libc's `pthread_create` answers `EAGAIN`, which Rust reports
        // as `WouldBlock`.
        assert_lines(&o, &["spawn failed after 8 threads: operation would block"]);
    }
}

#[test]
fn a_threaded_rust_program_exits_or_traps_from_a_spawned_thread() {
    let prog = program("threads.wasm");
    for tier in TIERS {
        let o = threads(tier, &[&prog, "exit", "9"]);
        assert_eq!(o.status.code(), Some(9), "{tier:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "thread exits with 9\n");

        let o = threads(tier, &[&prog, "trap"]);
        assert_eq!(o.status.code(), Some(134), "{tier:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "thread traps\n");
        let err = stderr(&o);
        assert!(err.starts_with("error: wasm trap: unreachable\n"), "{err}");
    }
}
