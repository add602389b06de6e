"""Call overhead between Python and wasm: Strata next to wasmtime-py.

    python crates/strata-py/benches/call_overhead.py

Measures, in microseconds per call (best of several runs):

- host-to-wasm: Python calling a trivial export, `nop()` and `add(i32, i32)`;
- wasm-to-host: wasm calling a trivial Python host function in a loop
  (`() -> ()` and `(i32) -> i32`), minus the same loop without the call.

Strata runs in both tiers ("auto" is the JIT). wasmtime-py is measured when
it is installed (`pip install wasmtime`); it is never needed otherwise.
This is a benchmark, not a test: the numbers depend on the machine.
"""

import importlib
import sys
import timeit

WAT = """
(module
  (import "host" "nop" (func $nop))
  (import "host" "inc" (func $inc (param i32) (result i32)))
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "loop_nop") (param $n i32)
    (loop $l (call $nop) (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "loop_inc") (param $n i32) (local $acc i32)
    (loop $l
      (local.set $acc (call $inc (local.get $acc)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "loop_empty") (param $n i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
"""

CALLS = 200_000
LOOP = 200_000
REPEAT = 5


def best_us(fn, number):
    """Microseconds per call of `fn`, best of REPEAT runs of `number` calls."""
    return min(timeit.repeat(fn, number=number, repeat=REPEAT)) / number * 1e6


def measure(rt, strategy=None):
    config = rt.Config()
    if strategy is not None:
        config.strategy = strategy
    engine = rt.Engine(config)
    store = rt.Store(engine)
    i32 = rt.ValType.i32()
    linker = rt.Linker(engine)
    linker.define_func("host", "nop", rt.FuncType([], []), lambda: None)
    linker.define_func("host", "inc", rt.FuncType([i32], [i32]), lambda x: x + 1)
    exports = linker.instantiate(store, rt.Module(engine, WAT)).exports(store)
    nop, add = exports["nop"], exports["add"]
    loop_nop, loop_inc, loop_empty = exports["loop_nop"], exports["loop_inc"], exports["loop_empty"]
    result = {}
    result["py->wasm nop()"] = best_us(lambda: nop(store), CALLS)
    result["py->wasm add(i32, i32)"] = best_us(lambda: add(store, 1, 2), CALLS)
    base = min(timeit.repeat(lambda: loop_empty(store, LOOP), number=1, repeat=REPEAT))
    for name, fn in (("wasm->py nop()", loop_nop), ("wasm->py inc(i32)", loop_inc)):
        total = min(timeit.repeat(lambda: fn(store, LOOP), number=1, repeat=REPEAT))
        result[name] = (total - base) / LOOP * 1e6
    return result


def main():
    columns = []
    strata = importlib.import_module("strata")
    columns.append(("strata jit", measure(strata, "auto")))
    columns.append(("strata interp", measure(strata, "interp")))
    try:
        wasmtime = importlib.import_module("wasmtime")
    except ImportError:
        print("(wasmtime-py is not installed: `pip install wasmtime` to compare)", file=sys.stderr)
    else:
        from importlib.metadata import version

        columns.append(("wasmtime-py " + version("wasmtime"), measure(wasmtime)))
    rows = list(columns[0][1])
    width = max(len(r) for r in rows)
    print("us per call".ljust(width), *("%16s" % name for name, _ in columns))
    for row in rows:
        print(row.ljust(width), *("%16.3f" % col[row] for _, col in columns))


if __name__ == "__main__":
    main()
