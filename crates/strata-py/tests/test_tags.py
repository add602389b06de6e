"""Exception tags: a module that exports or imports a tag (as C++ programs
built with exceptions do) loads, its exports list the tag, a host-made tag
satisfies a tag import, and tags are told apart by identity, not by type."""

import pytest

from conftest import make_engine
from strata import (
    Instance,
    Linker,
    Module,
    Store,
    Tag,
    TagType,
    ValType,
    WasmtimeError,
)

THROWER = """(module
  (tag $e (export "e") (param i32 i64))
  (func (export "throw") (param i32) (throw $e (local.get 0) (i64.const 9)))
  (func (export "answer") (result i32) (i32.const 42)))"""

# Catches exceptions of the imported tag only; anything else passes.
CATCHER = """(module
  (import "host" "e" (tag $e (param i32 i64)))
  (import "host" "throw" (func $throw (param i32)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h) (call $throw (local.get 0)))
      (return (i32.const -1)))
    (drop)))"""


def test_tag_exports_and_types(tier):
    store = Store(make_engine(tier, wasm_exceptions=True))
    module = Module(store.engine, THROWER)
    [export] = [e for e in module.exports if e.name == "e"]
    assert export.type == TagType([ValType.i32(), ValType.i64()])
    assert [str(t) for t in export.type.params] == ["i32", "i64"]
    exports = Instance(store, module, []).exports(store)
    # The module's other exports stay usable next to its tag.
    assert exports["answer"](store) == 42
    tag = exports["e"]
    assert isinstance(tag, Tag)
    assert tag.type(store) == TagType([ValType.i32(), ValType.i64()])
    assert exports["e"] == tag


def test_an_exported_tag_links_to_an_import_and_catches_by_identity(tier):
    store = Store(make_engine(tier, wasm_exceptions=True))
    thrower = Instance(store, Module(store.engine, THROWER), []).exports(store)
    linker = Linker(store.engine)
    linker.define(store, "host", "e", thrower["e"])
    linker.define(store, "host", "throw", thrower["throw"])
    catcher = linker.instantiate(store, Module(store.engine, CATCHER)).exports(store)
    assert catcher["catch"](store, 7) == 7

    # A tag of the same type made by the host is another tag: the
    # catcher's handler does not take the thrower's exceptions.
    other = Tag(store, TagType([ValType.i32(), ValType.i64()]))
    assert other != thrower["e"]
    catcher2 = Instance(
        store, Module(store.engine, CATCHER), [other, thrower["throw"]]
    ).exports(store)
    with pytest.raises(WasmtimeError) as info:
        catcher2["catch"](store, 7)
    assert "uncaught WebAssembly exception" in str(info.value)


def test_tag_imports_are_type_checked(tier):
    store = Store(make_engine(tier, wasm_exceptions=True))
    thrower = Instance(store, Module(store.engine, THROWER), []).exports(store)
    wrong = Tag(store, TagType([ValType.i32()]))
    with pytest.raises(WasmtimeError):
        Instance(store, Module(store.engine, CATCHER), [wrong, thrower["throw"]])
    # A tag belongs to its store.
    other_store = Store(store.engine)
    with pytest.raises(Exception):
        Instance(other_store, Module(store.engine, THROWER), []).exports(
            other_store
        )["e"].type(store)
    with pytest.raises(TypeError):
        TagType([1])
