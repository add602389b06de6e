//! Value types: numbers, vectors and references with their heap types.

use std::fmt;

/// The type of a WebAssembly value.
///
/// Reference types are written as wasmtime writes them: `ValType::FUNCREF`
/// is `(ref null func)`, `ValType::Ref(RefType::new(false, HeapType::Any))`
/// is `(ref any)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`: a nullable reference to any function.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`: a nullable reference to a host value.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `anyref`: a nullable reference to any internal value.
    pub const ANYREF: ValType = ValType::Ref(RefType::ANYREF);
    /// `eqref`: a nullable reference that `ref.eq` can compare.
    pub const EQREF: ValType = ValType::Ref(RefType::new(true, HeapType::Eq));
    /// `i31ref`: a nullable unboxed 31-bit integer.
    pub const I31REF: ValType = ValType::Ref(RefType::new(true, HeapType::I31));
    /// `structref`: a nullable reference to any struct.
    pub const STRUCTREF: ValType = ValType::Ref(RefType::new(true, HeapType::Struct));
    /// `arrayref`: a nullable reference to any array.
    pub const ARRAYREF: ValType = ValType::Ref(RefType::new(true, HeapType::Array));
    /// `exnref`: a nullable reference to an exception.
    pub const EXNREF: ValType = ValType::Ref(RefType::new(true, HeapType::Exn));
    /// `nullref`: only null, of the `any` hierarchy.
    pub const NULLREF: ValType = ValType::Ref(RefType::new(true, HeapType::None));
    /// `nullfuncref`: only null, of the `func` hierarchy.
    pub const NULLFUNCREF: ValType = ValType::Ref(RefType::new(true, HeapType::NoFunc));
    /// `nullexternref`: only null, of the `extern` hierarchy.
    pub const NULLEXTERNREF: ValType = ValType::Ref(RefType::new(true, HeapType::NoExtern));
    /// `nullexnref`: only null, of the `exn` hierarchy.
    pub const NULLEXNREF: ValType = ValType::Ref(RefType::new(true, HeapType::NoExn));

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// The reference type, if this is one.
    pub fn as_ref(&self) -> Option<RefType> {
        match self {
            ValType::Ref(r) => Some(*r),
            _ => None,
        }
    }

    /// The same type without null (what `ref.as_non_null` and
    /// `br_on_null` leave); non-references are unchanged.
    pub(crate) fn non_null(self) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.with_nullable(false)),
            other => other,
        }
    }

    /// Whether values of this type have a default (zero or null) value, so
    /// that locals, table slots and array elements of it need no
    /// initialiser: every type but non-nullable references.
    pub fn is_defaultable(&self) -> bool {
        match self {
            ValType::Ref(r) => r.is_nullable(),
            _ => true,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// A reference type: a heap type and whether null is a value of it.
///
/// A reference to a concrete type may be *exact* (the custom-descriptors
/// proposal's `(ref exact $t)`): its values are of type `$t` itself, not
/// of a declared subtype. Exactness is kept here rather than in
/// [`HeapType`] so that code which only asks what kind of value a
/// reference points to sees the same concrete heap type either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    exact: bool,
    heap: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType::new(true, HeapType::Func);
    /// `externref`.
    pub const EXTERNREF: RefType = RefType::new(true, HeapType::Extern);
    /// `anyref`.
    pub const ANYREF: RefType = RefType::new(true, HeapType::Any);

    /// A reference to `heap`, nullable or not.
    pub const fn new(nullable: bool, heap: HeapType) -> RefType {
        RefType {
            nullable,
            exact: false,
            heap,
        }
    }

    /// An exact reference to concrete type `heap` (`(ref null? exact $t)`),
    /// or `None` when `heap` is abstract: only defined types have an exact
    /// form.
    pub fn new_exact(nullable: bool, heap: HeapType) -> Option<RefType> {
        heap.concrete().map(|_| RefType {
            nullable,
            exact: true,
            heap,
        })
    }

    /// Whether the values of this type are of its concrete heap type
    /// itself, not of a subtype of it.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// The same type, with null a value of it or not.
    pub(crate) fn with_nullable(self, nullable: bool) -> RefType {
        RefType { nullable, ..self }
    }

    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// What the reference points to.
    pub fn heap_type(&self) -> HeapType {
        self.heap
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The abbreviations the text format uses, where there is one.
        let short = match self.heap {
            HeapType::Func => Some("funcref"),
            HeapType::Extern => Some("externref"),
            HeapType::Any => Some("anyref"),
            HeapType::Eq => Some("eqref"),
            HeapType::I31 => Some("i31ref"),
            HeapType::Struct => Some("structref"),
            HeapType::Array => Some("arrayref"),
            HeapType::Exn => Some("exnref"),
            HeapType::None => Some("nullref"),
            HeapType::NoFunc => Some("nullfuncref"),
            HeapType::NoExtern => Some("nullexternref"),
            HeapType::NoExn => Some("nullexnref"),
            _ => None,
        };
        if self.exact {
            let null = if self.nullable { "null " } else { "" };
            return write!(f, "(ref {null}exact {})", self.heap);
        }
        match (self.nullable, short) {
            (true, Some(short)) => f.write_str(short),
            (true, None) => write!(f, "(ref null {})", self.heap),
            (false, _) => write!(f, "(ref {})", self.heap),
        }
    }
}

/// What a reference can point to: an abstract heap type, or a concrete
/// type defined by a module and registered with the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any host value (`extern`).
    Extern,
    /// The bottom of the `extern` hierarchy: only null.
    NoExtern,
    /// Any function.
    Func,
    /// The bottom of the `func` hierarchy: only null.
    NoFunc,
    /// Any internal value: structs, arrays, `i31` (top of the `any`
    /// hierarchy).
    Any,
    /// Values `ref.eq` compares: structs, arrays, `i31`.
    Eq,
    /// Unboxed 31-bit integers.
    I31,
    /// Any struct.
    Struct,
    /// Any array.
    Array,
    /// The bottom of the `any` hierarchy: only null.
    None,
    /// Any exception.
    Exn,
    /// The bottom of the `exn` hierarchy: only null.
    NoExn,
    /// A function type registered with the engine.
    ConcreteFunc(SharedTypeIndex),
    /// A struct type registered with the engine.
    ConcreteStruct(SharedTypeIndex),
    /// An array type registered with the engine.
    ConcreteArray(SharedTypeIndex),
}

