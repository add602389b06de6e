//! Exception objects, and how a thrown exception crosses tier and host
//! boundaries.
//!
//! **Raising.** A tier that throws (`throw`, `throw_ref`, or a callee's
//! exception its own frames do not catch) allocates the object with
//! [`alloc`] (for `throw`), parks its exnref in the store with
//! [`raise`] and returns the error `raise` gives back, a
//! [`ThrownException`], from its invocation (`tier::invoke`,
//! `StoreOps::call`). A host function throws the same way
//! (`Store::throw`/`Caller::throw` call [`raise`]).
//!
//! **Receiving.** A tier whose call out (a host function, or a function of
//! the other tier through `StoreOps::call`) fails passes the error to
//! [`thrown`]: `Some(exnref)` means the callee threw (the pending exnref is
//! taken out of the store) and the tier unwinds its own frames looking for
//! a handler; `None` means a trap or a host error, handled as before. An
//! exception no frame catches leaves the tier by [`raise`] again, so the
//! embedder finally sees a `ThrownException` error with the exception
//! still pending in the store (the API describes it, `describe`).
//!
//! **Objects.** An exception object lives in the store's GC heap
//! (`runtime::gc`, kind `Kind::Exn`): the tag's store index in the
//! header's type word, then the payload in the cell encoding
//! (`types::raw`, a `v128` in two cells), in the tag type's parameter
//! layout. An exnref is the object's 32-bit heap reference, 0 is null.
//! The collector traces the payload cells the tag's type says are
//! references, and frees an exception once nothing reaches it: the
//! pending exception is a root, a caught exnref lives in frame slots (the
//! collector's frame walks), a host `ExnRef` handle is a host root. Only
//! [`alloc`], [`tag_of`] and [`payload_of`] touch the representation.

use super::gc::collect::collect;
use super::store::StoreInner;
use crate::types::ValType;
use crate::Trap;

/// Allocates an exception of tag `tag` (a store index) carrying `payload`
/// (cells): its exnref. Like every allocation it may collect first (under
/// pressure, or at every allocation in stress mode) and collects then
/// tries again once when the heap is full, so the heap's limit traps only
/// when a collection cannot make room. `roots` (the throwing frame's
/// slots, which hold the payload) are roots besides the store's; the
/// collector refuses to run when the caller is not at a safepoint
/// (compiled code, or an interpreter entry that did not publish).
pub(crate) fn alloc(
    store: &mut StoreInner,
    tag: u32,
    payload: &[u64],
    roots: &[u64],
) -> Result<u32, Trap> {
    let collect_with = |store: &mut StoreInner| {
        let extra: Vec<u64> = payload.iter().chain(roots).copied().collect();
        collect(store, &extra)
    };
    let collected = store.gc.pressure() && collect_with(store);
    match store.gc.alloc_exn(tag, payload) {
        Err(Trap::GcHeapOutOfMemory) if !collected && collect_with(store) => {
            store.gc.alloc_exn(tag, payload)
        }
        result => result,
    }
}

/// The store index of the tag of exception `exn` (`None` for null or
/// anything that is not an exception of this store).
pub(crate) fn tag_of(store: &StoreInner, exn: u32) -> Option<u32> {
    store.gc.exn_tag(exn)
}

/// The payload cells of exception `exn`.
pub(crate) fn payload_of(store: &StoreInner, exn: u32) -> Option<Vec<u64>> {
    store.gc.exn_payload(exn)
}

/// Parks exception `exn` as the store's pending exception and returns the
/// error that carries it out of the current invocation.
pub(crate) fn raise(store: &mut StoreInner, exn: u32) -> anyhow::Error {
    store.pending_exn = Some(exn);
    anyhow::Error::new(ThrownException::default())
}

/// If `error` is a thrown exception and one is pending, takes it out of the
/// store: the callee threw it, and the caller now unwinds with it.
pub(crate) fn thrown(store: &mut StoreInner, error: &anyhow::Error) -> Option<u32> {
    if error.is::<ThrownException>() {
        store.pending_exn.take()
    } else {
        None
    }
}

