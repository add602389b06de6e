//! The guest profiler: samples of the wasm call stack, written as a
//! Firefox Profiler profile (the "processed" JSON format, through the
//! `fxprof-processed-profile` crate), as wasmtime's `GuestProfiler` does.
//!
//! Each module is a library of the profile whose addresses are offsets in
//! the module binary and whose symbols are its functions (named from the
//! name section), so the profiler shows function names and a frame's
//! offset. Sampling is driven by the embedder: typically an
//! epoch-deadline callback ([`Store::epoch_deadline_callback`]) that a
//! timer thread triggers with [`Engine::increment_epoch`](crate::Engine),
//! which works in every tier without signals.

use super::module::Module;
use super::store::{AsContext, Store};
use crate::module::ModuleInfo;
use crate::profiling::function_name;
use crate::trap::WasmBacktrace;
use fxprof_processed_profile::debugid::DebugId;
use fxprof_processed_profile::{
    CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, LibraryHandle, LibraryInfo,
    ProcessHandle, Profile, ReferenceTimestamp, SamplingInterval, Symbol, SymbolTable,
    ThreadHandle, Timestamp,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Collects samples of one guest's wasm call stack and writes them as a
/// profile that <https://profiler.firefox.com> opens.
///
/// ```
/// use strata::{Config, Engine, GuestProfiler, Instance, Module, Store, UpdateDeadline};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// # fn main() -> anyhow::Result<()> {
/// let mut config = Config::new();
/// config.epoch_interruption(true);
/// let engine = Engine::new(&config)?;
/// let module = Module::new(&engine, r#"(module (func (export "run")
///     (local i32) (loop (br_if 0 (i32.lt_u (local.tee 0 (i32.add (local.get 0)
///         (i32.const 1))) (i32.const 100))))))"#)?;
/// let profiler = Arc::new(Mutex::new(GuestProfiler::new(
///     "demo",
///     Duration::from_millis(10),
///     [("demo".to_string(), module.clone())],
/// )));
/// let mut store = Store::new(&engine, ());
/// // Sample at every check; a timer thread calling `increment_epoch`
/// // every interval would sample at that rate instead.
/// store.set_epoch_deadline(0);
/// let sampler = Arc::clone(&profiler);
/// store.epoch_deadline_callback(move |store| {
///     sampler.lock().unwrap().sample(&*store, Duration::ZERO);
///     Ok(UpdateDeadline::Continue(0))
/// });
/// let instance = Instance::new(&mut store, &module, &[])?;
/// instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
/// store.epoch_deadline_trap(); // drops the callback and its handle
/// let profiler = Arc::try_unwrap(profiler).unwrap().into_inner().unwrap();
/// let mut json = Vec::new();
/// profiler.finish(&mut json)?;
/// assert!(json.starts_with(b"{"));
/// # Ok(())
/// # }
/// ```
pub struct GuestProfiler {
    profile: Profile,
    /// The modules given to `new`, each with its library in the profile.
    modules: Vec<(Arc<ModuleInfo>, LibraryHandle)>,
    process: ProcessHandle,
    thread: ThreadHandle,
    start: Instant,
}

impl GuestProfiler {
    /// A profiler for a guest called `name`, sampled every `interval`,
    /// whose frames belong to `modules` (a name for each, shown as the
    /// library of its functions). Frames of other modules are shown by
    /// name only.
    pub fn new(
        name: &str,
        interval: Duration,
        modules: impl IntoIterator<Item = (String, Module)>,
    ) -> GuestProfiler {
        let mut profile = Profile::new(
            name,
            ReferenceTimestamp::from_system_time(SystemTime::now()),
            SamplingInterval::from(interval),
        );
        let modules = modules
            .into_iter()
            .map(|(name, module)| {
                let library = profile.add_lib(library(&name, &module.inner));
                (module.inner, library)
            })
            .collect();
        let zero = Timestamp::from_millis_since_reference(0.0);
        let process = profile.add_process(name, std::process::id(), zero);
        let thread = profile.add_thread(process, std::process::id(), zero, true);
        GuestProfiler {
            profile,
            modules,
            process,
            thread,
            start: Instant::now(),
        }
    }

    /// Records the wasm stack of `store` as it is now
    /// ([`WasmBacktrace::capture`]: inside an epoch-deadline callback, the
    /// frames it interrupted), with `delta` as the CPU time since the last
    /// sample. A store with no wasm running records an empty sample.
    pub fn sample<T>(&mut self, store: impl AsContext<Data = T>, delta: Duration) {
        let store: &Store<T> = store.as_context();
        let backtrace = WasmBacktrace::capture(store);
        let frames: Vec<FrameInfo> = backtrace
            .frames()
            .iter()
            .rev()
            .map(|frame| self.frame(store, frame))
            .collect();
        let stack = self
            .profile
            .intern_stack_frames(self.thread, frames.into_iter());
        let now = Timestamp::from_nanos_since_reference(self.start.elapsed().as_nanos() as u64);
        self.profile
            .add_sample(self.thread, now, stack, CpuDelta::from(delta), 1);
    }

    /// A backtrace frame as a profile frame: an address in its module's
    /// library, or a label when its module was not given to `new`.
    fn frame<T>(&mut self, store: &Store<T>, frame: &crate::FrameInfo) -> FrameInfo {
        let module = store
            .inner
            .instances
            .get(frame.instance as usize)
            .map(|i| &i.module);
        let library = module.and_then(|m| {
            self.modules
                .iter()
                .find(|(known, _)| Arc::ptr_eq(known, m))
                .map(|(m, library)| (m, *library))
        });
        let frame = match library {
            Some((module, library)) => {
                let address = frame.module_offset.unwrap_or_else(|| {
                    let defined = frame.func_index - module.num_imported_funcs;
                    module.bodies[defined as usize].start
                });
                Frame::RelativeAddressFromInstructionPointer(library, address as u32)
            }
            None => {
                let name = function_name(frame.func_index, frame.func_name.as_deref());
                Frame::Label(self.profile.intern_string(&name))
            }
        };
        FrameInfo {
            frame,
            category_pair: CategoryHandle::OTHER.into(),
            flags: FrameFlags::empty(),
        }
    }

    /// Writes the profile as JSON to `output`.
    pub fn finish(mut self, output: impl std::io::Write) -> anyhow::Result<()> {
        let end = Timestamp::from_nanos_since_reference(self.start.elapsed().as_nanos() as u64);
        self.profile.set_thread_end_time(self.thread, end);
        self.profile.set_process_end_time(self.process, end);
        let mut output = output;
        serde_json::to_writer(&mut output, &self.profile)?;
        output.flush()?;
        Ok(())
    }
}

impl std::fmt::Debug for GuestProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestProfiler")
            .field("modules", &self.modules.len())
            .finish_non_exhaustive()
    }
}

/// The library for module `m` called `name`: its functions as symbols at
/// their bodies' offsets.
fn library(name: &str, m: &ModuleInfo) -> LibraryInfo {
    let symbols = m
        .bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let index = m.num_imported_funcs + i as u32;
            Symbol {
                address: body.start as u32,
                size: Some(body.len() as u32),
                name: function_name(index, m.func_names.get(&index).map(String::as_str)),
            }
        })
        .collect();
    LibraryInfo {
        name: name.to_string(),
        debug_name: name.to_string(),
        path: name.to_string(),
        debug_path: name.to_string(),
        debug_id: DebugId::nil(),
        code_id: None,
        arch: None,
        symbol_table: Some(Arc::new(SymbolTable::new(symbols))),
    }
}
