//! Traps in compiled code: the registry of code addresses, the signal
//! handler that recognises a trapping instruction and resumes at the
//! host-to-wasm entry, and the search for an exception's handler.
//!
//! Compiled code traps by executing a trapping instruction (`ud2` for the
//! explicit checks), by touching a guard page (out-of-bounds memory access)
//! or by a hardware division fault. The handler looks the faulting address
//! up among the registered functions, records the trap and the program
//! counter of each wasm frame (walking frame pointers, which compiled code
//! keeps) in a buffer the thread owns already, and makes the interrupted
//! context resume at the catch-all handler of the entry's trampoline (a
//! `try_call`, see `abi::trampoline`), which returns 1 to [`catch`]; that
//! names the frames. The handler takes no lock and allocates nothing. A
//! fault anywhere else goes to the handler that was installed before ours.

use super::TrapCodes;
use crate::trap::{FrameInfo, WasmBacktrace};
use crate::Trap;
use cranelift_codegen::ir::TrapCode;
use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};

/// One compiled function's code, for mapping a program counter back to it.
pub(crate) struct FuncCode {
    pub start: usize,
    pub len: usize,
    /// Index among the module's defined functions (of the function a
    /// trampoline enters, for a trampoline).
    pub defined: u32,
    /// Index in the module's function space; `None` for trampolines.
    pub func_index: Option<u32>,
    /// Trapping instructions: offset from `start`, trap code.
    pub traps: Vec<(u32, TrapCode)>,
    /// Which wasm instruction each range of the code comes from.
    pub srclocs: SrcLocs,
    /// Where the function's body starts in the module binary.
    pub body_start: usize,
    /// Its calls covered by exception handlers, by return address.
    pub call_sites: Vec<super::throw::CallSite>,
    /// The stack maps of its calls, sorted by return address.
    pub stack_maps: Vec<super::image::StackMap>,
}

/// The wasm operator each range of a function's machine code was compiled
/// from: (start, end, module offset), code offsets relative to the
/// function, sorted, without overlaps.
#[derive(Debug, Default, Clone)]
pub(crate) struct SrcLocs(Box<[(u32, u32, u32)]>);

impl SrcLocs {
    /// The table of Cranelift's source locations, which are module offsets
    /// (`FunctionBuilder::set_srcloc` in the translator); adjacent ranges
    /// of one operator are merged.
    pub(crate) fn new(locs: &[cranelift_codegen::MachSrcLoc<cranelift_codegen::Final>]) -> SrcLocs {
        let mut ranges: Vec<(u32, u32, u32)> = Vec::with_capacity(locs.len());
        for l in locs.iter().filter(|l| !l.loc.is_default()) {
            match ranges.last_mut() {
                Some(last) if last.1 == l.start && last.2 == l.loc.bits() => last.1 = l.end,
                _ => ranges.push((l.start, l.end, l.loc.bits())),
            }
        }
        ranges.sort_by_key(|r| r.0);
        SrcLocs(ranges.into())
    }

    /// A table read back from an image (sorted here, since lookups rely
    /// on it).
    pub(crate) fn from_ranges(mut ranges: Vec<(u32, u32, u32)>) -> SrcLocs {
        ranges.sort_by_key(|r| r.0);
        SrcLocs(ranges.into())
    }

    /// The ranges: (start, end, module offset).
    pub(crate) fn ranges(&self) -> &[(u32, u32, u32)] {
        &self.0
    }

    /// The module offset of the operator the code at `offset` belongs to.
    pub(crate) fn lookup(&self, offset: u32) -> Option<usize> {
        let after = self.0.partition_point(|r| r.0 <= offset);
        let &(_, end, loc) = self.0.get(after.checked_sub(1)?)?;
        (offset < end).then_some(loc as usize)
    }
}

/// A compiled module's code, as the handler and backtraces see it.
pub(crate) struct CodeInfo {
    pub funcs: Vec<FuncCode>,
    pub module_name: Option<String>,
    pub func_names: HashMap<u32, String>,
}

