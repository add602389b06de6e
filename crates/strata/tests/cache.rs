//! The compile cache and ahead-of-time artifacts through the API: hits and
//! misses, damaged and foreign entries, concurrent fills, the size bound,
//! and artifacts that round-trip or are refused (damaged, truncated,
//! compiled with other settings). Only meaningful with the JIT tier; each
//! test returns early without it.

use std::path::{Path, PathBuf};
use strata::{CacheConfig, Config, Engine, Instance, Module, Store, Tier, TypedFunc};

/// A module with a loop, calls, a memory and a float rounding (which may
/// compile to a libcall on hosts without the instruction).
const WAT: &str = r#"
(module
  (memory 1)
  (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.const 0) (local.get $i))
        (local.set $acc
          (i32.add (local.get $acc)
            (i32.add (call $sq (i32.load (i32.const 0)))
              (i32.trunc_f32_s (f32.ceil (f32.div (f32.convert_i32_s (local.get $i))
                                                  (f32.const 3.0)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func (export "boom") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))
"#;

/// The expected result of `run(n)`.
fn expected(n: i32) -> i32 {
    (0..n).map(|i| i * i + (i as f32 / 3.0).ceil() as i32).sum()
}

/// A fresh, empty directory for one test, removed when dropped.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("strata-cache-{name}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// A JIT configuration caching in `dir`; `None` without the JIT tier.
fn config(dir: &Path) -> Option<Config> {
    if !Tier::Jit.is_available() {
        return None;
    }
    let mut config = Config::new();
    config.tier(Tier::Jit);
    let mut cache = CacheConfig::new();
    cache.with_directory(dir);
    config.cache(Some(cache));
    Some(config)
}

/// The cache's entries in `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Instantiates `module` and checks that `run` and `boom` behave.
fn check_runs(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let run: TypedFunc<i32, i32> = instance.get_typed_func(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 1000).unwrap(), expected(1000));
    let boom: TypedFunc<(), i32> = instance.get_typed_func(&store, "boom").unwrap();
    let err = boom.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<strata::Trap>(),
        Some(&strata::Trap::IntegerDivisionByZero)
    );
    let bt = err.downcast_ref::<strata::WasmBacktrace>().unwrap();
    assert_eq!(bt.frames().len(), 1, "{bt}");
}

#[test]
fn a_second_engine_loads_the_code_from_the_cache() {
    let dir_tmp = temp_dir("hit");
    let dir = dir_tmp.path();
    let Some(config) = config(dir) else { return };
    let first = Engine::new(&config).unwrap();
    let module = Module::new(&first, WAT).unwrap();
    assert_eq!(first.cache_statistics(), (0, 1));
    check_runs(&first, &module);
    assert_eq!(entries(dir).len(), 1, "one entry, no temporary files");

    let second = Engine::new(&config).unwrap();
    let module = Module::new(&second, WAT).unwrap();
    assert_eq!(second.cache_statistics(), (1, 0));
    check_runs(&second, &module);
    // The same engine hits too.
    Module::new(&second, WAT).unwrap();
    assert_eq!(second.cache_statistics(), (2, 0));

    // Another module, or the same with other code-changing settings, is
    // another entry.
    Module::new(&second, "(module (func (export \"f\")))").unwrap();
    assert_eq!(second.cache_statistics(), (2, 1));
    let mut fuel = config.clone();
    fuel.consume_fuel(true);
    let fueled = Engine::new(&fuel).unwrap();
    Module::new(&fueled, WAT).unwrap();
    assert_eq!(fueled.cache_statistics(), (0, 1));
    assert_eq!(entries(dir).len(), 3);
    // Settings that do not change code share entries.
    let mut stack = config.clone();
    stack.max_wasm_stack(1 << 20);
    let small_stack = Engine::new(&stack).unwrap();
    Module::new(&small_stack, WAT).unwrap();
    assert_eq!(small_stack.cache_statistics(), (1, 0));
}

#[test]
fn a_damaged_or_truncated_entry_is_compiled_again() {
    let dir_tmp = temp_dir("damaged");
    let dir = dir_tmp.path();
    let Some(config) = config(dir) else { return };
    Module::new(&Engine::new(&config).unwrap(), WAT).unwrap();
    let [entry] = entries(dir).try_into().unwrap();
    let good = std::fs::read(&entry).unwrap();

    // Every single-byte change anywhere (header, code, tables, checksum)
    // is caught: a sample of positions.
    for at in (0..good.len()).step_by(good.len() / 40 + 1) {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        std::fs::write(&entry, &bad).unwrap();
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        assert_eq!(engine.cache_statistics(), (0, 1), "byte {at} changed");
        check_runs(&engine, &module);
        assert_eq!(std::fs::read(&entry).unwrap(), good, "rewritten");
    }
    for len in [0, 7, 20, good.len() / 2, good.len() - 1] {
        std::fs::write(&entry, &good[..len]).unwrap();
        let engine = Engine::new(&config).unwrap();
        Module::new(&engine, WAT).unwrap();
        assert_eq!(engine.cache_statistics(), (0, 1), "truncated to {len}");
    }
    let engine = Engine::new(&config).unwrap();
    Module::new(&engine, WAT).unwrap();
    assert_eq!(engine.cache_statistics(), (1, 0));
}

#[test]
fn a_foreign_entry_is_not_used() {
    // Another module's valid entry under this module's name: its checksum
    // is fine, but it belongs to another module.
    let dir_tmp = temp_dir("foreign");
    let dir = dir_tmp.path();
    let Some(config) = config(dir) else { return };
    Module::new(&Engine::new(&config).unwrap(), WAT).unwrap();
    let [entry] = entries(dir).try_into().unwrap();
    let other_tmp = temp_dir("foreign-other");
    let other = other_tmp.path();
    let other_config = self::config(other).unwrap();
    let other_wat = WAT.replace("f32.const 3.0", "f32.const 4.0");
    Module::new(&Engine::new(&other_config).unwrap(), &other_wat).unwrap();
    let [other_entry] = entries(other).try_into().unwrap();
    std::fs::copy(&other_entry, &entry).unwrap();

    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    assert_eq!(engine.cache_statistics(), (0, 1));
    check_runs(&engine, &module);
}

#[test]
fn threads_filling_the_cache_at_once_all_succeed() {
    let dir_tmp = temp_dir("threads");
    let dir = dir_tmp.path();
    let Some(config) = config(dir) else { return };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let engine = Engine::new(&config).unwrap();
                let module = Module::new(&engine, WAT).unwrap();
                check_runs(&engine, &module);
            });
        }
    });
    assert_eq!(entries(dir).len(), 1, "one entry, no temporary files left");
    let engine = Engine::new(&config).unwrap();
    Module::new(&engine, WAT).unwrap();
    assert_eq!(engine.cache_statistics(), (1, 0));
}

