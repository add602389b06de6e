//! Stores and the handles into them: every public method that takes a
//! store rejects a handle from another store the same way (an error where
//! it returns a `Result`, otherwise a panic with one message), and a store
//! moves to another thread with everything in it.

mod common;
use common::{tier_engine, tiers};

use anyhow::Result;
use std::panic::{catch_unwind, AssertUnwindSafe};
use strata::*;

/// What a store mismatch says, as an error or as a panic.
const WRONG_STORE: &str = "object used with the wrong store";

/// Asserts that `f` panics with the wrong-store message.
fn panics_with_wrong_store<R>(what: &str, f: impl FnOnce() -> R) {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("{what}: no panic with a handle from another store"),
        Err(payload) => payload,
    };
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("<not a string>");
    assert!(
        message.contains(WRONG_STORE),
        "{what}: panicked with `{message}`"
    );
}

/// Asserts that `result` is the wrong-store error.
fn fails_with_wrong_store<T>(what: &str, result: Result<T>) {
    match result {
        Ok(_) => panic!("{what}: accepted a handle from another store"),
        Err(e) => assert!(
            format!("{e:#}").contains(WRONG_STORE),
            "{what}: failed with `{e:#}`"
        ),
    }
}

const MODULE: &str = r#"(module
    (import "" "f" (func))
    (memory (export "memory") 1)
    (table (export "table") 2 funcref)
    (global (export "global") (mut i32) (i32.const 7))
    (func (export "g") (result i32) (i32.const 1)))"#;

fn handles_from_another_store_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let module = Module::new(&engine, MODULE)?;
    let mut a = Store::new(&engine, ());
    let mut b = Store::new(&engine, ());
    // Give `b` objects at the same indices as `a`'s, so a missing check
    // would answer with `b`'s objects instead of failing.
    for store in [&mut a, &mut b] {
        let f = Func::wrap(&mut *store, || {});
        Instance::new(&mut *store, &module, &[f.into()])?;
    }
    let f = Func::wrap(&mut a, || {});
    let instance = Instance::new(&mut a, &module, &[f.into()])?;
    let g = instance.get_func(&a, "g").expect("exported");
    let typed = g.typed::<(), i32>(&a)?;
    let memory = instance.get_memory(&a, "memory").expect("exported");
    let table = instance.get_table(&a, "table").expect("exported");
    let global = instance.get_global(&a, "global").expect("exported");
    let externref = ExternRef::new(&mut a, 5_u32).expect("room for a host reference");
    let _ = Func::wrap(&mut b, || {});
    let _ = ExternRef::new(&mut b, 6_u32).expect("room for a host reference");

    // Functions.
    panics_with_wrong_store("Func::ty", || g.ty(&b));
    fails_with_wrong_store("Func::call", g.call(&mut b, &[], &mut [Val::I32(0)]));
    fails_with_wrong_store("Func::typed", g.typed::<(), i32>(&b));
    fails_with_wrong_store("TypedFunc::call", typed.call(&mut b, ()));
    let funcref = [Val::FuncRef(Some(g))];
    let takes_ref = Func::wrap(&mut b, |_: Option<Func>| {});
    fails_with_wrong_store(
        "Func::call with a function of another store",
        takes_ref.call(&mut b, &funcref, &mut []),
    );

    // Memories.
    panics_with_wrong_store("Memory::ty", || memory.ty(&b));
    panics_with_wrong_store("Memory::data", || memory.data(&b).len());
    panics_with_wrong_store("Memory::data_mut", || memory.data_mut(&mut b).len());
    panics_with_wrong_store("Memory::data_size", || memory.data_size(&b));
    panics_with_wrong_store("Memory::size", || memory.size(&b));
    fails_with_wrong_store("Memory::grow", memory.grow(&mut b, 1));
    fails_with_wrong_store("Memory::read", memory.read(&b, 0, &mut [0; 4]));
    fails_with_wrong_store("Memory::write", memory.write(&mut b, 0, &[1]));

    // Tables.
    panics_with_wrong_store("Table::ty", || table.ty(&b));
    panics_with_wrong_store("Table::size", || table.size(&b));
    panics_with_wrong_store("Table::get", || table.get(&b, 0));
    fails_with_wrong_store("Table::set", table.set(&mut b, 0, Val::FuncRef(None)));
    fails_with_wrong_store("Table::grow", table.grow(&mut b, 1, Val::FuncRef(None)));
    let ty = TableType::new(RefType::FUNCREF, 1, None);
    fails_with_wrong_store(
        "Table::new with a function of another store",
        Table::new(&mut b, ty, Val::FuncRef(Some(g))),
    );
    let table_b = Table::new(&mut b, ty, Val::FuncRef(None))?;
    fails_with_wrong_store(
        "Table::set with a function of another store",
        table_b.set(&mut b, 0, Val::FuncRef(Some(g))),
    );

    // Globals.
    panics_with_wrong_store("Global::ty", || global.ty(&b));
    panics_with_wrong_store("Global::get", || global.get(&b));
    fails_with_wrong_store("Global::set", global.set(&mut b, Val::I32(1)));
    let ty = GlobalType::new(ValType::FUNCREF, Mutability::Var);
    fails_with_wrong_store(
        "Global::new with a function of another store",
        Global::new(&mut b, ty, Val::FuncRef(Some(g))),
    );

    // Externs and references.
    panics_with_wrong_store("Extern::ty", || Extern::from(memory).ty(&b));
    panics_with_wrong_store("ExternRef::data", || externref.data(&b).is_some());

    // Instances.
    panics_with_wrong_store("Instance::get_export", || instance.get_export(&b, "g"));
    panics_with_wrong_store("Instance::get_func", || instance.get_func(&b, "g"));
    panics_with_wrong_store("Instance::get_memory", || instance.get_memory(&b, "memory"));
    panics_with_wrong_store("Instance::get_table", || instance.get_table(&b, "table"));
    panics_with_wrong_store("Instance::get_global", || instance.get_global(&b, "global"));
    panics_with_wrong_store("Instance::exports", || instance.exports(&b).len());
    fails_with_wrong_store(
        "Instance::get_typed_func",
        instance.get_typed_func::<(), i32>(&b, "g"),
    );
    fails_with_wrong_store(
        "Instance::new with an import of another store",
        Instance::new(&mut b, &module, &[f.into()]),
    );

    // Linking.
    let mut linker = Linker::new(&engine);
    fails_with_wrong_store(
        "Linker::instance",
        linker.instance(&mut b, "other", instance).map(|_| ()),
    );
    linker.define("", "f", f)?;
    fails_with_wrong_store(
        "Linker::instantiate with an item of another store",
        linker.instantiate(&mut b, &module),
    );
    fails_with_wrong_store(
        "Linker::module with an item of another store",
        linker.module(&mut b, "m", &module),
    );

    // Nothing above changed `a`'s objects or made them unusable.
    assert_eq!(
        g.call(&mut a, &[], &mut [Val::I32(0)]).map(|_| ()).ok(),
        Some(())
    );
    assert_eq!(global.get(&a).i32(), Some(7));
    assert_eq!(memory.data(&a)[0], 0);
    assert_eq!(table.size(&a), 2);
    Ok(())
}

