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

/// Atomics of every kind on a shared memory (0) and, through memory 1 of
/// 64-bit addresses, on an unshared one.
const ATOMICS: &str = r#"(module
  (import "env" "memory" (memory 1 200 shared))
  (memory $m64 i64 1)
  (func (export "add") (param i32 i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "count") (param $addr i32) (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (local.get $addr) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; A spin lock taken with compare-exchange around a plain increment.
  (func (export "locked_count") (param $lock i32) (param $addr i32) (param $n i32)
    (loop $l
      (loop $spin
        (br_if $spin (i32.atomic.rmw.cmpxchg (local.get $lock) (i32.const 0) (i32.const 1))))
      (i64.store (local.get $addr) (i64.add (i64.load (local.get $addr)) (i64.const 1)))
      (i32.atomic.store (local.get $lock) (i32.const 0))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "load8") (param i32) (result i32) (i32.atomic.load8_u (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.atomic.load (local.get 0)))
  (func (export "xchg16") (param i32 i64) (result i64)
    (i64.atomic.rmw16.xchg_u (local.get 0) (local.get 1)))
  (func (export "cmpxchg8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sub32") (param i32 i64) (result i64)
    (i64.atomic.rmw32.sub_u (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.atomic.store (local.get 0) (local.get 1)))
  (func (export "fence") (atomic.fence))
  (func (export "m64_add") (param i64 i64) (result i64)
    (i64.atomic.rmw.add $m64 offset=8 (local.get 0) (local.get 1)))
  (func (export "m64_load") (param i64) (result i64) (i64.atomic.load $m64 (local.get 0)))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32)
    (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "m64_wait") (param i64) (result i32)
    (memory.atomic.wait32 $m64 (local.get 0) (i32.const 0) (i64.const 0)))
  (func (export "m64_notify") (param i64) (result i32)
    (memory.atomic.notify $m64 (local.get 0) (i32.const 1))))"#;

fn atomics_engine(tier: Tier) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_threads(true)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .epoch_interruption(true);
    Engine::new(&config).expect("valid configuration")
}

/// An instance of `ATOMICS` over `memory` in a new store (with a far-off
/// epoch deadline).
fn atomics(engine: &Engine, memory: &SharedMemory) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, ATOMICS)?;
    let mut store = Store::new(engine, ());
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = Instance::new(&mut store, &module, &[memory.clone().into()])?;
    Ok((store, instance))
}

fn trap_of(e: anyhow::Error) -> Option<Trap> {
    e.downcast_ref::<Trap>().copied()
}

#[test]
fn atomic_instructions_in_every_tier() -> Result<()> {
    for tier in common::tiers() {
        let engine = atomics_engine(tier);
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 200))?;
        let (mut store, instance) = atomics(&engine, &memory)?;
        let call = |store: &mut Store<()>, name: &str, args: &[Val]| -> Result<Vec<Val>> {
            let func = instance.get_func(&*store, name).expect(name);
            let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
            func.call(&mut *store, args, &mut results)?;
            Ok(results)
        };
        let i32s = |v: Vec<Val>| v[0].i32().expect("an i32");
        let i64s = |v: Vec<Val>| v[0].i64().expect("an i64");
        call(
            &mut store,
            "store64",
            &[Val::I32(8), Val::I64(0x1122_3344_5566_7788)],
        )?;
        assert_eq!(
            i64s(call(&mut store, "load64", &[Val::I32(8)])?),
            0x1122_3344_5566_7788
        );
        assert_eq!(i32s(call(&mut store, "load8", &[Val::I32(9)])?), 0x77);
        // Narrow read-modify-writes give the old value zero-extended and
        // wrap their operand.
        let old = call(&mut store, "xchg16", &[Val::I32(8), Val::I64(-1)])?;
        assert_eq!(i64s(old), 0x7788);
        assert_eq!(
            i64s(call(&mut store, "load64", &[Val::I32(8)])?),
            0x1122_3344_5566_ffff
        );
        let old = call(
            &mut store,
            "cmpxchg8",
            &[Val::I32(8), Val::I32(0x1ff), Val::I32(5)],
        )?;
        assert_eq!(i32s(old), 0xff);
        assert_eq!(i32s(call(&mut store, "load8", &[Val::I32(8)])?), 5);
        let old = call(
            &mut store,
            "cmpxchg8",
            &[Val::I32(8), Val::I32(4), Val::I32(9)],
        )?;
        assert_eq!(i32s(old), 5, "no exchange when the value differs");
        let old = call(&mut store, "sub32", &[Val::I32(12), Val::I64(0x1122_3345)])?;
        assert_eq!(i64s(old), 0x1122_3344);
        assert_eq!(
            i64s(call(&mut store, "load64", &[Val::I32(8)])?),
            -0x1_0000_0000 | 0x5566_ff05
        );
        call(&mut store, "fence", &[])?;
        // Memory 1: 64-bit addresses, an offset, not shared.
        assert_eq!(
            i64s(call(&mut store, "m64_add", &[Val::I64(0), Val::I64(3)])?),
            0
        );
        assert_eq!(i64s(call(&mut store, "m64_load", &[Val::I64(8)])?), 3);
        // Traps: unaligned, out of bounds, wait on an unshared memory.
        let traps: [(&str, Vec<Val>, Trap); 7] = [
            ("load64", vec![Val::I32(4)], Trap::HeapMisaligned),
            ("add", vec![Val::I32(2), Val::I32(1)], Trap::HeapMisaligned),
            ("load64", vec![Val::I32(65536)], Trap::MemoryOutOfBounds),
            ("load8", vec![Val::I32(-1)], Trap::MemoryOutOfBounds),
            ("m64_load", vec![Val::I64(-8)], Trap::MemoryOutOfBounds),
            (
                "m64_wait",
                vec![Val::I64(0)],
                Trap::AtomicWaitNonSharedMemory,
            ),
            (
                "notify",
                vec![Val::I32(1), Val::I32(1)],
                Trap::HeapMisaligned,
            ),
        ];
        for (name, args, trap) in traps {
            let err = call(&mut store, name, &args).unwrap_err();
            assert_eq!(trap_of(err), Some(trap), "{tier:?} {name}{args:?}");
        }
        // Notify on an unshared memory wakes nobody.
        assert_eq!(i32s(call(&mut store, "m64_notify", &[Val::I64(0)])?), 0);
    }
    Ok(())
}

