"""Strata, a WebAssembly runtime, from Python.

The API follows wasmtime-py's, so code written for wasmtime-py runs after
`import strata as wasmtime` for the common subset (modules, instances,
host functions, memories, globals, tables, linking, fuel, epochs, limits,
WASI). See the package's README.md for what differs.

    from strata import Store, Module, Instance

    store = Store()
    module = Module(store.engine, '(module (func (export "answer") (result i32) i32.const 42))')
    instance = Instance(store, module, [])
    assert instance.exports(store)["answer"](store) == 42
"""

from collections.abc import Mapping as _Mapping
from typing import Union as _Union

from ._error import (
    DirPerms,
    ExitTrap,
    FilePerms,
    Frame,
    StrataError,
    Trap,
    TrapCode,
    WasmtimeError,
)
from ._strata import (
    Caller,
    Config,
    Engine,
    ExportType,
    Func,
    FuncType,
    Global,
    GlobalType,
    ImportType,
    Instance,
    InstanceExports,
    InstancePre,
    Limits,
    Linker,
    Memory,
    MemoryType,
    Module,
    Store,
    Table,
    TableType,
    Tag,
    TagType,
    Val,
    ValType,
    WasiConfig,
    __version__,
    wat2wasm,
)

_Mapping.register(InstanceExports)

#: Anything that can stand for a store: a `Store`, or the `Caller` of a
#: running host function.
Storelike = _Union[Store, Caller]

__all__ = [
    "wat2wasm",
    "Config",
    "Engine",
    "Store",
    "Storelike",
    "FuncType",
    "GlobalType",
    "MemoryType",
    "TableType",
    "TagType",
    "ValType",
    "Limits",
    "ImportType",
    "ExportType",
    "Val",
    "Func",
    "Caller",
    "Table",
    "Tag",
    "Memory",
    "Global",
    "Trap",
    "TrapCode",
    "ExitTrap",
    "Frame",
    "Module",
    "Instance",
    "InstanceExports",
    "InstancePre",
    "WasiConfig",
    "DirPerms",
    "FilePerms",
    "Linker",
    "WasmtimeError",
    "StrataError",
]