// The code registry. The signal handler must not lock or allocate: it may
// interrupt a thread anywhere in compiled code, and a lock another thread
// holds, or the allocator's, would make it wait or deadlock. So the
// registry is an immutable `Snapshot`, replaced as a whole (never changed
// in place) when a module is registered or unregistered, and read without
// locks:
//
// - A reader (the handler, or the entry resolving a trap afterwards) takes
//   a `Reader`: it counts itself in `READERS[generation % 2]`, checks that
//   the generation did not change meanwhile (else it retries), and only
//   then loads `SNAPSHOT`.
// - A writer, under `REGISTRATION`, publishes the new snapshot, advances
//   the generation, and waits for the readers counted under the old
//   generation before freeing the old snapshot. Readers that arrive later
//   count under the new generation and can only have loaded the new
//   snapshot. Writers are serialised, and each waits for the readers of
//   its generation, so a reader is never left with a freed snapshot.
//
// Readers never wait; a writer waits only for handlers and resolutions
// already running, which are short and take no locks. No reader ever
// registers, so a writer never waits for itself.

/// Every live compiled function, sorted by start address (the code of
/// modules compiled at different times can interleave in memory).
struct Snapshot {
    funcs: Vec<Entry>,
}

/// One compiled function in a [`Snapshot`].
struct Entry {
    start: usize,
    end: usize,
    /// Its module's code, and its position in `CodeInfo::funcs`.
    code: Arc<CodeInfo>,
    index: usize,
}

impl Snapshot {
    /// The compiled function containing `pc`. Allocates nothing.
    fn lookup(&self, pc: usize) -> Option<&Entry> {
        let after = self.funcs.partition_point(|e| e.start <= pc);
        let entry = self.funcs.get(after.checked_sub(1)?)?;
        (pc < entry.end).then_some(entry)
    }
}

/// The current snapshot (null before the first registration).
static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(std::ptr::null_mut());
/// Serialises writers of `SNAPSHOT`; readers never take it.
static REGISTRATION: Mutex<()> = Mutex::new(());
/// How many times a snapshot was replaced.
static GENERATION: AtomicUsize = AtomicUsize::new(0);
/// Readers active, counted by the parity of the generation they read.
static READERS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// A read of the current snapshot, which stays alive while this does.
/// Takes no lock and allocates nothing, so the signal handler may use it.
struct Reader {
    counter: &'static AtomicUsize,
    snapshot: *const Snapshot,
}

impl Reader {
    fn new() -> Reader {
        loop {
            let generation = GENERATION.load(SeqCst);
            let counter = &READERS[generation % 2];
            counter.fetch_add(1, SeqCst);
            if GENERATION.load(SeqCst) == generation {
                return Reader {
                    counter,
                    snapshot: SNAPSHOT.load(SeqCst),
                };
            }
            // A writer advanced the generation meanwhile and may not have
            // seen this count: count again under the new one.
            counter.fetch_sub(1, SeqCst);
        }
    }

    /// The compiled function containing `pc`.
    fn lookup(&self, pc: usize) -> Option<&Entry> {
        // SAFETY: a snapshot is freed only after every reader counted in
        // its generation is gone (see the registry's comment), and this
        // one is counted until it is dropped.
        unsafe { self.snapshot.as_ref() }?.lookup(pc)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, SeqCst);
    }
}

