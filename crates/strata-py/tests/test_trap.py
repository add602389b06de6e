import pytest

from conftest import instantiate, make_engine
from strata import (
    Config,
    Engine,
    Frame,
    Func,
    FuncType,
    Module,
    Store,
    Trap,
    TrapCode,
    WasmtimeError,
)

TRAPS = """
(module $traps
  (memory 1)
  (table 1 funcref)
  (type $t (func (result i32)))
  (func $unreachable (export "unreachable") unreachable)
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (func (export "div0") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "conversion") (result i32) (i32.trunc_f64_s (f64.const nan)))
  (func (export "null") (result i32) (call_indirect (type $t) (i32.const 0)))
  (func (export "table_oob") (result i32) (call_indirect (type $t) (i32.const 5)))
  (func $recurse (export "recurse") (call $recurse))
  (func $middle (export "nested") call $unreachable))
"""

CODES = {
    "unreachable": TrapCode.UNREACHABLE,
    "oob": TrapCode.MEMORY_OUT_OF_BOUNDS,
    "div0": TrapCode.INTEGER_DIVISION_BY_ZERO,
    "overflow": TrapCode.INTEGER_OVERFLOW,
    "conversion": TrapCode.BAD_CONVERSION_TO_INTEGER,
    "null": TrapCode.INDIRECT_CALL_TO_NULL,
    "table_oob": TrapCode.TABLE_OUT_OF_BOUNDS,
    "recurse": TrapCode.STACK_OVERFLOW,
}


def test_trap_codes(store):
    e = instantiate(store, TRAPS)
    for name, code in CODES.items():
        with pytest.raises(Trap) as info:
            e[name](store)
        assert info.value.trap_code == code, name
        assert isinstance(info.value, Exception) and not isinstance(info.value, WasmtimeError)
    # The store stays usable after traps.
    with pytest.raises(Trap):
        e["oob"](store)


def test_trap_frames_and_message(store):
    e = instantiate(store, TRAPS)
    with pytest.raises(Trap) as info:
        e["nested"](store)
    trap = info.value
    frames = trap.frames
    assert [f.func_index for f in frames] == [0, 8]
    assert [f.func_name for f in frames] == ["unreachable", "middle"]
    assert all(isinstance(f, Frame) and f.module_name == "traps" for f in frames)
    assert "unreachable" in trap.message and "traps!middle" in str(trap)
    assert Trap("x").message == "x" and Trap("x").frames == [] and Trap("x").trap_code is None


def test_fuel(tier):
    engine = make_engine(tier, consume_fuel=True)
    store = Store(engine)
    assert store.get_fuel() == 0
    e = instantiate(store, """
      (module
        (func (export "spin") (loop (br 0)))
        (func (export "work") (param i32) (result i32)
          (local i32)
          (loop
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
          local.get 1))
    """)
    with pytest.raises(Trap) as info:
        e["work"](store, 10)
    assert info.value.trap_code == TrapCode.OUT_OF_FUEL
    store.set_fuel(10_000)
    assert e["work"](store, 100) == 100
    left = store.get_fuel()
    assert 0 < left < 10_000
    with pytest.raises(Trap) as info:
        e["spin"](store)
    assert info.value.trap_code == TrapCode.OUT_OF_FUEL
    assert store.get_fuel() == 0
    unfuelled = Store(make_engine(tier))
    with pytest.raises(WasmtimeError, match="fuel"):
        unfuelled.set_fuel(1)
    with pytest.raises(WasmtimeError, match="fuel"):
        unfuelled.get_fuel()


def test_epoch_deadline(tier):
    engine = make_engine(tier, epoch_interruption=True)
    store = Store(engine)
    e = instantiate(store, '(module (func (export "f") (result i32) i32.const 1))')
    store.set_epoch_deadline(1)
    assert e["f"](store) == 1
    engine.increment_epoch()
    with pytest.raises(Trap) as info:
        e["f"](store)
    assert info.value.trap_code == TrapCode.INTERRUPT


def test_limits(store):
    store.set_limits(memory_size=2 * 65536)
    e = instantiate(store, """
      (module (memory (export "m") 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
    """)
    assert e["grow"](store, 1) == 1
    assert e["grow"](store, 1) == -1
    with pytest.raises(WasmtimeError):
        e["m"].grow(store, 1)
    with pytest.raises(WasmtimeError, match="exceeds memory limits"):
        instantiate(store, "(module (memory 3))")
    store.set_limits(instances=0)
    with pytest.raises(WasmtimeError, match="instance"):
        instantiate(store, "(module)")
    store.set_limits()
    instantiate(store, "(module (memory 3))")


def test_start_function_traps_raise_trap(store):
    module = Module(store.engine, "(module (func $s unreachable) (start $s))")
    from strata import Instance, Linker

    with pytest.raises(Trap) as info:
        Instance(store, module, [])
    assert info.value.trap_code == TrapCode.UNREACHABLE
    with pytest.raises(Trap):
        Linker(store.engine).instantiate(store, module)


def test_uncaught_exception_raises_a_clear_error(tier):
    engine = make_engine(tier, wasm_exceptions=True)
    store = Store(engine)
    e = instantiate(
        store,
        # No tag export: the message names the tag by its index.
        """(module (tag $e (param i32))
             (func (export "throw") (param i32) (throw $e (local.get 0)))
             (func (export "catch") (param i32) (result i32)
               (block $h (result i32)
                 (try_table (catch $e $h) (call 0 (local.get 0)))
                 (i32.const -1))))""",
    )
    assert e["catch"](store, 4) == 4
    with pytest.raises(WasmtimeError) as info:
        e["throw"](store, 7)
    assert not isinstance(info.value, Trap)
    message = str(info.value)
    assert "uncaught WebAssembly exception" in message, message
    assert "tag 0 with payload (i32 7)" in message, message
    # The store stays usable.
    assert e["catch"](store, 5) == 5
