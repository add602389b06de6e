//! The JIT tier's own concerns: traps raised by faults and trap instructions
//! in compiled code, unwinding back to the host (and running again after),
//! host calls through compiled frames, and fuel and epochs in compiled code.

use strata::{Caller, Config, Engine, Func, Instance, Linker, Module, Store, Tier, Trap};

fn jit_engine(configure: impl FnOnce(&mut Config)) -> Option<Engine> {
    if !Tier::Jit.is_available() {
        eprintln!("the JIT tier is not available here");
        return None;
    }
    let mut config = Config::new();
    config.tier(Tier::Jit);
    configure(&mut config);
    Some(Engine::new(&config).expect("valid config"))
}

const TRAPS: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i32) (result i64) (i64.load offset=0xffffffff (local.get 0)))
  (func (export "store") (param i32) (i32.store8 (local.get 0) (i32.const 7)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (i32.add (local.get 0) (i32.const 1)))))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
)"#;

fn trap_of(e: &anyhow::Error) -> Trap {
    *e.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {e:#}"))
}

/// Each kind of trap, over and over in the same process: every unwind
/// leaves the thread able to run compiled code again.
#[test]
fn traps_in_compiled_code_unwind_and_the_process_survives() {
    for guard_pages in [true, false] {
        let Some(engine) = jit_engine(|c| {
            c.memory_guard_pages(guard_pages);
        }) else {
            return;
        };
        let module = Module::new(&engine, TRAPS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let load = instance
            .get_typed_func::<i32, i32>(&mut store, "load")
            .unwrap();
        let load_far = instance
            .get_typed_func::<i32, i64>(&mut store, "load_far")
            .unwrap();
        let store8 = instance
            .get_typed_func::<i32, ()>(&mut store, "store")
            .unwrap();
        let div = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "div")
            .unwrap();
        let rem = instance
            .get_typed_func::<(i64, i64), i64>(&mut store, "rem")
            .unwrap();
        let deep = instance
            .get_typed_func::<i32, i32>(&mut store, "deep")
            .unwrap();
        let trunc = instance
            .get_typed_func::<f64, i32>(&mut store, "trunc")
            .unwrap();
        for round in 0..50 {
            let e = load.call(&mut store, 65536 - 2).unwrap_err();
            assert_eq!(trap_of(&e), Trap::MemoryOutOfBounds, "round {round}");
            assert_eq!(load.call(&mut store, 65536 - 8).unwrap(), 0);
            let e = load_far.call(&mut store, -1).unwrap_err();
            assert_eq!(trap_of(&e), Trap::MemoryOutOfBounds);
            let e = store8.call(&mut store, 65536).unwrap_err();
            assert_eq!(trap_of(&e), Trap::MemoryOutOfBounds);
            store8.call(&mut store, 65535).unwrap();
            let e = div.call(&mut store, (1, 0)).unwrap_err();
            assert_eq!(trap_of(&e), Trap::IntegerDivisionByZero);
            let e = div.call(&mut store, (i32::MIN, -1)).unwrap_err();
            assert_eq!(trap_of(&e), Trap::IntegerOverflow);
            assert_eq!(rem.call(&mut store, (i64::MIN, -1)).unwrap(), 0);
            assert_eq!(div.call(&mut store, (-7, 2)).unwrap(), -3);
            let e = trunc.call(&mut store, f64::NAN).unwrap_err();
            assert_eq!(trap_of(&e), Trap::BadConversionToInteger);
            let e = trunc.call(&mut store, 3e9).unwrap_err();
            assert_eq!(trap_of(&e), Trap::IntegerOverflow);
            if round % 10 == 0 {
                let e = deep.call(&mut store, 0).unwrap_err();
                assert_eq!(trap_of(&e), Trap::StackOverflow);
                let trace = e
                    .downcast_ref::<strata::WasmBacktrace>()
                    .expect("backtrace");
                assert_eq!(trace.frames().len(), strata::WasmBacktrace::MAX_FRAMES);
                assert!(trace.frames().iter().all(|f| f.instance() == instance));
                assert_eq!(trace.frames()[0].func_index(), 5);
                assert!(trace.omitted_frames() > 0);
            }
        }
    }
}

/// Traps in compiled code on many threads at once.
#[test]
fn traps_on_many_threads() {
    let Some(engine) = jit_engine(|_| {}) else {
        return;
    };
    let module = Module::new(&engine, TRAPS).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let div = instance
                    .get_typed_func::<(i32, i32), i32>(&mut store, "div")
                    .unwrap();
                let load = instance
                    .get_typed_func::<i32, i32>(&mut store, "load")
                    .unwrap();
                for _ in 0..200 {
                    let e = div.call(&mut store, (1, 0)).unwrap_err();
                    assert_eq!(trap_of(&e), Trap::IntegerDivisionByZero);
                    let e = load.call(&mut store, -1).unwrap_err();
                    assert_eq!(trap_of(&e), Trap::MemoryOutOfBounds);
                    // Modules compiled (and dropped) meanwhile must not
                    // confuse the trap handler.
                    drop(Module::new(&engine, TRAPS).unwrap());
                }
            });
        }
    });
}

