//! Type representations: value, function, global, table, memory and extern
//! types, import and export types, and limits.
//!
//! Every function, global, table and memory type is a `wasm_externtype_t`
//! underneath, so `wasm_*type_as_externtype` is a field access and
//! `wasm_externtype_as_*type` a checked cast.

use crate::val::{kind_of, type_of, wasm_valkind_t};
use crate::vec::{wasm_name_t, wasm_valtype_vec_t, WasmVec};
use strata::{
    ExternType, FuncType, GlobalType, MemoryType, Mutability, TableType, TagType, ValType,
};

/// `wasm_mutability_t`.
pub type wasm_mutability_t = u8;
/// `WASM_CONST`.
pub const WASM_CONST: wasm_mutability_t = 0;
/// `WASM_VAR`.
pub const WASM_VAR: wasm_mutability_t = 1;

/// `wasm_externkind_t`.
pub type wasm_externkind_t = u8;
/// `WASM_EXTERN_FUNC`.
pub const WASM_EXTERN_FUNC: wasm_externkind_t = 0;
/// `WASM_EXTERN_GLOBAL`.
pub const WASM_EXTERN_GLOBAL: wasm_externkind_t = 1;
/// `WASM_EXTERN_TABLE`.
pub const WASM_EXTERN_TABLE: wasm_externkind_t = 2;
/// `WASM_EXTERN_MEMORY`.
pub const WASM_EXTERN_MEMORY: wasm_externkind_t = 3;
/// `WASM_EXTERN_TAG`: only ever in types made by C (Strata does not
/// implement exception handling, so modules have no tags).
pub const WASM_EXTERN_TAG: wasm_externkind_t = 4;

/// `wasm_limits_t`: `max` is `wasm_limits_max_default` (`u32::MAX`) when
/// there is no maximum.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct wasm_limits_t {
    /// The minimum.
    pub min: u32,
    /// The maximum, or `u32::MAX` for none.
    pub max: u32,
}

impl wasm_limits_t {
    fn new(min: u64, max: Option<u64>) -> wasm_limits_t {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        wasm_limits_t {
            min: clamp(min),
            max: max.map_or(u32::MAX, clamp),
        }
    }
    fn max(&self) -> Option<u32> {
        (self.max != u32::MAX).then_some(self.max)
    }
}

/// `wasm_valtype_t`.
#[derive(Debug, Clone, Copy)]
pub struct wasm_valtype_t {
    pub(crate) ty: ValType,
}

/// `wasm_externtype_t`: the type of anything imported or exported.
#[derive(Clone)]
pub struct wasm_externtype_t {
    pub(crate) which: TypeKind,
}

#[derive(Clone)]
pub(crate) enum TypeKind {
    Func {
        ty: FuncType,
        params: wasm_valtype_vec_t,
        results: wasm_valtype_vec_t,
    },
    Global {
        ty: GlobalType,
        content: wasm_valtype_t,
    },
    Table {
        ty: TableType,
        element: wasm_valtype_t,
        limits: wasm_limits_t,
    },
    Memory {
        ty: MemoryType,
        limits: wasm_limits_t,
    },
    /// An exception tag's type: the function type of its payload.
    Tag { func: Box<wasm_functype_t> },
}

fn valtype_vec(tys: &[ValType]) -> wasm_valtype_vec_t {
    WasmVec::from_vec(
        tys.iter()
            .map(|&ty| Some(Box::new(wasm_valtype_t { ty })))
            .collect(),
    )
}

impl wasm_externtype_t {
    /// The C representation of `ty`.
    pub(crate) fn new(ty: ExternType) -> wasm_externtype_t {
        let which = match ty {
            ExternType::Func(ty) => TypeKind::Func {
                params: valtype_vec(ty.params()),
                results: valtype_vec(ty.results()),
                ty,
            },
            ExternType::Global(ty) => TypeKind::Global {
                content: wasm_valtype_t { ty: ty.content() },
                ty,
            },
            ExternType::Table(ty) => TypeKind::Table {
                element: wasm_valtype_t {
                    ty: ValType::Ref(ty.element()),
                },
                limits: wasm_limits_t::new(ty.minimum(), ty.maximum()),
                ty,
            },
            ExternType::Memory(ty) => TypeKind::Memory {
                limits: wasm_limits_t::new(ty.minimum(), ty.maximum()),
                ty,
            },
            ExternType::Tag(ty) => TypeKind::Tag {
                func: wasm_functype_t::boxed(ExternType::Func(ty.ty().clone())),
            },
        };
        wasm_externtype_t { which }
    }

