//! The runtime layout every tier shares: `#[repr(C)]` definitions of
//! memories, globals and tables, and the per-instance `VMContext` that
//! points at them.
//!
//! The store owns each definition in a [`VmBox`], a heap allocation whose
//! address never changes, so a `VMContext` built at instantiation stays
//! valid for the store's lifetime and executing code reads memories and
//! globals through plain pointers at fixed offsets, without borrowing the
//! store. Both tiers read the same fields (compiled code at `offset_of!`
//! offsets).

use crate::isa::atomic::{AtomicKind, RmwOp};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// A linear memory's current extent. Updated by `memory.grow`; the base
/// never changes (see `runtime::memory`).
///
/// The length is atomic because a shared memory is grown by whichever
/// thread runs `memory.grow` while other threads read it; an atomic of
/// `usize` has `usize`'s layout, so compiled code reads it with a plain
/// load at the same offset (a stale length is only ever too small: a
/// memory never shrinks).
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    /// First byte of the memory.
    pub base: *mut u8,
    /// Accessible length in bytes.
    pub len: AtomicUsize,
}

// SAFETY: `base` points into a mapping owned by the `LinearMemory` that
// owns this definition; the mapping never moves and the length is atomic,
// so the definition can be read from any thread.
unsafe impl Send for VMMemory {}
// SAFETY: as for `Send`.
unsafe impl Sync for VMMemory {}

impl VMMemory {
    /// A definition of `len` accessible bytes at `base`.
    pub fn new(base: *mut u8, len: usize) -> VMMemory {
        VMMemory {
            base,
            len: AtomicUsize::new(len),
        }
    }

    /// The accessible length in bytes. Relaxed: the pages below a length
    /// another thread published are already accessible (the kernel's
    /// mapping is global), and no other data is published with it.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether `N` bytes at `ea` lie within the memory. The end is computed
    /// with checked arithmetic: with 64-bit addresses `ea + N` can wrap
    /// around to a small, seemingly valid number. (For 32-bit addresses
    /// the compiler sees that it cannot, and drops the check.)
    #[inline(always)]
    fn in_bounds<const N: usize>(&self, ea: u64) -> bool {
        ea.checked_add(N as u64)
            .is_some_and(|end| end <= self.len() as u64)
    }

    /// The effective address of an access at `addr + offset`, where a sum
    /// that does not fit 64 bits is out of bounds (memory64 addresses and
    /// offsets are both 64-bit). Every tier's general memory path and the
    /// runtime's bulk operations compute addresses here.
    #[inline(always)]
    pub fn effective(addr: u64, offset: u64) -> Option<u64> {
        addr.checked_add(offset)
    }

    /// Reads `N` bytes at `addr + offset` (64-bit, overflow-checked), or
    /// fails when they are out of bounds: the access path of every load
    /// that is not memory 0's 32-bit fast path.
    ///
    /// # Safety
    /// As for [`VMMemory::load`].
    #[inline(always)]
    pub unsafe fn load_at<const N: usize>(&self, addr: u64, offset: u64) -> Option<[u8; N]> {
        // SAFETY: forwarded.
        unsafe { self.load(Self::effective(addr, offset)?) }
    }

    /// Writes `bytes` at `addr + offset` (64-bit, overflow-checked), or
    /// fails when they are out of bounds; see [`VMMemory::load_at`].
    ///
    /// # Safety
    /// As for [`VMMemory::store`].
    #[inline(always)]
    pub unsafe fn store_at<const N: usize>(
        &self,
        addr: u64,
        offset: u64,
        bytes: [u8; N],
    ) -> Option<()> {
        // SAFETY: forwarded.
        unsafe { self.store(Self::effective(addr, offset)?, bytes) }
    }

