#!/usr/bin/env bash
# Interpreter benchmark: Strata in process on benches/programs/*.wat, and
# side by side with wasmi when its CLI is installed:
#   cargo install wasmi_cli --version '^2' --locked   # installs `wasmi`
# The `strata` CLI is timed too when it builds (set STRATA_CLI yourself to
# use another binary, or STRATA_CLI= to skip it).
# Extra arguments go to `cargo bench`. STRATA_BENCH_RUNS sets the number of
# runs per measurement (default 3, best reported).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${STRATA_CLI+set}" ]]; then
    if cargo build --release -q -p strata-cli 2>/dev/null; then
        export STRATA_CLI="$PWD/target/release/strata"
    fi
fi
cargo bench -p strata --bench interp "$@"