    /// The Strata type (always one today; `None` is kept for kinds the C
    /// API may name before Strata has them).
    pub(crate) fn ty(&self) -> Option<ExternType> {
        Some(match &self.which {
            TypeKind::Func { ty, .. } => ExternType::Func(ty.clone()),
            TypeKind::Global { ty, .. } => ExternType::Global(*ty),
            TypeKind::Table { ty, .. } => ExternType::Table(*ty),
            TypeKind::Memory { ty, .. } => ExternType::Memory(*ty),
            TypeKind::Tag { func } => match func.ext.ty()? {
                ExternType::Func(f) => ExternType::Tag(TagType::new(f)),
                _ => return None,
            },
        })
    }

    fn kind(&self) -> wasm_externkind_t {
        match self.which {
            TypeKind::Func { .. } => WASM_EXTERN_FUNC,
            TypeKind::Global { .. } => WASM_EXTERN_GLOBAL,
            TypeKind::Table { .. } => WASM_EXTERN_TABLE,
            TypeKind::Memory { .. } => WASM_EXTERN_MEMORY,
            TypeKind::Tag { .. } => WASM_EXTERN_TAG,
        }
    }
}

/// Declares a type that is a `wasm_externtype_t` of one kind underneath,
/// with its `as_externtype` / `externtype_as` conversions.
macro_rules! sub_type {
    ($(#[$doc:meta])* $name:ident, $short:ident, $kind:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone)]
        pub struct $name {
            pub(crate) ext: wasm_externtype_t,
        }

        impl $name {
            #[allow(dead_code)]
            pub(crate) fn boxed(ty: ExternType) -> Box<$name> {
                Box::new($name {
                    ext: wasm_externtype_t::new(ty),
                })
            }
            fn view(e: &wasm_externtype_t) -> Option<&$name> {
                // SAFETY: `$name` is `#[repr(transparent)]` over
                // `wasm_externtype_t`, and the kind is checked.
                matches!(e.which, TypeKind::$kind { .. })
                    .then(|| unsafe { &*(e as *const wasm_externtype_t).cast::<$name>() })
            }
            fn view_mut(e: &mut wasm_externtype_t) -> Option<&mut $name> {
                // SAFETY: as in `view`.
                matches!(e.which, TypeKind::$kind { .. })
                    .then(|| unsafe { &mut *(e as *mut wasm_externtype_t).cast::<$name>() })
            }
        }

        paste::paste! {
            #[doc = concat!("`wasm_", stringify!($short), "_as_externtype`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $short _as_externtype>](t: Option<&mut $name>) -> Option<&mut wasm_externtype_t> {
                t.map(|t| &mut t.ext)
            }
            #[doc = concat!("`wasm_", stringify!($short), "_as_externtype_const`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_ $short _as_externtype_const>](t: Option<&$name>) -> Option<&wasm_externtype_t> {
                t.map(|t| &t.ext)
            }
            #[doc = concat!("`wasm_externtype_as_", stringify!($short), "`: null for another kind.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_externtype_as_ $short>](t: Option<&mut wasm_externtype_t>) -> Option<&mut $name> {
                $name::view_mut(t?)
            }
            #[doc = concat!("`wasm_externtype_as_", stringify!($short), "_const`.")]
            #[no_mangle]
            pub extern "C" fn [<wasm_externtype_as_ $short _const>](t: Option<&wasm_externtype_t>) -> Option<&$name> {
                $name::view(t?)
            }
        }
    };
}

sub_type!(
    /// `wasm_functype_t`.
    wasm_functype_t, functype, Func
);
sub_type!(
    /// `wasm_globaltype_t`.
    wasm_globaltype_t, globaltype, Global
);
sub_type!(
    /// `wasm_tabletype_t`.
    wasm_tabletype_t, tabletype, Table
);
sub_type!(
    /// `wasm_memorytype_t`.
    wasm_memorytype_t, memorytype, Memory
);
sub_type!(
    /// `wasm_tagtype_t`: the type of an exception tag.
    wasm_tagtype_t, tagtype, Tag
);

impl wasm_functype_t {
    /// The function type.
    pub(crate) fn func_type(&self) -> FuncType {
        match &self.ext.which {
            TypeKind::Func { ty, .. } => ty.clone(),
            _ => FuncType::new([], []),
        }
    }
}

