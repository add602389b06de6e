//! Unwinding interpreter frames to the handler of a thrown exception.
//!
//! Unwinding only reads the frame stack and each function's handler table
//! (`CompiledFunc::handlers`): it uses no host stack, whatever the depth.
//! The driver calls it when an instruction throws or a call out ends with
//! a thrown exception (`runtime::exn::thrown`), then carries on in the
//! frame that caught it; an exception no frame catches leaves the
//! interpreter (`runtime::exn::raise`).

use super::exec::Frame;
use super::ops::Op;
use super::{CatchKind, CompiledFunc};
use crate::runtime::store::StoreInner;

/// Looks for the handler of exception `exn` in `frames`, innermost first:
/// the top frame stopped at its instruction `top_pc`, every other one at
/// its call (the instruction before its return address). When a clause
/// catches it, the frames above that frame are popped, the clause's values
/// are written to the frame's slots where its label expects them, and the
/// frame resumes at the clause's landing pad: true. False when nothing
/// catches it; the frames are then left as they were.
pub(super) fn unwind(
    store: &StoreInner,
    frames: &mut Vec<Frame>,
    slots: &mut [u64],
    top_pc: usize,
    exn: u32,
) -> bool {
    let (Some(tag), Some(payload)) = (
        crate::runtime::exn::tag_of(store, exn),
        crate::runtime::exn::payload_of(store, exn),
    ) else {
        return false;
    };
    for i in (0..frames.len()).rev() {
        let frame = frames[i];
        // SAFETY: the store's function table keeps every frame's code
        // alive while it executes.
        let code: &CompiledFunc = unsafe { &*frame.code };
        let pc = if i + 1 == frames.len() {
            // A tail call out (to a host or compiled function) replaced
            // this frame: its handlers no longer apply.
            if matches!(
                code.ops.get(top_pc),
                Some(
                    Op::ReturnCall { .. }
                        | Op::ReturnCallIndirect { .. }
                        | Op::ReturnCallRef { .. }
                )
            ) {
                continue;
            }
            top_pc
        } else {
            // SAFETY: a caller's return address points into its function's
            // instructions, just after the call.
            let ret = unsafe { frame.ret.offset_from(code.instrs.as_ptr()) };
            (ret as usize).saturating_sub(1)
        };
        let mut point = pc as u32;
        let tags = &store.instances[frame.instance as usize].tags;
        // Ranges nest, and entries are in opening order: going down from
        // the last entry, those holding `point` come innermost first. A
        // legacy `delegate` moves the search to the handler around its
        // label: the search goes on down from that entry, at its start.
        let mut next = code.handlers.len();
        'handlers: while next > 0 {
            next -= 1;
            let handler = &code.handlers[next];
            if !(handler.start <= point && point < handler.end) {
                continue;
            }
            for clause in handler.clauses.iter() {
                let (exn_first, with_payload, with_exn) = match clause.kind {
                    CatchKind::Tag(t) if tags[t as usize] == tag => (false, true, false),
                    CatchKind::TagRef(t) if tags[t as usize] == tag => (false, true, true),
                    CatchKind::LegacyTag(t) if tags[t as usize] == tag => (true, true, true),
                    CatchKind::All => (false, false, false),
                    CatchKind::AllRef => (false, false, true),
                    CatchKind::LegacyAll => (true, false, true),
                    CatchKind::Delegate(to) => match code.handlers.get(to as usize) {
                        Some(outer) => {
                            point = outer.start;
                            next = to as usize + 1;
                            continue 'handlers;
                        }
                        None => break 'handlers,
                    },
                    CatchKind::Tag(_) | CatchKind::TagRef(_) | CatchKind::LegacyTag(_) => continue,
                };
                let mut at = frame.base + clause.dst as usize;
                if exn_first {
                    slots[at] = u64::from(exn);
                    at += 1;
                }
                if with_payload {
                    slots[at..at + payload.len()].copy_from_slice(&payload);
                    at += payload.len();
                }
                if with_exn && !exn_first {
                    slots[at] = u64::from(exn);
                }
                frames.truncate(i + 1);
                // SAFETY: the landing pad is an instruction of the function.
                frames[i].ret = unsafe { code.instrs.as_ptr().add(clause.target as usize) };
                return true;
            }
        }
    }
    false
}
