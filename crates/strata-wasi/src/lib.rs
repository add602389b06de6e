//! WASI preview1 (`wasi_snapshot_preview1`) and its predecessor
//! `wasi_unstable` (preview0) for Strata.
//!
//! A [`WasiCtx`] holds what a guest may reach: its arguments, environment
//! variables, standard streams, pre-opened directories and sockets. Every
//! path a guest names is resolved by `cap-std` inside one of those
//! directories, so `..`, absolute paths and symlinks cannot lead outside
//! them.
//!
//! ```no_run
//! use strata::{Engine, Linker, Module, Store};
//! use strata_wasi::{I32Exit, WasiCtx};
//!
//! # fn main() -> anyhow::Result<()> {
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! let mut linker = Linker::new(&engine);
//! strata_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx)?;
//! let wasi = WasiCtx::builder().arg("hello.wasm").inherit_stdio().build();
//! let mut store = Store::new(&engine, wasi);
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//! if let Err(e) = start.call(&mut store, ()) {
//!     match e.downcast_ref::<I32Exit>() {
//!         Some(exit) => std::process::exit(exit.0),
//!         None => return Err(e),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Each function's status is listed in `docs/wasi.md` at the root of the
//! repository.

#![warn(missing_docs)]
// Each host function takes the parameters of its WASI signature.
#![allow(clippy::too_many_arguments)]

mod clock;
mod ctx;
mod env;
mod fd;
mod mem;
mod path;
mod poll;
mod sock;
pub mod threads;
mod types;

pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use types::{rights, Errno};

use mem::Mem;
use strata::{Caller, Extern, Linker};
use types::{Flavor, WasiResult};

/// The guest called `proc_exit` with this status. Returned as the error of
/// the wasm call that exited; embedders turn it into their exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exited with i32 exit status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// Gets the [`WasiCtx`] out of a store's host data.
pub type GetCtx<T> = fn(&mut T) -> &mut WasiCtx;

/// A [`WasiCtx`] that several threads use at once (wasi-threads): every
/// thread's store holds a clone of the same `Arc`, so descriptors opened by
/// one thread are seen by all.
pub type SharedWasiCtx = std::sync::Arc<std::sync::Mutex<WasiCtx>>;

/// Gets the [`SharedWasiCtx`] out of a store's host data.
pub type GetSharedCtx<T> = fn(&T) -> &SharedWasiCtx;

/// How a host function reaches the context: owned by the store, or shared
/// between the stores of several threads.
enum Access<T> {
    Owned(GetCtx<T>),
    Shared(GetSharedCtx<T>),
}

// Not derived: that would require `T: Copy`.
impl<T> Clone for Access<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Access<T> {}

/// The calling instance's linear memory, given to `f`.
///
/// A caller that exports no memory named `memory` cannot pass WASI a
/// single buffer, so the call fails (as in wasmtime) rather than answer
/// every pointer with `EFAULT` and lose the program's output silently.
fn with_memory<T, R>(
    caller: &mut Caller<'_, T>,
    (module, name): (&str, &str),
    f: impl FnOnce(&mut Mem<'_>) -> R,
) -> anyhow::Result<R> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(f(&mut Mem::new(memory.data_mut(&mut *caller)))),
        // A shared memory (wasi-threads) is reached through its cells, since
        // other threads may write it during the call.
        Some(Extern::SharedMemory(memory)) => Ok(f(&mut Mem::shared(memory.data()))),
        _ => anyhow::bail!(
            "missing required memory export: `{module}::{name}` reaches the calling module's \
             linear memory through its export named `memory`, and the module has none"
        ),
    }
}

