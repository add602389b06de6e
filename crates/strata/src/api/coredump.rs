//! Core dumps: what a trapping call leaves behind for post-mortem
//! debugging, written in the WebAssembly tool-conventions format
//! (`Coredump.md`).
//!
//! A core dump file is itself a wasm module that is never instantiated:
//! custom sections `core` (the program's name), `coremodules`,
//! `coreinstances` and `corestack` (the frames, innermost first, with
//! function index, code offset, locals and operand stack), and the store's
//! memories and globals as ordinary memory, data and global sections.

use super::externals::{Global, Memory};
use super::instance::Instance;
use super::module::Module;
use super::store::{AsContextMut, Store};
use crate::runtime::store::StoreInner;
use crate::trap::{FrameInfo, WasmBacktrace};
use crate::types::{HeapType, ValType};
use crate::Trap;
use std::fmt;
use std::sync::Arc;
use wasm_encoder::{
    ConstExpr, CoreDumpInstancesSection, CoreDumpModulesSection, CoreDumpSection,
    CoreDumpStackSection, CoreDumpValue, DataSection, GlobalSection, GlobalType, MemorySection,
    MemoryType,
};

/// The state of a store when a call trapped: the trap's frames and the
/// store's modules, instances, memories and globals. With
/// [`Config::coredump_on_trap`](crate::Config::coredump_on_trap) it is
/// attached to the error of the call (`err.downcast_ref::<WasmCoreDump>()`),
/// as in wasmtime.
///
/// The memories and globals are handles: [`WasmCoreDump::serialize`] reads
/// their contents when it runs, so serialize before the store runs wasm
/// again.
pub struct WasmCoreDump {
    store_id: u64,
    frames: Vec<FrameInfo>,
    modules: Vec<Module>,
    instances: Vec<Instance>,
    memories: Vec<Memory>,
    globals: Vec<Global>,
}

impl WasmCoreDump {
    /// The dump of `store` for a trap whose frames are `backtrace`'s.
    pub(crate) fn capture(store: &StoreInner, backtrace: &WasmBacktrace) -> WasmCoreDump {
        let mut modules: Vec<Module> = Vec::new();
        for instance in &store.instances {
            if !modules
                .iter()
                .any(|m| Arc::ptr_eq(&m.inner, &instance.module))
            {
                modules.push(Module {
                    inner: Arc::clone(&instance.module),
                    code: instance.code.clone(),
                });
            }
        }
        let store_id = store.id;
        WasmCoreDump {
            store_id,
            frames: backtrace.frames().to_vec(),
            modules,
            instances: (0..store.instances.len() as u32)
                .map(|index| Instance { store_id, index })
                .collect(),
            memories: (0..store.memories.len() as u32)
                .map(|index| Memory { store_id, index })
                .collect(),
            globals: (0..store.globals.len() as u32)
                .map(|index| Global { store_id, index })
                .collect(),
        }
    }

    /// The frames of the trap, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// The modules of the store's instances, each once.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// Every instance of the store, in creation order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// Every memory of the store, in creation order.
    pub fn store_memories(&self) -> &[Memory] {
        &self.memories
    }

    /// Every global of the store, in creation order.
    pub fn store_globals(&self) -> &[Global] {
        &self.globals
    }

