//! Reading `wasmparser`'s types into Strata's: a module's type references
//! (module type indices) become the engine's shared type indices, and each
//! recursion group of the type section is registered with the engine.

use super::ModuleInfo;
use crate::types::registry::{RegisteredType, SubType, REC};
use crate::types::{
    ArrayType, CompositeType, FieldType, FuncType, GlobalType, HeapType, MemoryType, Mutability,
    RefType, SharedTypeIndex, StorageType, StructType, TableType, ValType,
};
use anyhow::{bail, Result};
use std::sync::Arc;
use wasmparser::{AbstractHeapType as A, UnpackedIndex};

/// What a block takes and leaves on the operand stack.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlockSignature {
    pub params: Box<[ValType]>,
    pub results: Box<[ValType]>,
}

/// The kind of a type definition, which decides its concrete heap type.
#[derive(Clone, Copy)]
enum Kind {
    Func,
    Struct,
    Array,
}

fn kind(composite: &wasmparser::CompositeType) -> Result<Kind> {
    Ok(match composite.inner {
        wasmparser::CompositeInnerType::Func(_) => Kind::Func,
        wasmparser::CompositeInnerType::Struct(_) => Kind::Struct,
        wasmparser::CompositeInnerType::Array(_) => Kind::Array,
        wasmparser::CompositeInnerType::Cont(_) => {
            bail!("continuation types (stack switching) are not supported")
        }
    })
}

fn concrete(kind: Kind, index: SharedTypeIndex) -> HeapType {
    match kind {
        Kind::Func => HeapType::ConcreteFunc(index),
        Kind::Struct => HeapType::ConcreteStruct(index),
        Kind::Array => HeapType::ConcreteArray(index),
    }
}

/// Converts types whose concrete references `resolve` turns into heap
/// types.
struct Reader<'a> {
    resolve: &'a dyn Fn(UnpackedIndex) -> Result<HeapType>,
}

impl Reader<'_> {
    fn val(&self, t: wasmparser::ValType) -> Result<ValType> {
        Ok(match t {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(self.reference(r)?),
        })
    }

    fn reference(&self, r: wasmparser::RefType) -> Result<RefType> {
        if let wasmparser::HeapType::Exact(i) = r.heap_type() {
            let heap = (self.resolve)(i)?;
            return RefType::new_exact(r.is_nullable(), heap)
                .ok_or_else(|| anyhow::anyhow!("exact reference to abstract type {heap}"));
        }
        let heap = match r.heap_type() {
            wasmparser::HeapType::Abstract { shared: true, .. } => {
                bail!("shared references (shared-everything threads) are not supported")
            }
            wasmparser::HeapType::Abstract { ty, .. } => match ty {
                A::Func => HeapType::Func,
                A::Extern => HeapType::Extern,
                A::Any => HeapType::Any,
                A::None => HeapType::None,
                A::NoExtern => HeapType::NoExtern,
                A::NoFunc => HeapType::NoFunc,
                A::Eq => HeapType::Eq,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::I31 => HeapType::I31,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Cont | A::NoCont => {
                    bail!("continuation references (stack switching) are not supported")
                }
            },
            wasmparser::HeapType::Concrete(i) => (self.resolve)(i)?,
            wasmparser::HeapType::Exact(_) => unreachable!("handled above"),
        };
        Ok(RefType::new(r.is_nullable(), heap))
    }

    fn field(&self, f: &wasmparser::FieldType) -> Result<FieldType> {
        Ok(FieldType {
            storage: match f.element_type {
                wasmparser::StorageType::I8 => StorageType::I8,
                wasmparser::StorageType::I16 => StorageType::I16,
                wasmparser::StorageType::Val(v) => StorageType::Val(self.val(v)?),
            },
            mutability: if f.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        })
    }

    fn composite(&self, c: &wasmparser::CompositeType) -> Result<CompositeType> {
        if c.shared {
            bail!("shared types (shared-everything threads) are not supported");
        }
        Ok(match &c.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                let params = f.params().iter().map(|t| self.val(*t));
                let results = f.results().iter().map(|t| self.val(*t));
                CompositeType::Func(FuncType::new(
                    params.collect::<Result<Vec<_>>>()?,
                    results.collect::<Result<Vec<_>>>()?,
                ))
            }
            wasmparser::CompositeInnerType::Struct(s) => CompositeType::Struct(StructType::new(
                s.fields
                    .iter()
                    .map(|f| self.field(f))
                    .collect::<Result<Vec<_>>>()?,
            )),
            wasmparser::CompositeInnerType::Array(a) => {
                CompositeType::Array(ArrayType::new(self.field(&a.0)?))
            }
            wasmparser::CompositeInnerType::Cont(_) => {
                bail!("continuation types (stack switching) are not supported")
            }
        })
    }
}

impl ModuleInfo {
    /// The concrete heap type of module type `index`, defined already.
    fn heap_of(&self, index: u32) -> Result<HeapType> {
        match self.types.get(index as usize) {
            Some(t) => Ok(t.heap_type()),
            None => bail!("type index {index} is not defined yet"),
        }
    }

