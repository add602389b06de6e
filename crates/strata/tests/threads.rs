//! The threads proposal through the API: shared memories used by several
//! stores on several threads, growth while other threads run, atomics,
//! and wait/notify, in every tier.

mod common;

use anyhow::Result;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use strata::*;

/// An engine with the threads proposal in `tier`.
fn engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config.tier(tier).wasm_threads(true);
    Engine::new(&config).expect("valid configuration")
}

/// Reads the little-endian u32 at `addr` of a shared memory through its
/// cells (never a `&[u8]`).
fn read_u32(memory: &SharedMemory, addr: usize) -> u32 {
    let cells = &memory.data()[addr..addr + 4];
    let mut bytes = [0; 4];
    for (b, c) in bytes.iter_mut().zip(cells) {
        // SAFETY: the cell belongs to a live shared memory; a plain read of
        // a byte nobody writes concurrently in this test.
        *b = unsafe { *c.get() };
    }
    u32::from_le_bytes(bytes)
}

#[test]
fn shared_memory_api_follows_wasmtime() -> Result<()> {
    let engine = engine(Tier::Interp);
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 4))?;
    assert_eq!(memory.size(), 1);
    assert_eq!(memory.data_size(), 65536);
    assert_eq!(memory.data().len(), 65536);
    assert_eq!(memory.page_size(), 65536);
    let base = memory.data().as_ptr();
    assert_eq!(memory.grow(2)?, 1);
    assert_eq!(memory.ty(), MemoryType::shared(3, 4));
    // It never moves.
    assert_eq!(memory.data().as_ptr(), base);
    assert!(memory.grow(2).is_err());
    assert_eq!(memory.size(), 3);
    // A shared memory needs a maximum and the shared flag.
    let err = SharedMemory::new(&engine, MemoryType::new(1, Some(2))).unwrap_err();
    assert!(err.to_string().contains("shared"), "{err}");
    // Clones are the same memory.
    let other = memory.clone();
    assert_eq!(other, memory);
    assert_eq!(other.size(), 3);
    // Host wait/notify: nobody waits; mismatches and timeouts.
    assert_eq!(memory.atomic_notify(0, 10)?, 0);
    assert_eq!(memory.atomic_wait32(0, 1, None)?, WaitResult::Mismatch);
    let short = Some(Duration::from_millis(5));
    assert_eq!(memory.atomic_wait32(0, 0, short)?, WaitResult::TimedOut);
    assert_eq!(memory.atomic_wait64(8, 0, short)?, WaitResult::TimedOut);
    assert_eq!(memory.atomic_notify(1, 1), Err(Trap::HeapMisaligned));
    assert_eq!(
        memory.atomic_wait32(3 << 16, 0, short),
        Err(Trap::MemoryOutOfBounds)
    );
    Ok(())
}

/// A module that writes through its imported shared memory.
const WRITER: &str = r#"(module
  (import "env" "memory" (memory 1 200 shared))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "size") (result i32) memory.size)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

