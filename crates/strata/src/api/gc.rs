//! The host's view of GC references, in wasmtime's vocabulary: [`I31`],
//! [`EqRef`] (`from_i31`, `as_struct`, `ref_eq`, ...),
//! [`AnyRef`] (with `from_i31`, `as_i31`, `is_struct`, ...), [`StructRef`]
//! and [`ArrayRef`] readable and writable from Rust, and the `extern` /
//! `any` conversions. Handles are roots (`runtime::gc::roots::HostRoots`):
//! an object lives while a handle's scope does, and a handle used after its
//! scope ended is an error (`api/gc_roots.rs`).

use super::values::{AnyRef, ExternRef, Val};
use crate::runtime::gc::{self, GcHeap, Kind};
use crate::runtime::store::StoreInner;
use crate::types::registry::RegisteredType;
use crate::types::{CompositeType, FieldType, Mutability, StorageType, ValType};
use crate::{AsContext, AsContextMut};
use anyhow::{bail, Result};
use std::sync::Arc;

/// An unboxed 31-bit integer (`i31ref`'s payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The `i31` of `v`'s low 31 bits (wasm's `ref.i31`).
    pub fn wrapping_i32(v: i32) -> I31 {
        I31(v as u32 & 0x7fff_ffff)
    }

    /// The `i31` of `v`'s low 31 bits.
    pub fn wrapping_u32(v: u32) -> I31 {
        I31(v & 0x7fff_ffff)
    }

    /// `v` as an `i31`, if it fits (signed).
    pub fn new_i32(v: i32) -> Option<I31> {
        (-(1 << 30)..(1 << 30))
            .contains(&v)
            .then(|| I31::wrapping_i32(v))
    }

    /// `v` as an `i31`, if it fits (unsigned).
    pub fn new_u32(v: u32) -> Option<I31> {
        (v < 1 << 31).then_some(I31(v))
    }

    /// The value sign-extended (`i31.get_s`).
    pub fn get_i32(&self) -> i32 {
        gc::i31_get(gc::i31_new(self.0), true) as i32
    }

    /// The value zero-extended (`i31.get_u`).
    pub fn get_u32(&self) -> u32 {
        self.0
    }
}

impl AnyRef {
    /// The `anyref` of an `i31`.
    pub fn from_i31(store: impl AsContext, value: I31) -> AnyRef {
        AnyRef {
            store_id: store.as_context().inner.id,
            raw: gc::i31_new(value.0) as u32,
            serial: 0,
        }
    }

    /// The `anyref` of a host reference (wasm's `any.convert_extern`);
    /// [`ExternRef::convert_any`] gives the same host reference back.
    pub fn convert_extern(mut store: impl AsContextMut, r: ExternRef) -> Result<AnyRef> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_ref(r.store_id, r.serial)?;
        // One encoding for both hierarchies: the same object.
        Ok(AnyRef::rooted(inner, r.raw as u32))
    }

    fn inner<'a>(&self, store: &'a impl AsContext) -> Result<&'a StoreInner> {
        let inner = &store.as_context().inner;
        inner.check_ref(self.store_id, self.serial)?;
        Ok(inner)
    }

    /// What the reference is: `None` for an `i31`.
    fn kind(&self, store: &impl AsContext) -> Result<Option<Kind>> {
        let inner = self.inner(store)?;
        Ok((!gc::is_i31(u64::from(self.raw))).then(|| inner.gc.header(self.raw).kind()))
    }

    /// Whether this is an `i31ref`.
    pub fn is_i31(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.kind(&store)?.is_none())
    }

    /// The `i31`, if this is one.
    pub fn as_i31(&self, store: impl AsContext) -> Result<Option<I31>> {
        Ok(self
            .is_i31(store)?
            .then(|| I31(gc::i31_get(u64::from(self.raw), false))))
    }

    /// Whether this is a struct.
    pub fn is_struct(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.kind(&store)? == Some(Kind::Struct))
    }

    /// Whether this is an array.
    pub fn is_array(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.kind(&store)? == Some(Kind::Array))
    }

    /// Whether this is an `eqref` (an `i31`, a struct or an array, not an
    /// internalized host reference).
    pub fn is_eqref(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.kind(&store)? != Some(Kind::Extern))
    }

    /// The struct, if this is one.
    pub fn as_struct(&self, store: impl AsContext) -> Result<Option<StructRef>> {
        Ok(self.is_struct(store)?.then_some(StructRef(*self)))
    }

    /// The array, if this is one.
    pub fn as_array(&self, store: impl AsContext) -> Result<Option<ArrayRef>> {
        Ok(self.is_array(store)?.then_some(ArrayRef(*self)))
    }
}

