//! Store internals: every runtime object of one store (functions,
//! memories, tables, globals, instances, host references) in vectors that
//! handles index, and the interface through which the tiers reach what
//! only the API layer can do (call host functions, ask the limiter).

use super::memory::LinearMemory;
use super::shared::SharedMemoryInner;
use super::vm::{
    FuncRefPtr, InstanceVm, VMFuncRef, VMGlobal, VMRuntimeLimits, VMTable, VmBox, VmCtxPtr,
};
use crate::module::ModuleInfo;
use crate::types::raw::{v128_from_cells, v128_to_cells};
use crate::types::{FuncType, GlobalType, MemoryType, SharedTypeIndex, TableType};
use crate::Engine;
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What the tiers need from a store beyond its internals: the API layer's
/// `Store<T>` implements it, so the tiers never name the host data type.
pub(crate) trait StoreOps {
    /// The store's internals.
    fn inner(&mut self) -> &mut StoreInner;
    /// Grows store memory `memory` by `delta` pages if its type and the
    /// limiter allow: the old size, or `None` (wasm sees -1).
    fn grow_memory(&mut self, memory: u32, delta: u64) -> anyhow::Result<Option<u64>>;
    /// Grows store table `table` by `delta` elements of `init` if its type
    /// and the limiter allow: the old size, or `None`.
    fn grow_table(&mut self, table: u32, delta: u64, init: u64) -> anyhow::Result<Option<u64>>;
    /// Calls host function `host` (an index into the store's host
    /// functions) with arguments and results in `raw`, on behalf of
    /// instance `caller` (`None` when the host itself calls).
    fn call_host(&mut self, host: u32, raw: &mut [u64], caller: Option<u32>) -> anyhow::Result<()>;
    /// Calls store function `func`, in whichever tier runs it (for
    /// compiled code's calls out).
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    fn call(&mut self, func: u32, raw: &mut [u64]) -> anyhow::Result<()>;
    /// The epoch deadline passed while wasm ran: runs the store's
    /// epoch-deadline callback, which sets a new deadline (wasm goes on)
    /// or fails; without a callback, fails with the `Interrupt` trap.
    /// `stack` builds the interrupted wasm stack, for
    /// `WasmBacktrace::capture` in the callback.
    fn epoch_deadline_reached(
        &mut self,
        stack: &dyn Fn(&StoreInner) -> crate::trap::WasmBacktrace,
    ) -> anyhow::Result<()>;
}

/// An export of an instance: what kind of item, and its store index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportItem {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// The tiers' code for an instance's module, owned jointly with the API's
/// `Module`. Each field is only ever looked into by its own tier, which
/// knows the concrete type.
#[derive(Clone)]
pub(crate) struct TierCode {
    /// The interpreter's code (`interp::ModuleCode`).
    pub interp: Arc<dyn Any + Send + Sync>,
    /// The JIT's compiled module (`jit::CompiledModule`), if compiled.
    #[cfg_attr(not(strata_jit), allow(dead_code))]
    pub jit: Option<Arc<dyn Any + Send + Sync>>,
    /// With tiered execution, the compiler of the module's hot code.
    pub tier_up: Option<Arc<dyn super::tiering::TierUp>>,
}

/// The part of a store that does not depend on the host data type (an
/// implementation detail that appears in hidden trait methods).
#[doc(hidden)]
pub struct StoreInner {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    /// The entry of each of `funcs` (same indices), each at a stable
    /// address.
    pub(crate) func_refs: Vec<VmBox<VMFuncRef>>,
    /// Their addresses, published in `limits.func_refs` for compiled code.
    pub(crate) func_ref_ptrs: Vec<FuncRefPtr>,
    pub(crate) memories: Vec<MemoryEntity>,
    pub(crate) tables: Vec<TableEntity>,
    pub(crate) globals: Vec<GlobalEntity>,
    pub(crate) tags: Vec<TagEntity>,
    pub(crate) instances: Vec<InstanceEntity>,
    /// The host values of `externref`s, freed when unreachable.
    pub(crate) externrefs: super::gc::host_values::HostValues,
    /// The exnref of an exception being thrown across a tier or host
    /// boundary (`exn::raise`, `exn::thrown`), or of an uncaught one the
    /// embedder has not taken yet: a root of the GC heap.
    pub(crate) pending_exn: Option<u32>,
    /// Structs, arrays, host references (externrefs) and exceptions.
    pub(crate) gc: super::gc::GcHeap,
    /// The active activations, where the collector finds the references
    /// executing code holds (`gc/roots.rs`).
    pub(crate) activations: super::gc::roots::Activations,
    /// References held by host handles (`gc/roots.rs`).
    pub(crate) host_roots: super::gc::roots::HostRoots,
    /// Interpreter stacks not in use (`interp::Stack`s, which only the
    /// interpreter looks into); one is taken per host-to-wasm entry.
    pub(crate) stacks: Vec<Box<dyn Any + Send>>,
    /// Nesting of host-to-wasm entries (host functions calling back in).
    pub(crate) entry_depth: u32,
    /// Host stack address at the outermost entry, to bound re-entry.
    pub(crate) entry_stack: usize,
    /// Fuel and epoch deadline, where executing code reads them.
    pub(crate) limits: VmBox<VMRuntimeLimits>,
}

