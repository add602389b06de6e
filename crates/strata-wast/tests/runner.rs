//! Checks that the runner is strict: scripts whose every assertion is wrong
//! must report each one as a failure, at its line, and scripts whose
//! assertions are right must pass, for every directive form the spec suites
//! use.

use strata_wast::{run_wast, Report};

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
fn run(assertions: &str) -> Report {
    run_with(assertions, &strata::Config::new())
}

fn run_with(assertions: &str, config: &strata::Config) -> Report {
    let text = format!("{MODULE}{assertions}");
    run_wast("probe.wast", &text, config)
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
(assert_return (invoke "one") (either (f32.const 2) (f32.const nan:canonical)))
(assert_return (invoke "null") (ref.null noextern))
(assert_return (invoke "id" (ref.null extern)) (ref.extern))
(assert_return (invoke "one"))
(assert_trap (module (func $s) (start $s)) "unreachable")
(assert_unlinkable (module (func $s unreachable) (start $s)) "unknown import")
(assert_exception (invoke "one"))
(assert_invalid (module binary "\00asm\01\00\00\00") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")
"#;
    let report = run(wrong);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(
        lines,
        (8..=30).collect::<Vec<_>>(),
        "{:#?}",
        report.failures
    );
    assert_eq!((report.passed, report.failed, report.skipped), (1, 23, 0));
    let message = |line: usize| &report.failures[line - 8].message;
    assert_eq!(
        message(8),
        "result 0: expected f32.const nan:canonical, got f32.const 1 (0x3f800000)"
    );
    assert_eq!(
        message(21),
        "result 0: expected v128.const i32x4 0 0 0 0, got f32.const 1 (0x3f800000)"
    );
    assert_eq!(
        message(25),
        "expected 0 results, got 1: [f32.const 1 (0x3f800000)]"
    );
    assert!(message(26).starts_with("expected trap `unreachable`, got []"));
    assert_eq!(
        message(27),
        "expected a link error (`unknown import`), got a trap: wasm trap: unreachable"
    );
    assert!(message(28).starts_with("expected an exception, got [f32.const 1"));
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
(assert_return (invoke "one") (either (f32.const 2) (f32.const 1)))
(assert_return (invoke "snan") (either (f64.const 0) (f64.const nan:0x1)))
(assert_return (invoke "null") (ref.null nofunc))
(assert_return (invoke "null") (ref.null))
(assert_return (invoke "id" (ref.null noextern)) (ref.null noextern))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern))
(assert_return (invoke "one") (either (v128.const i32x4 1 0 0 0) (f32.const 1)))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module binary "\00asm\01\00\00\00\01\04\01\60\00\00\03\02\01\01\0a\04\01\02\00\0b") "unknown type")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module quote "(memory $m 1)" "(memory $m 1)") "duplicate memory")
(register "m")
(module (import "m" "g" (global i32)) (import "spectest" "print_i32" (func (param i32))))
(assert_return (invoke $first "one") (f32.const 1))
(assert_return (get $first "g") (i32.const 5))
(module binary "\00asm\01\00\00\00")
"#;
    let script = MODULE.replacen("(module", "(module $first", 1) + right;
    let report = run_wast("probe.wast", &script, &strata::Config::new());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    // Three modules, twenty-two assertions and the register.
    assert_eq!(report.passed, 26);
}