#[test]
fn atomic_counters_and_locks_across_threads() -> Result<()> {
    const THREADS: usize = 4;
    const N: i32 = 5000;
    for tier in common::tiers() {
        let engine = atomics_engine(tier);
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 200))?;
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (engine, memory) = (engine.clone(), memory.clone());
                std::thread::spawn(move || -> Result<()> {
                    let (mut store, instance) = atomics(&engine, &memory)?;
                    let count = instance.get_typed_func::<(i32, i32), ()>(&store, "count")?;
                    count.call(&mut store, (64, N))?;
                    let locked =
                        instance.get_typed_func::<(i32, i32, i32), ()>(&store, "locked_count")?;
                    locked.call(&mut store, (128, 136, N))?;
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker panicked")?;
        }
        let total = THREADS as u32 * N as u32;
        assert_eq!(read_u32(&memory, 64), total, "{tier:?}: atomic adds");
        assert_eq!(
            read_u32(&memory, 136),
            total,
            "{tier:?}: increments under the lock"
        );
    }
    Ok(())
}

#[test]
fn wait_and_notify_across_threads() -> Result<()> {
    for tier in common::tiers() {
        let engine = atomics_engine(tier);
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 200))?;
        let (mut store, instance) = atomics(&engine, &memory)?;
        let wait32 = instance.get_typed_func::<(i32, i32, i64), i32>(&store, "wait32")?;
        let wait64 = instance.get_typed_func::<(i32, i64, i64), i32>(&store, "wait64")?;
        let notify = instance.get_typed_func::<(i32, i32), i32>(&store, "notify")?;
        // Not equal: 1. Timed out: 2 (after the timeout, not before).
        assert_eq!(wait32.call(&mut store, (0, 1, -1))?, 1);
        assert_eq!(wait64.call(&mut store, (8, 1, 0))?, 1);
        let started = std::time::Instant::now();
        assert_eq!(wait32.call(&mut store, (0, 0, 20_000_000))?, 2);
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(wait64.call(&mut store, (8, 0, 0))?, 2);
        assert_eq!(notify.call(&mut store, (0, 5))?, 0, "nobody waits");
        // Two waiters in other stores and threads, woken by wasm (one at a
        // time) and by the host.
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (engine, memory) = (engine.clone(), memory.clone());
                std::thread::spawn(move || -> Result<i32> {
                    let (mut store, instance) = atomics(&engine, &memory)?;
                    let wait32 =
                        instance.get_typed_func::<(i32, i32, i64), i32>(&store, "wait32")?;
                    wait32.call(&mut store, (16, 0, -1))
                })
            })
            .collect();
        let mut woken = 0;
        while woken < 1 {
            std::thread::sleep(Duration::from_millis(1));
            woken += notify.call(&mut store, (16, 1))?;
        }
        while woken < 2 {
            std::thread::sleep(Duration::from_millis(1));
            woken += memory.atomic_notify(16, 1)? as i32;
        }
        assert_eq!(woken, 2);
        for w in waiters {
            assert_eq!(w.join().expect("waiter panicked")?, 0, "{tier:?}: woken");
        }
    }
    Ok(())
}

#[test]
fn an_interrupt_ends_a_wait_nothing_notifies() -> Result<()> {
    for tier in common::tiers() {
        let engine = atomics_engine(tier);
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 200))?;
        let (mut store, instance) = atomics(&engine, &memory)?;
        let wait32 = instance.get_typed_func::<(i32, i32, i64), i32>(&store, "wait32")?;
        store.set_epoch_deadline(1);
        let ticker = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                engine.increment_epoch();
            })
        };
        // A deadlocked guest: waits forever on a value nobody changes.
        let err = wait32.call(&mut store, (0, 0, -1)).unwrap_err();
        assert_eq!(trap_of(err), Some(Trap::Interrupt), "{tier:?}");
        ticker.join().expect("ticker panicked");
    }
    Ok(())
}
