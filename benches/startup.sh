#!/usr/bin/env bash
# Start-up benchmark of the compile cache and ahead-of-time artifacts:
# whole-process time of `strata run` (JIT tier) on each program of
# benches/corpus and benches/programs with a tiny argument (so that
# loading dominates), plus a generated 1.2 MB module
# (benches/gen_big_module.py), measured with hyperfine:
#   first   : empty cache (the cache directory is removed before each run)
#   cached  : every later run (the entry written by the first)
#   no-cache: -C cache=n (compiles every time)
#   aot     : strata compile, then run --allow-precompiled OUT.cwasm
#   interp  : --tier interp (lazy translation, nothing compiled)
#   wasmtime: `wasmtime run` with its defaults (its cache on), when
#             installed (cargo install wasmtime-cli --locked --version 48.0.8)
# Needs hyperfine (apt-get install hyperfine). HYPERFINE_RUNS sets the runs
# per measurement (default 10). Each cell is the mean wall time in seconds;
# STARTUP_METRIC=cpu reports user + system time instead (steadier on a
# loaded machine).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p strata-cli
strata="$PWD/target/release/strata"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 benches/gen_big_module.py 4000 "$work/big.wasm" >/dev/null
runs="${HYPERFINE_RUNS:-10}"
wasmtime="$(command -v wasmtime || true)"
programs=(
  "benches/corpus/nbody.wasm 1" "benches/corpus/sha256.wasm 1"
  "benches/corpus/mandelbrot.wasm 1" "benches/corpus/quicksort.wasm 1"
  "benches/corpus/fannkuch.wasm 3" "benches/programs/fib.wat 1"
  "benches/programs/collatz.wat 1" "benches/programs/sieve.wat 1"
  "benches/programs/matmul.wat 1" "benches/programs/hash.wat 1"
  "$work/big.wasm 1"
)
# Mean seconds of one hyperfine measurement.
measure() {
  hyperfine -N --runs "$runs" --export-json "$work/m.json" "$@" >/dev/null 2>&1
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.4f" % (r["user"] + r["system"] if sys.argv[2] == "cpu" else r["mean"]))' "$work/m.json" "${STARTUP_METRIC:-wall}"
}
printf "%-28s %9s %9s %9s %9s %9s %9s\n" program first cached no-cache aot interp wasmtime
for p in "${programs[@]}"; do
  set -- $p
  file="$1" arg="$2"
  cache="$work/cache"
  run=(--invoke run "$file" "$arg")
  first=$(measure --prepare "rm -rf $cache" "env STRATA_CACHE_DIR=$cache $strata run ${run[*]}")
  cached=$(measure --warmup 1 "env STRATA_CACHE_DIR=$cache $strata run ${run[*]}")
  nocache=$(measure "$strata run -C cache=n ${run[*]}")
  "$strata" compile -C cache=n "$file" -o "$work/a.cwasm"
  aot=$(measure "$strata run --allow-precompiled --invoke run $work/a.cwasm $arg")
  interp=$(measure "$strata run --tier interp ${run[*]}")
  wt="-"
  if [ -n "$wasmtime" ]; then
    wt=$(measure --warmup 1 "$wasmtime run ${run[*]}")
  fi
  printf "%-28s %9s %9s %9s %9s %9s %9s\n" "$(basename "$file")" "$first" "$cached" "$nocache" "$aot" "$interp" "$wt"
done
