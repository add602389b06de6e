//! Modules: `wasm_module_t` (compile, validate, imports, exports,
//! serialize) and `wasm_shared_module_t` (a module handed between threads
//! and stores).
//!
//! With the JIT tier, `wasm_module_serialize` writes Strata's ahead-of-time
//! artifact (`Module::serialize`: a checked header, the binary and the
//! compiled code) and `wasm_module_deserialize` loads one without
//! compiling; a damaged, truncated or mismatched artifact gives null. The
//! interpreter compiles nothing, so there a serialized module is a 16-byte
//! header ([`SERIALIZED_MAGIC`]) followed by the binary, which
//! deserializing validates again; both tiers read both forms (an artifact
//! only in an engine with matching settings).

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::types::{wasm_exporttype_t, wasm_importtype_t};
use crate::vec::{wasm_byte_vec_t, wasm_exporttype_vec_t, wasm_importtype_vec_t, WasmVec};
use crate::{guard, wasm_store_t};
use std::mem::MaybeUninit;
use std::sync::Arc;
use strata::{Engine, Module};

/// The header of a serialized module.
pub const SERIALIZED_MAGIC: &[u8; 16] = b"\0strata-module\x01\0";

/// A compiled module and the binary it came from (for serialization).
#[derive(Clone)]
pub(crate) struct ModuleData {
    pub(crate) module: Module,
    bytes: Arc<[u8]>,
}

/// Compiles a binary module.
pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> anyhow::Result<Box<wasm_module_t>> {
    let module = guard(|| Module::from_binary(engine, bytes))
        .unwrap_or_else(|| Err(anyhow::anyhow!("internal error: compilation panicked")))?;
    Ok(wasm_module_t::boxed(RefKind::Module(ModuleData {
        module,
        bytes: bytes.into(),
    })))
}

impl ModuleData {
    /// Whether both are handles of one compiled module.
    pub(crate) fn same(&self, other: &ModuleData) -> bool {
        Arc::ptr_eq(&self.bytes, &other.bytes)
    }
}

ref_type!(
    /// `wasm_module_t`: a compiled module.
    wasm_module_t,
    crate::r#ref::wasm_ref_t,
    Module(..)
);
declare_ref!(module, wasm_module_t);

impl wasm_module_t {
    pub(crate) fn data(&self) -> &ModuleData {
        match &self.inner.kind {
            RefKind::Module(m) => m,
            // `RefType::accepts` admits only modules.
            _ => unreachable!("wasm_module_t holds a module"),
        }
    }
}

/// `wasm_module_new`: compiles a binary module; null when it is invalid.
#[no_mangle]
pub extern "C" fn wasm_module_new(
    store: Option<&wasm_store_t>,
    binary: Option<&wasm_byte_vec_t>,
) -> Option<Box<wasm_module_t>> {
    compile(&store?.ctx.engine, binary?.as_slice()).ok()
}

/// `wasm_module_validate`: whether the binary is a valid module for the
/// store's engine.
#[no_mangle]
pub extern "C" fn wasm_module_validate(
    store: Option<&wasm_store_t>,
    binary: Option<&wasm_byte_vec_t>,
) -> bool {
    match (store, binary) {
        (Some(store), Some(binary)) => {
            guard(|| Module::validate(&store.ctx.engine, binary.as_slice()).is_ok())
                .unwrap_or(false)
        }
        _ => false,
    }
}

/// `wasm_module_imports`.
#[no_mangle]
pub extern "C" fn wasm_module_imports(
    module: Option<&wasm_module_t>,
    out: Option<&mut MaybeUninit<wasm_importtype_vec_t>>,
) {
    let Some(out) = out else { return };
    let items = module.map_or_else(Vec::new, |m| {
        m.data()
            .module
            .imports()
            .map(|i| {
                Some(Box::new(wasm_importtype_t::new(
                    i.module(),
                    i.name(),
                    i.ty(),
                )))
            })
            .collect()
    });
    out.write(WasmVec::from_vec(items));
}