    /// Reads `N` bytes at `ea`, or fails when they are out of bounds.
    ///
    /// # Safety
    /// `self` must describe a live memory: `base` valid for `len` bytes.
    #[inline(always)]
    pub unsafe fn load<const N: usize>(&self, ea: u64) -> Option<[u8; N]> {
        if !self.in_bounds::<N>(ea) {
            return None;
        }
        // SAFETY: `[ea, ea+N)` is within `len` (checked) of a live memory.
        Some(unsafe {
            self.base
                .add(ea as usize)
                .cast::<[u8; N]>()
                .read_unaligned()
        })
    }

    /// Writes `bytes` at `ea`, or fails when they are out of bounds.
    ///
    /// # Safety
    /// As for [`VMMemory::load`], and nothing may hold a reference into the
    /// memory's bytes meanwhile.
    #[inline(always)]
    pub unsafe fn store<const N: usize>(&self, ea: u64, bytes: [u8; N]) -> Option<()> {
        if !self.in_bounds::<N>(ea) {
            return None;
        }
        // SAFETY: in bounds (checked) of a live memory, not aliased.
        unsafe {
            self.base
                .add(ea as usize)
                .cast::<[u8; N]>()
                .write_unaligned(bytes)
        };
        Some(())
    }
}

/// Runs a load, store, read-modify-write or compare-exchange of `size`
/// bytes at `p` (sequentially consistent, as the proposal specifies):
/// `a` is the value operand (the expected value for `Cmpxchg`), `b` the
/// replacement. Operands are truncated to the access size (the spec wraps
/// them) and the result is the old value zero-extended (nothing for a
/// store).
///
/// # Safety
/// `p` must be valid for `size` bytes, aligned to `size`, and only ever
/// accessed atomically or through raw pointers by other threads.
pub(crate) unsafe fn atomic(kind: AtomicKind, size: u32, p: *mut u8, a: u64, b: u64) -> u64 {
    macro_rules! with_width {
        ($atomic:ty, $int:ty) => {{
            // SAFETY: guaranteed by the caller.
            let cell = unsafe { <$atomic>::from_ptr(p.cast::<$int>()) };
            let (a, b) = (a as $int, b as $int);
            const SC: Ordering = Ordering::SeqCst;
            (match kind {
                AtomicKind::Load => cell.load(SC),
                AtomicKind::Store => {
                    cell.store(a, SC);
                    0
                }
                AtomicKind::Rmw(RmwOp::Add) => cell.fetch_add(a, SC),
                AtomicKind::Rmw(RmwOp::Sub) => cell.fetch_sub(a, SC),
                AtomicKind::Rmw(RmwOp::And) => cell.fetch_and(a, SC),
                AtomicKind::Rmw(RmwOp::Or) => cell.fetch_or(a, SC),
                AtomicKind::Rmw(RmwOp::Xor) => cell.fetch_xor(a, SC),
                AtomicKind::Rmw(RmwOp::Xchg) => cell.swap(a, SC),
                AtomicKind::Cmpxchg => match cell.compare_exchange(a, b, SC, SC) {
                    Ok(old) | Err(old) => old,
                },
                // Not memory accesses of their own: the runtime's
                // parking lot runs them.
                AtomicKind::Notify | AtomicKind::Wait => 0,
            }) as u64
        }};
    }
    match size {
        1 => with_width!(AtomicU8, u8),
        2 => with_width!(AtomicU16, u16),
        4 => with_width!(AtomicU32, u32),
        _ => with_width!(AtomicU64, u64),
    }
}

/// A global's value: 16 bytes, so a `v128` fits; scalar values use the low
/// 8 bytes in the cell encoding of `types/raw.rs`.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    /// The raw value.
    pub bits: u64,
    /// Upper half of a `v128`.
    pub high: u64,
}

/// A table's elements (raw references) and length. Updated whenever the
/// table is resized.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMTable {
    /// First element.
    pub base: *mut u64,
    /// Number of elements.
    pub len: usize,
}

// SAFETY: `base` points at the elements buffer of the `TableEntity` that
// owns this `VMTable`, in the same store; both move between threads
// together, and only code running with the store exclusively borrowed
// reads or writes through it.
unsafe impl Send for VMTable {}

