//! Where the collector finds the references executing code holds: the
//! store's registry of active activations.
//!
//! **Interpreter activations.** Every host-to-wasm entry into the
//! interpreter has its own value stack (`interp::Stack`); an entry pushes a
//! record here and pops it when it returns, so the stacks of outer entries
//! (suspended in a host function that called back into wasm) stay findable
//! while an inner one runs. Before every call out of an entry (to a host
//! function, to compiled code, into a nested entry), before every
//! allocating GC instruction and before a loop entry into compiled code,
//! the driver publishes its call stack and value stack
//! (`Activations::publish`), each frame's `ret` naming the safepoint it is
//! suspended at; when the call returns it unpublishes. The collector reads
//! exactly the slots the frames' stack maps say hold references
//! (`for_each_slot`, through `interp::frames::for_each_ref` and
//! `interp/stack_maps.rs`): an integer that looks like an object's address
//! keeps nothing alive. An entry that has published nothing is not at a
//! safepoint (it runs, or a callback such as an epoch deadline's
//! interrupted it): nothing is collected then.
//!
//! **Compiled activations.** Each entry into compiled code (`jit::enter`,
//! which host calls through `tier::invoke`, the interpreter's calls of
//! compiled functions and its loop entries all go through) begins a
//! *segment*: compiled wasm frames, called by one another directly, up
//! to the next call out of compiled code. Segments nest with interpreter
//! entries in any order (interpreter, compiled, host, interpreter,
//! compiled...). Compiled code leaves a segment only by calling a runtime
//! helper (host and interpreted functions, allocation, table and memory
//! operations: all go through `jit::helpers`), and every helper is called
//! through an exit stub that records the caller's frame pointer and return
//! address in the store's `VMRuntimeLimits::last_exit_fp`/`last_exit_pc`
//! (the throw stub records them itself); wasm-to-wasm calls pay nothing.
//! That exit is the innermost segment's. Entering a segment saves the
//! enclosing segment's exit in the new segment's record here and clears
//! the limits' (`enter_compiled`); leaving restores it
//! (`leave_compiled`). So at a collection the innermost segment's exit is
//! in the limits and each outer one's in the record of the segment it
//! called. From an exit, the collector walks the segment's frames
//! outwards by their frame pointers (`jit::segment_gc_slots`), reading the
//! reference slots each call's stack map names (Cranelift's user stack
//! maps: a reference live across a call is spilled for it), until a frame
//! that is not compiled wasm code (the entry's trampoline). A segment
//! without a recorded exit, or whose exit is not in compiled wasm code, is
//! not at a safepoint (it was interrupted, or has not called out since
//! it was entered): nothing is collected then. The collector is
//! non-moving, so slots are only read.
//!
//! **Panics.** A panic in a host function that unwinds through an
//! interpreter entry leaves its record here: the entry
//! leaks its stack then (`interp::exec::LeakOnUnwind`), so the record never
//! points at freed memory; at worst the store collects less afterwards.
//!
//! **No collection** also while a module instantiates (`inhibit`): its
//! constant expressions hold the objects they made in Rust vectors (element
//! segment items, globals being initialized) until the instance owns them.

use crate::interp::exec::Frame;
use crate::runtime::vm::{VMRuntimeLimits, VmBox};

/// One entry's published frames: `frames` frames from `frame_ptr` on,
/// over the value stack of `slots` cells from `slot_ptr` on.
#[derive(Clone, Copy)]
struct Published {
    frame_ptr: *const Frame,
    frames: usize,
    slot_ptr: *const u64,
    slots: usize,
}

/// Where compiled code called out last: the frame pointer of a compiled
/// frame and the return address into its code (0, 0: nowhere recorded).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Exit {
    fp: usize,
    pc: usize,
}

impl Exit {
    /// The exit the limits hold: the innermost segment's.
    fn of(limits: &VmBox<VMRuntimeLimits>) -> Exit {
        let l = limits.get();
        Exit {
            fp: l.last_exit_fp,
            pc: l.last_exit_pc,
        }
    }

    /// Makes this the exit the limits hold.
    #[cfg(strata_jit)]
    fn publish(self, limits: &VmBox<VMRuntimeLimits>) {
        let mut l = limits.get();
        l.last_exit_fp = self.fp;
        l.last_exit_pc = self.pc;
        limits.set(l);
    }
}

/// The store's activation registry (see the module documentation).
#[derive(Default)]
pub(crate) struct Activations {
    /// Each interpreter entry, outermost first: its frames while it is
    /// suspended at a safepoint, `None` while it runs.
    entries: Vec<Option<Published>>,
    /// The compiled segments live on this store's stack, innermost last:
    /// each holds the exit of the segment that was innermost when it was
    /// entered (none for the outermost).
    compiled: Vec<Exit>,
    /// Operations (instantiation) during which nothing may be collected.
    inhibit: u32,
}

