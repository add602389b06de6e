//! Exception objects, and how a thrown exception crosses tier and host
//! boundaries.
//!
//! **Raising.** A tier that throws (`throw`, `throw_ref`, or a callee's
//! exception its own frames do not catch) allocates the object with
//! [`ExnTable::alloc`] (for `throw`), parks its exnref in the store with
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
//! **Objects.** Until the GC heap (issue 14) exists, exception objects
//! live in a store-side table ([`ExnTable`]): the tag's store index and the
//! payload in the cell encoding (`types::raw`, a `v128` in two cells). An
//! exnref is `table index + 1`, 0 is null. Objects are kept until the
//! store drops (their payloads are roots of the GC heap). Only `alloc`, `tag_of` and `payload_of`
//! touch the representation, so moving the objects onto the GC heap
//! changes this file alone.

use super::store::StoreInner;
use crate::types::ValType;

/// One exception object: its tag and the values it carries.
struct ExnObject {
    /// The tag's store index (`StoreInner::tags`).
    tag: u32,
    /// The payload in the cell encoding, in the tag type's parameter
    /// layout (`FuncType::param_cell`).
    payload: Box<[u64]>,
}

/// The store's exception objects (see the module documentation).
#[derive(Default)]
pub(crate) struct ExnTable {
    objects: Vec<ExnObject>,
}

impl ExnTable {
    /// Allocates an exception of tag `tag` (a store index) carrying
    /// `payload` (cells): its exnref, or `None` when the store holds as
    /// many exceptions as an exnref can name.
    pub(crate) fn alloc(&mut self, tag: u32, payload: Box<[u64]>) -> Option<u32> {
        let exn = u32::try_from(self.objects.len() + 1).ok()?;
        self.objects.push(ExnObject { tag, payload });
        Some(exn)
    }

    fn get(&self, exn: u32) -> Option<&ExnObject> {
        self.objects.get(exn.checked_sub(1)? as usize)
    }

    /// The store index of the tag of exception `exn` (`None` for null or
    /// an exnref this store never made).
    pub(crate) fn tag_of(&self, exn: u32) -> Option<u32> {
        Some(self.get(exn)?.tag)
    }

    /// Calls `f` with every payload cell of every exception (all of them
    /// are roots of the GC heap: exceptions are kept until the store
    /// drops).
    pub(crate) fn for_each_cell(&self, mut f: impl FnMut(u64)) {
        for o in &self.objects {
            o.payload.iter().copied().for_each(&mut f);
        }
    }

    /// The payload cells of exception `exn`.
    pub(crate) fn payload_of(&self, exn: u32) -> Option<&[u64]> {
        Some(&self.get(exn)?.payload)
    }
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
    let (Some(tag), Some(payload)) = (store.exns.tag_of(exn), store.exns.payload_of(exn)) else {
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
    use super::ExnTable;

    #[test]
    fn exnrefs_are_indices_plus_one_and_null_names_nothing() {
        let mut t = ExnTable::default();
        let a = t.alloc(3, Box::new([1, 2, 3])).unwrap();
        let b = t.alloc(0, Box::new([])).unwrap();
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.tag_of(a), Some(3));
        assert_eq!(t.payload_of(a), Some(&[1u64, 2, 3][..]));
        assert_eq!(t.payload_of(b), Some(&[][..]));
        assert_eq!(t.tag_of(0), None);
        assert_eq!(t.tag_of(3), None);
    }
}
