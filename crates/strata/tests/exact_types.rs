//! Exact reference types of the custom-descriptors proposal: a cast to
//! `(ref exact $t)` admits an object of type `$t` itself but not one of a
//! declared subtype (where a cast to `(ref $t)` admits both), in every
//! tier; an exact function import takes a function of exactly its type.

mod common;

use anyhow::Result;
use common::{call, tiers};
use strata::*;

/// An engine with exact references in `tier` (tiered: every function
/// compiled before its first call).
fn engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .wasm_custom_descriptors(true);
    common::compile_at_once(&mut config, tier);
    Engine::new(&config).expect("valid configuration")
}

fn i32_of(results: &[Val]) -> i32 {
    match results {
        [Val::I32(v)] => *v,
        other => panic!("expected one i32, got {other:?}"),
    }
}

/// `$sub` is a declared subtype of `$sup`; `make` builds one of either
/// (0: `$sup` holding 10, 1: `$sub` holding 20) and the tests ask
/// whether it is exactly a `$sup`, or at least one.
const CASTS: &str = r#"
(module
  (type $sup (sub (struct (field i32))))
  (type $sub (sub $sup (struct (field i32))))
  (type $f (sub (func (result i32))))
  (type $g (sub $f (func (result i32))))
  (func $in_f (type $f) (i32.const 1))
  (func $in_g (type $g) (i32.const 2))
  (elem declare func $in_f $in_g)
  (func $make (export "make") (param i32) (result anyref)
    (if (result anyref) (local.get 0)
      (then (struct.new $sub (i32.const 20)))
      (else (struct.new $sup (i32.const 10)))))
  (func (export "test_exact") (param i32) (result i32)
    (ref.test (ref (exact $sup)) (call $make (local.get 0))))
  (func (export "test_inexact") (param i32) (result i32)
    (ref.test (ref $sup) (call $make (local.get 0))))
  (func (export "cast_exact") (param i32) (result i32)
    (struct.get $sup 0 (ref.cast (ref (exact $sup)) (call $make (local.get 0)))))
  (func (export "cast_null_exact") (result i32)
    (ref.is_null (ref.cast (ref null (exact $sup)) (ref.null none))))
  (func (export "br_exact") (param i32) (result i32)
    (block $yes (result (ref (exact $sup)))
      (br_on_cast $yes anyref (ref (exact $sup)) (call $make (local.get 0)))
      (drop)
      (return (i32.const -1)))
    (struct.get $sup 0))
  (func (export "br_fail_exact") (param i32) (result i32)
    (block $no (result anyref)
      (br_on_cast_fail $no anyref (ref (exact $sup)) (call $make (local.get 0)))
      (drop)
      (return (i32.const 1)))
    (drop)
    (i32.const 0))
  (func (export "func_exact") (param i32) (result i32)
    (ref.test (ref (exact $f))
      (select (result funcref) (ref.func $in_g) (ref.func $in_f) (local.get 0))))
)
"#;

#[test]
fn exact_casts_reject_subtypes_in_every_tier() -> Result<()> {
    for tier in tiers() {
        let mut store = Store::new(&engine(tier), ());
        let module = Module::new(store.engine(), CASTS)?;
        let i = Instance::new(&mut store, &module, &[])?;
        let mut run = |name: &str, args: &[Val]| call(&mut store, &i, name, args);
        let (sup, sub) = ([Val::I32(0)], [Val::I32(1)]);
        assert_eq!(i32_of(&run("test_exact", &sup)?), 1, "{tier:?}");
        assert_eq!(i32_of(&run("test_exact", &sub)?), 0, "{tier:?}");
        // Without `exact` the subtype passes.
        assert_eq!(i32_of(&run("test_inexact", &sub)?), 1, "{tier:?}");
        assert_eq!(i32_of(&run("cast_exact", &sup)?), 10, "{tier:?}");
        let e = run("cast_exact", &sub).expect_err("a subtype is not exactly $sup");
        assert_eq!(
            e.downcast_ref::<Trap>(),
            Some(&Trap::CastFailure),
            "{tier:?}"
        );
        assert_eq!(i32_of(&run("cast_null_exact", &[])?), 1, "{tier:?}");
        assert_eq!(i32_of(&run("br_exact", &sup)?), 10, "{tier:?}");
        assert_eq!(i32_of(&run("br_exact", &sub)?), -1, "{tier:?}");
        assert_eq!(i32_of(&run("br_fail_exact", &sup)?), 1, "{tier:?}");
        assert_eq!(i32_of(&run("br_fail_exact", &sub)?), 0, "{tier:?}");
        // A function of type $g (a subtype of $f) is not exactly an $f.
        assert_eq!(i32_of(&run("func_exact", &sup)?), 1, "{tier:?}");
        assert_eq!(i32_of(&run("func_exact", &sub)?), 0, "{tier:?}");
    }
    Ok(())
}