pub(crate) struct FuncEntity {
    pub type_id: SharedTypeIndex,
    pub ty: Arc<FuncType>,
    pub kind: FuncKind,
}

#[derive(Clone, Copy)]
pub(crate) enum FuncKind {
    /// A function defined by a module: its instance and its index in the
    /// module's function index space. Its code is the instance's
    /// (`InstanceEntity::code`).
    Wasm {
        instance: u32,
        index: u32,
        /// The instance's context (set once the instance is built).
        vmctx: VmCtxPtr,
    },
    /// A host function: an index into `Store::host_funcs`.
    Host(u32),
}

/// An exception tag: its identity is its index in the store.
pub(crate) struct TagEntity {
    /// The engine's id of its function type (what linking compares).
    pub type_id: SharedTypeIndex,
    pub ty: crate::types::TagType,
}

pub(crate) struct MemoryEntity {
    pub ty: MemoryType,
    pub mem: MemoryStorage,
}

/// A store memory's storage: owned by the store, or a shared memory the
/// store holds one reference to (`Deref` gives the `LinearMemory` either
/// way, for what does not form slices of the bytes).
pub(crate) enum MemoryStorage {
    /// An unshared memory, only ever used by its store.
    Owned(LinearMemory),
    /// A shared memory (threads proposal), used by any number of stores
    /// and threads.
    Shared(Arc<SharedMemoryInner>),
}

impl MemoryStorage {
    /// The shared memory, if this is one.
    pub fn shared(&self) -> Option<&Arc<SharedMemoryInner>> {
        match self {
            MemoryStorage::Shared(s) => Some(s),
            MemoryStorage::Owned(_) => None,
        }
    }

    /// The memory when it is unshared: what may be viewed as a byte slice
    /// (the API's `Memory::data`), because only its store reaches it.
    pub fn owned(&self) -> Option<&LinearMemory> {
        match self {
            MemoryStorage::Owned(m) => Some(m),
            MemoryStorage::Shared(_) => None,
        }
    }

    /// As `owned`, writable.
    pub fn owned_mut(&mut self) -> Option<&mut LinearMemory> {
        match self {
            MemoryStorage::Owned(m) => Some(m),
            MemoryStorage::Shared(_) => None,
        }
    }

    /// Grows by `delta` pages: the old size, or `None` (wasm sees -1).
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        match self {
            MemoryStorage::Owned(m) => m.grow(delta),
            MemoryStorage::Shared(s) => s.grow(delta),
        }
    }
}

impl std::ops::Deref for MemoryStorage {
    type Target = LinearMemory;
    fn deref(&self) -> &LinearMemory {
        match self {
            MemoryStorage::Owned(m) => m,
            MemoryStorage::Shared(s) => &s.mem,
        }
    }
}

pub(crate) struct TableEntity {
    pub ty: TableType,
    /// Raw references: 0 is null, otherwise store index + 1.
    pub elements: Vec<u64>,
    /// Base and length of `elements`, where executing code reads them;
    /// `sync` after every resize.
    pub vm: VmBox<VMTable>,
}

impl TableEntity {
    pub(crate) fn new(ty: TableType, elements: Vec<u64>) -> TableEntity {
        let mut elements = elements;
        let vm = VmBox::new(VMTable {
            base: elements.as_mut_ptr(),
            len: elements.len(),
        });
        TableEntity { ty, elements, vm }
    }

    /// Publishes the current base and length after a resize.
    pub(crate) fn sync(&mut self) {
        self.vm.set(VMTable {
            base: self.elements.as_mut_ptr(),
            len: self.elements.len(),
        });
    }
}

pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
    /// The value, where executing code reads and writes it.
    pub value: VmBox<VMGlobal>,
}

impl GlobalEntity {
    /// A global holding `value` in its cell encoding (a `v128` in both
    /// cells, any other value in the low one).
    pub(crate) fn new(ty: GlobalType, value: u128) -> GlobalEntity {
        let global = GlobalEntity {
            ty,
            value: VmBox::new(VMGlobal::default()),
        };
        global.set(value);
        global
    }

    /// The value in its cell encoding.
    pub(crate) fn get(&self) -> u128 {
        let v = self.value.get();
        v128_from_cells(v.bits, v.high)
    }

    /// Replaces the value.
    pub(crate) fn set(&self, value: u128) {
        let [bits, high] = v128_to_cells(value);
        self.value.set(VMGlobal { bits, high });
    }

