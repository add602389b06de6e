import pytest

from strata import (
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Linker,
    Module,
    Store,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()

USER = """
(module
  (import "host" "double" (func $double (param i32) (result i32)))
  (import "host" "base" (global $base i32))
  (func (export "run") (param i32) (result i32)
    (i32.add (call $double (local.get 0)) (global.get $base))))
"""


def test_define_func_and_define(store):
    linker = Linker(store.engine)
    linker.define_func("host", "double", FuncType([I32], [I32]), lambda x: 2 * x)
    linker.define(store, "host", "base", Global(store, GlobalType(I32, False), 100))
    instance = linker.instantiate(store, Module(store.engine, USER))
    assert isinstance(instance, Instance)
    assert instance.exports(store)["run"](store, 21) == 142


def test_linker_host_functions_work_in_every_store(engine):
    linker = Linker(engine)
    calls = []

    def double(caller, x):
        calls.append(x)
        return 2 * x

    linker.define_func("host", "double", FuncType([I32], [I32]), double, access_caller=True)
    module = Module(engine, USER.replace('(import "host" "base" (global $base i32))', "(global $base i32 (i32.const 0))"))
    for n in range(3):
        store = Store(engine)
        assert linker.instantiate(store, module).exports(store)["run"](store, n) == 2 * n
    assert calls == [0, 1, 2]


def test_missing_and_mistyped_imports(store):
    linker = Linker(store.engine)
    module = Module(store.engine, USER)
    with pytest.raises(WasmtimeError, match="unknown import: `host::double` has not been defined"):
        linker.instantiate(store, module)
    linker.define_func("host", "double", FuncType([], []), lambda: None)
    linker.define(store, "host", "base", Global(store, GlobalType(I32, False), 1))
    with pytest.raises(WasmtimeError, match="incompatible import type for `host::double`"):
        linker.instantiate(store, module)


def test_shadowing(store):
    linker = Linker(store.engine)
    ty = FuncType([], [I32])
    linker.define_func("m", "f", ty, lambda: 1)
    with pytest.raises(WasmtimeError, match="defined twice"):
        linker.define_func("m", "f", ty, lambda: 2)
    linker.allow_shadowing = True
    linker.define_func("m", "f", ty, lambda: 2)
    assert linker.get(store, "m", "f")(store) == 2
    with pytest.raises(WasmtimeError, match="not defined"):
        linker.get(store, "m", "g")


def test_instances_and_modules_by_name(store):
    linker = Linker(store.engine)
    provider = Module(store.engine, """
      (module
        (global $count (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $count (i32.const 10)))
        (func (export "next") (result i32)
          (global.set $count (i32.add (global.get $count) (i32.const 1)))
          global.get $count))
    """)
    consumer = Module(store.engine, """
      (module (import "provider" "next" (func $next (result i32)))
              (func (export "twice") (result i32) (i32.add (call $next) (call $next))))
    """)
    linker.define_module(store, "provider", provider)
    instance = linker.instantiate(store, consumer)
    assert instance.exports(store)["twice"](store) == 11 + 12
    other = Linker(store.engine)
    first = other.instantiate(store, provider)
    other.define_instance(store, "provider", first)
    assert other.instantiate(store, consumer).exports(store)["twice"](store) == 1 + 2


def test_get_default(store):
    linker = Linker(store.engine)
    command = Module(store.engine, '(module (global (export "ran") (mut i32) (i32.const 0)) (func (export "_start") (global.set 0 (i32.const 1))))')
    linker.define_instance(store, "cmd", Instance(store, command, []))
    start = linker.get_default(store, "cmd")
    start(store)
    assert linker.get(store, "cmd", "ran").value(store) == 1
    noop = linker.get_default(store, "nothing")
    assert isinstance(noop, Func) and noop(store) is None


def test_store_items_stay_in_their_store(store):
    linker = Linker(store.engine)
    linker.define_func("host", "double", FuncType([I32], [I32]), lambda x: x)
    linker.define(store, "host", "base", Global(store, GlobalType(I32, False), 1))
    other = Store(store.engine)
    with pytest.raises(WasmtimeError, match="another store"):
        linker.instantiate(other, Module(store.engine, USER))
    with pytest.raises(WasmtimeError, match="another store"):
        linker.get(other, "host", "base")
    with pytest.raises(WasmtimeError, match="another store"):
        linker.define(other, "x", "y", Global(store, GlobalType(I32, False), 1))
    with pytest.raises(TypeError):
        linker.define(store, "x", "y", 5)
    with pytest.raises(TypeError):
        linker.define_func("x", "y", "not a type", lambda: None)
    with pytest.raises(TypeError):
        Linker("not an engine")


def test_unknown_imports_as_traps_and_default_values(store):
    module = Module(store.engine, """
      (module
        (import "env" "known" (func $known (result i32)))
        (import "env" "missing" (func $missing (param i32) (result i32 f64)))
        (func (export "known") (result i32) call $known)
        (func (export "missing") (result i32 f64) (call $missing (i32.const 1))))
    """)
    traps = Linker(store.engine)
    traps.define_func("env", "known", FuncType([], [I32]), lambda: 5)
    traps.define_unknown_imports_as_traps(module)
    exports = traps.instantiate(store, module).exports(store)
    assert exports["known"](store) == 5
    with pytest.raises(WasmtimeError, match="unknown import: `env::missing` has not been defined"):
        exports["missing"](store)
    defaults = Linker(store.engine)
    defaults.define_func("env", "known", FuncType([], [I32]), lambda: 6)
    defaults.define_unknown_imports_as_default_values(store, module)
    exports = defaults.instantiate(store, module).exports(store)
    assert exports["known"](store) == 6
    assert exports["missing"](store) == [0, 0.0]
    with pytest.raises(TypeError):
        defaults.define_unknown_imports_as_traps("not a module")


def test_instantiate_pre(engine):
    module = Module(engine, '(module (import "env" "f" (func (result i32))) (func (export "g") (result i32) call 0))')
    linker = Linker(engine)
    with pytest.raises(WasmtimeError, match="env::f"):
        linker.instantiate_pre(module)
    linker.define_func("env", "f", FuncType([], [I32]), lambda: 9)
    pre = linker.instantiate_pre(module)
    for _ in range(2):
        store = Store(engine)
        assert pre.instantiate(store).exports(store)["g"](store) == 9
