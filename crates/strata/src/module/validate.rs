//! Whole-module validation with the function bodies split across threads.
//!
//! Validation is on the critical path of every start that misses the
//! compile cache (the spec has an invalid module rejected when it is
//! compiled, so it cannot wait until a function is first called), and
//! function bodies are most of it: about 5% of the instructions of a cold
//! run of a 1 MB program. Bodies validate independently of each other once
//! the sections before them have, so they are split into contiguous runs of
//! about equal size, one per core, and the calling thread takes the first.
//!
//! The outcome, error included, is exactly `Validator::validate_all`'s:
//! that too checks every section first and the bodies after, in order, and
//! reports the first failure; here the first failing run's first failure
//! is that same error, since runs are in order and each stops at its first.

use std::sync::{Mutex, OnceLock};
use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser,
    ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// Below this many bytes of bodies per thread, starting a thread costs
/// more than it saves (validation runs at very roughly 100 MB/s, so this
/// is about a millisecond, against tens of microseconds to start a
/// thread).
const MIN_BYTES_PER_THREAD: usize = 128 * 1024;

/// Most threads one validation uses.
const MAX_THREADS: usize = 4;

type Job<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Validates `bytes` under `features`, as `Validator::validate_all`.
pub(super) fn validate_all(features: WasmFeatures, bytes: &[u8]) -> Result<(), BinaryReaderError> {
    validate_with(features, bytes, parallelism(), MIN_BYTES_PER_THREAD)
}

/// [`validate_all`] on at most `max_threads` threads, each given at least
/// `min_bytes` of bodies.
fn validate_with(
    features: WasmFeatures,
    bytes: &[u8],
    max_threads: usize,
    min_bytes: usize,
) -> Result<(), BinaryReaderError> {
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut jobs = Vec::new();
    for payload in parser.parse_all(bytes) {
        if let ValidPayload::Func(func, body) = validator.payload(&payload?)? {
            jobs.push((func, body));
        }
    }
    let total: usize = jobs.iter().map(|(_, body)| body.as_bytes().len()).sum();
    let threads = (total / min_bytes.max(1)).clamp(1, max_threads.max(1));
    if threads == 1 {
        return validate_run(jobs);
    }
    // Contiguous runs of about `total / threads` bytes each, in order.
    let share = total.div_ceil(threads);
    let mut runs: Vec<Vec<Job<'_>>> = vec![Vec::new()];
    let mut filled = 0;
    for job in jobs {
        let len = job.1.as_bytes().len();
        if filled >= share && runs.len() < threads {
            runs.push(Vec::new());
            filled = 0;
        }
        filled += len;
        if let Some(run) = runs.last_mut() {
            run.push(job);
        }
    }
    // Each run sits in a slot its thread takes it from, so that a run
    // whose thread cannot start is still here to validate on this one.
    let slots: Vec<Mutex<Option<Vec<Job<'_>>>>> =
        runs.into_iter().map(|run| Mutex::new(Some(run))).collect();
    let Some((first, rest)) = slots.split_first() else {
        return Ok(());
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = rest
            .iter()
            .map(|slot| {
                let handle = std::thread::Builder::new()
                    .name("strata-validate".into())
                    .spawn_scoped(scope, move || validate_run(take(slot)))
                    .ok();
                (slot, handle)
            })
            .collect();
        validate_run(take(first))?;
        // In order: the first failing run has the first failure.
        for (slot, handle) in helpers {
            match handle {
                Some(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
                None => validate_run(take(slot))?,
            }
        }
        Ok(())
    })
}

/// The run in `slot` (taken once; a poisoned lock still holds it).
fn take<'a>(slot: &Mutex<Option<Vec<Job<'a>>>>) -> Vec<Job<'a>> {
    slot.lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}

/// Validates one run of bodies in order, stopping at the first failure.
fn validate_run(run: Vec<Job<'_>>) -> Result<(), BinaryReaderError> {
    let mut allocs = FuncValidatorAllocations::default();
    for (func, body) in run {
        let mut validator = func.into_validator(allocs);
        validator.validate(&body)?;
        allocs = validator.into_allocations();
    }
    Ok(())
}

/// The cores validation may use (asked once: it reads cgroup files).
fn parallelism() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module of `count` functions, each about 3 KB of `i32.const 1;
    /// drop`, where the functions in `invalid` add an `i64` to an `i32`
    /// (a type mismatch, so invalid in every configuration).
    fn module(count: usize, invalid: &[usize]) -> Vec<u8> {
        let mut text = String::from("(module\n");
        for f in 0..count {
            text.push_str("(func ");
            text.push_str(&"i32.const 1 drop ".repeat(1000));
            if invalid.contains(&f) {
                text.push_str("i32.const 1 i64.const 1 i32.add drop");
            }
            text.push_str(")\n");
        }
        text.push(')');
        wat::parse_str(&text).expect("the test module is well-formed text")
    }

    /// The byte range of the `n`th function body in `bytes`.
    fn nth_body(bytes: &[u8], n: usize) -> std::ops::Range<u64> {
        Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p {
                Ok(wasmparser::Payload::CodeSectionEntry(body)) => Some(body.range()),
                _ => None,
            })
            .nth(n)
            .expect("the body exists")
    }

    #[test]
    fn a_valid_module_validates_on_any_number_of_threads() {
        let bytes = module(120, &[]);
        for threads in [1, 2, 3, 4, 7] {
            validate_with(WasmFeatures::default(), &bytes, threads, 1).expect("valid");
        }
    }

    #[test]
    fn the_first_invalid_body_is_reported_whichever_thread_checks_it() {
        // Invalid bodies in the first, a middle and the last run.
        for invalid in [vec![3, 60, 119], vec![60, 119], vec![119], vec![0]] {
            let bytes = module(120, &invalid);
            let first = nth_body(&bytes, invalid[0]);
            for threads in [1, 2, 3, 4] {
                let error = validate_with(WasmFeatures::default(), &bytes, threads, 1)
                    .expect_err("a body is invalid");
                assert!(
                    first.contains(&error.offset()),
                    "{threads} threads, invalid {invalid:?}: error at {:#x}, \
                     outside function {}'s body {first:x?}: {error}",
                    error.offset(),
                    invalid[0]
                );
                assert!(error.message().contains("type mismatch"), "{error}");
            }
        }
    }

    #[test]
    fn a_section_error_comes_before_any_body_error() {
        // A data segment for a memory that does not exist follows the
        // code; validation checks every section before the bodies.
        let mut text = String::from("(module\n");
        for _ in 0..50 {
            text.push_str("(func i32.const 1 i64.const 1 i32.add drop)\n");
        }
        text.push_str("(data (i32.const 0) \"x\"))");
        let bytes = wat::parse_str(&text).expect("well-formed text");
        let sequential = Validator::new()
            .validate_all(&bytes)
            .err()
            .expect("invalid");
        for threads in [1, 2, 4] {
            let error =
                validate_with(WasmFeatures::default(), &bytes, threads, 1).expect_err("invalid");
            assert_eq!(error.offset(), sequential.offset());
            assert_eq!(error.message(), sequential.message());
        }
    }

    #[test]
    fn small_modules_stay_on_the_calling_thread() {
        // 20 bodies of 3 KB are less than one thread's minimum share, so
        // they validate as one run, and the error is the same.
        let bytes = module(20, &[19]);
        let error = validate_with(WasmFeatures::default(), &bytes, 4, MIN_BYTES_PER_THREAD)
            .expect_err("function 19 is invalid");
        assert!(nth_body(&bytes, 19).contains(&error.offset()));
    }
}