#[test]
fn the_cache_keeps_to_its_size_by_removing_the_oldest_entries() {
    let dir_tmp = temp_dir("evict");
    let dir = dir_tmp.path();
    let Some(mut config) = config(dir) else {
        return;
    };
    let modules: Vec<String> = (0..3)
        .map(|i| WAT.replace("f32.const 3.0", &format!("f32.const {}.0", 5 + i)))
        .collect();
    Module::new(&Engine::new(&config).unwrap(), &modules[0]).unwrap();
    let [first] = entries(dir).try_into().unwrap();
    let size = std::fs::metadata(&first).unwrap().len();
    // Make the first entry the oldest.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&first)
        .unwrap()
        .set_modified(old)
        .unwrap();
    Module::new(&Engine::new(&config).unwrap(), &modules[1]).unwrap();
    assert_eq!(entries(dir).len(), 2);

    // Room for two and a half entries: the third write evicts the oldest.
    let mut cache = CacheConfig::new();
    cache
        .with_directory(dir)
        .with_files_total_size_soft_limit(size * 5 / 2);
    config.cache(Some(cache));
    Module::new(&Engine::new(&config).unwrap(), &modules[2]).unwrap();
    let left = entries(dir);
    assert!(!left.contains(&first), "the oldest entry was evicted");
    assert!(left.len() <= 2, "{left:?}");
}

#[test]
fn without_the_cache_nothing_is_written() {
    let dir_tmp = temp_dir("off");
    let dir = dir_tmp.path();
    let Some(mut config) = config(dir) else {
        return;
    };
    config.cache(None);
    let engine = Engine::new(&config).unwrap();
    Module::new(&engine, WAT).unwrap();
    assert_eq!(engine.cache_statistics(), (0, 0));
    assert!(entries(dir).is_empty());
    // The interpreter compiles nothing, so it caches nothing.
    let mut interp = self::config(dir).unwrap();
    interp.tier(Tier::Interp);
    Module::new(&Engine::new(&interp).unwrap(), WAT).unwrap();
    assert!(entries(dir).is_empty());
}