/// Per-store execution limits, shared by all of a store's instances.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMRuntimeLimits {
    /// Fuel left (when `Config::consume_fuel` is on).
    pub fuel: u64,
    /// Wasm traps once the engine's epoch reaches this value (when
    /// `Config::epoch_interruption` is on).
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch: *const std::sync::atomic::AtomicU64,
    /// Compiled code traps with "call stack exhausted" when the host stack
    /// pointer goes below this address (set at the outermost entry into
    /// compiled code; 0 when none is active).
    pub stack_limit: usize,
    /// The entries of the store's functions, by store index (what a
    /// function reference in a table names); republished whenever the
    /// store's function list grows.
    pub func_refs: *const *const VMFuncRef,
    /// The base of the store's GC heap (`runtime::gc`), null until the
    /// heap is reserved, which instantiating a module with struct or array
    /// types does before any of its code runs; it never moves after. How
    /// compiled code addresses objects (`base + reference + offset`).
    pub gc_heap_base: *mut u8,
    /// The GC heap's allocation window (`runtime::gc::GcHeap`): compiled
    /// code allocates an object by bumping its `cur` when the object fits
    /// below its `end`, and calls the runtime otherwise.
    pub gc_window: *mut VMGcWindow,
    /// The frame pointer of the innermost compiled wasm frame of the
    /// running compiled segment when it last called a runtime helper (the
    /// helpers' exit stubs, in `jit/helpers.rs`, write it), 0 when it has not
    /// called one since it was entered: with `last_exit_pc`, where the
    /// collector starts walking the segment's frames
    /// (`runtime/gc/roots.rs`).
    pub last_exit_fp: usize,
    /// The return address of that helper call, into that frame's code.
    pub last_exit_pc: usize,
}

/// Where compiled code may allocate GC objects without calling the
/// runtime: the bytes from `cur` to `end` (heap offsets) are free, not
/// zeroed (compiled code writes every field of an object it allocates).
/// An allocation also sets its object's bit in `starts`, the bitmap of
/// where objects start (bit `i` for offset `8 * i`), which covers the
/// window. The heap keeps `end` where its
/// collection trigger or its current free block says (see
/// `runtime::gc::GcHeap::publish`), so `end == cur` sends every allocation
/// to the runtime (stress mode, a collection due).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMGcWindow {
    /// The next object's offset.
    pub cur: u32,
    /// The window's end.
    pub end: u32,
    /// The heap's object-start bitmap (moves when the heap grows).
    pub starts: *mut u64,
}

// SAFETY: `starts` points at the start bitmap of the `GcHeap` that owns
// this window, in the same store; both move between threads together,
// and only code running with the store exclusively borrowed reads or
// writes through it.
unsafe impl Send for VMGcWindow {}

impl Default for VMGcWindow {
    fn default() -> VMGcWindow {
        VMGcWindow {
            cur: 0,
            end: 0,
            starts: std::ptr::null_mut(),
        }
    }
}

/// A store function's entry: how any tier calls it. One record per store
/// function, at an address that never changes (the store keeps each in a
/// `VmBox`), so instances point to the records of the functions they call
/// (`VMContext::func_refs`) and a function's code can be switched (an
/// interpreted function gaining compiled code) by writing its record.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// The function's compiled code in the native calling convention
    /// (`vmctx, params... -> results`), or null when it has none (host
    /// functions, interpreted functions), which sends the call through the
    /// runtime's generic path.
    pub native: *const u8,
    /// The function's array-call trampoline (`extern "C" fn(vmctx, values:
    /// *mut u64)`, arguments and results in one cell buffer), or null when
    /// it has no compiled code; how the host enters compiled code.
    pub array_call: *const u8,
    /// The callee's instance context.
    pub vmctx: *const VMContext,
    /// The engine-wide id of the function's type, for signature checks.
    pub type_id: u32,
    /// The function's index in its store, for calls that go through the
    /// runtime (no compiled code).
    pub func: u32,
}

