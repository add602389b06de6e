# Generates a ~1 MB wasm module: N functions, each a loop of integer and
# float arithmetic over locals and memory, and an exported `run(i32)->i32`
# that calls a few of them (so a run is short and start-up dominates).
import sys
def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b); return bytes(out)
        out.append(b | 0x80)
def vec(items): return uleb(len(items)) + b"".join(items)
def section(id, body): return bytes([id]) + uleb(len(body)) + body
N = int(sys.argv[1]); out = sys.argv[2]
I32 = 0x7f
types = vec([b"\x60" + vec([bytes([I32])]) + vec([bytes([I32])])])
funcs = vec([uleb(0)] * (N + 1))
mem = vec([b"\x00" + uleb(1)])
exports = vec([vec([b"r", b"u", b"n"])[1:] if False else uleb(3) + b"run" + b"\x00" + uleb(N),
               uleb(6) + b"memory" + b"\x02" + uleb(0)])
bodies = []
for i in range(N):
    c = bytearray()
    # locals: 3 i32
    locals_ = vec([uleb(3) + bytes([I32])])
    # local1 = 0 ; loop: local1 += (param*K ^ i) ; mem[(i*4)&0xfff] = local1 ; param-- ; br_if param
    c += b"\x02\x40"  # block
    c += b"\x03\x40"  # loop
    for k in range(12):
        c += b"\x20\x01"            # local.get 1
        c += b"\x20\x00" + b"\x41" + sleb(i * 7 + k) + b"\x6c"  # param * K
        c += b"\x41" + sleb(k + 3) + b"\x73"  # xor
        c += b"\x6a"                 # add
        c += b"\x21\x01"             # local.set 1
        c += b"\x41" + sleb((i * 4 + k * 8) & 0xffc) + b"\x20\x01" + b"\x36\x02\x00"  # i32.store
    c += b"\x20\x00\x41\x01\x6b\x22\x00"  # param - 1, local.tee 0
    c += b"\x45\x0d\x01"   # i32.eqz br_if 1 (exit block)
    c += b"\x0c\x00"       # br 0 (loop)
    c += b"\x0b\x0b"       # end loop, end block
    if i + 1 < N and i % 50 == 0:
        c += b"\x20\x01\x20\x01\x10" + uleb(i + 1) + b"\x6a"  # local.get1 + call(i+1)(local1)
    else:
        c += b"\x20\x01"
    c += b"\x0b"
    body = locals_ + bytes(c)
    bodies.append(uleb(len(body)) + body)
# run: sum of f_0 .. f_{N-1} step 97 with param
c = bytearray(b"\x41\x00")
for j in range(0, N, 97):
    c += b"\x20\x00\x10" + uleb(j) + b"\x6a"
c += b"\x0b"
body = vec([]) + bytes(c)
bodies.append(uleb(len(body)) + body)
code = vec(bodies)
wasm = b"\x00asm\x01\x00\x00\x00" + section(1, types) + section(3, funcs) + section(5, mem) + section(7, exports) + section(10, code)
open(out, "wb").write(wasm)
print(len(wasm))
