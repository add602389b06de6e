//! The driver's atomic instructions: address checks, the access itself
//! (`runtime::vm::atomic`, the one definition of their semantics in Rust)
//! and, for `memory.atomic.wait/notify`, the shared memory's parking lot.

use crate::isa::atomic::{AtomicKind, AtomicOp};
use crate::runtime::shared::{atomic_address, atomic_notify, atomic_wait};
use crate::runtime::store::StoreInner;
use crate::runtime::vm::{atomic, VMContext, VMRuntimeLimits};
use crate::Trap;

/// Runs atomic instruction `op` on memory `memory` of the instance with
/// context `vmctx` (store index `instance`) at `addr + offset`, with
/// operands `a` and `b` (see `AtomicKind`); returns its result (0 for a
/// store).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    store: &StoreInner,
    instance: u32,
    vmctx: *const VMContext,
    op: AtomicOp,
    memory: u32,
    (addr, offset): (u64, u64),
    a: u64,
    b: u64,
) -> Result<u64, Trap> {
    let size = u64::from(op.size());
    match op.kind() {
        AtomicKind::Notify | AtomicKind::Wait => {
            let index = store.instances[instance as usize].memories[memory as usize];
            let mem = &store.memories[index as usize].mem;
            let ea = addr.checked_add(offset).ok_or(Trap::MemoryOutOfBounds)?;
            if op.kind() == AtomicKind::Notify {
                return atomic_notify(mem, ea, a as u32).map(u64::from);
            }
            // SAFETY: the context's limits belong to the live store; the
            // wait polls its epoch deadline so that an interrupt (e.g.
            // `-W timeout`) ends a wait that nothing would ever notify.
            let limits = unsafe { (*vmctx).limits };
            let epochs = store.engine.config().epoch_interruption;
            let mut interrupted = || epochs && unsafe { VMRuntimeLimits::epoch_passed(limits) };
            let expected = if size == 4 { u64::from(a as u32) } else { a };
            atomic_wait(mem, ea, expected, size, b as i64, &mut interrupted)
                .map(|r| u64::from(r.code()))
        }
        kind => {
            // SAFETY: `vmctx` is the live context of the executing
            // instance, and validation guarantees `memory` is one of its
            // memories.
            let vm = unsafe { &*VMContext::memory(vmctx, memory) };
            let ea = atomic_address(addr, offset, size, vm.len())?;
            // SAFETY: `ea` is in bounds and aligned (checked above); a
            // memory's bytes are only accessed atomically or through raw
            // pointers.
            Ok(unsafe { atomic(kind, op.size(), vm.base.add(ea as usize), a, b) })
        }
    }
}
