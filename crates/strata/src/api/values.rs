//! Values that cross the host boundary, and their conversion to and from
//! the cell encoding every tier uses (`crate::types::raw`).

use super::func::Func;
use crate::runtime::store::StoreInner;
use crate::types::raw::{v128_from_cells, v128_to_cells};
use crate::types::{HeapType, RefType, ValType};
use anyhow::{bail, Result};
use std::any::Any;

/// A WebAssembly value as the host sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float, as its bit pattern (so NaN payloads survive).
    F32(u32),
    /// A 64-bit float, as its bit pattern.
    F64(u64),
    /// A 128-bit vector, lane 0 in the least significant bits.
    V128(u128),
    /// A function reference, or a null of the `func` hierarchy.
    FuncRef(Option<Func>),
    /// An external reference, or a null of the `extern` hierarchy.
    ExternRef(Option<ExternRef>),
    /// A reference of the `any` hierarchy (structs, arrays, `i31`), or a
    /// null of it.
    AnyRef(Option<AnyRef>),
    /// An exception reference, or a null of the `exn` hierarchy.
    ExnRef(Option<ExnRef>),
}

impl Val {
    /// The value's type: its own type for numbers and vectors, the top of
    /// its hierarchy (nullable) for references.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::AnyRef(_) => ValType::ANYREF,
            Val::ExnRef(_) => ValType::EXNREF,
        }
    }

    /// The zero value, or the null reference of the type's hierarchy (also
    /// for non-nullable reference types, which have no default; use it only
    /// as a placeholder to be overwritten).
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) => match r.heap_type().top() {
                HeapType::Func => Val::FuncRef(None),
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Exn => Val::ExnRef(None),
                _ => Val::AnyRef(None),
            },
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }
    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }
    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }
    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }
    /// The `v128`, if this is one.
    pub fn v128(&self) -> Option<u128> {
        match self {
            Val::V128(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether the value is null (`false` for every non-reference).
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None)
        )
    }

    /// Whether this value is a value of type `ty` in `store`: the same
    /// number or vector type, or a reference that subtyping allows
    /// (a function whose type is `$t` or a subtype of it is a value of
    /// `(ref $t)`; null is a value of every nullable type of its
    /// hierarchy).
    pub fn matches_ty(&self, store: impl crate::AsContext, ty: &ValType) -> bool {
        self.matches(&store.as_context().inner, ty)
    }

    pub(crate) fn matches(&self, store: &StoreInner, ty: &ValType) -> bool {
        let ValType::Ref(expected) = ty else {
            return self.ty() == *ty;
        };
        let heap = expected.heap_type();
        let of = |top: HeapType| heap.top() == top;
        match self {
            Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => {
                expected.is_nullable() && of(self.ty().as_ref().map_or(heap, |r| r.heap_type()))
            }
            Val::FuncRef(Some(f)) => match heap {
                HeapType::Func => true,
                HeapType::ConcreteFunc(t) => store.funcs.get(f.index as usize).is_some_and(|e| {
                    // An exact type admits its own type only.
                    e.type_id == t
                        || (!expected.is_exact() && store.engine.types().is_subtype(e.type_id, t))
                }),
                _ => false,
            },
            Val::ExternRef(Some(_)) => heap == HeapType::Extern,
            Val::AnyRef(Some(r)) => {
                heap.top() == HeapType::Any
                    && store.id == r.store_id
                    && crate::runtime::gc::ref_test(store, u64::from(r.raw), *expected)
            }
            Val::ExnRef(Some(_)) => heap == HeapType::Exn,
            _ => false,
        }
    }

    /// Writes the value into `cells` (one cell, two for a `v128`) in the
    /// encoding of `types::raw`. References must belong to the store.
    pub(crate) fn write_cells(&self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        let raw = match *self {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => u64::from(v),
            Val::F64(v) => v,
            Val::V128(v) => {
                cells[..2].copy_from_slice(&v128_to_cells(v));
                return Ok(());
            }
            Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => 0,
            Val::FuncRef(Some(f)) => {
                store.check_owner(f.store_id)?;
                u64::from(f.index) + 1
            }
            Val::ExternRef(Some(r)) => {
                store.check_ref(r.store_id, r.serial)?;
                r.raw
            }
            Val::AnyRef(Some(r)) => {
                store.check_ref(r.store_id, r.serial)?;
                u64::from(r.raw)
            }
            Val::ExnRef(Some(r)) => {
                store.check_ref(r.store_id, r.serial)?;
                u64::from(r.raw)
            }
        };
        cells[0] = raw;
        Ok(())
    }

    /// Reads a value of type `ty` from `cells` (its first cell, or two for a
    /// `v128`).
    pub(crate) fn read_cells(cells: &[u64], ty: ValType, store: &StoreInner) -> Val {
        let raw = cells[0];
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw),
            ValType::V128 => Val::V128(v128_from_cells(raw, cells[1])),
            ValType::Ref(r) => Val::from_ref_cell(raw, r, store),
        }
    }

    /// The value's cells as one `u128`: a `v128` whole, any other value in
    /// the low half (how globals and constant expressions hold values).
    pub(crate) fn to_bits(self, store: &StoreInner) -> Result<u128> {
        let mut cells = [0u64; 2];
        self.write_cells(&mut cells, store)?;
        Ok(v128_from_cells(cells[0], cells[1]))
    }

    /// The value of type `ty` held as [`Val::to_bits`] holds it.
    pub(crate) fn from_bits(bits: u128, ty: ValType, store: &StoreInner) -> Val {
        Val::read_cells(&v128_to_cells(bits), ty, store)
    }

    /// The reference of type `ty` whose cell is `raw`.
    pub(crate) fn from_ref_cell(raw: u64, ty: RefType, store: &StoreInner) -> Val {
        let store_id = store.id;
        match ty.heap_type().top() {
            HeapType::Func => Val::FuncRef(
                raw.checked_sub(1)
                    .map(|i| Func::from_index(store_id, i as u32)),
            ),
            HeapType::Extern => Val::ExternRef((raw != 0).then(|| ExternRef::rooted(store, raw))),
            HeapType::Exn => Val::ExnRef((raw != 0).then(|| ExnRef::rooted(store, raw as u32))),
            _ => Val::AnyRef((raw != 0).then(|| AnyRef::rooted(store, raw as u32))),
        }
    }

    /// Checks that `self` may be passed where a value of type `ty` is
    /// expected; `what` names the place in the error.
    pub(crate) fn check_ty(&self, store: &StoreInner, ty: &ValType, what: &str) -> Result<()> {
        if !self.matches(store, ty) {
            bail!("{what} has type {}, expected {ty}", self.ty());
        }
        Ok(())
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
impl From<u128> for Val {
    fn from(v: u128) -> Val {
        Val::V128(v)
    }
}

/// A reference to a host value, passed to WebAssembly as `externref`.
/// The value lives in the store, held by a small object in the store's
/// GC heap; the reference is a handle to that object, rooted as
/// [`AnyRef`] handles are. The collector drops the value once neither
/// wasm nor a live handle reaches the object. An `externref` that wasm
/// made from an `anyref` (`extern.convert_any`) is a handle to that
/// `anyref`'s object (or `i31`), and has no host value.
#[derive(Debug, Clone, Copy)]
pub struct ExternRef {
    pub(crate) store_id: u64,
    /// The reference's cell: a GC heap reference (the host value's
    /// object, or an externalized `anyref`).
    pub(crate) raw: u64,
    /// The handle's host root (`runtime::gc::roots::HostRoots`), 0 for
    /// none.
    pub(crate) serial: u64,
}

/// Handles are equal when they name the same reference, whatever root
/// keeps each alive.
impl PartialEq for ExternRef {
    fn eq(&self, other: &ExternRef) -> bool {
        (self.store_id, self.raw) == (other.store_id, other.raw)
    }
}

impl Eq for ExternRef {}

impl std::hash::Hash for ExternRef {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.store_id, self.raw).hash(h);
    }
}

