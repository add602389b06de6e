//! The driver's GC instructions (`Op::Gc`, operands as `isa/gc.rs` lists
//! them): allocation, field and element access, casts and conversions on
//! the store's heap (`runtime/gc`), with the spec's traps. They work on
//! the current frame's slots as a slice, so nothing here is `unsafe`.

use crate::isa::gc::{decode_cast, GcOp};
use crate::runtime::gc::layout::{FieldLayout, ARRAY_DATA};
use crate::runtime::gc::{i31_get, i31_new, ref_test, GcHeap};
use crate::runtime::store::StoreInner;
use crate::types::raw::{v128_from_cells, v128_to_cells};
use crate::types::registry::RegisteredType;
use crate::Trap;
use std::sync::Arc;

/// The registered type of module type `t` of `instance`.
fn module_type(store: &StoreInner, instance: u32, t: u32) -> Arc<RegisteredType> {
    Arc::clone(&store.instances[instance as usize].module.types[t as usize])
}

/// The struct layout of `ty` (validation guarantees the type is one).
fn struct_layout(ty: &RegisteredType) -> (u32, &[FieldLayout]) {
    ty.layout
        .as_ref()
        .and_then(|l| l.as_struct())
        .unwrap_or_else(|| unreachable!("validated: a struct type"))
}

/// Where the descriptor of a struct of type `ty` lies (validation makes
/// `ty` a struct type with a descriptor; its subtypes keep it there).
pub(crate) fn descriptor_offset(ty: &RegisteredType) -> u32 {
    ty.layout
        .as_ref()
        .and_then(|l| l.descriptor())
        .unwrap_or_else(|| unreachable!("validated: a type with a descriptor"))
}

/// The element size of array type `ty`.
fn elem_size(ty: &RegisteredType) -> u8 {
    ty.layout
        .as_ref()
        .and_then(|l| l.as_array())
        .unwrap_or_else(|| unreachable!("validated: an array type"))
}

/// The value of `size` bytes in the cells from `slot` on (two for a
/// `v128`).
fn from_cells(frame: &[u64], slot: u32, size: u8) -> u128 {
    let s = slot as usize;
    if size == 16 {
        v128_from_cells(frame[s], frame[s + 1])
    } else {
        u128::from(frame[s])
    }
}

/// Writes field value `v` of `size` bytes to the cells from `slot` on, a
/// packed one sign-extended to 32 bits when `signed`.
fn to_cells(frame: &mut [u64], slot: u32, size: u8, v: u128, signed: bool) {
    let s = slot as usize;
    match size {
        16 => frame[s..s + 2].copy_from_slice(&v128_to_cells(v)),
        1 if signed => frame[s] = u64::from(v as u8 as i8 as i32 as u32),
        2 if signed => frame[s] = u64::from(v as u16 as i16 as i32 as u32),
        _ => frame[s] = v as u64,
    }
}

/// The object of a non-null reference in `slot`, or `null`'s trap.
fn object(frame: &[u64], slot: u32, null: Trap) -> Result<u32, Trap> {
    match frame[slot as usize] {
        0 => Err(null),
        r => Ok(r as u32),
    }
}

/// Checks that `offset + len` elements lie within array `r`'s length.
fn array_range(heap: &GcHeap, r: u32, offset: u32, len: u32) -> Result<(), Trap> {
    if u64::from(offset) + u64::from(len) > u64::from(heap.array_len(r)) {
        return Err(Trap::ArrayOutOfBounds);
    }
    Ok(())
}

/// The bytes of data segment `seg` from `offset` on for `len` elements of
/// `elem` bytes (a dropped segment is empty).
fn data_bytes(
    store: &StoreInner,
    instance: u32,
    seg: u32,
    (offset, len, elem): (u32, u32, u8),
) -> Result<std::ops::Range<usize>, Trap> {
    let inst = &store.instances[instance as usize];
    let size = if inst.data_dropped[seg as usize] {
        0
    } else {
        inst.module.datas[seg as usize].bytes.len()
    };
    let bytes = u64::from(len) * u64::from(elem);
    crate::runtime::ops::range(u64::from(offset), bytes, size).ok_or(Trap::MemoryOutOfBounds)
}

/// Elements `offset..offset + len` of element segment `seg`.
fn elem_items(
    store: &StoreInner,
    instance: u32,
    seg: u32,
    offset: u32,
    len: u32,
) -> Result<Arc<[u64]>, Trap> {
    let items = Arc::clone(&store.instances[instance as usize].elems[seg as usize]);
    crate::runtime::ops::range(u64::from(offset), u64::from(len), items.len())
        .ok_or(Trap::TableOutOfBounds)?;
    Ok(items)
}

