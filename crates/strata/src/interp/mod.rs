//! The interpreter tier.
//!
//! - `isa.rs`: the instruction set, one row per numeric instruction.
//! - `translate.rs`: wasm function body -> register bytecode, once per
//!   function when the module is loaded.
//! - `handlers/`: threaded handlers for the hot instructions, generated
//!   from the same table.
//! - `exec.rs`: the driver: frames, calls, and the instructions that need the
//!   store; value and call stacks live on the heap.

pub(crate) mod exec;
mod handlers;
pub(crate) mod isa;
mod translate;

use crate::module::ModuleInner;
pub(crate) use exec::{invoke, Stack};
use isa::{Op, Slot};
use std::ops::Range;
use std::sync::OnceLock;

/// A function body, translated on its first call (or when the module is
/// loaded, with `Config::lazy_translation(false)`). The module was
/// validated as a whole when it was loaded, so translating later only
/// moves work, not checks.
#[derive(Debug)]
pub(crate) struct LazyFunc {
    /// Index in the module's function index space.
    func_index: u32,
    /// The body's bytes within the module binary, and their offset.
    pub(crate) body: Range<usize>,
    compiled: OnceLock<CompiledFunc>,
}

impl LazyFunc {
    pub(crate) fn new(func_index: u32, body: Range<usize>) -> LazyFunc {
        LazyFunc {
            func_index,
            body,
            compiled: OnceLock::new(),
        }
    }

    /// The translated function, if it was translated already.
    #[inline(always)]
    pub(crate) fn translated(&self) -> Option<&CompiledFunc> {
        self.compiled.get()
    }

    /// The translated function, translating it now if needed.
    pub(crate) fn get(&self, module: &ModuleInner) -> anyhow::Result<&CompiledFunc> {
        if let Some(code) = self.translated() {
            return Ok(code);
        }
        let bytes = module.bytes.get(self.body.clone()).unwrap_or_default();
        let reader = wasmparser::BinaryReader::new(bytes, self.body.start as u64);
        let body = wasmparser::FunctionBody::new(reader);
        let code = translate::translate(module, self.func_index, &body)
            .map_err(|e| e.context(format!("failed to translate function {}", self.func_index)))?;
        // Another thread may have won the race; either result is the same.
        let _ = self.compiled.set(code);
        Ok(self
            .compiled
            .get()
            .unwrap_or_else(|| unreachable!("set just above")))
    }
}

/// A function translated to register bytecode.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub ops: Box<[Op]>,
    /// `ops` lowered for threaded dispatch, index for index.
    pub instrs: Box<[handlers::Instr]>,
    /// Index in the module's function index space, for backtraces.
    pub func_index: u32,
    pub num_params: u32,
    /// What a new frame holds after its parameters, placed at slots
    /// `num_params..` on entry: zeroed declared locals, then the constants.
    pub init: Box<[u64]>,
    /// Slots the frame needs: locals, constants and temporaries.
    pub frame_size: u32,
    /// Operand lists of instructions with many operands (`ReturnMany`).
    pub slot_lists: Box<[Slot]>,
    pub num_results: u32,
}
