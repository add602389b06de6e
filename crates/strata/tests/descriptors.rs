//! Custom descriptors (the `descriptor`/`describes` clauses and their
//! instructions) in every tier: `struct.new_desc` stores the descriptor it
//! is given and `ref.get_desc` returns that very object; the fields keep
//! their values beside the hidden descriptor field, in subtypes too;
//! `ref.cast_desc_eq` and `br_on_cast_desc_eq(_fail)` pass exactly the
//! objects with the given descriptor; the spec's traps; and an object
//! keeps its descriptor alive across collections.

mod common;

use anyhow::Result;
use common::{call, tiers};
use strata::*;

/// An engine with custom descriptors in `tier` (tiered: compiled before
/// the first call), the collector in stress mode if `stress`.
fn engine(tier: Tier, stress: bool) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .wasm_custom_descriptors(true)
        .gc_stress(stress);
    common::compile_at_once(&mut config, tier);
    Engine::new(&config).expect("valid configuration")
}

/// `$obj` objects (an i32 and an i64 field) are described by `$vt`
/// objects (an i32 field, the "vtable"); `$sub` extends `$obj` with an
/// f64 field and is described by `$subvt`, which extends `$vt`. `$plain`
/// is `$obj` without the descriptor clause, a different type.
const MODULE: &str = r#"
(module
  (rec
    (type $obj (sub (descriptor $vt) (struct (field i32) (field i64))))
    (type $vt (sub (describes $obj) (struct (field i32))))
    (type $sub (sub $obj (descriptor $subvt) (struct (field i32) (field i64) (field f64))))
    (type $subvt (sub $vt (describes $sub) (struct (field i32)))))
  (type $plain (struct (field i32) (field i64)))

  (global $vt0 (ref (exact $vt)) (struct.new $vt (i32.const 100)))
  (global $g (ref $obj) (struct.new_desc $obj (i32.const 1) (i64.const 2) (global.get $vt0)))

  (func $vt (export "vt") (param i32) (result (ref (exact $vt)))
    (struct.new $vt (local.get 0)))
  (func $make (export "make") (param $x i32) (param $d (ref null (exact $vt))) (result (ref $obj))
    (struct.new_desc $obj (local.get $x) (i64.const 7) (local.get $d)))

  ;; The fields and the descriptor's field of a new object.
  (func (export "fields") (param $x i32) (param $tag i32) (result i32 i64 i32)
    (local $o (ref $obj))
    (local.set $o (call $make (local.get $x) (call $vt (local.get $tag))))
    (struct.get $obj 0 (local.get $o))
    (struct.get $obj 1 (local.get $o))
    (struct.get $vt 0 (ref.get_desc $obj (local.get $o))))
  ;; `ref.get_desc` returns the object given, not a copy.
  (func (export "same_desc") (result i32)
    (local $d (ref (exact $vt)))
    (local.set $d (call $vt (i32.const 5)))
    (ref.eq (local.get $d) (ref.get_desc $obj (call $make (i32.const 0) (local.get $d)))))
  (func (export "default_desc") (result i32 i64 i32)
    (local $o (ref $obj))
    (local.set $o (struct.new_default_desc $obj (call $vt (i32.const 8))))
    (struct.get $obj 0 (local.get $o))
    (struct.get $obj 1 (local.get $o))
    (struct.get $vt 0 (ref.get_desc $obj (local.get $o))))
  (func (export "global_desc") (result i32 i32)
    (ref.eq (global.get $vt0) (ref.get_desc $obj (global.get $g)))
    (struct.get $obj 0 (global.get $g)))

  ;; A subtype's object read through the supertype: the inherited fields
  ;; and the descriptor lie where the supertype's layout says.
  (func (export "sub_via_super") (result i32 i64 i32 f64)
    (local $o (ref $obj))
    (local.set $o (struct.new_desc $sub (i32.const 3) (i64.const 4) (f64.const 5.5)
      (struct.new $subvt (i32.const 6))))
    (struct.get $obj 0 (local.get $o))
    (struct.get $obj 1 (local.get $o))
    (struct.get $vt 0 (ref.get_desc $obj (local.get $o)))
    (struct.get $sub 2 (ref.cast (ref $sub) (local.get $o))))

  ;; A descriptor clause is part of the type: `$plain` is another type.
  (func (export "is_plain") (result i32)
    (ref.test (ref $plain) (call $make (i32.const 0) (global.get $vt0))))

  ;; Casts: `which` picks the descriptor to compare with (0: the object's
  ;; own, 1: another `$vt`, 2: null); `nul` makes the object null.
  (func $desc (param $which i32) (param $own (ref $vt)) (result (ref null $vt))
    (if (result (ref null $vt)) (i32.eqz (local.get $which))
      (then (local.get $own))
      (else (if (result (ref null $vt)) (i32.eq (local.get $which) (i32.const 1))
        (then (call $vt (i32.const 0)))
        (else (ref.null none))))))
  (func $subject (param $nul i32) (result (ref null $obj))
    (if (result (ref null $obj)) (local.get $nul)
      (then (ref.null none))
      (else (call $make (i32.const 11) (global.get $vt0)))))
  (func (export "cast") (param $nul i32) (param $which i32) (result i32)
    (local $o (ref null $obj))
    (local.set $o (call $subject (local.get $nul)))
    (ref.is_null (ref.cast_desc_eq (ref null $obj) (local.get $o)
      (call $desc (local.get $which) (global.get $vt0)))))
  (func (export "cast_non_null") (param $nul i32) (param $which i32) (result i32)
    (struct.get $obj 0 (ref.cast_desc_eq (ref $obj) (call $subject (local.get $nul))
      (call $desc (local.get $which) (global.get $vt0)))))
  ;; 1 when `br_on_cast_desc_eq` branches (with the object cast), 0 when
  ;; it falls through (with the object as it was).
  (func (export "br_on") (param $nul i32) (param $which i32) (result i32)
    (drop (block $hit (result (ref null $obj))
      (br_on_cast_desc_eq $hit anyref (ref null $obj) (call $subject (local.get $nul))
        (call $desc (local.get $which) (global.get $vt0)))
      (drop)
      (return (i32.const 0))))
    (i32.const 1))
  (func (export "br_on_fail") (param $nul i32) (param $which i32) (result i32)
    (drop (block $miss (result anyref)
      (drop (br_on_cast_desc_eq_fail $miss anyref (ref $obj) (call $subject (local.get $nul))
        (call $desc (local.get $which) (global.get $vt0))))
      (return (i32.const 0))))
    (i32.const 1))
  ;; A `$sub` object passes a cast to `$obj` with its own (`$subvt`)
  ;; descriptor, not with another.
  (func (export "sub_cast") (param $same i32) (result i32)
    (local $d (ref (exact $subvt)))
    (local.set $d (struct.new $subvt (i32.const 0)))
    (drop (block $out (result anyref)
      (br_on_cast_desc_eq_fail $out anyref (ref $obj)
        (struct.new_default_desc $sub (local.get $d))
        (if (result (ref $vt)) (local.get $same)
          (then (local.get $d))
          (else (struct.new $subvt (i32.const 0)))))
      (drop)
      (return (i32.const 1))))
    (i32.const 0))

  ;; Null descriptors and null objects.
  (func (export "new_null_desc") (result i32)
    (struct.get $obj 0 (struct.new_desc $obj (i32.const 0) (i64.const 0) (ref.null none))))
  (func (export "get_desc_of_null") (result i32)
    (struct.get $vt 0 (ref.get_desc $obj (ref.null none))))
)
"#;

