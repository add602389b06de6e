import ctypes

import pytest

from conftest import instantiate
from strata import (
    Func,
    FuncType,
    Global,
    GlobalType,
    Limits,
    Memory,
    MemoryType,
    Store,
    Table,
    TableType,
    ValType,
    WasmtimeError,
)

MEMORY = """
(module
  (memory (export "memory") 2 3)
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (data (i32.const 0x1000) "\\01\\02\\03\\04"))
"""


def test_memory_read_write_and_grow(store):
    e = instantiate(store, MEMORY)
    memory = e["memory"]
    assert isinstance(memory, Memory)
    assert memory.size(store) == 2
    assert memory.data_len(store) == 0x20000
    assert memory.type(store).limits == Limits(2, 3)
    assert memory.read(store, 0x1000, 0x1004) == bytearray(b"\x01\x02\x03\x04")
    assert memory.read(store, -2) == bytearray(2)
    assert memory.read(store, 5, 2) == bytearray()
    assert len(memory.read(store)) == 0x20000
    assert memory.write(store, b"\x09\x08", 0x1002) == 2
    assert e["load"](store, 0x1002) == 9
    e["store"](store, 0x10, 77)
    assert memory.read(store, 0x10, 0x11) == b"M"
    assert memory.write(store, bytearray(b"ab")) == 2
    assert memory.write(store, memoryview(b"z"), -1) == 1
    assert memory.read(store, -1) == b"z"
    with pytest.raises(IndexError):
        memory.write(store, b"xy", 0x20000 - 1)
    with pytest.raises(IndexError):
        memory.write(store, b"x", -0x20001)
    with pytest.raises(TypeError):
        memory.write(store, 12345.0)
    assert memory.grow(store, 1) == 2
    assert memory.size(store) == 3 and memory.data_len(store) == 0x30000
    e["store"](store, 0x2FFFF, 1)
    with pytest.raises(WasmtimeError):
        memory.grow(store, 1)
    with pytest.raises(WasmtimeError, match="negative"):
        memory.grow(store, -1)
    assert memory.grow(store, 0) == 3


def test_memory_raw_pointers(store):
    e = instantiate(store, MEMORY)
    memory = e["memory"]
    ptr = memory.data_ptr(store)
    assert ptr[0x1000] == 1 and ptr[0x1003] == 4
    ptr[0x1003] = 5
    assert e["load"](store, 0x1003) == 5
    buf = memory.get_buffer_ptr(store, 4, 0x1000)
    assert bytes(buf) == b"\x01\x02\x03\x05"
    assert len(memory.get_buffer_ptr(store)) == 0x20000
    with pytest.raises(ValueError):
        memory.get_buffer_ptr(store, 16, 0x20000 - 8)
    assert isinstance(ptr, ctypes.POINTER(ctypes.c_ubyte))


def test_host_memory(store):
    memory = Memory(store, MemoryType(Limits(1, 2)))
    assert memory.size(store) == 1
    assert memory.type(store).limits == Limits(1, 2)
    e = instantiate(store, '(module (import "" "m" (memory 1)) (func (export "size") (result i32) memory.size))', [memory])
    assert e["size"](store) == 1
    memory.grow(store, 1)
    assert e["size"](store) == 2
    with pytest.raises(WasmtimeError):
        Memory(store, MemoryType(Limits(1), is_64=True))
    with pytest.raises(WasmtimeError, match="too large"):
        MemoryType(Limits(1 << 32))
    with pytest.raises(WasmtimeError):
        Memory(store, MemoryType(Limits(70000)))
    with pytest.raises(TypeError):
        Memory(store, Limits(1))


def test_globals(store):
    e = instantiate(store, """
      (module
        (global (export "c") f64 (f64.const 2.5))
        (global (export "v") (mut i64) (i64.const -3))
        (func (export "get") (result i64) global.get 1))
    """)
    c, v = e["c"], e["v"]
    assert c.value(store) == 2.5
    assert c.type(store) == GlobalType(ValType.f64(), False)
    with pytest.raises(WasmtimeError):
        c.set_value(store, 1.0)
    v.set_value(store, 1 << 40)
    assert e["get"](store) == 1 << 40
    assert v.value(store) == 1 << 40
    with pytest.raises(TypeError):
        v.set_value(store, "x")
    host = Global(store, GlobalType(ValType.i32(), True), 5)
    e2 = instantiate(store, '(module (import "" "g" (global (mut i32))) (func (export "inc") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))', [host])
    e2["inc"](store)
    assert host.value(store) == 6
    ref = Global(store, GlobalType(ValType.externref(), True), None)
    assert ref.value(store) is None
    ref.set_value(store, [1, 2])
    assert ref.value(store) == [1, 2]
    with pytest.raises(TypeError):
        Global(store, GlobalType(ValType.i32(), False), None)


def test_tables(store):
    e = instantiate(store, """
      (module
        (table (export "t") 2 10 funcref)
        (func $f (export "f") (result i32) i32.const 3)
        (elem (i32.const 1) $f)
        (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))
    """)
    t = e["t"]
    assert t.size(store) == 2
    assert t.type(store) == TableType(ValType.funcref(), Limits(2, 10))
    assert t.get(store, 0) is None
    assert t.get(store, 1) == e["f"]
    assert t.get(store, 99) is None
    host = Func(store, FuncType([], [ValType.i32()]), lambda: 8)
    t.set(store, 0, host)
    assert e["call"](store, 0) == 8
    with pytest.raises(WasmtimeError):
        t.set(store, 5, host)
    assert t.grow(store, 3, e["f"]) == 2
    assert t.size(store) == 5 and e["call"](store, 4) == 3
    with pytest.raises(WasmtimeError):
        t.grow(store, 100, None)
    with pytest.raises(TypeError):
        t.set(store, 0, "not a function")
    ext = Table(store, TableType(ValType.externref(), Limits(2)), "init")
    assert ext.get(store, 1) == "init"
    ext.set(store, 0, None)
    assert ext.get(store, 0) is None
    with pytest.raises(WasmtimeError):
        TableType(ValType.i32(), Limits(1))


def test_handles_check_their_store(store):
    e = instantiate(store, MEMORY)
    other = Store(store.engine)
    with pytest.raises(WasmtimeError, match="another store"):
        e["memory"].size(other)
    with pytest.raises(WasmtimeError, match="another store"):
        instantiate(other, '(module (import "" "m" (memory 1)))', [e["memory"]])
    with pytest.raises(TypeError):
        e["memory"].size(None)
