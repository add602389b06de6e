//! The GC heap of a store: structs and arrays of the GC proposal, host
//! references (`externref`s), exception objects (`runtime::exn`), and the
//! reference encoding they share.
//!
//! **The heap** is one contiguous range: a [`LinearMemory`] of 64 KiB
//! pages that reserves its address range up front and commits pages as it
//! grows, so its base never moves and compiled code can later address an
//! object as `base + offset`. It is created at the store's first
//! allocation and limited to `Config::max_gc_heap_size` bytes.
//!
//! **References** of the `any`, `extern` and `exn` hierarchies are 32 bits in their cell: 0 is
//! null, an odd value is an `i31ref` (`(v << 1) | 1`), any other value is
//! the offset of an object in the heap (objects are 8-byte aligned and
//! offset 0 is never used).
//!
//! **Objects** start with an 8-byte header: the engine's shared index of
//! the object's type (u32), then the collector's word ([`Header`]: the
//! kind and what the size of the object is computed from, so the heap
//! can be walked object by object without the type registry). A bitmap
//! beside the heap (`GcHeap::starts`) records where objects start, so
//! the collector can tell an object's reference from any other number. Struct
//! fields and array elements follow as `layout.rs` places them. An
//! exception ([`Kind::Exn`]) has its tag's store index in the type word
//! and its payload cells (8 bytes each) after the header; an exnref is its
//! offset, like any object's reference.
//!
//! **`externref` and `anyref`** share that encoding. A host reference
//! (`ExternRef::new`) is a small object of kind [`Kind::Extern`] holding
//! the cell (index + 1) of its host value in the store's `HostValues`;
//! an `externref` is a reference to such an object or, after
//! `extern.convert_any`, to any other `anyref` (a struct, an array, an
//! `i31`), so `any.convert_extern` and `extern.convert_any` change the
//! type and not the bits. Host values live as long as an `Extern` object
//! holds them.
//!
//! **Collection** (`collect.rs`, with the roots in `roots.rs`): a
//! non-moving mark-and-sweep collector. Dead objects become free blocks
//! (kind [`Kind::Free`], their size in the type word, so the heap stays
//! walkable), adjacent ones merge, and allocation bumps through the free
//! blocks in address order (the sweep lists them so) before growing the
//! heap's end by a block: a cheap allocation with the locality of the
//! order objects were made in. A block too small for a request is left
//! for smaller ones (a few blocks are looked at ahead); only when the end
//! has no room left are all the remaining blocks searched, so the limit
//! traps only when no block fits.
//!
//! **Allocating in compiled code** (`alloc.rs`). The block being bumped
//! through is shared with compiled code as a window ([`VMGcWindow`],
//! through `VMRuntimeLimits::gc_window`): an allocation that fits below
//! the window's end bumps its `cur` and writes the object in place
//! (`jit/gc/alloc.rs`), every field included, and sets its start bit,
//! without a call. The heap keeps the window's end at the collection
//! trigger, so the first allocation past the trigger calls the runtime,
//! which collects. The rest of the current block is not marked free in
//! the heap while objects are bumped through it: walking the heap skips
//! it, the sweep (which works from the marks) frees it with the dead
//! objects around it, and leaving the block for another marks it free.

mod alloc;
pub(crate) mod collect;
pub(crate) mod host_values;
pub(crate) mod layout;
pub(crate) mod roots;

use super::memory::LinearMemory;
use super::vm::{VMGcWindow, VmBox};
use crate::types::{HeapType, RefType, SharedTypeIndex};
use crate::Trap;
use layout::{ARRAY_DATA, ARRAY_LEN, HEADER};

/// The type index recorded in the header of a host reference, which has
/// no type of its own.
const EXTERN_TYPE: u32 = u32::MAX;

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Struct,
    Array,
    /// A host reference: its host value's cell (u64) follows the header.
    Extern,
    /// An exception: its tag's store index in the type word, its payload
    /// cells (u64 each) after the header (`runtime::exn`).
    Exn,
    /// A free block (the collector's): its size in bytes is in the type
    /// word.
    Free,
}

