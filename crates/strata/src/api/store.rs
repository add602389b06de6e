//! The store: owner of every runtime object (functions, memories, tables,
//! globals, instances, host references) and of the host's data `T`.
//!
//! Handles such as [`Func`](crate::Func) or [`Memory`](crate::Memory) are
//! indices into one store's vectors, tagged with the store's id so a handle
//! used with the wrong store is caught rather than answered with another
//! object (see [`Store`]).

use super::func::HostFunc;
use super::limits::ResourceLimiter;
use crate::runtime::memory::LinearMemory;
use crate::runtime::shared::SharedMemoryInner;
use crate::runtime::store::{MemoryEntity, MemoryStorage, StoreInner, StoreOps, TableEntity};
use crate::types::{MemoryType, TableType};
use crate::Engine;
use std::sync::Arc;

/// Holds all WebAssembly state of one embedding context plus the host's data.
///
/// # Handles from another store
///
/// Every handle ([`Func`](crate::Func), [`TypedFunc`](crate::TypedFunc),
/// [`Memory`](crate::Memory), [`Table`](crate::Table),
/// [`Global`](crate::Global), [`Extern`](crate::Extern),
/// [`Instance`](crate::Instance), [`ExternRef`](crate::ExternRef)) belongs
/// to the store that made it, and every method that is given a store
/// checks that it is that one. Using it with another store is a bug in the
/// embedder, reported as wasmtime does: a method that returns a `Result`
/// fails with the error "object used with the wrong store", and a method
/// that cannot fail (`Func::ty`, `Memory::data`, `Global::get`,
/// `Instance::get_export`, ...) panics with that message. The same holds
/// for a function reference of another store in a [`Val`](crate::Val).
///
/// # Threads
///
/// A `Store<T>` is [`Send`] when `T` is: it may move to another thread
/// between calls, with everything in it. It is not `Sync`; one thread uses
/// it at a time, as its `&mut` methods require anyway.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host_funcs: Vec<HostFunc<T>>,
    limiter: Option<Limiter<T>>,
    /// What happens when the epoch deadline passes (`api/epoch.rs`).
    pub(crate) epoch: super::epoch::EpochState<T>,
    data: T,
}

// `Store<T>` is `Send` whenever `T` is (see "Threads" above).
// Compiling this is the check (the result must be `Send`); nothing calls it.
fn _store_is_send<T: Send>(store: Store<T>) -> impl Send {
    store
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

impl<T> Store<T> {
    /// Creates a store for modules of `engine`, holding the host's `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner::new(engine),
            host_funcs: Vec::new(),
            limiter: None,
            epoch: super::epoch::EpochState::default(),
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
        if let Some(shared) = entity.mem.shared() {
            // A shared memory belongs to the engine, not to this store, so
            // the store's limiter does not decide its growth (as in
            // wasmtime); its own lock serialises concurrent growers.
            return Ok(shared.grow(delta));
        }
        let current = entity.mem.len();
        let page = entity.ty.page_size();
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

    /// Creates a memory of type `ty` if the limiter allows its minimum size,
    /// starting with `image` mapped copy-on-write if given; returns its
    /// store index.
    pub(crate) fn new_memory(
        &mut self,
        ty: MemoryType,
        image: Option<&crate::runtime::memory_image::MemoryImage>,
    ) -> anyhow::Result<u32> {
        let page = ty.page_size();
        let bytes = |pages: u64| usize::try_from(pages.saturating_mul(page)).unwrap_or(usize::MAX);
        let maximum = ty.maximum().map(bytes);
        if !self.memory_growing(0, bytes(ty.minimum()), maximum)? {
            anyhow::bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum()
            );
        }
        let mem = if ty.is_shared() {
            // A module's own shared memory is created as a shared memory
            // of the engine (`Instance::get_shared_memory` hands it out).
            let shared = SharedMemoryInner::new(ty).map_err(anyhow::Error::msg)?;
            MemoryStorage::Shared(Arc::new(shared))
        } else {
            MemoryStorage::Owned(LinearMemory::new(&ty, image).map_err(anyhow::Error::msg)?)
        };
        self.inner.memories.push(MemoryEntity { ty, mem });
        Ok(self.inner.memories.len() as u32 - 1)
    }

    /// The store index of shared memory `shared`, adding it to the store
    /// the first time one of its instances imports it (the store then
    /// holds a reference, so the memory lives as long as the store).
    pub(crate) fn import_shared_memory(&mut self, shared: &crate::SharedMemory) -> u32 {
        let existing = self.inner.memories.iter().position(|m| {
            m.mem
                .shared()
                .is_some_and(|s| Arc::ptr_eq(s, &shared.inner))
        });
        if let Some(i) = existing {
            return i as u32;
        }
        self.inner.memories.push(MemoryEntity {
            ty: shared.inner.ty,
            mem: MemoryStorage::Shared(shared.inner.clone()),
        });
        self.inner.memories.len() as u32 - 1
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
                super::limits::DEFAULT_INSTANCE_LIMIT,
                super::limits::DEFAULT_MEMORY_LIMIT,
                super::limits::DEFAULT_TABLE_LIMIT,
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

impl<T> StoreOps for Store<T> {
    fn inner(&mut self) -> &mut StoreInner {
        &mut self.inner
    }
    fn grow_memory(&mut self, memory: u32, delta: u64) -> anyhow::Result<Option<u64>> {
        Store::grow_memory(self, memory, delta)
    }
    fn grow_table(&mut self, table: u32, delta: u64, init: u64) -> anyhow::Result<Option<u64>> {
        Store::grow_table(self, table, delta, init)
    }
    fn call_host(&mut self, host: u32, raw: &mut [u64], caller: Option<u32>) -> anyhow::Result<()> {
        let host = Arc::clone(&self.host_funcs[host as usize]);
        // The handles a host function gets or makes are rooted for the
        // call (`api/gc_roots.rs`); its results are in `raw` by then.
        let depth = self.inner.host_roots.depth();
        let result = host(
            super::func::Caller {
                store: self,
                instance: caller,
            },
            raw,
        );
        self.inner.host_roots.release_to(depth);
        result
    }
    fn call(&mut self, func: u32, raw: &mut [u64]) -> anyhow::Result<()> {
        crate::tier::invoke(self, func, raw)
    }
    fn epoch_deadline_reached(
        &mut self,
        stack: &dyn Fn(&StoreInner) -> crate::WasmBacktrace,
    ) -> anyhow::Result<()> {
        super::epoch::deadline_reached(self, stack)
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