// SAFETY: `native` and `array_call` point at compiled code, which is
// immutable once published and kept alive by the modules of the store's
// instances; `vmctx` points at an `InstanceVm` the same store owns. Nothing
// here belongs to the thread that made it, and it is only read by code
// running with the store exclusively borrowed.
unsafe impl Send for VMFuncRef {}

/// The address of a function's entry, as the arrays executing code reads
/// hold it.
#[repr(transparent)]
#[derive(Debug, Clone, Copy)]
pub struct FuncRefPtr(pub *const VMFuncRef);

// SAFETY: as for `VMFuncRef`: the entry is owned by the same store.
unsafe impl Send for FuncRefPtr {}

impl VMRuntimeLimits {
    /// Charges `amount` of fuel; false (and nothing charged) when there is
    /// not that much left.
    ///
    /// # Safety
    /// `this` must point at a live `VMRuntimeLimits` not otherwise borrowed.
    #[inline(always)]
    pub unsafe fn consume_fuel(this: *mut VMRuntimeLimits, amount: u64) -> bool {
        // SAFETY: guaranteed by the caller.
        let fuel = unsafe { &mut (*this).fuel };
        match fuel.checked_sub(amount) {
            Some(left) => {
                *fuel = left;
                true
            }
            None => false,
        }
    }

    /// Whether the epoch deadline has passed.
    ///
    /// # Safety
    /// `this` must point at a live `VMRuntimeLimits` whose `epoch` points at
    /// the live engine's counter.
    #[inline(always)]
    pub unsafe fn epoch_passed(this: *const VMRuntimeLimits) -> bool {
        // SAFETY: guaranteed by the caller.
        unsafe {
            (*(*this).epoch).load(std::sync::atomic::Ordering::Relaxed) >= (*this).epoch_deadline
        }
    }
}

// SAFETY: the epoch pointer targets an atomic owned by the engine, which the
// store keeps alive; see `VmBox` for the rest.
unsafe impl Send for VMRuntimeLimits {}
// SAFETY: as for `Send`.
unsafe impl Sync for VMRuntimeLimits {}

/// The per-instance context: what executing code of one instance needs,
/// at fixed offsets.
#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    /// The store's fuel and epoch deadline.
    pub limits: *mut VMRuntimeLimits,
    /// The instance's memory 0, or an empty memory when it has none; the
    /// memory every load and store of WebAssembly 2.0 addresses.
    pub memory0: *const VMMemory,
    /// All memories, by memory index.
    pub memories: *const *const VMMemory,
    /// All globals, by global index.
    pub globals: *const *mut VMGlobal,
    /// All tables, by table index.
    pub tables: *const *const VMTable,
    /// Store indices of the instance's functions, by function index.
    pub funcs: *const u32,
    /// The entries of the instance's functions, by function index (imports
    /// first): every call to a known function goes through its entry.
    pub func_refs: *const *const VMFuncRef,
    /// The engine's id (`SharedTypeIndex`) of each type of the module, by
    /// module type index: how compiled code checks signatures without
    /// engine-specific constants in its code.
    pub type_ids: *const u32,
    /// The table of runtime helpers compiled code calls (the JIT's
    /// `Builtins`), or null without the JIT.
    pub builtins: *const (),
    /// The instance's index in its store.
    pub instance: u32,
}

impl VMContext {
    /// The definition of memory `index` of the context's instance: memory
    /// 0 is cached in `memory0` (the fast path), the others are read from
    /// the `memories` array.
    ///
    /// # Safety
    /// `this` must point at a live context and `index` must be one of its
    /// instance's memories (validation guarantees it for code of the
    /// instance's module).
    #[inline(always)]
    pub unsafe fn memory(this: *const VMContext, index: u32) -> *const VMMemory {
        // SAFETY: guaranteed by the caller.
        unsafe { *(*this).memories.add(index as usize) }
    }
}

/// A heap allocation with a stable address, shared with executing code
/// through raw pointers; the owner reads and writes it through the same
/// pointer (never through a unique reference), like a `Cell`.
#[derive(Debug)]
pub struct VmBox<T: Copy>(NonNull<T>);