    fn reader<R>(&self, f: impl FnOnce(&Reader<'_>) -> Result<R>) -> Result<R> {
        let resolve = |i: UnpackedIndex| match i {
            UnpackedIndex::Module(i) => self.heap_of(i),
            other => bail!("unexpected type reference {other:?} outside the type section"),
        };
        f(&Reader { resolve: &resolve })
    }

    /// A value type of the module's code or sections.
    pub(crate) fn val_type(&self, t: wasmparser::ValType) -> Result<ValType> {
        self.reader(|r| r.val(t))
    }

    /// A reference type of the module's code or sections.
    pub(crate) fn ref_type(&self, t: wasmparser::RefType) -> Result<RefType> {
        self.reader(|r| r.reference(t))
    }

    /// The target type of a `ref.test` or `ref.cast` to heap type `t`
    /// (which may be exact).
    pub(crate) fn cast_type(&self, t: wasmparser::HeapType, nullable: bool) -> Result<RefType> {
        let r = wasmparser::RefType::new(nullable, t)
            .ok_or_else(|| anyhow::anyhow!("heap type {t:?} cannot be encoded"))?;
        self.ref_type(r)
    }

    /// The type `ref.get_desc` of module type `t` produces from an operand
    /// of type `operand`: a non-null reference to `t`'s descriptor type,
    /// exact when the operand is exactly `t` (or null's bottom type).
    pub(crate) fn desc_type(&self, t: u32, operand: ValType) -> Result<ValType> {
        let ty = self.types.get(t as usize);
        let Some(desc) = ty.and_then(|ty| ty.sub.descriptor) else {
            bail!("ref.get_desc of type {t}, which has no descriptor");
        };
        let heap = HeapType::ConcreteStruct(desc);
        let exact = match operand {
            ValType::Ref(r) => r.is_exact() || r.heap_type() == r.heap_type().bottom(),
            _ => false,
        };
        let exact = exact.then(|| RefType::new_exact(false, heap)).flatten();
        Ok(ValType::Ref(exact.unwrap_or(RefType::new(false, heap))))
    }

    /// A heap type of the module's code (`ref.null`, `ref.test`, ...).
    pub(crate) fn heap_type(&self, t: wasmparser::HeapType) -> Result<HeapType> {
        let r = wasmparser::RefType::new(true, t)
            .ok_or_else(|| anyhow::anyhow!("heap type {t:?} cannot be encoded"))?;
        Ok(self.ref_type(r)?.heap_type())
    }

    /// The parameter and result types of a block, loop or `if`.
    pub(crate) fn block_type(&self, ty: wasmparser::BlockType) -> Result<BlockSignature> {
        Ok(match ty {
            wasmparser::BlockType::Empty => BlockSignature::default(),
            wasmparser::BlockType::Type(t) => BlockSignature {
                params: Box::new([]),
                results: Box::new([self.val_type(t)?]),
            },
            wasmparser::BlockType::FuncType(i) => {
                let ty = self.func_type_at(i);
                BlockSignature {
                    params: ty.params().into(),
                    results: ty.results().into(),
                }
            }
        })
    }

    pub(crate) fn global_type(&self, t: &wasmparser::GlobalType) -> Result<GlobalType> {
        if t.shared {
            bail!("shared globals (shared-everything threads) are not supported");
        }
        let mutability = if t.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        };
        Ok(GlobalType::new(self.val_type(t.content_type)?, mutability))
    }

    pub(crate) fn table_type(&self, t: &wasmparser::TableType) -> Result<TableType> {
        if t.shared {
            bail!("shared tables (shared-everything threads) are not supported");
        }
        let element = self.ref_type(t.element_type)?;
        Ok(if t.table64 {
            TableType::new64(element, t.initial, t.maximum)
        } else {
            TableType::with_limits(element, t.initial, t.maximum)
        })
    }

    /// A memory type (validation admitted its page size only with the
    /// custom-page-sizes proposal on).
    pub(crate) fn memory_type(&self, t: &wasmparser::MemoryType) -> Result<MemoryType> {
        Ok(MemoryType::from_wasmparser(t))
    }

    /// Registers a recursion group of the type section with the engine and
    /// appends its types to the module's.
    pub(crate) fn add_rec_group(&mut self, group: wasmparser::RecGroup) -> Result<()> {
        let start = self.types.len() as u32;
        let subs: Vec<wasmparser::SubType> = group.into_types().collect();
        let kinds = subs
            .iter()
            .map(|s| kind(&s.composite_type))
            .collect::<Result<Vec<_>>>()?;
        // References into the group are group-relative (tagged, see
        // `registry`); the rest are the engine's indices already.
        let in_group = |i: u32| -> Result<HeapType> {
            match kinds.get(i as usize) {
                Some(k) => Ok(concrete(*k, SharedTypeIndex(REC | i))),
                None => bail!("type index out of its recursion group"),
            }
        };
        let resolve = |i: UnpackedIndex| -> Result<HeapType> {
            match i {
                UnpackedIndex::Module(i) if i >= start => in_group(i - start),
                UnpackedIndex::Module(i) => self.heap_of(i),
                UnpackedIndex::RecGroup(i) => in_group(i),
                UnpackedIndex::Id(_) => bail!("unexpected canonical type reference"),
            }
        };
        let reader = Reader { resolve: &resolve };
        let mut key = Vec::with_capacity(subs.len());
        for sub in &subs {
            // The GC proposal allows at most one supertype.
            let supertype = match sub.supertype_idxs.first() {
                Some(p) => resolve(p.unpack())?.concrete(),
                None => None,
            };
            // Custom descriptors: validation checked that the clauses
            // pair struct types of the same group (or earlier ones).
            let clause = |i: Option<wasmparser::PackedIndex>| match i {
                Some(p) => Ok(resolve(p.unpack())?.concrete()),
                None => Ok::<_, anyhow::Error>(None),
            };
            let c = &sub.composite_type;
            key.push(SubType {
                is_final: sub.is_final,
                supertype,
                composite: reader.composite(c)?,
                descriptor: clause(c.descriptor_idx)?,
                describes: clause(c.describes_idx)?,
            });
        }
        let types: Vec<Arc<RegisteredType>> = self.engine.types().register_group(key);
        self.types.extend(types);
        Ok(())
    }
}
