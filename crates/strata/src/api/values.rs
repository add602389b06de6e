//! Values that cross the host boundary, and their raw slot encoding.

use crate::runtime::store::StoreInner;
use crate::{Func, ValType};
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
    /// A 128-bit vector.
    V128(u128),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// An external reference, or null.
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero value (or null reference) of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
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

    /// Encodes into the untyped slot representation shared by all tiers.
    /// References must belong to the store.
    pub(crate) fn to_raw(self, store: &StoreInner) -> anyhow::Result<u64> {
        Ok(match self {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => v as u64,
            Val::F64(v) => v,
            Val::V128(_) => anyhow::bail!("v128 values are not supported yet"),
            Val::FuncRef(None) | Val::ExternRef(None) => 0,
            Val::FuncRef(Some(f)) => {
                store.check_owner(f.store_id)?;
                f.index as u64 + 1
            }
            Val::ExternRef(Some(r)) => {
                store.check_owner(r.store_id)?;
                r.index as u64 + 1
            }
        })
    }

    /// Decodes a slot holding a value of type `ty`.
    pub(crate) fn from_raw(raw: u64, ty: ValType, store: &StoreInner) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw),
            ValType::V128 => Val::V128(raw as u128),
            ValType::FuncRef => Val::FuncRef(
                raw.checked_sub(1)
                    .map(|i| Func::from_index(store.id, i as u32)),
            ),
            ValType::ExternRef => Val::ExternRef(raw.checked_sub(1).map(|i| ExternRef {
                store_id: store.id,
                index: i as u32,
            })),
        }
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

/// A reference to a host value, passed to WebAssembly as `externref`.
/// The value lives in the store; the reference is a handle.
///
/// The store keeps every value until it is dropped itself: references are
/// not collected yet (a garbage collector will come with the GC proposal),
/// so a store that makes references without bound grows without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl ExternRef {
    /// Moves `value` into the store and returns a reference to it.
    ///
    /// The value is freed only when the store is dropped, even once no
    /// reference to it is left in wasm or on the host: create references
    /// for long-lived host objects, not per call, in a long-lived store.
    pub fn new<T: Any + Send + Sync>(mut store: impl crate::AsContextMut, value: T) -> ExternRef {
        let inner = &mut store.as_context_mut().inner;
        inner.externrefs.push(Box::new(value));
        ExternRef {
            store_id: inner.id,
            index: (inner.externrefs.len() - 1) as u32,
        }
    }

    /// The host value behind the reference.
    ///
    /// # Panics
    /// When the reference belongs to another store.
    pub fn data<'a, T: 'a>(
        &self,
        store: &'a crate::Store<T>,
    ) -> Option<&'a (dyn Any + Send + Sync)> {
        store.inner.assert_owner(self.store_id);
        store
            .inner
            .externrefs
            .get(self.index as usize)
            .map(|b| &**b)
    }
}
