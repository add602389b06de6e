//! Host functions: wasm calls Rust closures, which keep state in the store.
//!
//! `cargo run -p strata --example host_functions`

use strata::{Caller, Engine, Linker, Module, Store};

/// The host's state, reachable from host functions through `Caller`.
struct Log {
    lines: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "log" (func $log (param i32 i32)))
            (import "host" "square" (func $square (param f64) (result f64)))
            (func (export "run") (result f64)
              (call $log (i32.const 1) (i32.const 2))
              (call $square (f64.const 1.5))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "log",
        |mut caller: Caller<'_, Log>, a: i32, b: i32| {
            caller.data_mut().lines.push(format!("log({a}, {b})"));
        },
    )?;
    linker.func_wrap("host", "square", |x: f64| x * x)?;

    let mut store = Store::new(&engine, Log { lines: Vec::new() });
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), f64>(&mut store, "run")?;
    println!("run() = {}", run.call(&mut store, ())?);
    println!("host saw: {:?}", store.data().lines);
    Ok(())
}
