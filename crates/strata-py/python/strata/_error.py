"""The exceptions of the `strata` package (the same classes as wasmtime-py's).

`WasmtimeError` is the error of every failed operation (also available as
`StrataError`); a WebAssembly trap raises `Trap`, and a WASI guest's
`proc_exit` raises `ExitTrap`. An exception that a host function raises
propagates through wasm unchanged, so it is none of these.
"""

from enum import Enum
from typing import List, Optional


class WasmtimeError(Exception):
    """An operation failed: a module did not validate, an import is
    missing, a limit was exceeded, an argument was of the wrong store..."""


StrataError = WasmtimeError


class ExitTrap(WasmtimeError):
    """A WASI guest called `proc_exit`; `code` is its exit status."""

    code: int

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class TrapCode(Enum):
    """Why WebAssembly execution trapped (wasmtime's numbering)."""

    STACK_OVERFLOW = 0
    MEMORY_OUT_OF_BOUNDS = 1
    HEAP_MISALIGNED = 2
    TABLE_OUT_OF_BOUNDS = 3
    INDIRECT_CALL_TO_NULL = 4
    BAD_SIGNATURE = 5
    INTEGER_OVERFLOW = 6
    INTEGER_DIVISION_BY_ZERO = 7
    BAD_CONVERSION_TO_INTEGER = 8
    UNREACHABLE = 9
    INTERRUPT = 10
    OUT_OF_FUEL = 11
    ATOMIC_WAIT_NON_SHARED_MEMORY = 12
    NULL_REFERENCE = 13


class Frame:
    """One wasm frame of a trap's backtrace."""

    def __init__(self, func_index: int, func_name: Optional[str], module_name: Optional[str]):
        self._func_index = func_index
        self._func_name = func_name
        self._module_name = module_name

    @property
    def func_index(self) -> int:
        """The function's index in its module's function index space."""
        return self._func_index

    @property
    def func_name(self) -> Optional[str]:
        """The function's name from the name section, if any."""
        return self._func_name

    @property
    def module_name(self) -> Optional[str]:
        """The module's name from the name section, if any."""
        return self._module_name

    @property
    def func_offset(self) -> Optional[int]:
        """Always `None`: Strata does not record code offsets yet."""
        return None

    @property
    def module_offset(self) -> Optional[int]:
        """Always `None`: Strata does not record code offsets yet."""
        return None

    def __repr__(self) -> str:
        return "Frame(%d, %r, %r)" % (self._func_index, self._func_name, self._module_name)


class Trap(Exception):
    """WebAssembly execution trapped (or a host function raised
    `Trap(message)` on purpose)."""

    def __init__(self, message: str):
        super().__init__(message)
        self._message = message
        self._trap_code: Optional[TrapCode] = None
        self._frames: List[Frame] = []

    @property
    def message(self) -> str:
        """The trap's message (with the wasm backtrace, if any)."""
        return self._message

    @property
    def trap_code(self) -> Optional[TrapCode]:
        """Why wasm trapped; `None` for a trap created by the host."""
        return self._trap_code

    @property
    def frames(self) -> List[Frame]:
        """The wasm frames active at the trap, innermost first."""
        return list(self._frames)

    def __str__(self) -> str:
        return self._message


def _trap(message: str, code: Optional[int], frames: list) -> Trap:
    trap = Trap(message)
    trap._trap_code = None if code is None else TrapCode(code)
    trap._frames = [Frame(*f) for f in frames]
    return trap


def _exit_trap(code: int, message: str) -> ExitTrap:
    return ExitTrap(message, code)


class DirPerms(Enum):
    """Permissions on a preopened directory (Strata grants `READ_WRITE`
    only)."""

    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_WRITE = 3


class FilePerms(Enum):
    """Permissions on the files of a preopened directory (Strata grants
    `READ_WRITE` only)."""

    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_WRITE = 3
