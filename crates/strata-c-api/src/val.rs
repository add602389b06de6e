//! Values: `wasm_val_t`, a kind and a union, and their conversion to and
//! from [`strata::Val`].

use crate::r#ref::{wasm_ref_t, RefKind};
use crate::store::StoreRc;
use crate::vec::VecElem;
use anyhow::{bail, Result};
use std::mem::MaybeUninit;
use strata::{HeapType, Store, Val, ValType};

/// `wasm_valkind_t`.
pub type wasm_valkind_t = u8;
/// `WASM_I32`.
pub const WASM_I32: wasm_valkind_t = 0;
/// `WASM_I64`.
pub const WASM_I64: wasm_valkind_t = 1;
/// `WASM_F32`.
pub const WASM_F32: wasm_valkind_t = 2;
/// `WASM_F64`.
pub const WASM_F64: wasm_valkind_t = 3;
/// `WASM_V128` (an extension of the standard header, as in wasmtime's
/// `wasmtime_val_t`).
pub const WASM_V128: wasm_valkind_t = 4;
/// `WASM_EXTERNREF`.
pub const WASM_EXTERNREF: wasm_valkind_t = 128;
/// `WASM_FUNCREF`.
pub const WASM_FUNCREF: wasm_valkind_t = 129;
/// `STRATA_ANYREF` (`strata.h`): a reference of the `any` hierarchy
/// (GC proposal), `of.ref` an anyref handle (`gc.rs`) or null.
pub const STRATA_ANYREF: wasm_valkind_t = 130;
/// `STRATA_EXNREF` (`strata.h`): an exception reference, `of.ref` an
/// exception handle (`exn.rs`) or null.
pub const STRATA_EXNREF: wasm_valkind_t = 131;

/// The kind of a value type; `None` for references the C API cannot
/// express. Every type of the `any` hierarchy is `STRATA_ANYREF`, every
/// one of the `exn` hierarchy `STRATA_EXNREF`.
pub(crate) fn kind_of(ty: ValType) -> Option<wasm_valkind_t> {
    Some(match ty {
        ValType::I32 => WASM_I32,
        ValType::I64 => WASM_I64,
        ValType::F32 => WASM_F32,
        ValType::F64 => WASM_F64,
        ValType::Ref(r) => match r.heap_type().top() {
            HeapType::Extern => WASM_EXTERNREF,
            HeapType::Func => WASM_FUNCREF,
            HeapType::Any => STRATA_ANYREF,
            HeapType::Exn => STRATA_EXNREF,
            _ => return None,
        },
        ValType::V128 => WASM_V128,
    })
}

/// The value type of a kind, if the kind is valid.
pub(crate) fn type_of(kind: wasm_valkind_t) -> Option<ValType> {
    Some(match kind {
        WASM_I32 => ValType::I32,
        WASM_I64 => ValType::I64,
        WASM_F32 => ValType::F32,
        WASM_F64 => ValType::F64,
        WASM_V128 => ValType::V128,
        WASM_EXTERNREF => ValType::EXTERNREF,
        WASM_FUNCREF => ValType::FUNCREF,
        STRATA_ANYREF => ValType::ANYREF,
        STRATA_EXNREF => ValType::EXNREF,
        _ => return None,
    })
}

/// The payload of a `wasm_val_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasm_val_union {
    /// `i32`.
    pub i32: i32,
    /// `i64`.
    pub i64: i64,
    /// `f32`.
    pub f32: f32,
    /// `f64`.
    pub f64: f64,
    /// `v128`, little-endian (lane 0 first).
    pub v128: [u8; 16],
    /// A reference: owned by the value, null for a null reference.
    pub r#ref: *mut wasm_ref_t,
}

/// `wasm_val_t`: a value. A reference value owns its `wasm_ref_t`.
#[repr(C)]
pub struct wasm_val_t {
    /// The value's kind.
    pub kind: wasm_valkind_t,
    /// The value, by kind.
    pub of: wasm_val_union,
}

