import math
import threading

import pytest

from conftest import instantiate, make_engine
from strata import (
    Caller,
    Func,
    FuncType,
    Instance,
    Memory,
    Module,
    Store,
    Trap,
    Val,
    ValType,
    WasmtimeError,
)

I32, I64, F32, F64 = ValType.i32(), ValType.i64(), ValType.f32(), ValType.f64()

NUMERIC = """
(module
  (func (export "add32") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "mulf32") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
  (func (export "divf64") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func (export "swap") (param i32 i64) (result i64 i32) local.get 1 local.get 0)
  (func (export "nothing")))
"""


def test_numeric_calls(store):
    e = instantiate(store, NUMERIC)
    assert e["add32"](store, 2, 3) == 5
    assert e["add32"](store, 0x7FFFFFFF, 1) == -0x80000000
    assert e["add32"](store, 0xFFFFFFFF, 0) == -1
    assert e["add64"](store, 1 << 62, 1 << 62) == -(1 << 63)
    assert e["add64"](store, 0xFFFFFFFFFFFFFFFF, 2) == 1
    assert e["mulf32"](store, 1.5, 2) == 3.0
    assert e["mulf32"](store, 0.1, 1.0) == pytest.approx(0.1, rel=1e-7) and e["mulf32"](store, 0.1, 1.0) != 0.1
    assert e["divf64"](store, 1.0, 0.0) == math.inf
    assert math.isnan(e["divf64"](store, 0.0, 0.0))
    assert e["swap"](store, 7, 8) == [8, 7]
    assert e["nothing"](store) is None
    assert e["add32"](store, Val.i32(40), Val.i32(2)) == 42


def test_bad_arguments_raise_type_and_value_errors(store):
    e = instantiate(store, NUMERIC)
    with pytest.raises(WasmtimeError, match="too few parameters provided: given 1, expected 2"):
        e["add32"](store, 1)
    with pytest.raises(WasmtimeError, match="too many parameters"):
        e["add32"](store, 1, 2, 3)
    with pytest.raises(TypeError):
        e["add32"](store, 1.5, 2)
    with pytest.raises(TypeError):
        e["add32"](store, "1", 2)
    with pytest.raises(TypeError):
        e["mulf32"](store, "x", 2.0)
    with pytest.raises(ValueError):
        e["add32"](store, 1 << 32, 0)
    with pytest.raises(ValueError):
        e["add32"](store, -(1 << 31) - 1, 0)
    with pytest.raises(ValueError):
        e["add64"](store, 1 << 64, 0)
    with pytest.raises(TypeError, match="wrong type of `Val`"):
        e["add32"](store, Val.i64(1), 2)
    with pytest.raises(TypeError):
        e["add32"]("not a store", 1, 2)
    with pytest.raises(TypeError):
        Val.i32(1.0)


def test_host_function_values_and_results(store):
    seen = []

    def host(a, b, c, d):
        seen.append((a, b, c, d))
        return [a + 1, b * 2, c / 2, -d]

    ty = FuncType([I32, I64, F32, F64], [I32, I64, F32, F64])
    f = Func(store, ty, host)
    assert f.type(store) == ty
    assert (f.param_arity, f.result_arity) == (4, 4)
    e = instantiate(store, """
      (module
        (import "" "h" (func $h (param i32 i64 f32 f64) (result i32 i64 f32 f64)))
        (func (export "run") (param i32 i64 f32 f64) (result i32 i64 f32 f64)
          local.get 0 local.get 1 local.get 2 local.get 3 call $h))
    """, [f])
    assert e["run"](store, -1, 1 << 40, 3.0, 2.5) == [0, 1 << 41, 1.5, -2.5]
    assert seen == [(-1, 1 << 40, 3.0, 2.5)]
    # The host function can be called directly too.
    assert f(store, 1, 2, 3.0, 4.0) == [2, 4, 1.5, -4.0]


def test_host_function_result_errors_are_raised_at_the_call(store):
    def ret(value):
        return lambda: value

    cases = [
        (FuncType([], []), 5, WasmtimeError),
        (FuncType([], [I32]), "five", TypeError),
        (FuncType([], [I32]), 1 << 40, ValueError),
        (FuncType([], [I32, I32]), [1], WasmtimeError),
        (FuncType([], [I32, I32]), 7, TypeError),
    ]
    for ty, value, error in cases:
        f = Func(store, ty, ret(value))
        with pytest.raises(error):
            f(store)
    assert Func(store, FuncType([], [I32, I64]), ret((1, 2)))(store) == [1, 2]
    assert Func(store, FuncType([], [I32]), ret(Val.i32(9)))(store) == 9


