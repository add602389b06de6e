//! `strata run -S threads=y`: wiring wasi-threads (`strata_wasi::threads`)
//! into a run. The module's memory import is satisfied with a shared
//! memory made from the import's own type, every thread's store is set up
//! like the main one (limits, fuel, timeout), and a spawned thread that
//! fails ends the process the way the main thread would.

use crate::limits::WasmOptions;
use crate::run::Host;
use anyhow::{Context, Result};
use std::sync::Arc;
use strata::{ExternType, InstancePre, Linker, Module, SharedMemory, Store};
use strata_wasi::threads::WasiThreadsCtx;
use strata_wasi::I32Exit;

/// Defines `wasi::thread-spawn` in `linker`, and each shared memory the
/// module imports as a new shared memory of the import's type (programs
/// built for `wasm32-wasip1-threads` import theirs as `env::memory`), which
/// every thread's instance then imports too.
pub fn define(linker: &mut Linker<Host>, module: &Module) -> Result<()> {
    strata_wasi::threads::add_to_linker(linker, |host: &Host| host.threads.as_ref())?;
    for import in module.imports() {
        if let ExternType::Memory(ty) = import.ty() {
            if ty.is_shared() {
                let memory = SharedMemory::new(module.engine(), ty).with_context(|| {
                    format!(
                        "failed to create the shared memory `{}::{}`",
                        import.module(),
                        import.name()
                    )
                })?;
                linker.define(import.module(), import.name(), memory)?;
            }
        }
    }
    Ok(())
}

/// Creates the thread-spawning context for `module` (whose imports
/// `linker` resolves), hands it to the main thread's store, and returns
/// the module with its imports resolved, for the main instance.
pub fn start(
    store: &mut Store<Host>,
    linker: &Linker<Host>,
    module: &Module,
    options: &WasmOptions,
) -> Result<InstancePre<Host>> {
    let pre = linker.instantiate_pre(module)?;
    let thread_options = options.clone();
    let ctx = WasiThreadsCtx::new(pre)?
        .max_threads(options.max_threads())
        .configure_store(move |store: &mut Store<Host>| {
            store.limiter(|host| &mut host.limits);
            thread_options.start_thread(store)
        })
        .on_error(thread_failed);
    let ctx = Arc::new(ctx);
    store.data_mut().threads = Some(Arc::clone(&ctx));
    Ok(ctx.instance_pre().clone())
}

/// A spawned thread's `proc_exit` or trap ends the whole process, with
/// the status and message the main thread would give.
fn thread_failed(e: anyhow::Error) {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        std::process::exit(exit.0);
    }
    let _ = crate::report_error(&e);
    let status = if e.downcast_ref::<strata::Trap>().is_some() || e.is::<strata::ThrownException>()
    {
        crate::TRAP_EXIT
    } else {
        1
    };
    std::process::exit(i32::from(status));
}