#[test]
fn module_definitions_and_instances() {
    let script = r#"(module definition $D
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "inc") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1))) (global.get 0)))
(module instance $A $D)
(module instance $B $D)
(assert_return (invoke $A "inc") (i32.const 1))
(assert_return (invoke $A "inc") (i32.const 2))
(assert_return (invoke $B "inc") (i32.const 1))
(register "b" $B)
(module (import "b" "g" (global (mut i32))) (func (export "get") (result i32) (global.get 0)))
(assert_return (invoke "get") (i32.const 1))
(assert_return (get $A "g") (i32.const 2))
(module definition binary "\00asm\01\00\00\00")
(module instance)
(module instance $C $nope)
(module definition (func (export "f") (result i32) (i32.const 3)))
(module instance)
(assert_return (invoke "f") (i32.const 3))
(module $E (global (export "g") (mut i32) (i32.const 0)) (func (export "set") (global.set 0 (i32.const 9))))
(invoke "set")
(module instance $F $E)
(assert_return (get $F "g") (i32.const 0))
(assert_return (get $E "g") (i32.const 9))
"#;
    let report = run_wast("instances.wast", script, &strata::Config::new());
    let failed: Vec<(usize, &str)> = report
        .failures
        .iter()
        .map(|f| (f.line, f.message.as_str()))
        .collect();
    assert_eq!(failed, [(16, "unknown module definition `nope`")]);
    assert_eq!(report.passed, 20);
}

/// GC patterns and `ref.host` arguments are checked through the API (a
/// null function reference is none of them); what the embedding API cannot
/// express yet fails with a message that says so, at the directive's line.
#[test]
fn gc_values_are_checked_and_unsupported_ones_fail_clearly() {
    let mut config = strata::Config::new();
    config.set_feature("gc", true).unwrap();
    let script = r#"(assert_return (invoke "null") (ref.null any))
(assert_return (invoke "null") (ref.struct))
(assert_return (invoke "null") (ref.i31))
(assert_return (invoke "id" (ref.host 1)) (ref.extern 1))
(assert_return (invoke "null") (ref.null exn))
(assert_return (invoke "null") (either (ref.array) (i32.const 1)))
(assert_return (invoke "null") (either (ref.array) (ref.null func)))
(assert_return (invoke "null") (ref.i31_shared))
"#;
    let report = run_with(script, &config);
    let failed: Vec<(usize, &str)> = report
        .failures
        .iter()
        .map(|f| (f.line, f.message.as_str()))
        .collect();
    // Nulls of every hierarchy are values: `null` returns a `funcref`
    // null, which is not the null of `any` or `exn`, nor a GC value.
    assert_eq!(failed.len(), 7, "{failed:?}");
    let expected = [
        (8, "expected ref.null any"),
        (9, "result 0: expected ref.struct, got ref.null func"),
        (10, "result 0: expected ref.i31, got ref.null func"),
        // `ref.host 1` is an internalized host reference: an anyref.
        (11, "argument 0 has type anyref, expected externref"),
        (12, "expected ref.null exn"),
        (13, "expected either (ref.array) (i32.const 1)"),
        (
            15,
            "shared references (shared-everything threads) are not supported",
        ),
    ];
    for ((line, message), (want_line, want)) in failed.iter().zip(expected) {
        assert_eq!(*line, want_line, "{failed:?}");
        assert!(message.contains(want), "line {line}: {message}");
    }
    // An `either` passes on any case that matches.
    assert_eq!(report.passed, 2);
}

#[test]
fn valid_modules_strata_refuses_are_not_invalid() {
    let mut config = strata::Config::new();
    config.set_feature("exceptions", true).unwrap();
    // Valid with exceptions on: whether Strata loads it or refuses it, the
    // assertion is wrong.
    let report = run_with(
        "(assert_invalid (module (tag (export \"t\"))) \"type mismatch\")\n",
        &config,
    );
    assert_eq!(
        (report.passed, report.failed),
        (1, 1),
        "{:#?}",
        report.failures
    );
    assert!(report.failures[0]
        .message
        .starts_with("expected an invalid module (`type mismatch`)"));
}

#[test]
fn component_directives_are_skipped_and_counted() {
    let report = run("(component)\n(assert_invalid (component (core module)) \"x\")\n");
    assert_eq!((report.passed, report.failed, report.skipped), (1, 0, 2));
    assert_eq!(report.directives(), 3);
}

#[test]
fn threads_fail_instead_of_being_skipped() {
    let report = run("(thread $T (invoke \"one\"))\n(wait $T)\n");
    assert_eq!((report.passed, report.failed, report.skipped), (1, 2, 0));
    assert!(report.failures[0].message.contains("`thread`"));
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
