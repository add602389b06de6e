//! Resource control: fuel metering and epoch interruption.

mod common;
use common::{tier_engine, tiers};

use anyhow::Result;
use strata::{Config, Engine, Instance, Module, Store, Tier, Trap};

const WAT: &str = r#"(module
  (func (export "add") (result i32)
    (i32.const 1) (i32.const 2) (i32.add))
  (func (export "count") (param i32) (result i32) (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br $l)))
    (local.get 1))
  (func (export "spin") (loop $l (br $l))))"#;

fn setup(config: &Config) -> Result<(Store<()>, Instance)> {
    let engine = Engine::new(config)?;
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

fn fuel_config(tier: Tier) -> Config {
    let mut config = Config::new();
    config.tier(tier);
    config.consume_fuel(true);
    config
}

fn fuel_follows_the_documented_cost_model_in(tier: Tier) -> Result<()> {
    let (mut store, instance) = setup(&fuel_config(tier))?;
    store.set_fuel(100)?;
    let add = instance.get_typed_func::<(), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, ())?, 3);
    // i32.const, i32.const, i32.add; `end` is free.
    assert_eq!(store.get_fuel()?, 97);

    store.set_fuel(10_000)?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    assert_eq!(count.call(&mut store, 10)?, 10);
    // Per iteration: local.get, local.get, i32.ge_u, br_if, local.get,
    // i32.const, i32.add, local.set, br = 9; the final test costs 4; the
    // trailing local.get 1; block, loop and end are free.
    assert_eq!(10_000 - store.get_fuel()?, 10 * 9 + 4 + 1);
    Ok(())
}

fn running_out_of_fuel_traps_and_is_deterministic_in(tier: Tier) -> Result<()> {
    let mut consumed = Vec::new();
    for _ in 0..2 {
        let (mut store, instance) = setup(&fuel_config(tier))?;
        store.set_fuel(1_000)?;
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
        assert_eq!(
            Trap::OutOfFuel.to_string(),
            "all fuel consumed by WebAssembly"
        );
        consumed.push(store.get_fuel()?);
    }
    assert_eq!(consumed[0], consumed[1]);
    Ok(())
}

fn fuel_needs_the_config_switch_in(tier: Tier) -> Result<()> {
    let (mut store, _) = setup(Config::new().tier(tier))?;
    assert!(store.set_fuel(1).is_err());
    assert!(store.get_fuel().is_err());
    Ok(())
}

fn epoch_deadline_interrupts_an_infinite_loop_in(tier: Tier) -> Result<()> {
    let mut config = Config::new();
    config.tier(tier);
    config.epoch_interruption(true);
    let (mut store, instance) = setup(&config)?;
    store.set_epoch_deadline(1);
    let engine = store.engine().clone();
    let ticker = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        engine.increment_epoch();
    });
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    ticker.join().unwrap();

    // A deadline already reached stops wasm at the next function entry.
    store.set_epoch_deadline(0);
    let add = instance.get_typed_func::<(), i32>(&mut store, "add")?;
    let err = add.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    // And a later deadline lets it run again.
    store.set_epoch_deadline(10);
    assert_eq!(add.call(&mut store, ())?, 3);
    Ok(())
}

struct Host {
    limits: strata::StoreLimits,
}

fn limited_store(engine: &Engine, limits: strata::StoreLimits) -> Store<Host> {
    let mut store = Store::new(engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    store
}

fn memory_growth_stops_at_the_limit_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let limits = strata::StoreLimitsBuilder::new()
        .memory_size(4 * 65536)
        .build();
    let mut store = limited_store(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(
        grow.call(&mut store, 1)?,
        -1,
        "a fifth page exceeds the limit"
    );
    assert_eq!(grow.call(&mut store, 0)?, 4);
    let memory = instance.get_memory(&store, "m").unwrap();
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(memory.size(&store), 4);
    Ok(())
}

fn instantiation_fails_when_minimums_exceed_limits_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let limits = strata::StoreLimitsBuilder::new()
        .memory_size(65536)
        .table_elements(10)
        .build();
    let mut store = limited_store(&engine, limits);
    let big_memory = Module::new(&engine, "(module (memory 2))")?;
    let err = Instance::new(&mut store, &big_memory, &[]).unwrap_err();
    assert!(err.to_string().contains("exceeds memory limits"), "{err}");
    let big_table = Module::new(&engine, "(module (table 11 funcref))")?;
    let err = Instance::new(&mut store, &big_table, &[]).unwrap_err();
    assert!(err.to_string().contains("exceeds table limits"), "{err}");
    let fits = Module::new(&engine, "(module (memory 1) (table 10 funcref))")?;
    Instance::new(&mut store, &fits, &[])?;
    Ok(())
}

fn table_growth_and_object_counts_are_limited_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (table 1 funcref)
            (func (export "grow") (param i32) (result i32)
              (table.grow (ref.null func) (local.get 0))))"#,
    )?;
    let limits = strata::StoreLimitsBuilder::new()
        .table_elements(5)
        .instances(2)
        .build();
    let mut store = limited_store(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 4)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    Instance::new(&mut store, &module, &[])?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("instance count"), "{err}");
    Ok(())
}

#[test]
fn fuel_follows_the_documented_cost_model() -> Result<()> {
    for tier in tiers() {
        fuel_follows_the_documented_cost_model_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn running_out_of_fuel_traps_and_is_deterministic() -> Result<()> {
    for tier in tiers() {
        running_out_of_fuel_traps_and_is_deterministic_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn fuel_needs_the_config_switch() -> Result<()> {
    for tier in tiers() {
        fuel_needs_the_config_switch_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn epoch_deadline_interrupts_an_infinite_loop() -> Result<()> {
    for tier in tiers() {
        epoch_deadline_interrupts_an_infinite_loop_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn memory_growth_stops_at_the_limit() -> Result<()> {
    for tier in tiers() {
        memory_growth_stops_at_the_limit_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn instantiation_fails_when_minimums_exceed_limits() -> Result<()> {
    for tier in tiers() {
        instantiation_fails_when_minimums_exceed_limits_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn table_growth_and_object_counts_are_limited() -> Result<()> {
    for tier in tiers() {
        table_growth_and_object_counts_are_limited_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}
