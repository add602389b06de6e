"""Shared fixtures: most tests run once per execution tier."""

import pathlib

import pytest

import strata

REPO = pathlib.Path(__file__).resolve().parents[3]
# A WASI program of strata-wasi's tests (Rust source and rebuild script next
# to it): `io.wasm args|env|cat|exit N`.
PROGRAMS = REPO / "crates" / "strata-wasi" / "tests" / "programs"
IO_WASM = PROGRAMS / "io.wasm"
# `fs.wasm mkmany DIR N` creates N files in a preopened directory.
FS_WASM = PROGRAMS / "fs.wasm"

TIERS = ["auto", "interp"]


def make_engine(tier: str, **options) -> strata.Engine:
    config = strata.Config()
    config.strategy = tier
    for name, value in options.items():
        setattr(config, name, value)
    return strata.Engine(config)


@pytest.fixture(params=TIERS)
def tier(request) -> str:
    """The execution tier: "auto" (the JIT where available) or "interp"."""
    return request.param


@pytest.fixture
def engine(tier) -> strata.Engine:
    return make_engine(tier)


@pytest.fixture
def store(engine) -> strata.Store:
    return strata.Store(engine)


def instantiate(store, wat, imports=()):
    """Instantiates a module given as text; returns its exports."""
    module = strata.Module(store.engine, wat)
    return strata.Instance(store, module, list(imports)).exports(store)