/// `wasm_importtype_t`.
#[derive(Clone)]
pub struct wasm_importtype_t {
    module: wasm_name_t,
    name: wasm_name_t,
    ty: Box<wasm_externtype_t>,
}

impl wasm_importtype_t {
    pub(crate) fn new(module: &str, name: &str, ty: ExternType) -> wasm_importtype_t {
        wasm_importtype_t {
            module: wasm_name_t::from_bytes(module.as_bytes()),
            name: wasm_name_t::from_bytes(name.as_bytes()),
            ty: Box::new(wasm_externtype_t::new(ty)),
        }
    }
}

/// `wasm_exporttype_t`.
#[derive(Clone)]
pub struct wasm_exporttype_t {
    name: wasm_name_t,
    ty: Box<wasm_externtype_t>,
}

impl wasm_exporttype_t {
    pub(crate) fn new(name: &str, ty: ExternType) -> wasm_exporttype_t {
        wasm_exporttype_t {
            name: wasm_name_t::from_bytes(name.as_bytes()),
            ty: Box::new(wasm_externtype_t::new(ty)),
        }
    }
}

/// Declares `wasm_<name>_delete` and `wasm_<name>_copy`.
macro_rules! own_and_copy {
    ($($name:ident),*) => {$(paste::paste! {
        #[doc = concat!("`wasm_", stringify!($name), "_delete`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _delete>](_t: Option<Box<[<wasm_ $name _t>]>>) {}

        #[doc = concat!("`wasm_", stringify!($name), "_copy`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _copy>](t: Option<&[<wasm_ $name _t>]>) -> Option<Box<[<wasm_ $name _t>]>> {
            t.map(|t| Box::new(t.clone()))
        }
    })*};
}

own_and_copy!(
    valtype, functype, globaltype, tabletype, memorytype, tagtype, externtype, importtype,
    exporttype
);

// Value types

/// `wasm_valtype_new`: null for an unknown kind.
#[no_mangle]
pub extern "C" fn wasm_valtype_new(kind: wasm_valkind_t) -> Option<Box<wasm_valtype_t>> {
    Some(Box::new(wasm_valtype_t { ty: type_of(kind)? }))
}

/// `wasm_valtype_kind`.
#[no_mangle]
pub extern "C" fn wasm_valtype_kind(t: Option<&wasm_valtype_t>) -> wasm_valkind_t {
    t.and_then(|t| kind_of(t.ty)).unwrap_or(u8::MAX)
}

// Function types

/// `wasm_functype_new`: takes ownership of both vectors; null when one of
/// their elements is null.
#[no_mangle]
pub extern "C" fn wasm_functype_new(
    params: Option<&mut wasm_valtype_vec_t>,
    results: Option<&mut wasm_valtype_vec_t>,
) -> Option<Box<wasm_functype_t>> {
    let params = params.map(WasmVec::take).unwrap_or_default();
    let results = results.map(WasmVec::take).unwrap_or_default();
    let tys = |v: Vec<Option<Box<wasm_valtype_t>>>| -> Option<Vec<ValType>> {
        v.into_iter().map(|t| Some(t?.ty)).collect()
    };
    let ty = FuncType::new(tys(params)?, tys(results)?);
    Some(wasm_functype_t::boxed(ExternType::Func(ty)))
}

/// `wasm_functype_params`.
#[no_mangle]
pub extern "C" fn wasm_functype_params(t: Option<&wasm_functype_t>) -> Option<&wasm_valtype_vec_t> {
    match &t?.ext.which {
        TypeKind::Func { params, .. } => Some(params),
        _ => None,
    }
}

/// `wasm_functype_results`.
#[no_mangle]
pub extern "C" fn wasm_functype_results(
    t: Option<&wasm_functype_t>,
) -> Option<&wasm_valtype_vec_t> {
    match &t?.ext.which {
        TypeKind::Func { results, .. } => Some(results),
        _ => None,
    }
}

// Global types

/// `wasm_globaltype_new`: takes ownership of the content type.
#[no_mangle]
pub extern "C" fn wasm_globaltype_new(
    content: Option<Box<wasm_valtype_t>>,
    mutability: wasm_mutability_t,
) -> Option<Box<wasm_globaltype_t>> {
    let mutability = match mutability {
        WASM_CONST => Mutability::Const,
        WASM_VAR => Mutability::Var,
        _ => return None,
    };
    let ty = GlobalType::new(content?.ty, mutability);
    Some(wasm_globaltype_t::boxed(ExternType::Global(ty)))
}