impl wasm_val_t {
    /// The `i32` zero, what blank values hold.
    pub fn zero() -> wasm_val_t {
        wasm_val_t {
            kind: WASM_I32,
            of: wasm_val_union { v128: [0; 16] },
        }
    }

    fn is_ref(&self) -> bool {
        self.kind >= WASM_EXTERNREF
    }

    /// The reference held, if this is a non-null reference value.
    pub(crate) fn ref_value(&self) -> Option<&wasm_ref_t> {
        if !self.is_ref() {
            return None;
        }
        // SAFETY: a reference-kind value holds a pointer in `of.ref`; a
        // non-null one points at a live `wasm_ref_t` it owns (C API rule).
        unsafe { self.of.r#ref.as_ref() }
    }

    /// Converts to a [`Val`] of the store; fails for a bad kind or a
    /// reference that is not a function or an extern reference.
    pub(crate) fn to_val(&self) -> Result<Val> {
        // SAFETY: reading a union field of plain data (every bit pattern is
        // valid); the kind says which field C wrote.
        let v = unsafe {
            match self.kind {
                WASM_I32 => Val::I32(self.of.i32),
                WASM_I64 => Val::I64(self.of.i64),
                WASM_F32 => Val::F32(self.of.f32.to_bits()),
                WASM_F64 => Val::F64(self.of.f64.to_bits()),
                WASM_V128 => Val::V128(u128::from_le_bytes(self.of.v128)),
                WASM_FUNCREF | WASM_EXTERNREF | STRATA_ANYREF | STRATA_EXNREF => {
                    return ref_to_val(self.ref_value(), type_of(self.kind))
                }
                k => bail!("invalid value kind {k}"),
            }
        };
        Ok(v)
    }

    /// Converts a [`Val`] of `store`. An `anyref` in it must be manually
    /// rooted ([`escape`]): the value's handle owns that root.
    pub(crate) fn from_val(val: Val, store: &StoreRc) -> wasm_val_t {
        let boxed = |kind: RefKind| Box::into_raw(Box::new(wasm_ref_t::new(kind)));
        let (kind, of) = match val {
            Val::I32(i32) => (WASM_I32, wasm_val_union { i32 }),
            Val::I64(i64) => (WASM_I64, wasm_val_union { i64 }),
            Val::F32(b) => (
                WASM_F32,
                wasm_val_union {
                    f32: f32::from_bits(b),
                },
            ),
            Val::F64(b) => (
                WASM_F64,
                wasm_val_union {
                    f64: f64::from_bits(b),
                },
            ),
            Val::V128(v) => (
                WASM_V128,
                wasm_val_union {
                    v128: v.to_le_bytes(),
                },
            ),
            Val::AnyRef(r) => (
                STRATA_ANYREF,
                wasm_val_union {
                    r#ref: r.map_or(std::ptr::null_mut(), |r| {
                        boxed(RefKind::Any(store.clone(), r))
                    }),
                },
            ),
            Val::ExnRef(r) => (
                STRATA_EXNREF,
                wasm_val_union {
                    r#ref: r.map_or(std::ptr::null_mut(), |r| {
                        boxed(RefKind::Exn(store.clone(), r))
                    }),
                },
            ),
            Val::FuncRef(f) => (
                WASM_FUNCREF,
                wasm_val_union {
                    r#ref: f.map_or(std::ptr::null_mut(), |f| {
                        boxed(RefKind::Func(store.clone(), f))
                    }),
                },
            ),
            Val::ExternRef(e) => (
                WASM_EXTERNREF,
                wasm_val_union {
                    r#ref: e.map_or(std::ptr::null_mut(), |e| {
                        boxed(RefKind::Foreign(store.clone(), e))
                    }),
                },
            ),
        };
        wasm_val_t { kind, of }
    }
}

