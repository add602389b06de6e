#!/usr/bin/env bash
# Code quality benchmark: Strata's compiled code against wasmtime's, both
# compiled ahead of time so that compile time does not count:
#   strata compile X -o x.cwasm;   strata run --allow-precompiled --invoke run x.cwasm N
#   wasmtime compile X -o x.cwasm; wasmtime run --allow-precompiled --invoke run x.cwasm N
# (cargo install wasmtime-cli --locked --version 48.0.8). For each program:
# the best wall time of AOT_RUNS runs (default 5) of each, their ratio
# (wasmtime's time / Strata's: above 1 means Strata is faster) and the
# instructions of one run of each (steadier than times on a loaded
# machine; AOT_INSN=n skips them). STRATA_CLI picks another
# strata binary (to compare two builds). Arguments, if given, replace the
# program list: "FILE ARG [SMALL]" each, SMALL the argument of the counted
# run (default ARG; callgrind needs a smaller one).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${STRATA_CLI:-}" ]]; then
    cargo build --release -q -p strata-cli
    STRATA_CLI="$PWD/target/release/strata"
fi
strata="$STRATA_CLI"
wasmtime="$(command -v wasmtime)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${AOT_RUNS:-5}"
programs=(
  "benches/programs/sieve.wat 300 20" "benches/programs/hash.wat 4000 200"
  "benches/corpus/base64.wasm 30000 2000" "benches/programs/matmul.wat 400 150"
  "benches/corpus/sha256.wasm 3000 200" "benches/corpus/mandelbrot.wasm 300 20"
  "benches/programs/fib.wat 36 27"
)
[[ $# -gt 0 ]] && programs=("$@")
# Best wall time in seconds of `runs` runs of the command.
best() {
  python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t
    best = t if best is None else min(best, t)
print("%.3f" % best)
PY
}
# User-space instructions of one run of each artifact, in millions: from
# perf where the CPU's counters are available, else from callgrind (about
# 50 times slower than a run; its CPU lacks some of the host's features,
# so the artifacts it runs are compiled under valgrind too).
perf_ok() { perf stat -x, -e instructions:u true 2>&1 | grep -q '^[0-9]'; }
instructions() {
  if perf_ok; then
    perf stat -x, -e instructions:u -o "$work/perf" "$@" >/dev/null 2>&1
    awk -F, '/instructions/ { printf "%.0f", $1 / 1e6 }' "$work/perf"
  else
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      awk '/Collected/ { printf "%.0f", $4 / 1e6 }'
  fi
}
insn() {
  local runtime="$1" out="$2" file="$3" arg="$4"
  if [[ "${AOT_INSN:-y}" == n ]] || { ! perf_ok && ! command -v valgrind >/dev/null; }; then
    echo -
    return
  fi
  if perf_ok; then
    instructions "$runtime" run --allow-precompiled --invoke run "$out" "$arg"
  else
    local extra=()
    [[ "$runtime" == "$strata" ]] && extra=(-C cache=n)
    valgrind --tool=none -q "$runtime" compile "${extra[@]}" "$file" -o "$out.vg" >/dev/null 2>&1
    instructions "$runtime" run --allow-precompiled --invoke run "$out.vg" "$arg"
  fi
}
printf "%-18s %9s %9s %7s %11s %11s\n" program strata wasmtime ratio strata-Minsn wt-Minsn
for p in "${programs[@]}"; do
  set -- $p
  file="$1" arg="$2" small="${3:-$2}"
  "$strata" compile -C cache=n "$file" -o "$work/s.cwasm"
  "$wasmtime" compile "$file" -o "$work/w.cwasm"
  s=(run --allow-precompiled --invoke run "$work/s.cwasm" "$arg")
  w=(run --allow-precompiled --invoke run "$work/w.cwasm" "$arg")
  # Same results, or the comparison means nothing.
  rs=$("$strata" "${s[@]}" 2>&1) || { echo "$file: strata failed: $rs" >&2; exit 1; }
  rw=$("$wasmtime" "${w[@]}" 2>/dev/null) || { echo "$file: wasmtime failed" >&2; exit 1; }
  [[ "$rs" == "$rw" ]] || { echo "$file: strata printed $rs, wasmtime $rw" >&2; exit 1; }
  ts=$(best "$strata" "${s[@]}")
  tw=$(best "$wasmtime" "${w[@]}")
  ratio=$(python3 -c "print('%.2f' % ($tw / $ts))")
  printf "%-18s %9s %9s %7s %11s %11s\n" "$(basename "$file")" "$ts" "$tw" "$ratio" \
    "$(insn "$strata" "$work/s.cwasm" "$file" "$small")" \
    "$(insn "$wasmtime" "$work/w.cwasm" "$file" "$small")"
done
