//! Finds the static library, compiles each C program under `tests/c` with
//! the system C compiler exactly as the README says, runs it, and runs it
//! again under valgrind (leaks and memory errors) when valgrind is
//! installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PROGRAMS: &[&str] = &[
    "hello",
    "host_env",
    "memory",
    "globals_tables",
    "traps",
    "strata_ext",
    "bad_input",
    "threads",
    "v128",
    "tags",
    "gc",
    "exceptions",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The profile directory this test runs from (`target/release` under
/// `cargo test --release`), where the library is built.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/c_programs-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("profile directory")
        .to_path_buf()
}

/// The static library, built by the `cargo test` that runs this test.
fn static_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| library("libstrata_c_api.a"))
}

/// `name` (`libstrata_c_api.a` or `.so`) as built for this test run.
///
/// `cargo test` builds every crate type of the library, with the features
/// of this run, next to the test executable (`target/<profile>/deps`);
/// that copy is used when it is there. Otherwise `cargo build` makes it in
/// `target/<profile>` (for the same profile).
fn library(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    if deps.join(name).exists() {
        return deps.join(name);
    }
    let dir = profile_dir();
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "-p", "strata-c-api", "--lib"]);
    if dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    if let Some(target) = dir.parent() {
        cargo.env("CARGO_TARGET_DIR", target);
    }
    let status = cargo.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p strata-c-api failed");
    let lib = dir.join(name);
    assert!(lib.exists(), "{} was not built", lib.display());
    lib
}

/// Compiles `tests/c/<name>.c` into the profile directory.
fn compile(name: &str) -> PathBuf {
    let lib = static_lib();
    let out = profile_dir().join(format!("c-test-{name}"));
    let source = crate_dir().join("tests/c").join(format!("{name}.c"));
    let output = Command::new("cc")
        .arg(&source)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&out)
        .output()
        .expect("run cc (is a C compiler installed?)");
    assert!(
        output.status.success(),
        "compiling {name}.c failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn run(mut cmd: Command, what: &str) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the program natively in each tier (through `STRATA_TIER`), then
/// under valgrind with the interpreter: valgrind cannot follow compiled
/// code's guard-page faults and signal-based traps.
fn check_program(name: &str) {
    let exe = compile(name);
    for tier in ["jit", "interp"] {
        let mut cmd = Command::new(&exe);
        cmd.env("STRATA_TIER", tier);
        let stdout = run(cmd, &format!("{name} ({tier})"));
        assert_eq!(stdout.trim(), format!("{name}: ok"), "tier {tier}");
    }

    let valgrind = Path::new("/usr/bin/valgrind");
    if !valgrind.exists() {
        eprintln!("valgrind not installed: {name} not checked for leaks");
        return;
    }
    let mut cmd = Command::new(valgrind);
    cmd.env("STRATA_TIER", "interp");
    cmd.args(["-q", "--leak-check=full", "--error-exitcode=1"])
        .arg(format!(
            "--suppressions={}",
            crate_dir().join("tests/c/valgrind.supp").display()
        ))
        .arg(&exe);
    let stdout = run(cmd, &format!("valgrind {name}"));
    assert_eq!(stdout.trim(), format!("{name}: ok"));
}

#[test]
fn hello() {
    check_program("hello");
}

#[test]
fn host_env() {
    check_program("host_env");
}

#[test]
fn memory() {
    check_program("memory");
}

#[test]
fn globals_tables() {
    check_program("globals_tables");
}

#[test]
fn traps() {
    check_program("traps");
}

#[test]
fn strata_ext() {
    check_program("strata_ext");
}

#[test]
fn bad_input() {
    check_program("bad_input");
}

#[test]
fn threads() {
    check_program("threads");
}

#[test]
fn v128() {
    check_program("v128");
}

#[test]
fn tags() {
    check_program("tags");
}

#[test]
fn gc() {
    check_program("gc");
}

#[test]
fn exceptions() {
    check_program("exceptions");
}

/// The shared library works the same: `hello` linked dynamically.
#[test]
fn hello_with_shared_library() {
    let lib_dir = static_lib().parent().expect("library directory");
    assert!(lib_dir.join("libstrata_c_api.so").exists());
    let out = profile_dir().join("c-test-hello-dynamic");
    let output = Command::new("cc")
        .arg(crate_dir().join("tests/c/hello.c"))
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-L")
        .arg(lib_dir)
        .args(["-lstrata_c_api", "-o"])
        .arg(&out)
        .output()
        .expect("run cc");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut cmd = Command::new(&out);
    cmd.env("LD_LIBRARY_PATH", lib_dir);
    assert_eq!(run(cmd, "hello (dynamic)").trim(), "hello: ok");
}

#[test]
fn every_program_has_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(crate_dir().join("tests/c"))
        .expect("tests/c")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".c").map(str::to_string)
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = PROGRAMS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}
