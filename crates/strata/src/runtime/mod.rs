//! The runtime representation every tier shares: linear memories and tables.

pub mod memory;
pub mod table;
