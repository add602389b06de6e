//! The value representation: every kind of value, `v128` (two cells)
//! included, crosses the host boundary, globals, tables and wasm calls
//! unchanged, in every tier.

mod common;
use common::tiers;

use anyhow::Result;
use strata::*;

/// An engine of `tier` where `v128` values may appear (SIMD is on by
/// default; this says so explicitly). `tests/simd.rs` computes with them.
fn simd_engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config.tier(tier).wasm_simd(true);
    Engine::new(&config).expect("valid configuration")
}

/// Bits whose halves differ, so a lost or swapped half shows.
const V: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
const W: u128 = 0xdead_beef_0000_0001_8000_0000_ffff_fffe;

/// A module that moves `v128` values every way the translators handle:
/// parameters and results mixed with one-cell values, locals, `select`,
/// block parameters and results, branches that carry values (`br_if`,
/// `br_table`), calls between wasm functions and to the host, and globals.
const MOVES: &str = r#"
(module
  (import "host" "swap" (func $swap (param v128 i32 v128) (result v128 i64 v128)))
  (global $g (export "g") (mut v128) (v128.const i64x2 0 0))
  (func $pick (export "pick") (param $a v128) (param $n i32) (param $b v128) (result v128)
    (select (local.get $a) (local.get $b) (local.get $n)))
  (func (export "mixed") (param i64 v128 f64 v128 i32) (result i32 v128 f64 v128 i64)
    (local $t v128)
    (local.set $t (local.get 1))
    (local.get 4) (local.get 3) (local.get 2) (local.get $t) (local.get 0))
  (func (export "blocks") (param $a v128) (param $b v128) (param $which i32) (result v128)
    (local.get $a)
    (block $out (param v128) (result v128)
      (block $two (param v128) (result v128)
        (block $one (param v128) (result v128)
          (br_table $one $two $out (local.get $which)))
        (br $out))
      (drop) (local.get $b)))
  (func (export "loop") (param $v v128) (param $n i32) (result v128)
    (local.get $v)
    (loop $l (param v128) (result v128)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func (export "call") (param $a v128) (param $b v128) (result v128)
    (call $pick (local.get $a) (i32.const 0) (local.get $b)))
  (func (export "host") (param $a v128) (param $b v128) (result v128 i64 v128)
    (call $swap (local.get $a) (i32.const 7) (local.get $b)))
  (func (export "global") (param $v v128) (result v128)
    (global.set $g (local.get $v))
    (global.get $g))
  (func (export "const") (result v128)
    (v128.const i64x2 0x76543210 0x01234567))
)
"#;

fn moves_in(tier: Tier) -> Result<()> {
    let engine = simd_engine(tier);
    let module = Module::new(&engine, MOVES)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "swap", |a: u128, n: i32, b: u128| {
        (b, i64::from(n) * 2, a)
    })?;
    let instance = linker.instantiate(&mut store, &module)?;

    let pick = instance.get_typed_func::<(u128, i32, u128), u128>(&mut store, "pick")?;
    assert_eq!(pick.call(&mut store, (V, 1, W))?, V);
    assert_eq!(pick.call(&mut store, (V, 0, W))?, W);

    let mixed = instance.get_func(&store, "mixed").expect("exported");
    let mut results = [
        Val::I32(0),
        Val::V128(0),
        Val::F64(0),
        Val::V128(0),
        Val::I64(0),
    ];
    mixed.call(
        &mut store,
        &[
            Val::I64(-3),
            Val::V128(V),
            Val::F64(2.5f64.to_bits()),
            Val::V128(W),
            Val::I32(9),
        ],
        &mut results,
    )?;
    assert_eq!(
        results,
        [
            Val::I32(9),
            Val::V128(W),
            Val::F64(2.5f64.to_bits()),
            Val::V128(V),
            Val::I64(-3)
        ]
    );

    let blocks = instance.get_typed_func::<(u128, u128, i32), u128>(&mut store, "blocks")?;
    assert_eq!(blocks.call(&mut store, (V, W, 0))?, V);
    assert_eq!(blocks.call(&mut store, (V, W, 1))?, W);
    assert_eq!(blocks.call(&mut store, (V, W, 2))?, V);
    let looped = instance.get_typed_func::<(u128, i32), u128>(&mut store, "loop")?;
    assert_eq!(looped.call(&mut store, (W, 5))?, W);
    let call = instance.get_typed_func::<(u128, u128), u128>(&mut store, "call")?;
    assert_eq!(call.call(&mut store, (V, W))?, W);
    let host = instance.get_typed_func::<(u128, u128), (u128, i64, u128)>(&mut store, "host")?;
    assert_eq!(host.call(&mut store, (V, W))?, (W, 14, V));
    let global = instance.get_typed_func::<u128, u128>(&mut store, "global")?;
    assert_eq!(global.call(&mut store, W)?, W);
    let g = instance.get_global(&store, "g").expect("exported");
    assert_eq!(g.get(&store), Val::V128(W));
    g.set(&mut store, Val::V128(V))?;
    assert_eq!(global.call(&mut store, V)?, V);
    let konst = instance.get_typed_func::<(), u128>(&mut store, "const")?;
    assert_eq!(konst.call(&mut store, ())?, 0x0123_4567_0000_0000_7654_3210);
    Ok(())
}

