//! The mark-and-sweep collector (non-moving, so no barriers and no
//! rewriting of roots).
//!
//! **Mark.** Every root cell that is an object's reference (0 and `i31`s
//! are not) marks that object, and marked objects are traced through
//! their fields of the `any`, `extern` and `exn` hierarchies, as the
//! layouts of their types place them (an exception through the payload
//! cells its tag's type says are references; a host reference, kind
//! `Extern`, reaches its host value). Roots are precise for the store's
//! own tables (globals, tables, element segments, the pending exception,
//! host handles), for interpreted frames, whose stack maps name the
//! slots that hold references, and for compiled frames (their calls'
//! stack maps; both in `roots.rs`). A root still marks only an object's
//! start (the heap's start bitmap says where objects start), which keeps
//! a stale or wrong value (the JIT's helper buffers are read whole) from
//! being traced as an object.
//!
//! **Sweep.** Marks are a bitmap beside the heap, a bit per 8 bytes.
//! The sweep visits the marked objects only, in address order: every gap
//! between two of them (dead objects and free blocks) becomes one free
//! block, and a gap at the heap's end goes back to the bump pointer. The
//! marks then become the heap's start bitmap, so a dead object costs the
//! collector nothing. The host values no live `Extern` object holds are
//! dropped (`host_values.rs`).

use super::layout::ARRAY_DATA;
use super::{GcHeap, Header, Kind};
use crate::runtime::store::StoreInner;
use crate::types::{CompositeType, HeapType, StorageType, ValType};
use std::collections::HashMap;

/// Where references lie in objects of one type: offsets (from the object,
/// for a struct; from the element, for an array) and sizes (4).
type RefFields = std::rc::Rc<[(u32, u8)]>;

/// The size of `storage` if it holds references the collector traces.
fn traced(storage: StorageType) -> Option<u8> {
    match storage {
        StorageType::Val(ValType::Ref(r)) => match r.heap_type().top() {
            HeapType::Func => None,
            _ => Some(4),
        },
        _ => None,
    }
}

/// Whether values of type `ty` are references the collector traces (in a
/// field, a global, or an interpreter frame's slot).
pub(crate) fn is_traced(ty: ValType) -> bool {
    traced(StorageType::Val(ty)).is_some()
}

/// The traced fields of type `ty` (a shared index), computed once per
/// collection.
fn ref_fields(store: &StoreInner, ty: u32) -> RefFields {
    ref_field_list(store, ty).into()
}

