//! The interpreter's stack maps: at a collection, the collector reads
//! exactly the slots of interpreted frames that hold references. A number
//! that happens to equal an object's address does not keep the object
//! alive, and every reference a suspended frame holds (in a local, or an
//! operand below a call's arguments or an allocation's operands) does,
//! with the collector in stress mode (a collection before every
//! allocation).

mod common;

use anyhow::Result;
use common::call;
use strata::*;

fn engine(stress: bool) -> Engine {
    let mut config = Config::new();
    config
        .tier(Tier::Interp)
        .wasm_gc(true)
        .wasm_tail_call(true)
        .wasm_function_references(true)
        .gc_stress(stress);
    Engine::new(&config).expect("valid configuration")
}

/// A host function that collects and returns how many objects the heap
/// holds then.
fn collect_and_count(store: &mut Store<()>) -> Func {
    Func::wrap(store, |mut caller: Caller<'_, ()>| -> i32 {
        let store = caller.as_context_mut();
        assert!(store.gc(), "only interpreted frames are live");
        store.gc_stats().objects as i32
    })
}

/// How many `i64` locals hold candidate addresses: every multiple of 8
/// from 8 on (heap objects are 8-aligned, and the heap starts at 8).
const CANDIDATES: u64 = 64;

#[test]
fn an_integer_equal_to_an_address_keeps_nothing_alive() -> Result<()> {
    // The function makes one box and drops it, then collects while its
    // `i64` locals, and `i64` operands below the call, hold every address
    // the box can have in a fresh heap. Read conservatively, one of them
    // would keep the box; with stack maps the box is garbage.
    let locals: String = (1..=CANDIDATES)
        .map(|k| format!("(local $l{k} i64)"))
        .collect();
    let sets: String = (1..=CANDIDATES)
        .map(|k| format!("(local.set $l{k} (i64.const {}))", 8 * k))
        .collect();
    let operands: String = (1..=CANDIDATES)
        .map(|k| format!("(i64.add (local.get $l{k}) (i64.const 0))"))
        .collect();
    let drops = "(drop)".repeat(CANDIDATES as usize);
    let wat = format!(
        r#"(module
          (type $box (struct (field i64)))
          (import "host" "collect" (func $collect (result i32)))
          (func (export "run") (result i32) {locals} (local $n i32)
            (drop (struct.new $box (i64.const 1)))
            {sets}
            {operands}
            (local.set $n (call $collect))
            {drops}
            (local.get $n)))"#
    );
    let mut store = Store::new(&engine(false), ());
    let collect = collect_and_count(&mut store);
    let module = Module::new(store.engine(), &wat)?;
    let i = Instance::new(&mut store, &module, &[collect.into()])?;
    assert_eq!(
        store.gc_stats().objects,
        0,
        "instantiation allocates nothing"
    );
    let got = call(&mut store, &i, "run", &[])?;
    assert_eq!(got, [Val::I32(0)], "the dropped box was freed");
    Ok(())
}

#[test]
fn an_integer_equal_to_an_address_keeps_nothing_alive_at_an_allocation() -> Result<()> {
    // The same at an allocating instruction: while the second box is
    // allocated (collecting first, in stress mode), an `i64` operand holds
    // the first box's address (8) and an `i64` local every other candidate.
    let wat = r#"(module
      (type $box (struct (field i64)))
      (func (export "run") (param $x i64) (result i64)
        (drop (struct.new $box (i64.const 1)))
        (struct.get $box 0 (struct.new $box (local.get $x)))))"#;
    let mut store = Store::new(&engine(true), ());
    let module = Module::new(store.engine(), wat)?;
    let i = Instance::new(&mut store, &module, &[])?;
    let got = call(&mut store, &i, "run", &[Val::I64(8)])?;
    assert_eq!(got, [Val::I64(8)]);
    // The first box was collected before the second was allocated, so the
    // heap holds the second only.
    let stats = store.gc_stats();
    assert_eq!(stats.objects, 1, "{stats:?}");
    Ok(())
}

