//! Traps: the ways WebAssembly execution stops abnormally, and the wasm
//! backtrace attached to them.

use crate::types::ValType;
use std::fmt;

/// Why WebAssembly execution trapped. Traps are values: the interpreter
/// returns them and the embedder receives them as errors that downcast to
/// this type (`err.downcast_ref::<Trap>()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trap {
    /// The `unreachable` instruction ran.
    UnreachableCodeReached,
    /// A load or store outside the bounds of linear memory.
    MemoryOutOfBounds,
    /// A table access outside the bounds of a table.
    TableOutOfBounds,
    /// `call_indirect` on an uninitialised (null) table element.
    IndirectCallToNull,
    /// `call_indirect` whose callee has another signature.
    BadSignature,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Signed division overflow (`MIN / -1`).
    IntegerOverflow,
    /// A float to integer conversion of NaN or an out-of-range value.
    BadConversionToInteger,
    /// Wasm recursion went deeper than the configured stack allows.
    StackOverflow,
    /// A reference was null where a non-null one was required.
    NullReference,
    /// `call_ref` or `return_call_ref` of a null function reference.
    NullFunctionReference,
    /// The store ran out of fuel.
    OutOfFuel,
    /// Execution was interrupted because its epoch deadline passed.
    Interrupt,
    /// An atomic access at an address that is not a multiple of its size.
    HeapMisaligned,
    /// `memory.atomic.wait32/64` on a memory that is not shared.
    AtomicWaitNonSharedMemory,
    /// A struct access through a null reference.
    NullStructReference,
    /// An array access through a null reference.
    NullArrayReference,
    /// `i31.get_s/u` of a null reference.
    NullI31Reference,
    /// An array access outside the array's bounds.
    ArrayOutOfBounds,
    /// `ref.cast` of a value that is not of the target type.
    CastFailure,
    /// A GC allocation whose size does not fit the heap's address range
    /// (e.g. an array of 2^32 elements).
    AllocationTooLarge,
    /// A GC allocation beyond the store's heap limit
    /// (`Config::max_gc_heap_size`).
    GcHeapOutOfMemory,
    /// A null descriptor given to `struct.new_desc`, `ref.cast_desc_eq`
    /// or `br_on_cast_desc_eq(_fail)` (custom descriptors).
    NullDescriptorReference,
    /// `ref.cast_desc_eq` of a value whose descriptor is not the one
    /// given.
    DescriptorCastFailure,
}

impl Trap {
    /// Every trap kind, in declaration order (its index is its `code`).
    #[cfg(strata_jit)]
    const ALL: [Trap; 24] = [
        Trap::UnreachableCodeReached,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::IntegerDivisionByZero,
        Trap::IntegerOverflow,
        Trap::BadConversionToInteger,
        Trap::StackOverflow,
        Trap::NullReference,
        Trap::NullFunctionReference,
        Trap::OutOfFuel,
        Trap::Interrupt,
        Trap::HeapMisaligned,
        Trap::AtomicWaitNonSharedMemory,
        Trap::NullStructReference,
        Trap::NullArrayReference,
        Trap::NullI31Reference,
        Trap::ArrayOutOfBounds,
        Trap::CastFailure,
        Trap::AllocationTooLarge,
        Trap::GcHeapOutOfMemory,
        Trap::NullDescriptorReference,
        Trap::DescriptorCastFailure,
    ];

    /// A small integer identifying the trap kind.
    #[cfg(strata_jit)]
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    /// The trap kind with the given `code`.
    #[cfg(strata_jit)]
    pub(crate) fn from_code(code: u8) -> Trap {
        Trap::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(Trap::UnreachableCodeReached)
    }

    /// The message wasmtime and the spec test suite use for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::UnreachableCodeReached => "unreachable",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "undefined element: out of bounds table access",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::StackOverflow => "call stack exhausted",
            Trap::NullReference => "null reference",
            Trap::NullFunctionReference => "null function reference",
            Trap::OutOfFuel => "all fuel consumed by WebAssembly",
            Trap::Interrupt => "interrupt",
            // The spec test suite's wording (wasmtime: "misaligned memory
            // access").
            Trap::HeapMisaligned => "unaligned atomic",
            Trap::AtomicWaitNonSharedMemory => "expected shared memory",
            // The spec test suite's wording for the GC traps (wasmtime says
            // "null reference" for all three nulls).
            Trap::NullStructReference => "null structure reference",
            Trap::NullArrayReference => "null array reference",
            Trap::NullI31Reference => "null i31 reference",
            Trap::ArrayOutOfBounds => "out of bounds array access",
            Trap::CastFailure => "cast failure",
            Trap::AllocationTooLarge => "allocation size too large",
            Trap::GcHeapOutOfMemory => "GC heap out of memory",
            Trap::NullDescriptorReference => "null descriptor reference",
            Trap::DescriptorCastFailure => "descriptor cast failure",
        }
    }
}

