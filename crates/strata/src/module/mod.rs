//! The module representation: decoding and validation (`wasmparser`,
//! features from the engine's `Config`) into [`ModuleInfo`], everything
//! instantiation and the tiers need to know about a module. Function bodies
//! stay byte ranges into the binary; each tier translates them.

mod const_expr;
mod types;
mod validate;

pub(crate) use const_expr::{ConstExpr, ConstOp, GcConst};
pub(crate) use types::BlockSignature;

use crate::types::registry::RegisteredType;
use crate::types::{
    ExternType, FuncType, GlobalType, MemoryType, SharedTypeIndex, TableType, TagType,
};
use crate::Engine;
use anyhow::Result;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use wasmparser::{Parser, Payload, Validator};

/// What an index in one of a module's index spaces refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntityIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// An import's required type, in module terms.
#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub kind: EntityIndex,
    /// A function import that only a function of exactly its type (not of
    /// a subtype) satisfies: `(func exact ...)` of custom descriptors.
    pub exact: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum ElemMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug, Clone)]
pub(crate) struct ElemSegment {
    pub mode: ElemMode,
    pub items: Vec<ConstExpr>,
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment {
    /// `None` for a passive segment.
    pub active: Option<(u32, ConstExpr)>,
    pub bytes: Vec<u8>,
}

/// Everything known about a module after loading it.
pub(crate) struct ModuleInfo {
    pub engine: Engine,
    pub name: Option<String>,
    /// The type section, and each type's engine-wide id (for signature checks).
    pub types: Vec<Arc<RegisteredType>>,
    pub imports: Vec<Import>,
    /// Type index of every function, imports first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Type index (a function type) of every tag, imports first.
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    /// Initialisers of the defined (non-imported) globals.
    pub global_inits: Vec<ConstExpr>,
    /// Initial elements of the defined tables (null when absent).
    pub table_inits: Vec<Option<ConstExpr>>,
    pub exports: Vec<(String, EntityIndex)>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
    /// Where the body of each defined function lies in `bytes`.
    pub bodies: Vec<Range<usize>>,
    /// The module binary, which the function bodies point into.
    pub bytes: Arc<[u8]>,
    pub func_names: HashMap<u32, String>,
    /// The copy-on-write images of the defined memories, computed at the
    /// first instantiation (`runtime::memory_image`).
    pub memory_images: std::sync::OnceLock<crate::runtime::memory_image::MemoryImages>,
}

impl ModuleInfo {
    /// The signature of a function in the module's function index space.
    pub fn func_type(&self, func: u32) -> &FuncType {
        self.func_type_at(self.funcs[func as usize])
    }

    /// The function type at `index` of the type section (validation
    /// guarantees it is one where a function type is expected).
    pub fn func_type_at(&self, index: u32) -> &FuncType {
        self.types[index as usize]
            .func
            .as_deref()
            .unwrap_or_else(|| unreachable!("validated: type {index} is a function type"))
    }

    /// The engine's index of the type at `index` of the type section.
    pub fn type_id(&self, index: u32) -> SharedTypeIndex {
        self.types[index as usize].index
    }

    pub fn entity_type(&self, index: EntityIndex) -> ExternType {
        match index {
            EntityIndex::Func(i) => ExternType::Func(self.func_type(i).clone()),
            EntityIndex::Table(i) => ExternType::Table(self.tables[i as usize]),
            EntityIndex::Memory(i) => ExternType::Memory(self.memories[i as usize]),
            EntityIndex::Global(i) => ExternType::Global(self.globals[i as usize]),
            EntityIndex::Tag(i) => ExternType::Tag(TagType::new(
                self.func_type_at(self.tags[i as usize]).clone(),
            )),
        }
    }
}

/// Validates `bytes` with the engine's features. When the module is only
/// invalid because a proposal is switched off, the error says which and how
/// to switch it on.
pub(crate) fn validate(engine: &Engine, bytes: &[u8]) -> Result<()> {
    let features = engine.config().features;
    let Err(error) = validate::validate_all(features, bytes) else {
        return Ok(());
    };
    // Find the switch whose proposal makes the module valid, or at least
    // moves the first error further into it.
    let fixes = |features: wasmparser::WasmFeatures| match Validator::new_with_features(features)
        .validate_all(bytes)
    {
        Ok(_) => true,
        Err(e) => e.offset() > error.offset(),
    };
    let disabled = crate::config::PROPOSALS
        .iter()
        .filter(|(_, _, flag)| !features.contains(*flag));
    for (cli, setter, _) in disabled {
        // A proposal's prerequisites come with it.
        let mut with = engine.config().clone();
        let _ = with.set_feature(cli, true);
        if fixes(with.features) {
            return Err(anyhow::Error::new(error).context(format!(
                "the module needs the WebAssembly `{cli}` proposal, which is disabled \
                 (enable it with `Config::{setter}` or `-W {cli}=y`)"
            )));
        }
    }
    Err(error.into())
}

impl ModuleInfo {
    /// The copy-on-write images of the defined memories, computed once.
    pub(crate) fn memory_images(&self) -> &crate::runtime::memory_image::MemoryImages {
        self.memory_images
            .get_or_init(|| crate::runtime::memory_image::MemoryImages::new(self))
    }

