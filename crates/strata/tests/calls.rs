//! Calls: tail calls in constant stack, typed function references, and
//! the same fuel in both tiers for every kind of call.

mod common;
use common::tiers;

use anyhow::Result;
use strata::*;

fn engine(tier: Tier, configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.tier(tier);
    configure(&mut config);
    Engine::new(&config).expect("valid configuration")
}

/// Loops written as tail calls, directly, through a table and through a
/// function reference, with a 64 KiB wasm stack: each iteration would need
/// a frame if the calls were not tail calls.
const LOOPS: &str = r#"
(module
  (type $step (func (param i64 i64) (result i64)))
  (table $t 1 funcref)
  (elem (table $t) (i32.const 0) func $indirect)
  (elem declare func $by_ref)
  (func $direct (export "direct") (type $step)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $direct
        (i64.sub (local.get 0) (i64.const 1))
        (i64.add (local.get 1) (local.get 0))))))
  (func $indirect (export "indirect") (type $step)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_indirect $t (type $step)
        (i64.sub (local.get 0) (i64.const 1))
        (i64.add (local.get 1) (local.get 0))
        (i32.const 0)))))
  (func $by_ref (export "by_ref") (type $step)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_ref $step
        (i64.sub (local.get 0) (i64.const 1))
        (i64.add (local.get 1) (local.get 0))
        (ref.func $by_ref)))))
)
"#;

/// The sum `1 + 2 + ... + n`.
fn triangle(n: i64) -> i64 {
    n * (n + 1) / 2
}

#[test]
fn tail_call_loops_run_in_constant_stack() -> Result<()> {
    for tier in tiers() {
        let engine = engine(tier, |c| {
            c.max_wasm_stack(64 << 10);
        });
        let module = Module::new(&engine, LOOPS)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        // A hundred million steps of the direct loop; a million through a
        // table and through a reference.
        for (name, n) in [
            ("direct", 100_000_000i64),
            ("indirect", 1_000_000),
            ("by_ref", 1_000_000),
        ] {
            let f = instance.get_typed_func::<(i64, i64), i64>(&mut store, name)?;
            assert_eq!(
                f.call(&mut store, (n, 0))?,
                triangle(n),
                "{name} in {tier:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn deep_recursion_through_call_ref_still_exhausts_the_stack() -> Result<()> {
    for tier in tiers() {
        let engine = engine(tier, |c| {
            c.max_wasm_stack(64 << 10);
        });
        let module = Module::new(
            &engine,
            r#"(module
                (type $f (func (param i32) (result i32)))
                (elem declare func $down)
                (func $down (export "down") (type $f)
                  (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.const 0))
                    (else (i32.add (i32.const 1)
                      (call_ref $f (i32.sub (local.get 0) (i32.const 1)) (ref.func $down)))))))"#,
        )?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
        assert_eq!(down.call(&mut store, 100)?, 100);
        let err = down.call(&mut store, 10_000_000).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::StackOverflow),
            "{tier:?}: {err:#}"
        );
    }
    Ok(())
}

#[test]
fn null_function_references_trap_and_bad_tail_calls_do_not_validate() -> Result<()> {
    for tier in tiers() {
        let engine = engine(tier, |_| {});
        let module = Module::new(
            &engine,
            r#"(module
                (type $f (func (result i32)))
                (func (export "call_null") (result i32)
                  (call_ref $f (ref.null $f)))
                (func (export "tail_null") (result i32)
                  (return_call_ref $f (ref.null $f)))
                (func (export "as_non_null") (result i32)
                  (ref.is_null (ref.as_non_null (ref.null $f)))))"#,
        )?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        for (name, trap) in [
            ("call_null", Trap::NullFunctionReference),
            ("tail_null", Trap::NullFunctionReference),
            ("as_non_null", Trap::NullReference),
        ] {
            let f = instance.get_typed_func::<(), i32>(&mut store, name)?;
            let err = f.call(&mut store, ()).unwrap_err();
            assert_eq!(
                err.downcast_ref::<Trap>(),
                Some(&trap),
                "{name} in {tier:?}"
            );
        }
        assert_eq!(
            Trap::NullFunctionReference.to_string(),
            "null function reference"
        );
        // A tail call must return what the caller returns.
        let err = Module::new(
            &engine,
            r#"(module
                (func $g (result i64) (i64.const 1))
                (func (result i32) (return_call $g)))"#,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    }
    Ok(())
}