#[cfg(strata_jit)]
#[test]
fn trap_codes_round_trip() {
    for trap in Trap::ALL {
        assert_eq!(Trap::from_code(trap.code()), trap);
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// One frame of a [`WasmBacktrace`].
#[derive(Debug, Clone)]
pub struct FrameInfo {
    pub(crate) func_index: u32,
    pub(crate) func_name: Option<String>,
    pub(crate) module_name: Option<String>,
    /// The store the frame's instance lives in, and its index there.
    pub(crate) store_id: u64,
    pub(crate) instance: u32,
    /// Where the frame is in the module binary: the trapping instruction
    /// (innermost frame) or the call (outer frames); `None` when the tier
    /// cannot tell.
    pub(crate) module_offset: Option<usize>,
    /// The same position relative to the start of the function's body.
    pub(crate) func_offset: Option<usize>,
    /// The frame's locals (parameters first) as types and cell values,
    /// when the tier knows them and core dumps asked for them
    /// (`Config::coredump_on_trap`); `None` otherwise.
    pub(crate) locals: Option<Box<[(ValType, u128)]>>,
}

impl FrameInfo {
    /// The index of the function in its module's function index space.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }
    /// The function's name from the name section, if any.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }
    /// The module's name from the name section, if any.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }
    /// The offset in the module binary of the instruction this frame was
    /// executing: the one that trapped in the innermost frame, the call in
    /// the others (as wasmtime's `FrameInfo::module_offset`). `None` when
    /// the tier could not map the frame back to an instruction.
    pub fn module_offset(&self) -> Option<usize> {
        self.module_offset
    }
    /// [`FrameInfo::module_offset`] relative to the start of the function's
    /// body (its local declarations), as in DWARF and core dumps.
    pub fn func_offset(&self) -> Option<usize> {
        self.func_offset
    }
    /// A frame of function `func_index` at `module_offset` (if known) of a
    /// module whose function bodies start at `body_start`; its store and
    /// instance are filled in by the caller.
    pub(crate) fn new(
        func_index: u32,
        func_name: Option<String>,
        module_name: Option<String>,
        module_offset: Option<usize>,
        body_start: usize,
    ) -> FrameInfo {
        FrameInfo {
            func_index,
            func_name,
            module_name,
            store_id: 0,
            instance: u32::MAX,
            module_offset,
            func_offset: module_offset.map(|o| o.saturating_sub(body_start)),
            locals: None,
        }
    }
}

/// The wasm frames active when a trap happened, innermost first. Attached as
/// context to trap errors: `err.downcast_ref::<WasmBacktrace>()`.
#[derive(Debug, Clone, Default)]
pub struct WasmBacktrace {
    pub(crate) frames: Vec<FrameInfo>,
    /// Frames beyond the recorded ones (deep recursion), not kept.
    pub(crate) omitted: usize,
}

impl WasmBacktrace {
    /// The recorded frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// How many outer frames were not recorded because the stack was deeper
    /// than [`WasmBacktrace::MAX_FRAMES`].
    pub fn omitted_frames(&self) -> usize {
        self.omitted
    }

    /// The most frames a backtrace records.
    pub const MAX_FRAMES: usize = 100;

    /// Adds the frames of `outer`, the stack below this one (frames of
    /// another tier that called into the code these frames ran).
    pub(crate) fn append_outer(&mut self, outer: WasmBacktrace) {
        let room = Self::MAX_FRAMES.saturating_sub(self.frames.len());
        let kept = outer.frames.len().min(room);
        self.omitted += outer.frames.len() - kept + outer.omitted;
        self.frames.extend(outer.frames.into_iter().take(kept));
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            // wasmtime's layout: index, offset in the module, name.
            write!(f, "  {i:>2}: ")?;
            if let Some(offset) = frame.module_offset {
                write!(f, "{offset:#6x} - ")?;
            }
            if let Some(m) = &frame.module_name {
                write!(f, "{m}!")?;
            }
            match &frame.func_name {
                // Rust names appear demangled, without their hash, as in
                // wasmtime's backtraces.
                Some(name) => match rustc_demangle::try_demangle(name) {
                    Ok(demangled) => writeln!(f, "{demangled:#}")?,
                    Err(_) => writeln!(f, "{name}")?,
                },
                None => writeln!(f, "<wasm function {}>", frame.func_index)?,
            }
        }
        if self.omitted > 0 {
            writeln!(f, "  ... {} more frames", self.omitted)?;
        }
        Ok(())
    }
}
