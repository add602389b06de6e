//! Exception tags: `wasm_tag_new` and `wasm_tag_type`. A tag is generative:
//! each `wasm_tag_new` (and each instantiation of a module defining one)
//! makes a tag distinct from every other, which `wasm_tag_same` tells.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::StoreRc;
use crate::{wasm_extern_t, wasm_store_t, wasm_tagtype_t};
use strata::{ExternType, Tag};

ref_type!(
    /// `wasm_tag_t`: an exception tag of a store.
    wasm_tag_t,
    wasm_extern_t,
    Tag(..)
);
declare_ref!(tag, wasm_tag_t);

impl wasm_tag_t {
    pub(crate) fn tag(&self) -> (&StoreRc, Tag) {
        match &self.inner.inner.kind {
            RefKind::Tag(s, t) => (s, *t),
            // `RefType::accepts` admits only tags.
            _ => unreachable!("wasm_tag_t holds a tag"),
        }
    }
}

/// `wasm_tag_new`: null when the type is not a tag type with no results,
/// or the engine does not enable exceptions.
#[no_mangle]
pub extern "C" fn wasm_tag_new(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_tagtype_t>,
) -> Option<Box<wasm_tag_t>> {
    let ctx = &store?.ctx;
    let Some(ExternType::Tag(ty)) = ty?.ext.ty() else {
        return None;
    };
    let tag = ctx.with(|s| Tag::new(s, &ty)).ok()?;
    Some(wasm_tag_t::boxed(RefKind::Tag(ctx.clone(), tag)))
}

/// `wasm_tag_type`.
#[no_mangle]
pub extern "C" fn wasm_tag_type(t: Option<&wasm_tag_t>) -> Option<Box<wasm_tagtype_t>> {
    let (store, tag) = t?.tag();
    let ty = store.with(|s| tag.ty(&*s));
    Some(wasm_tagtype_t::boxed(ExternType::Tag(ty)))
}