// SAFETY: the published pointers point into value and call stacks owned
// by frames of this store's current execution, which runs on the thread
// that holds the store exclusively; the store cannot move to another
// thread while one of its entries is active, and entries unpublish before
// returning.
unsafe impl Send for Activations {}

impl Activations {
    /// An interpreter entry begins; it publishes nothing yet.
    pub(crate) fn push_entry(&mut self) {
        self.entries.push(None);
    }

    /// The innermost entry continues running: its slots are in use.
    pub(crate) fn unpublish(&mut self) {
        if let Some(top) = self.entries.last_mut() {
            *top = None;
        }
    }

    /// The innermost interpreter entry returned.
    pub(crate) fn pop_entry(&mut self) {
        self.entries.pop();
    }

    /// The innermost entry is suspended at a safepoint with the call stack
    /// `frames` over the value stack `slots` (each frame's `ret` naming
    /// the safepoint it is suspended at). Both must stay valid and
    /// unwritten until the entry unpublishes or pops: the driver publishes
    /// just before calling out or allocating.
    pub(crate) fn publish(&mut self, frames: &[Frame], slots: *const u64, len: usize) {
        if let Some(top) = self.entries.last_mut() {
            *top = Some(Published {
                frame_ptr: frames.as_ptr(),
                frames: frames.len(),
                slot_ptr: slots,
                slots: len,
            });
        }
    }

    /// A compiled segment begins: the enclosing segment's exit (in
    /// `limits`, the store's) is saved, and the new segment has none yet.
    #[cfg(strata_jit)]
    pub(crate) fn enter_compiled(&mut self, limits: &VmBox<VMRuntimeLimits>) {
        self.compiled.push(Exit::of(limits));
        Exit::default().publish(limits);
    }

    /// The innermost compiled segment ended: the enclosing segment's exit
    /// is the innermost again.
    #[cfg(strata_jit)]
    pub(crate) fn leave_compiled(&mut self, limits: &VmBox<VMRuntimeLimits>) {
        if let Some(outer) = self.compiled.pop() {
            outer.publish(limits);
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

    /// Whether the collector may run now, as far as interpreter entries and
    /// instantiation go: every entry has published, and no instantiation
    /// is in progress. (Compiled segments are checked by
    /// [`Self::compiled_roots`].)
    pub(crate) fn can_collect(&self) -> bool {
        self.inhibit == 0 && self.entries.iter().all(Option::is_some)
    }

    /// The reference cells every compiled segment's frames hold (read
    /// before anything is marked), or `None` when a segment is not at a
    /// safepoint (see the module documentation). `limits` holds the
    /// innermost segment's exit.
    pub(crate) fn compiled_roots(&self, limits: &VmBox<VMRuntimeLimits>) -> Option<Vec<u64>> {
        let mut cells = Vec::new();
        let mut exit = Exit::of(limits);
        for outer in self.compiled.iter().rev() {
            if exit.fp == 0 || !segment_slots(exit, &mut cells) {
                return None;
            }
            exit = *outer;
        }
        Some(cells)
    }

    /// Calls `f` with every slot that holds a reference in the frames of
    /// every active entry (all have published when `can_collect`), as the
    /// frames' stack maps name them.
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(u64)) {
        for e in self.entries.iter().flatten() {
            // SAFETY: the published frames and slots are the entry's call
            // and value stacks, which are neither freed, grown nor written
            // while the entry is suspended at the safepoint it published
            // for (`publish`).
            let (frames, slots) = unsafe {
                (
                    std::slice::from_raw_parts(e.frame_ptr, e.frames),
                    std::slice::from_raw_parts(e.slot_ptr, e.slots),
                )
            };
            crate::interp::frames::for_each_ref(frames, slots, &mut f);
        }
    }
}

/// Appends the cells of the slots the frames of the segment whose exit
/// is `exit` hold; false when the exit is not in compiled wasm code.
#[cfg(strata_jit)]
fn segment_slots(exit: Exit, cells: &mut Vec<u64>) -> bool {
    // SAFETY: `exit` is the recorded exit of a live segment suspended in
    // the call it recorded (the innermost segment's, in a helper now, or
    // an outer one's, in the helper that led to the inner segments): its
    // frames are live and unchanged. A slot holds a reference's cell.
    unsafe { crate::jit::segment_gc_slots(exit.pc, exit.fp, |slot| cells.push(slot.read())) }
}

/// Without the JIT there are no compiled segments.
#[cfg(not(strata_jit))]
fn segment_slots(_: Exit, _: &mut Vec<u64>) -> bool {
    false
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
    /// Serials and the cells they root (GC heap references of every
    /// hierarchy).
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
