//! Checks that the runner is strict: scripts whose every assertion is wrong
//! must report each one as a failure, at its line.

use strata_wast::run_wast;

const MODULE: &str = r#"(module
  (func (export "one") (result f32) (f32.const 1))
  (func (export "snan") (result f64) (f64.const nan:0x1))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (global (export "g") i32 (i32.const 5)))
"#;

/// Runs `MODULE` followed by `assertions`, one per line, and returns the
/// report; the module is line 1 to 7.
fn run(assertions: &str) -> strata_wast::Report {
    let text = format!("{MODULE}{assertions}");
    run_wast("probe.wast", &text, &strata::Config::new())
}

#[test]
fn wrong_expectations_fail() {
    let wrong = r#"(assert_return (invoke "one") (f32.const nan:canonical))
(assert_return (invoke "snan") (f64.const nan:arithmetic))
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 2))
(assert_return (invoke "id" (ref.extern 1)) (ref.null extern))
(assert_return (invoke "null") (ref.null extern))
(assert_return (invoke "null") (ref.func))
(assert_trap (invoke "div" (i32.const 0)) "integer overflow")
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
(assert_exhaustion (invoke "div" (i32.const 1)) "call stack exhausted")
(assert_invalid (module (func)) "type mismatch")
(assert_malformed (module quote "(func)") "unexpected token")
(assert_unlinkable (module (func)) "unknown import")
(assert_return (get "g") (i32.const 6))
(assert_return (invoke "one") (v128.const i32x4 0 0 0 0))
"#;
    let report = run(wrong);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(
        lines,
        (8..=21).collect::<Vec<_>>(),
        "{:#?}",
        report.failures
    );
    assert_eq!((report.passed, report.failed), (1, 14));
    assert!(report.failures[13].message.contains("SIMD (v128)"));
}

#[test]
fn right_expectations_pass() {
    let right = r#"(assert_return (invoke "one") (f32.const 1))
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 1))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_malformed (module quote "(func (i32.bogus))") "unknown operator")
(assert_unlinkable (module (import "nope" "f" (func))) "unknown import")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_return (get "g") (i32.const 5))
(register "m")
(module (import "m" "g" (global i32)) (import "spectest" "print_i32" (func (param i32))))
"#;
    let report = run(right);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    // Two modules, nine assertions and the register.
    assert_eq!(report.passed, 12);
}

#[test]
fn a_script_that_does_not_parse_is_one_failure_at_its_line() {
    let report = run_wast(
        "bad.wast",
        "(module)\n\n(assert_return",
        &strata::Config::new(),
    );
    assert_eq!((report.passed, report.failed), (0, 1));
    assert_eq!(report.failures[0].line, 3);
    assert!(report.failures[0].message.contains("bad.wast"));
}
