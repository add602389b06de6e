#!/usr/bin/env bash
# Tier benchmark: Strata's interpreter and JIT on benches/corpus and
# benches/programs, side by side with wasmtime when its CLI is installed:
#   cargo install wasmtime-cli --locked --version 48.0.8   # installs `wasmtime`
# (newer wasmtime-cli releases need a newer rustc than 1.95)
# Extra arguments go to `cargo bench`. STRATA_BENCH_RUNS sets the number of
# runs per measurement (default 3, best reported).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p strata-cli
export STRATA_CLI="${STRATA_CLI:-$PWD/target/release/strata}"
cargo bench -p strata --bench tiers "$@"
