#!/usr/bin/env bash
# Rebuilds the benchmark corpus: each `*.rs` here (no_std, exporting
# `run(i32) -> i32`) becomes the `*.wasm` committed next to it; `simd_*.rs`
# are built with 128-bit SIMD (`-C target-feature=+simd128`). Needs the
# wasm32-wasip1 target: `rustup target add wasm32-wasip1`.
set -euo pipefail
cd "$(dirname "$0")"
for src in *.rs; do
    [[ "$src" == common.rs ]] && continue
    features=()
    [[ "$src" == simd_* ]] && features=(-C target-feature=+simd128)
    rustc --target wasm32-wasip1 --crate-type cdylib --edition 2021 \
        -C opt-level=3 -C panic=abort -C strip=symbols "${features[@]}" \
        -o "${src%.rs}.wasm" "$src"
done
ls -l *.wasm
