//! Decides whether the JIT tier is built (feature `jit` on a host it
//! supports: Linux on x86_64 or aarch64) and, if so, compiles its unwinding
//! shim (`src/jit/unwind.c`): the one piece that must be C, because Rust
//! cannot call `setjmp` soundly.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(strata_jit)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let supported = os == "linux" && (arch == "x86_64" || arch == "aarch64");
    if std::env::var_os("CARGO_FEATURE_JIT").is_none() || !supported {
        return;
    }
    println!("cargo::rustc-cfg=strata_jit");
    #[cfg(feature = "jit")]
    {
        println!("cargo::rerun-if-changed=src/jit/unwind.c");
        cc::Build::new()
            .file("src/jit/unwind.c")
            .warnings(true)
            .compile("strata_unwind");
    }
}
