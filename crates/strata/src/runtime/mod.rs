//! The runtime representation every tier shares: linear memories, tables,
//! the `VMContext` layout (`vm.rs`), and the bulk memory and table
//! operations (`ops.rs`).

pub(crate) mod fuel;
pub mod memory;
pub(crate) mod ops;
pub mod table;
pub mod vm;
