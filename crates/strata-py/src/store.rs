//! `Store` and `Caller`, and the one way Python reaches a store's state.
//!
//! A `strata::Store` is owned by a [`StoreCell`]. Python code never holds a
//! reference into it: every operation takes a [`Lease`], which hands out
//! `&mut Store` for the duration of one Rust-side step, during which no
//! Python code runs on purpose. The cell keeps a stack of *levels*: level 0
//! is the store itself; while wasm runs, each host function that wasm calls
//! pushes a level holding its `strata::Caller`, so Python code inside the
//! host function (through the `Caller` or the `Store` object alike) reaches
//! the store through the borrow the running call holds, as in wasmtime-py.
//! A level is *busy* while a lease or a wasm call uses it; touching a busy
//! level is an error, never an aliased `&mut`.
//!
//! Calls into wasm release the GIL. While wasm runs, the store belongs to
//! the thread running it: other threads get an error instead of the store
//! (executing code keeps per-thread stack bounds in it).

use crate::convert::Int;
use crate::error::wasmtime_error;
use crate::wasi::WasiConfig;
use crate::Engine;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;
use strata::{AsContextMut, StoreLimits, StoreLimitsBuilder};
use strata_wasi::WasiCtx;

/// The host data of every store the Python package creates.
pub(crate) struct HostData {
    /// The WASI context `Linker.define_wasi` functions use (empty until
    /// `Store.set_wasi`).
    pub wasi: WasiCtx,
    /// What `Store.set_limits` configured.
    pub limits: StoreLimits,
    /// The `data` given to `Store(...)`.
    pub user: Option<Py<PyAny>>,
    /// Python objects the store refers to by index: host function
    /// callables and `externref` payloads. Keeping them here (and not in
    /// closures) lets the garbage collector see them.
    pub objects: Vec<Py<PyAny>>,
    /// The cell that owns this store, for host functions.
    pub cell: Weak<StoreCell>,
}

pub(crate) type RStore = strata::Store<HostData>;
pub(crate) type RCaller = strata::Caller<'static, HostData>;

