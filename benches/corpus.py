#!/usr/bin/env python3
"""`strata run` (defaults) against `wasmtime run` (defaults) and `wasmi run`
on the corpus: whole-process time, side by side, with geomeans.

    benches/corpus.py [--runs N] [--strata BIN ...] [--programs P ...]

Programs: the regex app (benches/apps/regex), benches/corpus/*.wasm and the
benches/programs/*.wat that all three runtimes run without extra flags (the
GC and exception programs are left out), each with an argument that makes
a compiled run last roughly 0.02 to 0.2 s, so that both start-up and code
quality count.

Columns, each the best of N rounds (every round runs every command once,
in turn, so the load of a shared machine falls on all alike), wall seconds
and CPU (user + system) seconds of the process and its threads:

- `strata first`: `strata run -C cache-dir=<new empty dir>`: the defaults
  (tiered, cache on) on the first run. Its `strata compile --fill-cache`
  child keeps running after the run, at the lowest priority; it is not
  part of the run's time, and the next command starts once it is done.
- `strata warm`: the defaults with a cache filled before the rounds.
- `wasmtime first` / `wasmtime warm`: `wasmtime run -C cache-config=...`
  with a new empty cache directory / one filled before the rounds (the
  default configuration otherwise: cache on, Cranelift).
- `wasmi`: `wasmi run` (lazy translation, no cache).

The geomeans at the bottom are over the programs every column ran; the
ratio lines are wasmtime's time over Strata's (above 1: Strata faster).
"""

import argparse
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coldstart import timed, wait_for_fill_children, which  # noqa: E402

BENCHES = os.path.dirname(os.path.abspath(__file__))
# label: (file under benches/, --invoke argument or None for `_start`, args)
PROGRAMS = {
    "regex": ("apps/regex/regex.wasm", None, []),
    "nbody": ("corpus/nbody.wasm", "run", ["1000000"]),
    "sha256": ("corpus/sha256.wasm", "run", ["1000"]),
    "mandelbrot": ("corpus/mandelbrot.wasm", "run", ["1000"]),
    "quicksort": ("corpus/quicksort.wasm", "run", ["10"]),
    "fannkuch": ("corpus/fannkuch.wasm", "run", ["9"]),
    "base64": ("corpus/base64.wasm", "run", ["300"]),
    "simd_image": ("corpus/simd_image.wasm", "run", ["100"]),
    "fib": ("programs/fib.wat", "run", ["30"]),
    "collatz": ("programs/collatz.wat", "run", ["300000"]),
    "sieve": ("programs/sieve.wat", "run", ["20"]),
    "matmul": ("programs/matmul.wat", "run", ["200"]),
    "hash": ("programs/hash.wat", "run", ["500"]),
    "simd_matmul": ("programs/simd_matmul.wat", "run", ["256"]),
    "simd_bytes": ("programs/simd_bytes.wat", "run", ["300"]),
}
COLUMNS = [
    ("strata", "first"),
    ("strata", "warm"),
    ("wasmtime", "first"),
    ("wasmtime", "warm"),
    ("wasmi", "first"),
]


def wasmtime_config(directory):
    """A wasmtime cache configuration file whose cache lives in `directory`."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "config.toml")
    with open(path, "w") as f:
        f.write(f'[cache]\ndirectory = "{directory}/cache"\n')
    return path


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strata", default=os.path.join(BENCHES, "..", "target", "release", "strata"))
    parser.add_argument("--programs", nargs="*", default=list(PROGRAMS))
    args = parser.parse_args()
    strata = args.strata
    peers = {"wasmi": which("wasmi"), "wasmtime": which("wasmtime")}
    for name, path in peers.items():
        if not path:
            print(f"note: {name} not found; its column is empty", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="corpus-")
    results = {}  # label -> {(runtime, kind): (wall, cpu)}
    try:
        print(f"{'program':12}" + "".join(f"{r + ' ' + k:>17}" for r, k in COLUMNS), flush=True)
        for label in args.programs:
            file, invoke, prog_args = PROGRAMS[label]
            path = os.path.join(BENCHES, file)
            inv = ["--invoke", invoke] if invoke else []
            commands = {}
            warm_dir = os.path.join(work, f"{label}-strata-warm")
            commands[("strata", "first")] = lambda: [
                strata, "run", "-C", f"cache-dir={tempfile.mkdtemp(dir=work)}", *inv, path, *prog_args
            ]
            commands[("strata", "warm")] = lambda: [strata, "run", "-C", f"cache-dir={warm_dir}", *inv, path, *prog_args]
            timed([strata, "compile", "-C", f"cache-dir={warm_dir}", "--fill-cache", path])
            if peers["wasmtime"]:
                wt = peers["wasmtime"]
                commands[("wasmtime", "first")] = lambda: [
                    wt, "run", "-C", f"cache-config={wasmtime_config(tempfile.mkdtemp(dir=work))}", *inv, path, *prog_args
                ]
                warm = [wt, "run", "-C", f"cache-config={wasmtime_config(os.path.join(work, label + '-wt-warm'))}", *inv, path, *prog_args]
                timed(warm)
                commands[("wasmtime", "warm")] = lambda: warm
            if peers["wasmi"]:
                commands[("wasmi", "first")] = lambda: [peers["wasmi"], "run", *inv, path, *prog_args]
            best = {}
            for _ in range(args.runs):
                for key, make in commands.items():
                    wait_for_fill_children(work)
                    wall, cpu = timed(make())
                    old = best.get(key, (1e9, 1e9))
                    best[key] = (min(old[0], wall), min(old[1], cpu))
            results[label] = best
            cells = "".join(
                f"{best[c][0]:>9.3f}/{best[c][1]:.3f}" if c in best else f"{'-':>17}" for c in COLUMNS
            )
            print(f"{label:12}{cells}", flush=True)
        present = [c for c in COLUMNS if all(c in r for r in results.values())]
        if results and present:
            for i, what in enumerate(["wall", "cpu"]):
                means = {c: geomean([r[c][i] for r in results.values()]) for c in present}
                print(f"{'geomean ' + what:12}" + "".join(
                    f"{means[c]:>17.4f}" if c in means else f"{'-':>17}" for c in COLUMNS))
                for kind in ["first", "warm"]:
                    s, w = ("strata", kind), ("wasmtime", kind)
                    if s in means and w in means:
                        print(f"  {what} {kind}: wasmtime / strata = {means[w] / means[s]:.3f}")
                s, w = ("strata", "first"), ("wasmi", "first")
                if s in means and w in means:
                    print(f"  {what} first: wasmi / strata = {means[w] / means[s]:.3f}")
        load = os.getloadavg()
        print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