impl ExternRef {
    /// The `externref` of an `anyref` (wasm's `extern.convert_any`).
    pub fn convert_any(store: impl AsContext, r: AnyRef) -> Result<ExternRef> {
        let inner = &store.as_context().inner;
        inner.check_ref(r.store_id, r.serial)?;
        Ok(ExternRef::rooted(inner, u64::from(r.raw)))
    }
}

/// A struct in a store's GC heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StructRef(AnyRef);

/// An array in a store's GC heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArrayRef(AnyRef);

/// The registered type of object `r`.
fn object_type(inner: &StoreInner, r: u32) -> Result<Arc<RegisteredType>> {
    match inner.engine.types().get(inner.gc.type_of(r)) {
        Some(ty) => Ok(ty),
        None => bail!("the object's type is not registered"),
    }
}

/// The value of a field of `ty` whose bits are `v`.
fn field_val(inner: &StoreInner, ty: FieldType, v: u128) -> Val {
    match ty.storage {
        StorageType::I8 | StorageType::I16 => Val::I32(v as u32 as i32),
        StorageType::Val(t) => Val::from_bits(v, t, inner),
    }
}

/// The bits of `val` for a field of `ty`, checking its type.
fn field_bits(inner: &StoreInner, ty: FieldType, val: Val) -> Result<u128> {
    if ty.mutability == Mutability::Const {
        bail!("the field is immutable");
    }
    let expected = match ty.storage {
        StorageType::I8 | StorageType::I16 => ValType::I32,
        StorageType::Val(t) => t,
    };
    val.check_ty(inner, &expected, "the value")?;
    val.to_bits(inner)
}

impl StructRef {
    /// The struct as an `anyref`.
    pub fn to_anyref(&self) -> AnyRef {
        self.0
    }

    fn field_at(inner: &StoreInner, r: u32, i: usize) -> Result<(FieldType, u32, u8)> {
        let ty = object_type(inner, r)?;
        let (CompositeType::Struct(s), Some((_, fields))) = (
            &ty.sub.composite,
            ty.layout.as_ref().and_then(|l| l.as_struct()),
        ) else {
            bail!("not a struct");
        };
        match (s.fields().get(i), fields.get(i)) {
            (Some(f), Some(l)) => Ok((*f, l.offset, l.size)),
            _ => bail!("the struct has no field {i}"),
        }
    }

    /// Field `i` (a packed field zero-extended to an `i32`).
    pub fn field(&self, store: impl AsContext, i: usize) -> Result<Val> {
        let inner = self.0.inner(&store)?;
        let (ty, offset, size) = StructRef::field_at(inner, self.0.raw, i)?;
        Ok(field_val(
            inner,
            ty,
            inner.gc.read(self.0.raw + offset, size),
        ))
    }

    /// Sets mutable field `i` to `val` (of the field's type; a packed
    /// field keeps the low bits).
    pub fn set_field(&self, mut store: impl AsContextMut, i: usize, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_ref(self.0.store_id, self.0.serial)?;
        let (ty, offset, size) = StructRef::field_at(inner, self.0.raw, i)?;
        let bits = field_bits(inner, ty, val)?;
        inner.gc.write(self.0.raw + offset, size, bits);
        Ok(())
    }
}