/// The collector's header word: bits 0-2 the kind (bit 3 is unused: the
/// collector's marks are a bitmap, `collect.rs`), bits 4-7 the log2 of
/// an array's element size (at most 4), bits 8-31 a
/// struct's or an exception's size in 8-byte words (a struct has at most
/// 10,000 fields of at most 16 bytes, a tag at most 1,000 parameters,
/// well within 24 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header(u32);

impl Header {
    fn new(kind: Kind, struct_size: u32, elem: u8) -> Header {
        let k = match kind {
            Kind::Struct => 0,
            Kind::Array => 1,
            Kind::Extern => 2,
            Kind::Free => 3,
            Kind::Exn => 4,
        };
        Header(k | (elem.trailing_zeros() << 4) | ((struct_size / 8) << 8))
    }

    pub(crate) fn kind(self) -> Kind {
        match self.0 & 7 {
            0 => Kind::Struct,
            1 => Kind::Array,
            2 => Kind::Extern,
            4 => Kind::Exn,
            _ => Kind::Free,
        }
    }

    /// An array's element size in bytes.
    pub(crate) fn elem_size(self) -> u32 {
        1 << ((self.0 >> 4) & 15)
    }

    /// A struct's or an exception's size in bytes.
    fn sized(self) -> u32 {
        (self.0 >> 8) * 8
    }
}

/// The header word of a struct of `size` bytes (for compiled code, which
/// writes the headers of the objects it allocates).
pub(crate) fn struct_header(size: u32) -> u32 {
    Header::new(Kind::Struct, size, 1).0
}

/// The header word of an array of `elem`-byte elements.
pub(crate) fn array_header(elem: u8) -> u32 {
    Header::new(Kind::Array, 0, elem).0
}

