//! The engine's type registry: every type definition of every module (and
//! every host function signature) of an engine, canonicalised by recursion
//! group, so that two modules defining the same type get the same
//! [`SharedTypeIndex`] and type equality is one comparison. Each type keeps
//! its chain of supertypes, so a subtype test is one lookup.
//!
//! A recursion group is registered in its *key* form: a reference to a type
//! of the same group is written as the group-relative index tagged with
//! [`REC`]; a reference to any other type is its shared index, which is
//! already canonical. Two groups are the same (iso-recursive) type exactly
//! when their keys are equal. Registered types never go away: the registry
//! grows with the number of distinct types an engine sees.

use super::{CompositeType, FuncType, HeapType, RefType, SharedTypeIndex, ValType};
use crate::runtime::gc::layout::GcLayout;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Marks a reference to a type of the same recursion group in a key.
pub(crate) const REC: u32 = 1 << 31;

/// One type definition: composite type, finality, declared supertype
/// and, for a struct type of the custom-descriptors proposal, the type of
/// its descriptor (`descriptor` clause) or the type it describes
/// (`describes` clause). Both clauses are part of the type's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SubType {
    pub is_final: bool,
    pub supertype: Option<SharedTypeIndex>,
    pub composite: CompositeType,
    pub descriptor: Option<SharedTypeIndex>,
    pub describes: Option<SharedTypeIndex>,
}

/// A registered type, with every reference resolved to a shared index.
#[derive(Debug)]
pub(crate) struct RegisteredType {
    pub index: SharedTypeIndex,
    pub sub: SubType,
    /// The function type, for cheap sharing when this is one.
    pub func: Option<Arc<FuncType>>,
    /// The supertype chain from the root down to this type itself:
    /// `a <: b` exactly when `a.supers[b.depth] == b`.
    pub supers: Box<[SharedTypeIndex]>,
    /// Where a struct's fields or an array's elements live, computed once
    /// for both tiers (`None` for a function type).
    pub layout: Option<GcLayout>,
}

impl RegisteredType {
    /// How many supertypes are above this type.
    pub(crate) fn depth(&self) -> usize {
        self.supers.len() - 1
    }

    /// The heap type of references to this type.
    pub(crate) fn heap_type(&self) -> HeapType {
        match self.sub.composite {
            CompositeType::Func(_) => HeapType::ConcreteFunc(self.index),
            CompositeType::Struct(_) => HeapType::ConcreteStruct(self.index),
            CompositeType::Array(_) => HeapType::ConcreteArray(self.index),
        }
    }
}

/// The registry; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each group's key, and the shared index of its first type.
    groups: HashMap<Box<[SubType]>, u32>,
    types: Vec<Arc<RegisteredType>>,
}

impl TypeRegistry {
    /// Registers a recursion group given in key form (see the module
    /// documentation) and returns its types, in order. A group seen before
    /// gets the types it got then.
    pub(crate) fn register_group(&self, key: Vec<SubType>) -> Vec<Arc<RegisteredType>> {
        let key: Box<[SubType]> = key.into();
        if let Some(types) = self.lookup(&key) {
            return types;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&base) = inner.groups.get(&key) {
            return inner.types[base as usize..][..key.len()].to_vec();
        }
        let base = inner.types.len() as u32;
        assert!(
            base as usize + key.len() < REC as usize,
            "more distinct types than an engine can hold"
        );
        let resolve = |i: SharedTypeIndex| {
            if i.0 & REC != 0 {
                SharedTypeIndex(base + (i.0 & !REC))
            } else {
                i
            }
        };
        let mut registered = Vec::with_capacity(key.len());
        for (i, sub) in key.iter().enumerate() {
            let index = SharedTypeIndex(base + i as u32);
            let supertype = sub.supertype.map(resolve);
            let descriptor = sub.descriptor.map(resolve);
            let composite = sub
                .composite
                .map_val_types(&mut |t| resolve_val(t, &resolve));
            // Validation puts supertypes before their subtypes, so the
            // supertype's chain is known (it may be earlier in this group).
            let sup = supertype.and_then(|s| inner.types.get(s.0 as usize));
            let mut supers: Vec<SharedTypeIndex> =
                sup.map(|t| t.supers.to_vec()).unwrap_or_default();
            supers.push(index);
            // A descriptor's hidden field goes where the supertype's
            // layout says, so the supertype's fields keep their offsets.
            let desc_before = descriptor
                .map(|_| GcLayout::descriptor_before(sup.and_then(|t| t.layout.as_ref())));
            let ty = Arc::new(RegisteredType {
                index,
                layout: GcLayout::of(&composite, desc_before),
                func: composite.as_func().map(|f| Arc::new(f.clone())),
                sub: SubType {
                    is_final: sub.is_final,
                    supertype,
                    composite,
                    descriptor,
                    describes: sub.describes.map(resolve),
                },
                supers: supers.into(),
            });
            inner.types.push(Arc::clone(&ty));
            registered.push(ty);
        }
        inner.groups.insert(key, base);
        registered
    }

