//! Multiple memories, 64-bit memories and 64-bit tables in every tier:
//! accesses through any memory, `memory.copy` between memories, data
//! segments, `Caller` access, limits on every memory, `memory.grow` results
//! that are never taken for failures, offsets and sizes beyond 4 GiB.

mod common;

use anyhow::Result;
use common::tiers;
use strata::{Caller, Config, Engine, Instance, Linker, Module, Store, Tier};

fn engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_multi_memory(true)
        .wasm_memory64(true);
    Engine::new(&config).expect("valid configuration")
}

fn in_every_tier(test: fn(Tier) -> Result<()>) -> Result<()> {
    for tier in tiers() {
        test(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

const MULTI: &str = r#"(module
    (memory $a (export "a") 1)
    (memory $b (export "b") 1 3)
    (data (memory $b) (i32.const 16) "\01\02\03\04")
    (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
    (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
    (func (export "store_b") (param i32 i32) (i32.store $b offset=4 (local.get 0) (local.get 1)))
    (func (export "copy_b_to_a") (param i32 i32 i32)
        (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
    (func (export "fill_b") (param i32 i32 i32)
        (memory.fill $b (local.get 0) (local.get 1) (local.get 2)))
    (func (export "size_b") (result i32) (memory.size $b))
    (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0))))"#;

fn accesses_reach_the_memory_they_name_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, MULTI)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let load_a = instance.get_typed_func::<i32, i32>(&mut store, "load_a")?;
    let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b")?;
    let store_b = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store_b")?;
    let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy_b_to_a")?;
    let fill_b = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "fill_b")?;
    let size_b = instance.get_typed_func::<(), i32>(&mut store, "size_b")?;
    let grow_b = instance.get_typed_func::<i32, i32>(&mut store, "grow_b")?;

    // The data segment went to memory 1 only.
    assert_eq!(load_b.call(&mut store, 16)?, 0x0403_0201);
    assert_eq!(load_a.call(&mut store, 16)?, 0);
    store_b.call(&mut store, (100, 0x1122_3344))?;
    assert_eq!(load_b.call(&mut store, 104)?, 0x1122_3344);
    assert_eq!(load_a.call(&mut store, 104)?, 0);
    // Copy between two memories, then fill one.
    copy.call(&mut store, (200, 16, 4))?;
    assert_eq!(load_a.call(&mut store, 200)?, 0x0403_0201);
    fill_b.call(&mut store, (16, 0xff, 2))?;
    assert_eq!(load_b.call(&mut store, 16)?, 0x0403_ffff);
    assert_eq!(load_a.call(&mut store, 200)?, 0x0403_0201);
    // Bounds are memory 1's own: it grows while memory 0 stays.
    let err = load_b.call(&mut store, 65536).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");
    assert_eq!(size_b.call(&mut store, ())?, 1);
    assert_eq!(grow_b.call(&mut store, 2)?, 1);
    assert_eq!(grow_b.call(&mut store, 1)?, -1, "beyond its maximum of 3");
    assert_eq!(load_b.call(&mut store, 65536)?, 0);
    let err = load_a.call(&mut store, 65536).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");
    let err = copy.call(&mut store, (0, 3 * 65536 - 2, 4)).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");

    // The embedder sees both memories.
    let b = instance.get_memory(&store, "b").expect("exported");
    assert_eq!(b.size(&store), 3);
    assert_eq!(&b.data(&store)[104..108], &0x1122_3344_u32.to_le_bytes());
    Ok(())
}

#[test]
fn accesses_reach_the_memory_they_name() -> Result<()> {
    in_every_tier(accesses_reach_the_memory_they_name_in)
}

fn callers_reach_any_memory_and_imports_share_them_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let exporter = Module::new(&engine, MULTI)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let first = linker.instantiate(&mut store, &exporter)?;
    linker.instance(&mut store, "first", first)?;
    linker.func_wrap("host", "peek_b", |caller: Caller<'_, ()>, at: i32| -> i32 {
        let memory = caller
            .get_export("b")
            .and_then(|e| e.into_memory())
            .expect("the caller exports b");
        let at = at as usize;
        let bytes = &memory.data(&caller)[at..at + 4];
        i32::from_le_bytes(bytes.try_into().expect("four bytes"))
    })?;
    let importer = Module::new(
        &engine,
        r#"(module
            (import "first" "a" (memory $a 1))
            (import "first" "b" (memory $b 1))
            (import "host" "peek_b" (func $peek (param i32) (result i32)))
            (memory $c (export "b") 1)
            (data (memory $c) (i32.const 8) "\2a")
            (func (export "run") (result i32)
                (i32.store8 $b (i32.const 300) (i32.const 7))
                (i32.add (call $peek (i32.const 8)) (i32.load8_u $b (i32.const 300)))))"#,
    )?;
    let second = linker.instantiate(&mut store, &importer)?;
    let run = second.get_typed_func::<(), i32>(&mut store, "run")?;
    // `peek_b` reads the caller's own export "b" (its memory 2).
    assert_eq!(run.call(&mut store, ())?, 42 + 7);
    // The store went to the first instance's memory "b", imported.
    let load_b = first.get_typed_func::<i32, i32>(&mut store, "load_b")?;
    assert_eq!(load_b.call(&mut store, 300)?, 7);
    Ok(())
}