    /// The core dump in the tool-conventions format, with `name` as the
    /// program's name (`core` section). Memories and globals are read from
    /// `store` now. Frames without known locals (the JIT's) list each
    /// local as a missing value; operand stacks are left empty, as no tier
    /// records them; reference values are not kept (their globals hold
    /// null).
    ///
    /// # Panics
    /// When `store` is not the store the dump was taken from.
    pub fn serialize<T>(&self, mut store: impl AsContextMut<Data = T>, name: &str) -> Vec<u8> {
        let store: &mut Store<T> = store.as_context_mut();
        store.inner.assert_owner(self.store_id);
        let inner = &store.inner;
        let mut module = wasm_encoder::Module::new();
        module.section(&CoreDumpSection::new(name));

        let mut modules = CoreDumpModulesSection::new();
        for (i, m) in self.modules.iter().enumerate() {
            let name = m
                .name()
                .map_or_else(|| format!("<module {i}>"), str::to_string);
            modules.module(name);
        }
        module.section(&modules.as_custom());

        let mut instances = CoreDumpInstancesSection::new();
        for instance in &self.instances {
            let entity = &inner.instances[instance.index as usize];
            let module = self
                .modules
                .iter()
                .position(|m| Arc::ptr_eq(&m.inner, &entity.module))
                .unwrap_or(0) as u32;
            instances.instance(
                module,
                entity.memories.iter().copied(),
                entity.globals.iter().copied(),
            );
        }
        module.section(&instances.as_custom());

        let mut memories = MemorySection::new();
        let mut data = DataSection::new();
        for (index, memory) in self.memories.iter().enumerate() {
            let entity = &inner.memories[memory.index as usize];
            // A copy (through raw pointers): a shared memory's bytes may be
            // written by other threads meanwhile.
            let mut bytes = vec![0; entity.mem.len()];
            entity.mem.read(0, &mut bytes);
            memories.memory(MemoryType {
                minimum: entity.mem.pages(),
                maximum: entity.ty.maximum(),
                memory64: entity.ty.is_64(),
                shared: entity.ty.is_shared(),
                page_size_log2: match entity.ty.page_size_log2() {
                    crate::types::DEFAULT_PAGE_SIZE_LOG2 => None,
                    log2 => Some(u32::from(log2)),
                },
            });
            for (offset, run) in nonzero_runs(&bytes) {
                let at = if entity.ty.is_64() {
                    ConstExpr::i64_const(offset as i64)
                } else {
                    ConstExpr::i32_const(offset as i32)
                };
                data.active(index as u32, &at, run.iter().copied());
            }
        }
        module.section(&memories);

        let mut globals = GlobalSection::new();
        for global in &self.globals {
            let entity = &inner.globals[global.index as usize];
            let (val_type, init) = constant(entity.ty.content(), entity.get());
            globals.global(
                GlobalType {
                    val_type,
                    mutable: false,
                    shared: false,
                },
                &init,
            );
        }
        module.section(&globals);
        module.section(&data);

        let mut stack = CoreDumpStackSection::new("main");
        for frame in &self.frames {
            let locals: Vec<CoreDumpValue> = match &frame.locals {
                Some(locals) => locals.iter().map(|&(ty, v)| value(ty, v)).collect(),
                None => {
                    let count = local_count(inner, frame).unwrap_or(0);
                    vec![CoreDumpValue::Missing; count]
                }
            };
            stack.frame(
                frame.instance,
                frame.func_index,
                frame.func_offset.unwrap_or(0) as u32,
                locals,
                [],
            );
        }
        module.section(&stack);
        module.finish()
    }
}

/// How many locals (parameters included) the function of `frame` has.
fn local_count(store: &StoreInner, frame: &FrameInfo) -> Option<usize> {
    let module = &store.instances.get(frame.instance as usize)?.module;
    let defined = frame.func_index.checked_sub(module.num_imported_funcs)?;
    let mut count = module.func_type(frame.func_index).params().len();
    for local in module.body(defined as usize).get_locals_reader().ok()? {
        count += local.ok()?.0 as usize;
    }
    Some(count)
}

/// A value for the core dump's frames: numbers as they are, anything else
/// missing (the format has no encoding for vectors and references).
fn value(ty: ValType, bits: u128) -> CoreDumpValue {
    match ty {
        ValType::I32 => CoreDumpValue::I32(bits as u32 as i32),
        ValType::I64 => CoreDumpValue::I64(bits as u64 as i64),
        ValType::F32 => CoreDumpValue::F32(wasm_encoder::Ieee32::new(bits as u32)),
        ValType::F64 => CoreDumpValue::F64(wasm_encoder::Ieee64::new(bits as u64)),
        ValType::V128 | ValType::Ref(_) => CoreDumpValue::Missing,
    }
}