/// Writes `items[offset..offset + len]` to the elements of array `r` from
/// `at` on.
fn write_items(heap: &mut GcHeap, r: u32, elem: u8, at: u32, items: &[u64]) {
    for (i, &v) in items.iter().enumerate() {
        heap.write(
            GcHeap::array_elem(r, elem, at + i as u32),
            elem,
            u128::from(v),
        );
    }
}

/// Runs allocating GC instruction `op` as [`run`] does, collecting first
/// when the heap is under pressure, and collecting then trying again once
/// when the heap is full: the limit traps only when a collection cannot
/// make room. The driver published its frames, the current one suspended
/// here, so the collector finds every reference they hold through their
/// stack maps, this instruction's operands included; `frame` makes the
/// current frame's slots, only after a collection; they are roots too
/// when `frame_is_root` (compiled code's operand buffer, which no stack
/// map covers). Running the instruction again is sound: it fails before any effect when its allocation does.
pub(crate) fn run_allocating<'f>(
    store: &mut StoreInner,
    instance: u32,
    op: GcOp,
    ops: (u32, u32, u32),
    ext: (u32, u32, u32),
    frame: impl Fn() -> &'f mut [u64],
    frame_is_root: bool,
) -> Result<(), Trap> {
    let collect = |store: &mut StoreInner| {
        let extra: &[u64] = if frame_is_root { frame() } else { &[] };
        crate::runtime::gc::collect::collect(store, extra)
    };
    let collected = store.gc.pressure() && collect(store);
    match run(store, instance, op, ops, ext, frame()) {
        Err(Trap::GcHeapOutOfMemory) if !collected && collect(store) => {
            run(store, instance, op, ops, ext, frame())
        }
        result => result,
    }
}

