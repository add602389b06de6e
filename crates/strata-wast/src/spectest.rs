//! The `spectest` module that spec scripts import from.

use anyhow::Result;
use strata::{
    FuncType, Global, GlobalType, Linker, Memory, MemoryType, Mutability, RefType, SharedMemory,
    Store, Table, TableType, Val, ValType,
};

/// Defines `spectest`'s functions, globals, table and memory in `linker`.
pub(crate) fn define(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<()> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func_new("spectest", name, ty, |_, _, _| Ok(()))?;
    }
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.to_bits())),
        ("global_f64", Val::F64(666.6f64.to_bits())),
    ];
    for (name, value) in globals {
        let ty = GlobalType::new(value.ty(), Mutability::Const);
        let global = Global::new(&mut *store, ty, value)?;
        linker.define("spectest", name, global)?;
    }
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define("spectest", "table", table)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;
    // With the threads proposal, the shared memory its scripts import
    // (as wasmtime's `spectest` has it).
    if let Ok(shared) = SharedMemory::new(store.engine(), MemoryType::shared(1, 2)) {
        linker.define("spectest", "shared_memory", shared)?;
    }
    Ok(())
}