/// A global's type and constant initialiser holding `bits`; a reference
/// becomes a null of its hierarchy's top type.
fn constant(ty: ValType, bits: u128) -> (wasm_encoder::ValType, ConstExpr) {
    use wasm_encoder::{AbstractHeapType, HeapType as H, RefType};
    match ty {
        ValType::I32 => (
            wasm_encoder::ValType::I32,
            ConstExpr::i32_const(bits as u32 as i32),
        ),
        ValType::I64 => (
            wasm_encoder::ValType::I64,
            ConstExpr::i64_const(bits as u64 as i64),
        ),
        ValType::F32 => (
            wasm_encoder::ValType::F32,
            ConstExpr::f32_const(wasm_encoder::Ieee32::new(bits as u32)),
        ),
        ValType::F64 => (
            wasm_encoder::ValType::F64,
            ConstExpr::f64_const(wasm_encoder::Ieee64::new(bits as u64)),
        ),
        ValType::V128 => (
            wasm_encoder::ValType::V128,
            ConstExpr::v128_const(bits as i128),
        ),
        ValType::Ref(r) => {
            let top = match r.heap_type().top() {
                HeapType::Func => AbstractHeapType::Func,
                HeapType::Extern => AbstractHeapType::Extern,
                HeapType::Exn => AbstractHeapType::Exn,
                _ => AbstractHeapType::Any,
            };
            let heap = H::Abstract {
                shared: false,
                ty: top,
            };
            (
                wasm_encoder::ValType::Ref(RefType {
                    nullable: true,
                    heap_type: heap,
                }),
                ConstExpr::ref_null(heap),
            )
        }
    }
}

/// The parts of `bytes` that are not all zero, at 4 KiB granularity, with
/// their offsets: a fresh memory's untouched pages cost nothing in the
/// file (the format allows a memory as several data segments).
fn nonzero_runs(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    const CHUNK: usize = 4096;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        if chunk.iter().all(|&b| b == 0) {
            continue;
        }
        let start = i * CHUNK;
        let end = start + chunk.len();
        match runs.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => runs.push((start, end)),
        }
    }
    runs.into_iter()
        .map(|(start, end)| (start, &bytes[start..end]))
        .collect()
}

impl fmt::Display for WasmCoreDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm coredump generated while executing:")?;
        for frame in &self.frames {
            let module = frame.module_name().unwrap_or("<module>");
            match frame.func_name() {
                Some(name) => writeln!(f, "  {module}!{name}")?,
                None => writeln!(f, "  {module}!<wasm function {}>", frame.func_index())?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for WasmCoreDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasmCoreDump")
            .field("frames", &self.frames.len())
            .field("modules", &self.modules.len())
            .field("instances", &self.instances.len())
            .field("memories", &self.memories.len())
            .field("globals", &self.globals.len())
            .finish()
    }
}

/// Calls store function `func` in its tier (see `tier::invoke`); with
/// `Config::coredump_on_trap`, a trap's error also carries a
/// [`WasmCoreDump`]. Every call the API makes into wasm goes through here.
pub(crate) fn invoke<T>(store: &mut Store<T>, func: u32, raw: &mut [u64]) -> anyhow::Result<()> {
    let result = crate::tier::invoke(store, func, raw);
    match result {
        // The exception stays pending in the store; the error names it.
        Err(e) if e.is::<crate::ThrownException>() => match store.inner.pending_exn {
            Some(exn) => {
                let description = crate::runtime::exn::describe(&store.inner, exn);
                Err(crate::ThrownException::uncaught(description).into())
            }
            None => Err(e),
        },
        Err(e) if store.inner.engine.config().coredump_on_trap && e.is::<Trap>() => {
            let dump = match e.downcast_ref::<WasmBacktrace>() {
                Some(backtrace) => WasmCoreDump::capture(&store.inner, backtrace),
                None => WasmCoreDump::capture(&store.inner, &WasmBacktrace::default()),
            };
            Err(e.context(dump))
        }
        other => other,
    }
}
