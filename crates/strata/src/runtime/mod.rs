//! The runtime representation every tier shares: linear memories (and their copy-on-write images, `memory_image.rs`), tables,
//! the `VMContext` layout (`vm.rs`), the store's internals (`store.rs`),
//! what tiered execution shares between the tiers (`tiering.rs`),
//! the bulk memory and table operations (`ops.rs`) and the fuel cost model
//! (`fuel.rs`), exception objects and how exceptions cross tiers
//! (`exn.rs`), shared memories (`shared.rs`) and their waiters
//! (`parking.rs`).

pub(crate) mod exn;
pub(crate) mod fuel;
pub mod memory;
pub(crate) mod memory_image;
pub(crate) mod ops;
pub mod parking;
pub mod shared;
pub(crate) mod store;
pub mod table;
pub(crate) mod tiering;
pub mod vm;