/// Replaces the snapshot with `change` applied to a copy of it.
fn update(change: impl FnOnce(&mut Vec<Entry>)) {
    let _writer = REGISTRATION.lock().unwrap_or_else(|e| e.into_inner());
    let current = SNAPSHOT.load(SeqCst);
    // SAFETY: only writers free snapshots, and this is the only writer.
    let mut funcs: Vec<Entry> = match unsafe { current.as_ref() } {
        Some(snapshot) => snapshot
            .funcs
            .iter()
            .map(|e| Entry {
                code: Arc::clone(&e.code),
                ..*e
            })
            .collect(),
        None => Vec::new(),
    };
    change(&mut funcs);
    funcs.sort_by_key(|e| e.start);
    let new = Box::into_raw(Box::new(Snapshot { funcs }));
    let old = SNAPSHOT.swap(new, SeqCst);
    let generation = GENERATION.fetch_add(1, SeqCst);
    while READERS[generation % 2].load(SeqCst) != 0 {
        std::thread::yield_now();
    }
    if !old.is_null() {
        // SAFETY: `old` came from `Box::into_raw` above (in an earlier
        // update), is no longer published, and every reader that could
        // have loaded it is gone.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Makes the functions of `code` known to the trap handler.
pub(crate) fn register(code: Arc<CodeInfo>) {
    install_handlers();
    update(|funcs| {
        for (index, f) in code.funcs.iter().enumerate() {
            funcs.push(Entry {
                start: f.start,
                end: f.start + f.len,
                code: Arc::clone(&code),
                index,
            });
        }
    });
}

/// Forgets the functions of `code` (before their memory is freed).
pub(crate) fn unregister(code: &CodeInfo) {
    update(|funcs| funcs.retain(|e| !std::ptr::eq(&*e.code, code)));
}

/// What stopped compiled code.
pub(crate) struct Unwound {
    /// `None` when a runtime helper left its error in `helpers::PENDING`.
    pub trap: Option<Trap>,
    pub backtrace: WasmBacktrace,
    /// The code of each recorded frame, to find its instance.
    pub codes: Vec<Arc<CodeInfo>>,
}

/// What the signal handler records for the entry to resolve after the
/// jump: raw addresses only, in a buffer that exists before any trap.
struct Record {
    /// The trap code of the trapping instruction.
    code: TrapCode,
    /// The program counter in each wasm frame, innermost first.
    pcs: [usize; WasmBacktrace::MAX_FRAMES],
    len: usize,
    /// Wasm frames beyond `pcs`.
    omitted: usize,
}

thread_local! {
    /// How many [`catch`]es are active on the thread: compiled code runs
    /// only inside one, so a fault outside is never a wasm trap.
    static ENTRIES: Cell<usize> = const { Cell::new(0) };
    /// What the handler recorded before unwinding. Constant-initialised
    /// and without a destructor, so the handler's first access allocates
    /// nothing.
    static RECORD: UnsafeCell<Record> = const {
        UnsafeCell::new(Record {
            code: TrapCodes::PENDING,
            pcs: [0; WasmBacktrace::MAX_FRAMES],
            len: 0,
            omitted: 0,
        })
    };
}

/// Runs `f`, which calls compiled code through a trampoline and returns
/// what the trampoline returned (1 when the trap handler resumed it at
/// its handler, after a trap), and returns what stopped it if a trap
/// unwound it.
#[inline]
pub(crate) fn catch(f: impl FnOnce() -> u32) -> Result<(), Unwound> {
    ENTRIES.with(|e| e.set(e.get() + 1));
    let trapped = f();
    ENTRIES.with(|e| e.set(e.get() - 1));
    if trapped == 0 {
        return Ok(());
    }
    Err(take_record())
}

/// Turns what the handler recorded on this thread into an [`Unwound`]:
/// names the frames' functions, outside the signal handler.
#[cold]
fn take_record() -> Unwound {
    // SAFETY: only this thread's handler writes the record, and it has
    // finished (it jumped here); nothing else holds a reference to it.
    let record = RECORD.with(|r| unsafe { &*r.get() });
    let reader = Reader::new();
    let mut backtrace = WasmBacktrace {
        omitted: record.omitted,
        ..WasmBacktrace::default()
    };
    let mut codes = Vec::with_capacity(record.len);
    for (i, &pc) in record.pcs[..record.len].iter().enumerate() {
        // The innermost pc is the trapping instruction; the others are
        // return addresses, just after their call.
        let Some((frame, code)) = frame_at(&reader, pc, i > 0) else {
            continue;
        };
        backtrace.frames.push(frame);
        codes.push(code);
    }
    Unwound {
        trap: trap_for(record.code),
        backtrace,
        codes,
    }
}

/// The frame of the compiled wasm function at `pc` (a return address when
/// `returned`, whose call is the instruction before it), with its module
/// offset, and its module's code; `None` outside compiled wasm functions.
/// Its store and instance are for the caller to fill in.
fn frame_at(reader: &Reader, pc: usize, returned: bool) -> Option<(FrameInfo, Arc<CodeInfo>)> {
    // The code is still registered: the store running it keeps it.
    let entry = reader.lookup(pc)?;
    let f = &entry.code.funcs[entry.index];
    let index = f.func_index?;
    let at = (pc - f.start) as u32;
    let offset = f
        .srclocs
        .lookup(if returned { at.saturating_sub(1) } else { at });
    let frame = FrameInfo::new(
        index,
        entry.code.func_names.get(&index).cloned(),
        entry.code.module_name.clone(),
        offset,
        f.body_start,
    );
    Some((frame, Arc::clone(&entry.code)))
}

/// The wasm stack of a compiled function that is running (it called a
/// helper): function `func` of store instance `instance`, at module offset
/// `offset`, whose frame pointer is `fp`, then its callers up to the entry.
///
/// # Safety
/// `fp` must be the frame pointer of that function's frame, which must be
/// live, as must the compiled frames that called it.
pub(crate) unsafe fn stack_at(
    store: &crate::runtime::store::StoreInner,
    instance: u32,
    fp: usize,
    func: u32,
    offset: u32,
) -> WasmBacktrace {
    let entity = &store.instances[instance as usize];
    let module = &entity.module;
    let body = &module.bodies[(func - module.num_imported_funcs) as usize];
    let mut top = FrameInfo::new(
        func,
        module.func_names.get(&func).cloned(),
        module.name.clone(),
        Some(offset as usize),
        body.start,
    );
    top.store_id = store.id;
    top.instance = instance;
    let mut backtrace = WasmBacktrace::default();
    let mut codes = Vec::new();
    let reader = Reader::new();
    // SAFETY: a compiled frame's record is its saved frame pointer followed
    // by its return address; each caller is followed only while it is a
    // compiled wasm function.
    let (mut pc, mut fp) = unsafe { (*((fp + 8) as *const usize), *(fp as *const usize)) };
    while let Some((frame, code)) = frame_at(&reader, pc, true) {
        if backtrace.frames.len() + 1 < WasmBacktrace::MAX_FRAMES {
            backtrace.frames.push(frame);
            codes.push(code);
        } else {
            backtrace.omitted += 1;
        }
        if fp == 0 {
            break;
        }
        // SAFETY: as above.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    drop(reader);
    let mut callers = Unwound {
        trap: None,
        backtrace,
        codes,
    };
    super::resolve_instances(store, instance, &mut callers);
    let mut stack = callers.backtrace;
    stack.frames.insert(0, top);
    stack
}

/// The handler that takes an exception thrown by the compiled code
/// whose call returns to `pc` and whose frame pointer is `fp`, or by its
/// compiled callers up to the first frame that is not compiled wasm code:
/// `matches(vmctx, tag)` says whether a handler for the module's tag index
/// `tag`, in a frame of context `vmctx`, takes it. Returns the handler's
/// address and the stack and frame pointers to run it with. `vmctx` is
/// the context of the innermost frame.
///
/// # Safety
/// `pc` and `fp` must head a chain of live frames, compiled frames
/// keeping frame pointers.
pub(crate) unsafe fn find_handler(
    mut pc: usize,
    mut fp: usize,
    vmctx: usize,
    mut matches: impl FnMut(usize, u32) -> bool,
) -> Option<(usize, usize, usize)> {
    let reader = Reader::new();
    let mut innermost = true;
    while let Some(entry) = reader.lookup(pc) {
        let f = &entry.code.funcs[entry.index];
        if f.func_index.is_none() {
            break;
        }
        let at = (pc - f.start) as u32;
        if let Ok(i) = f.call_sites.binary_search_by_key(&at, |s| s.ret) {
            let site = &f.call_sites[i];
            let sp = fp - site.frame_offset as usize;
            let ctx = match site.context {
                // SAFETY: the exception table says the frame keeps its
                // context there while the call runs.
                Some(at) => unsafe { *((sp + at as usize) as *const usize) },
                None if innermost => vmctx,
                // Never made (see `CallSite::context`): stop searching.
                None => return None,
            };
            for &(tag, handler) in &site.handlers[..] {
                if tag.is_none_or(|t| matches(ctx, t)) {
                    return Some((f.start + handler as usize, sp, fp));
                }
            }
        }
        if fp == 0 {
            break;
        }
        innermost = false;
        // SAFETY: compiled code keeps frame pointers: `fp` points at the
        // saved caller frame pointer, followed by the return address.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    None
}

/// The GC reference slots of one compiled frame, for the collector: the
/// frame of the compiled wasm function that made the call returning to
/// `pc`, whose frame pointer is `fp` (the pairs `stack_at` and the trap
/// handler walk: the return address and saved frame pointer found in the
/// callee's frame record). Calls `slot` with the address of each slot
/// holding a live reference cell (of the `any` or `extern` hierarchy) and
/// returns true, or returns false when `pc` is not in compiled wasm code
/// (the walk of compiled frames ends there). A call without references
/// live across it has no stack map: nothing to visit.
///
/// # Safety
/// The frame must be live and suspended in that call (its callee, or a
/// helper the callee called, is running).
pub(crate) unsafe fn frame_gc_slots(pc: usize, fp: usize, mut slot: impl FnMut(*mut u64)) -> bool {
    let reader = Reader::new();
    let Some(entry) = reader.lookup(pc) else {
        return false;
    };
    let f = &entry.code.funcs[entry.index];
    if f.func_index.is_none() {
        return false;
    }
    let at = (pc - f.start) as u32;
    if let Ok(i) = f.stack_maps.binary_search_by_key(&at, |m| m.at) {
        let map = &f.stack_maps[i];
        // The stack pointer at the call: Cranelift keeps the frame's size
        // fixed, from the frame pointer down.
        let sp = fp - map.frame_size as usize;
        for &offset in &map.slots {
            slot((sp + offset as usize) as *mut u64);
        }
    }
    true
}

/// The GC reference slots of a compiled segment's frames (see
/// [`frame_gc_slots`]): from the innermost, which made the call returning
/// to `pc` and whose frame pointer is `fp` (the segment's exit, as the
/// helpers' exit stubs record it), out to the first frame that is not
/// compiled wasm code (the entry's trampoline, or Rust code that entered a
/// loop entry directly). Returns false, having called `slot` for none,
/// when the innermost frame is not compiled wasm code: the segment is not
/// at a call whose stack map is known, so it is not at a safepoint.
///
/// # Safety
/// `pc` and `fp` must be the exit of a live segment suspended in that
/// call: its frames, keeping frame pointers, are live and unchanged.
pub(crate) unsafe fn segment_gc_slots(
    pc: usize,
    fp: usize,
    mut slot: impl FnMut(*mut u64),
) -> bool {
    let mut found: Vec<*mut u64> = Vec::new();
    let (mut pc, mut fp) = (pc, fp);
    let mut innermost = true;
    loop {
        // SAFETY: guaranteed by the caller for the innermost frame; each
        // caller is followed only while it is a compiled wasm function.
        if !unsafe { frame_gc_slots(pc, fp, |s| found.push(s)) } {
            if innermost {
                return false;
            }
            break;
        }
        innermost = false;
        if fp == 0 {
            break;
        }
        // SAFETY: compiled code keeps frame pointers: `fp` points at the
        // saved caller frame pointer, followed by the return address.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    found.into_iter().for_each(&mut slot);
    true
}

/// The trap a compiled-code trap code stands for; `None` for a helper's
/// pending error.
fn trap_for(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        code if code == TrapCodes::PENDING => return None,
        code => Trap::from_code(code.as_raw().get().wrapping_sub(1)),
    })
}

/// Reads the program counter and frame pointer from a signal context.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to the handler.
unsafe fn registers(ctx: *mut c_void) -> (usize, usize) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: guaranteed by the caller.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let regs = &(*uc).uc_mcontext.gregs;
            (
                regs[libc::REG_RIP as usize] as usize,
                regs[libc::REG_RBP as usize] as usize,
            )
        }
        #[cfg(target_arch = "aarch64")]
        {
            let mc = &(*uc).uc_mcontext;
            (mc.pc as usize, mc.regs[29] as usize)
        }
    }
}

