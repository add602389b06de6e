//! The bulk memory and table instructions, written once for every tier: the
//! interpreter calls these from its driver, compiled code through the JIT's
//! runtime helpers. Operands are the instruction's raw i32 operands;
//! `instance` is the executing instance's store index.

use crate::runtime::store::StoreInner;
use crate::Trap;
use std::sync::Arc;

/// The range `[start, start+len)` of i32 operands, if it fits in `size`.
#[inline]
pub(crate) fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let start = u64::from(start as u32);
    let end = start + u64::from(len as u32);
    if end > size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// `memory.fill` on memory 0.
pub(crate) fn memory_fill(
    store: &mut StoreInner,
    instance: u32,
    dst: u64,
    value: u64,
    len: u64,
) -> Result<(), Trap> {
    let m = store.instances[instance as usize].memories[0];
    let data = store.memories[m as usize].mem.data_mut();
    let range = range(dst, len, data.len()).ok_or(Trap::MemoryOutOfBounds)?;
    data[range].fill(value as u8);
    Ok(())
}

/// `memory.copy` within memory 0 (the ranges may overlap).
pub(crate) fn memory_copy(
    store: &mut StoreInner,
    instance: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let m = store.instances[instance as usize].memories[0];
    let data = store.memories[m as usize].mem.data_mut();
    let (Some(d), Some(s)) = (range(dst, len, data.len()), range(src, len, data.len())) else {
        return Err(Trap::MemoryOutOfBounds);
    };
    data.copy_within(s, d.start);
    Ok(())
}

/// `memory.init`: copies part of data segment `segment` (empty once
/// dropped) into memory 0.
pub(crate) fn memory_init(
    store: &mut StoreInner,
    instance: u32,
    segment: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let inst = &store.instances[instance as usize];
    let module = Arc::clone(&inst.module);
    let bytes: &[u8] = if inst.data_dropped[segment as usize] {
        &[]
    } else {
        &module.datas[segment as usize].bytes
    };
    let m = inst.memories[0];
    let data = store.memories[m as usize].mem.data_mut();
    let (Some(d), Some(s)) = (range(dst, len, data.len()), range(src, len, bytes.len())) else {
        return Err(Trap::MemoryOutOfBounds);
    };
    data[d].copy_from_slice(&bytes[s]);
    Ok(())
}

/// `data.drop`.
pub(crate) fn data_drop(store: &mut StoreInner, instance: u32, segment: u32) {
    store.instances[instance as usize].data_dropped[segment as usize] = true;
}

/// `table.fill`.
pub(crate) fn table_fill(
    store: &mut StoreInner,
    instance: u32,
    table: u32,
    dst: u64,
    value: u64,
    len: u64,
) -> Result<(), Trap> {
    let t = store.instances[instance as usize].tables[table as usize];
    let elements = &mut store.tables[t as usize].elements;
    let range = range(dst, len, elements.len()).ok_or(Trap::TableOutOfBounds)?;
    elements[range].fill(value);
    Ok(())
}

/// `table.copy` (the tables may be the same, the ranges may overlap).
pub(crate) fn table_copy(
    store: &mut StoreInner,
    instance: u32,
    (dst_table, src_table): (u32, u32),
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let inst = &store.instances[instance as usize];
    let (dt, st) = (
        inst.tables[dst_table as usize],
        inst.tables[src_table as usize],
    );
    let (d, s) = (
        range(dst, len, store.tables[dt as usize].elements.len()),
        range(src, len, store.tables[st as usize].elements.len()),
    );
    let (Some(d), Some(s)) = (d, s) else {
        return Err(Trap::TableOutOfBounds);
    };
    if dt == st {
        store.tables[dt as usize].elements.copy_within(s, d.start);
    } else {
        let items: Vec<u64> = store.tables[st as usize].elements[s].to_vec();
        store.tables[dt as usize].elements[d].copy_from_slice(&items);
    }
    Ok(())
}

/// `table.init` of the instance's table `table` from its element segment
/// `segment` (empty once dropped).
pub(crate) fn table_init_segment(
    store: &mut StoreInner,
    instance: u32,
    (table, segment): (u32, u32),
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let inst = &store.instances[instance as usize];
    let t = inst.tables[table as usize];
    let items = Arc::clone(&inst.elems[segment as usize]);
    table_init(store, t, dst as u32, &items, src as u32, len as u32)
}

/// `elem.drop`.
pub(crate) fn elem_drop(store: &mut StoreInner, instance: u32, segment: u32) {
    store.instances[instance as usize].elems[segment as usize] = Arc::new([]);
}

/// Copies `items[src..src+len]` to table `table` (a store index) at `dst`,
/// trapping before any write when either range is out of bounds. Used by
/// `table.init` and by active element segments at instantiation.
pub(crate) fn table_init(
    store: &mut StoreInner,
    table: u32,
    dst: u32,
    items: &[u64],
    src: u32,
    len: u32,
) -> Result<(), Trap> {
    let elements = &mut store.tables[table as usize].elements;
    let (Some(d), Some(s)) = (
        range(dst.into(), len.into(), elements.len()),
        range(src.into(), len.into(), items.len()),
    ) else {
        return Err(Trap::TableOutOfBounds);
    };
    elements[d].copy_from_slice(&items[s]);
    Ok(())
}