/// Builds a list of `n` nodes recursively. Each frame holds, across the
/// recursive call and across calls that allocate garbage (and collect, in
/// stress mode), a box in a local, a box as an operand below the call's
/// arguments, an `externref` parameter, and `i64`s next to them; then it
/// checks them all and links its node in front of the callee's list.
const LIST: &str = r#"
(module
  (type $box (struct (field i64)))
  (type $node (struct (field (ref $box)) (field (ref null $node))))
  (type $churn_t (func (param i32)))
  (import "host" "collect" (func $collect (result i32)))
  (import "host" "same" (func $same (param externref externref) (result i32)))
  (import "host" "make" (func $make (result externref)))
  (table $fns 1 funcref)
  (elem (table $fns) (i32.const 0) func $churn)
  (func $churn (param $n i32)
    (loop $l
      (drop (struct.new $box (i64.const -1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func $value (param (ref $box)) (result i64) (struct.get $box 0 (local.get 0)))
  (func $build (export "build") (param $n i32) (param $x externref) (result (ref null $node))
    (local $b (ref null $box)) (local $junk i64) (local $next (ref null $node))
    (if (i32.eqz (local.get $n)) (then (return (ref.null $node))))
    (local.set $junk (i64.const 8))
    (local.set $b (struct.new $box (i64.extend_i32_u (local.get $n))))
    ;; An operand box below the arguments of three kinds of calls.
    (struct.new $node
      (struct.new $box (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 1000)))
      (block (result (ref null $node))
        (call $churn (i32.const 5))
        (call_indirect $fns (type $churn_t) (i32.const 5) (i32.const 0))
        (call_ref $churn_t (i32.const 5) (ref.func $churn))
        (drop (call $collect))
        (local.set $next
          (call $build (i32.sub (local.get $n) (i32.const 1)) (local.get $x)))
        (call $churn (i32.const 5))
        (local.get $next)))
    ;; The local box and the parameter survived too.
    (if (i64.ne (call $value (ref.as_non_null (local.get $b)))
                (i64.extend_i32_u (local.get $n)))
      (then (unreachable)))
    (if (i32.eqz (call $same (local.get $x) (local.get $x))) (then (unreachable)))
    (if (i64.ne (local.get $junk) (i64.const 8)) (then (unreachable))))
  (func $sum (param $l (ref null $node)) (param $acc i64) (result i64)
    (if (result i64) (ref.is_null (local.get $l))
      (then (local.get $acc))
      (else (return_call $sum
        (struct.get $node 1 (local.get $l))
        (i64.add (local.get $acc) (call $value (struct.get $node 0 (local.get $l))))))))
  ;; The host value exists only in these frames (the host's handle to it
  ;; ended with the call that made it).
  (func (export "run") (param $n i32) (result i64)
    (call $sum (call $build (local.get $n) (call $make)) (i64.const 0)))
)"#;

#[test]
fn references_in_suspended_frames_survive_every_collection() -> Result<()> {
    for stress in [true, false] {
        let mut store = Store::new(&engine(stress), ());
        let collect = collect_and_count(&mut store);
        let same = Func::wrap(
            &mut store,
            |caller: Caller<'_, ()>, a: Option<ExternRef>, b: Option<ExternRef>| -> i32 {
                let data = |r: &Option<ExternRef>| {
                    r.as_ref()
                        .and_then(|r| r.data(caller.as_context()))
                        .and_then(|d| d.downcast_ref::<u64>())
                        .copied()
                };
                i32::from(data(&a) == Some(77) && data(&b) == Some(77))
            },
        );
        let make = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
            Some(ExternRef::new(&mut caller, 77u64).expect("room for a host reference"))
        });
        let module = Module::new(store.engine(), LIST)?;
        let imports = [collect.into(), same.into(), make.into()];
        let i = Instance::new(&mut store, &module, &imports)?;
        let list = call(&mut store, &i, "run", &[Val::I32(30)])?;
        // Each node holds 1000 n for n in 1..=30: 1000 * 465.
        assert_eq!(list, [Val::I64(465_000)], "stress {stress}");
        if stress {
            assert!(store.gc_stats().collections > 500, "{:?}", store.gc_stats());
        }
        // Everything is garbage now.
        assert!(store.gc());
        assert_eq!(store.gc_stats().objects, 0);
        assert_eq!(store.gc_stats().host_values, 0);
    }
    Ok(())
}
