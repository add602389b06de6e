//! The bulk memory and table instructions, written once for every tier: the
//! interpreter calls these from its driver, compiled code through the JIT's
//! runtime helpers. Operands are the instruction's raw cells (an i32
//! zero-extended, a memory64 or table64 operand 64-bit);
//! `instance` is the executing instance's store index.

use crate::runtime::store::StoreInner;
use crate::Trap;
use std::sync::Arc;

/// The range `[start, start+len)` of raw operands, if it fits in `size`.
/// Operands are whole cells: an i32 is zero-extended in its cell, and a
/// memory64 or table64 operand is 64-bit, so nothing is truncated and the
/// end is computed with an overflow check.
#[inline]
pub(crate) fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// The store index of the instance's memory `memory`.
fn memory_index(store: &StoreInner, instance: u32, memory: u32) -> usize {
    store.instances[instance as usize].memories[memory as usize] as usize
}

/// `memory.fill` on the instance's memory `memory`.
pub(crate) fn memory_fill(
    store: &mut StoreInner,
    instance: u32,
    memory: u32,
    dst: u64,
    value: u64,
    len: u64,
) -> Result<(), Trap> {
    // Memories are written through raw pointers (never a slice of their
    // bytes), which a shared memory's other threads may write meanwhile.
    let mem = &store.memories[memory_index(store, instance, memory)].mem;
    let range = range(dst, len, mem.len()).ok_or(Trap::MemoryOutOfBounds)?;
    if !mem.fill(range.start, value as u8, range.len()) {
        return Err(Trap::MemoryOutOfBounds);
    }
    Ok(())
}

/// `memory.copy` from the instance's memory `src_mem` to `dst_mem` (the
/// same memory or two; within one the ranges may overlap).
pub(crate) fn memory_copy(
    store: &mut StoreInner,
    instance: u32,
    (dst_mem, src_mem): (u32, u32),
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let (dm, sm) = (
        memory_index(store, instance, dst_mem),
        memory_index(store, instance, src_mem),
    );
    let (d, s) = (
        range(dst, len, store.memories[dm].mem.len()),
        range(src, len, store.memories[sm].mem.len()),
    );
    let (Some(d), Some(s)) = (d, s) else {
        return Err(Trap::MemoryOutOfBounds);
    };
    // One copy through raw pointers (`ptr::copy`: the ranges may overlap
    // within one memory).
    let (dst_mem, src_mem) = (&store.memories[dm].mem, &store.memories[sm].mem);
    if !dst_mem.copy_from(d.start, src_mem, s.start, d.len()) {
        return Err(Trap::MemoryOutOfBounds);
    }
    Ok(())
}

/// `memory.init`: copies part of data segment `segment` (empty once
/// dropped) into the instance's memory `memory`.
pub(crate) fn memory_init(
    store: &mut StoreInner,
    instance: u32,
    (memory, segment): (u32, u32),
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
    let mem = &store.memories[memory_index(store, instance, memory)].mem;
    let (Some(d), Some(s)) = (range(dst, len, mem.len()), range(src, len, bytes.len())) else {
        return Err(Trap::MemoryOutOfBounds);
    };
    if !mem.write(d.start, &bytes[s]) {
        return Err(Trap::MemoryOutOfBounds);
    }
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
    table_init(store, t, dst, &items, src, len)
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
    dst: u64,
    items: &[u64],
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let elements = &mut store.tables[table as usize].elements;
    let (Some(d), Some(s)) = (
        range(dst, len, elements.len()),
        range(src, len, items.len()),
    ) else {
        return Err(Trap::TableOutOfBounds);
    };
    elements[d].copy_from_slice(&items[s]);
    Ok(())
}
