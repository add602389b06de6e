//! The store: owner of every runtime object (functions, memories, tables,
//! globals, instances, host references) and of the host's data `T`.
//!
//! Handles such as [`Func`](crate::Func) or [`Memory`](crate::Memory) are
//! indices into one store's vectors, tagged with the store's id so a handle
//! used with the wrong store is an error rather than a wrong answer.

use crate::func::HostFunc;
use crate::interp::LazyFunc;
use crate::runtime::memory::LinearMemory;
use crate::runtime::vm::{
    InstanceVm, VMFuncRef, VMGlobal, VMRuntimeLimits, VMTable, VmBox, VmCtxPtr,
};
use crate::types::{FuncType, GlobalType, MemoryType, TableType};
use crate::{Engine, Module, ResourceLimiter};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Holds all WebAssembly state of one embedding context plus the host's data.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host_funcs: Vec<HostFunc<T>>,
    limiter: Option<Limiter<T>>,
    data: T,
}

/// Finds the store's [`ResourceLimiter`] in its host data.
type Limiter<T> = Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync>;

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

/// The part of a store that does not depend on the host data type (an
/// implementation detail that appears in hidden trait methods).
#[doc(hidden)]
pub struct StoreInner {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    /// How compiled code calls each of `funcs` (same indices); its address
    /// is published in `limits.func_refs`.
    pub(crate) func_refs: Vec<VMFuncRef>,
    pub(crate) memories: Vec<MemoryEntity>,
    pub(crate) tables: Vec<TableEntity>,
    pub(crate) globals: Vec<GlobalEntity>,
    pub(crate) instances: Vec<InstanceEntity>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    /// Interpreter stacks not in use; one is taken per host-to-wasm entry.
    pub(crate) stacks: Vec<crate::interp::Stack>,
    /// Nesting of host-to-wasm entries (host functions calling back in).
    pub(crate) entry_depth: u32,
    /// Host stack address at the outermost entry, to bound re-entry.
    pub(crate) entry_stack: usize,
    /// Fuel and epoch deadline, where executing code reads them.
    pub(crate) limits: VmBox<VMRuntimeLimits>,
}

pub(crate) struct FuncEntity {
    pub type_id: u32,
    pub ty: Arc<FuncType>,
    pub kind: FuncKind,
}

pub(crate) enum FuncKind {
    /// A function defined by a module, with its instance and body.
    Wasm {
        instance: u32,
        index: u32,
        code: Arc<LazyFunc>,
        /// The instance's context (set once the instance is built).
        vmctx: VmCtxPtr,
    },
    /// A host function: an index into `Store::host_funcs`.
    Host(u32),
}

pub(crate) struct MemoryEntity {
    pub ty: MemoryType,
    pub mem: LinearMemory,
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
    pub(crate) fn new(ty: GlobalType, raw: u64) -> GlobalEntity {
        GlobalEntity {
            ty,
            value: VmBox::new(VMGlobal { bits: raw, high: 0 }),
        }
    }

    /// The raw value.
    pub(crate) fn get(&self) -> u64 {
        self.value.get().bits
    }

    /// Replaces the raw value.
    pub(crate) fn set(&self, raw: u64) {
        self.value.set(VMGlobal { bits: raw, high: 0 });
    }
}

