//! Where the collector finds the references executing code holds: the
//! store's registry of active activations.
//!
//! **Interpreter activations.** Every host-to-wasm entry into the
//! interpreter has its own value stack (`interp::Stack`); an entry pushes a
//! record here and pops it when it returns, so the stacks of outer entries
//! (suspended in a host function that called back into wasm) stay findable
//! while an inner one runs. Before every call out of an entry (to a host
//! function, to compiled code, into a nested entry) and before every
//! allocating GC instruction, the driver publishes the part of its value
//! stack below the call (`Activations::publish`): the frames of that
//! activation; when the call returns it unpublishes. The collector reads
//! those slots (`for_each_slot`); the allocating instruction's own frame
//! is passed to it directly. An entry that has published nothing is not
//! at a safepoint (it runs, or a callback such as an epoch deadline's
//! interrupted it): nothing is collected then.
//!
//! **Compiled activations.** Compiled code does not declare stack maps
//! yet, and it can hold references (parameters, `table.get` results) in
//! registers and spill slots the collector cannot see. So while any
//! compiled activation is live on this store's stack (`compiled > 0`,
//! counted by `tier::invoke` and the interpreter's loop entries), the
//! collector does not run: allocation grows the heap instead, and the
//! limit trap comes only if growing fails. When the JIT declares stack
//! maps, `collect::collect` reads them where it now checks `can_collect`.
//!
//! **Panics.** A panic in a host function that unwinds through an entry
//! leaves its record here (and a compiled activation counted): the entry
//! leaks its stack then (`interp::exec::LeakOnUnwind`), so the record never
//! points at freed memory; at worst the store collects less afterwards.
//!
//! **No collection** also while a module instantiates (`inhibit`): its
//! constant expressions hold the objects they made in Rust vectors (element
//! segment items, globals being initialized) until the instance owns them.

/// One entry's published slots: `len` cells from `ptr` on.
#[derive(Clone, Copy)]
struct Published {
    ptr: *const u64,
    len: usize,
}

/// The store's activation registry (see the module documentation).
#[derive(Default)]
pub(crate) struct Activations {
    entries: Vec<Published>,
    /// Compiled activations live on this store's stack.
    compiled: u32,
    /// Operations (instantiation) during which nothing may be collected.
    inhibit: u32,
}

// SAFETY: the published pointers point into value stacks owned by frames
// of this store's current execution, which runs on the thread that holds
// the store exclusively; the store cannot move to another thread while
// one of its entries is active, and entries unpublish before returning.
unsafe impl Send for Activations {}

impl Activations {
    /// An interpreter entry begins; it publishes nothing yet.
    pub(crate) fn push_entry(&mut self) {
        self.entries.push(Published {
            ptr: std::ptr::null(),
            len: 0,
        });
    }

    /// The innermost entry continues running: its slots are in use.
    pub(crate) fn unpublish(&mut self) {
        self.publish(std::ptr::null(), 0);
    }

    /// The innermost interpreter entry returned.
    pub(crate) fn pop_entry(&mut self) {
        self.entries.pop();
    }

    /// The innermost entry's live slots are the `len` cells from `ptr`
    /// (not null). They must stay valid and unwritten until the entry
    /// unpublishes or pops: the driver publishes just before calling out.
    pub(crate) fn publish(&mut self, ptr: *const u64, len: usize) {
        if let Some(top) = self.entries.last_mut() {
            *top = Published { ptr, len };
        }
    }

    /// Compiled code is entered (`true`) or left (`false`).
    pub(crate) fn compiled(&mut self, enter: bool) {
        if enter {
            self.compiled += 1;
        } else {
            self.compiled -= 1;
        }
    }

    /// Collection is forbidden (`true`) or allowed again (`false`).
    pub(crate) fn inhibit(&mut self, on: bool) {
        if on {
            self.inhibit += 1;
        } else {
            self.inhibit -= 1;
        }
    }

    /// Whether the collector may run now: no compiled activation (whose
    /// references it cannot see) and no instantiation in progress.
    pub(crate) fn can_collect(&self) -> bool {
        self.compiled == 0 && self.inhibit == 0 && self.entries.iter().all(|e| !e.ptr.is_null())
    }