fn instance(store: &mut Store<()>) -> Result<Instance> {
    let module = Module::new(store.engine(), MODULE)?;
    Instance::new(store, &module, &[])
}

fn trap_of(e: anyhow::Error) -> Trap {
    *e.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("expected a trap, got {e:#}"))
}

fn i32s(results: &[Val]) -> Vec<i32> {
    results
        .iter()
        .map(|v| match v {
            Val::I32(x) => *x,
            other => panic!("expected an i32, got {other:?}"),
        })
        .collect()
}

#[test]
fn new_desc_stores_the_descriptor_and_the_fields() -> Result<()> {
    for tier in tiers() {
        let mut store = Store::new(&engine(tier, false), ());
        let i = instance(&mut store)?;
        let r = call(&mut store, &i, "fields", &[Val::I32(-3), Val::I32(42)])?;
        assert!(
            matches!(r[..], [Val::I32(-3), Val::I64(7), Val::I32(42)]),
            "{tier:?}: {r:?}"
        );
        let r = call(&mut store, &i, "same_desc", &[])?;
        assert_eq!(i32s(&r), [1], "{tier:?}");
        let r = call(&mut store, &i, "default_desc", &[])?;
        assert!(
            matches!(r[..], [Val::I32(0), Val::I64(0), Val::I32(8)]),
            "{tier:?}: {r:?}"
        );
        let r = call(&mut store, &i, "global_desc", &[])?;
        assert_eq!(i32s(&r), [1, 1], "{tier:?}");
        let r = call(&mut store, &i, "sub_via_super", &[])?;
        assert!(
            matches!(r[..], [Val::I32(3), Val::I64(4), Val::I32(6), Val::F64(b)] if f64::from_bits(b) == 5.5),
            "{tier:?}: {r:?}"
        );
        let r = call(&mut store, &i, "is_plain", &[])?;
        assert_eq!(i32s(&r), [0], "{tier:?}");
    }
    Ok(())
}

