//! The GC proposal's instructions (structs, arrays, `i31`, casts and the
//! `extern`/`any` conversions). They all touch the store's heap, so they
//! are not rows of pure semantics: the interpreter translates each to one
//! `Op::Gc` of the kind below, followed by one `Ext` word, and runs it in
//! the driver (`interp/gc.rs`, with the heap in `runtime/gc`). The JIT
//! inlines the simple ones and calls the driver's code for the others
//! (`jit/gc.rs`). Both translators read a wasm operator's kind and
//! immediates through [`decode`] (and [`decode_br_on_cast`]).
//!
//! Operands, as `Op::Gc { op, a, b, c }` then `Ext { a: d, b: e, c: f }`
//! (slots unless said otherwise; `t` is a module type index, `seg` a
//! segment index, `ht` a heap type encoded by [`encode_heap`]):
//!
//! | op | a | b | c | d | e | f |
//! |---|---|---|---|---|---|---|
//! | `StructNew` | dst | t | fields (consecutive) | | | |
//! | `StructNewDefault` | dst | t | | | | |
//! | `StructGet[S/U]` | dst | object | t | field | | |
//! | `StructSet` | object | value | t | field | | |
//! | `ArrayNew` | dst | value | len | t | | |
//! | `ArrayNewDefault` | dst | len | t | | | |
//! | `ArrayNewFixed` | dst | values (consecutive) | t | count | | |
//! | `ArrayNewData/Elem` | dst | offset | len | t | seg | |
//! | `ArrayGet[S/U]` | dst | array | index | t | | |
//! | `ArraySet` | array | index | value | t | | |
//! | `ArrayLen` | dst | array | | | | |
//! | `ArrayFill` | array | offset | value | len | t | |
//! | `ArrayCopy` | dst array | dst offset | src array | src offset | len | t |
//! | `ArrayInitData/Elem` | array | dst offset | src offset | len | t | seg |
//! | `RefI31`, `I31GetS/U` | dst | src | | | | |
//! | `RefTest`, `RefCast` | dst | src | [`cast_flags`] | ht kind | ht index | |
//! | `RefEq` | dst | lhs | rhs | | | |
//! | `AnyConvertExtern`, `ExternConvertAny` | dst | src | | | | |
//! | `StructNewDesc` | dst | t | fields, then descriptor (consecutive) | | | |
//! | `StructNewDefaultDesc` | dst | t | descriptor | | | |
//! | `RefGetDesc` | dst | object | t | | | |
//! | `RefTestDesc`, `RefCastDesc` | dst | src | [`cast_flags`] | descriptor | t | |
//!
//! The last rows are the custom-descriptors proposal's: a struct whose
//! type has a descriptor holds it in a hidden field where the type's
//! layout says (`runtime::gc::layout::DescriptorSlot`). `RefCastDesc` is
//! `ref.cast_desc_eq`; `RefTestDesc` is its test for `br_on_cast_desc_eq`
//! and `br_on_cast_desc_eq_fail` (a 0 or 1 result; a null descriptor
//! traps, as in the cast). Their `t` is a module type index, in both
//! tiers.

use crate::types::{HeapType, RefType, SharedTypeIndex};

/// One GC instruction kind (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GcOp {
    StructNew,
    StructNewDefault,
    StructGet,
    StructGetS,
    StructGetU,
    StructSet,
    ArrayNew,
    ArrayNewDefault,
    ArrayNewFixed,
    ArrayNewData,
    ArrayNewElem,
    ArrayGet,
    ArrayGetS,
    ArrayGetU,
    ArraySet,
    ArrayLen,
    ArrayFill,
    ArrayCopy,
    ArrayInitData,
    ArrayInitElem,
    RefI31,
    I31GetS,
    I31GetU,
    RefTest,
    RefCast,
    RefEq,
    AnyConvertExtern,
    ExternConvertAny,
    StructNewDesc,
    StructNewDefaultDesc,
    RefGetDesc,
    RefTestDesc,
    RefCastDesc,
}

