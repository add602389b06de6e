#!/usr/bin/env python3
"""Hostile code shapes under the defaults: builds three modules and times
`strata run` on each (whole process: seconds and peak memory, from
/usr/bin/time), with wasmtime and wasmi beside it when installed.

- big_func:   one function of about 7 MB (1,000,000 local updates)
- br_table:   one `br_table` with a million targets
- many_funcs: 100,000 functions, each called once

Usage: benches/hostile.py [STRATA_BINARY]   (default target/release/strata)
Issue 11 asks for each under 3 s and 512 MiB with the defaults.
"""
import os, shutil, subprocess, sys, tempfile

def leb(n, signed=False):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        done = (n == 0 and not b & 0x40) or (n == -1 and b & 0x40) if signed else n == 0
        out.append(b if done else b | 0x80)
        if done:
            return bytes(out)

def vec(items):
    return leb(len(items)) + b"".join(items)

def section(sid, payload):
    return bytes([sid]) + leb(len(payload)) + payload

def module(types, funcs, bodies, export_func):
    """types: list of (params, results) bytes; funcs: type index per function."""
    t = vec([b"\x60" + vec([bytes([p]) for p in ps]) + vec([bytes([r]) for r in rs]) for ps, rs in types])
    f = vec([leb(i) for i in funcs])
    e = vec([leb(3) + b"run" + b"\x00" + leb(export_func)])
    code = vec([leb(len(b)) + b for b in bodies])
    return b"\0asm\x01\0\0\0" + section(1, t) + section(3, f) + section(7, e) + section(10, code)

I32 = 0x7F
def big_func():
    step = b"\x20\x00\x41\x03\x6a\x21\x00"  # local.get 0; i32.const 3; i32.add; local.set 0
    body = vec([leb(1) + bytes([I32])]) + step * 1_000_000 + b"\x20\x00\x0b"
    return module([((), (I32,))], [0], [body], 0)

def br_table():
    n = 1_000_000
    # block; local.get 0; br_table 0*n 0; end; i32.const 7; end
    body = (b"\x00" + b"\x02\x40\x20\x00\x0e" + leb(n) + b"\x00" * n + b"\x00" + b"\x0b"
            + b"\x41\x07\x0b")
    return module([((I32,), (I32,))], [0], [body], 0)

def many_funcs():
    n = 100_000
    small = [b"\x00\x41" + leb(i % 7, signed=True) + b"\x0b" for i in range(n)]
    main = b"\x00\x41\x00" + b"".join(b"\x10" + leb(i) + b"\x6a" for i in range(n)) + b"\x0b"
    return module([((), (I32,))], [0] * (n + 1), small + [main], n)

def measure(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
    secs, kib = r.stderr.strip().splitlines()[-1].split()
    return f"{float(secs):6.2f}s {int(kib) / 1024:7.1f}MiB {'ok' if r.returncode == 0 else 'exit ' + str(r.returncode)}"

def main():
    strata = sys.argv[1] if len(sys.argv) > 1 else "target/release/strata"
    runtimes = [("strata", [strata, "run", "--invoke", "run"])]
    for name, cmd in [("wasmtime", ["wasmtime", "run", "--invoke", "run"]), ("wasmi", ["wasmi", "--invoke", "run"])]:
        if shutil.which(cmd[0]):
            runtimes.append((name, cmd))
    tmp = tempfile.mkdtemp()
    for name, build, args in [("big_func", big_func, []), ("br_table", br_table, ["5"]), ("many_funcs", many_funcs, [])]:
        path = os.path.join(tmp, name + ".wasm")
        with open(path, "wb") as f:
            f.write(build())
        size = os.path.getsize(path) / 1e6
        for rt, cmd in runtimes:
            print(f"{name:<11} {size:5.1f}MB {rt:<9} {measure(cmd + [path] + args)}", flush=True)
    shutil.rmtree(tmp)

if __name__ == "__main__":
    main()