class Custom(Exception):
    pass


def test_python_exceptions_propagate_through_wasm_unchanged(store):
    raised = Custom("from the host")

    def host():
        raise raised

    e = instantiate(store, """
      (module
        (import "" "h" (func $h))
        (func $inner (export "inner") call $h)
        (func (export "outer") call $inner))
    """, [Func(store, FuncType([], []), host)])
    with pytest.raises(Custom) as info:
        e["outer"](store)
    assert info.value is raised
    # Through two levels of wasm with a host function in between.
    outer = e["outer"]

    def reenter():
        outer(store)

    e2 = instantiate(store, """
      (module (import "" "h" (func $h)) (func (export "run") call $h))
    """, [Func(store, FuncType([], []), reenter)])
    with pytest.raises(Custom) as info:
        e2["run"](store)
    assert info.value is raised
    # KeyboardInterrupt is not an Exception, and still propagates.
    def interrupt():
        raise KeyboardInterrupt

    f = Func(store, FuncType([], []), interrupt)
    e3 = instantiate(store, '(module (import "" "h" (func $h)) (func (export "run") call $h))', [f])
    with pytest.raises(KeyboardInterrupt):
        e3["run"](store)
    # A host function may raise Trap on purpose.
    def trap():
        raise Trap("custom trap")

    e4 = instantiate(store, '(module (import "" "h" (func $h)) (func (export "run") call $h))',
                     [Func(store, FuncType([], []), trap)])
    with pytest.raises(Trap, match="custom trap") as info:
        e4["run"](store)
    assert info.value.trap_code is None


def test_caller_reaches_memory_and_exports(store):
    def host(caller, ptr, length):
        assert isinstance(caller, Caller)
        memory = caller["memory"]
        assert caller.get("missing") is None
        with pytest.raises(KeyError):
            caller["missing"]
        text = memory.read(caller, ptr, ptr + length).decode()
        memory.write(caller, text.upper().encode(), ptr)
        # The store object works too while the host function runs.
        assert memory.read(store, ptr, ptr + 1) == text[0].upper().encode()
        caller["counter"].set_value(caller, caller["counter"].value(caller) + 1)
        return length

    f = Func(store, FuncType([I32, I32], [I32]), host, access_caller=True)
    e = instantiate(store, """
      (module
        (import "" "h" (func $h (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (global (export "counter") (mut i32) (i32.const 0))
        (data (i32.const 16) "hello")
        (func (export "run") (result i32) (call $h (i32.const 16) (i32.const 5))))
    """, [f])
    assert e["run"](store) == 5
    assert e["memory"].read(store, 16, 21) == b"HELLO"
    assert e["counter"].value(store) == 1


def test_a_caller_is_invalid_after_its_host_function_returns(store):
    kept = []
    f = Func(store, FuncType([], []), lambda caller: kept.append(caller), access_caller=True)
    e = instantiate(store, '(module (import "" "h" (func $h)) (memory (export "memory") 1) (func (export "run") call $h))', [f])
    e["run"](store)
    (caller,) = kept
    assert caller.get("memory") is None
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["memory"].size(caller)


def test_reentrant_calls_from_host_functions(store):
    module = Module(store.engine, """
      (module
        (import "" "h" (func $h (param i32) (result i32)))
        (func (export "fact") (param i32) (result i32)
          (if (result i32) (i32.le_s (local.get 0) (i32.const 1))
            (then (i32.const 1))
            (else (i32.mul (local.get 0) (call $h (i32.sub (local.get 0) (i32.const 1))))))))
    """)
    exports = {}

    def host(caller, n):
        return exports["fact"](caller, n)

    f = Func(store, FuncType([I32], [I32]), host, access_caller=True)
    exports.update(Instance(store, module, [f]).exports(store).items())
    assert exports["fact"](store, 10) == 3628800


