//! Exceptions on the host side, in wasmtime's vocabulary: creating and
//! reading exception objects (`ExnRef`), throwing one from a host function
//! (`Store::throw`, `Caller::throw`) and taking the exception an uncaught
//! throw left pending in the store (`Store::take_pending_exception`).
//! How exceptions cross tiers is in `runtime/exn.rs`.

use super::func::Caller;
use super::tag::Tag;
use super::values::{ExnRef, Val};
use crate::runtime::exn;
use crate::{AsContext, AsContextMut, Store, ThrownException};
use anyhow::{bail, Result};

impl ExnRef {
    /// Creates an exception of tag `tag` carrying `fields`, one per
    /// parameter of the tag's type and of that type. (wasmtime takes an
    /// `ExnRefPre` allocator as well; Strata needs none.)
    ///
    /// The exception is an object of the store's GC heap, freed once
    /// nothing reaches it; the handle returned is a root while its scope
    /// lasts (see [`RootScope`](crate::RootScope)). Allocating may
    /// collect, and fails when the heap's limit leaves no room.
    pub fn new(mut store: impl AsContextMut, tag: &Tag, fields: &[Val]) -> Result<ExnRef> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_owner(tag.store_id)?;
        let ty = inner.tags[tag.index as usize].ty.ty().clone();
        if fields.len() != ty.params().len() {
            bail!(
                "the tag carries {} values, {} fields were given",
                ty.params().len(),
                fields.len()
            );
        }
        let mut payload = vec![0u64; ty.param_cells()];
        for (i, (field, want)) in fields.iter().zip(ty.params()).enumerate() {
            field.check_ty(inner, want, &format!("field {i}"))?;
            field.write_cells(&mut payload[ty.param_cell(i)..], inner)?;
        }
        let raw = exn::alloc(inner, tag.index, &payload, &[])?;
        Ok(ExnRef::rooted(inner, raw))
    }

    /// The exception's tag.
    pub fn tag(&self, store: impl AsContext) -> Result<Tag> {
        let inner = &store.as_context().inner;
        inner.check_ref(self.store_id, self.serial)?;
        let Some(index) = exn::tag_of(inner, self.raw) else {
            bail!("not an exception of this store");
        };
        Ok(Tag {
            store_id: inner.id,
            index,
        })
    }

    /// The exception's field `index` (its tag type's parameter `index`).
    pub fn field(&self, store: impl AsContext, index: usize) -> Result<Val> {
        let store = store.as_context();
        let fields = self.fields(store)?;
        match fields.get(index) {
            Some(v) => Ok(*v),
            None => bail!(
                "field {index} out of bounds: the exception has {}",
                fields.len()
            ),
        }
    }

    /// All the exception's fields, in order.
    pub fn fields(&self, store: impl AsContext) -> Result<Vec<Val>> {
        let inner = &store.as_context().inner;
        inner.check_ref(self.store_id, self.serial)?;
        let (Some(tag), Some(payload)) = (
            exn::tag_of(inner, self.raw),
            exn::payload_of(inner, self.raw),
        ) else {
            bail!("not an exception of this store");
        };
        let ty = inner.tags[tag as usize].ty.ty();
        Ok(ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| Val::read_cells(&payload[ty.param_cell(i)..], *t, inner))
            .collect())
    }
}

impl<T> Store<T> {
    /// Throws `exception`: a host function returns the error this gives
    /// (`return store.throw(exn)`, or with `?`), and the exception unwinds
    /// the wasm frames that called it, to a handler or, uncaught, to the
    /// embedder, whose call fails with a [`ThrownException`] while the
    /// exception is pending here again.
    ///
    /// # Panics
    /// When the exception belongs to another store, or its handle's root
    /// scope ended.
    pub fn throw<R>(&mut self, exception: ExnRef) -> Result<R, ThrownException> {
        self.inner.assert_owner(exception.store_id);
        assert!(
            self.inner.host_roots.is_rooted(exception.serial),
            "the exception's handle outlived its root scope"
        );
        let error = exn::raise(&mut self.inner, exception.raw);
        Err(error
            .downcast::<ThrownException>()
            .unwrap_or_else(|_| unreachable!("`raise` makes a `ThrownException`")))
    }

    /// Takes the pending exception: the one a call that failed with
    /// [`ThrownException`] left uncaught.
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        let raw = self.inner.pending_exn.take()?;
        Some(ExnRef::rooted(&self.inner, raw))
    }

    /// Whether an exception is pending (see
    /// [`Store::take_pending_exception`]).
    pub fn has_pending_exception(&self) -> bool {
        self.inner.pending_exn.is_some()
    }
}

impl<T> Caller<'_, T> {
    /// Throws `exception` from the host function (see [`Store::throw`]).
    pub fn throw<R>(&mut self, exception: ExnRef) -> Result<R, ThrownException> {
        self.store.throw(exception)
    }

    /// Takes the pending exception (see [`Store::take_pending_exception`]).
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        self.store.take_pending_exception()
    }

    /// Whether an exception is pending.
    pub fn has_pending_exception(&self) -> bool {
        self.store.has_pending_exception()
    }
}