/// An instance's view of the store: its index spaces resolved to store
/// indices, its `VMContext`, and its segments' runtime state.
pub(crate) struct InstanceEntity {
    pub module: Module,
    /// The context executing code uses; also owns the function index space
    /// (`vm.funcs()`).
    pub vm: InstanceVm,
    pub tables: Vec<u32>,
    pub memories: Vec<u32>,
    pub globals: Vec<u32>,
    pub exports: HashMap<String, crate::Extern>,
    /// Element segments as raw references; emptied by `elem.drop`.
    pub elems: Vec<Arc<[u64]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl StoreInner {
    /// Adds a function and returns its store index.
    pub(crate) fn push_func(&mut self, entity: FuncEntity) -> u32 {
        self.func_refs.push(VMFuncRef {
            native: std::ptr::null(),
            vmctx: std::ptr::null(),
            type_id: entity.type_id,
        });
        self.funcs.push(entity);
        self.publish_func_refs();
        self.funcs.len() as u32 - 1
    }

    /// Tells executing code where the function references are now.
    pub(crate) fn publish_func_refs(&mut self) {
        let mut limits = self.limits.get();
        limits.func_refs = self.func_refs.as_ptr();
        self.limits.set(limits);
    }

    pub(crate) fn check_owner(&self, store_id: u64) -> anyhow::Result<()> {
        if store_id != self.id {
            anyhow::bail!("object used with the wrong store");
        }
        Ok(())
    }
}

impl<T> Store<T> {
    /// Creates a store for modules of `engine`, holding the host's `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                funcs: Vec::new(),
                func_refs: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                externrefs: Vec::new(),
                stacks: Vec::new(),
                entry_depth: 0,
                entry_stack: 0,
                limits: VmBox::new(VMRuntimeLimits {
                    fuel: 0,
                    epoch_deadline: engine.epoch(),
                    epoch: engine.epoch_ptr(),
                    stack_limit: 0,
                    func_refs: std::ptr::null(),
                }),
            },
            host_funcs: Vec::new(),
            limiter: None,
            data,
        }
    }

    /// The engine this store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host data, writable.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Installs a [`ResourceLimiter`], found in the host data by `limiter`,
    /// that decides every memory and table growth and caps how many
    /// instances, memories and tables the store creates.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.limiter = Some(Box::new(limiter));
    }

    /// Grows store memory `index` by `delta` pages if the memory and the
    /// limiter allow it: the old size in pages, or `None` (wasm sees -1).
    /// A limiter error is returned as the error.
    pub(crate) fn grow_memory(&mut self, index: u32, delta: u64) -> anyhow::Result<Option<u64>> {
        let entity = &self.inner.memories[index as usize];
        let current = entity.mem.len();
        let page = crate::runtime::memory::PAGE_SIZE;
        let desired = delta
            .checked_mul(page)
            .and_then(|d| d.checked_add(current as u64))
            .and_then(|d| usize::try_from(d).ok());
        let maximum = entity
            .ty
            .maximum()
            .and_then(|p| usize::try_from(p.saturating_mul(page)).ok());
        let Some(desired) = desired else {
            return Ok(None);
        };
        if delta > 0 && !self.memory_growing(current, desired, maximum)? {
            return Ok(None);
        }
        Ok(self.inner.memories[index as usize].mem.grow(delta))
    }

    /// Grows store table `index` by `delta` elements of `init` if the table
    /// and the limiter allow it: the old size, or `None` (wasm sees -1).
    pub(crate) fn grow_table(
        &mut self,
        index: u32,
        delta: u64,
        init: u64,
    ) -> anyhow::Result<Option<u64>> {
        let entity = &self.inner.tables[index as usize];
        let current = entity.elements.len();
        let maximum = entity.ty.maximum().and_then(|m| usize::try_from(m).ok());
        let Some(desired) = usize::try_from(delta)
            .ok()
            .and_then(|d| d.checked_add(current))
        else {
            return Ok(None);
        };
        if delta > 0 && !self.table_growing(current, desired, maximum)? {
            return Ok(None);
        }
        Ok(crate::runtime::table::grow(
            &mut self.inner.tables[index as usize],
            delta,
            init,
        ))
    }

    /// Creates a memory of type `ty` if the limiter allows its minimum size;
    /// returns its store index.
    pub(crate) fn new_memory(&mut self, ty: MemoryType) -> anyhow::Result<u32> {
        let page = crate::runtime::memory::PAGE_SIZE;
        let bytes = |pages: u64| usize::try_from(pages.saturating_mul(page)).unwrap_or(usize::MAX);
        let maximum = ty.maximum().map(bytes);
        if !self.memory_growing(0, bytes(ty.minimum()), maximum)? {
            anyhow::bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum()
            );
        }
        let mem = LinearMemory::new(ty.minimum(), ty.maximum()).map_err(anyhow::Error::msg)?;
        self.inner.memories.push(MemoryEntity { ty, mem });
        Ok(self.inner.memories.len() as u32 - 1)
    }

    /// Creates a table of type `ty` filled with `init` if the limiter
    /// allows its minimum size; returns its store index.
    pub(crate) fn new_table(&mut self, ty: TableType, init: u64) -> anyhow::Result<u32> {
        let min = usize::try_from(ty.minimum()).unwrap_or(usize::MAX);
        let maximum = ty.maximum().and_then(|m| usize::try_from(m).ok());
        if ty.minimum() > crate::runtime::table::MAX_TABLE_ELEMENTS
            || !self.table_growing(0, min, maximum)?
        {
            anyhow::bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum()
            );
        }
        self.inner
            .tables
            .push(TableEntity::new(ty, vec![init; min]));
        Ok(self.inner.tables.len() as u32 - 1)
    }

    /// Asks the limiter whether a memory may grow from `current` to
    /// `desired` bytes.
    pub(crate) fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        match &mut self.limiter {
            Some(limiter) => limiter(&mut self.data).memory_growing(current, desired, maximum),
            None => Ok(true),
        }
    }

    /// Asks the limiter whether a table may grow from `current` to
    /// `desired` elements.
    pub(crate) fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        match &mut self.limiter {
            Some(limiter) => limiter(&mut self.data).table_growing(current, desired, maximum),
            None => Ok(true),
        }
    }

    /// Fails when creating `instances`, `memories` and `tables` more
    /// objects would exceed the limiter's caps.
    pub(crate) fn check_counts(
        &mut self,
        instances: usize,
        memories: usize,
        tables: usize,
    ) -> anyhow::Result<()> {
        let (max_instances, max_memories, max_tables) = match &mut self.limiter {
            Some(limiter) => {
                let l = limiter(&mut self.data);
                (l.instances(), l.memories(), l.tables())
            }
            None => (
                crate::limits::DEFAULT_INSTANCE_LIMIT,
                crate::limits::DEFAULT_MEMORY_LIMIT,
                crate::limits::DEFAULT_TABLE_LIMIT,
            ),
        };
        let inner = &self.inner;
        if inner.instances.len() + instances > max_instances {
            anyhow::bail!("resource limit exceeded: instance count too high at {max_instances}");
        }
        if inner.memories.len() + memories > max_memories {
            anyhow::bail!("resource limit exceeded: memory count too high at {max_memories}");
        }
        if inner.tables.len() + tables > max_tables {
            anyhow::bail!("resource limit exceeded: table count too high at {max_tables}");
        }
        Ok(())
    }

    /// Sets the fuel left for wasm in this store (`Config::consume_fuel`).
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.check_fuel_enabled()?;
        let mut limits = self.inner.limits.get();
        limits.fuel = fuel;
        self.inner.limits.set(limits);
        Ok(())
    }

    /// The fuel left (`Config::consume_fuel`).
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.check_fuel_enabled()?;
        Ok(self.inner.limits.get().fuel)
    }

    fn check_fuel_enabled(&self) -> anyhow::Result<()> {
        if !self.inner.engine.config().consume_fuel {
            anyhow::bail!("fuel is not enabled in this store's engine (Config::consume_fuel)");
        }
        Ok(())
    }

    /// Interrupts wasm once the engine's epoch is `ticks` beyond its
    /// current value (`Config::epoch_interruption`). A new store's deadline
    /// is the epoch at its creation, so it must be set before wasm runs.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let mut limits = self.inner.limits.get();
        limits.epoch_deadline = self.inner.engine.epoch().saturating_add(ticks);
        self.inner.limits.set(limits);
    }

    /// Consumes the store and returns the host data.
    pub fn into_data(self) -> T {
        self.data
    }
}

/// Anything that gives shared access to a store: `&Store`, `&mut Store`,
/// [`Caller`](crate::Caller).
pub trait AsContext {
    /// The host data type of the store.
    type Data;
    /// The store.
    fn as_context(&self) -> &Store<Self::Data>;
}

/// Anything that gives exclusive access to a store.
pub trait AsContextMut: AsContext {
    /// The store, writable.
    fn as_context_mut(&mut self) -> &mut Store<Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> &Store<T> {
        self
    }
}
impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> &mut Store<T> {
        self
    }
}
impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> &Store<C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> &Store<C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> &mut Store<C::Data> {
        (**self).as_context_mut()
    }
}