def test_references_round_trip(store):
    e = instantiate(store, """
      (module
        (table (export "t") 2 funcref)
        (func $seven (export "seven") (result i32) i32.const 7)
        (elem (i32.const 0) $seven)
        (func (export "id") (param externref) (result externref) local.get 0)
        (func (export "get") (param i32) (result funcref) (table.get 0 (local.get 0)))
        (func (export "call") (param funcref) (result i32)
          (table.set 0 (i32.const 1) (local.get 0))
          (call_indirect (result i32) (i32.const 1))))
    """)
    obj = {"any": "object"}
    assert e["id"](store, obj) is obj
    assert e["id"](store, None) is None
    assert e["id"](store, Val.externref(obj)) is obj
    seven = e["get"](store, 0)
    assert isinstance(seven, Func) and seven == e["seven"]
    assert seven(store) == 7
    assert e["get"](store, 1) is None
    host = Func(store, FuncType([], [I32]), lambda: 11)
    assert e["call"](store, host) == 11
    with pytest.raises(TypeError):
        e["call"](store, 5)
    other = Store(store.engine)
    foreign = Func(other, FuncType([], [I32]), lambda: 1)
    with pytest.raises(WasmtimeError, match="another store"):
        e["call"](store, foreign)
    with pytest.raises(WasmtimeError, match="another store"):
        e["seven"](other)


def test_val_objects():
    assert Val.i32(0xFFFFFFFF).value == -1
    assert Val.i64(5).type == ValType.i64()
    assert Val.f32(0.1).value != 0.1
    assert Val.f64(0.5).as_f64() == 0.5 and Val.f64(0.5).as_i32() is None
    assert Val.i32(3) == Val.i32(3) and Val.i32(3) != Val.i64(3) and Val.i32(3) == 3
    assert Val.ref_null(ValType.funcref()).value is None
    assert Val.externref("x").as_externref() == "x"
    with pytest.raises(WasmtimeError):
        Val.ref_null(ValType.i32())
    with pytest.raises(TypeError):
        Val.funcref(3)
    assert str(ValType.i32()) == "i32" and repr(ValType.externref()) == "ValType.externref()"
    assert ValType.i32() == ValType.i32() and ValType.i32() != ValType.i64() and ValType.i32() != "i32"
    assert len({ValType.f32(), ValType.f32(), ValType.f64()}) == 2


def test_calls_release_the_gil(tier):
    # A thread spins in wasm until the epoch passes its deadline; the main
    # thread can only bump the epoch if the spinning thread let go of the GIL.
    engine = make_engine(tier, epoch_interruption=True)
    store = Store(engine)
    store.set_epoch_deadline(1)
    e = instantiate(store, '(module (func (export "spin") (loop (br 0))))')
    outcome = []

    def run():
        try:
            e["spin"](store)
        except Trap as t:
            outcome.append(t.trap_code)

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(200):
        engine.increment_epoch()
        thread.join(0.05)
        if not thread.is_alive():
            break
    assert not thread.is_alive()
    assert [c.name for c in outcome] == ["INTERRUPT"]


def test_a_store_running_wasm_refuses_other_threads(tier):
    engine = make_engine(tier)
    store = Store(engine)
    entered = threading.Event()
    release = threading.Event()

    def host():
        entered.set()
        release.wait(10)

    e = instantiate(store, '(module (import "" "h" (func $h)) (memory (export "m") 1) (func (export "run") call $h))',
                    [Func(store, FuncType([], []), host)])
    thread = threading.Thread(target=lambda: e["run"](store))
    thread.start()
    assert entered.wait(10)
    try:
        with pytest.raises(WasmtimeError, match="another thread"):
            e["m"].size(store)
    finally:
        release.set()
        thread.join(10)
    assert e["m"].size(store) == 1


def test_threads_with_their_own_stores_run_side_by_side(engine):
    module = Module(engine, """
      (module
        (import "" "h" (func $h (param i32) (result i32)))
        (func (export "run") (param $n i32) (result i32) (local $acc i32)
          (loop $l
            (local.set $acc (call $h (local.get $acc)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
          local.get $acc))
    """)
    results = {}

    def work(k):
        store = Store(engine)
        f = Func(store, FuncType([I32], [I32]), lambda x: x + k)
        run = Instance(store, module, [f]).exports(store)["run"]
        results[k] = [run(store, 1000) for _ in range(5)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {k: [1000 * k] * 5 for k in range(1, 5)}


def test_unbounded_reentry_is_an_exception_not_a_crash(store):
    module = Module(store.engine, """
      (module (import "" "h" (func $h (param i32)))
              (func (export "f") (param i32) (call $h (i32.add (local.get 0) (i32.const 1)))))
    """)
    exports = {}

    def host(n):
        exports["f"](store, n)

    f = Func(store, FuncType([I32], []), host)
    exports["f"] = Instance(store, module, [f]).exports(store)["f"]
    with pytest.raises((Trap, RecursionError)):
        exports["f"](store, 0)
    # The store is usable afterwards.
    assert Func(store, FuncType([], [I32]), lambda: 1)(store) == 1