impl ArrayRef {
    /// The array as an `anyref`.
    pub fn to_anyref(&self) -> AnyRef {
        self.0
    }

    fn elem(inner: &StoreInner, r: u32) -> Result<(FieldType, u8)> {
        let ty = object_type(inner, r)?;
        match (
            &ty.sub.composite,
            ty.layout.as_ref().and_then(|l| l.as_array()),
        ) {
            (CompositeType::Array(a), Some(size)) => Ok((a.element(), size)),
            _ => bail!("not an array"),
        }
    }

    /// The number of elements.
    pub fn len(&self, store: impl AsContext) -> Result<u32> {
        Ok(self.0.inner(&store)?.gc.array_len(self.0.raw))
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.len(store)? == 0)
    }

    /// Element `i` (a packed element zero-extended to an `i32`).
    pub fn get(&self, store: impl AsContext, i: u32) -> Result<Val> {
        let inner = self.0.inner(&store)?;
        if i >= inner.gc.array_len(self.0.raw) {
            bail!("array index {i} is out of bounds");
        }
        let (ty, size) = ArrayRef::elem(inner, self.0.raw)?;
        let v = inner.gc.read(GcHeap::array_elem(self.0.raw, size, i), size);
        Ok(field_val(inner, ty, v))
    }

    /// Sets element `i` of a mutable array to `val`.
    pub fn set(&self, mut store: impl AsContextMut, i: u32, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_ref(self.0.store_id, self.0.serial)?;
        if i >= inner.gc.array_len(self.0.raw) {
            bail!("array index {i} is out of bounds");
        }
        let (ty, size) = ArrayRef::elem(inner, self.0.raw)?;
        let bits = field_bits(inner, ty, val)?;
        inner
            .gc
            .write(GcHeap::array_elem(self.0.raw, size, i), size, bits);
        Ok(())
    }
}

/// A reference of the `eq` hierarchy: an `i31`, a struct or an array, the
/// references wasm's `ref.eq` compares (wasmtime's `EqRef`). An `EqRef`
/// is an [`AnyRef`] known to be one of those (not an internalized host
/// reference); it is rooted as the `AnyRef` it was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EqRef(AnyRef);

impl EqRef {
    /// The `eqref` of an `i31`.
    pub fn from_i31(store: impl AsContext, value: I31) -> EqRef {
        EqRef(AnyRef::from_i31(store, value))
    }

    /// The reference as an `anyref`.
    pub fn to_anyref(self) -> AnyRef {
        self.0
    }

    /// Whether this is an `i31ref`.
    pub fn is_i31(&self, store: impl AsContext) -> Result<bool> {
        self.0.is_i31(store)
    }

    /// The `i31`, if this is one.
    pub fn as_i31(&self, store: impl AsContext) -> Result<Option<I31>> {
        self.0.as_i31(store)
    }

    /// The `i31`, or an error if this is not one.
    pub fn unwrap_i31(&self, store: impl AsContext) -> Result<I31> {
        match self.as_i31(store)? {
            Some(v) => Ok(v),
            None => bail!("the eqref is not an i31"),
        }
    }

    /// Whether this is a struct.
    pub fn is_struct(&self, store: impl AsContext) -> Result<bool> {
        self.0.is_struct(store)
    }

    /// The struct, if this is one.
    pub fn as_struct(&self, store: impl AsContext) -> Result<Option<StructRef>> {
        self.0.as_struct(store)
    }

    /// The struct, or an error if this is not one.
    pub fn unwrap_struct(&self, store: impl AsContext) -> Result<StructRef> {
        match self.as_struct(store)? {
            Some(s) => Ok(s),
            None => bail!("the eqref is not a struct"),
        }
    }