/// The 4 bytes at `at` of the heap's bytes `data`, if there.
pub(crate) fn word(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes `v` as the 4 bytes at `at` of the heap's bytes `data`.
fn put_word(data: &mut [u8], at: usize, v: u32) {
    if let Some(b) = data.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

/// Marks the `size` bytes at `at` of the heap's bytes `data` as a free
/// block: its size in the type word, so the heap stays walkable.
fn free_block(data: &mut [u8], at: usize, size: usize) {
    put_word(data, at, size as u32);
    put_word(data, at + 4, Header::new(Kind::Free, 0, 1).0);
}

/// The size of the object (or free block) at `at` of the heap's bytes
/// `data`, whose header word is `h`; `None` when the header cannot be an
/// object's.
#[inline]
fn object_size(data: &[u8], at: usize, h: Header) -> Option<u32> {
    let size = match h.kind() {
        Kind::Struct | Kind::Exn => h.sized(),
        Kind::Free => word(data, at)?,
        Kind::Extern => 16,
        Kind::Array => {
            let len = word(data, at + ARRAY_LEN as usize)?;
            let bytes = u64::from(ARRAY_DATA) + u64::from(h.elem_size()) * u64::from(len);
            u32::try_from(bytes.div_ceil(8) * 8).ok()?
        }
    };
    (size >= 8 && size.is_multiple_of(8)).then_some(size)
}

/// Whether reference cell `r` of the `any` hierarchy is an `i31ref`.
pub(crate) fn is_i31(r: u64) -> bool {
    r & 1 != 0
}

/// The `i31ref` of the low 31 bits of `v`.
pub(crate) fn i31_new(v: u32) -> u64 {
    u64::from((v << 1) | 1)
}

/// The value of `i31ref` `r`, sign- or zero-extended to 32 bits.
pub(crate) fn i31_get(r: u64, signed: bool) -> u32 {
    let v = r as u32;
    if signed {
        ((v as i32) >> 1) as u32
    } else {
        v >> 1
    }
}

/// A store's GC heap (see the module documentation).
pub(crate) struct GcHeap {
    /// The heap's pages, once anything was allocated.
    mem: Option<LinearMemory>,
    /// Where the next object goes (8-aligned, never 0).
    next: u64,
    /// The most bytes the heap may take (`Config::max_gc_heap_size`).
    max: u64,
    /// Free blocks (offset, size) in address order, as the sweep found
    /// them; those from `free_next` on are not taken yet.
    free: Vec<(u32, u32)>,
    free_next: usize,
    /// The allocation window, shared with compiled code
    /// (`VMRuntimeLimits::gc_window`): its `cur` is where the block being
    /// bumped through is free from.
    window: VmBox<VMGcWindow>,
    /// The end of the block being bumped through: `window.cur..cur_end`
    /// is free, but not marked so in the heap until [`GcHeap::seal`].
    cur_end: u32,
    /// Bytes of the current block from `window.cur` up to `clean` are
    /// zero (beyond the 8 bytes a seal may have written).
    clean: u32,
    /// Where `window.cur` was when `allocated_since` last counted it: the
    /// bytes bumped since, by either tier, are allocated too.
    counted: u32,
    /// Where objects start: bit `i` for offset `8 * i`, covering the
    /// heap up to its end. Set by every allocation (compiled code's too,
    /// through the window); the sweep keeps the live objects' bits.
    pub(crate) starts: Vec<u64>,
    /// Bytes allocated since the last collection (up to `counted`).
    pub(crate) allocated_since: u64,
    /// Bytes of live objects the last collection kept.
    pub(crate) live_after: u64,
    /// Collect at every allocation (`Config::gc_stress`).
    pub(crate) stress: bool,
    /// How many collections ran.
    pub(crate) collections: u64,
    /// The highest `next` ever was: memory below it may hold old bytes.
    high: u64,
}

impl GcHeap {
    /// An empty heap of at most `max` bytes.
    pub(crate) fn new(max: u64) -> GcHeap {
        GcHeap {
            mem: None,
            next: 8,
            max: max.min(1 << 32),
            free: Vec::new(),
            free_next: 0,
            window: VmBox::new(VMGcWindow::default()),
            cur_end: 0,
            clean: 0,
            counted: 0,
            starts: Vec::new(),
            allocated_since: 0,
            live_after: 0,
            stress: false,
            collections: 0,
            high: 8,
        }
    }

    /// An empty heap of at most `max` bytes, collecting at every
    /// allocation if `stress`.
    pub(crate) fn with_stress(max: u64, stress: bool) -> GcHeap {
        GcHeap {
            stress,
            ..GcHeap::new(max)
        }
    }

    /// Whether `r` is the reference of an object of kind `kind` in this
    /// heap: a reference a host or a tier hands back is checked before its
    /// bytes are read (an exnref from an `ExnRef` handle, say).
    pub(crate) fn is_object(&self, r: u32, kind: Kind) -> bool {
        r.is_multiple_of(8)
            && u64::from(r) + u64::from(HEADER) <= self.next
            && self.is_start(r)
            && self.mem.is_some()
            && self.header(r).kind() == kind
    }

    /// The store index of exception `r`'s tag (`None` if `r` is not an
    /// exception).
    pub(crate) fn exn_tag(&self, r: u32) -> Option<u32> {
        self.is_object(r, Kind::Exn).then(|| self.read(r, 4) as u32)
    }

    /// The payload cells of exception `r` (`None` if `r` is not one).
    pub(crate) fn exn_payload(&self, r: u32) -> Option<Vec<u64>> {
        if !self.is_object(r, Kind::Exn) {
            return None;
        }
        let n = (self.header(r).sized() - HEADER) / 8;
        Some(
            (0..n)
                .map(|i| self.read(r + HEADER + 8 * i, 8) as u64)
                .collect(),
        )
    }

    /// The bytes from `at` on.
    fn bytes(&self, at: u32, len: usize) -> &[u8] {
        let mem = self
            .mem
            .as_ref()
            .expect("an object exists, so the heap does");
        &mem.data()[at as usize..][..len]
    }

    /// The bytes from `at` on, writable.
    fn bytes_mut(&mut self, at: u32, len: usize) -> &mut [u8] {
        let mem = self
            .mem
            .as_mut()
            .expect("an object exists, so the heap does");
        let data = mem.data_mut();
        &mut data[at as usize..][..len]
    }

    /// Reads `size` bytes (1, 2, 4, 8 or 16) at `at`, zero-extended.
    pub(crate) fn read(&self, at: u32, size: u8) -> u128 {
        // Fixed sizes for the common cases: a variable-length copy is a
        // call to `memcpy`, and headers and references are read at every
        // allocation and for every object a collection visits.
        match size {
            4 => u128::from(self.read_u32(at)),
            8 => {
                let b = self.bytes(at, 8);
                u128::from(u64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
            }
            _ => {
                let mut b = [0u8; 16];
                b[..usize::from(size)].copy_from_slice(self.bytes(at, usize::from(size)));
                u128::from_le_bytes(b)
            }
        }
    }

    /// Reads the 4 bytes at `at`.
    fn read_u32(&self, at: u32) -> u32 {
        let b = self.bytes(at, 4);
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Writes the low `size` bytes of `v` at `at`.
    pub(crate) fn write(&mut self, at: u32, size: u8, v: u128) {
        // Fixed sizes for the common cases (see `read`).
        match size {
            4 => self
                .bytes_mut(at, 4)
                .copy_from_slice(&(v as u32).to_le_bytes()),
            8 => self
                .bytes_mut(at, 8)
                .copy_from_slice(&(v as u64).to_le_bytes()),
            _ => {
                let size = usize::from(size);
                self.bytes_mut(at, size)
                    .copy_from_slice(&v.to_le_bytes()[..size]);
            }
        }
    }

    /// Copies `len` bytes from `src` to `dst` (the ranges may overlap).
    pub(crate) fn copy_within(&mut self, dst: u32, src: u32, len: usize) {
        if len == 0 {
            return;
        }
        let mem = self
            .mem
            .as_mut()
            .expect("an object exists, so the heap does");
        let src = src as usize;
        mem.data_mut().copy_within(src..src + len, dst as usize);
    }

    /// Writes the low `elem` bytes of `v` to `n` consecutive elements from
    /// `at` on.
    pub(crate) fn fill(&mut self, at: u32, elem: u8, v: u128, n: u32) {
        let elem = usize::from(elem);
        let bytes = v.to_le_bytes();
        let range = self.bytes_mut(at, elem * n as usize);
        for chunk in range.chunks_exact_mut(elem) {
            chunk.copy_from_slice(&bytes[..elem]);
        }
    }

    /// Writes `bytes` at `at`.
    pub(crate) fn write_bytes(&mut self, at: u32, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.bytes_mut(at, bytes.len()).copy_from_slice(bytes);
        }
    }

    /// The header of object `r`.
    pub(crate) fn header(&self, r: u32) -> Header {
        Header(self.read_u32(r + 4))
    }

    /// The engine's index of object `r`'s type.
    pub(crate) fn type_of(&self, r: u32) -> SharedTypeIndex {
        SharedTypeIndex(self.read_u32(r))
    }

    /// The length of array `r`.
    pub(crate) fn array_len(&self, r: u32) -> u32 {
        self.read_u32(r + ARRAY_LEN)
    }

    /// Where element `i` of array `r` of `elem`-byte elements is.
    pub(crate) fn array_elem(r: u32, elem: u8, i: u32) -> u32 {
        r + ARRAY_DATA + u32::from(elem) * i
    }

    /// The host value cell of host reference `r` (`None` when `r` is not
    /// one: null, an `i31`, or an externalized struct or array).
    pub(crate) fn host_of(&self, r: u64) -> Option<u64> {
        let r = u32::try_from(r).ok()?;
        self.is_object(r, Kind::Extern)
            .then(|| self.read(r + HEADER, 8) as u64)
    }

    /// The size of object (or free block) `r`.
    #[cfg(test)]
    pub(crate) fn size_of(&self, r: u32) -> u32 {
        match &self.mem {
            Some(mem) => object_size(mem.data(), r as usize, self.header(r)).unwrap_or(0),
            None => 0,
        }
    }

    /// Calls `f` with every object and free block, its header and its
    /// size, in address order: what the collector walks. The bytes are
    /// read straight from the heap's memory, as many walks of every
    /// object make reads the collector's main cost.
    pub(crate) fn for_each_object(&self, mut f: impl FnMut(u32, Header, u32)) {
        let Some(mem) = &self.mem else { return };
        let data = mem.data();
        let (cur, cur_end) = (self.window.get().cur as usize, self.cur_end as usize);
        let mut at = 8;
        while at < self.next as usize {
            if at == cur && cur < cur_end {
                // The current block's free rest, not marked yet (`seal`).
                at = cur_end;
                continue;
            }
            // A walk stops at bytes that are not an object rather than
            // loop or read out of bounds (which a sound heap never has).
            let Some(h) = word(data, at + 4).map(Header) else {
                break;
            };
            let Some(size) = object_size(data, at, h) else {
                break;
            };
            f(at as u32, h, size);
            at += size as usize;
        }
    }

    /// Every object and free block, in address order (see
    /// [`GcHeap::for_each_object`]).
    #[cfg(test)]
    pub(crate) fn objects(&self) -> impl Iterator<Item = u32> {
        let mut all = Vec::new();
        self.for_each_object(|r, _, _| all.push(r));
        all.into_iter()
    }

    /// Whether reference cell `v` of the `any` hierarchy is a value of
    /// heap type `heap` (non-null), with `is_subtype` deciding between
    /// concrete types.
    pub(crate) fn any_is(
        &self,
        v: u64,
        heap: HeapType,
        is_subtype: impl Fn(SharedTypeIndex, SharedTypeIndex) -> bool,
    ) -> bool {
        if heap == HeapType::Any {
            return true;
        }
        if is_i31(v) {
            return matches!(heap, HeapType::Eq | HeapType::I31);
        }
        let r = v as u32;
        let kind = self.header(r).kind();
        match heap {
            HeapType::Eq => matches!(kind, Kind::Struct | Kind::Array),
            HeapType::Struct => kind == Kind::Struct,
            HeapType::Array => kind == Kind::Array,
            HeapType::ConcreteStruct(t) => kind == Kind::Struct && is_subtype(self.type_of(r), t),
            HeapType::ConcreteArray(t) => kind == Kind::Array && is_subtype(self.type_of(r), t),
            _ => false,
        }
    }
}

/// Runs constant instruction `op` of a module whose types are `types` on
/// the constant expression's `stack` (operands popped, in their cell
/// encoding) and returns its result: how globals and element segments
/// allocate.
pub(crate) fn eval_const(
    heap: &mut GcHeap,
    types: &[std::sync::Arc<crate::types::registry::RegisteredType>],
    op: crate::module::GcConst,
    stack: &mut Vec<u128>,
) -> anyhow::Result<u128> {
    use crate::module::GcConst as C;
    let mut pop = || {
        stack
            .pop()
            .ok_or_else(|| anyhow::anyhow!("constant expression pops from an empty stack"))
    };
    let layout = |t: u32| {
        types
            .get(t as usize)
            .and_then(|ty| Some((ty.index, ty.layout.as_ref()?)))
            .ok_or_else(|| anyhow::anyhow!("type {t} is not a struct or array type"))
    };
    Ok(match op {
        C::StructNew(t)
        | C::StructNewDefault(t)
        | C::StructNewDesc(t)
        | C::StructNewDefaultDesc(t) => {
            let (index, l) = layout(t)?;
            let (size, fields) = l
                .as_struct()
                .ok_or_else(|| anyhow::anyhow!("type {t} is not a struct type"))?;
            // Custom descriptors: the descriptor is the last operand.
            let desc = match op {
                C::StructNewDesc(_) | C::StructNewDefaultDesc(_) => match pop()? {
                    0 => return Err(Trap::NullDescriptorReference.into()),
                    d => Some(d),
                },
                _ => None,
            };
            let mut values = Vec::new();
            if matches!(op, C::StructNew(_) | C::StructNewDesc(_)) {
                for _ in fields {
                    values.push(pop()?);
                }
                values.reverse();
            }
            let obj = heap.alloc_struct(index, size)?;
            if let (Some(d), Some(offset)) = (desc, l.descriptor()) {
                heap.write(obj + offset, 4, d);
            }
            for (field, v) in fields.iter().zip(values) {
                heap.write(obj + field.offset, field.size, v);
            }
            u128::from(obj)
        }
        C::ArrayNew(t) | C::ArrayNewDefault(t) | C::ArrayNewFixed(t, _) => {
            let (index, l) = layout(t)?;
            let elem = l
                .as_array()
                .ok_or_else(|| anyhow::anyhow!("type {t} is not an array type"))?;
            let mut values = Vec::new();
            let len = match op {
                C::ArrayNewFixed(_, n) => {
                    for _ in 0..n {
                        values.push(pop()?);
                    }
                    values.reverse();
                    n
                }
                C::ArrayNew(_) => {
                    let len = pop()? as u32;
                    values.push(pop()?);
                    len
                }
                _ => pop()? as u32,
            };
            let arr = heap.alloc_array(index, elem, len)?;
            match op {
                C::ArrayNew(_) => heap.fill(arr + ARRAY_DATA, elem, values[0], len),
                _ => {
                    for (i, v) in values.into_iter().enumerate() {
                        heap.write(GcHeap::array_elem(arr, elem, i as u32), elem, v);
                    }
                }
            }
            u128::from(arr)
        }
        C::RefI31 => u128::from(i31_new(pop()? as u32)),
        // The two hierarchies share one encoding (see the module
        // documentation): a conversion changes the type only.
        C::AnyConvertExtern | C::ExternConvertAny => u128::from(pop()? as u64),
    })
}

/// Whether reference cell `v` is a value of type `ty` (`ref.test`), given
/// the store's function types (for function references) and its heap.
pub(crate) fn ref_test(store: &super::store::StoreInner, v: u64, ty: RefType) -> bool {
    if v == 0 {
        return ty.is_nullable();
    }
    let types = store.engine.types();
    // An exact type admits its own type only, not its subtypes.
    let is = |a, b| a == b || (!ty.is_exact() && types.is_subtype(a, b));
    match ty.heap_type() {
        HeapType::Func | HeapType::Extern | HeapType::Exn => true,
        HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn | HeapType::None => false,
        HeapType::ConcreteFunc(t) => store
            .funcs
            .get((v - 1) as usize)
            .is_some_and(|f| is(f.type_id, t)),
        heap => store.gc.any_is(v, heap, is),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i31_round_trips_with_sign_and_zero_extension() {
        let r = i31_new(-5i32 as u32);
        assert!(is_i31(r));
        assert_eq!(i31_get(r, true) as i32, -5);
        assert_eq!(i31_get(r, false), 0x7fff_fffb);
        // Bit 31 is dropped.
        assert_eq!(i31_get(i31_new(0x8000_0001), true), 1);
    }

    #[test]
    fn objects_are_bumped_zeroed_and_walkable() {
        let mut heap = GcHeap::new(1 << 20);
        let s = heap.alloc_struct(SharedTypeIndex(3), 24).unwrap();
        let a = heap.alloc_array(SharedTypeIndex(4), 2, 5).unwrap();
        let e = heap.alloc_host_ref(7).unwrap();
        assert_eq!(s, 8);
        assert_eq!(heap.read(s + 8, 8), 0);
        assert_eq!(heap.type_of(s), SharedTypeIndex(3));
        assert_eq!(heap.header(a).kind(), Kind::Array);
        assert_eq!(heap.array_len(a), 5);
        assert_eq!(heap.objects().collect::<Vec<_>>(), [s, a, e]);
        assert_eq!(heap.host_of(u64::from(e)), Some(7));
        assert_eq!(heap.host_of(u64::from(s)), None);
        assert_eq!(heap.host_of(i31_new(3)), None);
    }
}
