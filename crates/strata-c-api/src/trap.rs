//! Traps and frames: `wasm_trap_t` (message, origin, trace) and
//! `wasm_frame_t`.
//!
//! Every error of a call or an instantiation reaches C as a trap. Its
//! message is the trap's own (`unreachable`, `all fuel consumed by
//! WebAssembly`, ...) for a WebAssembly trap, the message a host function's
//! trap was created with, or the error with its causes otherwise; like
//! wasmtime, `wasm_trap_message` returns it NUL-terminated.
//!
//! A frame's offsets are those of its instruction (the trapping one, or
//! the call) in the module binary and in the function's body; an offset
//! the tier could not tell is `SIZE_MAX`, as in wasmtime.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::StoreRc;
use crate::vec::{wasm_frame_vec_t, wasm_message_t, WasmVec};
use crate::{wasm_instance_t, wasm_store_t};
use std::fmt;
use std::mem::MaybeUninit;
use std::rc::Rc;
use strata::{Trap, WasmBacktrace};

/// The error a host function's returned trap becomes inside Strata.
#[derive(Debug)]
pub(crate) struct HostTrap(pub(crate) String);

impl fmt::Display for HostTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostTrap {}

/// What a trap says.
pub(crate) struct TrapData {
    pub(crate) message: String,
    frames: Vec<wasm_frame_t>,
    /// The exception a host function throws by returning this trap
    /// (`strata_trap_throw`, `exn.rs`).
    pub(crate) exn: Option<crate::r#ref::wasm_ref_t>,
}

/// `wasm_frame_t`: one wasm frame of a trap's trace.
#[derive(Clone)]
pub struct wasm_frame_t {
    func_index: u32,
    func_offset: Option<usize>,
    module_offset: Option<usize>,
    instance: Option<Box<wasm_instance_t>>,
}

ref_type!(
    /// `wasm_trap_t`: why a call or instantiation failed.
    wasm_trap_t,
    crate::r#ref::wasm_ref_t,
    Trap(..)
);
declare_ref!(trap, wasm_trap_t);

impl wasm_trap_t {
    fn data(&self) -> &TrapData {
        match &self.inner.kind {
            RefKind::Trap(t) => t,
            // `RefType::accepts` admits only traps.
            _ => unreachable!("wasm_trap_t holds a trap"),
        }
    }

    /// The trap for an error of a call or instantiation in `store`.
    pub(crate) fn from_error(err: anyhow::Error, store: &StoreRc) -> Box<wasm_trap_t> {
        let message = if let Some(trap) = err.downcast_ref::<Trap>() {
            trap.message().to_string()
        } else if let Some(host) = err.downcast_ref::<HostTrap>() {
            host.0.clone()
        } else {
            format!("{err:#}")
        };
        let frames = err
            .downcast_ref::<WasmBacktrace>()
            .map(|bt| {
                bt.frames()
                    .iter()
                    .map(|f| wasm_frame_t {
                        func_index: f.func_index(),
                        func_offset: f.func_offset(),
                        module_offset: f.module_offset(),
                        instance: Some(wasm_instance_t::boxed(RefKind::Instance(
                            store.clone(),
                            f.instance(),
                        ))),
                    })
                    .collect()
            })
            .unwrap_or_default();
        wasm_trap_t::boxed(RefKind::Trap(Rc::new(TrapData {
            message,
            frames,
            exn: None,
        })))
    }

    /// The trap for a message, with no frames.
    pub(crate) fn from_message(message: String) -> Box<wasm_trap_t> {
        wasm_trap_t::boxed(RefKind::Trap(Rc::new(TrapData {
            message,
            frames: Vec::new(),
            exn: None,
        })))
    }

    /// The trap a host function returns to throw exception `exn`.
    pub(crate) fn throwing(exn: crate::r#ref::wasm_ref_t) -> Box<wasm_trap_t> {
        wasm_trap_t::boxed(RefKind::Trap(Rc::new(TrapData {
            message: "thrown WebAssembly exception".to_string(),
            frames: Vec::new(),
            exn: Some(exn),
        })))
    }
}

/// `wasm_trap_new`: a trap with a message (NUL-terminated or not), for a
/// host function to return.
#[no_mangle]
pub extern "C" fn wasm_trap_new(
    _store: Option<&wasm_store_t>,
    message: Option<&wasm_message_t>,
) -> Box<wasm_trap_t> {
    let bytes = message.map_or(&[][..], |m| m.as_slice());
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    wasm_trap_t::from_message(String::from_utf8_lossy(bytes).into_owned())
}

/// `wasm_trap_message`: the message, NUL-terminated.
#[no_mangle]
pub extern "C" fn wasm_trap_message(
    trap: Option<&wasm_trap_t>,
    out: Option<&mut MaybeUninit<wasm_message_t>>,
) {
    let Some(out) = out else { return };
    let mut bytes = trap.map_or_else(Vec::new, |t| t.data().message.as_bytes().to_vec());
    bytes.push(0);
    out.write(WasmVec::from_vec(bytes));
}

/// `wasm_trap_origin`: the innermost frame, or null when there is none.
#[no_mangle]
pub extern "C" fn wasm_trap_origin(trap: Option<&wasm_trap_t>) -> Option<Box<wasm_frame_t>> {
    trap?.data().frames.first().cloned().map(Box::new)
}

/// `wasm_trap_trace`: the frames, innermost first.
#[no_mangle]
pub extern "C" fn wasm_trap_trace(
    trap: Option<&wasm_trap_t>,
    out: Option<&mut MaybeUninit<wasm_frame_vec_t>>,
) {
    let Some(out) = out else { return };
    let frames = trap.map_or_else(Vec::new, |t| {
        t.data()
            .frames
            .iter()
            .map(|f| Some(Box::new(f.clone())))
            .collect()
    });
    out.write(WasmVec::from_vec(frames));
}

/// `wasm_frame_delete`.
#[no_mangle]
pub extern "C" fn wasm_frame_delete(_frame: Option<Box<wasm_frame_t>>) {}

/// `wasm_frame_copy`.
#[no_mangle]
pub extern "C" fn wasm_frame_copy(frame: Option<&wasm_frame_t>) -> Option<Box<wasm_frame_t>> {
    frame.map(|f| Box::new(f.clone()))
}

/// `wasm_frame_instance`: the instance of the frame's function, owned by
/// the frame.
#[no_mangle]
pub extern "C" fn wasm_frame_instance(frame: Option<&wasm_frame_t>) -> Option<&wasm_instance_t> {
    frame?.instance.as_deref()
}

/// `wasm_frame_func_index`: the function's index in its module.
#[no_mangle]
pub extern "C" fn wasm_frame_func_index(frame: Option<&wasm_frame_t>) -> u32 {
    frame.map_or(u32::MAX, |f| f.func_index)
}

/// `wasm_frame_func_offset`: the frame's instruction's offset from the
/// start of its function's body, or `SIZE_MAX` when unknown.
#[no_mangle]
pub extern "C" fn wasm_frame_func_offset(frame: Option<&wasm_frame_t>) -> usize {
    frame.and_then(|f| f.func_offset).unwrap_or(usize::MAX)
}

/// `wasm_frame_module_offset`: the frame's instruction's offset in the
/// module binary, or `SIZE_MAX` when unknown.
#[no_mangle]
pub extern "C" fn wasm_frame_module_offset(frame: Option<&wasm_frame_t>) -> usize {
    frame.and_then(|f| f.module_offset).unwrap_or(usize::MAX)
}
