//! The collector with compiled code on the stack: it reads the references
//! compiled frames hold from their calls' stack maps, so compiled code
//! that makes garbage runs in a small heap, and what compiled frames hold
//! survives collections (in stress mode, one before every allocation),
//! however compiled frames, interpreted frames and host functions nest.
//! A reference the collector missed would be freed and its memory reused
//! by garbage of the same type holding 99, so reading it back would give
//! 99 instead of the value it was made with.

mod common;

use anyhow::Result;
use common::call;
use strata::*;

/// An engine with the GC proposal in `tier` (tiered: everything compiled
/// at once), the collector in stress mode if `stress`, the heap limited to
/// `max_heap` bytes; functions whose body is larger than 256 bytes run in
/// the interpreter (the JIT does not compile them).
fn engine(tier: Tier, stress: bool, max_heap: u64) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .gc_stress(stress)
        .max_gc_heap_size(max_heap)
        .jit_max_function_size(256);
    common::compile_at_once(&mut config, tier);
    Engine::new(&config).expect("valid configuration")
}

/// The tiers that run compiled code.
fn compiled_tiers() -> Vec<Tier> {
    [Tier::Jit, Tier::Tiered]
        .into_iter()
        .filter(|t| t.is_available())
        .collect()
}

/// The types and the garbage maker the modules share: `$box` holds an
/// i32, `$node` a value and the next node; `$churn` makes `n` boxes of 99.
const COMMON: &str = r#"
  (type $box (struct (field (mut i32))))
  (type $node (struct (field i32) (field (ref null $node))))
  (type $pair (struct (field (ref $box)) (field (ref $box))))
  (func $churn (param $n i32)
    (loop $l
      (drop (struct.new $box (i32.const 99)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
"#;

/// Garbage made by compiled code in a loop, far more than the heap holds,
/// while a list it keeps in a local grows: the garbage is collected, the
/// list kept.
const LOOP: &str = r#"
  ;; Makes `n` garbage boxes per list node, `len` nodes; returns the sum
  ;; of the list's values (0 + 1 + ... + len-1).
  (func (export "garbage") (param $len i32) (param $n i32) (result i32)
    (local $list (ref null $node)) (local $i i32) (local $sum i32)
    (loop $l
      (call $churn (local.get $n))
      (local.set $list (struct.new $node (local.get $i) (local.get $list)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $len))))
    (block $done
      (loop $s
        (br_if $done (ref.is_null (local.get $list)))
        (local.set $sum (i32.add (local.get $sum)
          (struct.get $node 0 (ref.as_non_null (local.get $list)))))
        (local.set $list (struct.get $node 1 (ref.as_non_null (local.get $list))))
        (br $s)))
    (local.get $sum))
"#;

#[test]
fn compiled_garbage_fits_a_small_heap() -> Result<()> {
    for tier in compiled_tiers() {
        let wat = format!("(module {COMMON} {LOOP})");
        // 64 KiB: about 4000 boxes; 100 nodes with 1000 boxes of garbage
        // each are 25 times more than that.
        let mut store = Store::new(&engine(tier, false, 64 << 10), ());
        let module = Module::new(store.engine(), &wat)?;
        let i = Instance::new(&mut store, &module, &[])?;
        let got = call(&mut store, &i, "garbage", &[Val::I32(100), Val::I32(1000)])?;
        assert_eq!(got, [Val::I32(99 * 100 / 2)], "{tier:?}");
        assert!(store.gc_stats().collections > 10, "{tier:?}");
    }
    Ok(())
}

/// References held by compiled frames in locals and operands across
/// allocations and calls, with a collection at every allocation.
const HOLD: &str = r#"
  (func $get (param (ref null $box)) (result i32)
    (struct.get $box 0 (ref.as_non_null (local.get 0))))
  ;; Boxes as operands while other boxes are allocated and while `churn`
  ;; runs; a pair of them in a local while more garbage is made.
  (func (export "operands") (param $x i32) (result i32) (local $p (ref null $pair))
    (local.set $p (struct.new $pair
      (struct.new $box (local.get $x))
      (block (result (ref $box))
        (call $churn (i32.const 10))
        (struct.new $box (i32.add (local.get $x) (i32.const 1))))))
    (call $churn (i32.const 10))
    (i32.add
      (i32.mul (call $get (struct.get $pair 0 (local.get $p))) (i32.const 1000))
      (call $get (struct.get $pair 1 (local.get $p)))))
  ;; A box in a parameter and one in a local across a call that makes
  ;; garbage and a call that returns a fresh box.
  (func $fresh (param i32) (result (ref $box))
    (call $churn (i32.const 5))
    (struct.new $box (local.get 0)))
  (func (export "locals") (param $x i32) (result i32)
    (call $locals_in (struct.new $box (local.get $x)) (local.get $x)))
  (func $locals_in (param $a (ref $box)) (param $x i32) (result i32) (local $b (ref null $box))
    (local.set $b (call $fresh (i32.add (local.get $x) (i32.const 2))))
    (call $churn (i32.const 10))
    (struct.set $box 0 (local.get $a)
      (i32.add (struct.get $box 0 (local.get $a)) (call $get (local.get $b))))
    (call $churn (i32.const 10))
    (struct.get $box 0 (local.get $a)))
"#;

#[test]
fn compiled_locals_and_operands_survive_collections() -> Result<()> {
    for tier in compiled_tiers() {
        let wat = format!("(module {COMMON} {HOLD} {LOOP})");
        let mut store = Store::new(&engine(tier, true, 1 << 20), ());
        let module = Module::new(store.engine(), &wat)?;
        let i = Instance::new(&mut store, &module, &[])?;
        // x * 1000 + (x + 1).
        let got = call(&mut store, &i, "operands", &[Val::I32(7)])?;
        assert_eq!(got, [Val::I32(7008)], "{tier:?} operands");
        // x + (x + 2).
        let got = call(&mut store, &i, "locals", &[Val::I32(20)])?;
        assert_eq!(got, [Val::I32(42)], "{tier:?} locals");
        let got = call(&mut store, &i, "garbage", &[Val::I32(50), Val::I32(3)])?;
        assert_eq!(got, [Val::I32(49 * 50 / 2)], "{tier:?} list");
        // Stress mode: one collection per allocation (250 of them).
        assert!(store.gc_stats().collections >= 250, "{tier:?}");
    }
    Ok(())
}

/// A recursion of compiled frames, each holding a box of its depth while
/// the deeper ones run and make garbage.
const DEEP: &str = r#"
  (import "host" "collect" (func $collect))
  ;; Returns the sum of the depths 1..=d, each read from its frame's box
  ;; after the deeper calls returned.
  (func $deep (export "deep") (param $d i32) (result i32) (local $b (ref null $box))
    (if (result i32) (i32.eqz (local.get $d))
      (then (call $collect) (call $churn (i32.const 50)) (i32.const 0))
      (else
        (local.set $b (struct.new $box (local.get $d)))
        (call $churn (i32.const 1))
        (i32.add
          (call $deep (i32.sub (local.get $d) (i32.const 1)))
          (struct.get $box 0 (ref.as_non_null (local.get $b)))))))
"#;

#[test]
fn deep_compiled_recursion_keeps_every_frames_reference() -> Result<()> {
    for (tier, stress) in compiled_tiers()
        .into_iter()
        .flat_map(|t| [(t, true), (t, false)])
    {
        let wat = format!("(module {DEEP} {COMMON})");
        let mut store = Store::new(&engine(tier, stress, 1 << 20), ());
        let collect = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
            assert!(caller.as_context_mut().gc(), "compiled frames at calls");
        });
        let module = Module::new(store.engine(), &wat)?;
        let i = Instance::new(&mut store, &module, &[collect.into()])?;
        let depth = 2000;
        let got = call(&mut store, &i, "deep", &[Val::I32(depth)])?;
        assert_eq!(got, [Val::I32(depth * (depth + 1) / 2)], "{tier:?}");
    }
    Ok(())
}

/// Functions padded beyond the engine's 256-byte limit of compiled
/// functions, so they run in the interpreter.
fn padded(body: &str) -> String {
    format!("{body} {}", "(nop)".repeat(300))
}

#[test]
fn interpreted_compiled_and_host_frames_interleave() -> Result<()> {
    if !Tier::Jit.is_available() {
        return Ok(());
    }
    // interp_outer (interpreted) -> mid (compiled) -> host -> interp_inner
    // (interpreted) -> leaf (compiled) -> churn and a collection; each
    // layer holds a box of its own value and adds it to what its callee
    // returns.
    let wat = format!(
        r#"(module
      (import "host" "reenter" (func $reenter (result i32)))
      (import "host" "collect" (func $collect))
      {COMMON}
      (func (export "interp_outer") (result i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (i32.const 1)))
        {outer}
        (i32.add (call $mid) (struct.get $box 0 (ref.as_non_null (local.get $b)))))
      (func $mid (result i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (i32.const 20)))
        (i32.add (call $reenter) (struct.get $box 0 (ref.as_non_null (local.get $b)))))
      (func (export "interp_inner") (result i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (i32.const 300)))
        {inner}
        (i32.add (call $leaf) (struct.get $box 0 (ref.as_non_null (local.get $b)))))
      (func $leaf (result i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (i32.const 4000)))
        (call $churn (i32.const 20))
        (call $collect)
        (call $churn (i32.const 20))
        (struct.get $box 0 (ref.as_non_null (local.get $b)))))"#,
        outer = padded(""),
        inner = padded(""),
    );
    for stress in [true, false] {
        let mut store = Store::new(&engine(Tier::Jit, stress, 1 << 20), ());
        let reenter = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| -> Result<i32> {
            let inner = caller
                .get_export("interp_inner")
                .and_then(Extern::into_func)
                .ok_or_else(|| anyhow::anyhow!("no interp_inner"))?;
            let mut out = [Val::I32(0)];
            inner.call(&mut caller, &[], &mut out)?;
            assert!(caller.as_context_mut().gc(), "every layer at a call");
            out[0].i32().ok_or_else(|| anyhow::anyhow!("not an i32"))
        });
        let collect = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
            assert!(caller.as_context_mut().gc(), "every layer at a call");
        });
        let module = Module::new(store.engine(), &wat)?;
        let i = Instance::new(&mut store, &module, &[reenter.into(), collect.into()])?;
        let got = call(&mut store, &i, "interp_outer", &[])?;
        assert_eq!(got, [Val::I32(4321)], "stress {stress}");
    }
    Ok(())
}