/// Every kind of call, and the branches on null, consume the same fuel in
/// both tiers, and the fuel the cost model says.
#[test]
fn calls_consume_the_same_fuel_in_every_tier() -> Result<()> {
    let wat = r#"
    (module
      (type $f (func (param i32) (result i32)))
      (import "host" "id" (func $host (type $f)))
      (table $t 2 funcref)
      (elem (table $t) (i32.const 0) func $inc $host)
      (elem declare func $inc)
      (func $inc (type $f) (i32.add (local.get 0) (i32.const 1)))
      (func (export "calls") (param i32) (result i32)
        (call $inc (local.get 0))
        (call_indirect $t (type $f) (i32.const 0))
        (call_ref $f (ref.func $inc))
        (call_indirect $t (type $f) (i32.const 1)))
      (func (export "tail") (param i32) (result i32)
        (return_call_indirect $t (type $f) (local.get 0) (i32.const 0)))
      (func (export "tail_ref") (param i32) (result i32)
        (return_call_ref $f (local.get 0) (ref.func $inc)))
      (func (export "tail_host") (param i32) (result i32)
        (return_call $host (local.get 0)))
      (func (export "null_branches") (param i32) (result i32)
        (block $null (result i32)
          (i32.const 7)
          (br_on_null $null (ref.func $inc))
          (drop)
          (drop)
          (block $some (result (ref $f))
            (br_on_non_null $some (ref.func $inc))
            (return (i32.const 0)))
          (drop)
          (i32.const 5))))
    "#;
    let mut consumed = Vec::new();
    for tier in tiers() {
        let engine = engine(tier, |c| {
            c.consume_fuel(true);
        });
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let host = Func::wrap(&mut store, |x: i32| x);
        let instance = Instance::new(&mut store, &module, &[host.into()])?;
        let mut fuel_of = Vec::new();
        for (name, arg, want) in [
            ("calls", 1, 4),
            ("tail", 1, 2),
            ("tail_ref", 1, 2),
            ("tail_host", 9, 9),
            ("null_branches", 0, 5),
        ] {
            let f = instance.get_typed_func::<i32, i32>(&mut store, name)?;
            store.set_fuel(1_000)?;
            assert_eq!(f.call(&mut store, arg)?, want, "{name} in {tier:?}");
            fuel_of.push((name, 1_000 - store.get_fuel()?));
        }
        consumed.push(fuel_of);
    }
    // The cost model: one unit per instruction except `drop`, `block`,
    // `end` and friends; host functions are free. `calls`: four calls with
    // one operand each (8) and `$inc` three times (3 each); a tail call
    // costs its operands and itself, then the callee; `null_branches`:
    // two constants, two `ref.func`, the two branches.
    assert_eq!(
        consumed[0],
        [
            ("calls", 17),
            ("tail", 6),
            ("tail_ref", 6),
            ("tail_host", 2),
            ("null_branches", 6)
        ]
    );
    if consumed.len() > 1 {
        assert_eq!(consumed[0], consumed[1], "fuel differs between tiers");
    }
    Ok(())
}

/// A module whose functions run in different tiers (`$big` is too large
/// for `Config::jit_max_function_size`, so it stays interpreted while the
/// rest is compiled) calls across them in every way, with the same
/// results, traps and fuel as either tier alone.
#[test]
fn interpreted_and_compiled_functions_call_each_other() -> Result<()> {
    if !Tier::Jit.is_available() {
        return Ok(());
    }
    let padding = "nop ".repeat(200);
    let wat = format!(
        r#"(module
          (type $f (func (param i32) (result i32)))
          (table 2 funcref)
          (elem (i32.const 0) $small $big)
          (func $small (export "small") (type $f)
            (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add
                (call $big (i32.sub (local.get 0) (i32.const 1)))
                (call_indirect (type $f) (i32.sub (local.get 0) (i32.const 2)) (i32.const 1))))))
          (func $big (export "big") (type $f)
            {padding}
            (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add
                (call $small (i32.sub (local.get 0) (i32.const 1)))
                (call_indirect (type $f) (i32.sub (local.get 0) (i32.const 2)) (i32.const 0))))))
          (func (export "tail_to_big") (type $f) (return_call $big (local.get 0)))
          (func $fail (param i32) (result i32) {padding} (unreachable))
          (func (export "trap_in_big") (type $f) (call $fail (local.get 0)))
          (func $down (export "down") (type $f)
            (if (result i32) (i32.eqz (local.get 0))
              (then (i32.const 0))
              (else (call $down_big (i32.sub (local.get 0) (i32.const 1))))))
          (func $down_big (type $f)
            {padding}
            (i32.add (i32.const 1) (call $down (local.get 0)))))"#
    );
    let mut outcomes = Vec::new();
    for (tier, max) in [
        (Tier::Interp, usize::MAX),
        (Tier::Jit, usize::MAX),
        (Tier::Jit, 100),
        (Tier::Jit, 0),
    ] {
        let engine = engine(tier, |c| {
            c.consume_fuel(true).jit_max_function_size(max);
        });
        let module = Module::new(&engine, &wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let mut outcome = Vec::new();
        for name in ["small", "big", "tail_to_big"] {
            let f = instance.get_typed_func::<i32, i32>(&mut store, name)?;
            store.set_fuel(u64::MAX)?;
            let result = f.call(&mut store, 20)?;
            outcome.push((name, result, u64::MAX - store.get_fuel()?));
        }
        let trap = instance.get_typed_func::<i32, i32>(&mut store, "trap_in_big")?;
        let err = trap.call(&mut store, 1).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::UnreachableCodeReached)
        );
        // Recursion that crosses between the tiers at every call is bounded
        // too: it ends in the stack-exhaustion trap, never a host overflow.
        // (Each crossing is a new entry on the host stack, so mixed
        // recursion reaches less deep than either tier alone.)
        let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
        store.set_fuel(u64::MAX)?;
        assert_eq!(down.call(&mut store, 50)?, 50);
        let err = down.call(&mut store, 10_000_000).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::StackOverflow),
            "{tier:?} with limit {max}: {err:#}"
        );
        assert_eq!(outcome[0].1, 6765, "fib(20) in {tier:?} with limit {max}");
        outcomes.push(outcome);
    }
    for other in &outcomes[1..] {
        assert_eq!(&outcomes[0], other, "results and fuel differ between tiers");
    }
    Ok(())
}
