//! The `strata.h` extensions: error messages, `.wat` input, modules with
//! error messages, fuel, epoch interruption and the wasm stack limit.
//!
//! There is no WASI configuration yet: `strata-wasi` is reachable from
//! Rust only.

use crate::engine::{wasm_config_t, wasm_engine_t};
use crate::module::wasm_module_t;
use crate::vec::{wasm_byte_vec_t, wasm_name_t, WasmVec};
use crate::wasm_store_t;
use std::mem::MaybeUninit;

/// `strata_error_t`: why an extension function failed.
pub struct strata_error_t {
    message: String,
}

impl strata_error_t {
    pub(crate) fn boxed(err: anyhow::Error) -> Option<Box<strata_error_t>> {
        Some(Box::new(strata_error_t {
            message: format!("{err:#}"),
        }))
    }
}

/// `strata_error_message`: the message, not NUL-terminated.
#[no_mangle]
pub extern "C" fn strata_error_message(
    error: Option<&strata_error_t>,
    out: Option<&mut MaybeUninit<wasm_name_t>>,
) {
    if let Some(out) = out {
        let bytes = error.map_or(&[][..], |e| e.message.as_bytes());
        out.write(wasm_name_t::from_bytes(bytes));
    }
}

/// `strata_error_delete`.
#[no_mangle]
pub extern "C" fn strata_error_delete(_error: Option<Box<strata_error_t>>) {}

/// `strata_wat2wasm`: translates WebAssembly text to a binary in `out`.
/// Returns null on success, or an error (and leaves `out` empty).
///
/// # Safety
/// `wat` must point at `len` readable bytes (or be null with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn strata_wat2wasm(
    wat: *const u8,
    len: usize,
    out: Option<&mut MaybeUninit<wasm_byte_vec_t>>,
) -> Option<Box<strata_error_t>> {
    let Some(out) = out else {
        return strata_error_t::boxed(anyhow::anyhow!("null output vector"));
    };
    // The text as a vector view over C's bytes (never freed here).
    let view = std::mem::ManuallyDrop::new(WasmVec::<u8> {
        size: len,
        data: wat.cast_mut(),
    });
    let result = crate::guard(|| wat::parse_bytes(view.as_slice()).map(|b| b.into_owned()));
    match result {
        Some(Ok(bytes)) => {
            out.write(WasmVec::from_vec(bytes));
            None
        }
        Some(Err(e)) => {
            out.write(WasmVec::empty());
            strata_error_t::boxed(e.into())
        }
        None => {
            out.write(WasmVec::empty());
            strata_error_t::boxed(anyhow::anyhow!("internal error: wat2wasm panicked"))
        }
    }
}

/// `strata_module_new`: like `wasm_module_new`, but says why a module is
/// rejected. On success stores the module in `out` and returns null.
#[no_mangle]
pub extern "C" fn strata_module_new(
    engine: Option<&wasm_engine_t>,
    binary: Option<&wasm_byte_vec_t>,
    out: Option<&mut *mut wasm_module_t>,
) -> Option<Box<strata_error_t>> {
    let (Some(engine), Some(binary), Some(out)) = (engine, binary, out) else {
        return strata_error_t::boxed(anyhow::anyhow!("null argument"));
    };
    match crate::module::compile(&engine.engine, binary.as_slice()) {
        Ok(module) => {
            *out = Box::into_raw(module);
            None
        }
        Err(e) => strata_error_t::boxed(e),
    }
}

/// `strata_config_consume_fuel`: meter execution with fuel (see
/// `strata_store_set_fuel`); running out traps.
#[no_mangle]
pub extern "C" fn strata_config_consume_fuel(config: Option<&mut wasm_config_t>, enable: bool) {
    if let Some(c) = config {
        c.config.consume_fuel(enable);
    }
}