#[test]
fn handles_from_another_store() -> Result<()> {
    for tier in tiers() {
        handles_from_another_store_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

/// A store moves to another thread with its instances, and runs there.
#[test]
fn a_store_moves_between_threads() -> Result<()> {
    for tier in tiers() {
        let engine = tier_engine(tier);
        let module = Module::new(
            &engine,
            r#"(module
                (import "" "log" (func $log (param i32)))
                (memory (export "memory") 1)
                (func (export "run") (param i32) (result i32)
                  (call $log (local.get 0))
                  (i32.store (i32.const 0) (local.get 0))
                  (i32.mul (local.get 0) (i32.const 2))))"#,
        )?;
        let mut store = Store::new(&engine, Vec::<i32>::new());
        let log = Func::wrap(&mut store, |mut c: Caller<'_, Vec<i32>>, x: i32| {
            c.data_mut().push(x)
        });
        let instance = Instance::new(&mut store, &module, &[log.into()])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, 1)?, 2);
        let mut store = std::thread::spawn(move || -> Result<Store<Vec<i32>>> {
            assert_eq!(run.call(&mut store, 21)?, 42);
            Ok(store)
        })
        .join()
        .expect("the thread finishes")?;
        assert_eq!(run.call(&mut store, 3)?, 6);
        let memory = instance.get_memory(&store, "memory").expect("exported");
        assert_eq!(memory.data(&store)[..4], 3_i32.to_le_bytes());
        assert_eq!(store.data(), &[1, 21, 3]);
    }
    Ok(())
}
