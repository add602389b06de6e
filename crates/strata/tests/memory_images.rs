//! Copy-on-write memory images (`Config::memory_init_cow`): every instance
//! starts with exactly the bytes its data segments give, whether the
//! memory was mapped from the module's image or the segments were copied;
//! writes stay in the instance that made them; growing past the image, many
//! instances, and the shapes that must not use an image (imported memories,
//! offsets from globals, segments out of bounds, 1-byte pages, element
//! segments into imported tables) all behave as without images.

mod common;

use anyhow::Result;
use common::tiers;
use strata::{Config, Engine, Global, GlobalType, Linker, Memory, MemoryType, Module};
use strata::{Mutability, RefType, Store, Table, TableType, Tier, Val, ValType};

fn engine(tier: Tier, cow: bool) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .memory_init_cow(cow)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_custom_page_sizes(true);
    Engine::new(&config).expect("valid configuration")
}

/// Runs `test` in every tier, with and without images.
fn in_every_config(test: fn(&Engine) -> Result<()>) -> Result<()> {
    for tier in tiers() {
        for cow in [true, false] {
            test(&engine(tier, cow))
                .map_err(|e| e.context(format!("in tier {tier:?}, memory_init_cow {cow}")))?;
        }
    }
    Ok(())
}

/// 3 pages; segments at the start, across a host page boundary, in the
/// second wasm page, and two that overlap (the later one wins), plus a
/// passive segment; `load`/`store` reach the memory.
const DATA: &str = r#"(module
    (memory (export "memory") 3 5)
    (data (i32.const 0) "hello")
    (data (i32.const 4094) "abcd")
    (data (i32.const 70000) "0123456789")
    (data (i32.const 70004) "XY")
    (data (i32.add (i32.const 131000) (i32.const 72)) "ext")
    (data $p "passive")
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "init_passive") (param i32)
      (memory.init $p (local.get 0) (i32.const 0) (i32.const 7)))
    (func (export "init_active") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))"#;

/// What `DATA`'s memory holds after instantiation.
fn expected_data() -> Vec<u8> {
    let mut bytes = vec![0_u8; 3 * 65536];
    for (at, s) in [
        (0, "hello"),
        (4094, "abcd"),
        (70000, "0123456789"),
        (70004, "XY"),
        (131072, "ext"),
    ] {
        bytes[at..at + s.len()].copy_from_slice(s.as_bytes());
    }
    bytes
}

#[test]
fn instances_start_with_their_data() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(engine, DATA)?;
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &module)?;
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        assert!(memory.data(&store) == expected_data());
        let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
        assert_eq!(load.call(&mut store, 70005)?, i32::from(b'Y'));
        assert_eq!(load.call(&mut store, 4097)?, i32::from(b'd'));
        // Active segments are dropped after instantiation, images or not;
        // passive ones stay.
        let init_active = instance.get_typed_func::<(), ()>(&mut store, "init_active")?;
        assert!(init_active.call(&mut store, ()).is_err());
        let init_passive = instance.get_typed_func::<i32, ()>(&mut store, "init_passive")?;
        init_passive.call(&mut store, 200)?;
        assert_eq!(&memory.data(&store)[200..207], b"passive");
        Ok(())
    })
}

