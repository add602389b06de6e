//! Decides whether the JIT tier is built (feature `jit` on a host it
//! supports: Linux on x86_64 or aarch64).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(strata_jit)");
    build_id();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let supported = os == "linux" && (arch == "x86_64" || arch == "aarch64");
    if std::env::var_os("CARGO_FEATURE_JIT").is_none() || !supported {
        return;
    }
    println!("cargo::rustc-cfg=strata_jit");
}

/// Sets `STRATA_BUILD_ID`, a hash of the crate's sources, which compiled
/// code artifacts and compile-cache keys carry: code compiled by one build
/// of Strata may assume a runtime layout another build of the same version
/// number does not have, so it is never loaded there.
fn build_id() {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    println!("cargo::rerun-if-changed=src");
    let mut files = Vec::new();
    walk(std::path::Path::new("src"), &mut files);
    files.sort();
    // `DefaultHasher::new` uses fixed keys: the same sources give the
    // same id with the same compiler.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo::rustc-env=STRATA_BUILD_ID={:016x}", hasher.finish());
}