#[test]
fn artifacts_round_trip() {
    let dir_tmp = temp_dir("artifact");
    let dir = dir_tmp.path();
    let Some(mut config) = config(dir) else {
        return;
    };
    config.cache(None);
    let engine = Engine::new(&config).unwrap();
    let artifact = engine.precompile_module(WAT.as_bytes()).unwrap();
    assert!(Module::is_precompiled(&artifact));
    let other = Engine::new(&config).unwrap();
    // SAFETY: the artifact was just made by this Strata.
    let module = unsafe { Module::deserialize(&other, &artifact) }.unwrap();
    check_runs(&other, &module);
    // Serializing a loaded module gives an artifact that loads as well.
    let again = module.serialize().unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &again) }.unwrap();
    check_runs(&engine, &module);
    // From a file.
    let path = dir.join("m.cwasm");
    std::fs::write(&path, &artifact).unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    check_runs(&engine, &module);
    assert_eq!(module.exports().len(), 2);
    // A module of a tiered engine, which compiled nothing yet, serializes
    // all of its code; the JIT loads it, and a tiered engine runs it.
    let mut tiered = config.clone();
    tiered.tier(Tier::Tiered);
    let tiered = Engine::new(&tiered).unwrap();
    let artifact = Module::new(&tiered, WAT).unwrap().serialize().unwrap();
    for engine in [&engine, &tiered] {
        // SAFETY: as above.
        let module = unsafe { Module::deserialize(engine, &artifact) }.unwrap();
        check_runs(engine, &module);
    }
}

#[test]
fn damaged_truncated_and_mismatched_artifacts_are_refused() {
    let dir_tmp = temp_dir("refused");
    let dir = dir_tmp.path();
    let Some(mut config) = config(dir) else {
        return;
    };
    config.cache(None);
    let engine = Engine::new(&config).unwrap();
    let artifact = engine.precompile_module(WAT.as_bytes()).unwrap();
    // SAFETY (all below): bytes made by this Strata, damaged on purpose;
    // the checks refuse them before anything runs.
    let load = |bytes: &[u8]| unsafe { Module::deserialize(&engine, bytes) };
    let err = |bytes: &[u8]| format!("{:#}", load(bytes).unwrap_err());

    for at in (0..artifact.len()).step_by(artifact.len() / 50 + 1) {
        let mut bad = artifact.clone();
        bad[at] ^= 1;
        assert!(load(&bad).is_err(), "byte {at} changed");
    }
    let mut bad = artifact.clone();
    let last = bad.len() - 100;
    bad[last] ^= 1;
    assert!(err(&bad).contains("damaged"), "{}", err(&bad));
    for len in [artifact.len() / 2, artifact.len() - 1] {
        assert!(
            err(&artifact[..len]).contains("truncated"),
            "{}",
            err(&artifact[..len])
        );
    }
    assert!(err(&artifact[..4]).contains("not a precompiled"));
    assert!(err(b"\0asm\x01\0\0\0").contains("not a precompiled"));

    // Other code-changing settings: the error names the setting.
    for (change, setting) in [
        (
            (|c: &mut Config| {
                c.consume_fuel(true);
            }) as fn(&mut Config),
            "consume-fuel",
        ),
        (
            |c: &mut Config| {
                c.epoch_interruption(true);
            },
            "epoch-interruption",
        ),
        (
            |c: &mut Config| {
                c.memory_guard_pages(false);
            },
            "memory-guard-pages",
        ),
        (
            |c: &mut Config| {
                c.wasm_tail_call(false);
            },
            "wasm.tail-call",
        ),
    ] {
        let mut other = config.clone();
        change(&mut other);
        let other = Engine::new(&other).unwrap();
        // SAFETY: as above.
        let e = unsafe { Module::deserialize(&other, &artifact) }.unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains(setting), "{e}");
        assert!(e.contains("different host or configuration"), "{e}");
    }
    // The interpreter runs no compiled code.
    let mut interp = config.clone();
    interp.tier(Tier::Interp);
    let interp = Engine::new(&interp).unwrap();
    // SAFETY: as above.
    assert!(unsafe { Module::deserialize(&interp, &artifact) }.is_err());
    assert!(Module::new(&interp, WAT).unwrap().serialize().is_err());
}