/// `strata_config_epoch_interruption`: let `strata_engine_increment_epoch`
/// interrupt running wasm once a store's deadline passes.
#[no_mangle]
pub extern "C" fn strata_config_epoch_interruption(
    config: Option<&mut wasm_config_t>,
    enable: bool,
) {
    if let Some(c) = config {
        c.config.epoch_interruption(enable);
    }
}

/// `strata_config_max_wasm_stack`: the most stack, in bytes, wasm may use.
#[no_mangle]
pub extern "C" fn strata_config_max_wasm_stack(config: Option<&mut wasm_config_t>, bytes: usize) {
    if let Some(c) = config {
        c.config.max_wasm_stack(bytes);
    }
}

/// `strata_config_tier`: chooses the execution tier (`STRATA_TIER_TIERED`,
/// `STRATA_TIER_JIT` or `STRATA_TIER_INTERP`); false, leaving the configuration unchanged, when
/// the tier is unknown or not available in this build or on this host.
#[no_mangle]
pub extern "C" fn strata_config_tier(config: Option<&mut wasm_config_t>, tier: u32) -> bool {
    let tier = match tier {
        0 => strata::Tier::Interp,
        1 => strata::Tier::Jit,
        2 => strata::Tier::Tiered,
        _ => return false,
    };
    match config {
        Some(c) if tier.is_available() => {
            c.config.tier(tier);
            true
        }
        _ => false,
    }
}

/// `strata_config_wasm_feature`: switches the WebAssembly proposal `name`
/// (`"simd"`, `"gc"`, ..., as `strata run -W NAME=y` spells it, with its
/// prerequisites); false, leaving the configuration unchanged, for an
/// unknown name or a name that is not UTF-8.
///
/// # Safety
/// `name` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strata_config_wasm_feature(
    config: Option<&mut wasm_config_t>,
    name: *const std::ffi::c_char,
    enable: bool,
) -> bool {
    let (Some(config), false) = (config, name.is_null()) else {
        return false;
    };
    // SAFETY: a non-null `name` is a NUL-terminated string (caller rule).
    let name = unsafe { std::ffi::CStr::from_ptr(name) };
    match name.to_str() {
        Ok(name) => config.config.set_feature(name, enable).is_ok(),
        Err(_) => false,
    }
}

/// `strata_engine_increment_epoch`: advances the engine's epoch; safe to
/// call from any thread.
#[no_mangle]
pub extern "C" fn strata_engine_increment_epoch(engine: Option<&wasm_engine_t>) {
    if let Some(e) = engine {
        e.engine.increment_epoch();
    }
}

/// `strata_store_set_fuel`: fails when the engine does not consume fuel.
#[no_mangle]
pub extern "C" fn strata_store_set_fuel(
    store: Option<&mut wasm_store_t>,
    fuel: u64,
) -> Option<Box<strata_error_t>> {
    let Some(store) = store else {
        return strata_error_t::boxed(anyhow::anyhow!("null store"));
    };
    store
        .ctx
        .with(|s| s.set_fuel(fuel))
        .err()
        .and_then(strata_error_t::boxed)
}

/// `strata_store_get_fuel`: the fuel left, in `out`.
#[no_mangle]
pub extern "C" fn strata_store_get_fuel(
    store: Option<&wasm_store_t>,
    out: Option<&mut u64>,
) -> Option<Box<strata_error_t>> {
    let (Some(store), Some(out)) = (store, out) else {
        return strata_error_t::boxed(anyhow::anyhow!("null argument"));
    };
    match store.ctx.with(|s| s.get_fuel()) {
        Ok(fuel) => {
            *out = fuel;
            None
        }
        Err(e) => strata_error_t::boxed(e),
    }
}

/// `strata_store_set_epoch_deadline`: interrupt wasm once the engine's
/// epoch is `ticks` beyond its current value.
#[no_mangle]
pub extern "C" fn strata_store_set_epoch_deadline(store: Option<&mut wasm_store_t>, ticks: u64) {
    if let Some(store) = store {
        store.ctx.with(|s| s.set_epoch_deadline(ticks));
    }
}