impl HeapType {
    /// The top of this type's hierarchy: `func`, `extern`, `any` or `exn`.
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::ConcreteFunc(_) => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            HeapType::Any
            | HeapType::Eq
            | HeapType::I31
            | HeapType::Struct
            | HeapType::Array
            | HeapType::None
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_) => HeapType::Any,
        }
    }

    /// The bottom of this type's hierarchy, whose only value is null.
    pub fn bottom(&self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
            _ => HeapType::None,
        }
    }

    /// The registered type, for a concrete heap type.
    pub fn concrete(&self) -> Option<SharedTypeIndex> {
        match self {
            HeapType::ConcreteFunc(i)
            | HeapType::ConcreteStruct(i)
            | HeapType::ConcreteArray(i) => Some(*i),
            _ => None,
        }
    }

    /// Whether every value of `self` is a value of `other`, judged by the
    /// abstract hierarchy alone; `None` when both are concrete and the
    /// registry must decide.
    pub(crate) fn abstract_subtype(&self, other: &HeapType) -> Option<bool> {
        use HeapType as H;
        if self == other {
            return Some(true);
        }
        if self.top() != other.top() {
            return Some(false);
        }
        Some(match (self, other) {
            // The bottom is below everything of its hierarchy; the top
            // above everything.
            (H::None | H::NoFunc | H::NoExtern | H::NoExn, _) => true,
            (_, H::Any | H::Func | H::Extern | H::Exn) => true,
            (H::I31 | H::Struct | H::Array | H::ConcreteStruct(_) | H::ConcreteArray(_), H::Eq) => {
                true
            }
            (H::ConcreteStruct(_), H::Struct) | (H::ConcreteArray(_), H::Array) => true,
            (H::ConcreteFunc(_), H::ConcreteFunc(_))
            | (H::ConcreteStruct(_), H::ConcreteStruct(_))
            | (H::ConcreteArray(_), H::ConcreteArray(_)) => return None,
            _ => false,
        })
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::Array => f.write_str("array"),
            HeapType::None => f.write_str("none"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::ConcreteFunc(i) => write!(f, "(func {i})"),
            HeapType::ConcreteStruct(i) => write!(f, "(struct {i})"),
            HeapType::ConcreteArray(i) => write!(f, "(array {i})"),
        }
    }
}

/// A type registered with an engine: the same index for the same type
/// (after canonicalising its recursion group), in every module of the
/// engine, so type equality is one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharedTypeIndex(pub(crate) u32);

impl SharedTypeIndex {
    /// The index as a number, as compiled code and tables store it.
    pub fn bits(&self) -> u32 {
        self.0
    }
}

impl fmt::Display for SharedTypeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}
