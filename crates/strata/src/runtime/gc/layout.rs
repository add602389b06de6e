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
//! hidden field ([`DescriptorSlot`]). A type's subtypes have a descriptor
//! too, but its supertypes need not, so the hidden field goes where the
//! first type of the chain with a descriptor begins its own fields: after
//! its supertype's fields (first of all for a type without supertype),
//! and every subtype keeps it there. The supertypes' fields never move.

use crate::types::{CompositeType, StorageType, ValType};

/// Bytes of the header every object starts with (type index, then the
/// collector's word; see `runtime::gc`).
pub(crate) const HEADER: u32 = 8;

/// Where an array's length (u32) is.
pub(crate) const ARRAY_LEN: u32 = 8;

/// Where an array's first element is (16-byte aligned relative to the
/// object, so `i64`, `f64` and `v128` elements are naturally aligned).
pub(crate) const ARRAY_DATA: u32 = 16;

/// The bytes a field or element of `storage` takes: 1 and 2 for the
/// packed types, their size for numbers and vectors, 4 for references
/// (heap offsets, of every hierarchy but `func`, and function indices).
pub(crate) fn storage_size(storage: StorageType) -> u8 {
    match storage {
        StorageType::I8 => 1,
        StorageType::I16 => 2,
        StorageType::Val(v) => match v {
            ValType::I32 | ValType::F32 => 4,
            ValType::I64 | ValType::F64 => 8,
            ValType::V128 => 16,
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

/// Where a struct's descriptor lies: before declared field `before`
/// (after all of them when it equals their count), at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DescriptorSlot {
    pub before: u32,
    pub offset: u32,
}

/// The layout of a struct or array type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GcLayout {
    /// A struct: its fields, its whole size (a multiple of 8) and where
    /// its descriptor is, if it has one.
    Struct {
        size: u32,
        fields: Box<[FieldLayout]>,
        descriptor: Option<DescriptorSlot>,
    },
    /// An array: the size of one element.
    Array { elem: u8 },
}

impl GcLayout {
    /// The layout of `ty`, `None` for a function type; `descriptor`: for
    /// a struct type with a descriptor, the declared field its descriptor
    /// goes before (see [`GcLayout::descriptor_before`]).
    pub(crate) fn of(ty: &CompositeType, descriptor: Option<u32>) -> Option<GcLayout> {
        /// The offset of a `size`-byte field placed at or after `at`
        /// (aligned to its size); moves `at` past it.
        fn place(at: &mut u32, size: u8) -> u32 {
            let align = u32::from(size);
            let offset = at.div_ceil(align) * align;
            *at = offset + align;
            offset
        }
        match ty {
            CompositeType::Func(_) => None,
            CompositeType::Struct(s) => {
                let mut at = HEADER;
                let mut slot = None;
                let mut fields = Vec::with_capacity(s.fields().len());
                for (i, f) in s.fields().iter().enumerate() {
                    if descriptor == Some(i as u32) {
                        let offset = place(&mut at, 4);
                        slot = Some(DescriptorSlot {
                            before: i as u32,
                            offset,
                        });
                    }
                    let size = storage_size(f.storage);
                    let offset = place(&mut at, size);
                    fields.push(FieldLayout { offset, size });
                }
                if let Some(before) = descriptor.filter(|_| slot.is_none()) {
                    let offset = place(&mut at, 4);
                    slot = Some(DescriptorSlot { before, offset });
                }
                Some(GcLayout::Struct {
                    size: at.div_ceil(8) * 8,
                    fields: fields.into(),
                    descriptor: slot,
                })
            }
            CompositeType::Array(a) => Some(GcLayout::Array {
                elem: storage_size(a.element().storage),
            }),
        }
    }

    /// The `descriptor` argument of [`GcLayout::of`] for a struct type
    /// with a descriptor whose supertype's layout is `sup`: where the
    /// supertype keeps its descriptor, or, when it has none, after its
    /// fields (first for a type without supertype).
    pub(crate) fn descriptor_before(sup: Option<&GcLayout>) -> u32 {
        match sup {
            Some(GcLayout::Struct {
                descriptor: Some(d),
                ..
            }) => d.before,
            Some(GcLayout::Struct { fields, .. }) => fields.len() as u32,
            _ => 0,
        }
    }

    /// The struct layout's size and fields.
    pub(crate) fn as_struct(&self) -> Option<(u32, &[FieldLayout])> {
        match self {
            GcLayout::Struct { size, fields, .. } => Some((*size, fields)),
            GcLayout::Array { .. } => None,
        }
    }

    /// Where a struct with a descriptor keeps it (from the object's
    /// start); `None` for any other type.
    pub(crate) fn descriptor(&self) -> Option<u32> {
        match self {
            GcLayout::Struct {
                descriptor: Some(d),
                ..
            } => Some(d.offset),
            _ => None,
        }
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
        let (size, fields) = GcLayout::of(&sup, None)
            .unwrap()
            .as_struct()
            .map(|(s, f)| (s, f.to_vec()))
            .unwrap();
        // header 0..8, i8 at 8, i64 aligned to 16, anyref (4 bytes) at 24.
        let offsets: Vec<(u32, u8)> = fields.iter().map(|f| (f.offset, f.size)).collect();
        assert_eq!(offsets, [(8, 1), (16, 8), (24, 4)]);
        assert_eq!(size, 32);
        let sub = GcLayout::of(&sub, None).unwrap();
        let (size, fields) = sub.as_struct().unwrap();
        let offsets: Vec<(u32, u8)> = fields.iter().map(|f| (f.offset, f.size)).collect();
        // The supertype's fields where they were; the externref (a heap
        // reference too, 4 bytes) at 28, the v128 aligned to 32.
        assert_eq!(offsets, [(8, 1), (16, 8), (24, 4), (28, 4), (32, 16)]);
        assert_eq!(size, 48);
    }

    #[test]
    fn a_descriptor_goes_after_the_supertypes_fields() {
        let i8f = field(StorageType::I8);
        let i64f = field(StorageType::Val(ValType::I64));
        let offsets = |l: &GcLayout| -> Vec<(u32, u8)> {
            let (_, fields) = l.as_struct().unwrap();
            fields.iter().map(|f| (f.offset, f.size)).collect()
        };
        // A root type with a descriptor: header 0..8, descriptor 8..12,
        // i8 at 12, i64 aligned to 16.
        let ty = CompositeType::Struct(StructType::new([i8f, i64f]));
        let root = GcLayout::of(&ty, Some(GcLayout::descriptor_before(None))).unwrap();
        assert_eq!(root.descriptor(), Some(8));
        assert_eq!(offsets(&root), [(12, 1), (16, 8)]);
        assert_eq!(root.as_struct().unwrap().0, 24);
        // A subtype keeps it there.
        let sub_ty = CompositeType::Struct(StructType::new([i8f, i64f, i8f]));
        let sub = GcLayout::of(&sub_ty, Some(GcLayout::descriptor_before(Some(&root)))).unwrap();
        assert_eq!(sub.descriptor(), Some(8));
        assert_eq!(offsets(&sub), [(12, 1), (16, 8), (24, 1)]);
        // Below a supertype without one, it follows the supertype's
        // fields, which keep their offsets.
        let plain = GcLayout::of(&ty, None).unwrap();
        assert_eq!(plain.descriptor(), None);
        let sub = GcLayout::of(&sub_ty, Some(GcLayout::descriptor_before(Some(&plain)))).unwrap();
        assert_eq!(offsets(&plain), [(8, 1), (16, 8)]);
        assert_eq!(offsets(&sub), [(8, 1), (16, 8), (28, 1)]);
        assert_eq!(sub.descriptor(), Some(24));
        // Without fields the object still holds the descriptor.
        let empty = CompositeType::Struct(StructType::new([]));
        let l = GcLayout::of(&empty, Some(0)).unwrap();
        assert_eq!((l.as_struct().unwrap().0, l.descriptor()), (16, Some(8)));
        let sub = GcLayout::of(&ty, Some(GcLayout::descriptor_before(Some(&l)))).unwrap();
        assert_eq!(sub.descriptor(), Some(8));
    }

    #[test]
    fn array_sizes_overflow_to_none() {
        assert_eq!(array_size(1, 0), Some(16));
        assert_eq!(array_size(1, 3), Some(24));
        assert_eq!(array_size(8, u32::MAX), None);
        assert_eq!(array_size(1, u32::MAX), None);
    }
}