#[test]
fn writes_stay_in_their_instance() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(engine, DATA)?;
        let linker = Linker::new(engine);
        let mut store = Store::new(engine, ());
        let a = linker.instantiate(&mut store, &module)?;
        let b = linker.instantiate(&mut store, &module)?;
        let store_a = a.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
        // Through compiled or interpreted code and through the API.
        store_a.call(&mut store, (0, i32::from(b'J')))?;
        store_a.call(&mut store, (70001, 0))?;
        let mem_a = a.get_memory(&mut store, "memory").unwrap();
        mem_a.data_mut(&mut store)[4095] = b'!';
        let mut want_a = expected_data();
        want_a[0] = b'J';
        want_a[70001] = 0;
        want_a[4095] = b'!';
        assert!(mem_a.data(&store) == want_a);
        // Another instance in the same store, one made after the writes,
        // and one in another store all see the segments' bytes.
        let mem_b = b.get_memory(&mut store, "memory").unwrap();
        assert!(mem_b.data(&store) == expected_data());
        let c = linker.instantiate(&mut store, &module)?;
        let mem_c = c.get_memory(&mut store, "memory").unwrap();
        assert!(mem_c.data(&store) == expected_data());
        let mut other = Store::new(engine, ());
        let d = linker.instantiate(&mut other, &module)?;
        let mem_d = d.get_memory(&mut other, "memory").unwrap();
        assert!(mem_d.data(&other) == expected_data());
        // Dropping a store with written pages leaves the image as it was.
        drop(store);
        let mut third = Store::new(engine, ());
        let e = linker.instantiate(&mut third, &module)?;
        let mem_e = e.get_memory(&mut third, "memory").unwrap();
        assert!(mem_e.data(&third) == expected_data());
        Ok(())
    })
}

#[test]
fn memories_grow_past_their_image() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(engine, DATA)?;
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &module)?;
        let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
        let store_fn = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
        let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
        assert_eq!(grow.call(&mut store, 2)?, 3);
        assert_eq!(grow.call(&mut store, 1)?, -1, "the maximum is 5 pages");
        store_fn.call(&mut store, (5 * 65536 - 1, 7))?;
        assert_eq!(load.call(&mut store, 5 * 65536 - 1)?, 7);
        assert!(load.call(&mut store, 5 * 65536).is_err());
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let data = memory.data(&store);
        assert_eq!(data.len(), 5 * 65536);
        assert!(data[..3 * 65536] == expected_data()[..]);
        assert!(data[3 * 65536..5 * 65536 - 1].iter().all(|&b| b == 0));
        Ok(())
    })
}

#[test]
fn many_instances_of_one_module() -> Result<()> {
    let engine = engine(Tier::Interp, true);
    let module = Module::new(&engine, DATA)?;
    let linker = Linker::new(&engine);
    let mut stores = Vec::new();
    for i in 0..300 {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module)?;
        let store_fn = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
        store_fn.call(&mut store, (70000, i % 256))?;
        stores.push((store, instance, i));
    }
    for (store, instance, i) in &mut stores {
        let memory = instance.get_memory(&mut *store, "memory").unwrap();
        let mut want = expected_data();
        want[70000] = (*i % 256) as u8;
        assert!(memory.data(&*store) == want, "instance {i}");
    }
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn images_are_mapped_on_linux() -> Result<()> {
    let engine = engine(Tier::Interp, true);
    // A module of its own, with data that no other test maps.
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 64) (data (i32.const 65536) "mapped"))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let memory = instance.get_memory(&mut store, "m").unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let base = memory.data(&store).as_ptr() as usize;
    let mapped = maps.lines().any(|line| {
        let start = line.split('-').next().unwrap_or("");
        usize::from_str_radix(start, 16) == Ok(base) && line.contains("strata-memory-image")
    });
    assert!(
        mapped,
        "memory at {base:#x} is not mapped from an image:\n{maps}"
    );
    assert_eq!(&memory.data(&store)[65536..65542], b"mapped");
    Ok(())
}

#[test]
fn memory64_and_multiple_memories() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(
            engine,
            r#"(module
                (memory $a (export "a") 1)
                (memory $b (export "b") i64 2)
                (memory $c (export "c") 1)
                (data (memory $a) (i32.const 10) "in a")
                (data (memory $b) (i64.const 65540) "in b")
                (data (memory $a) (i32.const 12) "A")
                (func (export "store_b") (param i64 i32)
                  (i32.store8 $b (local.get 0) (local.get 1))))"#,
        )?;
        let linker = Linker::new(engine);
        let mut store = Store::new(engine, ());
        let first = linker.instantiate(&mut store, &module)?;
        let second = linker.instantiate(&mut store, &module)?;
        let store_b = first.get_typed_func::<(i64, i32), ()>(&mut store, "store_b")?;
        store_b.call(&mut store, (65540, i32::from(b'X')))?;
        for (instance, b0) in [(first, b'X'), (second, b'i')] {
            let a = instance.get_memory(&mut store, "a").unwrap();
            let b = instance.get_memory(&mut store, "b").unwrap();
            let c = instance.get_memory(&mut store, "c").unwrap();
            assert_eq!(&a.data(&store)[10..14], b"inAa");
            assert_eq!(b.data(&store)[65540], b0);
            assert_eq!(&b.data(&store)[65541..65544], b"n b");
            assert!(c.data(&store).iter().all(|&x| x == 0));
        }
        Ok(())
    })
}