    /// Reads a module that [`validate`] accepted.
    pub(crate) fn parse(engine: &Engine, bytes: &[u8]) -> Result<ModuleInfo> {
        parse(engine, bytes)
    }

    /// The body of defined function `i` (counting from the first defined
    /// function), ready to read.
    pub(crate) fn body(&self, i: usize) -> wasmparser::FunctionBody<'_> {
        let range = self.bodies[i].clone();
        let bytes = self.bytes.get(range.clone()).unwrap_or_default();
        wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(bytes, range.start as u64))
    }
}

fn parse(engine: &Engine, bytes: &[u8]) -> Result<ModuleInfo> {
    let mut m = ModuleInfo {
        engine: engine.clone(),
        name: None,
        types: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        tables: Vec::new(),
        num_imported_tables: 0,
        memories: Vec::new(),
        num_imported_memories: 0,
        globals: Vec::new(),
        num_imported_globals: 0,
        tags: Vec::new(),
        num_imported_tags: 0,
        global_inits: Vec::new(),
        table_inits: Vec::new(),
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        bodies: Vec::new(),
        bytes: bytes.into(),
        func_names: HashMap::new(),
        memory_images: std::sync::OnceLock::new(),
    };
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    m.add_rec_group(group?)?;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                            m.funcs.push(t);
                            m.num_imported_funcs += 1;
                            EntityIndex::Func(m.funcs.len() as u32 - 1)
                        }
                        wasmparser::TypeRef::Table(t) => {
                            m.tables.push(m.table_type(&t)?);
                            m.num_imported_tables += 1;
                            EntityIndex::Table(m.tables.len() as u32 - 1)
                        }
                        wasmparser::TypeRef::Memory(t) => {
                            m.memories.push(m.memory_type(&t)?);
                            m.num_imported_memories += 1;
                            EntityIndex::Memory(m.memories.len() as u32 - 1)
                        }
                        wasmparser::TypeRef::Global(t) => {
                            m.globals.push(m.global_type(&t)?);
                            m.num_imported_globals += 1;
                            EntityIndex::Global(m.globals.len() as u32 - 1)
                        }
                        wasmparser::TypeRef::Tag(t) => {
                            m.tags.push(t.func_type_idx);
                            m.num_imported_tags += 1;
                            EntityIndex::Tag(m.tags.len() as u32 - 1)
                        }
                    };
                    m.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                        exact: matches!(import.ty, wasmparser::TypeRef::FuncExact(_)),
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    m.funcs.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    m.tables.push(m.table_type(&table.ty)?);
                    m.table_inits.push(match table.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(e) => Some(ConstExpr::parse(&e)?),
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for mem in reader {
                    m.memories.push(m.memory_type(&mem?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    m.globals.push(m.global_type(&global.ty)?);
                    m.global_inits.push(ConstExpr::parse(&global.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let index = match export.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            EntityIndex::Func(export.index)
                        }
                        wasmparser::ExternalKind::Table => EntityIndex::Table(export.index),
                        wasmparser::ExternalKind::Memory => EntityIndex::Memory(export.index),
                        wasmparser::ExternalKind::Global => EntityIndex::Global(export.index),
                        wasmparser::ExternalKind::Tag => EntityIndex::Tag(export.index),
                    };
                    m.exports.push((export.name.to_string(), index));
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader {
                    m.tags.push(tag?.func_type_idx);
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    m.elems.push(elem_segment(elem?)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let active = match data.kind {
                        wasmparser::DataKind::Passive => None,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => Some((memory_index, ConstExpr::parse(&offset_expr)?)),
                    };
                    m.datas.push(DataSegment {
                        active,
                        bytes: data.data.to_vec(),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                    // A malformed name section is ignored, as the spec allows.
                    let _ = read_names(&mut m, names);
                }
            }
            _ => {}
        }
    }
    m.bodies = bodies
        .into_iter()
        .map(|body| {
            let range = body.range();
            range.start as usize..range.end as usize
        })
        .collect();
    Ok(m)
}

fn elem_segment(elem: wasmparser::Element<'_>) -> Result<ElemSegment> {
    let mode = match elem.kind {
        wasmparser::ElementKind::Passive => ElemMode::Passive,
        wasmparser::ElementKind::Declared => ElemMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElemMode::Active {
            table: table_index.unwrap_or(0),
            offset: ConstExpr::parse(&offset_expr)?,
        },
    };
    let mut items = Vec::new();
    match elem.items {
        wasmparser::ElementItems::Functions(funcs) => {
            for f in funcs {
                items.push(ConstExpr {
                    ops: vec![const_expr::ConstOp::RefFunc(f?)],
                });
            }
        }
        wasmparser::ElementItems::Expressions(_, exprs) => {
            for e in exprs {
                items.push(ConstExpr::parse(&e?)?);
            }
        }
    }
    Ok(ElemSegment { mode, items })
}

fn read_names(m: &mut ModuleInfo, names: wasmparser::NameSectionReader<'_>) -> Result<()> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => m.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    m.func_names.insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}