/// The signal handler's work: when `pc` is a trapping instruction of
/// compiled code (or any instruction of it, for `SIGFPE`), records the
/// trap and the wasm frames from there outwards in this thread's
/// [`RECORD`] and returns where to resume: the handler of the trampoline
/// that entered the code (its address, stack and frame pointers; `None`
/// if no trampoline was found, which compiled code entered from the host
/// always has). `None` when it is not a wasm trap. Takes no lock and
/// allocates nothing.
///
/// # Safety
/// `fp` must be the frame pointer of the interrupted code when `pc` is in
/// compiled code.
#[allow(clippy::option_option)]
unsafe fn record_trap(sig: c_int, pc: usize, fp: usize) -> Option<Option<(usize, usize, usize)>> {
    let reader = Reader::new();
    let entry = reader.lookup(pc)?;
    let f = &entry.code.funcs[entry.index];
    let offset = (pc - f.start) as u32;
    let code = f
        .traps
        .iter()
        .find(|(o, _)| *o == offset)
        .map(|&(_, c)| c)
        .or_else(|| (sig == libc::SIGFPE).then_some(TrapCode::INTEGER_DIVISION_BY_ZERO));
    let code = code?;
    // SAFETY: only this thread's handler writes the record, and the code
    // reading it (`take_record`) is not running: this thread was in
    // compiled code.
    let record = RECORD.with(|r| unsafe { &mut *r.get() });
    record.code = code;
    record.len = 0;
    record.omitted = 0;
    // The wasm frames, up to the first frame that is not compiled wasm code:
    // the entry trampoline, whose call of the wasm function has the
    // handler to resume at.
    let (mut pc, mut fp) = (pc, fp);
    while let Some(entry) = reader.lookup(pc) {
        let f = &entry.code.funcs[entry.index];
        if f.func_index.is_none() {
            let at = (pc - f.start) as u32;
            let site = f
                .call_sites
                .binary_search_by_key(&at, |s| s.ret)
                .ok()
                .map(|i| &f.call_sites[i]);
            let resume = site.and_then(|site| {
                let &(_, handler) = site.handlers.first()?;
                Some((
                    f.start + handler as usize,
                    fp - site.frame_offset as usize,
                    fp,
                ))
            });
            return Some(resume);
        }
        match record.pcs.get_mut(record.len) {
            Some(slot) => {
                *slot = pc;
                record.len += 1;
            }
            None => record.omitted += 1,
        }
        if fp == 0 {
            break;
        }
        // SAFETY: compiled code keeps frame pointers: `fp` points at the
        // saved caller frame pointer, followed by the return address.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    Some(None)
}

/// Makes the interrupted context resume at `pc` with stack pointer `sp`
/// and frame pointer `fp` when the signal handler returns.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to the handler.
unsafe fn resume_at(ctx: *mut c_void, (pc, sp, fp): (usize, usize, usize)) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: guaranteed by the caller.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let regs = &mut (*uc).uc_mcontext.gregs;
            regs[libc::REG_RIP as usize] = pc as i64;
            regs[libc::REG_RSP as usize] = sp as i64;
            regs[libc::REG_RBP as usize] = fp as i64;
        }
        #[cfg(target_arch = "aarch64")]
        {
            let mc = &mut (*uc).uc_mcontext;
            mc.pc = pc as u64;
            mc.sp = sp as u64;
            mc.regs[29] = fp as u64;
        }
    }
}