#[test]
fn exact_function_imports_take_only_their_own_type() -> Result<()> {
    let engine = engine(Tier::Interp);
    let mut store = Store::new(&engine, ());
    let exporter = Module::new(
        &engine,
        r#"(module
          (type $f (sub (func)))
          (type $g (sub $f (func)))
          (func (export "f") (type $f))
          (func (export "g") (type $g)))"#,
    )?;
    let exporter = Instance::new(&mut store, &exporter, &[])?;
    let exact = Module::new(
        &engine,
        r#"(module (type $f (sub (func))) (import "m" "f" (func (exact (type $f)))))"#,
    )?;
    let inexact = Module::new(
        &engine,
        r#"(module (type $f (sub (func))) (import "m" "f" (func (type $f))))"#,
    )?;
    let f = exporter.get_func(&mut store, "f").expect("exported");
    let g = exporter.get_func(&mut store, "g").expect("exported");
    Instance::new(&mut store, &exact, &[Extern::Func(f)])?;
    Instance::new(&mut store, &exact, &[Extern::Func(g)])
        .expect_err("a function of a subtype does not satisfy an exact import");
    Instance::new(&mut store, &inexact, &[Extern::Func(g)])?;
    Ok(())
}

#[test]
fn exact_references_need_the_switch() {
    let mut config = Config::new();
    config.wasm_gc(true);
    let engine = Engine::new(&config).expect("valid configuration");
    let wat = r#"(module (type $s (struct)) (global (ref null (exact $s)) (ref.null none)))"#;
    assert!(Module::new(&engine, wat).is_err());
    let mut config = Config::new();
    config
        .set_feature("custom-descriptors", true)
        .expect("a known feature");
    let engine = Engine::new(&config).expect("gc comes with it");
    Module::new(&engine, wat).expect("exact references with the switch on");
}

/// Import matching of globals goes through reference subtyping: an
/// immutable global of type `(ref null exact $s)` satisfies an import of
/// `(ref null $s)` (exact `$s` is below `$s`), not the other way round,
/// and a mutable global's type must be the same both ways.
#[test]
fn exact_global_imports_follow_subtyping() -> Result<()> {
    let engine = engine(Tier::Interp);
    let mut store = Store::new(&engine, ());
    let exporter = Module::new(
        &engine,
        r#"(module
          (type $s (struct))
          (global (export "exact") (ref null (exact $s)) (ref.null none))
          (global (export "inexact") (ref null $s) (ref.null none))
          (global (export "mut_exact") (mut (ref null (exact $s))) (ref.null none)))"#,
    )?;
    let exporter = Instance::new(&mut store, &exporter, &[])?;
    let importer = |ty: &str| {
        let wat = format!(r#"(module (type $s (struct)) (import "m" "g" (global {ty})))"#);
        Module::new(&engine, wat)
    };
    let want_inexact = importer("(ref null $s)")?;
    let want_exact = importer("(ref null (exact $s))")?;
    let want_mut_inexact = importer("(mut (ref null $s))")?;
    let want_mut_exact = importer("(mut (ref null (exact $s)))")?;
    let mut global = |name: &str| {
        let g = exporter.get_global(&mut store, name).expect("exported");
        [Extern::Global(g)]
    };
    let (exact, inexact, mut_exact) = (global("exact"), global("inexact"), global("mut_exact"));
    Instance::new(&mut store, &want_inexact, &exact)?;
    Instance::new(&mut store, &want_exact, &exact)?;
    Instance::new(&mut store, &want_inexact, &inexact)?;
    Instance::new(&mut store, &want_exact, &inexact)
        .expect_err("an inexact global does not satisfy an exact import");
    Instance::new(&mut store, &want_mut_exact, &mut_exact)?;
    Instance::new(&mut store, &want_mut_inexact, &mut_exact)
        .expect_err("a mutable global's type must match both ways");
    Ok(())
}
