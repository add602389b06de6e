#!/usr/bin/env bash
# Interpreter benchmark. For the side-by-side comparison install wasmi first:
#   cargo install wasmi_cli --version '^2'
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p strata --bench interp "$@"