    /// The value's cells (two; the second is 0 unless it is a `v128`).
    pub(crate) fn cells(&self) -> [u64; 2] {
        let v = self.value.get();
        [v.bits, v.high]
    }
}

/// An instance's view of the store: its index spaces resolved to store
/// indices, its `VMContext`, and its segments' runtime state.
pub(crate) struct InstanceEntity {
    pub module: Arc<ModuleInfo>,
    /// What the tiers made of the module.
    pub code: TierCode,
    /// The context executing code uses; also owns the function index space
    /// (`vm.funcs()`).
    pub vm: InstanceVm,
    pub tables: Vec<u32>,
    pub memories: Vec<u32>,
    pub globals: Vec<u32>,
    pub tags: Vec<u32>,
    pub exports: HashMap<String, ExportItem>,
    /// Element segments as raw references; emptied by `elem.drop`.
    pub elems: Vec<Arc<[u64]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
    /// How much of the module's tier-up publish log the function entries
    /// reflect (`StoreInner::sync_compiled`).
    pub synced: usize,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// What using a handle with a store it does not belong to says, as an
/// error or a panic (wasmtime's wording).
pub(crate) const WRONG_STORE: &str = "object used with the wrong store";

/// What using a GC handle after its root scope ended says.
pub(crate) const UNROOTED: &str =
    "GC reference used after its root scope ended (the object may have been collected)";

impl StoreInner {
    /// Checks that a GC handle of store `store_id` with host root `serial`
    /// belongs to this store and is still rooted.
    pub(crate) fn check_ref(&self, store_id: u64, serial: u64) -> anyhow::Result<()> {
        self.check_owner(store_id)?;
        if !self.host_roots.is_rooted(serial) {
            anyhow::bail!(UNROOTED);
        }
        Ok(())
    }

    /// An empty store for modules of `engine`.
    pub(crate) fn new(engine: &Engine) -> StoreInner {
        let gc = super::gc::GcHeap::with_stress(
            engine.config().max_gc_heap_size,
            engine.config().gc_stress,
        );
        // The window's box never moves, whatever the store does with `gc`.
        let gc_window = gc.window_ptr();
        StoreInner {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            engine: engine.clone(),
            funcs: Vec::new(),
            func_refs: Vec::new(),
            func_ref_ptrs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            instances: Vec::new(),
            externrefs: Default::default(),
            pending_exn: None,
            gc,
            activations: Default::default(),
            host_roots: Default::default(),
            stacks: Vec::new(),
            entry_depth: 0,
            entry_stack: 0,
            limits: VmBox::new(VMRuntimeLimits {
                fuel: 0,
                epoch_deadline: engine.epoch(),
                epoch: engine.epoch_ptr(),
                stack_limit: 0,
                func_refs: std::ptr::null(),
                gc_heap_base: std::ptr::null_mut(),
                gc_window,
                last_exit_fp: 0,
                last_exit_pc: 0,
            }),
        }
    }

    /// Reserves the GC heap's address range (if not done yet) and
    /// publishes its base to compiled code (`VMRuntimeLimits::gc_heap_base`).
    pub(crate) fn reserve_gc_heap(&mut self) -> Result<(), crate::Trap> {
        let base = self.gc.reserve()?;
        let mut limits = self.limits.get();
        limits.gc_heap_base = base;
        self.limits.set(limits);
        Ok(())
    }

    /// Adds a function and returns its store index.
    pub(crate) fn push_func(&mut self, entity: FuncEntity) -> u32 {
        let func = self.funcs.len() as u32;
        let entry = VmBox::new(VMFuncRef {
            native: std::ptr::null(),
            array_call: std::ptr::null(),
            vmctx: std::ptr::null(),
            type_id: entity.type_id.bits(),
            func,
        });
        self.func_ref_ptrs.push(FuncRefPtr(entry.as_ptr()));
        self.func_refs.push(entry);
        self.funcs.push(entity);
        // Tell executing code where the entries' addresses are now.
        let mut limits = self.limits.get();
        limits.func_refs = self.func_ref_ptrs.as_ptr().cast();
        self.limits.set(limits);
        func
    }

    /// Fails with [`WRONG_STORE`] unless the handle of store `store_id`
    /// belongs to this store: for APIs that return a `Result`.
    pub(crate) fn check_owner(&self, store_id: u64) -> anyhow::Result<()> {
        if store_id != self.id {
            anyhow::bail!(WRONG_STORE);
        }
        Ok(())
    }

    /// Panics with [`WRONG_STORE`] unless the handle of store `store_id`
    /// belongs to this store: for APIs whose signature cannot fail (as
    /// wasmtime's do).
    pub(crate) fn assert_owner(&self, store_id: u64) {
        if store_id != self.id {
            panic!("{WRONG_STORE}");
        }
    }
}