/// The traced fields of type `ty`, as [`ref_fields`] shares them.
fn ref_field_list(store: &StoreInner, ty: u32) -> Vec<(u32, u8)> {
    let Some(t) = store.engine.types().get(crate::types::SharedTypeIndex(ty)) else {
        return Vec::new();
    };
    match (&t.sub.composite, &t.layout) {
        (CompositeType::Struct(s), Some(l)) => match l.as_struct() {
            // A descriptor (custom descriptors) is a hidden reference
            // field: tracing it keeps an object's descriptor alive.
            Some((_, layout)) => l
                .descriptor()
                .map(|offset| (offset, 4))
                .into_iter()
                .chain(
                    s.fields()
                        .iter()
                        .zip(layout.iter())
                        .filter_map(|(f, l)| Some((l.offset, traced(f.storage)?))),
                )
                .collect(),
            None => Vec::new(),
        },
        (CompositeType::Array(a), _) => traced(a.element().storage)
            .map(|size| vec![(0, size)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The object reference a cell may hold (of the `any`, `extern` or `exn`
/// hierarchies alike: 0 is null, an odd value an `i31`).
fn candidate(v: u64) -> Option<u32> {
    (v != 0 && v >> 32 == 0 && v.is_multiple_of(8)).then_some(v as u32)
}

/// The marking state: the objects marked (a bit per 8 bytes, as the
/// heap's start bitmap), those marked but not traced yet, and the host
/// values reached (a bit per slot).
struct Marker {
    marks: Vec<u64>,
    grey: Vec<u32>,
    hosts: Vec<u64>,
}

impl Marker {
    /// Marks the object cell `v` refers to, if it refers to one.
    fn root(&mut self, heap: &GcHeap, v: u64) {
        let Some(r) = candidate(v) else { return };
        if !heap.is_start(r) {
            return;
        }
        let i = (r / 8) as usize;
        if let Some(w) = self.marks.get_mut(i / 64) {
            let bit = 1 << (i % 64);
            if *w & bit == 0 {
                *w |= bit;
                self.grey.push(r);
            }
        }
    }
}

/// Collects the store's heap, with `extra` (cells a caller holds outside
/// the store's registries; the interpreter's frames are published instead)
/// as roots besides the store's own. Returns false, doing nothing,
/// when collecting is not allowed now (`roots::Activations::can_collect`).
pub(crate) fn collect(store: &mut StoreInner, extra: &[u64]) -> bool {
    if !store.activations.can_collect() {
        return false;
    }
    // Compiled frames' references, read from their stack maps before
    // anything is marked: a segment not at a safepoint forbids collecting.
    let Some(compiled) = store.activations.compiled_roots(&store.limits) else {
        return false;
    };
    let mut m = Marker {
        marks: vec![0; store.gc.starts.len()],
        grey: Vec::new(),
        hosts: vec![0; store.externrefs.slots() / 64 + 1],
    };
    mark_roots(store, &mut m, extra);
    for v in compiled {
        m.root(&store.gc, v);
    }
    trace(store, &mut m);
    sweep(&mut store.gc, m.marks);
    store.externrefs.sweep(&m.hosts);
    true
}

/// Marks every root.
fn mark_roots(store: &mut StoreInner, m: &mut Marker, extra: &[u64]) {
    let heap = &store.gc;
    for &v in extra {
        m.root(heap, v);
    }
    store.activations.for_each_slot(|v| m.root(heap, v));
    for g in &store.globals {
        for v in g.cells() {
            m.root(heap, v);
        }
    }
    for t in &store.tables {
        if t.ty.element().heap_type().top() != HeapType::Func {
            for &v in &t.elements {
                m.root(heap, v);
            }
        }
    }
    for inst in &store.instances {
        for seg in &inst.elems {
            for &v in seg.iter() {
                m.root(heap, v);
            }
        }
    }
    // The exception being thrown, between the tier that raised it and the
    // one that catches it (or the embedder, until it takes it).
    if let Some(exn) = store.pending_exn {
        m.root(heap, u64::from(exn));
    }
    store.host_roots.for_each(|v| m.root(heap, v));
}

/// Traces marked objects until none is left untraced.
fn trace(store: &mut StoreInner, m: &mut Marker) {
    let mut layouts: HashMap<u32, RefFields> = HashMap::new();
    // The last type looked up and its fields: objects of one type tend to
    // come together, and hashing per object showed in profiles.
    let mut last: Option<(u32, RefFields)> = None;
    let mut tags: HashMap<u32, Vec<u32>> = HashMap::new();
    while let Some(r) = m.grey.pop() {
        let h = store.gc.header(r);
        if h.kind() == Kind::Extern {
            // A host reference: its host value's cell (index + 1).
            let host = (store.gc.read(r + super::layout::HEADER, 8) as u64).wrapping_sub(1);
            if let Some(w) = m.hosts.get_mut((host / 64) as usize) {
                *w |= 1 << (host % 64);
            }
            continue;
        }
        if h.kind() == Kind::Exn {
            trace_exn(store, m, &mut tags, r);
            continue;
        }
        if h.kind() == Kind::Free {
            continue;
        }
        let ty = store.gc.type_of(r).bits();
        if last.as_ref().is_none_or(|(t, _)| *t != ty) {
            let fields = layouts.entry(ty).or_insert_with(|| ref_fields(store, ty));
            last = Some((ty, std::rc::Rc::clone(fields)));
        }
        let Some((_, fields)) = &last else {
            unreachable!("looked up above")
        };
        let heap = &store.gc;
        match h.kind() {
            Kind::Struct => {
                for &(offset, size) in fields.iter() {
                    let v = heap.read(r + offset, size) as u64;
                    m.root(heap, v);
                }
            }
            Kind::Array => {
                let Some(&(_, size)) = fields.first() else {
                    continue;
                };
                for i in 0..heap.array_len(r) {
                    let at = r + ARRAY_DATA + u32::from(size) * i;
                    let v = heap.read(at, size) as u64;
                    m.root(heap, v);
                }
            }
            Kind::Extern | Kind::Exn | Kind::Free => {}
        }
    }
}

/// Traces exception `r`: the payload cells its tag's type says hold
/// references of the `any`, `extern` or `exn` hierarchies (`tags` caches
/// those cell indices per tag during one collection).
fn trace_exn(store: &mut StoreInner, m: &mut Marker, tags: &mut HashMap<u32, Vec<u32>>, r: u32) {
    let tag = store.gc.read(r, 4) as u32;
    let cells = tags.entry(tag).or_insert_with(|| {
        let Some(entity) = store.tags.get(tag as usize) else {
            return Vec::new();
        };
        let ty = entity.ty.ty();
        ty.params()
            .iter()
            .enumerate()
            .filter(|(_, t)| matches!(t, ValType::Ref(r) if r.heap_type().top() != HeapType::Func))
            .map(|(i, _)| ty.param_cell(i) as u32)
            .collect()
    });
    for &i in cells.iter() {
        let v = store.gc.read(r + super::layout::HEADER + 8 * i, 8) as u64;
        m.root(&store.gc, v);
    }
}

/// Frees every unmarked object (see the module documentation): visits
/// the marked objects only, in address order, through the mark bitmap,
/// and makes each gap between two of them one free block. The marks
/// become the heap's start bitmap: only live objects start anywhere now.
fn sweep(heap: &mut GcHeap, marks: Vec<u64>) {
    let mut live = 0u64;
    let mut free = Vec::new();
    // Where the last live object ended.
    let mut end = 8usize;
    let next = heap.next as usize;
    if let Some(mem) = &mut heap.mem {
        let data = mem.data_mut();
        for (w, &word) in marks.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let r = (w * 64 + bits.trailing_zeros() as usize) * 8;
                bits &= bits - 1;
                let Some(size) =
                    super::word(data, r + 4).and_then(|h| super::object_size(data, r, Header(h)))
                else {
                    continue;
                };
                if r > end {
                    super::free_block(data, end, r - end);
                    free.push((end as u32, (r - end) as u32));
                }
                live += u64::from(size);
                end = r + size as usize;
            }
        }
    }
    // Only live objects start anywhere now (and the window, emptied by
    // `clear_free`, learns where the bitmap is).
    heap.starts = marks;
    heap.clear_free();
    heap.free = free;
    if end < next {
        // The heap's tail is dead: bump from its start again. Reused
        // memory is zeroed by `alloc`, so the old bytes may stay.
        heap.next = end as u64;
    }
    heap.live_after = live;
    heap.allocated_since = 0;
    heap.collections += 1;
}
