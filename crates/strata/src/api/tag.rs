//! Exception tags: `Tag`, the handle of a tag in a store.
//!
//! A tag is what `throw` names and a handler catches by. Tags are
//! generative: every definition (a module's tag section at each
//! instantiation, or `Tag::new`) is a new tag, distinct from every other
//! even with the same type, and importing a tag shares it. Its type is a
//! function type whose parameters are the values an exception carries.

use crate::runtime::store::TagEntity;
use crate::types::TagType;
use crate::{AsContext, AsContextMut};
use anyhow::{bail, Result};
use wasmparser::WasmFeatures;

/// An exception tag owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Tag {
    /// Creates a new tag of type `ty` (needs `Config::wasm_exceptions`; a
    /// tag's function type has no results).
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let store = store.as_context_mut();
        let inner = &mut store.inner;
        if !inner
            .engine
            .config()
            .features
            .contains(WasmFeatures::EXCEPTIONS)
        {
            bail!("a tag needs `Config::wasm_exceptions`");
        }
        if !ty.ty().results().is_empty() {
            bail!(
                "a tag's function type must have no results, found {}",
                ty.ty()
            );
        }
        let registered = inner.engine.types().register_func(ty.ty());
        inner.tags.push(TagEntity {
            type_id: registered.index,
            ty: ty.clone(),
        });
        Ok(Tag {
            store_id: inner.id,
            index: inner.tags.len() as u32 - 1,
        })
    }

    /// The tag's type.
    ///
    /// # Panics
    /// When the tag belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let store = store.as_context();
        store.inner.assert_owner(self.store_id);
        store.inner.tags[self.index as usize].ty.clone()
    }

    /// Whether `a` and `b` are the same tag (the identity a handler
    /// catches by); both must belong to `store`.
    pub fn eq(a: &Tag, b: &Tag, store: impl AsContext) -> bool {
        let store = store.as_context();
        store.inner.assert_owner(a.store_id);
        store.inner.assert_owner(b.store_id);
        a.index == b.index
    }
}
