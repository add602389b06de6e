//! Collecting from the host ([`Store::gc`], [`Store::gc_stats`]) and the
//! scopes that root host handles ([`RootScope`]).
//!
//! **The rooting model** (a simpler form of wasmtime's `Rooted<T>`):
//! every handle to a GC object the host obtains ([`AnyRef`](crate::AnyRef),
//! [`StructRef`](crate::StructRef), [`ArrayRef`](crate::ArrayRef),
//! [`ExternRef`](crate::ExternRef), whose host value is collected too,
//! [`ExnRef`](crate::ExnRef)) is
//! registered in the store's root table when it is made, and its object
//! stays alive while that registration does. Registrations are released
//! last-in first-out, when the innermost scope ends: a [`RootScope`]
//! dropped, or a host function returning (its arguments and the handles it
//! made). Handles made outside any scope stay rooted until the store
//! drops, so a host that makes many handles in a loop should open a
//! `RootScope` per iteration. A handle whose registration was released
//! makes every method it is given to fail with an error; it can never
//! reach a collected or reused object.

use super::store::{AsContext, AsContextMut, Store};

/// Figures on a store's GC heap ([`Store::gc_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcHeapStats {
    /// Objects in the heap (after [`Store::gc`], the reachable ones).
    pub objects: u64,
    /// Bytes those objects take.
    pub object_bytes: u64,
    /// Bytes the heap spans (objects and free blocks).
    pub heap_bytes: u64,
    /// How many collections ran.
    pub collections: u64,
    /// Host values of `externref`s alive (after [`Store::gc`], the
    /// reachable ones).
    pub host_values: u64,
    /// Slots of the host value table (live and free).
    pub host_value_slots: u64,
}

impl<T> Store<T> {
    /// Collects the store's GC heap now: frees every object no root
    /// reaches (globals, tables, element segments, exceptions, the frames
    /// of wasm running below this call, interpreted or compiled, host
    /// handles). Returns false, collecting nothing, when the call comes
    /// from a callback that interrupted wasm outside a call (an epoch
    /// deadline's in the interpreter, a resource limiter's), where the
    /// collector cannot know which of its values are references.
    pub fn gc(&mut self) -> bool {
        crate::runtime::gc::collect::collect(&mut self.inner, &[])
    }

    /// Figures on the store's GC heap.
    pub fn gc_stats(&self) -> GcHeapStats {
        let heap = &self.inner.gc;
        let (mut objects, mut object_bytes) = (0, 0);
        heap.for_each_object(|_, h, size| {
            if h.kind() != crate::runtime::gc::Kind::Free {
                objects += 1;
                object_bytes += u64::from(size);
            }
        });
        GcHeapStats {
            objects,
            object_bytes,
            heap_bytes: heap.end() - 8,
            collections: heap.collections,
            host_values: self.inner.externrefs.live() as u64,
            host_value_slots: self.inner.externrefs.slots() as u64,
        }
    }
}

/// A scope for GC handles (see the module documentation): handles made
/// through it, or through its store while it lives, are unrooted when it
/// is dropped. Use it as the store.
pub struct RootScope<C: AsContextMut> {
    store: C,
    depth: usize,
}

impl<C: AsContextMut> RootScope<C> {
    /// Opens a scope on `store`.
    pub fn new(mut store: C) -> RootScope<C> {
        let depth = store.as_context_mut().inner.host_roots.depth();
        RootScope { store, depth }
    }
}

impl<C: AsContextMut> Drop for RootScope<C> {
    fn drop(&mut self) {
        let roots = &self.store.as_context_mut().inner.host_roots;
        roots.release_to(self.depth);
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> &Store<C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> &mut Store<C::Data> {
        self.store.as_context_mut()
    }
}

/// Manual rooting (a simpler form of wasmtime's `ManuallyRooted<T>`): a
/// handle whose root outlives every scope, until [`unroot`]ed. What a
/// host that keeps handles in its own data structures (the C API, which
/// roots each handle it gives C until C deletes it) uses; forgetting to
/// unroot one keeps its object alive until the store drops.
///
/// [`unroot`]: crate::AnyRef::unroot
macro_rules! manual_roots {
    ($ty:ident, $cell:expr) => {
        impl crate::$ty {
            /// A handle to the same reference that stays rooted, whatever
            /// scope ends, until [`unroot`](Self::unroot) (an error if
            /// this handle is no longer rooted).
            pub fn to_manually_rooted(&self, store: impl AsContext) -> anyhow::Result<crate::$ty> {
                let inner = &store.as_context().inner;
                inner.check_ref(self.store_id, self.serial)?;
                let cell: fn(&crate::$ty) -> u64 = $cell;
                Ok(crate::$ty {
                    serial: inner.host_roots.root_manually(cell(self)),
                    ..*self
                })
            }

            /// A handle to the same reference rooted in the current scope
            /// (a [`RootScope`], the host function call, else the store),
            /// as handles are made (an error if this one is not rooted).
            pub fn to_rooted(&self, store: impl AsContext) -> anyhow::Result<crate::$ty> {
                let inner = &store.as_context().inner;
                inner.check_ref(self.store_id, self.serial)?;
                let cell: fn(&crate::$ty) -> u64 = $cell;
                Ok(crate::$ty {
                    serial: inner.host_roots.root_cell(cell(self)),
                    ..*self
                })
            }

            /// Releases this handle's manual root (from
            /// [`to_manually_rooted`](Self::to_manually_rooted)); using
            /// it afterwards is an error. Does nothing for a handle rooted
            /// by a scope, or of another store.
            pub fn unroot(self, store: impl AsContext) {
                let inner = &store.as_context().inner;
                if inner.id == self.store_id {
                    inner.host_roots.unroot(self.serial);
                }
            }
        }
    };
}

manual_roots!(AnyRef, |r| u64::from(r.raw));
manual_roots!(ExnRef, |r| u64::from(r.raw));