#[test]
fn one_byte_pages_are_copied() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(
            engine,
            r#"(module
                (memory (export "m") 10 (pagesize 1))
                (data (i32.const 3) "abc")
                (func (export "size") (result i32) (memory.size)))"#,
        )?;
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &module)?;
        let memory = instance.get_memory(&mut store, "m").unwrap();
        assert_eq!(memory.data(&store), b"\0\0\0abc\0\0\0\0");
        Ok(())
    })
}

#[test]
fn imported_memories_and_global_offsets_get_the_segments() -> Result<()> {
    in_every_config(|engine| {
        let module = Module::new(
            engine,
            r#"(module
                (import "env" "mem" (memory 1))
                (import "env" "at" (global i32))
                (memory $own (export "own") 1)
                (data (i32.const 0) "imported")
                (data (memory $own) (global.get 0) "from a global"))"#,
        )?;
        let mut store = Store::new(engine, ());
        let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
        let at = Global::new(
            &mut store,
            GlobalType::new(ValType::I32, Mutability::Const),
            Val::I32(100),
        )?;
        let mut linker = Linker::new(engine);
        linker.define("env", "mem", mem)?;
        linker.define("env", "at", at)?;
        let instance = linker.instantiate(&mut store, &module)?;
        assert_eq!(&mem.data(&store)[..8], b"imported");
        let own = instance.get_memory(&mut store, "own").unwrap();
        assert_eq!(&own.data(&store)[100..113], b"from a global");
        // The imported memory is the host's: a second instance writes its
        // segment into the same memory again.
        mem.data_mut(&mut store)[0] = b'I';
        linker.instantiate(&mut store, &module)?;
        assert_eq!(&mem.data(&store)[..8], b"imported");
        Ok(())
    })
}

#[test]
fn failed_instantiation_applies_segments_in_order() -> Result<()> {
    in_every_config(|engine| {
        let mut store = Store::new(engine, ());
        let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
        let table = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 2, None),
            Val::FuncRef(None),
        )?;
        let mut linker = Linker::new(engine);
        linker.define("env", "mem", mem)?;
        linker.define("env", "table", table)?;
        // A segment out of bounds of its own memory: the earlier segment
        // into the imported memory took effect, then instantiation traps.
        let out_of_bounds = Module::new(
            engine,
            r#"(module
                (import "env" "mem" (memory 1))
                (memory $own 1)
                (data (i32.const 0) "first")
                (data (memory $own) (i32.const 65535) "too long"))"#,
        )?;
        assert!(linker.instantiate(&mut store, &out_of_bounds).is_err());
        assert_eq!(&mem.data(&store)[..5], b"first");
        // An element segment into an imported table succeeds, the next one
        // traps: the function left in the table must see its memory
        // without the data, whose segments never ran.
        let escapes = Module::new(
            engine,
            r#"(module
                (import "env" "table" (table 2 funcref))
                (memory 1)
                (func $peek (result i32) (i32.load8_u (i32.const 8)))
                (elem (i32.const 0) $peek)
                (elem (i32.const 2) $peek)
                (data (i32.const 8) "\2a"))"#,
        )?;
        assert!(linker.instantiate(&mut store, &escapes).is_err());
        let Some(Val::FuncRef(Some(peek))) = table.get(&mut store, 0) else {
            anyhow::bail!("the first element segment was not applied");
        };
        let mut result = [Val::I32(-1)];
        peek.call(&mut store, &[], &mut result)?;
        assert_eq!(result[0].i32(), Some(0));
        Ok(())
    })
}
