//! The interpreter tier.
//!
//! - `isa.rs`: the instruction set, one row per numeric instruction.
//! - `translate.rs`: wasm function body -> register bytecode, once per
//!   function when the module is loaded.
//! - `handlers.rs`: threaded handlers for the hot instructions, generated
//!   from the same table.
//! - `exec.rs`: the driver: frames, calls, and the instructions that need the
//!   store; value and call stacks live on the heap.

pub(crate) mod exec;
mod handlers;
pub(crate) mod isa;
mod translate;

pub(crate) use exec::{invoke, table_init, Stack};
pub(crate) use translate::translate;

use isa::{Op, Slot};

/// A function translated to register bytecode.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub ops: Box<[Op]>,
    /// `ops` lowered for threaded dispatch, index for index.
    pub instrs: Box<[handlers::Instr]>,
    pub num_params: u32,
    /// Parameters plus declared locals.
    pub num_locals: u32,
    /// Constants, placed at slots `num_locals..` on entry.
    pub consts: Box<[u64]>,
    /// Slots the frame needs: locals, constants and temporaries.
    pub frame_size: u32,
    /// Operand lists of instructions with many operands (`ReturnMany`).
    pub slot_lists: Box<[Slot]>,
    pub num_results: u32,
}
