//! The public embedding API: handles into a store (`Func`, `Memory`,
//! `Table`, `Global`, `Tag`, `Instance`), `Store<T>` itself, `Module`, `Linker`,
//! values and resource limiters. It sits on top of every other layer and
//! reaches the tiers only through `crate::tier`.

pub(crate) mod coredump;
pub(crate) mod epoch;
pub(crate) mod exn;
pub(crate) mod externals;
pub(crate) mod func;
pub(crate) mod gc;
pub(crate) mod gc_roots;
#[cfg(feature = "profiling")]
pub(crate) mod guest_profiler;
pub(crate) mod instance;
pub(crate) mod limits;
pub(crate) mod linker;
pub(crate) mod module;
pub(crate) mod shared_memory;
pub(crate) mod store;
pub(crate) mod tag;
pub(crate) mod typed;
pub(crate) mod values;
