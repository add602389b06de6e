//! `strata compile`, `strata run --allow-precompiled` and the compile
//! cache options (`-C cache=n`, `-C cache-dir=DIR`) through the real
//! binary. Every test names its own cache directory, so none writes to
//! the user's.

use std::path::Path;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A fresh, empty directory for one test, removed when dropped.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("strata-cache-{name}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// Runs `strata ARGS...` with `cache` as the default cache directory.
fn strata(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_CACHE_DIR", cache)
        .output()
        .expect("the strata binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether this build and host have the JIT tier (`strata compile` needs
/// it).
fn jit_available(dir: &Path) -> bool {
    let o = strata(
        dir,
        &[
            "run",
            "--tier",
            "jit",
            "--invoke",
            "inner",
            &fixture("trap.wat"),
        ],
    );
    !stderr(&o).contains("not available")
}

#[test]
fn compile_then_run_with_allow_precompiled() {
    let dir_tmp = temp_dir("roundtrip");
    let dir = dir_tmp.path();
    if !jit_available(dir) {
        return;
    }
    let out = dir.join("trap.cwasm");
    let out = out.to_str().unwrap();
    let o = strata(dir, &["compile", &fixture("trap.wat"), "-o", out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = strata(
        dir,
        &[
            "run",
            "--allow-precompiled",
            "--invoke",
            "div",
            out,
            "7",
            "2",
        ],
    );
    assert_eq!(stdout(&o), "3\n", "{}", stderr(&o));
    // Traps and backtraces work in loaded code.
    let o = strata(
        dir,
        &["run", "--allow-precompiled", "--invoke", "outer", out],
    );
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(err.contains("wasm trap: unreachable"), "{err}");
    assert!(err.contains("inner") && err.contains("outer"), "{err}");
    // The shorthand too.
    let o = strata(
        dir,
        &["--allow-precompiled", "--invoke", "div", out, "9", "3"],
    );
    assert_eq!(stdout(&o), "3\n", "{}", stderr(&o));
}

#[test]
fn a_precompiled_module_needs_the_flag() {
    let dir_tmp = temp_dir("refused");
    let dir = dir_tmp.path();
    if !jit_available(dir) {
        return;
    }
    let out = dir.join("trap.cwasm");
    let out = out.to_str().unwrap();
    let o = strata(dir, &["compile", &fixture("trap.wat"), "-o", out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = strata(dir, &["run", "--invoke", "div", out, "7", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("running a precompiled module requires the `--allow-precompiled` flag"),
        "{err}"
    );
}

#[test]
fn damaged_truncated_and_mismatched_artifacts_are_errors() {
    let dir_tmp = temp_dir("damaged");
    let dir = dir_tmp.path();
    if !jit_available(dir) {
        return;
    }
    let good = dir.join("good.cwasm");
    let o = strata(
        dir,
        &[
            "compile",
            &fixture("trap.wat"),
            "-o",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bytes = std::fs::read(&good).unwrap();
    let run = |path: &Path, extra: &[&str]| {
        let mut args = vec!["run", "--allow-precompiled"];
        args.extend_from_slice(extra);
        args.extend(["--invoke", "div", path.to_str().unwrap(), "7", "2"]);
        strata(dir, &args)
    };

    let mut damaged = bytes.clone();
    let at = damaged.len() - 64;
    damaged[at] ^= 0x10;
    let path = dir.join("damaged.cwasm");
    std::fs::write(&path, &damaged).unwrap();
    let o = run(&path, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("damaged"), "{}", stderr(&o));

    let path = dir.join("truncated.cwasm");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&path, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));

    // Compiled without fuel, run with fuel: refused, naming the setting.
    let o = run(&good, &["-W", "fuel=1000"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("consume-fuel"), "{err}");
    // Compiled with the same settings: accepted.
    let fueled = dir.join("fuel.cwasm");
    let o = strata(
        dir,
        &[
            "compile",
            "-W",
            "fuel=1",
            &fixture("trap.wat"),
            "-o",
            fueled.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&fueled, &["-W", "fuel=1000"]);
    assert_eq!(stdout(&o), "3\n", "{}", stderr(&o));
}

#[test]
fn the_cache_fills_once_and_can_be_moved_or_turned_off() {
    let default_dir_tmp = temp_dir("default");
    let default_dir = default_dir_tmp.path();
    if !jit_available(default_dir) {
        return;
    }
    let _ = std::fs::remove_dir_all(default_dir);
    let trap = fixture("trap.wat");
    let args = ["run", "--tier", "jit", "--invoke", "div", &trap, "8", "2"];
    let o = strata(default_dir, &args);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    let entries = files(default_dir);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].ends_with(".cwasm"));
    let entry = default_dir.join(&entries[0]);
    let written = std::fs::metadata(&entry).unwrap().modified().unwrap();
    // A second run reads the entry (a hit refreshes its time) and writes
    // nothing new.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = strata(default_dir, &args);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    assert_eq!(files(default_dir), entries);
    assert!(std::fs::metadata(&entry).unwrap().modified().unwrap() > written);

    // A damaged entry is compiled again and replaced.
    let good = std::fs::read(&entry).unwrap();
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0xff;
    std::fs::write(&entry, &bad).unwrap();
    let o = strata(default_dir, &args);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    assert_eq!(std::fs::read(&entry).unwrap(), good);

    // -C cache-dir moves it; -C cache=n turns it off.
    let moved_tmp = temp_dir("moved");
    let moved = moved_tmp.path();
    let _ = std::fs::remove_dir_all(moved);
    let cache_dir = format!("cache-dir={}", moved.display());
    let mut with_dir = vec!["run", "-C", &cache_dir];
    with_dir.extend_from_slice(&args[1..]);
    let o = strata(default_dir, &with_dir);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    assert_eq!(files(moved).len(), 1);
    let off_tmp = temp_dir("off");
    let off = off_tmp.path();
    let _ = std::fs::remove_dir_all(off);
    let mut without = vec!["run", "-C", "cache=n"];
    without.extend_from_slice(&args[1..]);
    let o = strata(off, &without);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    assert!(!off.exists(), "nothing was written");

    let o = strata(off, &["run", "-C", "cache=maybe", &trap]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-C cache"), "{}", stderr(&o));
    let o = strata(off, &["run", "-C", "nonsense=1", &trap]);
    assert!(
        stderr(&o).contains("unknown -C option `nonsense`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn processes_filling_the_cache_at_once_all_succeed() {
    let dir_tmp = temp_dir("concurrent");
    let dir = dir_tmp.path();
    if !jit_available(dir) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    // A bigger module, so that compiling takes a while and the processes
    // overlap.
    let mut wat = String::from("(module\n");
    for i in 0..200 {
        wat.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (param i32) (result i32) \
             (i32.add (i32.mul (local.get 0) (i32.const {i})) (i32.const 1)))\n"
        ));
    }
    wat.push(')');
    let module =
        std::env::temp_dir().join(format!("strata-cli-concurrent-{}.wat", std::process::id()));
    std::fs::write(&module, wat).unwrap();
    let module = module.to_str().unwrap().to_string();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (dir, module) = (dir.to_path_buf(), module.clone());
        handles.push(std::thread::spawn(move || {
            strata(
                &dir,
                &["run", "--tier", "jit", "--invoke", "f9", &module, "2"],
            )
        }));
    }
    for h in handles {
        let o = h.join().unwrap();
        assert_eq!(stdout(&o), "19\n", "{}", stderr(&o));
    }
    let entries = files(dir);
    assert_eq!(
        entries.len(),
        1,
        "one entry, no temporary files: {entries:?}"
    );
    let _ = std::fs::remove_file(&module);
}

/// Under the default tiered execution, a run that misses the cache starts
/// interpreted and leaves a background `strata compile --fill-cache` to
/// compile the module into the cache; the next run loads that entry (a
/// hit refreshes its time) and writes nothing new.
#[test]
fn tiered_runs_fill_the_cache_in_the_background() {
    let dir_tmp = temp_dir("tiered");
    let dir = dir_tmp.path();
    if !jit_available(dir) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    let trap = fixture("trap.wat");
    let args = ["run", "--invoke", "div", &trap, "8", "2"];
    let o = strata(dir, &args);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    let started = std::time::Instant::now();
    while files(dir).iter().filter(|f| f.ends_with(".cwasm")).count() == 0 {
        assert!(
            started.elapsed().as_secs() < 120,
            "the background compile wrote nothing: {:?}",
            files(dir)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let entries: Vec<String> = files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = dir.join(&entries[0]);
    let written = std::fs::metadata(&entry).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = strata(dir, &args);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    assert!(std::fs::metadata(&entry).unwrap().modified().unwrap() > written);
    let _ = std::fs::remove_dir_all(dir);
}