#[test]
fn descriptor_casts_pass_the_objects_with_that_descriptor() -> Result<()> {
    for tier in tiers() {
        let mut store = Store::new(&engine(tier, false), ());
        let i = instance(&mut store)?;
        let mut run = |name: &str, nul: i32, which: i32| {
            call(&mut store, &i, name, &[Val::I32(nul), Val::I32(which)]).map(|r| i32s(&r)[0])
        };
        // The object's own descriptor: the cast returns it (not null),
        // both branches know it.
        assert_eq!(run("cast", 0, 0)?, 0, "{tier:?}");
        assert_eq!(run("cast_non_null", 0, 0)?, 11, "{tier:?}");
        assert_eq!(run("br_on", 0, 0)?, 1, "{tier:?}");
        assert_eq!(run("br_on_fail", 0, 0)?, 0, "{tier:?}");
        // Another descriptor of the same type fails.
        let e = run("cast", 0, 1).expect_err("another descriptor");
        assert_eq!(trap_of(e), Trap::DescriptorCastFailure, "{tier:?}");
        assert_eq!(run("br_on", 0, 1)?, 0, "{tier:?}");
        assert_eq!(run("br_on_fail", 0, 1)?, 1, "{tier:?}");
        // A null object passes a nullable cast only.
        assert_eq!(run("cast", 1, 0)?, 1, "{tier:?}");
        let e = run("cast_non_null", 1, 0).expect_err("null to a non-null type");
        assert_eq!(trap_of(e), Trap::DescriptorCastFailure, "{tier:?}");
        assert_eq!(run("br_on", 1, 0)?, 1, "{tier:?}");
        assert_eq!(run("br_on_fail", 1, 0)?, 1, "{tier:?}");
        // A null descriptor traps, whatever the object.
        for (name, nul) in [("cast", 0), ("cast", 1), ("br_on", 0), ("br_on_fail", 1)] {
            let e = run(name, nul, 2).expect_err("a null descriptor");
            assert_eq!(trap_of(e), Trap::NullDescriptorReference, "{tier:?} {name}");
        }
        let sub = |store: &mut Store<()>, same| call(store, &i, "sub_cast", &[Val::I32(same)]);
        assert_eq!(i32s(&sub(&mut store, 1)?), [1], "{tier:?}");
        assert_eq!(i32s(&sub(&mut store, 0)?), [0], "{tier:?}");
    }
    Ok(())
}