/// Runs GC instruction `op` with operands `a, b, c` and its extension
/// word's `d, e, f` on the current frame's slots (`frame`).
pub(crate) fn run(
    store: &mut StoreInner,
    instance: u32,
    op: GcOp,
    (a, b, c): (u32, u32, u32),
    (d, e, f): (u32, u32, u32),
    frame: &mut [u64],
) -> Result<(), Trap> {
    let r = |s: u32| frame[s as usize];
    match op {
        GcOp::StructNew | GcOp::StructNewDefault => {
            // Borrowed, not cloned (`module_type`): an `Arc`'s atomic
            // count, twice per allocation, was a sixth of an
            // allocation-heavy program's time.
            let ty = &store.instances[instance as usize].module.types[b as usize];
            let (size, fields) = struct_layout(ty);
            let obj = store.gc.alloc_struct(ty.index, size)?;
            if op == GcOp::StructNew {
                let mut cell = c;
                for field in fields {
                    let v = from_cells(frame, cell, field.size);
                    store.gc.write(obj + field.offset, field.size, v);
                    cell += if field.size == 16 { 2 } else { 1 };
                }
            }
            frame[a as usize] = u64::from(obj);
        }
        GcOp::StructGet | GcOp::StructGetS | GcOp::StructGetU => {
            let ty = module_type(store, instance, c);
            let field = struct_layout(&ty).1[d as usize];
            let obj = object(frame, b, Trap::NullStructReference)?;
            let v = store.gc.read(obj + field.offset, field.size);
            to_cells(frame, a, field.size, v, op == GcOp::StructGetS);
        }
        GcOp::StructSet => {
            let ty = module_type(store, instance, c);
            let field = struct_layout(&ty).1[d as usize];
            let obj = object(frame, a, Trap::NullStructReference)?;
            let v = from_cells(frame, b, field.size);
            store.gc.write(obj + field.offset, field.size, v);
        }
        GcOp::ArrayNew | GcOp::ArrayNewDefault => {
            let (t, len) = if op == GcOp::ArrayNew {
                (d, r(c))
            } else {
                (c, r(b))
            };
            let ty = module_type(store, instance, t);
            let elem = elem_size(&ty);
            let len = len as u32;
            let arr = store.gc.alloc_array(ty.index, elem, len)?;
            if op == GcOp::ArrayNew {
                let v = from_cells(frame, b, elem);
                store.gc.fill(arr + ARRAY_DATA, elem, v, len);
            }
            frame[a as usize] = u64::from(arr);
        }
        GcOp::ArrayNewFixed => {
            let ty = module_type(store, instance, c);
            let elem = elem_size(&ty);
            let arr = store.gc.alloc_array(ty.index, elem, d)?;
            let step = if elem == 16 { 2 } else { 1 };
            for i in 0..d {
                let v = from_cells(frame, b + i * step, elem);
                store.gc.write(GcHeap::array_elem(arr, elem, i), elem, v);
            }
            frame[a as usize] = u64::from(arr);
        }
        GcOp::ArrayNewData => {
            let ty = module_type(store, instance, d);
            let elem = elem_size(&ty);
            let (offset, len) = (r(b) as u32, r(c) as u32);
            let range = data_bytes(store, instance, e, (offset, len, elem))?;
            let arr = store.gc.alloc_array(ty.index, elem, len)?;
            let module = Arc::clone(&store.instances[instance as usize].module);
            store
                .gc
                .write_bytes(arr + ARRAY_DATA, &module.datas[e as usize].bytes[range]);
            frame[a as usize] = u64::from(arr);
        }
        GcOp::ArrayNewElem => {
            let ty = module_type(store, instance, d);
            let elem = elem_size(&ty);
            let (offset, len) = (r(b) as u32, r(c) as u32);
            let items = elem_items(store, instance, e, offset, len)?;
            let arr = store.gc.alloc_array(ty.index, elem, len)?;
            let items = &items[offset as usize..][..len as usize];
            write_items(&mut store.gc, arr, elem, 0, items);
            frame[a as usize] = u64::from(arr);
        }
        GcOp::ArrayGet | GcOp::ArrayGetS | GcOp::ArrayGetU => {
            let elem = elem_size(&module_type(store, instance, d));
            let arr = object(frame, b, Trap::NullArrayReference)?;
            let i = r(c) as u32;
            array_range(&store.gc, arr, i, 1)?;
            let v = store.gc.read(GcHeap::array_elem(arr, elem, i), elem);
            to_cells(frame, a, elem, v, op == GcOp::ArrayGetS);
        }
        GcOp::ArraySet => {
            let elem = elem_size(&module_type(store, instance, d));
            let arr = object(frame, a, Trap::NullArrayReference)?;
            let i = r(b) as u32;
            array_range(&store.gc, arr, i, 1)?;
            let v = from_cells(frame, c, elem);
            store.gc.write(GcHeap::array_elem(arr, elem, i), elem, v);
        }
        GcOp::ArrayLen => {
            let arr = object(frame, b, Trap::NullArrayReference)?;
            frame[a as usize] = u64::from(store.gc.array_len(arr));
        }
        GcOp::ArrayFill => {
            let elem = elem_size(&module_type(store, instance, e));
            let arr = object(frame, a, Trap::NullArrayReference)?;
            let (offset, len) = (r(b) as u32, r(d) as u32);
            array_range(&store.gc, arr, offset, len)?;
            let v = from_cells(frame, c, elem);
            store
                .gc
                .fill(GcHeap::array_elem(arr, elem, offset), elem, v, len);
        }
        GcOp::ArrayCopy => {
            let elem = elem_size(&module_type(store, instance, f));
            let dst = object(frame, a, Trap::NullArrayReference)?;
            let src = object(frame, c, Trap::NullArrayReference)?;
            let (dst_offset, src_offset, len) = (r(b) as u32, r(d) as u32, r(e) as u32);
            array_range(&store.gc, dst, dst_offset, len)?;
            array_range(&store.gc, src, src_offset, len)?;
            store.gc.copy_within(
                GcHeap::array_elem(dst, elem, dst_offset),
                GcHeap::array_elem(src, elem, src_offset),
                len as usize * usize::from(elem),
            );
        }
        GcOp::ArrayInitData => {
            let elem = elem_size(&module_type(store, instance, e));
            let arr = object(frame, a, Trap::NullArrayReference)?;
            let (dst, src, len) = (r(b) as u32, r(c) as u32, r(d) as u32);
            array_range(&store.gc, arr, dst, len)?;
            let range = data_bytes(store, instance, f, (src, len, elem))?;
            let module = Arc::clone(&store.instances[instance as usize].module);
            let at = GcHeap::array_elem(arr, elem, dst);
            store
                .gc
                .write_bytes(at, &module.datas[f as usize].bytes[range]);
        }
        GcOp::ArrayInitElem => {
            let elem = elem_size(&module_type(store, instance, e));
            let arr = object(frame, a, Trap::NullArrayReference)?;
            let (dst, src, len) = (r(b) as u32, r(c) as u32, r(d) as u32);
            array_range(&store.gc, arr, dst, len)?;
            let items = elem_items(store, instance, f, src, len)?;
            let items = &items[src as usize..][..len as usize];
            write_items(&mut store.gc, arr, elem, dst, items);
        }
        GcOp::RefI31 => frame[a as usize] = i31_new(r(b) as u32),
        GcOp::I31GetS | GcOp::I31GetU => {
            let v = r(b);
            if v == 0 {
                return Err(Trap::NullI31Reference);
            }
            frame[a as usize] = u64::from(i31_get(v, op == GcOp::I31GetS));
        }
        GcOp::RefTest | GcOp::RefCast => {
            let ty = decode_cast(c, d, e);
            let v = r(b);
            let ok = ref_test(store, v, ty);
            frame[a as usize] = match op {
                GcOp::RefTest => u64::from(ok),
                _ if ok => v,
                _ => return Err(Trap::CastFailure),
            };
        }
        GcOp::RefEq => frame[a as usize] = u64::from(r(b) == r(c)),
        // One encoding for both hierarchies (`runtime::gc`): the type
        // changes, not the bits.
        GcOp::AnyConvertExtern | GcOp::ExternConvertAny => frame[a as usize] = r(b),
        GcOp::StructNewDesc | GcOp::StructNewDefaultDesc => {
            frame[a as usize] = u64::from(struct_new_desc(store, instance, op, (b, c), frame)?);
        }
        GcOp::RefGetDesc => {
            let at =
                descriptor_offset(&store.instances[instance as usize].module.types[c as usize]);
            let obj = object(frame, b, Trap::NullReference)?;
            frame[a as usize] = store.gc.read(obj + at, 4) as u64;
        }
        GcOp::RefTestDesc | GcOp::RefCastDesc => {
            let v = r(b);
            let ok = desc_test(store, instance, v, c, (r(d), e))?;
            frame[a as usize] = match op {
                GcOp::RefTestDesc => u64::from(ok),
                _ if ok => v,
                _ => return Err(Trap::DescriptorCastFailure),
            };
        }
    }
    Ok(())
}

