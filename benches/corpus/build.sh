#!/usr/bin/env bash
# Rebuilds the benchmark corpus: each `*.rs` here (no_std, exporting
# `run(i32) -> i32`) becomes the `*.wasm` committed next to it. Needs the
# wasm32-wasip1 target: `rustup target add wasm32-wasip1`.
set -euo pipefail
cd "$(dirname "$0")"
for src in *.rs; do
    [[ "$src" == common.rs ]] && continue
    rustc --target wasm32-wasip1 --crate-type cdylib --edition 2021 \
        -C opt-level=3 -C panic=abort -C strip=symbols \
        -o "${src%.rs}.wasm" "$src"
done
ls -l *.wasm
