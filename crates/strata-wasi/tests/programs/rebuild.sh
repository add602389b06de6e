#!/usr/bin/env bash
# Rebuilds the WASI test programs (`*.wasm` next to this script) from
# `src/`. Needs `rustup target add wasm32-wasip1`; the tests only use the
# committed `.wasm` files, so CI does not run this.
set -euo pipefail
cd "$(dirname "$0")"
for prog in io fs raw escape; do
    rustc --edition 2021 --target wasm32-wasip1 \
        -C opt-level=s -C panic=abort -C strip=debuginfo -C lto \
        -o "$prog.wasm" "src/$prog.rs"
done
ls -l ./*.wasm
