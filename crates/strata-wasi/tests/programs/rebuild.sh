#!/usr/bin/env bash
# Rebuilds the WASI test programs (`*.wasm` next to this script) from
# `src/`. Needs `rustup target add wasm32-wasip1 wasm32-wasip1-threads`;
# the tests only use the committed `.wasm` and `.out` files, so CI does not
# run this.
set -euo pipefail
cd "$(dirname "$0")"
for prog in io fs raw escape; do
    rustc --edition 2021 --target wasm32-wasip1 \
        -C opt-level=s -C panic=abort -C strip=debuginfo -C lto \
        -o "$prog.wasm" "src/$prog.rs"
done
# The threaded program, and its expected output from the same source built
# for the host (never from Strata itself).
rustc --edition 2021 --target wasm32-wasip1-threads \
    -C opt-level=s -C panic=abort -C strip=debuginfo -C lto \
    -o threads.wasm src/threads.rs
native="$(mktemp -d)"
trap 'rm -rf "$native"' EXIT
rustc --edition 2021 -C opt-level=2 -o "$native/threads" src/threads.rs
"$native/threads" > threads.out
ls -l ./*.wasm threads.out
