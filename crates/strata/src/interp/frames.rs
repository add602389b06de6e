//! What the interpreter's frames say about themselves: the backtrace of a
//! trap (or of a sample), with each frame's function, its offset in the
//! module binary, and, for core dumps, its locals.

use super::exec::Frame;
use super::CompiledFunc;
use crate::runtime::store::StoreInner;
use crate::trap::{FrameInfo, WasmBacktrace};
use crate::types::raw::v128_from_cells;
use crate::types::ValType;

/// The backtrace of the frames `frames` (outermost first) of a stack whose
/// value slots are `slots`; the innermost frame stopped at its function's
/// instruction `top_pc`, the others at the call they resume after. Without
/// `top_pc`, every frame is at a call (the trap happened in the callee,
/// compiled code for instance, which has its own frames).
pub(crate) fn backtrace(
    store: &StoreInner,
    frames: &[Frame],
    slots: &[u64],
    top_pc: Option<usize>,
) -> WasmBacktrace {
    let omitted = frames.len().saturating_sub(WasmBacktrace::MAX_FRAMES);
    let locals = store.engine.config().coredump_on_trap;
    let innermost = frames.len().wrapping_sub(1);
    let frames = frames
        .iter()
        .enumerate()
        .skip(omitted)
        .rev()
        .map(|(i, frame)| {
            // SAFETY: the store keeps the code of its instances alive, and
            // a frame's code pointer is one of them.
            let code: &CompiledFunc = unsafe { &*frame.code };
            let offset = if let (true, Some(top_pc)) = (i == innermost, top_pc) {
                code.offsets.at(top_pc)
            } else {
                // SAFETY: `ret` points into the frame's own instructions.
                let ret = unsafe { frame.ret.offset_from(code.instrs.as_ptr()) };
                code.offsets.before(ret as usize)
            };
            let module = &store.instances[frame.instance as usize].module;
            let index = code.func_index;
            let body = &module.bodies[(index - module.num_imported_funcs) as usize];
            let mut info = FrameInfo::new(
                index,
                module.func_names.get(&index).cloned(),
                module.name.clone(),
                offset,
                body.start,
            );
            info.store_id = store.id;
            info.instance = frame.instance;
            if locals {
                info.locals = frame_locals(store, frame, slots);
            }
            info
        })
        .collect();
    WasmBacktrace { frames, omitted }
}

/// The locals of `frame` (parameters, then declared locals), read from
/// their slots.
fn frame_locals(
    store: &StoreInner,
    frame: &Frame,
    slots: &[u64],
) -> Option<Box<[(ValType, u128)]>> {
    // SAFETY: as in `backtrace`.
    let index = unsafe { (*frame.code).func_index };
    let module = &store.instances[frame.instance as usize].module;
    let mut types: Vec<ValType> = module.func_type(index).params().to_vec();
    let body = module.body((index - module.num_imported_funcs) as usize);
    for local in body.get_locals_reader().ok()? {
        let (count, ty) = local.ok()?;
        types.extend(std::iter::repeat_n(
            module.val_type(ty).ok()?,
            count as usize,
        ));
    }
    let mut cell = frame.base;
    let mut locals = Vec::with_capacity(types.len());
    for ty in types {
        let low = *slots.get(cell)?;
        let value = if ty.cells() == 2 {
            v128_from_cells(low, *slots.get(cell + 1)?)
        } else {
            u128::from(low)
        };
        locals.push((ty, value));
        cell += ty.cells();
    }
    Some(locals.into())
}

/// Calls `f` with every slot of `frames` (outermost first, of a stack
/// whose value slots are `slots`) that holds a reference the collector
/// traces: each frame is suspended at the safepoint its `ret` resumes
/// after, whose stack map names those slots (`stack_maps.rs`).
pub(crate) fn for_each_ref(frames: &[Frame], slots: &[u64], f: &mut impl FnMut(u64)) {
    for (i, frame) in frames.iter().enumerate() {
        // SAFETY: as in `backtrace`.
        let code: &CompiledFunc = unsafe { &*frame.code };
        let Some(maps) = &code.stack_maps else {
            continue;
        };
        // SAFETY: `ret` points into the frame's own instructions.
        let at = unsafe { frame.ret.offset_from(code.instrs.as_ptr()) };
        match maps.at(at as u32) {
            Some(refs) => {
                for s in refs {
                    if let Some(&v) = slots.get(frame.base + s as usize) {
                        f(v);
                    }
                }
            }
            None => {
                // Every frame is suspended at a safepoint: the driver sets
                // `ret` before it publishes. Should that ever fail, reading
                // the frame's slots conservatively only retains garbage,
                // where skipping it could free a live object.
                debug_assert!(false, "a frame suspended outside a safepoint");
                let end = frames
                    .get(i + 1)
                    .map_or(frame.base + code.frame_size as usize, |next| next.base)
                    .min(slots.len());
                slots
                    .get(frame.base..end)
                    .into_iter()
                    .flatten()
                    .for_each(|&v| f(v));
            }
        }
    }
}
