//! The store: `wasm_store_t`, and the shared context every object of a
//! store refers to.
//!
//! C objects (functions, memories, ...) each hold a reference-counted
//! [`StoreCtx`]. Operations reach the `strata::Store` through
//! `StoreCtx::with`. While a host function runs, the store is borrowed by
//! the wasm call in progress; the host trampoline then publishes the
//! `Caller`'s store pointer as the current one, so C code that calls back
//! into the API from a host function works through that borrow.

use crate::engine::wasm_engine_t;
use crate::r#ref::HostInfo;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;
use strata::{Engine, ExternRef, Func, Global, Instance, Memory, Store, Table, Tag};

/// What host information is attached to: a store object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EntityKey {
    Func(Func),
    Global(Global),
    Table(Table),
    Memory(Memory),
    Tag(Tag),
    Instance(Instance),
    Foreign(ExternRef),
}

/// The state shared by a `wasm_store_t` and every object of the store.
pub struct StoreCtx {
    store: UnsafeCell<Store<()>>,
    /// During a host call: the store as borrowed by that call.
    current: Cell<*mut Store<()>>,
    /// The engine, for compiling modules.
    pub(crate) engine: Engine,
    /// Host information of the store's objects, finalized with the store.
    pub(crate) host_info: RefCell<HashMap<EntityKey, HostInfo>>,
}

/// A counted reference to a store's context.
pub type StoreRc = Rc<StoreCtx>;

impl StoreCtx {
    /// Runs `f` with the store. Must not be nested (callers never call
    /// `with` inside `f`; host calls re-enter through [`HostCallScope`]).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Store<()>) -> R) -> R {
        let current = self.current.get();
        let ptr = if current.is_null() {
            self.store.get()
        } else {
            current
        };
        // SAFETY: outside host calls no other borrow of the store exists
        // (`with` is never nested and the store is private to this module).
        // Inside a host call, the pointer is the `Caller`'s reborrow of the
        // wasm call's borrow, which is not used while the host function runs.
        f(unsafe { &mut *ptr })
    }

    /// A new counted reference from the address of a live context.
    ///
    /// # Safety
    /// `ptr` must come from `Rc::as_ptr` of a `StoreRc` that is still alive.
    pub(crate) unsafe fn rc_from_ptr(ptr: *const StoreCtx) -> StoreRc {
        // SAFETY: guaranteed by the caller; the count is raised first so
        // the new `Rc` owns a reference of its own.
        unsafe {
            Rc::increment_strong_count(ptr);
            Rc::from_raw(ptr)
        }
    }
}

/// Publishes the store a host function was given as the current one for
/// its duration; restores the previous one when dropped.
pub(crate) struct HostCallScope<'a> {
    ctx: &'a StoreCtx,
    prev: *mut Store<()>,
}

impl<'a> HostCallScope<'a> {
    pub(crate) fn enter(ctx: &'a StoreCtx, store: &mut Store<()>) -> HostCallScope<'a> {
        let prev = ctx.current.replace(store);
        HostCallScope { ctx, prev }
    }
}

impl Drop for HostCallScope<'_> {
    fn drop(&mut self) {
        self.ctx.current.set(self.prev);
    }
}

impl Drop for StoreCtx {
    fn drop(&mut self) {
        // Finalizers first, while the objects they describe still exist.
        let infos = std::mem::take(self.host_info.get_mut());
        drop(infos);
    }
}

/// `wasm_store_t`: a store; objects created in it keep it alive.
pub struct wasm_store_t {
    pub(crate) ctx: StoreRc,
}

/// `wasm_store_new`.
#[no_mangle]
pub extern "C" fn wasm_store_new(engine: Option<&wasm_engine_t>) -> Option<Box<wasm_store_t>> {
    let engine = engine?.engine.clone();
    Some(Box::new(wasm_store_t {
        ctx: Rc::new(StoreCtx {
            store: UnsafeCell::new(Store::new(&engine, ())),
            current: Cell::new(std::ptr::null_mut()),
            engine,
            host_info: RefCell::new(HashMap::new()),
        }),
    }))
}

/// `wasm_store_delete`: the store goes away with its last object.
#[no_mangle]
pub extern "C" fn wasm_store_delete(_store: Option<Box<wasm_store_t>>) {}