const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers ours replaced, to pass foreign faults on to.
static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 4] =
    [const { std::mem::MaybeUninit::uninit() }; 4];

fn install_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed `sigaction` is a valid starting point; the
            // handler has the `SA_SIGINFO` signature. `PREVIOUS` is written
            // only here, once, before any handler can read it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (&raw mut PREVIOUS[i]).cast::<libc::sigaction>();
                libc::sigaction(sig, &action, previous);
            }
        }
    });
}

/// The handler for `SIGNALS`. Everything it does before jumping is
/// async-signal-safe in practice: it reads registers, searches the
/// registry snapshot, writes the thread's preallocated record and follows
/// frame pointers; names are resolved after the jump (`take_record`).
extern "C" fn handler(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    if ENTRIES.with(|e| e.get()) > 0 {
        // SAFETY: the kernel passes the interrupted context, whose frame
        // pointer is `fp`.
        let resume = unsafe {
            let (pc, fp) = registers(ctx);
            record_trap(sig, pc, fp)
        };
        if let Some(Some(resume)) = resume {
            // SAFETY: `ctx` is the interrupted context. The handler
            // returns; the kernel then resumes at the trampoline's
            // handler, discarding the compiled frames in between (which
            // own nothing). No Rust frame is skipped: the trampoline's
            // caller is `catch`'s closure, which gets 1 back.
            unsafe { resume_at(ctx, resume) };
            return;
        }
    }
    // Not a wasm trap: hand it to whoever handled it before us.
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    // SAFETY: `PREVIOUS[i]` was initialised before our handler was
    // installed; the previous handler gets exactly what we got.
    unsafe {
        let previous = &*(&raw const PREVIOUS[i]).cast::<libc::sigaction>();
        match previous.sa_sigaction {
            libc::SIG_DFL | libc::SIG_IGN => {
                // Restore it and return: the fault repeats and takes the
                // default action (usually terminating the process).
                libc::sigaction(sig, previous, std::ptr::null_mut());
            }
            f if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    std::mem::transmute(f);
                f(sig, info, ctx);
            }
            f => {
                let f: extern "C" fn(c_int) = std::mem::transmute(f);
                f(sig);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::time::Duration;

    /// Counts allocations made on a thread while it forbids them, to show
    /// that the signal handler's work allocates nothing.
    struct Counting;

    thread_local! {
        static FORBIDDEN: Cell<bool> = const { Cell::new(false) };
        static VIOLATIONS: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if FORBIDDEN.try_with(Cell::get).unwrap_or(false) {
                let _ = VIOLATIONS.try_with(|v| v.set(v.get() + 1));
            }
            // SAFETY: forwarded.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    /// Registers two fake functions at addresses no real code can have
    /// (the kernel's half of the address space): `start` holds function 0,
    /// with a trap site at offset 4, and `start + 0x100` function 1.
    fn fake_module(start: usize) -> Arc<CodeInfo> {
        let info = Arc::new(CodeInfo {
            funcs: vec![
                FuncCode {
                    start,
                    len: 0x100,
                    defined: 0,
                    func_index: Some(0),
                    traps: vec![(4, TrapCode::HEAP_OUT_OF_BOUNDS)],
                    srclocs: SrcLocs(Box::new([(0, 8, 0x30)])),
                    body_start: 0x2e,
                    call_sites: Vec::new(),
                    stack_maps: Vec::new(),
                },
                FuncCode {
                    start: start + 0x100,
                    len: 0x100,
                    defined: 1,
                    func_index: Some(1),
                    traps: Vec::new(),
                    srclocs: SrcLocs(Box::new([(0x70, 0x80, 0x50)])),
                    body_start: 0x40,
                    call_sites: Vec::new(),
                    stack_maps: vec![crate::jit::image::StackMap {
                        at: 0x78,
                        frame_size: 32,
                        slots: vec![8, 16],
                    }],
                },
            ],
            module_name: Some("fake".to_string()),
            func_names: HashMap::from([(0, "inner".to_string()), (1, "outer".to_string())]),
        });
        register(Arc::clone(&info));
        info
    }

    #[test]
    fn frames_yield_the_slots_of_their_stack_maps() {
        let start = 0x7000_0000_0000usize;
        let info = fake_module(start);
        let fp = 0x1000usize;
        let mut slots = Vec::new();
        // SAFETY: nothing is read: the addresses are only computed.
        let found = unsafe { frame_gc_slots(start + 0x178, fp, |s| slots.push(s as usize)) };
        assert!(found);
        // The stack pointer at the call is fp - 32.
        assert_eq!(slots, [fp - 32 + 8, fp - 32 + 16]);
        // A call without a stack map: a compiled frame with nothing live.
        slots.clear();
        assert!(unsafe { frame_gc_slots(start + 0x170, fp, |s| slots.push(s as usize)) });
        assert!(slots.is_empty());
        // Outside compiled code: the walk ends.
        assert!(!unsafe { frame_gc_slots(0x10, fp, |_| {}) });
        unregister(&info);
    }

    #[test]
    fn recording_a_trap_allocates_nothing() {
        let start = 0xffff_8000_0000_0000;
        let info = fake_module(start);
        // Two fake frames: the trapping function's frame record points at
        // its caller's (in function 1), whose caller is not compiled code.
        let mut stack = [0_usize; 4];
        stack[0] = std::ptr::addr_of!(stack[2]) as usize;
        stack[1] = start + 0x180;
        stack[3] = 0x10;
        let fp = stack.as_ptr() as usize;
        FORBIDDEN.with(|f| f.set(true));
        // SAFETY: `fp` heads a chain of frame records that ends in a
        // return address outside compiled code.
        let recorded = unsafe { record_trap(libc::SIGSEGV, start + 4, fp) };
        FORBIDDEN.with(|f| f.set(false));
        assert!(recorded.is_some());
        assert_eq!(VIOLATIONS.with(Cell::get), 0, "the handler allocated");
        let unwound = take_record();
        assert_eq!(unwound.trap, Some(Trap::MemoryOutOfBounds));
        let names: Vec<_> = unwound
            .backtrace
            .frames
            .iter()
            .map(|f| f.func_name.clone())
            .collect();
        assert_eq!(
            names,
            [Some("inner".to_string()), Some("outer".to_string())]
        );
        // The trapping instruction's offset, and the call's (the return
        // address at 0x80 belongs to the call that ends there).
        let offsets: Vec<_> = unwound
            .backtrace
            .frames
            .iter()
            .map(|f| (f.module_offset, f.func_offset))
            .collect();
        assert_eq!(offsets, [(Some(0x30), Some(2)), (Some(0x50), Some(0x10))]);
        assert!(unwound.codes.iter().all(|c| Arc::ptr_eq(c, &info)));
        // An instruction of compiled code that is not a trap site, and an
        // address outside compiled code, are not wasm traps.
        // SAFETY: as above.
        assert!(unsafe { record_trap(libc::SIGSEGV, start + 5, fp) }.is_none());
        assert!(unsafe { record_trap(libc::SIGSEGV, 0x10, fp) }.is_none());
        unregister(&info);
    }

    /// The handler search reads each frame's context where its call site
    /// says, tries the handlers in order, and moves to the caller when
    /// none takes the exception; it stops outside compiled code.
    #[test]
    fn handlers_are_found_through_frame_records() {
        use crate::jit::throw::CallSite;
        let start = 0xffff_a000_0000_0000_usize;
        let site = |ret, frame_offset, context, handlers: Vec<(Option<u32>, u32)>| CallSite {
            ret,
            frame_offset,
            context,
            handlers: handlers.into(),
        };
        let func = |at: usize, defined, sites| FuncCode {
            start: at,
            len: 0x100,
            defined,
            func_index: Some(defined),
            traps: Vec::new(),
            srclocs: SrcLocs::default(),
            body_start: 0,
            call_sites: sites,
            stack_maps: Vec::new(),
        };
        let info = Arc::new(CodeInfo {
            funcs: vec![
                func(
                    start,
                    0,
                    vec![site(0x10, 16, Some(8), vec![(Some(3), 0x40), (None, 0x50)])],
                ),
                func(
                    start + 0x100,
                    1,
                    vec![site(0x80, 8, Some(0), vec![(Some(1), 0x90)])],
                ),
            ],
            module_name: None,
            func_names: HashMap::new(),
        });
        register(Arc::clone(&info));
        // Function 0's frame: [sp] = 0, [sp + 8] = its context; the frame
        // record at sp + 16: the caller's frame pointer, and a return
        // address in function 1 just after its call site. Function 1's
        // frame: its context at sp = fp - 8, its record at fp; its caller
        // is not compiled code.
        let mut stack = [0_usize; 8];
        let p = stack.as_mut_ptr();
        let base = p as usize;
        let words = [
            (1, 0x1234),
            (2, base + 6 * 8),
            (3, start + 0x180),
            (5, 0x5678),
            (6, 0),
            (7, 0x10),
        ];
        for (i, word) in words {
            // SAFETY: `i` is within `stack`, written (and later read)
            // through `p` only.
            unsafe { p.add(i).write(word) };
        }
        let fp = base + 16;
        let found = |pc, matches: &dyn Fn(usize, u32) -> bool| {
            // SAFETY: `stack` holds the frame records described above.
            unsafe { find_handler(pc, fp, 0x9999, matches) }
        };
        // Tag 3 in a frame of context 0x1234 takes it.
        let hit = found(start + 0x10, &|ctx, tag| ctx == 0x1234 && tag == 3);
        assert_eq!(hit, Some((start + 0x40, base, fp)));
        // Not tag 3: the catch-all after it.
        assert_eq!(
            found(start + 0x10, &|_, _| false),
            Some((start + 0x50, base, fp))
        );
        // No call site at this return address: the caller's handler for
        // tag 1, read with its own context.
        let hit = found(start + 0x20, &|ctx, tag| ctx == 0x5678 && tag == 1);
        assert_eq!(hit, Some((start + 0x190, base + 5 * 8, base + 6 * 8)));
        // Nothing takes it: the search ends at the non-compiled caller.
        assert_eq!(found(start + 0x20, &|_, _| false), None);
        unregister(&info);
    }

    #[test]
    fn lookups_do_not_wait_for_registration() {
        let start = 0xffff_9000_0000_0000;
        let info = fake_module(start);
        // Registration in progress on this thread must not stop a handler
        // on another thread from finding its code.
        let registering = REGISTRATION.lock().unwrap_or_else(|e| e.into_inner());
        let (send, receive) = std::sync::mpsc::channel();
        let handler = std::thread::spawn(move || {
            let found = Reader::new().lookup(start + 4).map(|e| e.index);
            let _ = send.send(found);
        });
        let found = receive.recv_timeout(Duration::from_secs(5));
        drop(registering);
        handler.join().expect("the lookup thread finishes");
        assert_eq!(found, Ok(Some(0)), "the lookup waited for the lock");
        unregister(&info);
    }
}
