//! The smallest embedding: load a module from text, call an export.
//!
//! `cargo run -p strata --example hello`

use strata::{Engine, Instance, Module, Store};

fn main() -> anyhow::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "answer") (result i32) (i32.const 42)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer")?;
    println!("the answer is {}", answer.call(&mut store, ())?);
    Ok(())
}