/// `wasm_globaltype_content`.
#[no_mangle]
pub extern "C" fn wasm_globaltype_content(
    t: Option<&wasm_globaltype_t>,
) -> Option<&wasm_valtype_t> {
    match &t?.ext.which {
        TypeKind::Global { content, .. } => Some(content),
        _ => None,
    }
}

/// `wasm_globaltype_mutability`.
#[no_mangle]
pub extern "C" fn wasm_globaltype_mutability(t: Option<&wasm_globaltype_t>) -> wasm_mutability_t {
    match t.map(|t| &t.ext.which) {
        Some(TypeKind::Global { ty, .. }) if ty.mutability() == Mutability::Var => WASM_VAR,
        _ => WASM_CONST,
    }
}

// Table types

/// `wasm_tabletype_new`: takes ownership of the element type, which must
/// be a reference type.
#[no_mangle]
pub extern "C" fn wasm_tabletype_new(
    element: Option<Box<wasm_valtype_t>>,
    limits: Option<&wasm_limits_t>,
) -> Option<Box<wasm_tabletype_t>> {
    let element = element?.ty.as_ref()?;
    let limits = limits?;
    let ty = TableType::new(element, limits.min, limits.max());
    Some(wasm_tabletype_t::boxed(ExternType::Table(ty)))
}

/// `wasm_tabletype_element`.
#[no_mangle]
pub extern "C" fn wasm_tabletype_element(t: Option<&wasm_tabletype_t>) -> Option<&wasm_valtype_t> {
    match &t?.ext.which {
        TypeKind::Table { element, .. } => Some(element),
        _ => None,
    }
}

/// `wasm_tabletype_limits`.
#[no_mangle]
pub extern "C" fn wasm_tabletype_limits(t: Option<&wasm_tabletype_t>) -> Option<&wasm_limits_t> {
    match &t?.ext.which {
        TypeKind::Table { limits, .. } => Some(limits),
        _ => None,
    }
}

// Memory types

/// `wasm_memorytype_new`.
#[no_mangle]
pub extern "C" fn wasm_memorytype_new(
    limits: Option<&wasm_limits_t>,
) -> Option<Box<wasm_memorytype_t>> {
    let limits = limits?;
    let ty = MemoryType::new(limits.min, limits.max());
    Some(wasm_memorytype_t::boxed(ExternType::Memory(ty)))
}

/// `strata_memorytype_new`: a memory type with 64-bit limits in pages,
/// 64-bit addresses when `is_64`, and pages of `2^page_size_log2` bytes;
/// null for a page size other than 1 byte (0) or 64 KiB (16). Whether the
/// engine's proposals admit it is checked where it is used.
#[no_mangle]
pub extern "C" fn strata_memorytype_new(
    min: u64,
    max_present: bool,
    max: u64,
    is_64: bool,
    page_size_log2: u8,
) -> Option<Box<wasm_memorytype_t>> {
    if page_size_log2 != 0 && page_size_log2 != 16 {
        return None;
    }
    let max = max_present.then_some(max);
    let ty = if is_64 {
        MemoryType::new64(min, max)
    } else {
        MemoryType::new(
            u32::try_from(min).ok()?,
            max.map(u32::try_from).transpose().ok()?,
        )
    };
    let ty = ty.with_page_size_log2(page_size_log2);
    Some(wasm_memorytype_t::boxed(ExternType::Memory(ty)))
}

/// The Strata type of a memory type.
fn memory_type(t: Option<&wasm_memorytype_t>) -> Option<MemoryType> {
    match t?.ext.which {
        TypeKind::Memory { ty, .. } => Some(ty),
        _ => None,
    }
}

/// `strata_memorytype_is64`: whether addresses are 64-bit.
#[no_mangle]
pub extern "C" fn strata_memorytype_is64(t: Option<&wasm_memorytype_t>) -> bool {
    memory_type(t).is_some_and(|t| t.is_64())
}

/// `strata_memorytype_minimum`: the minimum in pages, 64-bit.
#[no_mangle]
pub extern "C" fn strata_memorytype_minimum(t: Option<&wasm_memorytype_t>) -> u64 {
    memory_type(t).map_or(0, |t| t.minimum())
}

