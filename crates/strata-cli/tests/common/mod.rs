//! Helpers shared by the WASI command-line tests: run the real `strata`
//! binary on the programs in `crates/strata-wasi/tests/programs`.
#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn program(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../strata-wasi/tests/programs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

thread_local! {
    /// The tier `strata_in` asks for, when not the default.
    static TIER: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Runs `f` with every `strata_in` of this thread using `--tier tier`.
pub fn in_tier(tier: &'static str, f: impl FnOnce()) {
    TIER.with(|t| t.set(Some(tier)));
    f();
    TIER.with(|t| t.set(None));
}

/// The `strata` command with `args`, run in `cwd` with a clean
/// environment (in the tier that `in_tier` chose, if any).
pub fn strata_command(cwd: &Path, args: &[&str]) -> Command {
    let mut args: Vec<&str> = args.to_vec();
    if let Some(tier) = TIER.with(|t| t.get()) {
        // `strata MODULE ...` is `strata run MODULE ...`.
        let at = usize::from(args.first() == Some(&"run"));
        args.splice(at..at, ["--tier", tier]);
        if at == 0 {
            args.insert(0, "run");
        }
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(&args)
        .current_dir(cwd)
        .env_clear()
        .env("STRATA_TEST_HOST_VAR", "from the host");
    command
}

/// Runs `strata` in `cwd` with `stdin` as standard input (in the tier that
/// `in_tier` chose, if any).
pub fn strata_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = strata_command(cwd, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the strata binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The guest may exit without reading everything.
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("strata finishes");
    writer.join().expect("stdin writer");
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory removed at the end of the test.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("strata-wasi-{name}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// Checks that `output` succeeded and printed exactly `expected` lines.
pub fn assert_lines(o: &Output, expected: &[&str]) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    let out = stdout(o);
    let got: Vec<&str> = out.lines().collect();
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g, e, "line {i} differs; whole output:\n{out}");
    }
    assert_eq!(got.len(), expected.len(), "whole output:\n{out}");
}
