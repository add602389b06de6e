//! An adapter that runs the public WASI test suite (the GitHub repository
//! WebAssembly/wasi-testsuite; its `prod/testsuite-base` branch holds the
//! built `wasm32-wasip1` programs) under the real `strata run`, in both
//! tiers, and compares each program's exit status and output with its
//! JSON specification.
//!
//! The suite is not part of this repository and no package registry
//! publishes it, so this test runs only when `WASI_TESTSUITE` names a
//! checkout of that branch; otherwise it prints a notice and passes. Our
//! own programs in `crates/strata-wasi/tests/programs` cover every
//! behaviour the suite's failing cases exercised.
//!
//! ```sh
//! WASI_TESTSUITE=/path/to/wasi-testsuite \
//!     cargo test --release -p strata-cli --test wasi_testsuite -- --nocapture
//! ```
//!
//! `WASI_TESTSUITE_FILTER=NAME` runs only the programs whose path contains
//! NAME. The specification format is the suite's `doc/specification.md`:
//! either the legacy keys (`args`, `env`, `root`, `exit_code`, `stdout`,
//! `stderr`) or a list of `operations` (`run`, `read`, `write`, `wait`).
//! As in the suite's own runner, a `read` checks that the stream starts
//! with the expected text, and `root` is pre-opened as `/`; it is copied to
//! a scratch directory first, so the checkout is never written to.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The tiers the suite runs in.
const TIERS: [&str; 2] = ["jit", "interp"];

/// How long one program may run before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn the_public_wasi_testsuite_passes_in_both_tiers() {
    let Some(root) = std::env::var_os("WASI_TESTSUITE") else {
        // Written to the real stderr, past the test harness's capture, so
        // that a run without the suite says so.
        let _ = writeln!(
            std::io::stderr(),
            "note: the public wasi-testsuite was not run: set WASI_TESTSUITE to a checkout \
             of its prod/testsuite-base branch (see crates/strata-cli/tests/wasi_testsuite.rs)"
        );
        return;
    };
    let filter = std::env::var("WASI_TESTSUITE_FILTER").unwrap_or_default();
    let mut programs: Vec<PathBuf> = suite_dirs(Path::new(&root))
        .iter()
        .flat_map(|dir| files_with_extension(dir, "wasm"))
        .filter(|p| p.to_string_lossy().contains(&filter))
        .collect();
    programs.sort();
    assert!(
        !programs.is_empty(),
        "no wasm32-wasip1 programs under {root:?} (expected tests/*/testsuite/wasm32-wasip1/*.wasm)"
    );

    let results: Vec<(&str, Vec<Outcome>)> = std::thread::scope(|s| {
        let runs: Vec<_> = TIERS
            .iter()
            .map(|&tier| {
                let programs = &programs;
                s.spawn(move || {
                    let results = programs
                        .iter()
                        .map(|p| (p.clone(), run_case(tier, p)))
                        .collect::<Vec<_>>();
                    (tier, results)
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a tier's thread"))
            .collect()
    });

    let mut failures = Vec::new();
    for (tier, results) in &results {
        let mut failed = 0;
        for (program, result) in results {
            let name = program.strip_prefix(&root).unwrap_or(program).display();
            match result {
                Ok(()) => println!("pass {tier} {name}"),
                Err(why) => {
                    failed += 1;
                    println!("FAIL {tier} {name}\n    {}", why.replace('\n', "\n    "));
                    failures.push(format!("{tier} {name}"));
                }
            }
        }
        let _ = writeln!(
            std::io::stderr(),
            "wasi-testsuite, {tier} tier: {} of {} programs passed, {failed} failed",
            results.len() - failed,
            results.len()
        );
    }
    assert!(failures.is_empty(), "failed: {failures:#?}");
}

/// A program of the suite and what came of running it.
type Outcome = (PathBuf, Result<(), String>);

/// The `wasm32-wasip1` directories of the suite under `root`.
fn suite_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let is_suite = dir.file_name().is_some_and(|n| n == "wasm32-wasip1")
            && dir
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "testsuite");
        if is_suite {
            found.push(dir);
            continue;
        }
        if depth == 4 {
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push((entry.path(), depth + 1));
            }
        }
    }
    found
}

fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

/// One step of a test case, from its specification.
enum Op {
    Read { stream: String, payload: String },
    Write { payload: String },
    Wait { exit_code: i64 },
}

/// How to run a program and what to expect of it.
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<PathBuf>,
    ops: Vec<Op>,
}

fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| format!("{what} is not a string: {v}"))
}