/// `strata_memorytype_maximum`: the maximum in pages, 64-bit, in `max`;
/// false when there is none.
#[no_mangle]
pub extern "C" fn strata_memorytype_maximum(
    t: Option<&wasm_memorytype_t>,
    max: Option<&mut u64>,
) -> bool {
    match (memory_type(t).and_then(|t| t.maximum()), max) {
        (Some(m), Some(out)) => {
            *out = m;
            true
        }
        (m, _) => m.is_some(),
    }
}

/// `strata_memorytype_page_size_log2`: the log2 of the page size in bytes.
#[no_mangle]
pub extern "C" fn strata_memorytype_page_size_log2(t: Option<&wasm_memorytype_t>) -> u8 {
    memory_type(t).map_or(16, |t| t.page_size_log2())
}

/// `wasm_memorytype_limits`.
#[no_mangle]
pub extern "C" fn wasm_memorytype_limits(t: Option<&wasm_memorytype_t>) -> Option<&wasm_limits_t> {
    match &t?.ext.which {
        TypeKind::Memory { limits, .. } => Some(limits),
        _ => None,
    }
}

// Tag types

/// `wasm_tagtype_new`: takes ownership of the function type.
#[no_mangle]
pub extern "C" fn wasm_tagtype_new(
    func: Option<Box<wasm_functype_t>>,
) -> Option<Box<wasm_tagtype_t>> {
    Some(Box::new(wasm_tagtype_t {
        ext: wasm_externtype_t {
            which: TypeKind::Tag { func: func? },
        },
    }))
}

/// `wasm_tagtype_functype`.
#[no_mangle]
pub extern "C" fn wasm_tagtype_functype(t: Option<&wasm_tagtype_t>) -> Option<&wasm_functype_t> {
    match &t?.ext.which {
        TypeKind::Tag { func } => Some(func),
        _ => None,
    }
}

// Extern types

/// `wasm_externtype_kind`.
#[no_mangle]
pub extern "C" fn wasm_externtype_kind(t: Option<&wasm_externtype_t>) -> wasm_externkind_t {
    t.map_or(u8::MAX, wasm_externtype_t::kind)
}

// Import types

/// `wasm_importtype_new`: takes ownership of the names and the type.
#[no_mangle]
pub extern "C" fn wasm_importtype_new(
    module: Option<&mut wasm_name_t>,
    name: Option<&mut wasm_name_t>,
    ty: Option<Box<wasm_externtype_t>>,
) -> Option<Box<wasm_importtype_t>> {
    let module = WasmVec::from_vec(module?.take());
    let name = WasmVec::from_vec(name?.take());
    Some(Box::new(wasm_importtype_t {
        module,
        name,
        ty: ty?,
    }))
}

/// `wasm_importtype_module`.
#[no_mangle]
pub extern "C" fn wasm_importtype_module(t: Option<&wasm_importtype_t>) -> Option<&wasm_name_t> {
    Some(&t?.module)
}

/// `wasm_importtype_name`.
#[no_mangle]
pub extern "C" fn wasm_importtype_name(t: Option<&wasm_importtype_t>) -> Option<&wasm_name_t> {
    Some(&t?.name)
}

/// `wasm_importtype_type`.
#[no_mangle]
pub extern "C" fn wasm_importtype_type(
    t: Option<&wasm_importtype_t>,
) -> Option<&wasm_externtype_t> {
    Some(&t?.ty)
}

// Export types

/// `wasm_exporttype_new`: takes ownership of the name and the type.
#[no_mangle]
pub extern "C" fn wasm_exporttype_new(
    name: Option<&mut wasm_name_t>,
    ty: Option<Box<wasm_externtype_t>>,
) -> Option<Box<wasm_exporttype_t>> {
    let name = WasmVec::from_vec(name?.take());
    Some(Box::new(wasm_exporttype_t { name, ty: ty? }))
}

/// `wasm_exporttype_name`.
#[no_mangle]
pub extern "C" fn wasm_exporttype_name(t: Option<&wasm_exporttype_t>) -> Option<&wasm_name_t> {
    Some(&t?.name)
}

/// `wasm_exporttype_type`.
#[no_mangle]
pub extern "C" fn wasm_exporttype_type(
    t: Option<&wasm_exporttype_t>,
) -> Option<&wasm_externtype_t> {
    Some(&t?.ty)
}