#[test]
fn v128_values_move_through_wasm_and_the_host() -> Result<()> {
    for tier in tiers() {
        moves_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn v128_round_trips_through_dynamic_host_functions_and_globals() -> Result<()> {
    let engine = simd_engine(Tier::Interp);
    let mut store = Store::new(&engine, ());
    // A host function over `Val`s, called from the host.
    let ty = FuncType::new([ValType::V128, ValType::I32], [ValType::I32, ValType::V128]);
    let f = Func::new(&mut store, ty, |_, params, results| {
        results[0] = params[1];
        results[1] = Val::V128(!params[0].v128().expect("a v128"));
        Ok(())
    });
    let mut results = [Val::I32(0), Val::V128(0)];
    f.call(&mut store, &[Val::V128(V), Val::I32(5)], &mut results)?;
    assert_eq!(results, [Val::I32(5), Val::V128(!V)]);
    // The wrong kind of argument is an error, not a truncation.
    let err = f
        .call(&mut store, &[Val::I64(1), Val::I32(5)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("expected v128"), "{err}");
    // Globals keep both halves.
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::V128, Mutability::Var),
        Val::V128(V),
    )?;
    assert_eq!(g.get(&store), Val::V128(V));
    g.set(&mut store, Val::V128(W))?;
    assert_eq!(g.get(&store), Val::V128(W));
    assert!(g.set(&mut store, Val::I64(1)).is_err());
    Ok(())
}

#[test]
fn reference_types_follow_subtyping() -> Result<()> {
    let mut config = Config::new();
    config.wasm_function_references(true).wasm_gc(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
            (type $f (func (result i32)))
            (type $base (sub (func (result i32))))
            (type $derived (sub $base (func (result i32))))
            (func $one (export "one") (type $f) (i32.const 1))
            (func (export "derived") (type $derived) (i32.const 3))
            (global (export "fn") (mut (ref null $f)) (ref.func $one))
            (global (export "base") (mut (ref null $base)) (ref.null $base))
            (table (export "t") 2 (ref null $f) (ref.func $one))
            (elem declare func $one))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let one = instance.get_func(&store, "one").expect("exported");
    let global = instance.get_global(&store, "fn").expect("exported");
    // The global's type is a concrete function reference, and the function
    // matches it; a host function of the same signature does too (types
    // are canonical), one of another signature does not.
    let ValType::Ref(r) = global.ty(&store).content() else {
        panic!("a reference global")
    };
    assert!(r.is_nullable());
    assert!(matches!(r.heap_type(), HeapType::ConcreteFunc(_)));
    assert!(Val::FuncRef(Some(one)).matches_ty(&store, &global.ty(&store).content()));
    let same = Func::wrap(&mut store, || 2i32);
    let other = Func::wrap(&mut store, || 2i64);
    let content = global.ty(&store).content();
    assert!(Val::FuncRef(Some(same)).matches_ty(&store, &content));
    assert!(!Val::FuncRef(Some(other)).matches_ty(&store, &content));
    global.set(&mut store, Val::FuncRef(Some(same)))?;
    assert!(global.set(&mut store, Val::FuncRef(Some(other))).is_err());
    assert!(global.set(&mut store, Val::ExternRef(None)).is_err());
    // Declared subtypes match their supertypes, not the other way round.
    let derived = instance.get_func(&store, "derived").expect("exported");
    let base = instance.get_global(&store, "base").expect("exported");
    base.set(&mut store, Val::FuncRef(Some(derived)))?;
    assert_eq!(base.get(&store), Val::FuncRef(Some(derived)));
    assert!(base.set(&mut store, Val::FuncRef(Some(one))).is_err());
    // Table initialisers fill the table.
    let table = instance.get_table(&store, "t").expect("exported");
    assert_eq!(table.get(&store, 1), Some(Val::FuncRef(Some(one))));
    // A typed view may widen results and narrow parameters, not the reverse.
    one.typed::<(), i32>(&store)?;
    assert!(one.typed::<(), i64>(&store).is_err());
    Ok(())
}
