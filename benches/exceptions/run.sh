#!/usr/bin/env bash
# Throw-and-catch benchmark: Strata's JIT and interpreter next to wasmtime
# (`-W exceptions=y`), on throw.wat: an exception caught in the function
# that throws it (shallow), and one thrown through 50 frames (deep; the
# same 50 calls returning normally are shown as a baseline). Prints
# microseconds per exception, best of STRATA_BENCH_RUNS (default 5) runs
# of N exceptions (default 200000), each run's start-up subtracted (the
# same invocation with n = 0); -1 when the runtime failed to run it.
#   benches/exceptions/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-200000}"
RUNS="${STRATA_BENCH_RUNS:-5}"
WAT=benches/exceptions/throw.wat
cargo build --release -q -p strata-cli
STRATA="${STRATA_CLI:-$PWD/target/release/strata}"
WASMTIME="${WASMTIME:-$(command -v wasmtime || echo ~/.cargo/bin/wasmtime)}"

# best_seconds CMD...: the fastest of $RUNS runs of CMD, in seconds.
best_seconds() {
  local best=""
  for _ in $(seq "$RUNS"); do
    local start end t
    start=$(date +%s.%N)
    if ! "$@" > /dev/null 2>&1; then echo fail; return; fi
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

# per_op NAME CMD...: microseconds per iteration of export NAME.
per_op() {
  local name=$1; shift
  local full empty
  full=$(best_seconds "$@" --invoke "$name" "$WAT" "$N")
  empty=$(best_seconds "$@" --invoke "$name" "$WAT" 0)
  if [ "$full" = fail ] || [ "$empty" = fail ]; then echo -1; return; fi
  echo "($full - $empty) * 1000000 / $N" | bc -l
}

printf '%-16s %12s %12s %14s\n' "runtime" "shallow µs" "deep(50) µs" "50 calls µs"
row() {
  local label=$1; shift
  local shallow deep calls
  shallow=$(per_op shallow "$@")
  deep=$(per_op deep "$@")
  calls=$(per_op calls "$@")
  printf '%-16s %12.3f %12.3f %14.3f\n' "$label" "$shallow" "$deep" "$calls"
}
row "strata jit" "$STRATA" run --tier jit -W exceptions=y
row "strata interp" "$STRATA" run --tier interp -W exceptions=y
if [ -x "$WASMTIME" ]; then
  row "wasmtime" "$WASMTIME" run -W exceptions=y
fi