#[test]
fn callers_reach_any_memory_and_imports_share_them() -> Result<()> {
    in_every_tier(callers_reach_any_memory_and_imports_share_them_in)
}

fn limits_apply_to_every_memory_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, MULTI)?;
    let limits = strata::StoreLimitsBuilder::new()
        .memory_size(2 * 65536)
        .build();
    let mut store = Store::new(&engine, limits);
    store.limiter(|limits| limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_b = instance.get_typed_func::<i32, i32>(&mut store, "grow_b")?;
    assert_eq!(
        grow_b.call(&mut store, 2)?,
        -1,
        "three pages exceed the limit"
    );
    assert_eq!(grow_b.call(&mut store, 1)?, 1);
    Ok(())
}

#[test]
fn limits_apply_to_every_memory() -> Result<()> {
    in_every_tier(limits_apply_to_every_memory_in)
}

const MEMORY64: &str = r#"(module
    (memory (export "m") i64 1)
    (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
    (func (export "size") (result i64) (memory.size))
    (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
    (func (export "load_far") (param i64) (result i64)
        (i64.load offset=0x100000008 (local.get 0)))
    (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
    (func (export "fill") (param i64 i32 i64)
        (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#;

fn memory64_addresses_are_64_bit_and_checked_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, MEMORY64)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let load = instance.get_typed_func::<i64, i64>(&mut store, "load")?;
    let store_ = instance.get_typed_func::<(i64, i64), ()>(&mut store, "store")?;
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    store_.call(&mut store, (8, 0x0102_0304_0506_0708))?;
    assert_eq!(load.call(&mut store, 8)?, 0x0102_0304_0506_0708);
    // Addresses whose low 32 bits are in bounds, and ones whose end wraps
    // around 2^64, are out of bounds: nothing is truncated.
    for addr in [1 << 32, (1 << 32) + 8, -1, -8, i64::MIN, 65536 - 7] {
        let err = load.call(&mut store, addr).unwrap_err();
        assert!(
            format!("{err:#}").contains("out of bounds"),
            "{addr:#x}: {err:#}"
        );
    }
    // A failed grow is -1 of i64, distinct from every size; growing by 0
    // is the current size.
    assert_eq!(grow.call(&mut store, -1)?, -1);
    assert_eq!(grow.call(&mut store, 1 << 40)?, -1);
    assert_eq!(grow.call(&mut store, 0)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, 1);
    Ok(())
}

#[test]
fn memory64_addresses_are_64_bit_and_checked() -> Result<()> {
    in_every_tier(memory64_addresses_are_64_bit_and_checked_in)
}

fn memory64_grows_past_4_gib_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, MEMORY64)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
    let load = instance.get_typed_func::<i64, i64>(&mut store, "load")?;
    let load_far = instance.get_typed_func::<i64, i64>(&mut store, "load_far")?;
    let store_ = instance.get_typed_func::<(i64, i64), ()>(&mut store, "store")?;
    let fill = instance.get_typed_func::<(i64, i32, i64), ()>(&mut store, "fill")?;
    // 4 GiB and two pages: the memory is reserved up front and pages are
    // only touched where written.
    let pages = (1 << 16) + 2;
    let old = grow.call(&mut store, pages - 1)?;
    assert_eq!(old, 1, "the host refused to grow to {pages} pages");
    assert_eq!(size.call(&mut store, ())?, pages);
    let far = (1_i64 << 32) + 16;
    store_.call(&mut store, (far, 0x55aa))?;
    assert_eq!(load.call(&mut store, far)?, 0x55aa);
    // The same bytes through an offset above 4 GiB.
    assert_eq!(load_far.call(&mut store, 8)?, 0x55aa);
    fill.call(&mut store, (far, 0x11, 2))?;
    assert_eq!(load.call(&mut store, far)?, 0x1111);
    let end = pages << 16;
    let err = load.call(&mut store, end - 7).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");
    let memory = instance.get_memory(&store, "m").expect("exported");
    assert_eq!(memory.size(&store), pages as u64);
    assert_eq!(memory.data_size(&store), end as usize);
    Ok(())
}

#[test]
fn memory64_grows_past_4_gib() -> Result<()> {
    in_every_tier(memory64_grows_past_4_gib_in)
}

fn table64_indices_are_64_bit_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (table $t i64 2 funcref)
            (func $f (result i32) (i32.const 7))
            (elem (table $t) (i64.const 1) func $f)
            (func (export "call") (param i64) (result i32)
                (call_indirect $t (result i32) (local.get 0)))
            (func (export "size") (result i64) (table.size $t))
            (func (export "grow") (param i64) (result i64)
                (table.grow $t (ref.null func) (local.get 0)))
            (func (export "is_null") (param i64) (result i32)
                (ref.is_null (table.get $t (local.get 0)))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let call = instance.get_typed_func::<i64, i32>(&mut store, "call")?;
    let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    let is_null = instance.get_typed_func::<i64, i32>(&mut store, "is_null")?;
    assert_eq!(call.call(&mut store, 1)?, 7);
    assert_eq!(is_null.call(&mut store, 1)?, 0);
    // An index whose low 32 bits are in bounds is not.
    for index in [(1 << 32) + 1, -1] {
        assert!(call.call(&mut store, index).is_err(), "{index:#x}");
        assert!(is_null.call(&mut store, index).is_err(), "{index:#x}");
    }
    assert_eq!(grow.call(&mut store, 3)?, 2);
    assert_eq!(size.call(&mut store, ())?, 5);
    assert_eq!(grow.call(&mut store, 1 << 40)?, -1);
    Ok(())
}

#[test]
fn table64_indices_are_64_bit() -> Result<()> {
    in_every_tier(table64_indices_are_64_bit_in)
}

fn one_byte_pages_are_bounds_checked_to_the_byte_in(tier: Tier) -> Result<()> {
    let mut config = Config::new();
    config.tier(tier).wasm_custom_page_sizes(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "m") 5 (pagesize 1))
            (func (export "size") (result i32) (memory.size))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let size = instance.get_typed_func::<(), i32>(&mut store, "size")?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    let store_ = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
    assert_eq!(size.call(&mut store, ())?, 5);
    store_.call(&mut store, (4, 9))?;
    assert_eq!(load.call(&mut store, 4)?, 9);
    // Byte 5 lies in the same host page, and is still out of bounds (also
    // in compiled code that relies on guard pages for 64 KiB pages).
    let err = load.call(&mut store, 5).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");
    assert_eq!(grow.call(&mut store, 3)?, 5);
    assert_eq!(size.call(&mut store, ())?, 8);
    assert_eq!(load.call(&mut store, 7)?, 0);
    assert!(load.call(&mut store, 8).is_err());
    let memory = instance.get_memory(&store, "m").expect("exported");
    assert_eq!(memory.ty(&store).page_size(), 1);
    assert_eq!((memory.size(&store), memory.data_size(&store)), (8, 8));
    assert_eq!(memory.grow(&mut store, 1)?, 8);
    assert_eq!(memory.data_size(&store), 9);
    Ok(())
}

#[test]
fn one_byte_pages_are_bounds_checked_to_the_byte() -> Result<()> {
    in_every_tier(one_byte_pages_are_bounds_checked_to_the_byte_in)
}
