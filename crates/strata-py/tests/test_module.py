import pytest

from strata import (
    Config,
    Engine,
    ExportType,
    FuncType,
    GlobalType,
    ImportType,
    Instance,
    Limits,
    MemoryType,
    Module,
    Store,
    TableType,
    ValType,
    WasmtimeError,
    wat2wasm,
)

WAT = """
(module $named
  (import "env" "f" (func (param i32 f64) (result i64)))
  (import "env" "g" (global (mut f32)))
  (import "env" "m" (memory 1 3))
  (import "env" "t" (table 2 funcref))
  (func (export "id") (param externref) (result externref) local.get 0)
  (export "mem" (memory 0))
  (global (export "glob") i64 (i64.const 1))
  (table (export "tab") 1 5 externref))
"""


def test_text_and_binary_give_the_same_module():
    engine = Engine()
    binary = wat2wasm(WAT)
    assert isinstance(binary, bytearray)
    assert binary[:4] == b"\0asm"
    for source in (WAT, WAT.encode(), bytes(binary), binary):
        module = Module(engine, source)
        assert [e.name for e in module.exports] == ["id", "mem", "glob", "tab"]
    assert Module(engine, WAT).name == "named"


def test_imports_and_exports_describe_their_types():
    module = Module(Engine(), WAT)
    imports = module.imports
    assert all(isinstance(i, ImportType) for i in imports)
    assert [(i.module, i.name) for i in imports] == [("env", "f"), ("env", "g"), ("env", "m"), ("env", "t")]
    f, g, m, t = (i.type for i in imports)
    assert f == FuncType([ValType.i32(), ValType.f64()], [ValType.i64()])
    assert f.params == [ValType.i32(), ValType.f64()] and f.results == [ValType.i64()]
    assert isinstance(g, GlobalType) and g.content == ValType.f32() and g.mutable
    assert isinstance(m, MemoryType) and m.limits == Limits(1, 3) and not m.is_64 and not m.is_shared
    assert isinstance(t, TableType) and t.element == ValType.funcref() and t.limits == Limits(2, None)
    exports = {e.name: e.type for e in module.exports}
    assert all(isinstance(e, ExportType) for e in module.exports)
    assert exports["id"] == FuncType([ValType.externref()], [ValType.externref()])
    assert exports["mem"].limits == Limits(1, 3)
    assert exports["glob"] == GlobalType(ValType.i64(), False)
    assert exports["tab"].element == ValType.externref() and exports["tab"].limits == Limits(1, 5)


def test_invalid_modules_raise_wasmtime_error():
    engine = Engine()
    with pytest.raises(WasmtimeError, match="type mismatch"):
        Module(engine, "(module (func (result i32) f32.const 1))")
    with pytest.raises(WasmtimeError):
        Module(engine, "(module (func")
    with pytest.raises(WasmtimeError):
        Module(engine, b"\0asm\x01\0\0\0\xff")
    with pytest.raises(WasmtimeError):
        Module.validate(engine, b"\0asm\x02\0\0\0")
    Module.validate(engine, wat2wasm("(module)"))
    with pytest.raises(WasmtimeError):
        wat2wasm("(module (func (export)))")


def test_bad_argument_types_raise_type_error():
    with pytest.raises(TypeError):
        Module(Engine(), 42)
    with pytest.raises(TypeError):
        Module("not an engine", "(module)")
    with pytest.raises(TypeError):
        FuncType([1], [])
    with pytest.raises(TypeError):
        MemoryType(5)
    with pytest.raises(TypeError):
        wat2wasm(None)


def test_disabled_proposal_is_named_in_the_error():
    config = Config()
    config.wasm_tail_call = False
    engine = Engine(config)
    with pytest.raises(WasmtimeError, match="tail"):
        Module(engine, "(module (func $f return_call $f))")
    config = Config()
    config.wasm_sign_extension = False
    with pytest.raises(WasmtimeError, match="sign-extension"):
        Module(Engine(config), "(module (func (result i32) i32.const 1 i32.extend8_s))")
    config.wasm_sign_extension = True
    Module(Engine(config), "(module (func (result i32) i32.const 1 i32.extend8_s))")


def test_config_properties_are_write_only_and_type_checked():
    config = Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    config.cache = True
    config.cache = "/some/cache.toml"
    config.debug_info = True
    config.cranelift_opt_level = "speed"
    config.max_wasm_stack = 1 << 20
    with pytest.raises(AttributeError):
        config.consume_fuel
    with pytest.raises(TypeError):
        config.consume_fuel = 1
    with pytest.raises(TypeError):
        config.cache = 3
    with pytest.raises(WasmtimeError):
        config.cache = False
    with pytest.raises(WasmtimeError, match="unknown strategy"):
        config.strategy = "magic"
    with pytest.raises(WasmtimeError, match="unknown WebAssembly feature"):
        config.set_feature("telepathy", True)
    with pytest.raises(TypeError):
        Engine("config")


def test_serialize_round_trips_and_checks_its_header(tmp_path):
    config = Config()
    config.strategy = "interp"
    engine = Engine(config)
    module = Module(engine, WAT)
    data = module.serialize()
    assert isinstance(data, bytearray)
    assert data.startswith(b"\0strata-module\x01\0")
    again = Module.deserialize(engine, data)
    assert [e.name for e in again.exports] == [e.name for e in module.exports]
    path = tmp_path / "module.bin"
    path.write_bytes(bytes(data))
    assert [i.name for i in Module.deserialize_file(engine, str(path)).imports] == ["f", "g", "m", "t"]
    with pytest.raises(WasmtimeError, match="header"):
        Module.deserialize(engine, wat2wasm(WAT))
    with pytest.raises(TypeError):
        Module.deserialize(engine, "text")


def test_serialize_writes_a_checked_artifact_when_the_engine_compiles(tmp_path):
    for strategy in ["jit", "tiered"]:
        config = Config()
        config.strategy = strategy
        engine = Engine(config)
        module = Module(engine, '(module (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add))')
        data = module.serialize()
        # Strata's ahead-of-time artifact, not the interpreter form.
        assert not data.startswith(b"\0strata-module\x01\0")
        again = Module.deserialize(engine, data)
        store = Store(engine)
        assert Instance(store, again, []).exports(store)["inc"](store, 41) == 42
        path = tmp_path / f"{strategy}.cwasm"
        path.write_bytes(bytes(data))
        assert [e.name for e in Module.deserialize_file(engine, path).exports] == ["inc"]
        damaged = bytearray(data)
        damaged[len(damaged) // 2] ^= 0xFF
        with pytest.raises(WasmtimeError):
            Module.deserialize(engine, damaged)
        with pytest.raises(WasmtimeError):
            Module.deserialize(engine, data[: len(data) - 7])


def test_from_file_reads_text_and_binary(tmp_path):
    engine = Engine()
    (tmp_path / "a.wat").write_text('(module (func (export "x")))')
    (tmp_path / "b.wasm").write_bytes(bytes(wat2wasm('(module (func (export "y")))')))
    assert Module.from_file(engine, tmp_path / "a.wat").exports[0].name == "x"
    assert Module.from_file(engine, str(tmp_path / "b.wasm")).exports[0].name == "y"
    with pytest.raises(OSError):
        Module.from_file(engine, tmp_path / "missing.wasm")