/// The `run` part of a specification (legacy keys or a `run` operation).
fn run_fields(spec: &mut Spec, v: &Value, dir: &Path) -> Result<(), String> {
    if let Some(args) = v.get("args") {
        spec.args = args
            .as_array()
            .ok_or("args is not a list")?
            .iter()
            .map(|a| string(a, "an argument"))
            .collect::<Result<_, _>>()?;
    }
    if let Some(env) = v.get("env") {
        for (k, val) in env.as_object().ok_or("env is not an object")? {
            spec.env
                .push((k.clone(), string(val, "an environment value")?));
        }
    }
    if let Some(root) = v.get("root").filter(|r| !r.is_null()) {
        spec.root = Some(dir.join(string(root, "root")?));
    }
    Ok(())
}

/// Reads the JSON specification next to `program` (defaults when absent).
fn spec_of(program: &Path) -> Result<Spec, String> {
    let dir = program.parent().ok_or("a program without a directory")?;
    let mut spec = Spec {
        args: Vec::new(),
        env: Vec::new(),
        root: None,
        ops: Vec::new(),
    };
    let json = match std::fs::read_to_string(program.with_extension("json")) {
        Ok(text) => serde_json::from_str::<Value>(&text).map_err(|e| format!("bad JSON: {e}"))?,
        Err(_) => Value::Object(Default::default()),
    };
    let Some(ops) = json.get("operations") else {
        run_fields(&mut spec, &json, dir)?;
        for stream in ["stdout", "stderr"] {
            if let Some(payload) = json.get(stream) {
                let payload = string(payload, stream)?;
                spec.ops.push(Op::Read {
                    stream: stream.to_string(),
                    payload,
                });
            }
        }
        let exit_code = json.get("exit_code").and_then(Value::as_i64).unwrap_or(0);
        spec.ops.push(Op::Wait { exit_code });
        return Ok(spec);
    };
    if json
        .get("proposals")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty())
    {
        return Err(format!(
            "needs WASI proposals Strata lacks: {}",
            json["proposals"]
        ));
    }
    let mut runs = 0;
    for op in ops.as_array().ok_or("operations is not a list")? {
        let field = |name: &str, default: &str| -> Result<String, String> {
            op.get(name)
                .map_or(Ok(default.to_string()), |v| string(v, name))
        };
        match op.get("type").and_then(Value::as_str) {
            Some("run") => {
                runs += 1;
                run_fields(&mut spec, op, dir)?;
            }
            Some("read") => spec.ops.push(Op::Read {
                stream: field("id", "stdout")?,
                payload: field("payload", "")?,
            }),
            Some("write") => spec.ops.push(Op::Write {
                payload: field("payload", "")?,
            }),
            Some("wait") => spec.ops.push(Op::Wait {
                exit_code: op.get("exit_code").and_then(Value::as_i64).unwrap_or(0),
            }),
            other => return Err(format!("unsupported operation {other:?} (sockets, HTTP)")),
        }
    }
    if runs != 1 {
        return Err(format!("{runs} run operations; this adapter runs one"));
    }
    Ok(spec)
}

/// Copies the directory tree `from` to `to`, symbolic links as links, and
/// without the `*.cleanup` leftovers of earlier runs.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.extension().is_some_and(|e| e == "cleanup") {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Reads all of `pipe` on a thread of its own.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `program` in `tier` as its specification says and checks every
/// expectation; the error lists what differed, with the program's output.
fn run_case(tier: &str, program: &Path) -> Result<(), String> {
    let spec = spec_of(program)?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.args(["run", "--tier", tier]);
    for (k, v) in &spec.env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    let scratch = match &spec.root {
        Some(root) => {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let copy = std::env::temp_dir().join(format!(
                "strata-wasi-testsuite-{}-{tier}-{n}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&copy);
            copy_tree(root, &copy).map_err(|e| format!("copying {root:?}: {e}"))?;
            let mut dir = copy.clone().into_os_string();
            dir.push("::/");
            cmd.arg("--dir").arg(dir);
            Some(Scratch(copy))
        }
        None => None,
    };
    cmd.arg(program).args(&spec.args);
    let mut child = cmd
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start strata: {e}"))?;
    let input: String = spec
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Write { payload } => Some(payload.as_str()),
            _ => None,
        })
        .collect();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let writer = std::thread::spawn(move || {
        // The program may exit without reading.
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for strata: {e}")),
        }
    };
    let _ = writer.join();
    let out = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    drop(scratch);

    let mut problems = Vec::new();
    for op in &spec.ops {
        match op {
            Op::Read { stream, payload } => {
                let got = if stream == "stderr" { &err } else { &out };
                if !got.starts_with(payload.as_str()) {
                    problems.push(format!("{stream}: expected {payload:?}, got {got:?}"));
                }
            }
            Op::Wait { exit_code } => match status {
                None => problems.push(format!("no exit within {TIMEOUT:?}")),
                Some(s) if i64::from(s.code().unwrap_or(-1)) != *exit_code => {
                    problems.push(format!("exit status {:?}, expected {exit_code}", s.code()))
                }
                Some(_) => {}
            },
            Op::Write { .. } => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n--- stdout ---\n{out}\n--- stderr ---\n{err}",
            problems.join("\n")
        ))
    }
}