/// `wasm_module_exports`.
#[no_mangle]
pub extern "C" fn wasm_module_exports(
    module: Option<&wasm_module_t>,
    out: Option<&mut MaybeUninit<wasm_exporttype_vec_t>>,
) {
    let Some(out) = out else { return };
    let items = module.map_or_else(Vec::new, |m| {
        m.data()
            .module
            .exports()
            .map(|e| Some(Box::new(wasm_exporttype_t::new(e.name(), e.ty()))))
            .collect()
    });
    out.write(WasmVec::from_vec(items));
}

/// `wasm_module_serialize`: the module's artifact (compiled code and
/// binary), or, when its engine interprets, the header and the binary;
/// empty when the module is null or writing fails.
#[no_mangle]
pub extern "C" fn wasm_module_serialize(
    module: Option<&wasm_module_t>,
    out: Option<&mut MaybeUninit<wasm_byte_vec_t>>,
) {
    let Some(out) = out else { return };
    let bytes = module.map_or_else(Vec::new, |m| {
        let data = m.data();
        // Only an interpreting engine has no compiled code to write.
        guard(|| data.module.serialize())
            .and_then(Result::ok)
            .unwrap_or_else(|| {
                let mut bytes = SERIALIZED_MAGIC.to_vec();
                bytes.extend_from_slice(&data.bytes);
                bytes
            })
    });
    out.write(WasmVec::from_vec(bytes));
}

/// `wasm_module_deserialize`: loads what `wasm_module_serialize` wrote;
/// null for anything else, and for an artifact that is damaged, truncated,
/// or made by another Strata or for other engine settings.
#[no_mangle]
pub extern "C" fn wasm_module_deserialize(
    store: Option<&wasm_store_t>,
    bytes: Option<&wasm_byte_vec_t>,
) -> Option<Box<wasm_module_t>> {
    let engine = &store?.ctx.engine;
    let bytes = bytes?.as_slice();
    if let Some(binary) = bytes.strip_prefix(SERIALIZED_MAGIC) {
        return compile(engine, binary).ok();
    }
    if !Module::is_precompiled(bytes) {
        return None;
    }
    // SAFETY: `wasm_module_deserialize` is specified to load what
    // `wasm_module_serialize` produced, which the caller vouches for; the
    // artifact's header, checksum and settings are checked before use.
    let module = guard(|| unsafe { Module::deserialize(engine, bytes) })?.ok()?;
    let binary: Arc<[u8]> = module.binary().into();
    Some(wasm_module_t::boxed(RefKind::Module(ModuleData {
        module,
        bytes: binary,
    })))
}

/// `wasm_shared_module_t`: a module that may move to another thread and
/// be obtained in any store of the same engine.
pub struct wasm_shared_module_t {
    module: Module,
    bytes: Arc<[u8]>,
}

/// `wasm_shared_module_delete`.
#[no_mangle]
pub extern "C" fn wasm_shared_module_delete(_m: Option<Box<wasm_shared_module_t>>) {}

/// `wasm_module_share`.
#[no_mangle]
pub extern "C" fn wasm_module_share(
    module: Option<&wasm_module_t>,
) -> Option<Box<wasm_shared_module_t>> {
    let data = module?.data();
    Some(Box::new(wasm_shared_module_t {
        module: data.module.clone(),
        bytes: data.bytes.clone(),
    }))
}

/// `wasm_module_obtain`: the shared module in `store`; null when the store
/// belongs to another engine than the module.
#[no_mangle]
pub extern "C" fn wasm_module_obtain(
    store: Option<&wasm_store_t>,
    shared: Option<&wasm_shared_module_t>,
) -> Option<Box<wasm_module_t>> {
    let shared = shared?;
    if !Engine::same(shared.module.engine(), &store?.ctx.engine) {
        return None;
    }
    Some(wasm_module_t::boxed(RefKind::Module(ModuleData {
        module: shared.module.clone(),
        bytes: shared.bytes.clone(),
    })))
}
