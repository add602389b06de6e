//! Diagnostics through the real binary: code offsets in backtraces, core
//! dumps (`-D coredump=PATH`), and profiling (`--profile=perfmap`,
//! `jitdump` and `guest`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wasmparser::{Operator, Parser, Payload};

/// The tiers every execution test runs in.
const TIERS: [&str; 2] = ["interp", "jit"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs `strata run --tier TIER ARGS...` in `dir`.
fn run_in(tier: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["run", "--tier", tier])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the strata binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("strata-diagnostics-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The binary `strata` runs for the `.wat` fixture `name` (`wat` is
/// deterministic, so offsets in it are the ones Strata reports).
fn binary_of(name: &str) -> Vec<u8> {
    wat::parse_file(fixture(name)).expect("the fixture parses")
}

/// The module offset of the `nth` operator of defined function `func` (in
/// the function index space of a module without imported functions) for
/// which `matches` holds, and the offset of the function's body.
fn offset_of(wasm: &[u8], func: usize, matches: impl Fn(&Operator<'_>) -> bool) -> (usize, usize) {
    let body = Parser::new(0)
        .parse_all(wasm)
        .filter_map(|p| match p.expect("a valid module") {
            Payload::CodeSectionEntry(body) => Some(body),
            _ => None,
        })
        .nth(func)
        .expect("the function exists");
    let mut ops = body.get_operators_reader().expect("a body");
    while !ops.eof() {
        let at = ops.original_position();
        if matches(&ops.read().expect("an operator")) {
            return (at as usize, body.range().start as usize);
        }
    }
    panic!("no such operator in function {func}");
}

#[test]
fn backtraces_show_the_offset_of_each_frames_instruction_in_both_tiers() {
    let wasm = binary_of("offsets.wat");
    let (div, _) = offset_of(&wasm, 0, |op| matches!(op, Operator::I32DivS));
    let (call, _) = offset_of(&wasm, 1, |op| matches!(op, Operator::Call { .. }));
    let (indirect, _) = offset_of(&wasm, 2, |op| matches!(op, Operator::CallIndirect { .. }));
    let (unreachable, _) = offset_of(&wasm, 3, |op| matches!(op, Operator::Unreachable));
    let dir = fixture("");
    for tier in TIERS {
        let o = run_in(tier, &dir, &["--invoke", "run", "offsets.wat", "0"]);
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        let expected = format!(
            "error: wasm trap: integer divide by zero\nwasm backtrace:\n   \
             0: {div:#6x} - offsets!divide\n   \
             1: {call:#6x} - offsets!middle\n   \
             2: {indirect:#6x} - offsets!entry\n"
        );
        assert_eq!(stderr(&o), expected, "{tier}");

        let o = run_in(tier, &dir, &["--invoke", "abort", "offsets.wat"]);
        assert_eq!(
            stderr(&o),
            format!(
                "error: wasm trap: unreachable\nwasm backtrace:\n   \
                 0: {unreachable:#6x} - offsets!abort\n"
            ),
            "{tier}"
        );
    }
}
