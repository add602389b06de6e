"""A script written for wasmtime-py, run against Strata.

Apart from its first statement (`import wasmtime` there), this is plain
wasmtime-py code in the style of wasmtime-py's examples: host functions,
memory, globals, traps, fuel, WASI with a file as standard output and an
exit code, a module that fails to validate, and a missing import. It
prints what it does and ends with "all checks passed".

Run it with `python crates/strata-py/examples/wasmtime_script.py`; with
the first statement changed back to `import wasmtime` it runs the same
under wasmtime-py.
"""

import strata as wasmtime  # the only change: `import wasmtime` in wasmtime-py

import os
import tempfile

# --- Host functions, memory and globals -------------------------------------

GUEST = """
(module
  (import "host" "log" (func $log (param i32 i32)))
  (import "host" "scale" (global $scale i32))
  (import "host" "sum" (func $sum (param i32 i32) (result i32 i64)))
  (memory (export "memory") 1 4)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (data (i32.const 16) "Hello, Python!")
  (func (export "greet")
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (call $log (i32.const 16) (i32.const 14)))
  (func (export "scaled") (param i32) (result i32)
    (i32.mul (local.get 0) (global.get $scale)))
  (func (export "sum") (param i32 i32) (result i32 i64)
    (call $sum (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "fail") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then unreachable))
    (i32.div_u (i32.const 100) (local.get 0))))
"""

engine = wasmtime.Engine()
store = wasmtime.Store(engine)
module = wasmtime.Module(engine, GUEST)
print("imports:", [(i.module, i.name) for i in module.imports])

logged = []


def log(caller, ptr, length):
    memory = caller["memory"]
    logged.append(memory.read(caller, ptr, ptr + length).decode("utf-8"))


def host_sum(a, b):
    return [a + b, a * b]


linker = wasmtime.Linker(engine)
linker.define_func("host", "log", wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()], []), log, access_caller=True)
linker.define(store, "host", "scale", wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), 3))
sum_type = wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()], [wasmtime.ValType.i32(), wasmtime.ValType.i64()])
linker.define(store, "host", "sum", wasmtime.Func(store, sum_type, host_sum))
instance = linker.instantiate(store, module)
exports = instance.exports(store)

exports["greet"](store)
exports["greet"](store)
print("logged:", logged)
assert logged == ["Hello, Python!", "Hello, Python!"]
assert exports["calls"].value(store) == 2
exports["calls"].set_value(store, 40)
assert exports["calls"].value(store) == 40
assert exports["scaled"](store, 14) == 42
assert exports["sum"](store, 6, 7) == [13, 42]

memory = exports["memory"]
assert memory.size(store) == 1
assert memory.data_len(store) == 65536
memory.write(store, b"\x2a", 1000)
assert exports["load"](store, 1000) == 42
assert memory.data_ptr(store)[1000] == 42
assert memory.grow(store, 2) == 1
assert memory.size(store) == 3
assert exports["load"](store, 3 * 65536 - 1) == 0
print("memory and globals: ok")

# --- Traps --------------------------------------------------------------------

assert exports["fail"](store, 4) == 25
try:
    exports["fail"](store, 0)
    raise AssertionError("expected a trap")
except wasmtime.Trap as trap:
    print("trap:", trap.trap_code, "frames:", len(trap.frames))
    assert trap.trap_code == wasmtime.TrapCode.UNREACHABLE
    assert len(trap.frames) >= 1
try:
    exports["load"](store, 10 * 65536)
    raise AssertionError("expected a trap")
except wasmtime.Trap as trap:
    assert trap.trap_code == wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS


class HostFailure(Exception):
    pass


def failing(caller, ptr, length):
    raise HostFailure("raised in Python")


failing_linker = wasmtime.Linker(engine)
failing_linker.allow_shadowing = True
failing_linker.define_func("host", "log", wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()], []), failing, access_caller=True)
failing_linker.define(store, "host", "scale", wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), 1))
failing_linker.define(store, "host", "sum", wasmtime.Func(store, sum_type, host_sum))
try:
    failing_linker.instantiate(store, module).exports(store)["greet"](store)
    raise AssertionError("expected HostFailure")
except HostFailure as e:
    print("host exception came back:", repr(e))

# --- Fuel ---------------------------------------------------------------------

config = wasmtime.Config()
config.consume_fuel = True
fuel_engine = wasmtime.Engine(config)
fuel_store = wasmtime.Store(fuel_engine)
spin = wasmtime.Instance(fuel_store, wasmtime.Module(fuel_engine, """
  (module (func (export "spin") (param i32)
    (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))
"""), []).exports(fuel_store)["spin"]
fuel_store.set_fuel(10_000)
spin(fuel_store, 10)
left = fuel_store.get_fuel()
assert 0 < left < 10_000
try:
    spin(fuel_store, 1_000_000)
    raise AssertionError("expected to run out of fuel")
except wasmtime.Trap as trap:
    assert trap.trap_code == wasmtime.TrapCode.OUT_OF_FUEL
print("fuel: ok (%d left after the first call)" % left)

# --- WASI: standard output to a file, and an exit code ------------------------

WASI_GUEST = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from WASI\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
    (call $proc_exit (i32.const 3))))
"""

with tempfile.TemporaryDirectory() as tmp:
    out_path = os.path.join(tmp, "stdout.txt")
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["guest"]
    wasi.stdout_file = out_path
    wasi_linker = wasmtime.Linker(engine)
    wasi_linker.define_wasi()
    wasi_store = wasmtime.Store(engine)
    wasi_store.set_wasi(wasi)
    wasi_instance = wasi_linker.instantiate(wasi_store, wasmtime.Module(engine, WASI_GUEST))
    try:
        wasi_instance.exports(wasi_store)["_start"](wasi_store)
        raise AssertionError("expected the guest to exit")
    except wasmtime.ExitTrap as exit_trap:
        print("guest exited with", exit_trap.code)
        assert exit_trap.code == 3
    with open(out_path) as f:
        written = f.read()
    print("guest wrote:", repr(written))
    assert written == "hello from WASI\n"

# --- A module that fails to validate, and a missing import --------------------

try:
    wasmtime.Module(engine, "(module (func (result i32) (i64.const 1)))")
    raise AssertionError("expected a validation error")
except wasmtime.WasmtimeError as e:
    print("invalid module:", str(e).splitlines()[0])
try:
    wasmtime.Module.validate(engine, wasmtime.wat2wasm("(module (func (result i32) (i64.const 1)))"))
    raise AssertionError("expected a validation error")
except wasmtime.WasmtimeError:
    pass

needs_import = wasmtime.Module(engine, '(module (import "env" "missing" (func)))')
try:
    wasmtime.Linker(engine).instantiate(wasmtime.Store(engine), needs_import)
    raise AssertionError("expected a missing import error")
except wasmtime.WasmtimeError as e:
    print("missing import:", str(e).splitlines()[0])
    assert "unknown import" in str(e) and "env::missing" in str(e)

print("all checks passed")