impl ExternRef {
    /// The handle of cell `raw` (not null), rooted: it holds a host value
    /// or a GC object, which the collector frees when unreachable.
    pub(crate) fn rooted(store: &StoreInner, raw: u64) -> ExternRef {
        ExternRef {
            store_id: store.id,
            raw,
            serial: store.host_roots.root_cell(raw),
        }
    }

    /// Moves `value` into the store and returns a reference to it.
    ///
    /// The value is dropped once a collection finds no reference to it
    /// left, in wasm or on the host: the handle returned is a root while
    /// its scope lasts (see [`RootScope`](crate::RootScope): the host
    /// function call it is made in, a `RootScope`, else the store's life).
    /// Making values collects when many were made since the last
    /// collection.
    ///
    /// # Errors
    /// When the GC heap has no room for the reference's object even
    /// after a collection (`Config::max_gc_heap_size`), or the store
    /// already holds 2^32 host values.
    pub fn new<T: Any + Send + Sync>(
        mut store: impl crate::AsContextMut,
        value: T,
    ) -> anyhow::Result<ExternRef> {
        let inner = &mut store.as_context_mut().inner;
        if inner.externrefs.pressure() || inner.gc.pressure() {
            // Not possible from a callback interrupting wasm between
            // safepoints: `collect` refuses then.
            crate::runtime::gc::collect::collect(inner, &[]);
        }
        // The object first (a collection may make room for it), then the
        // value it holds: nothing collects between that and the handle's
        // root.
        inner.reserve_gc_heap()?;
        let raw = match inner.gc.alloc_host_ref(0) {
            Err(crate::Trap::GcHeapOutOfMemory)
                if crate::runtime::gc::collect::collect(inner, &[]) =>
            {
                inner.gc.alloc_host_ref(0)?
            }
            r => r?,
        };
        let Some(host) = inner.externrefs.insert(Box::new(value)) else {
            anyhow::bail!("a store holds at most 2^32 host values");
        };
        inner.gc.set_host(raw, host);
        Ok(ExternRef::rooted(inner, u64::from(raw)))
    }