impl GcOp {
    /// Every `GcOp`, indexed by its discriminant (what compiled code passes
    /// to `helpers::gc`).
    #[cfg(strata_jit)]
    pub(crate) const ALL: [GcOp; 33] = {
        use GcOp::*;
        [
            StructNew,
            StructNewDefault,
            StructGet,
            StructGetS,
            StructGetU,
            StructSet,
            ArrayNew,
            ArrayNewDefault,
            ArrayNewFixed,
            ArrayNewData,
            ArrayNewElem,
            ArrayGet,
            ArrayGetS,
            ArrayGetU,
            ArraySet,
            ArrayLen,
            ArrayFill,
            ArrayCopy,
            ArrayInitData,
            ArrayInitElem,
            RefI31,
            I31GetS,
            I31GetU,
            RefTest,
            RefCast,
            RefEq,
            AnyConvertExtern,
            ExternConvertAny,
            StructNewDesc,
            StructNewDefaultDesc,
            RefGetDesc,
            RefTestDesc,
            RefCastDesc,
        ]
    };

    /// Whether the instruction allocates in the heap: a safepoint, where
    /// the collector may run.
    pub(crate) fn allocates(self) -> bool {
        matches!(
            self,
            GcOp::StructNew
                | GcOp::StructNewDefault
                | GcOp::ArrayNew
                | GcOp::ArrayNewDefault
                | GcOp::ArrayNewFixed
                | GcOp::ArrayNewData
                | GcOp::ArrayNewElem
                | GcOp::StructNewDesc
                | GcOp::StructNewDefaultDesc
        )
    }
}

/// A GC operator decoded ([`decode`]): its kind and immediates, read the
/// same way for both translators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GcOperator {
    pub op: GcOp,
    /// The module type it names: a struct or array type (the
    /// destination's, for `array.copy`); 0 when it names none.
    pub ty: u32,
    /// The field (`struct.get/set`), the element count
    /// (`array.new_fixed`) or the segment (`array.new_data/elem`,
    /// `array.init_data/elem`); 0 otherwise.
    pub index: u32,
    /// For `ref.test`, `ref.cast` and `ref.cast_desc_eq`: the target heap
    /// type, and whether it admits null.
    pub cast: Option<(wasmparser::HeapType, bool)>,
}

