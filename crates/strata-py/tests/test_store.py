import gc
import weakref

import pytest

from conftest import instantiate
from strata import Engine, Func, FuncType, Store, ValType, WasmtimeError


def test_store_data_and_engine():
    engine = Engine()
    store = Store(engine, data={"k": 1})
    assert store.engine is engine
    assert store.data() == {"k": 1}
    assert Store().data() is None
    assert isinstance(Store().engine, Engine)
    store.gc()
    with pytest.raises(TypeError):
        Store("engine")


def test_modules_need_a_store_of_their_engine(store):
    from strata import Instance, Module

    module = Module(Engine(), "(module)")
    with pytest.raises(WasmtimeError, match="engine"):
        Instance(store, module, [])


def test_cycles_through_host_functions_are_collected(engine):
    store = Store(engine)
    # The host function refers to the store, which owns the host function.
    Func(store, FuncType([], []), lambda: store.data())
    ref = weakref.ref(store)
    del store
    gc.collect()
    assert ref() is None


def test_many_stores_and_instances(engine):
    # Stores are released when dropped (each holds a reserved memory).
    for i in range(200):
        store = Store(engine)
        e = instantiate(store, '(module (memory (export "m") 1) (func (export "f") (result i32) i32.const 3))')
        assert e["f"](store) == 3


def test_wrong_argument_types_never_crash(store):
    e = instantiate(store, '(module (memory (export "m") 1) (global (export "g") (mut i32) (i32.const 0)) (func (export "f") (param i32)))')
    bad = [None, "x", 1.5, [], object(), -1, 1 << 70]
    for value in bad:
        for call in (
            lambda: e["f"](store, value),
            lambda: e["m"].read(store, value),
            lambda: e["m"].grow(store, value),
            lambda: e["g"].set_value(store, value),
            lambda: e["m"].size(value),
            lambda: e["m"].write(store, b"x", value),
            lambda: e["m"].get_buffer_ptr(store, value),
            lambda: store.set_fuel(value),
            lambda: store.set_epoch_deadline(value),
            lambda: store.set_limits(memory_size=value),
            lambda: Func(store, value, lambda: None),
        ):
            try:
                call()
            except (TypeError, ValueError, WasmtimeError):
                pass


def test_close(engine):
    with Store(engine) as store:
        e = instantiate(store, '(module (memory (export "m") 1))')
        assert e["m"].size(store) == 1
    with pytest.raises(ValueError, match="closed"):
        e["m"].size(store)
    with pytest.raises(ValueError, match="closed"):
        store.set_epoch_deadline(1)
    store.close()
    from strata import Module

    with Module(engine, "(module)") as module:
        assert module.exports == []


def test_a_store_cannot_close_itself_from_a_host_function(engine):
    store = Store(engine)
    errors = []

    def host():
        try:
            store.close()
        except WasmtimeError as e:
            errors.append(str(e))

    Func(store, FuncType([], []), host)(store)
    assert errors == ["cannot close a store while it is in use"]
    store.close()