    /// Whether this is an array.
    pub fn is_array(&self, store: impl AsContext) -> Result<bool> {
        self.0.is_array(store)
    }

    /// The array, if this is one.
    pub fn as_array(&self, store: impl AsContext) -> Result<Option<ArrayRef>> {
        self.0.as_array(store)
    }

    /// The array, or an error if this is not one.
    pub fn unwrap_array(&self, store: impl AsContext) -> Result<ArrayRef> {
        match self.as_array(store)? {
            Some(a) => Ok(a),
            None => bail!("the eqref is not an array"),
        }
    }

    /// Whether `a` and `b` are the same reference, as wasm's `ref.eq`
    /// decides: the same object, or `i31`s of the same value. Both
    /// handles must still be rooted (an error otherwise), as wasmtime's
    /// `Rooted::ref_eq` requires.
    pub fn ref_eq(store: impl AsContext, a: &EqRef, b: &EqRef) -> Result<bool> {
        let inner = &store.as_context().inner;
        inner.check_ref(a.0.store_id, a.0.serial)?;
        inner.check_ref(b.0.store_id, b.0.serial)?;
        Ok(a.0.raw == b.0.raw)
    }

    /// Whether the two handles name the same reference (what `==` says):
    /// needs no store, and does not check that either is still rooted.
    pub fn ptr_eq(&self, other: &EqRef) -> bool {
        self == other
    }
}

impl AnyRef {
    /// The reference as an `eqref`, if it is one (an `i31`, a struct or an
    /// array; not an internalized host reference).
    pub fn as_eqref(&self, store: impl AsContext) -> Result<Option<EqRef>> {
        Ok(self.is_eqref(store)?.then_some(EqRef(*self)))
    }

    /// The reference as an `eqref`, or an error if it is not one.
    pub fn unwrap_eqref(&self, store: impl AsContext) -> Result<EqRef> {
        match self.as_eqref(store)? {
            Some(e) => Ok(e),
            None => bail!("the anyref is not an eqref"),
        }
    }
}

impl StructRef {
    /// The struct as an `eqref`.
    pub fn to_eqref(&self) -> EqRef {
        EqRef(self.0)
    }
}

impl ArrayRef {
    /// The array as an `eqref`.
    pub fn to_eqref(&self) -> EqRef {
        EqRef(self.0)
    }
}

impl From<EqRef> for AnyRef {
    fn from(r: EqRef) -> AnyRef {
        r.0
    }
}

impl From<StructRef> for EqRef {
    fn from(r: StructRef) -> EqRef {
        r.to_eqref()
    }
}

impl From<ArrayRef> for EqRef {
    fn from(r: ArrayRef) -> EqRef {
        r.to_eqref()
    }
}

impl From<EqRef> for Val {
    fn from(r: EqRef) -> Val {
        Val::AnyRef(Some(r.0))
    }
}

impl From<Option<EqRef>> for Val {
    fn from(r: Option<EqRef>) -> Val {
        Val::AnyRef(r.map(EqRef::to_anyref))
    }
}

impl Val {
    /// The `eqref` this value holds: `Some(None)` for a null of the `any`
    /// hierarchy, `None` when it is no reference of the `eq` hierarchy.
    pub fn eqref(&self, store: impl AsContext) -> Result<Option<Option<EqRef>>> {
        match self {
            Val::AnyRef(None) => Ok(Some(None)),
            Val::AnyRef(Some(r)) => Ok(r.as_eqref(store)?.map(Some)),
            _ => Ok(None),
        }
    }
}

impl EqRef {
    /// The `eqref` of an `anyref` cell of the `eq` hierarchy (typed calls:
    /// the function's type guarantees it), rooted.
    pub(crate) fn from_cell(store: &StoreInner, raw: u64) -> Option<EqRef> {
        (raw != 0).then(|| EqRef(AnyRef::rooted(store, raw as u32)))
    }
}