    /// Calls `f` with every published slot of every active entry (all
    /// have published when `can_collect`).
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(u64)) {
        for e in &self.entries {
            if e.ptr.is_null() {
                continue;
            }
            // SAFETY: a published range lies within its entry's value stack,
            // which is neither freed, grown nor written while its entry is
            // suspended in the call out it published for (`publish`).
            let slots = unsafe { std::slice::from_raw_parts(e.ptr, e.len) };
            slots.iter().copied().for_each(&mut f);
        }
    }
}

/// The references host handles hold (`AnyRef`, `StructRef`, `ArrayRef`,
/// `ExternRef`, `ExnRef`): every handle the host
/// obtains to a heap object registers here and gets a serial number, and
/// stays a root until the scope it was made in ends (`RootScope`, or the
/// host function call it was made in; made outside any, until the store
/// drops). Registrations are released last-in first-out, so the serials
/// stay sorted and a handle checks it is still rooted by a binary search:
/// using one whose scope ended is an error, never a dangling access.
///
/// **Manual roots** (wasmtime's `ManuallyRooted`) are kept apart: a
/// handle converted with `AnyRef::to_manually_rooted` stays rooted, whatever
/// scope ends, until it is unrooted (`AnyRef::unroot`); its serial has
/// [`MANUAL`] set and is looked up among them. The C API roots every GC
/// handle it gives to C this way, released when C deletes the handle.
#[derive(Default)]
pub(crate) struct HostRoots {
    /// Serials and the cells they root (an `anyref`, an exnref, or an
    /// `externref` cell: a host value's, or an externalized `anyref`).
    entries: std::cell::RefCell<Vec<(u64, u64)>>,
    next: std::cell::Cell<u64>,
    /// Manual roots: serial (with [`MANUAL`] set) to cell.
    manual: std::cell::RefCell<std::collections::HashMap<u64, u64>>,
}

/// Set in the serial of a manual root.
pub(crate) const MANUAL: u64 = 1 << 63;

impl HostRoots {
    /// Roots reference cell `raw` of the `any` hierarchy; returns the
    /// handle's serial (0, always valid, for null and `i31`s, which need
    /// no root).
    pub(crate) fn root(&self, raw: u32) -> u64 {
        if raw == 0 || raw & 1 != 0 {
            return 0;
        }
        self.root_cell(u64::from(raw))
    }

    /// Roots `cell` (not null); returns the handle's serial.
    pub(crate) fn root_cell(&self, cell: u64) -> u64 {
        let serial = self.next.get() + 1;
        self.next.set(serial);
        self.entries.borrow_mut().push((serial, cell));
        serial
    }

    /// Roots `cell` (not null) until [`HostRoots::unroot`]; returns the
    /// manual root's serial.
    pub(crate) fn root_manually(&self, cell: u64) -> u64 {
        let serial = (self.next.get() + 1) | MANUAL;
        self.next.set(self.next.get() + 1);
        self.manual.borrow_mut().insert(serial, cell);
        serial
    }

    /// Releases manual root `serial` (nothing for any other serial).
    pub(crate) fn unroot(&self, serial: u64) {
        if serial & MANUAL != 0 {
            self.manual.borrow_mut().remove(&serial);
        }
    }

    /// Whether the handle of serial `serial` is still rooted.
    pub(crate) fn is_rooted(&self, serial: u64) -> bool {
        if serial & MANUAL != 0 {
            return self.manual.borrow().contains_key(&serial);
        }
        serial == 0
            || self
                .entries
                .borrow()
                .binary_search_by_key(&serial, |e| e.0)
                .is_ok()
    }

    /// How many roots there are: a scope's start.
    pub(crate) fn depth(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Releases the roots registered since depth `depth`.
    pub(crate) fn release_to(&self, depth: usize) {
        self.entries.borrow_mut().truncate(depth);
    }

    /// Calls `f` with every rooted reference.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64)) {
        for &(_, raw) in self.entries.borrow().iter() {
            f(raw);
        }
        for &raw in self.manual.borrow().values() {
            f(raw);
        }
    }
}