/// Traps with backtraces on several threads while another thread keeps
/// compiling and dropping modules, which changes the code registry the
/// trap handler reads: every trap is still recognised and every frame
/// named.
#[test]
fn traps_while_another_thread_registers_and_drops_modules() {
    let Some(engine) = jit_engine(|_| {}) else {
        return;
    };
    let wat = r#"(module
        (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
        (func $middle (param i32) (result i32) (call $inner (local.get 0)))
        (func $outer (export "outer") (param i32) (result i32) (call $middle (local.get 0))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let churn = s.spawn(|| {
            let mut modules = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                // Modules of several sizes, so registrations interleave
                // with the trapping module's code in the registry.
                let funcs = 1 + modules % 40;
                let body: String = (0..funcs)
                    .map(|i| format!("(func (export \"f{i}\") (result i32) (i32.const {i}))"))
                    .collect();
                drop(Module::new(&engine, format!("(module {body})")).unwrap());
                modules += 1;
            }
            modules
        });
        let trappers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut store = Store::new(&engine, ());
                    let instance = Instance::new(&mut store, &module, &[]).unwrap();
                    let outer = instance
                        .get_typed_func::<i32, i32>(&mut store, "outer")
                        .unwrap();
                    for _ in 0..300 {
                        assert_eq!(outer.call(&mut store, 1).unwrap(), 1);
                        let e = outer.call(&mut store, 0).unwrap_err();
                        assert_eq!(trap_of(&e), Trap::IntegerDivisionByZero);
                        let trace = e
                            .downcast_ref::<strata::WasmBacktrace>()
                            .expect("a trap has a backtrace");
                        let names: Vec<_> = trace
                            .frames()
                            .iter()
                            .map(|f| f.func_name().unwrap_or("?"))
                            .collect();
                        assert_eq!(names, ["inner", "middle", "outer"]);
                    }
                })
            })
            .collect();
        for t in trappers {
            t.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(churn.join().unwrap() > 0);
    });
}

