//! `Linker::define_unknown_imports_as_traps` and
//! `Linker::define_unknown_imports_as_default_values`, in every tier.

mod common;
use common::{tier_engine, tiers};

use anyhow::Result;
use strata::*;

/// A module with unknown function imports of several result types (one
/// imported twice), an unknown global, and one import the linker defines.
const MODULE: &str = r#"(module
    (import "env" "nothing" (func $nothing))
    (import "env" "int" (func $int (param i32 f64) (result i32)))
    (import "env" "int" (func $int_again (param i32 f64) (result i32)))
    (import "env" "many" (func $many (result i64 f32 f64 funcref externref)))
    (import "host" "known" (func $known (result i32)))
    (func (export "call_nothing") (call $nothing))
    (func (export "call_int") (result i32) (call $int (i32.const 7) (f64.const 1.5)))
    (func (export "call_int_again") (result i32) (call $int_again (i32.const 1) (f64.const 2)))
    (func (export "call_many") (result i64 f32 f64 funcref externref) (call $many))
    (func (export "call_known") (result i32) (call $known))
    (func (export "untouched") (result i32) (i32.const 5)))"#;

fn linker_with_known(engine: &Engine) -> Result<Linker<()>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "known", || 42)?;
    Ok(linker)
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str) -> Result<Vec<Val>> {
    let func = instance
        .get_func(&mut *store, name)
        .expect("the export exists");
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    func.call(&mut *store, &[], &mut results)?;
    Ok(results)
}

fn traps_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let mut linker = linker_with_known(&engine)?;
    // Without the definitions, instantiation names every unknown import.
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("`env::nothing`"), "{err}");

    linker.define_unknown_imports_as_traps(&module)?;
    let instance = linker.instantiate(&mut store, &module)?;
    // What the module does not call never fails; what the linker knew
    // stays as it was.
    assert_eq!(call(&mut store, &instance, "untouched")?[0].i32(), Some(5));
    assert_eq!(
        call(&mut store, &instance, "call_known")?[0].i32(),
        Some(42)
    );
    for (export, import) in [
        ("call_nothing", "env::nothing"),
        ("call_int", "env::int"),
        ("call_int_again", "env::int"),
        ("call_many", "env::many"),
    ] {
        let err = call(&mut store, &instance, export).unwrap_err();
        let unknown = err
            .downcast_ref::<UnknownImportError>()
            .unwrap_or_else(|| panic!("{export}: {err:?}"));
        assert_eq!(format!("{}::{}", unknown.module(), unknown.name()), import);
        assert!(matches!(unknown.ty(), ExternType::Func(_)));
        assert_eq!(
            unknown.to_string(),
            format!("unknown import: `{import}` has not been defined")
        );
    }
    // The store is still usable after the failed calls.
    assert_eq!(
        call(&mut store, &instance, "call_known")?[0].i32(),
        Some(42)
    );
    Ok(())
}

fn default_values_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let mut linker = linker_with_known(&engine)?;
    linker.define_unknown_imports_as_default_values(&module)?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert!(call(&mut store, &instance, "call_nothing")?.is_empty());
    assert_eq!(call(&mut store, &instance, "call_int")?[0].i32(), Some(0));
    assert_eq!(
        call(&mut store, &instance, "call_int_again")?[0].i32(),
        Some(0)
    );
    let many = call(&mut store, &instance, "call_many")?;
    assert!(
        matches!(
            many[..],
            [
                Val::I64(0),
                Val::F32(0),
                Val::F64(0),
                Val::FuncRef(None),
                Val::ExternRef(None)
            ]
        ),
        "{many:?}"
    );
    assert_eq!(
        call(&mut store, &instance, "call_known")?[0].i32(),
        Some(42)
    );
    Ok(())
}

#[test]
fn unknown_function_imports_defined_as_traps() -> Result<()> {
    for tier in tiers() {
        traps_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn unknown_function_imports_defined_as_default_values() -> Result<()> {
    for tier in tiers() {
        default_values_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn other_unknown_imports_stay_undefined() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "g" (global i32)) (import "env" "f" (func)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&module)?;
    linker.define_unknown_imports_as_default_values(&module)?;
    let err = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`env::g` has not been defined"), "{err}");
    assert!(!err.contains("`env::f`"), "{err}");
    Ok(())
}