/// The GC instruction `op` is, or `None` (also for `br_on_cast` and
/// `br_on_cast_fail`, which are branches the translators build from a
/// `RefTest`).
pub(crate) fn decode(op: &wasmparser::Operator<'_>) -> Option<GcOperator> {
    use wasmparser::Operator as O;
    let cast = |op, hty, nullable| GcOperator {
        op,
        ty: 0,
        index: 0,
        cast: Some((hty, nullable)),
    };
    let (op, ty, index) = match *op {
        O::StructNew { struct_type_index } => (GcOp::StructNew, struct_type_index, 0),
        O::StructNewDefault { struct_type_index } => (GcOp::StructNewDefault, struct_type_index, 0),
        O::StructGet {
            struct_type_index,
            field_index,
        } => (GcOp::StructGet, struct_type_index, field_index),
        O::StructGetS {
            struct_type_index,
            field_index,
        } => (GcOp::StructGetS, struct_type_index, field_index),
        O::StructGetU {
            struct_type_index,
            field_index,
        } => (GcOp::StructGetU, struct_type_index, field_index),
        O::StructSet {
            struct_type_index,
            field_index,
        } => (GcOp::StructSet, struct_type_index, field_index),
        O::ArrayNew { array_type_index } => (GcOp::ArrayNew, array_type_index, 0),
        O::ArrayNewDefault { array_type_index } => (GcOp::ArrayNewDefault, array_type_index, 0),
        O::ArrayNewFixed {
            array_type_index,
            array_size,
        } => (GcOp::ArrayNewFixed, array_type_index, array_size),
        O::ArrayNewData {
            array_type_index,
            array_data_index,
        } => (GcOp::ArrayNewData, array_type_index, array_data_index),
        O::ArrayNewElem {
            array_type_index,
            array_elem_index,
        } => (GcOp::ArrayNewElem, array_type_index, array_elem_index),
        O::ArrayGet { array_type_index } => (GcOp::ArrayGet, array_type_index, 0),
        O::ArrayGetS { array_type_index } => (GcOp::ArrayGetS, array_type_index, 0),
        O::ArrayGetU { array_type_index } => (GcOp::ArrayGetU, array_type_index, 0),
        O::ArraySet { array_type_index } => (GcOp::ArraySet, array_type_index, 0),
        O::ArrayLen => (GcOp::ArrayLen, 0, 0),
        O::ArrayFill { array_type_index } => (GcOp::ArrayFill, array_type_index, 0),
        O::ArrayCopy {
            array_type_index_dst,
            ..
        } => (GcOp::ArrayCopy, array_type_index_dst, 0),
        O::ArrayInitData {
            array_type_index,
            array_data_index,
        } => (GcOp::ArrayInitData, array_type_index, array_data_index),
        O::ArrayInitElem {
            array_type_index,
            array_elem_index,
        } => (GcOp::ArrayInitElem, array_type_index, array_elem_index),
        O::RefI31 => (GcOp::RefI31, 0, 0),
        O::I31GetS => (GcOp::I31GetS, 0, 0),
        O::I31GetU => (GcOp::I31GetU, 0, 0),
        O::RefEq => (GcOp::RefEq, 0, 0),
        O::RefTestNonNull { hty } => return Some(cast(GcOp::RefTest, hty, false)),
        O::RefTestNullable { hty } => return Some(cast(GcOp::RefTest, hty, true)),
        O::RefCastNonNull { hty } => return Some(cast(GcOp::RefCast, hty, false)),
        O::RefCastNullable { hty } => return Some(cast(GcOp::RefCast, hty, true)),
        O::AnyConvertExtern => (GcOp::AnyConvertExtern, 0, 0),
        O::ExternConvertAny => (GcOp::ExternConvertAny, 0, 0),
        O::StructNewDesc { struct_type_index } => (GcOp::StructNewDesc, struct_type_index, 0),
        O::StructNewDefaultDesc { struct_type_index } => {
            (GcOp::StructNewDefaultDesc, struct_type_index, 0)
        }
        O::RefGetDesc { type_index } => (GcOp::RefGetDesc, type_index, 0),
        O::RefCastDescEqNonNull { hty } => return Some(desc_cast(hty, false)),
        O::RefCastDescEqNullable { hty } => return Some(desc_cast(hty, true)),
        _ => return None,
    };
    Some(GcOperator {
        op,
        ty,
        index,
        cast: None,
    })
}

/// A `ref.cast_desc_eq` to `hty` (a concrete type: validated).
fn desc_cast(hty: wasmparser::HeapType, nullable: bool) -> GcOperator {
    GcOperator {
        op: GcOp::RefCastDesc,
        ty: desc_cast_target(hty),
        index: 0,
        cast: Some((hty, nullable)),
    }
}

/// The module type index of a descriptor cast's target heap type (which
/// validation makes a concrete type with a descriptor); 0 otherwise.
fn desc_cast_target(hty: wasmparser::HeapType) -> u32 {
    match hty {
        wasmparser::HeapType::Concrete(i) | wasmparser::HeapType::Exact(i) => {
            i.as_module_index().unwrap_or(0)
        }
        wasmparser::HeapType::Abstract { .. } => 0,
    }
}

/// A branching cast decoded ([`decode_br_on_cast`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BrOnCast {
    /// The label depth.
    pub depth: u32,
    /// The target type.
    pub to: wasmparser::RefType,
    /// Whether it branches when the cast fails (`br_on_cast_fail`,
    /// `br_on_cast_desc_eq_fail`).
    pub on_fail: bool,
    /// For `br_on_cast_desc_eq(_fail)`, which take a descriptor operand
    /// above the reference: the target's module type index.
    pub desc: Option<u32>,
}

