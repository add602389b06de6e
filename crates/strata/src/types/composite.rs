//! Composite types, the definitions a module's type section holds:
//! function signatures, structs and arrays.

use super::raw::cell_offsets;
use super::{Mutability, ValType};
use std::fmt;

/// The signature of a function: parameter and result types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params_results: Box<[ValType]>,
    len_params: usize,
    /// Where each parameter, then each result, starts in a cell buffer of
    /// the host calling convention, plus the cell counts of the parameters
    /// and of the results (`types::raw`).
    cells: Box<[u32]>,
}

impl FuncType {
    /// Creates a function type from its parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        let mut all: Vec<ValType> = params.into_iter().collect();
        let len_params = all.len();
        all.extend(results);
        let (params, results) = all.split_at(len_params);
        let (mut cells, param_cells) = cell_offsets(params);
        let (result_offsets, result_cells) = cell_offsets(results);
        cells.extend(result_offsets);
        cells.extend([param_cells, result_cells]);
        FuncType {
            params_results: all.into(),
            len_params,
            cells: cells.into(),
        }
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params_results[..self.len_params]
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.params_results[self.len_params..]
    }

    /// The cell where parameter `i` starts in a call's cell buffer.
    pub(crate) fn param_cell(&self, i: usize) -> usize {
        self.cells[i] as usize
    }

    /// The cell where result `i` starts in a call's cell buffer.
    pub(crate) fn result_cell(&self, i: usize) -> usize {
        self.cells[self.len_params + i] as usize
    }

    /// How many cells the parameters take.
    pub(crate) fn param_cells(&self) -> usize {
        self.cells[self.cells.len() - 2] as usize
    }

    /// How many cells the results take.
    pub(crate) fn result_cells(&self) -> usize {
        self.cells[self.cells.len() - 1] as usize
    }

    /// The size of a call's cell buffer: arguments go in, results come back
    /// in the same cells.
    pub(crate) fn buffer_cells(&self) -> usize {
        self.param_cells().max(self.result_cells())
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params().is_empty() {
            f.write_str(" (param")?;
            for p in self.params() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results().is_empty() {
            f.write_str(" (result")?;
            for r in self.results() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// How a struct field or array element is stored: a value type, or a packed
/// 8- or 16-bit integer read back with sign or zero extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// A packed 8-bit integer.
    I8,
    /// A packed 16-bit integer.
    I16,
    /// A full value.
    Val(ValType),
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageType::I8 => f.write_str("i8"),
            StorageType::I16 => f.write_str("i16"),
            StorageType::Val(v) => v.fmt(f),
        }
    }
}

/// A struct field or array element: how it is stored and whether it can be
/// written after allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldType {
    /// How the field is stored.
    pub storage: StorageType,
    /// Whether `struct.set` / `array.set` may write it.
    pub mutability: Mutability,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Var => write!(f, "(mut {})", self.storage),
            Mutability::Const => self.storage.fmt(f),
        }
    }
}

/// The type of a struct: its fields, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructType {
    fields: Box<[FieldType]>,
}

impl StructType {
    /// A struct type with these fields.
    pub fn new(fields: impl IntoIterator<Item = FieldType>) -> StructType {
        StructType {
            fields: fields.into_iter().collect(),
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[FieldType] {
        &self.fields
    }
}

/// The type of an array: its element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArrayType {
    element: FieldType,
}

impl ArrayType {
    /// An array type of `element`s.
    pub fn new(element: FieldType) -> ArrayType {
        ArrayType { element }
    }

    /// The element type.
    pub fn element(&self) -> FieldType {
        self.element
    }
}

/// What a type definition defines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CompositeType {
    Func(FuncType),
    Struct(StructType),
    Array(ArrayType),
}

impl CompositeType {
    /// The function type, if this defines one.
    pub(crate) fn as_func(&self) -> Option<&FuncType> {
        match self {
            CompositeType::Func(f) => Some(f),
            _ => None,
        }
    }

    /// Every value type the definition mentions, for rewriting type
    /// references.
    pub(crate) fn map_val_types(&self, f: &mut impl FnMut(ValType) -> ValType) -> CompositeType {
        fn field(t: FieldType, f: &mut impl FnMut(ValType) -> ValType) -> FieldType {
            FieldType {
                storage: match t.storage {
                    StorageType::Val(v) => StorageType::Val(f(v)),
                    packed => packed,
                },
                mutability: t.mutability,
            }
        }
        match self {
            CompositeType::Func(t) => {
                let params: Vec<ValType> = t.params().iter().map(|v| f(*v)).collect();
                let results: Vec<ValType> = t.results().iter().map(|v| f(*v)).collect();
                CompositeType::Func(FuncType::new(params, results))
            }
            CompositeType::Struct(s) => {
                let fields: Vec<FieldType> = s.fields().iter().map(|t| field(*t, f)).collect();
                CompositeType::Struct(StructType::new(fields))
            }
            CompositeType::Array(a) => CompositeType::Array(ArrayType::new(field(a.element(), f))),
        }
    }
}

impl fmt::Display for CompositeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompositeType::Func(t) => t.fmt(f),
            CompositeType::Struct(s) => {
                f.write_str("(struct")?;
                for field in s.fields() {
                    write!(f, " (field {field})")?;
                }
                f.write_str(")")
            }
            CompositeType::Array(a) => write!(f, "(array {})", a.element()),
        }
    }
}