/// Converts an optional reference to a [`Val`] of type `ty` (a reference
/// type); a null reference is the null of `ty`.
pub(crate) fn ref_to_val(r: Option<&wasm_ref_t>, ty: Option<ValType>) -> Result<Val> {
    let ty = ty.unwrap_or(ValType::FUNCREF);
    let top = match ty {
        ValType::Ref(r) => r.heap_type().top(),
        other => bail!("{other} is not a reference type"),
    };
    Ok(match (r.map(|r| &r.kind), top) {
        (None, HeapType::Func) => Val::FuncRef(None),
        (None, HeapType::Extern) => Val::ExternRef(None),
        (None, HeapType::Any) => Val::AnyRef(None),
        (Some(RefKind::Any(_, r)), HeapType::Any) => Val::AnyRef(Some(*r)),
        (Some(_), HeapType::Any) => bail!("an anyref value must reference an anyref"),
        (None, HeapType::Exn) => Val::ExnRef(None),
        (Some(RefKind::Exn(_, r)), HeapType::Exn) => Val::ExnRef(Some(*r)),
        (Some(_), HeapType::Exn) => bail!("an exnref value must reference an exception"),
        (Some(RefKind::Func(_, f)), HeapType::Func) => Val::FuncRef(Some(*f)),
        (Some(RefKind::Foreign(_, e)), HeapType::Extern) => Val::ExternRef(Some(*e)),
        (Some(_), HeapType::Func) => bail!("a funcref value must reference a function"),
        (Some(_), HeapType::Extern) => {
            bail!("an externref value must reference a foreign object or an externref")
        }
        _ => bail!("{ty} values are not supported by the C API"),
    })
}

/// `val` with its `anyref` (if any) manually rooted, for a C handle to own
/// (`from_val`): call it while the reference's own root still holds (in
/// the scope the value was made in).
pub(crate) fn escape(val: Val, store: &Store<()>) -> Val {
    match val {
        Val::AnyRef(Some(r)) => Val::AnyRef(r.to_manually_rooted(store).ok()),
        Val::ExnRef(Some(r)) => Val::ExnRef(r.to_manually_rooted(store).ok()),
        v => v,
    }
}

/// `val` with its `anyref` (if any) rooted in the current scope instead
/// of by the C handle it came from (a host function's results outlive
/// the C values they were read from).
pub(crate) fn root_here(val: Val, store: &Store<()>) -> Val {
    match val {
        Val::AnyRef(Some(r)) => Val::AnyRef(r.to_rooted(store).ok()),
        Val::ExnRef(Some(r)) => Val::ExnRef(r.to_rooted(store).ok()),
        v => v,
    }
}

impl Clone for wasm_val_t {
    fn clone(&self) -> wasm_val_t {
        if self.is_ref() {
            let r = self
                .ref_value()
                .map_or(std::ptr::null_mut(), |r| Box::into_raw(Box::new(r.clone())));
            return wasm_val_t {
                kind: self.kind,
                of: wasm_val_union { r#ref: r },
            };
        }
        wasm_val_t {
            kind: self.kind,
            of: self.of,
        }
    }
}

impl Drop for wasm_val_t {
    fn drop(&mut self) {
        if self.is_ref() {
            // SAFETY: a reference value owns its non-null `wasm_ref_t`,
            // allocated by this library as a `Box`.
            let r = unsafe { self.of.r#ref };
            if !r.is_null() {
                // SAFETY: see above; the pointer is cleared so that it is
                // freed once.
                drop(unsafe { Box::from_raw(r) });
                self.of.r#ref = std::ptr::null_mut();
            }
        }
    }
}

impl VecElem for wasm_val_t {
    fn blank() -> wasm_val_t {
        wasm_val_t::zero()
    }
    fn copy_elem(&self) -> wasm_val_t {
        self.clone()
    }
}

/// `wasm_val_delete`: releases the reference a value owns.
#[no_mangle]
pub extern "C" fn wasm_val_delete(v: Option<&mut wasm_val_t>) {
    if let Some(v) = v {
        drop(std::mem::replace(v, wasm_val_t::zero()));
    }
}

/// `wasm_val_copy`: a copy that owns its own reference.
#[no_mangle]
pub extern "C" fn wasm_val_copy(
    out: Option<&mut MaybeUninit<wasm_val_t>>,
    src: Option<&wasm_val_t>,
) {
    if let Some(out) = out {
        out.write(src.map_or_else(wasm_val_t::zero, Clone::clone));
    }
}