/// `struct.new_desc` (`StructNewDesc`: the fields from cell `cells` on,
/// then the descriptor) or `struct.new_default_desc` (the descriptor in
/// cell `cells`) of module type `t`: the new object.
fn struct_new_desc(
    store: &mut StoreInner,
    instance: u32,
    op: GcOp,
    (t, cells): (u32, u32),
    frame: &[u64],
) -> Result<u32, Trap> {
    let ty = &store.instances[instance as usize].module.types[t as usize];
    let (size, fields) = struct_layout(ty);
    let mut cell = cells;
    if op == GcOp::StructNewDesc {
        for field in fields {
            cell += if field.size == 16 { 2 } else { 1 };
        }
    }
    // A null descriptor traps before anything is allocated.
    let desc = match frame[cell as usize] {
        0 => return Err(Trap::NullDescriptorReference),
        d => d as u32,
    };
    let at = descriptor_offset(ty);
    let obj = store.gc.alloc_struct(ty.index, size)?;
    store.gc.write(obj + at, 4, u128::from(desc));
    if op == GcOp::StructNewDesc {
        let mut cell = cells;
        for field in fields {
            let v = from_cells(frame, cell, field.size);
            store.gc.write(obj + field.offset, field.size, v);
            cell += if field.size == 16 { 2 } else { 1 };
        }
    }
    Ok(obj)
}

/// Whether reference `v` passes `ref.cast_desc_eq` to module type `t`
/// with cast flags `flags` (`isa::gc::cast_flags`) and descriptor `desc`:
/// null when the target admits it, or an object of the target type whose
/// descriptor is `desc`. A null descriptor traps, whatever `v` is.
fn desc_test(
    store: &StoreInner,
    instance: u32,
    v: u64,
    flags: u32,
    (desc, t): (u64, u32),
) -> Result<bool, Trap> {
    if desc == 0 {
        return Err(Trap::NullDescriptorReference);
    }
    if v == 0 {
        return Ok(flags & 1 != 0);
    }
    let ty = &store.instances[instance as usize].module.types[t as usize];
    let (kind, index) = crate::isa::gc::encode_heap(ty.heap_type());
    // The descriptor alone decides (it describes exactly one type), but
    // the type test first makes sure `v` is a struct whose descriptor
    // field is where the target type's is, before it is read.
    let ok = ref_test(store, v, decode_cast(flags, kind, index))
        && store.gc.read(v as u32 + descriptor_offset(ty), 4) as u64 == desc;
    Ok(ok)
}