/// Host functions called from compiled code see the caller's memory, and
/// their errors come back unchanged through the compiled frames.
#[test]
fn host_calls_through_compiled_frames() {
    let Some(engine) = jit_engine(|_| {}) else {
        return;
    };
    #[derive(Debug)]
    struct Stop(u32);
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "stop {}", self.0)
        }
    }
    impl std::error::Error for Stop {}

    let mut linker = Linker::<Vec<u8>>::new(&engine);
    linker
        .func_wrap(
            "host",
            "read",
            |mut caller: Caller<'_, Vec<u8>>, ptr: i32, len: i32| {
                let memory = caller.get_export("memory").unwrap().into_memory().unwrap();
                let mut buf = vec![0; len as usize];
                memory.read(&caller, ptr as usize, &mut buf)?;
                caller.data_mut().extend_from_slice(&buf);
                Ok(len * 2)
            },
        )
        .unwrap();
    linker
        .func_wrap("host", "stop", |code: i32| -> anyhow::Result<()> {
            Err(Stop(code as u32).into())
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "read" (func $read (param i32 i32) (result i32)))
            (import "host" "stop" (func $stop (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello")
            (table 2 funcref)
            (elem (i32.const 0) $read $stop)
            (type $rd (func (param i32 i32) (result i32)))
            (func (export "direct") (result i32) (call $read (i32.const 16) (i32.const 5)))
            (func (export "indirect") (result i32)
              (call_indirect (type $rd) (i32.const 16) (i32.const 2) (i32.const 0)))
            (func (export "stop") (call $stop (i32.const 42)) unreachable))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let direct = instance
        .get_typed_func::<(), i32>(&mut store, "direct")
        .unwrap();
    assert_eq!(direct.call(&mut store, ()).unwrap(), 10);
    let indirect = instance
        .get_typed_func::<(), i32>(&mut store, "indirect")
        .unwrap();
    assert_eq!(indirect.call(&mut store, ()).unwrap(), 4);
    assert_eq!(store.data().as_slice(), b"hellohe");
    let stop = instance
        .get_typed_func::<(), ()>(&mut store, "stop")
        .unwrap();
    let e = stop.call(&mut store, ()).unwrap_err();
    assert_eq!(e.downcast_ref::<Stop>().map(|s| s.0), Some(42), "{e:#}");
    assert!(e.downcast_ref::<Trap>().is_none());
}

/// A host function that calls back into compiled code, recursively, until
/// the stack limit: a trap, not a crash.
#[test]
fn reentrant_recursion_is_bounded() {
    let Some(engine) = jit_engine(|_| {}) else {
        return;
    };
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "again" (func $again (param i32) (result i32)))
            (func (export "f") (param i32) (result i32)
              (call $again (i32.add (local.get 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let again = Func::wrap(&mut store, |mut caller: Caller<'_, ()>, n: i32| {
        let f = caller.get_export("f").unwrap().into_func().unwrap();
        let f = f.typed::<i32, i32>(&caller)?;
        f.call(&mut caller, n)
    });
    let instance = Instance::new(&mut store, &module, &[again.into()]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let e = f.call(&mut store, 0).unwrap_err();
    assert_eq!(trap_of(&e), Trap::StackOverflow, "{e:#}");
}

/// Fuel runs out and epochs interrupt loops in compiled code; a module
/// compiled with fuel consumes the same amount as the interpreter.
#[test]
fn fuel_and_epochs_in_compiled_code() {
    let Some(engine) = jit_engine(|c| {
        c.consume_fuel(true).epoch_interruption(true);
    }) else {
        return;
    };
    let wat = r#"(module
        (func (export "spin") (loop (br 0)))
        (func (export "count") (param i32) (result i32) (local i32)
          (block (loop
            (br_if 1 (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br 0)))
          (local.get 1)))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1_000_000);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    store.set_fuel(10_000).unwrap();
    let e = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&e), Trap::OutOfFuel);

    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, 100).unwrap(), 5050);
    let jit_used = 1_000_000 - store.get_fuel().unwrap();

    let mut config = Config::new();
    config.tier(Tier::Interp).consume_fuel(true);
    let interp = Engine::new(&config).unwrap();
    let module = Module::new(&interp, wat).unwrap();
    let mut istore = Store::new(&interp, ());
    let instance2 = Instance::new(&mut istore, &module, &[]).unwrap();
    let count2 = instance2
        .get_typed_func::<i32, i32>(&mut istore, "count")
        .unwrap();
    istore.set_fuel(1_000_000).unwrap();
    assert_eq!(count2.call(&mut istore, 100).unwrap(), 5050);
    assert_eq!(jit_used, 1_000_000 - istore.get_fuel().unwrap());
    assert!(jit_used > 500);

    store.set_fuel(u64::MAX).unwrap();
    store.set_epoch_deadline(1);
    let ticker = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            engine.increment_epoch();
        })
    };
    let e = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&e), Trap::Interrupt);
    ticker.join().unwrap();
}

/// A host function that panics under compiled code: the panic reaches the
/// embedder (not an abort), and the store and thread keep working.
#[test]
fn host_panics_propagate_through_compiled_code() {
    let Some(engine) = jit_engine(|_| {}) else {
        return;
    };
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "boom" (func $boom (param i32) (result i32)))
            (func (export "f") (param i32) (result i32)
              (i32.add (i32.const 1) (call $boom (local.get 0)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let boom = Func::wrap(&mut store, |x: i32| -> i32 {
        if x == 13 {
            panic!("unlucky");
        }
        x * 2
    });
    let instance = Instance::new(&mut store, &module, &[boom.into()]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = f.call(&mut store, 13);
    }));
    let payload = caught.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"unlucky"));
    assert_eq!(f.call(&mut store, 20).unwrap(), 41);
}