/// A store with empty host data and no cell: what `StoreCell` wraps, and
/// a scratch store for asking a linker what it defines.
pub(crate) fn bare_store(engine: &strata::Engine, user: Option<Py<PyAny>>) -> RStore {
    let data = HostData {
        wasi: WasiCtx::default(),
        limits: StoreLimitsBuilder::new().build(),
        user,
        objects: Vec::new(),
        cell: Weak::new(),
    };
    let mut store = strata::Store::new(engine, data);
    store.limiter(|data: &mut HostData| &mut data.limits);
    store
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Owner of one `strata::Store` and of the right to use it.
pub(crate) struct StoreCell {
    /// Identifies the store in the handles (`Func`, `Memory`, ...) Python
    /// holds, which check it before every use.
    pub id: u64,
    /// `None` once `Store.close` dropped it.
    store: UnsafeCell<Option<RStore>>,
    access: Mutex<Access>,
}

// SAFETY: the store is reached only through a `Lease`, which `access` grants
// to one holder at a time per level; deeper levels exist only while the
// thread recorded in `Access::thread` runs wasm, and other threads are
// refused then. The raw pointers inside `strata::Store` point into
// allocations the store owns; executing code keeps no thread-affine state
// in it between calls (stack bounds are reset when the outermost call
// returns), so handing it from one thread to another between calls is sound.
unsafe impl Send for StoreCell {}
// SAFETY: see `Send`: all shared access goes through the `access` mutex.
unsafe impl Sync for StoreCell {}

struct Access {
    /// Level 0 is the store; each later level is a host function's caller.
    levels: Vec<Level>,
    /// The thread running wasm in the store, while one does.
    thread: Option<ThreadId>,
    next_token: u64,
}

struct Level {
    /// `None` for the store itself.
    caller: Option<*mut RCaller>,
    busy: bool,
    /// Tells this level from a later one at the same depth.
    token: u64,
}

// SAFETY: the caller pointer is only dereferenced under the rules above.
unsafe impl Send for Level {}

impl StoreCell {
    pub fn new(engine: &strata::Engine, user: Option<Py<PyAny>>) -> Arc<StoreCell> {
        let store = bare_store(engine, user);
        let cell = Arc::new(StoreCell {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            store: UnsafeCell::new(Some(store)),
            access: Mutex::new(Access {
                levels: vec![Level {
                    caller: None,
                    busy: false,
                    token: 0,
                }],
                thread: None,
                next_token: 1,
            }),
        });
        let weak = Arc::downgrade(&cell);
        // SAFETY: nobody else can reach the cell yet.
        if let Some(store) = unsafe { &mut *cell.store.get() } {
            store.data_mut().cell = weak;
        }
        cell
    }

    fn access(&self) -> MutexGuard<'_, Access> {
        self.access.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the innermost level (or the level `caller` names, which must
    /// be the innermost) for one step.
    pub fn lease(self: &Arc<Self>, caller: Option<u64>) -> PyResult<Lease> {
        // The exception is made after the lock is released: making it runs
        // Python code, which could reach for this store.
        self.try_lease(caller).map_err(|refusal| match refusal {
            Refusal::OtherThread => {
                wasmtime_error("the store is in use by WebAssembly running on another thread")
            }
            Refusal::StaleCaller => PyValueError::new_err(
                "caller is no longer valid (its host function returned, or called into wasm)",
            ),
            Refusal::Busy => wasmtime_error(
                "the store is busy (used re-entrantly while an operation on it is under way)",
            ),
            Refusal::Closed => PyValueError::new_err("the store is closed"),
        })
    }

    fn try_lease(self: &Arc<Self>, caller: Option<u64>) -> Result<Lease, Refusal> {
        let mut access = self.access();
        let here = std::thread::current().id();
        if access.thread.is_some_and(|t| t != here) {
            return Err(Refusal::OtherThread);
        }
        let depth = access.levels.len() - 1;
        let top = &mut access.levels[depth];
        if caller.is_some_and(|token| top.token != token) {
            return Err(Refusal::StaleCaller);
        }
        if top.busy {
            return Err(Refusal::Busy);
        }
        let target = match top.caller {
            Some(caller) => Target::Caller(caller),
            // SAFETY: level 0 is idle, so nothing else uses the store.
            None => match unsafe { &mut *self.store.get() } {
                Some(store) => Target::Store(store),
                None => return Err(Refusal::Closed),
            },
        };
        top.busy = true;
        Ok(Lease {
            cell: self.clone(),
            depth,
            target,
            running: false,
        })
    }

    /// Publishes the caller of a host function as the innermost level until
    /// the returned guard is dropped.
    pub fn push_caller(self: &Arc<Self>, caller: *mut RCaller) -> CallerLevel {
        let mut access = self.access();
        let token = access.next_token;
        access.next_token += 1;
        access.levels.push(Level {
            caller: Some(caller),
            busy: false,
            token,
        });
        CallerLevel {
            cell: self.clone(),
            depth: access.levels.len() - 1,
            token,
        }
    }

    /// Whether the level a `Caller` object names is still there.
    pub fn caller_alive(&self, token: u64) -> bool {
        self.access().levels.iter().any(|l| l.token == token)
    }

    /// Runs `f` on the store if nothing uses it (for the garbage
    /// collector, which must not wait). `f` must not run Python code.
    fn with_idle_store<R>(&self, f: impl FnOnce(&mut RStore) -> R) -> Option<R> {
        let access = self.access.try_lock().ok()?;
        if access.levels.len() != 1 || access.levels[0].busy || access.thread.is_some() {
            return None;
        }
        // SAFETY: level 0 is idle and stays so while we hold `access`.
        let store = unsafe { &mut *self.store.get() };
        Some(f(store.as_mut()?))
    }

    /// Takes the store out of the cell (for `Store.close`), unless it is
    /// in use.
    fn take(&self) -> Result<Option<RStore>, Refusal> {
        let access = self.access();
        if access.levels.len() != 1 || access.levels[0].busy || access.thread.is_some() {
            return Err(Refusal::Busy);
        }
        // SAFETY: level 0 is idle and stays so while we hold `access`.
        Ok(unsafe { &mut *self.store.get() }.take())
    }
}

/// Why a lease was refused.
enum Refusal {
    OtherThread,
    StaleCaller,
    Busy,
    Closed,
}

/// What a level gives access to.
#[derive(Clone, Copy)]
enum Target {
    Store(*mut RStore),
    /// A host function's caller; the store is reached through it.
    Caller(*mut RCaller),
}

/// Exclusive use of one level of a store.
pub(crate) struct Lease {
    cell: Arc<StoreCell>,
    depth: usize,
    target: Target,
    running: bool,
}

impl Lease {
    pub fn store(&mut self) -> &mut RStore {
        match self.target {
            // SAFETY: the level is marked busy for us until the lease drops,
            // and the store outlives the lease (`close` refuses busy stores).
            Target::Store(store) => unsafe { &mut *store },
            // SAFETY: as above; the caller outlives its level (`CallerLevel`
            // pops it before the host function returns).
            Target::Caller(caller) => unsafe { (*caller).as_context_mut() },
        }
    }

    /// The host function's caller, when this level is one.
    pub fn caller(&mut self) -> Option<&mut RCaller> {
        match self.target {
            // SAFETY: as for `store`.
            Target::Caller(caller) => Some(unsafe { &mut *caller }),
            Target::Store(_) => None,
        }
    }

    /// Runs `f`, which may execute wasm, with the GIL released. The store is
    /// bound to this thread meanwhile.
    pub fn run<R: Send>(&mut self, py: Python<'_>, f: impl FnOnce(&mut RStore) -> R + Send) -> R {
        {
            let mut access = self.cell.access();
            if access.thread.is_none() {
                access.thread = Some(std::thread::current().id());
                self.running = true;
            }
        }
        let ptr = SendPtr(self.store());
        let result = py.detach(move || {
            let ptr = ptr;
            // SAFETY: the level is busy for this lease; only this thread
            // (and host functions it calls, through their own levels) use
            // the store until `detach` returns.
            f(unsafe { &mut *ptr.0 })
        });
        if self.running {
            self.cell.access().thread = None;
            self.running = false;
        }
        result
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut access = self.cell.access();
        if self.running {
            access.thread = None;
        }
        if let Some(level) = access.levels.get_mut(self.depth) {
            level.busy = false;
        }
    }
}

struct SendPtr(*mut RStore);
// SAFETY: see `Lease::run`.
unsafe impl Send for SendPtr {}

/// A host function's level; dropping it withdraws the caller.
pub(crate) struct CallerLevel {
    cell: Arc<StoreCell>,
    depth: usize,
    pub token: u64,
}

impl Drop for CallerLevel {
    fn drop(&mut self) {
        let mut access = self.cell.access();
        if access.levels.len() == self.depth + 1 && access.levels[self.depth].token == self.token {
            access.levels.pop();
        }
    }
}

/// A store to operate on, as given by Python: a `Store`, or a `Caller`
/// while its host function runs.
pub(crate) struct StoreRef {
    pub cell: Arc<StoreCell>,
    caller: Option<u64>,
}

impl StoreRef {
    pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<StoreRef> {
        if let Ok(store) = obj.cast::<Store>() {
            return Ok(StoreRef {
                cell: store.get().cell.clone(),
                caller: None,
            });
        }
        if let Ok(caller) = obj.cast::<Caller>() {
            let caller = caller.get();
            return Ok(StoreRef {
                cell: caller.cell.clone(),
                caller: Some(caller.token),
            });
        }
        Err(PyTypeError::new_err(format!(
            "expected a Store or a Caller, got {}",
            obj.get_type().name()?
        )))
    }

    pub fn id(&self) -> u64 {
        self.cell.id
    }

    pub fn lease(&self) -> PyResult<Lease> {
        if let Some(token) = self.caller {
            if !self.cell.caller_alive(token) {
                return Err(PyValueError::new_err("caller is no longer valid"));
            }
        }
        self.cell.lease(self.caller)
    }

    /// Fails unless a handle of store `id` may be used with this store.
    pub fn check(&self, id: u64, what: &str) -> PyResult<()> {
        if id != self.cell.id {
            return Err(wasmtime_error(format!(
                "{what} belongs to another store than the one given"
            )));
        }
        Ok(())
    }
}

/// A collection of WebAssembly state: instances, functions, memories,
/// tables and globals, plus host data. Almost every operation takes the
/// store (or a `Caller`) it works in.
#[pyclass(frozen, weakref, module = "strata._strata")]
pub struct Store {
    pub(crate) cell: Arc<StoreCell>,
    engine: Py<Engine>,
}

#[pymethods]
impl Store {
    /// Creates a store for modules of `engine` (a new default engine when
    /// `None`), holding the host value `data`.
    #[new]
    #[pyo3(signature = (engine=None, data=None))]
    fn new(
        py: Python<'_>,
        engine: Option<&Bound<'_, PyAny>>,
        data: Option<Py<PyAny>>,
    ) -> PyResult<Store> {
        let engine: Py<Engine> = match engine {
            None => Py::new(py, Engine::default_engine())?,
            Some(e) => e
                .cast::<Engine>()
                .map_err(|_| PyTypeError::new_err("expected an Engine"))?
                .clone()
                .unbind(),
        };
        let cell = StoreCell::new(&engine.get().engine, data);
        Ok(Store { cell, engine })
    }

    /// The engine this store was created with.
    #[getter]
    fn engine(&self, py: Python<'_>) -> Py<Engine> {
        self.engine.clone_ref(py)
    }

    /// The `data` given to the constructor.
    fn data(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut lease = self.cell.lease(None)?;
        Ok(lease.store().data().user.as_ref().map(|d| d.clone_ref(py)))
    }

    /// Frees the store and everything in it now rather than when it is
    /// garbage-collected; using it afterwards raises `ValueError`. Raises
    /// `WasmtimeError` while the store is in use (e.g. from a host
    /// function). Closing twice does nothing.
    fn close(&self) -> PyResult<()> {
        match self.cell.take() {
            // Dropped here, after the lock: dropping runs Python code.
            Ok(store) => {
                drop(store);
                Ok(())
            }
            Err(_) => Err(wasmtime_error("cannot close a store while it is in use")),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the store at the end of a `with` block.
    fn __exit__(
        &self,
        _ty: Option<&Bound<'_, PyAny>>,
        _value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.close()
    }

    /// Accepted for compatibility; Strata keeps `externref` values until the
    /// store is dropped, so there is nothing to collect yet.
    fn gc(&self) {}

    /// Sets the fuel left for wasm in this store. Raises `WasmtimeError`
    /// unless the engine's `Config.consume_fuel` is on.
    fn set_fuel(&self, fuel: Int<u64>) -> PyResult<()> {
        let mut lease = self.cell.lease(None)?;
        lease
            .store()
            .set_fuel(fuel.0)
            .map_err(|e| wasmtime_error(format!("{e:#}")))
    }

    /// The fuel left in this store. Raises `WasmtimeError` unless the
    /// engine's `Config.consume_fuel` is on.
    fn get_fuel(&self) -> PyResult<u64> {
        let mut lease = self.cell.lease(None)?;
        lease
            .store()
            .get_fuel()
            .map_err(|e| wasmtime_error(format!("{e:#}")))
    }

    /// Makes wasm trap with `TrapCode.INTERRUPT` once the engine's epoch is
    /// `ticks_after_current` beyond its current value (with
    /// `Config.epoch_interruption`).
    fn set_epoch_deadline(&self, ticks_after_current: Int<u64>) -> PyResult<()> {
        let mut lease = self.cell.lease(None)?;
        lease.store().set_epoch_deadline(ticks_after_current.0);
        Ok(())
    }

    /// Limits what the store's wasm may allocate: `memory_size` in bytes
    /// per linear memory, `table_elements` per table, and the number of
    /// `instances`, `tables` and `memories`. A negative value leaves that
    /// limit unset. Each call replaces all earlier limits.
    #[pyo3(signature = (memory_size=Int(-1), table_elements=Int(-1), instances=Int(-1), tables=Int(-1), memories=Int(-1)))]
    #[pyo3(
        text_signature = "(self, memory_size=-1, table_elements=-1, instances=-1, tables=-1, memories=-1)"
    )]
    fn set_limits(
        &self,
        memory_size: Int<i64>,
        table_elements: Int<i64>,
        instances: Int<i64>,
        tables: Int<i64>,
        memories: Int<i64>,
    ) -> PyResult<()> {
        let mut builder = StoreLimitsBuilder::new();
        if let Ok(v) = usize::try_from(memory_size.0) {
            builder = builder.memory_size(v);
        }
        if let Ok(v) = usize::try_from(table_elements.0) {
            builder = builder.table_elements(v);
        }
        if let Ok(v) = usize::try_from(instances.0) {
            builder = builder.instances(v);
        }
        if let Ok(v) = usize::try_from(tables.0) {
            builder = builder.tables(v);
        }
        if let Ok(v) = usize::try_from(memories.0) {
            builder = builder.memories(v);
        }
        let limits = builder.build();
        let mut lease = self.cell.lease(None)?;
        lease.store().data_mut().limits = limits;
        Ok(())
    }

    /// Gives the store's WASI functions (see `Linker.define_wasi`) the
    /// arguments, environment, standard streams and directories of `wasi`.
    fn set_wasi(&self, wasi: &Bound<'_, WasiConfig>) -> PyResult<()> {
        let ctx = wasi.borrow().build()?;
        let mut lease = self.cell.lease(None)?;
        lease.store().data_mut().wasi = ctx;
        Ok(())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.engine)?;
        self.cell
            .with_idle_store(|store| {
                let data = store.data();
                data.user
                    .iter()
                    .chain(&data.objects)
                    .try_for_each(|obj| visit.call(obj))
            })
            .unwrap_or(Ok(()))
    }

    fn __clear__(&self) {
        // Dropping the objects may run Python code, which may use the store:
        // take them out first.
        let taken = self.cell.with_idle_store(|store| {
            let data = store.data_mut();
            (data.user.take(), std::mem::take(&mut data.objects))
        });
        drop(taken);
    }
}

/// What a host function defined with `access_caller=True` receives first:
/// the calling instance's exports and its store. Usable wherever a store is
/// expected, but only while the host function runs.
#[pyclass(frozen, module = "strata._strata")]
pub struct Caller {
    pub(crate) cell: Arc<StoreCell>,
    pub(crate) token: u64,
}

#[pymethods]
impl Caller {
    /// The export `name` of the calling instance; `KeyError` when there is
    /// none.
    fn __getitem__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        self.get(py, name)?.ok_or_else(|| {
            pyo3::exceptions::PyKeyError::new_err(format!("failed to find export {name}"))
        })
    }

    /// The export `name` of the calling instance, or `None` when there is
    /// none or the host function has returned.
    fn get(&self, py: Python<'_>, name: &str) -> PyResult<Option<Py<PyAny>>> {
        if !self.cell.caller_alive(self.token) {
            return Ok(None);
        }
        let mut lease = self.cell.lease(Some(self.token))?;
        let Some(export) = lease.caller().and_then(|c| c.get_export(name)) else {
            return Ok(None);
        };
        let id = self.cell.id;
        crate::convert::extern_to_py(py, export, id, lease.store()).map(Some)
    }
}
