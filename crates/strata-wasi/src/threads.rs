//! wasi-threads: the import `wasi::thread-spawn`, `(param i32) (result
//! i32)`, with which programs built for `wasm32-wasip1-threads` (wasi-libc's
//! `pthread_create`, Rust's `std::thread::spawn`) start threads.
//!
//! Each spawned thread is a new host thread running a new instance of the
//! same module in a store of its own; the instances share the module's
//! imported shared memory (one linker defines it for all of them) and,
//! through [`add_to_linker_shared`](crate::add_to_linker_shared), one WASI
//! context. The thread calls the module's export `wasi_thread_start(tid,
//! start_arg)`. As in wasmtime's `wasmtime-wasi-threads`:
//!
//! - thread ids are positive, unique and below 2^29; `thread-spawn`
//!   returns a negative value (-1) when no thread can be started (the
//!   limit on running threads, ids exhausted, the host refused);
//! - when `wasi_thread_start` fails in any thread, with `proc_exit` or a
//!   trap, the whole process ends: the embedder's error handler
//!   ([`WasiThreadsCtx::on_error`]) reports it and exits, by default with
//!   the `proc_exit` status or, for any other error, 1 after printing it.
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use strata::{Config, Engine, Linker, Module, Store};
//! use strata_wasi::threads::WasiThreadsCtx;
//! use strata_wasi::{SharedWasiCtx, WasiCtx};
//!
//! #[derive(Clone)]
//! struct Host {
//!     wasi: SharedWasiCtx,
//!     threads: Option<Arc<WasiThreadsCtx<Host>>>,
//! }
//!
//! # fn main() -> anyhow::Result<()> {
//! let engine = Engine::new(Config::new().wasm_threads(true))?;
//! let module = Module::from_file(&engine, "threads.wasm")?;
//! let mut linker = Linker::new(&engine);
//! strata_wasi::add_to_linker_shared(&mut linker, |h: &Host| &h.wasi)?;
//! strata_wasi::threads::add_to_linker(&mut linker, |h: &Host| h.threads.as_ref())?;
//! // ... define the module's shared memory import in `linker` ...
//! let threads = Arc::new(WasiThreadsCtx::new(linker.instantiate_pre(&module)?)?);
//! let wasi = WasiCtx::builder().inherit_stdio().build();
//! let host = Host { wasi: Arc::new(Mutex::new(wasi)), threads: Some(threads.clone()) };
//! let mut store = Store::new(&engine, host);
//! let instance = threads.instance_pre().instantiate(&mut store)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! # Ok(())
//! # }
//! ```

use crate::I32Exit;
use anyhow::{bail, Result};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use strata::{Caller, ExternType, InstancePre, Linker, Store, ValType};

/// The export each spawned thread runs.
pub const ENTRY_POINT: &str = "wasi_thread_start";

/// The most threads that may run at once besides the main thread, unless
/// [`WasiThreadsCtx::max_threads`] says otherwise.
pub const DEFAULT_MAX_THREADS: usize = 256;

/// The largest thread id; the wasi-threads ABI keeps ids below 2^29 so
/// that wasi-libc can store them in the upper bits of its locks.
const MAX_TID: u32 = 0x1FFF_FFFF;

/// The host stack of a spawned thread. Compiled code never runs past it:
/// the wasm stack limit is clamped to the stack the thread really has.
const THREAD_STACK_SIZE: usize = 8 << 20;

/// Sets up the store of a new thread (limits, fuel, deadlines).
type Configure<T> = dyn Fn(&mut Store<T>) -> Result<()> + Send + Sync;
/// Reports a spawned thread's failure; the process ends after it.
type OnError = dyn Fn(anyhow::Error) + Send + Sync;

/// What `wasi::thread-spawn` needs to start threads: the module with its
/// imports resolved, how to set up each new store, and the limits.
pub struct WasiThreadsCtx<T> {
    pre: InstancePre<T>,
    configure: Arc<Configure<T>>,
    on_error: Arc<OnError>,
    next_tid: AtomicU32,
    /// Spawned threads that have not finished yet.
    running: Arc<AtomicUsize>,
    max_threads: usize,
}

