//! Where the fields of GC objects live: computed once per registered
//! struct or array type (`RegisteredType::layout`), so both tiers find a
//! field's offset and size without looking at the type again.
//!
//! Every object starts with an 8-byte header ([`HEADER`]). A struct's
//! fields follow in declaration order, each at the next offset aligned to
//! its own size. That placement depends only on the fields before a
//! field, so a subtype (whose fields extend its supertype's) has its
//! supertype's fields at the same offsets, and `struct.get` can use the
//! layout of the type it names whatever subtype the object really is. An
//! array has its length (u32) after the header and its elements from
//! [`ARRAY_DATA`] on.
//!
//! A struct whose type has a descriptor (custom descriptors'
//! `descriptor` clause) keeps its descriptor, a 4-byte reference, in a
//! hidden first field at [`DESCRIPTOR`], before the declared fields.
//! Validation makes every type of a subtyping chain have a descriptor or
//! none, so the hidden field never shifts a supertype's fields.

use crate::types::{CompositeType, HeapType, StorageType, ValType};

/// Bytes of the header every object starts with (type index, then the
/// collector's word; see `runtime::gc`).
pub(crate) const HEADER: u32 = 8;

/// Where the descriptor reference (4 bytes) of a struct with one is.
pub(crate) const DESCRIPTOR: u32 = HEADER;

/// Where an array's length (u32) is.
pub(crate) const ARRAY_LEN: u32 = 8;

/// Where an array's first element is (16-byte aligned relative to the
/// object, so `i64`, `f64` and `v128` elements are naturally aligned).
pub(crate) const ARRAY_DATA: u32 = 16;

/// The bytes a field or element of `storage` takes: 1 and 2 for the
/// packed types, their size for numbers and vectors, 4 for references
/// (heap offsets and function indices), except the `extern` hierarchy's,
/// which keep their whole 64-bit cell until `externref` values move into
/// the heap (a host index, or an externalized `anyref` with bit 32 set).
pub(crate) fn storage_size(storage: StorageType) -> u8 {
    match storage {
        StorageType::I8 => 1,
        StorageType::I16 => 2,
        StorageType::Val(v) => match v {
            ValType::I32 | ValType::F32 => 4,
            ValType::I64 | ValType::F64 => 8,
            ValType::V128 => 16,
            ValType::Ref(r) if r.heap_type().top() == HeapType::Extern => 8,
            ValType::Ref(_) => 4,
        },
    }
}

/// One struct field: its offset from the object's start and its size in
/// bytes (1, 2, 4, 8 or 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldLayout {
    pub offset: u32,
    pub size: u8,
}

/// The layout of a struct or array type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GcLayout {
    /// A struct: its fields, its whole size (a multiple of 8) and
    /// whether it has a descriptor at [`DESCRIPTOR`].
    Struct {
        size: u32,
        fields: Box<[FieldLayout]>,
        descriptor: bool,
    },
    /// An array: the size of one element.
    Array { elem: u8 },
}

impl GcLayout {
    /// The layout of `ty`, `None` for a function type; `descriptor` when
    /// the type has a descriptor (only a struct type can).
    pub(crate) fn of(ty: &CompositeType, descriptor: bool) -> Option<GcLayout> {
        match ty {
            CompositeType::Func(_) => None,
            CompositeType::Struct(s) => {
                let mut at = if descriptor { DESCRIPTOR + 4 } else { HEADER };
                let fields = s
                    .fields()
                    .iter()
                    .map(|f| {
                        let size = storage_size(f.storage);
                        let align = u32::from(size);
                        at = at.div_ceil(align) * align;
                        let field = FieldLayout { offset: at, size };
                        at += align;
                        field
                    })
                    .collect();
                Some(GcLayout::Struct {
                    size: at.div_ceil(8) * 8,
                    fields,
                    descriptor,
                })
            }
            CompositeType::Array(a) => Some(GcLayout::Array {
                elem: storage_size(a.element().storage),
            }),
        }
    }