// SAFETY: a `VmBox` is owned by one store; the store is only used from one
// thread at a time (`&mut` for execution), which serialises all accesses.
unsafe impl<T: Copy + Send> Send for VmBox<T> {}
// SAFETY: shared references only read, and the store is never used by two
// threads at once while it is being mutated (see `Send`).
unsafe impl<T: Copy + Sync> Sync for VmBox<T> {}

impl<T: Copy> VmBox<T> {
    /// Allocates `value`.
    pub fn new(value: T) -> VmBox<T> {
        VmBox(NonNull::from(Box::leak(Box::new(value))))
    }

    /// The current value.
    pub fn get(&self) -> T {
        // SAFETY: the allocation is live until `drop` and only accessed
        // through this pointer (no references are ever handed out).
        unsafe { self.0.as_ptr().read() }
    }

    /// Replaces the value.
    pub fn set(&self, value: T) {
        // SAFETY: as in `get`; no reference into the allocation exists.
        unsafe { self.0.as_ptr().write(value) }
    }

    /// The stable address, for `VMContext`s and executing code.
    pub fn as_ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

impl<T: Copy> Drop for VmBox<T> {
    fn drop(&mut self) {
        // SAFETY: allocated by `Box` in `new` and freed only here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

// `VMContext` holds raw pointers into its store's `VmBox`es; the instance
// that owns it lives in the same store.
// SAFETY: see `VmBox`'s `Send`.
unsafe impl Send for VMContext {}
// SAFETY: see `VmBox`'s `Sync`.
unsafe impl Sync for VMContext {}

/// A pointer to an instance's `VMContext`, kept by the functions it
/// defines so a call can switch context without looking the instance up.
#[derive(Debug, Clone, Copy)]
pub struct VmCtxPtr(pub *const VMContext);

// SAFETY: see `VmBox`'s `Send`: the pointee lives in the same store.
unsafe impl Send for VmCtxPtr {}
// SAFETY: see `VmBox`'s `Sync`.
unsafe impl Sync for VmCtxPtr {}

/// What an instance's context points to, by index space.
pub struct InstanceParts {
    pub memories: Vec<*const VMMemory>,
    pub globals: Vec<*mut VMGlobal>,
    pub tables: Vec<*const VMTable>,
    /// Store indices of the functions.
    pub funcs: Vec<u32>,
    /// The functions' entries.
    pub func_refs: Vec<*const VMFuncRef>,
    /// Engine type ids of the module's types.
    pub type_ids: Vec<u32>,
    /// The JIT's helper table, or null.
    pub builtins: *const (),
}

/// Stands in for memory 0 of an instance without memories: empty, never
/// written (its length stays 0, so every access is out of bounds).
static NO_MEMORY: VMMemory = VMMemory {
    base: std::ptr::null_mut(),
    len: AtomicUsize::new(0),
};

/// Owns an instance's `VMContext` and the pointer arrays it points into.
#[derive(Debug)]
// The arrays are only read through `vmctx`; the fields keep them alive.
#[allow(dead_code)]
pub struct InstanceVm {
    // The arrays are boxed slices: their heap addresses are stable even
    // when the owning `InstanceVm` moves.
    memories: Box<[*const VMMemory]>,
    globals: Box<[*mut VMGlobal]>,
    tables: Box<[*const VMTable]>,
    funcs: Box<[u32]>,
    func_refs: Box<[*const VMFuncRef]>,
    type_ids: Box<[u32]>,
    vmctx: VmBox<VMContext>,
}

// SAFETY: as for `VMContext`.
unsafe impl Send for InstanceVm {}
// SAFETY: as for `VMContext`.
unsafe impl Sync for InstanceVm {}

impl Copy for VMContext {}
impl Clone for VMContext {
    fn clone(&self) -> Self {
        *self
    }
}

impl InstanceVm {
    /// Builds the context from pointers to the store's definitions.
    pub fn new(instance: u32, limits: *mut VMRuntimeLimits, parts: InstanceParts) -> InstanceVm {
        let memories: Box<[_]> = parts.memories.into();
        let globals: Box<[_]> = parts.globals.into();
        let tables: Box<[_]> = parts.tables.into();
        let funcs: Box<[_]> = parts.funcs.into();
        let func_refs: Box<[_]> = parts.func_refs.into();
        let type_ids: Box<[_]> = parts.type_ids.into();
        let memory0 = memories
            .first()
            .copied()
            .unwrap_or(&NO_MEMORY as *const VMMemory);
        let vmctx = VmBox::new(VMContext {
            limits,
            memory0,
            memories: memories.as_ptr(),
            globals: globals.as_ptr(),
            tables: tables.as_ptr(),
            funcs: funcs.as_ptr(),
            func_refs: func_refs.as_ptr(),
            type_ids: type_ids.as_ptr(),
            builtins: parts.builtins,
            instance,
        });
        InstanceVm {
            memories,
            globals,
            tables,
            funcs,
            func_refs,
            type_ids,
            vmctx,
        }
    }

    /// The context, for executing code.
    pub fn vmctx(&self) -> *const VMContext {
        self.vmctx.as_ptr()
    }

    /// Store indices of the instance's functions.
    pub fn funcs(&self) -> &[u32] {
        &self.funcs
    }
}

#[cfg(test)]
mod tests {
    use super::{atomic, VMMemory};
    use crate::isa::atomic::{AtomicKind, RmwOp};

    #[test]
    fn atomic_semantics() {
        let mut cell = 0x1122_3344_5566_7788_u64;
        let p = (&mut cell as *mut u64).cast::<u8>();
        // SAFETY (all calls): `p` is an aligned, live u64 only this thread
        // uses.
        unsafe {
            assert_eq!(atomic(AtomicKind::Load, 8, p, 0, 0), 0x1122_3344_5566_7788);
            assert_eq!(atomic(AtomicKind::Load, 1, p, 0, 0), 0x88);
            let old = atomic(AtomicKind::Rmw(RmwOp::Add), 1, p, 0x1_0000_0009, 0);
            assert_eq!(old, 0x88);
            assert_eq!(cell & 0xff, 0x91);
            // Compare-exchange compares the wrapped expected value.
            let old = atomic(AtomicKind::Cmpxchg, 2, p, 0xffff_7791, 0xabcd);
            assert_eq!(old, 0x7791);
            assert_eq!(cell & 0xffff, 0xabcd);
            let old = atomic(AtomicKind::Cmpxchg, 2, p, 1, 2);
            assert_eq!(old, 0xabcd);
            atomic(AtomicKind::Store, 4, p, 7, 0);
            assert_eq!(cell, 0x1122_3344_0000_0007);
        }
    }

    #[test]
    fn accesses_whose_end_wraps_around_are_out_of_bounds() {
        let mut bytes = [7_u8; 16];
        let memory = VMMemory::new(bytes.as_mut_ptr(), bytes.len());
        // SAFETY (all calls): `memory` describes `bytes`, which nothing
        // else borrows meanwhile.
        unsafe {
            assert_eq!(memory.load::<4>(12), Some([7; 4]));
            assert_eq!(memory.load::<4>(13), None);
            assert_eq!(memory.store::<4>(12, [1; 4]), Some(()));
            assert_eq!(memory.store::<4>(13, [1; 4]), None);
            // With 64-bit addresses `ea + N` can wrap to a small number,
            // which an unchecked sum would take for an in-bounds access.
            for ea in [u64::MAX, u64::MAX - 1, u64::MAX - 3, u64::MAX - 15] {
                assert_eq!(memory.load::<4>(ea), None, "load at {ea:#x}");
                assert_eq!(memory.load::<8>(ea), None, "load at {ea:#x}");
                assert_eq!(memory.store::<4>(ea, [2; 4]), None, "store at {ea:#x}");
                assert_eq!(memory.store::<16>(ea, [2; 16]), None, "store at {ea:#x}");
            }
        }
        assert_eq!(bytes, [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 1, 1, 1, 1]);
    }
}
