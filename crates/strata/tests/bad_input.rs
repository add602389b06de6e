//! Hostile input: corrupted binaries, deep nesting, huge counts. Every case
//! must end in an error or a result, never a panic, hang or crash.

mod common;
use common::{tier_engine, tiers};

use strata::{Config, Engine, Instance, Module, Store, Tier, Trap};

fn engine(tier: Tier) -> Engine {
    tier_engine(tier)
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const SAMPLE: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (memory 1 2)
  (table 2 funcref)
  (global (mut i64) (i64.const 7))
  (elem (i32.const 0) $sq $sq)
  (data (i32.const 8) "data")
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func (export "run") (param i32) (result i32) (local i64 f64)
    (block (result i32)
      (loop
        (br_if 1 (i32.const 1) (i32.eqz (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br 0))
      (i32.const 0))
    (call_indirect (type $t) (i32.const 1))
    (i32.load8_u offset=8 (i32.const 0))
    (i32.add)))"#;

fn corrupted_binaries_are_rejected_or_run_without_panicking_in(tier: Tier) {
    // Fuel bounds whatever loops the corruption creates.
    let mut config = Config::new();
    config.tier(tier);
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let valid = wat::parse_str(SAMPLE).unwrap();
    Module::new(&engine, &valid).expect("the sample itself is valid");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut ran = 0;
    for _ in 0..20_000 {
        let mut bytes = valid.clone();
        let flips = 1 + rng.next() % 4;
        for _ in 0..flips {
            let at = (rng.next() as usize) % bytes.len();
            bytes[at] = rng.next() as u8;
        }
        if let Ok(module) = Module::new(&engine, &bytes) {
            // Whatever still validates must instantiate and run, or fail
            // cleanly.
            let mut store = Store::new(&engine, ());
            store.set_fuel(100_000).unwrap();
            let Ok(instance) = Instance::new(&mut store, &module, &[]) else {
                continue;
            };
            if let Ok(run) = instance.get_typed_func::<i32, i32>(&mut store, "run") {
                let _ = run.call(&mut store, 3);
            }
            ran += 1;
        }
    }
    assert!(
        ran > 1000,
        "only {ran} corrupted modules got as far as running"
    );
}

fn deep_block_nesting_translates_and_runs_in(tier: Tier) {
    let depth = 20_000;
    let mut wat = String::from(r#"(module (func (export "f") (result i32) "#);
    for _ in 0..depth {
        wat.push_str("(block (result i32) ");
    }
    wat.push_str("(i32.const 7)");
    for _ in 0..depth {
        wat.push(')');
    }
    wat.push_str("))");
    let engine = engine(tier);
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 7);
}

fn huge_local_counts_and_tables_of_branches_in(tier: Tier) {
    let engine = engine(tier);
    // 50,000 locals is the validator's limit.
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (result i64) (local i64 i64)
              (local.set 1 (i64.const 5)) (local.get 1)))"#
            .replace("(local i64 i64)", "(local i64) (local i64)")
            .replace("(local i64) (local i64)", &"(local i64) ".repeat(50_000)),
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i64>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 5);

    // Slots beyond 65,535 (50,000 locals, then 20,000 constants, then the
    // temporaries) take the interpreter's wide-operand path.
    let mut body = String::from("(local.set 49999 (i32.const 1))");
    for k in 0..20_000 {
        body.push_str(&format!(
            " (local.set 49999 (i32.add (i32.mul (local.get 49999) (i32.const 1)) (i32.const {})))",
            k * 3 + 1
        ));
    }
    let wat = format!(
        r#"(module (func (export "wide") (result i32) {} {body} (local.get 49999)))"#,
        "(local i32) ".repeat(50_000)
    );
    let module = Module::new(&engine, wat).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let wide = instance
        .get_typed_func::<(), i32>(&mut store, "wide")
        .unwrap();
    let expected = 1 + (0..20_000).map(|k| k * 3 + 1).sum::<i32>();
    assert_eq!(wide.call(&mut store, ()).unwrap(), expected);

    let targets = "0 ".repeat(100_000);
    let module = Module::new(
        &engine,
        format!(
            r#"(module (func (export "g") (param i32) (result i32)
                 (block (br_table {targets} 0 (local.get 0))) (i32.const 3)))"#
        ),
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let g = instance
        .get_typed_func::<i32, i32>(&mut store, "g")
        .unwrap();
    assert_eq!(g.call(&mut store, 99_999).unwrap(), 3);
}

fn memory_and_table_bombs_fail_cleanly_in(tier: Tier) {
    let engine = engine(tier);
    // The largest 32-bit memory is reserved, not committed.
    let module = Module::new(&engine, "(module (memory 65536))").unwrap();
    let mut store = Store::new(&engine, ());
    Instance::new(&mut store, &module, &[]).unwrap();
    // Tables beyond the runtime's cap are refused, not allocated.
    let module = Module::new(&engine, "(module (table 4000000000 funcref))").unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("table"), "{err}");
    let module = Module::new(
        &engine,
        r#"(module (table 0 funcref)
            (func (export "grow") (result i32)
              (table.grow (ref.null func) (i32.const -1))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<(), i32>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), -1);
}

fn infinite_loops_stop_under_fuel_in(tier: Tier) {
    let mut config = Config::new();
    config.tier(tier);
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (func $f (export "f") (loop (br 0)))
                   (func (export "g") (call $f)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(50_000).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let g = instance.get_typed_func::<(), ()>(&mut store, "g").unwrap();
    let err = g.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
}

#[test]
fn corrupted_binaries_are_rejected_or_run_without_panicking() {
    for tier in tiers() {
        corrupted_binaries_are_rejected_or_run_without_panicking_in(tier);
    }
}

#[test]
fn deep_block_nesting_translates_and_runs() {
    for tier in tiers() {
        deep_block_nesting_translates_and_runs_in(tier);
    }
}

#[test]
fn huge_local_counts_and_tables_of_branches() {
    for tier in tiers() {
        huge_local_counts_and_tables_of_branches_in(tier);
    }
}

#[test]
fn memory_and_table_bombs_fail_cleanly() {
    for tier in tiers() {
        memory_and_table_bombs_fail_cleanly_in(tier);
    }
}

#[test]
fn infinite_loops_stop_under_fuel() {
    for tier in tiers() {
        infinite_loops_stop_under_fuel_in(tier);
    }
}
