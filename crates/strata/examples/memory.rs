//! Linear memory: a host function reads a string out of the caller's
//! memory, and the host writes into memory before calling wasm.
//!
//! `cargo run -p strata --example memory`

use anyhow::anyhow;
use strata::{Caller, Engine, Extern, Linker, Module, Store};

fn main() -> anyhow::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "print" (func $print (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "hello from linear memory")
            (func (export "greet") (call $print (i32.const 0) (i32.const 24)))
            (func (export "sum") (param i32 i32) (result i32) (local i32)
              (block $done (loop $l
                (br_if $done (i32.eqz (local.get 1)))
                (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
                (br $l)))
              (local.get 2)))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "print",
        |caller: Caller<'_, ()>, ptr: i32, len: i32| {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| anyhow!("the caller exports no memory"))?;
            let bytes = memory
                .data(&caller)
                .get(ptr as usize..)
                .and_then(|rest| rest.get(..len as usize))
                .ok_or_else(|| anyhow!("string out of bounds"))?;
            println!("wasm says: {}", String::from_utf8_lossy(bytes));
            Ok(())
        },
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "greet")?
        .call(&mut store, ())?;

    let memory = instance.get_memory(&store, "memory").unwrap();
    memory.write(&mut store, 1000, &[1, 2, 3, 4, 5])?;
    let sum = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sum")?;
    println!(
        "sum of bytes written by the host: {}",
        sum.call(&mut store, (1000, 5))?
    );
    println!("memory: {} pages", memory.size(&store));
    Ok(())
}
