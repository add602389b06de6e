//! Bounding untrusted code: fuel stops a runaway loop deterministically,
//! an epoch deadline stops it after wall-clock time, and store limits cap
//! memory growth.
//!
//! `cargo run -p strata --example fuel_and_interruption`

use std::time::Duration;
use strata::{Config, Engine, Instance, Module, Store, StoreLimitsBuilder, Trap};

const WAT: &str = r#"(module
  (memory 1)
  (func (export "spin") (loop $l (br $l)))
  (func (export "grow") (result i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size)))"#;

fn main() -> anyhow::Result<()> {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, WAT)?;

    // Fuel: the same program always stops after the same work.
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000)?;
    store.set_epoch_deadline(u64::MAX);
    let instance = Instance::new(&mut store, &module, &[])?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call(&mut store, ()).unwrap_err();
    println!(
        "with fuel: {:?} ({})",
        err.downcast_ref::<Trap>(),
        err.root_cause()
    );

    // Epochs: a timer thread advances the engine's epoch.
    store.set_fuel(u64::MAX)?;
    store.set_epoch_deadline(1);
    let timer = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        timer.increment_epoch();
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    println!(
        "with a deadline: {:?} ({})",
        err.downcast_ref::<Trap>(),
        err.root_cause()
    );

    // Limits: memory.grow returns -1 past 1 MiB.
    let mut limited = Store::new(
        &engine,
        StoreLimitsBuilder::new().memory_size(1 << 20).build(),
    );
    limited.limiter(|limits| limits);
    limited.set_fuel(u64::MAX)?;
    limited.set_epoch_deadline(u64::MAX);
    let instance = Instance::new(&mut limited, &module, &[])?;
    let grow = instance.get_typed_func::<(), i32>(&mut limited, "grow")?;
    println!(
        "memory stopped growing at {} pages",
        grow.call(&mut limited, ())?
    );
    Ok(())
}