#[test]
fn one_shared_memory_in_several_stores_on_several_threads() -> Result<()> {
    for tier in common::tiers() {
        let engine = engine(tier);
        let module = Module::new(&engine, WRITER)?;
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 4))?;
        let threads: Vec<_> = (0..4_u32)
            .map(|t| {
                let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
                std::thread::spawn(move || -> Result<()> {
                    let mut store = Store::new(&engine, ());
                    let mut linker = Linker::new(&engine);
                    linker.define("env", "memory", memory.clone())?;
                    let instance = linker.instantiate(&mut store, &module)?;
                    // The export is the same shared memory.
                    let export = instance.get_shared_memory(&store, "memory");
                    assert!(export.is_none(), "not exported by WRITER");
                    let store_fn = instance.get_typed_func::<(u32, u32), ()>(&store, "store")?;
                    let load = instance.get_typed_func::<u32, u32>(&store, "load")?;
                    for i in 0..1000 {
                        let addr = (t * 1000 + i) * 4;
                        store_fn.call(&mut store, (addr, addr ^ 0x5555))?;
                        assert_eq!(load.call(&mut store, addr)?, addr ^ 0x5555);
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread panicked")?;
        }
        // Every thread's writes are visible to the host.
        for addr in (0..4000_u32).map(|i| i * 4) {
            assert_eq!(read_u32(&memory, addr as usize), addr ^ 0x5555, "{tier:?}");
        }
        // An instance of another store sees them too, through the import.
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[memory.clone().into()])?;
        let load = instance.get_typed_func::<u32, u32>(&store, "load")?;
        assert_eq!(load.call(&mut store, 40)?, 40 ^ 0x5555);
    }
    Ok(())
}

#[test]
fn a_modules_own_shared_memory_is_exported_as_one() -> Result<()> {
    let engine = engine(Tier::Interp);
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 1 2 shared)
             (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance
        .get_shared_memory(&store, "m")
        .expect("a shared memory");
    assert!(instance.get_memory(&store, "m").is_none());
    let grow = instance.get_typed_func::<(), i32>(&store, "grow")?;
    assert_eq!(grow.call(&mut store, ())?, 1);
    assert_eq!(memory.size(), 2);
    // Another module imports it into another store (its maximum, 2, is
    // within the import's 4) and sees the same bytes.
    let importer = Module::new(&engine, WRITER)?;
    let mut other = Store::new(&engine, ());
    let imported = Instance::new(&mut other, &importer, &[memory.clone().into()])?;
    let store_fn = imported.get_typed_func::<(u32, u32), ()>(&other, "store")?;
    store_fn.call(&mut other, (65536, 7))?;
    assert_eq!(read_u32(&memory, 65536), 7);
    let size = imported.get_typed_func::<(), u32>(&other, "size")?;
    assert_eq!(size.call(&mut other, ())?, 2);
    // A shared memory does not satisfy an unshared import, nor the reverse.
    let unshared = Module::new(&engine, r#"(module (import "" "m" (memory 1)))"#)?;
    assert!(Instance::new(&mut other, &unshared, &[memory.into()]).is_err());
    let plain = Memory::new(&mut other, MemoryType::new(1, Some(4)))?;
    assert!(Instance::new(&mut other, &importer, &[plain.into()]).is_err());
    Ok(())
}

#[test]
fn growing_while_other_threads_run() -> Result<()> {
    for tier in common::tiers() {
        let engine = engine(tier);
        let module = Module::new(&engine, WRITER)?;
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 200))?;
        let start = Arc::new(Barrier::new(3));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (engine, module, memory, start) = (
                    engine.clone(),
                    module.clone(),
                    memory.clone(),
                    start.clone(),
                );
                std::thread::spawn(move || -> Result<()> {
                    let mut store = Store::new(&engine, ());
                    let instance = Instance::new(&mut store, &module, &[memory.into()])?;
                    let size = instance.get_typed_func::<(), u32>(&store, "size")?;
                    let load = instance.get_typed_func::<u32, u32>(&store, "load")?;
                    start.wait();
                    let mut last = 0;
                    while last < 200 {
                        // The size only grows, and the last page of every
                        // size seen is accessible.
                        let now = size.call(&mut store, ())?;
                        assert!(now >= last);
                        last = now;
                        load.call(&mut store, now * 65536 - 4)?;
                    }
                    Ok(())
                })
            })
            .collect();
        // Grow from wasm in this thread and from the host, concurrently.
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[memory.clone().into()])?;
        let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
        start.wait();
        let host = {
            let memory = memory.clone();
            std::thread::spawn(move || {
                let mut grown = 0;
                while memory.grow(1).is_ok() {
                    grown += 1;
                }
                grown
            })
        };
        let mut by_wasm = 0;
        while grow.call(&mut store, 1)? != -1 {
            by_wasm += 1;
        }
        let by_host = host.join().expect("grower panicked");
        assert_eq!(by_wasm + by_host, 199, "every page grown once");
        assert_eq!(memory.size(), 200);
        for r in readers {
            r.join().expect("reader panicked")?;
        }
    }
    Ok(())
}

#[test]
fn stores_stay_send() {
    fn is_send<T: Send>() {}
    fn is_send_sync<T: Send + Sync>() {}
    is_send::<Store<()>>();
    is_send_sync::<SharedMemory>();
    is_send_sync::<Engine>();
}