/// How an uncaught exception is named to the embedder: its tag (the name
/// an instance exports it under, else its index in the first instance
/// that has it, else its store index for a tag only the host holds) and
/// its payload values.
pub(crate) fn describe(store: &StoreInner, exn: u32) -> String {
    use std::fmt::Write;
    let (Some(tag), Some(payload)) = (tag_of(store, exn), payload_of(store, exn)) else {
        return "an exception this store does not hold".to_string();
    };
    let item = super::store::ExportItem::Tag(tag);
    let exported = store
        .instances
        .iter()
        .flat_map(|i| i.exports.iter())
        .filter(|(_, e)| **e == item)
        .map(|(name, _)| name)
        .min();
    let mut out = match exported {
        Some(name) => format!("tag `{name}`"),
        None => match store
            .instances
            .iter()
            .find_map(|i| i.tags.iter().position(|t| *t == tag))
        {
            Some(index) => format!("tag {index}"),
            None => format!("host tag {tag}"),
        },
    };
    let Some(entity) = store.tags.get(tag as usize) else {
        return out;
    };
    let ty = entity.ty.ty();
    if ty.params().is_empty() {
        out.push_str(" (no payload)");
        return out;
    }
    out.push_str(" with payload (");
    for (i, t) in ty.params().iter().enumerate() {
        let at = ty.param_cell(i);
        let cell = payload.get(at).copied().unwrap_or(0);
        if i > 0 {
            out.push_str(", ");
        }
        let _ = match t {
            ValType::I32 => write!(out, "i32 {}", cell as u32 as i32),
            ValType::I64 => write!(out, "i64 {}", cell as i64),
            ValType::F32 => write!(out, "f32 {}", f32::from_bits(cell as u32)),
            ValType::F64 => write!(out, "f64 {}", f64::from_bits(cell)),
            ValType::V128 => {
                let high = payload.get(at + 1).copied().unwrap_or(0);
                let v = crate::types::raw::v128_from_cells(cell, high);
                write!(out, "v128 {v:#034x}")
            }
            ValType::Ref(r) if cell == 0 => write!(out, "{} null", ValType::Ref(*r)),
            ValType::Ref(r) => write!(out, "{} non-null", ValType::Ref(*r)),
        };
    }
    out.push(')');
    out
}

/// The error of a call that ended with a thrown WebAssembly exception.
/// The exception itself is pending in the store
/// (`Store::take_pending_exception`); a host function throws by returning
/// the error `Store::throw`/`Caller::throw` give. When no wasm frame
/// catches the exception, the embedder's call fails with this error, whose
/// message names the exception's tag and payload.
#[derive(Debug, Default, Clone)]
pub struct ThrownException {
    /// The uncaught exception, as the call into wasm described it.
    description: Option<String>,
}

impl ThrownException {
    /// The error for an exception that reached the embedder, described.
    pub(crate) fn uncaught(description: String) -> ThrownException {
        ThrownException {
            description: Some(description),
        }
    }
}

impl std::fmt::Display for ThrownException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.description {
            Some(d) => write!(f, "uncaught WebAssembly exception: {d}"),
            None => f.write_str("thrown WebAssembly exception"),
        }
    }
}

impl std::error::Error for ThrownException {}

#[cfg(test)]
mod tests {
    use crate::runtime::gc::{GcHeap, Kind};

    #[test]
    fn exceptions_are_heap_objects_with_their_tag_and_payload() {
        let mut heap = GcHeap::new(1 << 20);
        let a = heap.alloc_exn(3, &[1, 2, u64::MAX]).unwrap();
        let b = heap.alloc_exn(0, &[]).unwrap();
        // Objects are 8-aligned and never at 0; `a` takes its header
        // and three cells.
        assert_eq!((a, b), (8, 8 + 8 + 24));
        assert_eq!(heap.header(a).kind(), Kind::Exn);
        assert_eq!(heap.size_of(a), 32);
        assert_eq!(heap.exn_tag(a), Some(3));
        assert_eq!(heap.exn_payload(a), Some(vec![1, 2, u64::MAX]));
        assert_eq!(heap.exn_payload(b), Some(vec![]));
        assert_eq!(heap.objects().collect::<Vec<_>>(), [a, b]);
        // Null, a misaligned or out-of-heap reference, and a struct are
        // not exceptions.
        assert_eq!(heap.exn_tag(0), None);
        assert_eq!(heap.exn_tag(a + 4), None);
        assert_eq!(heap.exn_tag(4096), None);
        let s = heap
            .alloc_struct(crate::types::SharedTypeIndex(0), 16)
            .unwrap();
        assert_eq!(heap.exn_tag(s), None);
    }
}
