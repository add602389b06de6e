//! The GC proposal's instructions (structs, arrays, `i31`, casts and the
//! `extern`/`any` conversions). They all touch the store's heap, so they
//! are not rows of pure semantics: the interpreter translates each to one
//! `Op::Gc` of the kind below, followed by one `Ext` word, and runs it in
//! the driver (`interp/gc.rs`, with the heap in `runtime/gc`). The JIT
//! inlines the simple ones and calls the driver's code for the others
//! (`jit/gc.rs`).
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
//! | `RefTest`, `RefCast` | dst | src | nullable | ht kind | ht index | |
//! | `RefEq` | dst | lhs | rhs | | | |
//! | `AnyConvertExtern`, `ExternConvertAny` | dst | src | | | | |

use crate::types::{HeapType, SharedTypeIndex};

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
}

impl GcOp {
    /// Every `GcOp`, indexed by its discriminant (what compiled code passes
    /// to `helpers::gc`).
    pub(crate) const ALL: [GcOp; 28] = {
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
                | GcOp::AnyConvertExtern
        )
    }
}

/// Whether wasm operator `op` allocates in the GC heap: the operators of
/// the `GcOp`s whose [`GcOp::allocates`] is true.
pub(crate) fn operator_allocates(op: &wasmparser::Operator<'_>) -> bool {
    use wasmparser::Operator as O;
    matches!(
        op,
        O::StructNew { .. }
            | O::StructNewDefault { .. }
            | O::ArrayNew { .. }
            | O::ArrayNewDefault { .. }
            | O::ArrayNewFixed { .. }
            | O::ArrayNewData { .. }
            | O::ArrayNewElem { .. }
            | O::AnyConvertExtern
    )
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

#[test]
fn every_gc_op_is_indexed_by_its_discriminant() {
    for (i, op) in GcOp::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
}
