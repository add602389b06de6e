//! Control-flow shapes the translator rewrites (operand forwarding, fused
//! compare-and-branch, loop inversion), checked for their results.

use strata::{Config, Engine, Instance, Module, Store, Tier};

fn run(wat: &str, cases: &[(&str, i32, i32)]) {
    let engine = Engine::new(Config::new().tier(Tier::Interp)).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for &(name, arg, want) in cases {
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, name)
            .unwrap();
        assert_eq!(f.call(&mut store, arg).unwrap(), want, "{name}({arg})");
    }
}

#[test]
fn loops_headed_by_branches() {
    run(
        r#"(module
          ;; The loop's first instruction is an `if` whose else-target is not
          ;; known yet when the body branches back to the loop.
          (func (export "ifloop") (param i32) (result i32) (local i32)
            (local.set 1 (i32.const 0))
            (loop $l
              (if (i32.lt_s (local.get 1) (local.get 0))
                (then
                  (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                  (br $l))))
            (local.get 1))
          ;; A conditional exit at the loop head, jumped to from the bottom.
          (func (export "headexit") (param i32) (result i32) (local i32)
            (local.set 1 (i32.const 0))
            (block $out
              (loop $l
                (br_if $out (i32.ge_s (local.get 1) (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (i32.const 2)))
                (br $l)))
            (local.get 1))
          ;; The head's exit goes backward, to an outer loop.
          (func (export "nested") (param i32) (result i32) (local i32 i32)
            (loop $outer
              (local.set 2 (i32.add (local.get 2) (i32.const 1)))
              (loop $inner
                (br_if $outer (i32.lt_s (local.get 2) (local.get 0)))
                (local.set 1 (i32.const 99))))
            (i32.add (local.get 1) (local.get 2)))
          ;; i64.eqz fused into the loop's exit test.
          (func (export "countdown") (param i32) (result i32) (local i64 i32)
            (local.set 1 (i64.extend_i32_u (local.get 0)))
            (block $out
              (loop $l
                (br_if $out (i64.eqz (local.get 1)))
                (local.set 1 (i64.sub (local.get 1) (i64.const 1)))
                (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                (br $l)))
            (local.get 2)))"#,
        &[
            ("ifloop", 10, 10),
            ("ifloop", 0, 0),
            ("headexit", 9, 10),
            ("headexit", 0, 0),
            ("nested", 5, 104),
            ("countdown", 7, 7),
            ("countdown", 0, 0),
        ],
    );
}

#[test]
fn lazy_locals_survive_writes_and_joins() {
    run(
        r#"(module
          ;; The old value of local 0 is on the stack when it is overwritten.
          (func (export "old_value") (param i32) (result i32)
            (local.get 0)
            (local.set 0 (i32.const 100))
            (local.get 0)
            (i32.sub))
          ;; A pending read of a local crosses a block whose branch skips
          ;; the write.
          (func (export "join") (param i32) (result i32)
            (local.get 0)
            (block
              (br_if 0 (local.get 0))
              (local.set 0 (i32.const 7)))
            (local.get 0)
            (i32.add))
          ;; local.tee keeps the new value on the stack.
          (func (export "tee") (param i32) (result i32)
            (local.get 0)
            (local.tee 0 (i32.mul (local.get 0) (i32.const 3)))
            (i32.add)))"#,
        &[
            ("old_value", 1, -99),
            ("join", 5, 10),
            ("join", 0, 7),
            ("tee", 2, 8),
        ],
    );
}

#[test]
fn multi_value_blocks_and_br_table() {
    run(
        r#"(module
          (func (export "table") (param i32) (result i32)
            (block (result i32)
              (block (result i32)
                (block (result i32)
                  (i32.const 10)
                  (local.get 0)
                  (br_table 0 1 2))
                (i32.add (i32.const 100)))
              (i32.add (i32.const 1000))))
          (func (export "swap") (param i32) (result i32)
            (local.get 0) (i32.const 1)
            (block (param i32 i32) (result i32 i32)
              (br 0))
            (i32.sub)))"#,
        &[
            ("table", 0, 1110),
            ("table", 1, 1010),
            ("table", 2, 10),
            ("table", 99, 10),
            ("swap", 5, 4),
        ],
    );
}