impl<T> std::fmt::Debug for WasiThreadsCtx<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiThreadsCtx")
            .field("running", &self.running.load(Ordering::Relaxed))
            .field("max_threads", &self.max_threads)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> WasiThreadsCtx<T> {
    /// A context that spawns instances of `pre`'s module. The module must
    /// export `wasi_thread_start: (i32, i32) -> ()`.
    pub fn new(pre: InstancePre<T>) -> Result<Self> {
        let entry = pre.module().exports().find(|e| e.name() == ENTRY_POINT);
        match entry.map(|e| e.ty()) {
            Some(ExternType::Func(ty))
                if ty.params() == [ValType::I32, ValType::I32] && ty.results().is_empty() => {}
            Some(ty) => bail!(
                "wasi-threads: the export `{ENTRY_POINT}` must be a function of type \
                 (i32, i32) -> (), not {ty}"
            ),
            None => bail!(
                "wasi-threads: the module does not export `{ENTRY_POINT}`, the function \
                 each spawned thread runs"
            ),
        }
        Ok(WasiThreadsCtx {
            pre,
            configure: Arc::new(|_| Ok(())),
            on_error: Arc::new(exit_on_error),
            next_tid: AtomicU32::new(1),
            running: Arc::new(AtomicUsize::new(0)),
            max_threads: DEFAULT_MAX_THREADS,
        })
    }

    /// Lets at most `n` spawned threads run at once; `thread-spawn` fails
    /// (returns -1 to the guest) beyond that instead of exhausting the
    /// host.
    pub fn max_threads(mut self, n: usize) -> Self {
        self.max_threads = n;
        self
    }

    /// Sets up each new thread's store before its instance is created (a
    /// resource limiter, fuel, an epoch deadline).
    pub fn configure_store(
        mut self,
        f: impl Fn(&mut Store<T>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.configure = Arc::new(f);
        self
    }

    /// Reports the error that ended a spawned thread (an [`I32Exit`] from
    /// `proc_exit`, a trap, a failed instantiation). The handler should
    /// end the process with the status it chooses; if it returns, the
    /// process exits with status 1.
    pub fn on_error(mut self, f: impl Fn(anyhow::Error) + Send + Sync + 'static) -> Self {
        self.on_error = Arc::new(f);
        self
    }

    /// The module with its imports, for instantiating the main thread's
    /// instance with the same definitions.
    pub fn instance_pre(&self) -> &InstancePre<T> {
        &self.pre
    }

    /// Spawned threads that are still running.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Starts a thread that runs `wasi_thread_start(tid, start_arg)` in a
    /// new store holding `host`, and returns its id.
    pub fn spawn(&self, host: T, start_arg: i32) -> Result<i32> {
        // Reserve a place under the limit first, so that racing spawns
        // cannot overshoot it.
        let reserved = self
            .running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_threads).then_some(n + 1)
            });
        if reserved.is_err() {
            bail!(
                "wasi-threads: {} threads are already running",
                self.max_threads
            );
        }
        let slot = Slot(Arc::clone(&self.running));
        let tid = self
            .next_tid
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                (t <= MAX_TID).then_some(t + 1)
            })
            .map_err(|_| anyhow::anyhow!("wasi-threads: thread ids are exhausted"))?;
        // Below 2^29, so positive as an i32.
        let tid = tid as i32;
        let pre = self.pre.clone();
        let configure = Arc::clone(&self.configure);
        let on_error = Arc::clone(&self.on_error);
        std::thread::Builder::new()
            .name(format!("wasi-thread-{tid}"))
            .stack_size(THREAD_STACK_SIZE)
            .spawn(move || {
                let _slot = slot;
                let run = || -> Result<()> {
                    let mut store = Store::new(pre.module().engine(), host);
                    configure(&mut store)?;
                    let instance = pre.instantiate(&mut store)?;
                    let entry =
                        instance.get_typed_func::<(i32, i32), ()>(&mut store, ENTRY_POINT)?;
                    entry.call(&mut store, (tid, start_arg))
                };
                // A panic is a bug in Strata, already printed by the panic
                // hook; it ends the process like any failure of a thread.
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        on_error(e);
                        std::process::exit(1);
                    }
                    Err(_) => std::process::exit(1),
                }
            })?;
        Ok(tid)
    }
}

/// Gives a place under the thread limit back when its thread ends (or
/// never starts).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The default error handler: `proc_exit`'s status, or the error printed
/// and status 1 (as `wasmtime-wasi-threads` does).
fn exit_on_error(e: anyhow::Error) {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        std::process::exit(exit.0);
    }
    eprintln!("Error: {e:?}");
    std::process::exit(1);
}

/// Defines `wasi::thread-spawn` in `linker`; `get` finds the
/// [`WasiThreadsCtx`] in the calling store's host data (`None`: every
/// spawn fails). The new thread's store gets a clone of the caller's host
/// data.
pub fn add_to_linker<T: Clone + Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&T) -> Option<&Arc<WasiThreadsCtx<T>>>,
) -> Result<()> {
    linker.func_wrap(
        "wasi",
        "thread-spawn",
        move |caller: Caller<'_, T>, start_arg: i32| -> Result<i32> {
            let host = caller.data();
            let Some(ctx) = get(host) else {
                return Ok(-1);
            };
            // The guest only learns that no thread started; wasi-libc turns
            // that into `EAGAIN` from `pthread_create`.
            Ok(ctx.spawn(host.clone(), start_arg).unwrap_or(-1))
        },
    )?;
    Ok(())
}
