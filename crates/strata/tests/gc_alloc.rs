//! Objects compiled code allocates without calling the runtime
//! (`jit/gc/alloc.rs`): their fields are what the instruction says even
//! in memory that dead objects left dirty, and the collector sees them.

mod common;

use anyhow::Result;
use common::call;
use strata::*;

/// An engine with the GC proposal in `tier` (tiered: everything compiled
/// at once) and a heap of at most `max_heap` bytes, so that memory is
/// collected and reused early.
fn engine(tier: Tier, max_heap: u64) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .wasm_simd(true)
        .max_gc_heap_size(max_heap);
    common::compile_at_once(&mut config, tier);
    Engine::new(&config).expect("valid configuration")
}

/// Every tier: the interpreter's objects are the reference.
fn all_tiers() -> Vec<Tier> {
    common::tiers()
}

/// A struct with fields of every size and a ref; garbage whose every
/// field byte is set; checks that count default objects with a field
/// that is not zero.
const DEFAULTS: &str = r#"(module
  (type $s (struct (field (mut i8)) (field (mut i16)) (field (mut i32))
    (field (mut i64)) (field (mut f64)) (field (mut v128))
    (field (mut (ref null $s))) (field (mut i8))))
  (type $a8 (array (mut i8)))
  (type $a64 (array (mut i64)))
  (type $ar (array (mut (ref null $s))))
  (func $dirty (param $n i32) (local $keep (ref null $s))
    (local.set $keep (struct.new_default $s))
    (loop $l
      (drop (struct.new $s (i32.const -1) (i32.const -1) (i32.const -1)
        (i64.const -1) (f64.const -1) (v128.const i64x2 -1 -1)
        (local.get $keep) (i32.const -1)))
      (drop (array.new $a8 (i32.const -1) (i32.const 13)))
      (drop (array.new $a64 (i64.const -1) (i32.const 3)))
      (drop (array.new $ar (local.get $keep) (i32.const 5)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func $zero (param $x (ref $s)) (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eqz (struct.get_u $s 0 (local.get $x)))
                 (i32.eqz (struct.get_u $s 1 (local.get $x))))
        (i32.and (i32.eqz (struct.get $s 2 (local.get $x)))
                 (i64.eqz (struct.get $s 3 (local.get $x)))))
      (i32.and
        (i32.and (f64.eq (struct.get $s 4 (local.get $x)) (f64.const 0))
                 (i32.eqz (v128.any_true (struct.get $s 5 (local.get $x)))))
        (i32.and (ref.is_null (struct.get $s 6 (local.get $x)))
                 (i32.eqz (struct.get_u $s 7 (local.get $x)))))))
  ;; Each round makes garbage, then default objects; returns how many
  ;; default objects or elements were not zero.
  (func (export "defaults") (param $rounds i32) (result i32)
    (local $bad i32) (local $i i32)
    (local $a (ref null $a8)) (local $b (ref null $a64)) (local $c (ref null $ar))
    (loop $r
      (call $dirty (i32.const 100))
      (local.set $bad (i32.add (local.get $bad)
        (i32.eqz (call $zero (struct.new_default $s)))))
      (local.set $a (array.new_default $a8 (i32.const 13)))
      (local.set $b (array.new_default $a64 (i32.const 3)))
      (local.set $c (array.new_default $ar (i32.const 5)))
      (local.set $i (i32.const 0))
      (loop $e
        (local.set $bad (i32.add (local.get $bad)
          (i32.ne (array.get_u $a8 (local.get $a) (local.get $i)) (i32.const 0))))
        (br_if $e (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
          (i32.const 13))))
      (local.set $i (i32.const 0))
      (loop $e
        (local.set $bad (i32.add (local.get $bad)
          (i64.ne (array.get $a64 (local.get $b) (local.get $i)) (i64.const 0))))
        (local.set $bad (i32.add (local.get $bad)
          (i32.eqz (ref.is_null (array.get $ar (local.get $c) (local.get $i))))))
        (br_if $e (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
          (i32.const 3))))
      (br_if $r (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (local.get $bad)))"#;

#[test]
fn default_objects_are_zero_in_reused_memory() -> Result<()> {
    for tier in all_tiers() {
        // 64 KiB: a round's garbage (about 20 KB) fills it every three
        // rounds, so most default objects land where garbage was.
        let mut store = Store::new(&engine(tier, 64 << 10), ());
        let module = Module::new(store.engine(), DEFAULTS)?;
        let i = Instance::new(&mut store, &module, &[])?;
        let got = call(&mut store, &i, "defaults", &[Val::I32(60)])?;
        assert_eq!(got, [Val::I32(0)], "{tier:?}");
        assert!(store.gc_stats().collections >= 10, "{tier:?}");
    }
    Ok(())
}

/// `array.new` and `array.new_fixed` of every element size; each export
/// returns the sum of the elements it made (a v128 element counts its two
/// i64 lanes, a ref element 1 when not null).
const FILLS: &str = r#"(module
  (type $a8 (array (mut i8)))
  (type $a16 (array (mut i16)))
  (type $a32 (array (mut f32)))
  (type $a64 (array (mut i64)))
  (type $av (array (mut v128)))
  (type $ar (array (mut (ref null $a8))))
  (func (export "fill") (param $n i32) (result i64)
    (local $sum i64) (local $i i32)
    (local $a (ref null $a8)) (local $b (ref null $a16)) (local $c (ref null $a32))
    (local $d (ref null $a64)) (local $e (ref null $av)) (local $f (ref null $ar))
    (local.set $a (array.new $a8 (i32.const 0x1ff) (local.get $n)))
    (local.set $b (array.new $a16 (i32.const 0x10005) (local.get $n)))
    (local.set $c (array.new $a32 (f32.const 7) (local.get $n)))
    (local.set $d (array.new $a64 (i64.const 0x100000000) (local.get $n)))
    (local.set $e (array.new $av (v128.const i64x2 11 13) (local.get $n)))
    (local.set $f (array.new $ar (local.get $a) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i64.add (local.get $sum) (i64.add (i64.add
          (i64.extend_i32_u (array.get_u $a8 (local.get $a) (local.get $i)))
          (i64.extend_i32_u (array.get_u $a16 (local.get $b) (local.get $i))))
          (i64.add (i64.trunc_f32_u (array.get $a32 (local.get $c) (local.get $i)))
                   (array.get $a64 (local.get $d) (local.get $i))))))
        (local.set $sum (i64.add (local.get $sum) (i64.add
          (i64.add (i64x2.extract_lane 0 (array.get $av (local.get $e) (local.get $i)))
                   (i64x2.extract_lane 1 (array.get $av (local.get $e) (local.get $i))))
          (i64.extend_i32_u (i32.eqz (ref.is_null (array.get $ar (local.get $f) (local.get $i))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $sum) (i64.extend_i32_u (i32.add (i32.add (i32.add
      (array.len (local.get $a)) (array.len (local.get $b)))
      (i32.add (array.len (local.get $c)) (array.len (local.get $d))))
      (i32.add (array.len (local.get $e)) (array.len (local.get $f)))))))
  (func (export "fixed") (result i64)
    (local $a (ref $a16)) (local $v (ref $av))
    (local.set $a (array.new_fixed $a16 3 (i32.const 1) (i32.const -1) (i32.const 300)))
    (local.set $v (array.new_fixed $av 2 (v128.const i64x2 1 2) (v128.const i64x2 3 4)))
    (i64.add
      (i64.extend_i32_u (i32.add (i32.add
        (array.get_u $a16 (local.get $a) (i32.const 0))
        (array.get_u $a16 (local.get $a) (i32.const 1)))
        (i32.add (array.get_s $a16 (local.get $a) (i32.const 1))
                 (array.get_u $a16 (local.get $a) (i32.const 2)))))
      (i64.add
        (i64.add (i64x2.extract_lane 0 (array.get $av (local.get $v) (i32.const 0)))
                 (i64x2.extract_lane 1 (array.get $av (local.get $v) (i32.const 0))))
        (i64.add (i64x2.extract_lane 0 (array.get $av (local.get $v) (i32.const 1)))
                 (i64x2.extract_lane 1 (array.get $av (local.get $v) (i32.const 1)))))))
  (func (export "huge") (result i32)
    (array.len (array.new_default $a64 (i32.const 0x7fffffff)))))"#;

#[test]
fn arrays_are_filled_with_their_value() -> Result<()> {
    for tier in all_tiers() {
        let mut store = Store::new(&engine(tier, 1 << 20), ());
        let module = Module::new(store.engine(), FILLS)?;
        let i = Instance::new(&mut store, &module, &[])?;
        for n in [0i64, 1, 13, 100] {
            // Per element: 0xff (i8 of 0x1ff), 5 (i16 of 0x10005), 7,
            // 2^32, 11 + 13, and 1 for the non-null ref; then 6 lengths.
            let want = n * (0xff + 5 + 7 + (1 << 32) + 24 + 1) + 6 * n;
            let got = call(&mut store, &i, "fill", &[Val::I32(n as i32)])?;
            assert_eq!(got, [Val::I64(want)], "{tier:?} n = {n}");
        }
        // 1 + 0xffff + (-1) + 300, then 1 + 2 + 3 + 4.
        let got = call(&mut store, &i, "fixed", &[])?;
        assert_eq!(got, [Val::I64(1 + 0xffff - 1 + 300 + 10)], "{tier:?}");
        // 16 GiB of elements: too large for any heap, a trap whatever
        // the window holds.
        let err = call(&mut store, &i, "huge", &[]).expect_err("traps");
        let trap = err.downcast_ref::<Trap>().copied();
        assert_eq!(trap, Some(Trap::AllocationTooLarge), "{tier:?}: {err:?}");
    }
    Ok(())
}
