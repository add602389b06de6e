import os

import pytest

from conftest import FS_WASM, IO_WASM
from strata import (
    DirPerms,
    ExitTrap,
    Linker,
    Module,
    Store,
    WasiConfig,
    WasmtimeError,
)


def run_io(engine, wasi, *args, program=IO_WASM):
    """Runs io.wasm with `args` under `wasi`; returns the exit status."""
    wasi.argv = [program.name, *args]
    linker = Linker(engine)
    linker.define_wasi()
    store = Store(engine)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, Module.from_file(engine, program))
    try:
        instance.exports(store)["_start"](store)
    except ExitTrap as e:
        return e.code
    return 0


def test_stdout_file_and_exit_code(engine, tmp_path):
    wasi = WasiConfig()
    wasi.stdout_file = tmp_path / "out.txt"
    wasi.stderr_file = str(tmp_path / "err.txt")
    assert run_io(engine, wasi, "exit", "7") == 7
    assert (tmp_path / "out.txt").read_text() == "exiting with 7\n"
    assert (tmp_path / "err.txt").read_text() == "to stderr\n"


def test_args_env_and_stdin(engine, tmp_path):
    wasi = WasiConfig()
    wasi.stdout_file = tmp_path / "args.txt"
    assert run_io(engine, wasi, "args", "x y") == 0
    assert (tmp_path / "args.txt").read_text() == '"io.wasm"\n"args"\n"x y"\n'
    wasi = WasiConfig()
    wasi.env = [("B", "2"), ("A", "1")]
    wasi.stdout_file = tmp_path / "env.txt"
    assert run_io(engine, wasi, "env") == 0
    assert (tmp_path / "env.txt").read_text() == '"A=1"\n"B=2"\n'
    (tmp_path / "in.txt").write_bytes(b"piped\ninput")
    wasi = WasiConfig()
    wasi.stdin_file = tmp_path / "in.txt"
    wasi.stdout_file = tmp_path / "cat.txt"
    assert run_io(engine, wasi, "cat") == 0
    assert (tmp_path / "cat.txt").read_bytes() == b"piped\ninput"


def test_a_trap_in_a_wasi_program(engine):
    from strata import Trap, TrapCode

    wasi = WasiConfig()
    with pytest.raises(Trap) as info:
        run_io(engine, wasi, "trap")
    assert info.value.trap_code == TrapCode.UNREACHABLE
    assert len(info.value.frames) >= 2


def test_inherited_environment(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("STRATA_PY_TEST", "inherited")
    wasi = WasiConfig()
    wasi.inherit_env()
    wasi.stdout_file = tmp_path / "env.txt"
    run_io(engine, wasi, "env")
    assert '"STRATA_PY_TEST=inherited"' in (tmp_path / "env.txt").read_text()


def test_without_set_wasi_output_is_discarded(engine):
    linker = Linker(engine)
    linker.define_wasi()
    store = Store(engine)
    instance = linker.instantiate(store, Module.from_file(engine, IO_WASM))
    with pytest.raises(ExitTrap) as info:
        instance.exports(store)["_start"](store)
    # No arguments: io.wasm exits with status 2 for a missing mode.
    assert info.value.code == 2


def test_preopened_directory(engine, tmp_path):
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    wasi = WasiConfig()
    wasi.preopen_dir(str(sandbox), "/data")
    wasi.stdout_file = tmp_path / "out.txt"
    assert run_io(engine, wasi, "mkmany", "/data", "3", program=FS_WASM) == 0
    assert sorted(p.name for p in sandbox.iterdir()) == ["f0000", "f0001", "f0002"]


def test_configuration_errors(tmp_path):
    wasi = WasiConfig()
    with pytest.raises(WasmtimeError, match="stdin"):
        wasi.stdin_file = tmp_path / "missing.txt"
    with pytest.raises(WasmtimeError, match="stdout"):
        wasi.stdout_file = tmp_path / "no" / "such" / "dir.txt"
    with pytest.raises(WasmtimeError):
        wasi.preopen_dir(str(tmp_path / "missing"), "/x")
    with pytest.raises(WasmtimeError, match="read-write"):
        wasi.preopen_dir(str(tmp_path), "/x", DirPerms.READ_ONLY)
    wasi.preopen_dir(str(tmp_path), "/x", DirPerms.READ_WRITE)
    with pytest.raises(TypeError):
        wasi.argv = "not a list"
    with pytest.raises(AttributeError):
        wasi.argv
    Store().set_wasi(wasi)