#[test]
fn null_descriptors_and_objects_trap() -> Result<()> {
    for tier in tiers() {
        let mut store = Store::new(&engine(tier, false), ());
        let i = instance(&mut store)?;
        let e = call(&mut store, &i, "new_null_desc", &[]).expect_err("null descriptor");
        assert_eq!(trap_of(e), Trap::NullDescriptorReference, "{tier:?}");
        let e = call(&mut store, &i, "get_desc_of_null", &[]).expect_err("null object");
        assert_eq!(trap_of(e), Trap::NullReference, "{tier:?}");
        // A global's initialiser traps at instantiation.
        let wat = r#"(module
          (rec (type $a (descriptor $b) (struct)) (type $b (describes $a) (struct)))
          (global (ref (exact $a)) (struct.new_default_desc $a (ref.null none))))"#;
        let module = Module::new(store.engine(), wat)?;
        let e = Instance::new(&mut store, &module, &[]).expect_err("null in a global");
        assert_eq!(trap_of(e), Trap::NullDescriptorReference, "{tier:?}");
    }
    Ok(())
}

/// An object is the only root of its descriptor: the collector (in stress
/// mode, before every allocation) must trace the hidden field, or the
/// descriptor is freed and its memory reused by the churn's descriptors,
/// which hold 99.
#[test]
fn an_object_keeps_its_descriptor_alive() -> Result<()> {
    let wat = r#"(module
      (rec (type $a (descriptor $b) (struct (field i32)))
           (type $b (describes $a) (struct (field i32))))
      (func (export "run") (param $x i32) (result i32 i32)
        (local $o (ref null $a)) (local $n i32)
        (local.set $o (struct.new_desc $a (i32.const 1) (struct.new $b (local.get $x))))
        (local.set $n (i32.const 200))
        (loop $l
          (drop (struct.new_desc $a (i32.const 2) (struct.new $b (i32.const 99))))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (struct.get $a 0 (local.get $o))
        (struct.get $b 0 (ref.get_desc $a (local.get $o)))))"#;
    for tier in tiers() {
        let mut store = Store::new(&engine(tier, true), ());
        let module = Module::new(store.engine(), wat)?;
        let i = Instance::new(&mut store, &module, &[])?;
        let r = call(&mut store, &i, "run", &[Val::I32(7)])?;
        assert_eq!(i32s(&r), [1, 7], "{tier:?}");
    }
    Ok(())
}

/// A `v128` field takes two cells of the operands: the descriptor after
/// it is still found, and the fields keep their values.
#[test]
fn wide_fields_come_before_the_descriptor_operand() -> Result<()> {
    let wat = r#"(module
      (rec (type $a (descriptor $b) (struct (field v128) (field i32)))
           (type $b (describes $a) (struct (field i32))))
      (func (export "run") (result i32 i32 i32)
        (local $o (ref null $a))
        (local.set $o (struct.new_desc $a (v128.const i32x4 1 2 3 4) (i32.const 5)
          (struct.new $b (i32.const 6))))
        (i32x4.extract_lane 3 (struct.get $a 0 (local.get $o)))
        (struct.get $a 1 (local.get $o))
        (struct.get $b 0 (ref.get_desc $a (local.get $o)))))"#;
    for tier in tiers() {
        let mut store = Store::new(&engine(tier, false), ());
        let module = Module::new(store.engine(), wat)?;
        let i = Instance::new(&mut store, &module, &[])?;
        let r = call(&mut store, &i, "run", &[])?;
        assert_eq!(i32s(&r), [4, 5, 6], "{tier:?}");
    }
    Ok(())
}
