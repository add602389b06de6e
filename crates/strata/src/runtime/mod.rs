//! The runtime representation every tier shares: linear memories, tables,
//! and the `VMContext` layout (`vm.rs`).

pub mod memory;
pub mod table;
pub mod vm;