    /// The struct layout's size and fields.
    pub(crate) fn as_struct(&self) -> Option<(u32, &[FieldLayout])> {
        match self {
            GcLayout::Struct { size, fields, .. } => Some((*size, fields)),
            GcLayout::Array { .. } => None,
        }
    }

    /// Whether this is the layout of a struct with a descriptor (at
    /// [`DESCRIPTOR`]).
    pub(crate) fn has_descriptor(&self) -> bool {
        matches!(
            self,
            GcLayout::Struct {
                descriptor: true,
                ..
            }
        )
    }

    /// The array layout's element size.
    pub(crate) fn as_array(&self) -> Option<u8> {
        match self {
            GcLayout::Array { elem } => Some(*elem),
            GcLayout::Struct { .. } => None,
        }
    }
}

/// The size of an array of `len` elements of `elem` bytes, `None` when it
/// does not fit the heap's 32-bit offsets.
pub(crate) fn array_size(elem: u8, len: u32) -> Option<u32> {
    let bytes = u64::from(ARRAY_DATA) + u64::from(elem) * u64::from(len);
    u32::try_from(bytes.div_ceil(8) * 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FieldType, Mutability, RefType, StructType};

    fn field(storage: StorageType) -> FieldType {
        FieldType {
            storage,
            mutability: Mutability::Var,
        }
    }

    #[test]
    fn fields_are_aligned_and_a_prefix_keeps_its_offsets() {
        let i8f = field(StorageType::I8);
        let i64f = field(StorageType::Val(ValType::I64));
        let any = field(StorageType::Val(ValType::Ref(RefType::ANYREF)));
        let ext = field(StorageType::Val(ValType::EXTERNREF));
        let v = field(StorageType::Val(ValType::V128));
        let sup = CompositeType::Struct(StructType::new([i8f, i64f, any]));
        let sub = CompositeType::Struct(StructType::new([i8f, i64f, any, ext, v]));
        let (size, fields) = GcLayout::of(&sup, false)
            .unwrap()
            .as_struct()
            .map(|(s, f)| (s, f.to_vec()))
            .unwrap();
        // header 0..8, i8 at 8, i64 aligned to 16, anyref (4 bytes) at 24.
        let offsets: Vec<(u32, u8)> = fields.iter().map(|f| (f.offset, f.size)).collect();
        assert_eq!(offsets, [(8, 1), (16, 8), (24, 4)]);
        assert_eq!(size, 32);
        let sub = GcLayout::of(&sub, false).unwrap();
        let (size, fields) = sub.as_struct().unwrap();
        let offsets: Vec<(u32, u8)> = fields.iter().map(|f| (f.offset, f.size)).collect();
        assert_eq!(offsets, [(8, 1), (16, 8), (24, 4), (32, 8), (48, 16)]);
        assert_eq!(size, 64);
    }

    #[test]
    fn a_descriptor_comes_first_and_moves_every_field() {
        let i8f = field(StorageType::I8);
        let i64f = field(StorageType::Val(ValType::I64));
        let ty = CompositeType::Struct(StructType::new([i8f, i64f]));
        let l = GcLayout::of(&ty, true).unwrap();
        assert!(l.has_descriptor());
        let (size, fields) = l.as_struct().unwrap();
        // header 0..8, descriptor 8..12, i8 at 12, i64 aligned to 16.
        let offsets: Vec<(u32, u8)> = fields.iter().map(|f| (f.offset, f.size)).collect();
        assert_eq!(offsets, [(12, 1), (16, 8)]);
        assert_eq!(size, 24);
        // Without fields the object still holds the descriptor.
        let empty = CompositeType::Struct(StructType::new([]));
        assert_eq!(
            GcLayout::of(&empty, true).unwrap().as_struct().unwrap().0,
            16
        );
        assert!(!GcLayout::of(&empty, false).unwrap().has_descriptor());
    }

    #[test]
    fn array_sizes_overflow_to_none() {
        assert_eq!(array_size(1, 0), Some(16));
        assert_eq!(array_size(1, 3), Some(24));
        assert_eq!(array_size(8, u32::MAX), None);
        assert_eq!(array_size(1, u32::MAX), None);
    }
}
