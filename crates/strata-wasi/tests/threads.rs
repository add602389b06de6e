//! wasi-threads through the embedding API (`strata_wasi::threads`): spawned
//! threads share the memory, ids count up from 1, the limit refuses a
//! spawn, a finished thread gives its place back, and a module without
//! `wasi_thread_start` is refused. The command line's behaviour (exit and
//! trap statuses, real programs) is tested in
//! `crates/strata-cli/tests/wasi_threads.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata::{Config, Engine, Linker, Module, SharedMemory, Store};
use strata_wasi::threads::WasiThreadsCtx;
use strata_wasi::{SharedWasiCtx, WasiCtx};

#[derive(Clone)]
struct Host {
    wasi: SharedWasiCtx,
    threads: Option<Arc<WasiThreadsCtx<Host>>>,
}

/// Each thread adds its start argument to the counter at 0 and records
/// its id at `8 + 4 * id`.
const COUNTER: &str = r#"
(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (local.get $arg)))
    (i32.atomic.store (i32.add (i32.const 8) (i32.shl (local.get $tid) (i32.const 2)))
      (local.get $tid)))
  (func (export "spawn") (param $arg i32) (result i32)
    (call $spawn (local.get $arg)))
  (func (export "load") (param $at i32) (result i32)
    (i32.atomic.load (local.get $at))))
"#;

struct Setup {
    engine: Engine,
    memory: SharedMemory,
    threads: Arc<WasiThreadsCtx<Host>>,
}

fn setup(max_threads: usize) -> Setup {
    let engine = Engine::new(Config::new().wasm_threads(true)).expect("engine");
    let module = Module::new(&engine, COUNTER).expect("valid module");
    let mut linker = Linker::new(&engine);
    strata_wasi::add_to_linker_shared(&mut linker, |h: &Host| &h.wasi).expect("WASI");
    strata_wasi::threads::add_to_linker(&mut linker, |h: &Host| h.threads.as_ref())
        .expect("thread-spawn");
    let ty = module
        .imports()
        .find_map(|i| match i.ty() {
            strata::ExternType::Memory(ty) => Some(ty),
            _ => None,
        })
        .expect("a memory import");
    let memory = SharedMemory::new(&engine, ty).expect("shared memory");
    linker
        .define("env", "memory", memory.clone())
        .expect("defines the memory");
    let pre = linker.instantiate_pre(&module).expect("resolves");
    let threads = WasiThreadsCtx::new(pre)
        .expect("has an entry point")
        .max_threads(max_threads)
        .on_error(|e| panic!("a spawned thread failed: {e:?}"));
    Setup {
        engine,
        memory,
        threads: Arc::new(threads),
    }
}

fn host(setup: &Setup) -> Host {
    Host {
        wasi: Arc::new(Mutex::new(WasiCtx::builder().build())),
        threads: Some(Arc::clone(&setup.threads)),
    }
}

fn wait_until_idle(threads: &WasiThreadsCtx<Host>) {
    let start = Instant::now();
    while threads.running() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "threads never finished"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The word at `at`, read by a new instance of the module (so through
/// the shared memory, from another store).
fn u32_at(setup: &Setup, at: i32) -> u32 {
    let mut store = Store::new(&setup.engine, host(setup));
    let instance = setup
        .threads
        .instance_pre()
        .instantiate(&mut store)
        .expect("instantiates");
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .expect("load export");
    load.call(&mut store, at).expect("in bounds") as u32
}

#[test]
fn spawned_threads_share_the_memory_and_get_ids_from_one() {
    let setup = setup(8);
    let mut store = Store::new(&setup.engine, host(&setup));
    let instance = setup
        .threads
        .instance_pre()
        .instantiate(&mut store)
        .expect("instantiates");
    let spawn = instance
        .get_typed_func::<i32, i32>(&mut store, "spawn")
        .expect("spawn export");
    let mut ids = Vec::new();
    for arg in 1..=5 {
        ids.push(spawn.call(&mut store, arg).expect("spawns"));
    }
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    // The host spawns too, with the same numbering.
    let id = setup.threads.spawn(host(&setup), 100).expect("spawns");
    assert_eq!(id, 6);
    wait_until_idle(&setup.threads);
    assert_eq!(u32_at(&setup, 0), 115);
    for id in 1..=6 {
        assert_eq!(u32_at(&setup, 8 + 4 * id), id as u32);
    }
    assert_eq!(setup.memory.data_size(), 65536);
}

#[test]
fn the_limit_refuses_a_spawn_and_finished_threads_free_their_place() {
    let setup = setup(0);
    let mut store = Store::new(&setup.engine, host(&setup));
    let instance = setup
        .threads
        .instance_pre()
        .instantiate(&mut store)
        .expect("instantiates");
    let spawn = instance
        .get_typed_func::<i32, i32>(&mut store, "spawn")
        .expect("spawn export");
    // No place at all: the guest sees -1.
    assert_eq!(spawn.call(&mut store, 1).expect("returns"), -1);
    assert!(setup.threads.spawn(host(&setup), 1).is_err());

    // One place, used over and over as threads finish.
    let setup = self::setup(1);
    for _ in 0..20 {
        wait_until_idle(&setup.threads);
        setup.threads.spawn(host(&setup), 1).expect("a free place");
    }
    wait_until_idle(&setup.threads);
    assert_eq!(u32_at(&setup, 0), 20);
}

#[test]
fn a_module_without_the_entry_point_is_refused() {
    let engine = Engine::new(Config::new().wasm_threads(true)).expect("engine");
    let module = Module::new(&engine, "(module)").expect("valid module");
    let linker: Linker<Host> = Linker::new(&engine);
    let pre = linker.instantiate_pre(&module).expect("resolves");
    let err = WasiThreadsCtx::new(pre).expect_err("no wasi_thread_start");
    assert!(
        err.to_string()
            .contains("does not export `wasi_thread_start`"),
        "{err}"
    );

    let module = Module::new(
        &engine,
        r#"(module (func (export "wasi_thread_start") (param i32)))"#,
    )
    .expect("valid module");
    let pre = linker.instantiate_pre(&module).expect("resolves");
    let err = WasiThreadsCtx::new(pre).expect_err("wrong type");
    assert!(err.to_string().contains("(i32, i32) -> ()"), "{err}");
}