#[test]
fn a_loop_entered_compiled_keeps_the_frames_references() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    // The function is called once (not hot), its loop is hot after one
    // iteration: the rest of the call runs compiled from the loop's entry
    // (on-stack replacement), holding a box made by the interpreter.
    let wat = format!(
        r#"(module
      (import "host" "collect" (func $collect))
      {COMMON}
      (func (export "hold") (param $x i32) (result i32)
        (local $b (ref null $box)) (local $n i32)
        (local.set $b (struct.new $box (local.get $x)))
        (local.set $n (i32.const 50))
        (loop $l
          (call $churn (i32.const 5))
          (call $collect)
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (struct.get $box 0 (ref.as_non_null (local.get $b)))))"#
    );
    let mut config = Config::new();
    config
        .tier(Tier::Tiered)
        .wasm_gc(true)
        .gc_stress(true)
        .tier_up_calls(1000)
        .tier_up_loop_iterations(1)
        .tier_up_in_background(false);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    let collect = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
        assert!(
            caller.as_context_mut().gc(),
            "interpreted or compiled, at a call"
        );
    });
    let module = Module::new(&engine, &wat)?;
    let i = Instance::new(&mut store, &module, &[collect.into()])?;
    assert_eq!(
        call(&mut store, &i, "hold", &[Val::I32(31)])?,
        [Val::I32(31)]
    );
    assert!(module.tiered_up().1 >= 1, "the loop was entered compiled");
    Ok(())
}
