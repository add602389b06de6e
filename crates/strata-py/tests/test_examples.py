"""The wasmtime-py style script in examples/ runs unchanged (but for its
import) against Strata."""

import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "examples" / "wasmtime_script.py"


def test_wasmtime_script_runs():
    source = SCRIPT.read_text()
    # The script is wasmtime-py code: its one Strata-specific line is the import.
    code = source.split("import strata as wasmtime", 1)[1]
    assert "strata" not in code.lower()
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "all checks passed"
    assert "guest exited with 3" in lines
    assert "guest wrote: 'hello from WASI\\n'" in lines
