#!/usr/bin/env bash
# Rebuilds regex.wasm (committed next to this script) from src/main.rs.
# Needs the wasm32-wasip1 target: `rustup target add wasm32-wasip1`.
set -euo pipefail
cd "$(dirname "$0")"
target="${CARGO_TARGET_DIR:-/tmp/strata-regex-bench-target}"
cargo build --release --target wasm32-wasip1 --target-dir "$target"
cp "$target/wasm32-wasip1/release/regex-bench.wasm" regex.wasm
ls -l regex.wasm
