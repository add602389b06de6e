//! Tables: `wasm_table_new`, `_type`, `_get`, `_set`, `_size`, `_grow`.
//! Elements are `wasm_ref_t`s: functions for `funcref` tables, foreign
//! objects for `externref` tables; a null `wasm_ref_t*` is a null element.

use crate::r#ref::{declare_ref, ref_type, wasm_ref_t, RefKind, RefType};
use crate::store::StoreRc;
use crate::val::{ref_to_val, wasm_val_t};
use crate::{wasm_extern_t, wasm_store_t, wasm_tabletype_t};
use strata::{ExternType, Table, Val, ValType};

ref_type!(
    /// `wasm_table_t`: a table of a store.
    wasm_table_t,
    wasm_extern_t,
    Table(..)
);
declare_ref!(table, wasm_table_t);

/// `wasm_table_size_t`.
pub type wasm_table_size_t = u32;

impl wasm_table_t {
    fn table(&self) -> (&StoreRc, Table) {
        match &self.inner.inner.kind {
            RefKind::Table(s, t) => (s, *t),
            // `RefType::accepts` admits only tables.
            _ => unreachable!("wasm_table_t holds a table"),
        }
    }

    /// `r` as an element of this table.
    fn element(&self, r: Option<&wasm_ref_t>) -> Option<Val> {
        let (store, table) = self.table();
        let ty = store.with(|s| table.ty(&*s)).element();
        ref_to_val(r, Some(ValType::Ref(ty))).ok()
    }
}

/// `wasm_table_new`: every element set to `init` (null: null elements).
#[no_mangle]
pub extern "C" fn wasm_table_new(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_tabletype_t>,
    init: Option<&wasm_ref_t>,
) -> Option<Box<wasm_table_t>> {
    let ctx = &store?.ctx;
    let Some(ExternType::Table(ty)) = ty?.ext.ty() else {
        return None;
    };
    let init = ref_to_val(init, Some(ValType::Ref(ty.element()))).ok()?;
    let table = ctx.with(|s| Table::new(s, ty, init)).ok()?;
    Some(wasm_table_t::boxed(RefKind::Table(ctx.clone(), table)))
}

/// `wasm_table_type`: the type, with the current size as the minimum.
#[no_mangle]
pub extern "C" fn wasm_table_type(t: Option<&wasm_table_t>) -> Option<Box<wasm_tabletype_t>> {
    let (store, table) = t?.table();
    let ty = store.with(|s| table.ty(&*s));
    Some(wasm_tabletype_t::boxed(ExternType::Table(ty)))
}

/// `wasm_table_get`: the element, or null for a null element or an index
/// out of bounds.
#[no_mangle]
pub extern "C" fn wasm_table_get(
    t: Option<&wasm_table_t>,
    index: wasm_table_size_t,
) -> Option<Box<wasm_ref_t>> {
    let (store, table) = t?.table();
    let val = store.with(|s| {
        let scope = strata::RootScope::new(s);
        let v = table.get(&scope, index.into())?;
        Some(crate::val::escape(v, strata::AsContext::as_context(&scope)))
    })?;
    let v = wasm_val_t::from_val(val, store);
    let r = v.ref_value().map(|r| Box::new(r.clone()));
    drop(v);
    r
}

/// `wasm_table_set`: false for an index out of bounds or a reference of
/// the wrong kind.
#[no_mangle]
pub extern "C" fn wasm_table_set(
    t: Option<&mut wasm_table_t>,
    index: wasm_table_size_t,
    r: Option<&wasm_ref_t>,
) -> bool {
    let Some(t) = t else { return false };
    let Some(val) = t.element(r) else {
        return false;
    };
    let (store, table) = t.table();
    store.with(|s| table.set(s, index.into(), val)).is_ok()
}

/// `wasm_table_size`.
#[no_mangle]
pub extern "C" fn wasm_table_size(t: Option<&wasm_table_t>) -> wasm_table_size_t {
    t.map_or(0, |t| {
        let (store, table) = t.table();
        let size = store.with(|s| table.size(&*s));
        u32::try_from(size).unwrap_or(u32::MAX)
    })
}

/// `wasm_table_grow`: grows by `delta` elements set to `init`; false when
/// the maximum or a limit forbids it.
#[no_mangle]
pub extern "C" fn wasm_table_grow(
    t: Option<&mut wasm_table_t>,
    delta: wasm_table_size_t,
    init: Option<&wasm_ref_t>,
) -> bool {
    let Some(t) = t else { return false };
    let Some(init) = t.element(init) else {
        return false;
    };
    let (store, table) = t.table();
    store.with(|s| table.grow(s, delta.into(), init)).is_ok()
}
