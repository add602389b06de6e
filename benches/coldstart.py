#!/usr/bin/env python3
"""First-run (empty cache) and warm-cache start-up of `strata run` against
`wasmi run` and `wasmtime run`, whole-process time, side by side.

    benches/coldstart.py [--runs N] [--strata BIN ...] [--programs P ...]

Every round runs every command once, in turn (so the load of a shared
machine falls on all of them alike), and each cell is the best of the
rounds: wall seconds / CPU (user + system) seconds of the process and its
threads. `first` runs get a new empty cache directory each time
(`-C cache-dir=...` for Strata, a fresh config for wasmtime; wasmi has no
cache); `warm` runs reuse one filled by a run before the rounds. Strata's
`strata compile --fill-cache` child of a first run keeps running after the
run (at the lowest priority); it is not part of the run's time, and the
next command starts once it is done (`wait_for_fill_children`).

`--strata` may be given several times (e.g. a build before and after a
change); the peers are `wasmi` and `wasmtime` from PATH or ~/.cargo/bin.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

BENCHES = os.path.dirname(os.path.abspath(__file__))
# (label, file under benches/, --invoke argument or None for a command's
# `_start`, program arguments)
PROGRAMS = {
    "regex": ("apps/regex/regex.wasm", None, []),
    "nbody": ("corpus/nbody.wasm", "run", ["1"]),
    "sha256": ("corpus/sha256.wasm", "run", ["1"]),
    "mandelbrot": ("corpus/mandelbrot.wasm", "run", ["1"]),
    "quicksort": ("corpus/quicksort.wasm", "run", ["1"]),
    "fannkuch": ("corpus/fannkuch.wasm", "run", ["3"]),
    "simd_image": ("corpus/simd_image.wasm", "run", ["1"]),
}


def which(name):
    found = shutil.which(name)
    if found:
        return found
    home = os.path.expanduser(f"~/.cargo/bin/{name}")
    return home if os.path.exists(home) else None


def wait_for_fill_children(work, limit=20.0):
    """Waits (at most `limit` seconds) until no `strata compile --fill-cache`
    child of an earlier run, whose cache directory lies under `work`, is
    left. A first run's child compiles the whole module after the run exits
    (about a second of CPU at nice 19); left alone it ran during the next
    commands and made whichever came next look slower (with two `--strata`
    builds, the second: 0.095 s first and 0.114 s second, either order)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"--fill-cache" in cmd and work.encode() in cmd:
                busy = True
                break
        if not busy:
            return
        time.sleep(0.05)


def timed(argv, env=None):
    """(wall, cpu) seconds of one run of argv, output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strata", action="append")
    parser.add_argument("--programs", nargs="*", default=list(PROGRAMS))
    args = parser.parse_args()
    stratas = args.strata or [os.path.join(BENCHES, "..", "target", "release", "strata")]
    wasmi = which("wasmi")
    wasmtime = which("wasmtime")
    work = tempfile.mkdtemp(prefix="coldstart-")
    try:
        for label in args.programs:
            file, invoke, prog_args = PROGRAMS[label]
            path = os.path.join(BENCHES, file)
            inv = ["--invoke", invoke] if invoke else []
            commands = []  # (name, kind, argv maker)
            for i, s in enumerate(stratas):
                name = f"strata{i}" if len(stratas) > 1 else "strata"
                warm_dir = os.path.join(work, f"{name}-warm")
                commands.append(
                    (name, "first", lambda s=s: [s, "run", "-C", f"cache-dir={tempfile.mkdtemp(dir=work)}", *inv, path, *prog_args], None)
                )
                commands.append(
                    (name, "warm", lambda s=s, d=warm_dir: [s, "run", "-C", f"cache-dir={d}", *inv, path, *prog_args], None)
                )
                # Fill the warm cache (the run's compile child fills it).
                timed([s, "compile", "-C", f"cache-dir={warm_dir}", "--fill-cache", path])
            if wasmi:
                commands.append(("wasmi", "first", lambda: [wasmi, "run", *inv, path, *prog_args], None))
            if wasmtime:
                cfg = os.path.join(work, "wasmtime-warm.toml")
                with open(cfg, "w") as f:
                    f.write(f'[cache]\ndirectory = "{work}/wt-warm"\n')

                def wt_first():
                    d = tempfile.mkdtemp(dir=work)
                    c = os.path.join(d, "c.toml")
                    with open(c, "w") as f:
                        f.write(f'[cache]\ndirectory = "{d}/cache"\n')
                    return [wasmtime, "run", "-C", f"cache-config={c}", *inv, path, *prog_args]

                commands.append(("wasmtime", "first", wt_first, None))
                warm = [wasmtime, "run", "-C", f"cache-config={cfg}", *inv, path, *prog_args]
                timed(warm)
                commands.append(("wasmtime", "warm", lambda w=warm: w, None))
            best = {}
            for _ in range(args.runs):
                for name, kind, make, _ in commands:
                    wait_for_fill_children(work)
                    wall, cpu = timed(make())
                    old = best.get((name, kind), (1e9, 1e9))
                    best[(name, kind)] = (min(old[0], wall), min(old[1], cpu))
            cells = "  ".join(
                f"{name} {kind} {w:.3f}/{c:.3f}" for (name, kind), (w, c) in best.items()
            )
            print(f"{label:11} {cells}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