    /// The host value behind the reference (`None` for an `anyref` that
    /// wasm externalized with `extern.convert_any`, and for a handle
    /// whose root scope ended).
    ///
    /// # Panics
    /// When the reference belongs to another store.
    pub fn data<'a, T: 'a>(
        &self,
        store: &'a crate::Store<T>,
    ) -> Option<&'a (dyn Any + Send + Sync)> {
        store.inner.assert_owner(self.store_id);
        if !store.inner.host_roots.is_rooted(self.serial) {
            return None;
        }
        let host = store.inner.gc.host_of(self.raw)?;
        store.inner.externrefs.get(host)
    }
}

/// A reference of the `any` hierarchy: a struct, an array, an `i31` or an
/// internalized `externref` (see `api/gc.rs` for what the host can do
/// with one). It is a handle into its store's GC heap, and a root: the
/// object stays alive while the scope the handle was made in lasts (a
/// [`RootScope`](crate::RootScope), the host function call it was made
/// in, else the store). Using a handle after its scope ended is an error.
#[derive(Debug, Clone, Copy)]
pub struct AnyRef {
    pub(crate) store_id: u64,
    /// The reference's cell encoding (never 0).
    pub(crate) raw: u32,
    /// The handle's host root (`runtime::gc::roots::HostRoots`), 0 for an
    /// `i31`.
    pub(crate) serial: u64,
}

/// Handles are equal when they name the same object (or `i31`), whatever
/// root keeps each alive.
impl PartialEq for AnyRef {
    fn eq(&self, other: &AnyRef) -> bool {
        (self.store_id, self.raw) == (other.store_id, other.raw)
    }
}

impl Eq for AnyRef {}

impl std::hash::Hash for AnyRef {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.store_id, self.raw).hash(h);
    }
}

impl AnyRef {
    /// The handle of reference `raw` (not null), rooted.
    pub(crate) fn rooted(store: &StoreInner, raw: u32) -> AnyRef {
        AnyRef {
            store_id: store.id,
            raw,
            serial: store.host_roots.root(raw),
        }
    }
}

/// A reference to an exception object (`api/exn.rs`: create one with
/// [`ExnRef::new`], read its tag and fields, throw it with
/// `Store::throw`). Like [`AnyRef`], it is a handle into its store's GC
/// heap and a root while the scope it was made in lasts; using it after
/// its scope ended is an error.
#[derive(Debug, Clone, Copy)]
pub struct ExnRef {
    pub(crate) store_id: u64,
    /// The exception's heap reference (never 0).
    pub(crate) raw: u32,
    /// The handle's host root (`runtime::gc::roots::HostRoots`).
    pub(crate) serial: u64,
}

/// Handles are equal when they name the same exception, whatever root
/// keeps each alive.
impl PartialEq for ExnRef {
    fn eq(&self, other: &ExnRef) -> bool {
        (self.store_id, self.raw) == (other.store_id, other.raw)
    }
}

impl Eq for ExnRef {}

impl std::hash::Hash for ExnRef {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.store_id, self.raw).hash(h);
    }
}

impl ExnRef {
    /// The handle of exception `raw` (not null), rooted.
    pub(crate) fn rooted(store: &StoreInner, raw: u32) -> ExnRef {
        ExnRef {
            store_id: store.id,
            raw,
            serial: store.host_roots.root_cell(u64::from(raw)),
        }
    }
}