/// A `br_on_cast`, `br_on_cast_fail`, `br_on_cast_desc_eq` or
/// `br_on_cast_desc_eq_fail`; `None` for any other operator.
pub(crate) fn decode_br_on_cast(op: &wasmparser::Operator<'_>) -> Option<BrOnCast> {
    use wasmparser::Operator as O;
    let (depth, to, on_fail, desc) = match *op {
        O::BrOnCast {
            relative_depth,
            to_ref_type,
            ..
        } => (relative_depth, to_ref_type, false, false),
        O::BrOnCastFail {
            relative_depth,
            to_ref_type,
            ..
        } => (relative_depth, to_ref_type, true, false),
        O::BrOnCastDescEq {
            relative_depth,
            to_ref_type,
            ..
        } => (relative_depth, to_ref_type, false, true),
        O::BrOnCastDescEqFail {
            relative_depth,
            to_ref_type,
            ..
        } => (relative_depth, to_ref_type, true, true),
        _ => return None,
    };
    Some(BrOnCast {
        depth,
        to,
        on_fail,
        desc: desc.then(|| desc_cast_target(to.heap_type())),
    })
}

/// The flags operand of a cast to `to`: bit 0 whether null passes, bit 1
/// whether the target is exact (only its own type passes, not a subtype).
pub(crate) fn cast_flags(to: RefType) -> u32 {
    u32::from(to.is_nullable()) | u32::from(to.is_exact()) << 1
}

/// The target type of a cast whose operands are [`cast_flags`] and the
/// heap type [`encode_heap`] encoded.
pub(crate) fn decode_cast(flags: u32, kind: u32, index: u32) -> RefType {
    let (nullable, heap) = (flags & 1 != 0, decode_heap(kind, index));
    let exact = match flags & 2 != 0 {
        true => RefType::new_exact(nullable, heap),
        false => None,
    };
    exact.unwrap_or(RefType::new(nullable, heap))
}

/// A heap type as two `u32`s (kind, shared index of a concrete type), for
/// an instruction's operands.
pub(crate) fn encode_heap(h: HeapType) -> (u32, u32) {
    match h {
        HeapType::Extern => (0, 0),
        HeapType::NoExtern => (1, 0),
        HeapType::Func => (2, 0),
        HeapType::NoFunc => (3, 0),
        HeapType::Any => (4, 0),
        HeapType::Eq => (5, 0),
        HeapType::I31 => (6, 0),
        HeapType::Struct => (7, 0),
        HeapType::Array => (8, 0),
        HeapType::None => (9, 0),
        HeapType::Exn => (10, 0),
        HeapType::NoExn => (11, 0),
        HeapType::ConcreteFunc(i) => (12, i.bits()),
        HeapType::ConcreteStruct(i) => (13, i.bits()),
        HeapType::ConcreteArray(i) => (14, i.bits()),
    }
}

/// The heap type [`encode_heap`] encoded.
pub(crate) fn decode_heap(kind: u32, index: u32) -> HeapType {
    let i = SharedTypeIndex(index);
    match kind {
        0 => HeapType::Extern,
        1 => HeapType::NoExtern,
        2 => HeapType::Func,
        3 => HeapType::NoFunc,
        4 => HeapType::Any,
        5 => HeapType::Eq,
        6 => HeapType::I31,
        7 => HeapType::Struct,
        8 => HeapType::Array,
        9 => HeapType::None,
        10 => HeapType::Exn,
        11 => HeapType::NoExn,
        12 => HeapType::ConcreteFunc(i),
        13 => HeapType::ConcreteStruct(i),
        _ => HeapType::ConcreteArray(i),
    }
}

#[test]
fn heap_types_round_trip() {
    let i = SharedTypeIndex(7);
    for h in [
        HeapType::Extern,
        HeapType::NoExtern,
        HeapType::Func,
        HeapType::NoFunc,
        HeapType::Any,
        HeapType::Eq,
        HeapType::I31,
        HeapType::Struct,
        HeapType::Array,
        HeapType::None,
        HeapType::Exn,
        HeapType::NoExn,
        HeapType::ConcreteFunc(i),
        HeapType::ConcreteStruct(i),
        HeapType::ConcreteArray(i),
    ] {
        let (k, x) = encode_heap(h);
        assert_eq!(decode_heap(k, x), h);
    }
}

#[cfg(strata_jit)]
#[test]
fn every_gc_op_is_indexed_by_its_discriminant() {
    for (i, op) in GcOp::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
}