    fn lookup(&self, key: &[SubType]) -> Option<Vec<Arc<RegisteredType>>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let &base = inner.groups.get(key)?;
        Some(inner.types[base as usize..][..key.len()].to_vec())
    }

    /// Registers a function type on its own (a final type without
    /// supertypes, as a module's `(type (func ...))` is) and returns it.
    pub(crate) fn register_func(&self, ty: &FuncType) -> Arc<RegisteredType> {
        let key = vec![SubType {
            is_final: true,
            supertype: None,
            composite: CompositeType::Func(ty.clone()),
            descriptor: None,
            describes: None,
        }];
        self.register_group(key).remove(0)
    }

    /// The registered type with shared index `i`.
    pub(crate) fn get(&self, i: SharedTypeIndex) -> Option<Arc<RegisteredType>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.types.get(i.0 as usize).cloned()
    }

    /// Whether type `a` is `b` or one of its declared subtypes.
    pub(crate) fn is_subtype(&self, a: SharedTypeIndex, b: SharedTypeIndex) -> bool {
        if a == b {
            return true;
        }
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let (Some(a), Some(b)) = (inner.types.get(a.0 as usize), inner.types.get(b.0 as usize))
        else {
            return false;
        };
        a.supers.get(b.depth()) == Some(&b.index)
    }

    /// Whether heap type `a` is a subtype of `b`.
    pub(crate) fn heap_subtype(&self, a: HeapType, b: HeapType) -> bool {
        match a.abstract_subtype(&b) {
            Some(answer) => answer,
            None => match (a.concrete(), b.concrete()) {
                (Some(a), Some(b)) => self.is_subtype(a, b),
                _ => false,
            },
        }
    }

    /// Whether reference type `a` is a subtype of `b`. An exact type
    /// `exact $t` is below `$t` (and so below what `$t` is below); above
    /// it are only the bottom of its hierarchy and `exact $t` itself.
    pub(crate) fn ref_subtype(&self, a: RefType, b: RefType) -> bool {
        let (ah, bh) = (a.heap_type(), b.heap_type());
        let heap = if b.is_exact() {
            (a.is_exact() && ah == bh) || (ah == ah.bottom() && ah.top() == bh.top())
        } else {
            self.heap_subtype(ah, bh)
        };
        (!a.is_nullable() || b.is_nullable()) && heap
    }

    /// Whether value type `a` is a subtype of `b`.
    pub(crate) fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        match (a, b) {
            (ValType::Ref(a), ValType::Ref(b)) => self.ref_subtype(a, b),
            (a, b) => a == b,
        }
    }

    /// Whether a function of type `a` may be used where one of type `b` is
    /// expected: contravariant parameters, covariant results.
    pub(crate) fn func_subtype(&self, a: &FuncType, b: &FuncType) -> bool {
        a.params().len() == b.params().len()
            && a.results().len() == b.results().len()
            && a.params()
                .iter()
                .zip(b.params())
                .all(|(pa, pb)| self.val_subtype(*pb, *pa))
            && a.results()
                .iter()
                .zip(b.results())
                .all(|(ra, rb)| self.val_subtype(*ra, *rb))
    }
}

/// `t` with its group-relative type references resolved by `resolve`.
fn resolve_val(t: ValType, resolve: &impl Fn(SharedTypeIndex) -> SharedTypeIndex) -> ValType {
    let ValType::Ref(r) = t else { return t };
    let heap = match r.heap_type() {
        HeapType::ConcreteFunc(i) => HeapType::ConcreteFunc(resolve(i)),
        HeapType::ConcreteStruct(i) => HeapType::ConcreteStruct(resolve(i)),
        HeapType::ConcreteArray(i) => HeapType::ConcreteArray(resolve(i)),
        other => other,
    };
    let resolved = match r.is_exact() {
        true => RefType::new_exact(r.is_nullable(), heap),
        false => None,
    };
    ValType::Ref(resolved.unwrap_or(RefType::new(r.is_nullable(), heap)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StructType;

    #[test]
    fn exact_references_sit_between_their_type_and_the_bottom() {
        let registry = TypeRegistry::default();
        // `$sub <: $sup`, both empty structs.
        let group = |supertype| SubType {
            is_final: false,
            supertype,
            composite: CompositeType::Struct(StructType::new([])),
            descriptor: None,
            describes: None,
        };
        let sup = registry.register_group(vec![group(None)]).remove(0).index;
        let sub = registry
            .register_group(vec![group(Some(sup))])
            .remove(0)
            .index;
        let r = |h| RefType::new(false, HeapType::ConcreteStruct(h));
        let exact =
            |h| RefType::new_exact(false, HeapType::ConcreteStruct(h)).expect("a concrete type");
        let none = RefType::new(false, HeapType::None);
        assert!(registry.ref_subtype(exact(sup), r(sup)));
        assert!(registry.ref_subtype(exact(sub), r(sup)));
        assert!(registry.ref_subtype(exact(sup), exact(sup)));
        assert!(registry.ref_subtype(none, exact(sup)));
        assert!(!registry.ref_subtype(r(sup), exact(sup)));
        assert!(!registry.ref_subtype(exact(sub), exact(sup)));
        assert!(!registry.ref_subtype(r(sub), exact(sup)));
        // The bottom of another hierarchy is not below it.
        let nofunc = RefType::new(false, HeapType::NoFunc);
        assert!(!registry.ref_subtype(nofunc, exact(sup)));
        // Nullability still counts.
        let null_exact = exact(sup).with_nullable(true);
        assert!(!registry.ref_subtype(null_exact, exact(sup)));
        assert!(registry.ref_subtype(exact(sup), null_exact));
        assert!(RefType::new_exact(true, HeapType::Any).is_none());
    }
}
