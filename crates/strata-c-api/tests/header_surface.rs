//! Every function `wasm.h` and `strata.h` declare is exported by
//! `libstrata_c_api.so`, and the headers compile cleanly as C11 with
//! `-pedantic -Werror` and as C++.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// The names of the functions declared (not defined inline) by the
/// preprocessed headers.
fn declared_functions() -> BTreeSet<String> {
    let output = Command::new("cc")
        .args(["-E", "-P", "-x", "c", "-"])
        .arg("-I")
        .arg(include_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"#include \"strata.h\"\n")?;
            child.wait_with_output()
        })
        .expect("run cc -E");
    assert!(output.status.success(), "preprocessing the headers failed");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    // Statements at brace depth 0; a `{` there starts a definition (inline
    // function, struct, enum), whose head is not a declaration.
    let mut names = BTreeSet::new();
    let mut depth = 0;
    let mut chunk = String::new();
    for c in text.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    chunk.clear();
                }
                depth += 1;
            }
            '}' => depth -= 1,
            ';' if depth == 0 => {
                if !chunk.contains("typedef") {
                    if let Some(head) = chunk.split('(').next().filter(|_| chunk.contains('(')) {
                        if let Some(name) = head
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .rfind(|s| !s.is_empty())
                        {
                            names.insert(name.to_string());
                        }
                    }
                }
                chunk.clear();
            }
            _ if depth == 0 => chunk.push(c),
            _ => {}
        }
    }
    names
}

fn exported_symbols() -> BTreeSet<String> {
    // `cargo test` builds every crate type of the library next to the test
    // executable; fall back to `cargo build` when it is not there.
    let exe = std::env::current_exe().expect("test executable");
    let deps = exe.parent().expect("deps dir");
    let mut lib = deps.join("libstrata_c_api.so");
    if !lib.exists() {
        let profile = deps.parent().expect("profile dir");
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "-p", "strata-c-api", "--lib"]);
        if profile.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        if let Some(target) = profile.parent() {
            cargo.env("CARGO_TARGET_DIR", target);
        }
        assert!(cargo.status().expect("cargo build").success());
        lib = profile.join("libstrata_c_api.so");
    }
    let output = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("run nm");
    assert!(output.status.success(), "nm {} failed", lib.display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect()
}

#[test]
fn every_declared_function_is_exported() {
    let declared: BTreeSet<String> = declared_functions()
        .into_iter()
        .filter(|n| n.starts_with("wasm_") || n.starts_with("strata_"))
        .collect();
    // The standard API alone declares well over two hundred functions.
    assert!(
        declared.len() > 250,
        "only {} declarations found",
        declared.len()
    );
    assert!(declared.contains("wasm_func_new_with_env"));
    assert!(declared.contains("wasm_externtype_as_memorytype_const"));
    assert!(declared.contains("strata_wat2wasm"));
    let exported = exported_symbols();
    let missing: Vec<&String> = declared.difference(&exported).collect();
    assert!(missing.is_empty(), "declared but not exported: {missing:?}");
}

#[test]
fn headers_compile_cleanly_as_c_and_cxx() {
    for (lang, std) in [("c", "-std=c11"), ("c++", "-std=c++17")] {
        let output = Command::new("cc")
            .args(["-x", lang, std, "-Wall", "-Wextra", "-pedantic", "-Werror"])
            .args(["-fsyntax-only", "-"])
            .arg("-I")
            .arg(include_dir())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(b"#include \"strata.h\"\nint main(void) { return 0; }\n")?;
                child.wait_with_output()
            })
            .expect("run cc");
        assert!(
            output.status.success(),
            "{lang}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
