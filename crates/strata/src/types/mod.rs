//! The types a host sees: value, function, global, table, memory and extern
//! types, plus import and export descriptions.

mod composite;
pub(crate) mod raw;
pub(crate) mod registry;
mod val;

pub(crate) use composite::CompositeType;
pub use composite::{ArrayType, FieldType, FuncType, StorageType, StructType};
pub use val::{HeapType, RefType, SharedTypeIndex, ValType};

use std::fmt;

/// Whether a global can be written after instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Read-only.
    Const,
    /// Writable with `global.set` or [`Global::set`](crate::Global::set).
    Var,
}

/// The type of a global: its content type and mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// Creates a global type.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
        }
    }
    /// The type of the value held.
    pub fn content(&self) -> ValType {
        self.content
    }
    /// Whether the global is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Const => write!(f, "(global {})", self.content),
            Mutability::Var => write!(f, "(global (mut {}))", self.content),
        }
    }
}

/// The type of a table: element type, size limits in elements, and
/// whether it is indexed with `i64` (memory64 proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    min: u64,
    max: Option<u64>,
    table64: bool,
}

impl TableType {
    /// Creates a table type of `element`s indexed with `i32`, with limits
    /// in elements.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType::with_limits(element, min.into(), max.map(Into::into))
    }
    /// Creates a table type indexed with `i64` (needs
    /// `Config::wasm_memory64`).
    pub fn new64(element: RefType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            table64: true,
            ..TableType::with_limits(element, min, max)
        }
    }
    pub(crate) fn with_limits(element: RefType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            element,
            min,
            max,
            table64: false,
        }
    }
    /// The element type.
    pub fn element(&self) -> RefType {
        self.element
    }
    /// The minimum size in elements.
    pub fn minimum(&self) -> u64 {
        self.min
    }
    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }
    /// Whether the table is indexed with `i64`.
    pub fn is_64(&self) -> bool {
        self.table64
    }
    /// The same type with minimum `min` (a table's current size).
    pub(crate) fn with_minimum(self, min: u64) -> TableType {
        TableType { min, ..self }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.table64 {
            "(table i64 "
        } else {
            "(table "
        })?;
        write!(f, "{}", self.min)?;
        if let Some(max) = self.max {
            write!(f, " {max}")?;
        }
        write!(f, " {})", self.element)
    }
}

/// The type of a linear memory: size limits in pages (of 64 KiB unless
/// the custom-page-sizes proposal sets another size), index width and
/// sharing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    min: u64,
    max: Option<u64>,
    memory64: bool,
    shared: bool,
    page_size_log2: u8,
}

/// The log2 of WebAssembly's default page size, 64 KiB.
pub(crate) const DEFAULT_PAGE_SIZE_LOG2: u8 = 16;

impl MemoryType {
    /// Creates a 32-bit memory type with limits in pages.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            min: min.into(),
            max: max.map(Into::into),
            memory64: false,
            shared: false,
            page_size_log2: DEFAULT_PAGE_SIZE_LOG2,
        }
    }
    /// Creates a memory type with 64-bit addresses and limits in pages
    /// (needs `Config::wasm_memory64`).
    pub fn new64(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            min,
            max,
            memory64: true,
            shared: false,
            page_size_log2: DEFAULT_PAGE_SIZE_LOG2,
        }
    }
    /// Creates a 32-bit memory type shared between threads, with limits in
    /// pages (needs `Config::wasm_threads`; a shared memory always has a
    /// maximum).
    pub fn shared(min: u32, max: u32) -> MemoryType {
        MemoryType {
            min: min.into(),
            max: Some(max.into()),
            memory64: false,
            shared: true,
            page_size_log2: DEFAULT_PAGE_SIZE_LOG2,
        }
    }
    /// The same type with pages of `2^log2` bytes: 1 byte (`0`) or 64 KiB
    /// (`16`), the sizes of the custom-page-sizes proposal (needs
    /// `Config::wasm_custom_page_sizes` for 1).
    pub fn with_page_size_log2(self, log2: u8) -> MemoryType {
        MemoryType {
            page_size_log2: log2,
            ..self
        }
    }
    /// The log2 of the page size in bytes.
    pub fn page_size_log2(&self) -> u8 {
        self.page_size_log2
    }
    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }
    /// The minimum size in pages.
    pub fn minimum(&self) -> u64 {
        self.min
    }
    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }
    /// Whether addresses are 64-bit.
    pub fn is_64(&self) -> bool {
        self.memory64
    }
    /// Whether the memory is shared between threads.
    pub fn is_shared(&self) -> bool {
        self.shared
    }
    /// The same type with minimum `min` (a memory's current size).
    pub(crate) fn with_minimum(self, min: u64) -> MemoryType {
        MemoryType { min, ..self }
    }
    pub(crate) fn from_wasmparser(t: &wasmparser::MemoryType) -> MemoryType {
        MemoryType {
            min: t.initial,
            max: t.maximum,
            memory64: t.memory64,
            shared: t.shared,
            // Validation admits only sizes that fit (0 and 16).
            page_size_log2: t.page_size_log2.map_or(DEFAULT_PAGE_SIZE_LOG2, |l| l as u8),
        }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.memory64 {
            "(memory i64 "
        } else {
            "(memory "
        })?;
        write!(f, "{}", self.min)?;
        if let Some(max) = self.max {
            write!(f, " {max}")?;
        }
        if self.shared {
            f.write_str(" shared")?;
        }
        if self.page_size_log2 != DEFAULT_PAGE_SIZE_LOG2 {
            write!(f, " (pagesize {})", self.page_size())?;
        }
        f.write_str(")")
    }
}

/// The type of anything a module imports or exports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// An exception tag.
    Tag(TagType),
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Tag(t) => t.fmt(f),
        }
    }
}

/// The type of an exception tag: the function type whose parameters are
/// the values an exception with this tag carries (its results are empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// The tag type whose exceptions carry `ty`'s parameters.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The function type of the tag.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(tag")?;
        if !self.ty.params().is_empty() {
            f.write_str(" (param")?;
            for p in self.ty.params() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// One import of a module: where it comes from and what type it must have.
#[derive(Debug, Clone)]
pub struct ImportType<'m> {
    pub(crate) module: &'m str,
    pub(crate) name: &'m str,
    pub(crate) ty: ExternType,
}

impl<'m> ImportType<'m> {
    /// The module name of the import.
    pub fn module(&self) -> &'m str {
        self.module
    }
    /// The field name of the import.
    pub fn name(&self) -> &'m str {
        self.name
    }
    /// The type the import must have.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module: its name and type.
#[derive(Debug, Clone)]
pub struct ExportType<'m> {
    pub(crate) name: &'m str,
    pub(crate) ty: ExternType,
}

impl<'m> ExportType<'m> {
    /// The export's name.
    pub fn name(&self) -> &'m str {
        self.name
    }
    /// The type of the exported item.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