/// Runs WASI function `name` of `module`: gives `f` the context and the
/// caller's exported `memory` at once, and turns its result into the errno
/// the guest sees.
///
/// An owned context is moved out of the store for the call (and back
/// after), because the memory borrows the store mutably; a WASI call never
/// re-enters wasm, so nothing can observe the empty context meanwhile. A
/// shared context is locked for the call, unless `needs_ctx` says the call
/// reaches no descriptor (clocks, randomness, a `poll_oneoff` that only
/// sleeps): those run against an empty context, so that one thread's sleep
/// never holds up another thread's I/O.
fn dispatch<T>(
    caller: &mut Caller<'_, T>,
    access: Access<T>,
    name: (&str, &str),
    needs_ctx: impl FnOnce(&Mem<'_>) -> bool,
    f: impl FnOnce(&mut WasiCtx, &mut Mem<'_>) -> WasiResult,
) -> anyhow::Result<i32> {
    let result = match access {
        Access::Owned(get) => {
            let mut ctx = std::mem::take(get(caller.data_mut()));
            let result = with_memory(caller, name, |mem| f(&mut ctx, mem));
            *get(caller.data_mut()) = ctx;
            result?
        }
        Access::Shared(get) => {
            let shared = std::sync::Arc::clone(get(caller.data()));
            with_memory(caller, name, |mem| {
                if needs_ctx(mem) {
                    // A poisoned lock only means another thread panicked in
                    // the middle of a call; the table itself stays usable.
                    let mut ctx = shared.lock().unwrap_or_else(|e| e.into_inner());
                    f(&mut ctx, mem)
                } else {
                    f(&mut WasiCtx::default(), mem)
                }
            })?
        }
    };
    Ok(match result {
        Ok(()) => 0,
        Err(errno) => i32::from(errno.0),
    })
}

macro_rules! define {
    ($linker:ident, $module:expr, $flavor:expr, $access:ident, $needs:expr;
     $($name:ident => $imp:path [$($arg:ident: $ty:ty),*];)*) => {$(
        $linker.func_wrap(
            $module,
            stringify!($name),
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> anyhow::Result<i32> {
                let name = ($module, stringify!($name));
                dispatch(&mut caller, $access, name, $needs, |ctx, mem| {
                    $imp(ctx, mem, $flavor, $($arg),*)
                })
            },
        )?;
    )*};
}

/// Defines every function of `wasi_snapshot_preview1` and of
/// `wasi_unstable` in `linker`; `get` finds the [`WasiCtx`] in the store's
/// host data. `proc_exit` ends the running call with an [`I32Exit`] error
/// (statuses 0 to 125; a larger one is an error that is not an
/// [`I32Exit`], as in wasmtime).
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> anyhow::Result<()> {
    add_module(
        linker,
        "wasi_snapshot_preview1",
        Flavor::Preview1,
        Access::Owned(get),
    )?;
    add_module(
        linker,
        "wasi_unstable",
        Flavor::Preview0,
        Access::Owned(get),
    )?;
    Ok(())
}

/// [`add_to_linker`] for a context that the stores of several threads
/// share (wasi-threads, see [`threads`]): each call locks it for its
/// duration, except the calls that reach no descriptor.
pub fn add_to_linker_shared<T: 'static>(
    linker: &mut Linker<T>,
    get: GetSharedCtx<T>,
) -> anyhow::Result<()> {
    add_module(
        linker,
        "wasi_snapshot_preview1",
        Flavor::Preview1,
        Access::Shared(get),
    )?;
    add_module(
        linker,
        "wasi_unstable",
        Flavor::Preview0,
        Access::Shared(get),
    )?;
    Ok(())
}

fn add_module<T: 'static>(
    linker: &mut Linker<T>,
    module: &'static str,
    flavor: Flavor,
    access: Access<T>,
) -> anyhow::Result<()> {
    // The calls that reach no descriptor and so never lock a shared
    // context.
    define! { linker, module, flavor, access, |_: &Mem<'_>| false;
        clock_res_get => clock::clock_res_get[id: u32, out: u32];
        clock_time_get => clock::clock_time_get[id: u32, precision: u64, out: u32];
        random_get => env::random_get[buf: u32, len: u32];
        sched_yield => env::sched_yield[];
        proc_raise => env::proc_raise[sig: u32];
    }
    define! { linker, module, flavor, access, |_: &Mem<'_>| true;
        args_get => env::args_get[argv: u32, buf: u32];
        args_sizes_get => env::args_sizes_get[argc: u32, size: u32];
        environ_get => env::environ_get[environ: u32, buf: u32];
        environ_sizes_get => env::environ_sizes_get[count: u32, size: u32];
        fd_advise => fd::fd_advise[fd: u32, offset: u64, len: u64, advice: u32];
        fd_allocate => fd::fd_allocate[fd: u32, offset: u64, len: u64];
        fd_close => fd::fd_close[fd: u32];
        fd_datasync => fd::fd_datasync[fd: u32];
        fd_fdstat_get => fd::fd_fdstat_get[fd: u32, out: u32];
        fd_fdstat_set_flags => fd::fd_fdstat_set_flags[fd: u32, flags: u32];
        fd_fdstat_set_rights => fd::fd_fdstat_set_rights[fd: u32, base: u64, inheriting: u64];
        fd_filestat_get => fd::fd_filestat_get[fd: u32, out: u32];
        fd_filestat_set_size => fd::fd_filestat_set_size[fd: u32, size: u64];
        fd_filestat_set_times => fd::fd_filestat_set_times[fd: u32, atim: u64, mtim: u64, fst: u32];
        fd_pread => fd::fd_pread[fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32];
        fd_prestat_get => fd::fd_prestat_get[fd: u32, out: u32];
        fd_prestat_dir_name => fd::fd_prestat_dir_name[fd: u32, path: u32, path_len: u32];
        fd_pwrite => fd::fd_pwrite[fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32];
        fd_read => fd::fd_read[fd: u32, iovs: u32, iovs_len: u32, out: u32];
        fd_readdir => fd::fd_readdir[fd: u32, buf: u32, buf_len: u32, cookie: u64, out: u32];
        fd_renumber => fd::fd_renumber[fd: u32, to: u32];
        fd_seek => fd::fd_seek[fd: u32, offset: i64, whence: u32, out: u32];
        fd_sync => fd::fd_sync[fd: u32];
        fd_tell => fd::fd_tell[fd: u32, out: u32];
        fd_write => fd::fd_write[fd: u32, iovs: u32, iovs_len: u32, out: u32];
        path_create_directory => path::path_create_directory[fd: u32, p: u32, p_len: u32];
        path_filestat_get => path::path_filestat_get[fd: u32, flags: u32, p: u32, p_len: u32, out: u32];
        path_filestat_set_times => path::path_filestat_set_times[
            fd: u32, flags: u32, p: u32, p_len: u32, atim: u64, mtim: u64, fst: u32];
        path_link => path::path_link[
            old_fd: u32, old_flags: u32, old_p: u32, old_len: u32, new_fd: u32, new_p: u32, new_len: u32];
        path_open => path::path_open[
            fd: u32, dirflags: u32, p: u32, p_len: u32, oflags: u32, base: u64, inheriting: u64,
            fdflags: u32, out: u32];
        path_readlink => path::path_readlink[fd: u32, p: u32, p_len: u32, buf: u32, buf_len: u32, out: u32];
        path_remove_directory => path::path_remove_directory[fd: u32, p: u32, p_len: u32];
        path_rename => path::path_rename[fd: u32, old_p: u32, old_len: u32, new_fd: u32, new_p: u32, new_len: u32];
        path_symlink => path::path_symlink[old_p: u32, old_len: u32, fd: u32, new_p: u32, new_len: u32];
        path_unlink_file => path::path_unlink_file[fd: u32, p: u32, p_len: u32];
        sock_recv => sock::sock_recv[fd: u32, iovs: u32, iovs_len: u32, flags: u32, out: u32, oflags: u32];
        sock_send => sock::sock_send[fd: u32, iovs: u32, iovs_len: u32, flags: u32, out: u32];
        sock_shutdown => sock::sock_shutdown[fd: u32, how: u32];
    }
    // A poll that only waits for clocks (`thread::sleep`) reaches no
    // descriptor.
    linker.func_wrap(
        module,
        "poll_oneoff",
        move |mut caller: Caller<'_, T>, subs: u32, events: u32, nsubs: u32, out: u32| {
            let name = (module, "poll_oneoff");
            let needs = |mem: &Mem<'_>| poll::reaches_descriptors(mem, flavor, subs, nsubs);
            dispatch(&mut caller, access, name, needs, |ctx, mem| {
                poll::poll_oneoff(ctx, mem, flavor, subs, events, nsubs, out)
            })
        },
    )?;
    if flavor == Flavor::Preview1 {
        define! { linker, module, flavor, access, |_: &Mem<'_>| true;
            sock_accept => sock::sock_accept[fd: u32, flags: u32, out: u32];
        }
    }
    // `proc_exit` does not return to the guest: it ends the call with an
    // error the embedder recognises. Statuses from 126 up are reserved
    // (shells use them for "not executable" and signals); WASI says such
    // an exit behaves like `unreachable`, and wasmtime reports it with
    // this message.
    linker.func_wrap(
        module,
        "proc_exit",
        |_caller: Caller<'_, T>, code: u32| -> anyhow::Result<()> {
            if code < 126 {
                Err(I32Exit(code as i32).into())
            } else {
                Err(anyhow::anyhow!(
                    "exit with invalid exit status outside of [0..126)"
                ))
            }
        },
    )?;
    Ok(())
}
