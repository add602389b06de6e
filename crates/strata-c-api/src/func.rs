//! Functions: host functions defined by C (with and without an
//! environment), their types, and calls from C into wasm.
//!
//! A C callback receives its arguments as a `wasm_val_vec_t` that it must
//! not keep, and a results vector pre-filled with `i32` zeros, one slot per
//! result, that it overwrites. Returning a trap (from `wasm_trap_new`)
//! makes the wasm call fail with that trap's message.

use crate::r#ref::{declare_ref, ref_type, RefKind, RefType};
use crate::store::{HostCallScope, StoreCtx, StoreRc};
use crate::trap::HostTrap;
use crate::val::wasm_val_t;
use crate::vec::{wasm_val_vec_t, WasmVec};
use crate::{guard, wasm_extern_t, wasm_functype_t, wasm_store_t, wasm_trap_t};
use anyhow::{anyhow, bail};
use std::ffi::c_void;
use std::rc::Rc;
use strata::{AsContext, AsContextMut, Caller, ExternType, Func, Val};

ref_type!(
    /// `wasm_func_t`: a wasm or host function of a store.
    wasm_func_t,
    wasm_extern_t,
    Func(..)
);
declare_ref!(func, wasm_func_t);

impl wasm_func_t {
    fn func(&self) -> (&StoreRc, Func) {
        match &self.inner.inner.kind {
            RefKind::Func(s, f) => (s, *f),
            // `RefType::accepts` admits only functions.
            _ => unreachable!("wasm_func_t holds a function"),
        }
    }
}

/// `wasm_func_callback_t`.
pub type wasm_func_callback_t = unsafe extern "C" fn(
    args: *const wasm_val_vec_t,
    results: *mut wasm_val_vec_t,
) -> *mut wasm_trap_t;

/// `wasm_func_callback_with_env_t`.
pub type wasm_func_callback_with_env_t = unsafe extern "C" fn(
    env: *mut c_void,
    args: *const wasm_val_vec_t,
    results: *mut wasm_val_vec_t,
) -> *mut wasm_trap_t;

/// A C callback and its environment.
enum Callback {
    Plain(wasm_func_callback_t),
    WithEnv {
        callback: wasm_func_callback_with_env_t,
        env: *mut c_void,
        finalizer: Option<unsafe extern "C" fn(*mut c_void)>,
    },
}

// SAFETY: a store, and so its host functions, is only used by one thread at
// a time; C is responsible for an environment it shares between threads.
unsafe impl Send for Callback {}
// SAFETY: as above.
unsafe impl Sync for Callback {}

impl Drop for Callback {
    fn drop(&mut self) {
        if let Callback::WithEnv {
            env,
            finalizer: Some(f),
            ..
        } = self
        {
            // SAFETY: the finalizer C gave for this environment, called once,
            // when the store that owns the function goes away.
            unsafe { f(*env) }
        }
    }
}

/// The address of the store context, from inside the store's host
/// functions (which the context owns, so it outlives them).
struct CtxPtr(*const StoreCtx);
// SAFETY: see `Callback`.
unsafe impl Send for CtxPtr {}
// SAFETY: see `Callback`.
unsafe impl Sync for CtxPtr {}

impl CtxPtr {
    /// The address (a method, so closures capture the whole `CtxPtr`).
    fn get(&self) -> *const StoreCtx {
        self.0
    }
}

impl Callback {
    fn call(&self, args: &wasm_val_vec_t, results: &mut wasm_val_vec_t) -> *mut wasm_trap_t {
        // SAFETY: calling the function pointer C registered, with vectors
        // that stay alive for the call.
        unsafe {
            match self {
                Callback::Plain(f) => f(args, results),
                Callback::WithEnv { callback, env, .. } => callback(*env, args, results),
            }
        }
    }
}

fn new_func(store: &wasm_store_t, ty: &wasm_functype_t, callback: Callback) -> Box<wasm_func_t> {
    let ctx = &store.ctx;
    let ty = ty.func_type();
    let ctx_ptr = CtxPtr(Rc::as_ptr(ctx));
    let result_types = ty.results().to_vec();
    let host = move |mut caller: Caller<'_, ()>, params: &[Val], results: &mut [Val]| {
        // SAFETY: the context owns the store that owns this function, so
        // it is alive while the function runs.
        let ctx_rc = unsafe { StoreCtx::rc_from_ptr(ctx_ptr.get()) };
        let _scope = HostCallScope::enter(&ctx_rc, caller.as_context_mut());
        let args: Vec<wasm_val_t> = params
            .iter()
            .map(|v| {
                let v = ctx_rc.with(|s| crate::val::escape(*v, s));
                wasm_val_t::from_val(v, &ctx_rc)
            })
            .collect();
        let args = WasmVec::from_vec(args);
        let mut out = WasmVec::from_vec(results.iter().map(|_| wasm_val_t::zero()).collect());
        let trap = callback.call(&args, &mut out);
        if !trap.is_null() {
            // SAFETY: the callback returns an owned trap (C API rule), made
            // by `wasm_trap_new` or another function of this library.
            let trap = unsafe { Box::from_raw(trap) };
            let message = match &trap.inner.kind {
                RefKind::Trap(t) => match t.exn.as_ref().map(|e| &e.kind) {
                    // `strata_trap_throw`: the exception unwinds the wasm
                    // frames that called this function. `raise` makes it
                    // the store's pending exception (a root) before the
                    // trap's handle drops its own root.
                    Some(RefKind::Exn(_, exn)) => {
                        let exn = *exn;
                        let thrown = ctx_rc.with(|s| s.throw::<()>(exn));
                        return thrown.map_err(anyhow::Error::new);
                    }
                    _ => t.message.clone(),
                },
                _ => "host function returned a non-trap object".to_string(),
            };
            return Err(anyhow::Error::new(HostTrap(message)));
        }
        for (i, (slot, val)) in results.iter_mut().zip(out.as_slice()).enumerate() {
            let v = val
                .to_val()
                .map_err(|e| anyhow!("host function result {i}: {e}"))?;
            if v.ty() != result_types[i] {
                bail!(
                    "host function result {i} has type {}, expected {}",
                    v.ty(),
                    result_types[i]
                );
            }
            // Rooted by this call (until the caller has the results), not
            // by the C value `out` drops.
            *slot = ctx_rc.with(|s| crate::val::root_here(v, s));
        }
        Ok(())
    };
    let func = ctx.with(|s| Func::new(s, ty, host));
    wasm_func_t::boxed(RefKind::Func(ctx.clone(), func))
}

/// `wasm_func_new`: a host function of type `ty` that calls `callback`.
#[no_mangle]
pub extern "C" fn wasm_func_new(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_functype_t>,
    callback: Option<wasm_func_callback_t>,
) -> Option<Box<wasm_func_t>> {
    Some(new_func(store?, ty?, Callback::Plain(callback?)))
}

/// `wasm_func_new_with_env`: a host function that passes `env` to
/// `callback`; `finalizer` (if not null) receives `env` when the store
/// goes away.
#[no_mangle]
pub extern "C" fn wasm_func_new_with_env(
    store: Option<&wasm_store_t>,
    ty: Option<&wasm_functype_t>,
    callback: Option<wasm_func_callback_with_env_t>,
    env: *mut c_void,
    finalizer: Option<unsafe extern "C" fn(*mut c_void)>,
) -> Option<Box<wasm_func_t>> {
    let cb = Callback::WithEnv {
        callback: callback?,
        env,
        finalizer,
    };
    Some(new_func(store?, ty?, cb))
}

/// `wasm_func_type`.
#[no_mangle]
pub extern "C" fn wasm_func_type(f: Option<&wasm_func_t>) -> Option<Box<wasm_functype_t>> {
    let (store, func) = f?.func();
    let ty = store.with(|s| func.ty(&*s));
    Some(wasm_functype_t::boxed(ExternType::Func(ty)))
}

/// `wasm_func_param_arity`.
#[no_mangle]
pub extern "C" fn wasm_func_param_arity(f: Option<&wasm_func_t>) -> usize {
    f.map_or(0, |f| {
        let (store, func) = f.func();
        store.with(|s| func.ty(&*s).params().len())
    })
}

/// `wasm_func_result_arity`.
#[no_mangle]
pub extern "C" fn wasm_func_result_arity(f: Option<&wasm_func_t>) -> usize {
    f.map_or(0, |f| {
        let (store, func) = f.func();
        store.with(|s| func.ty(&*s).results().len())
    })
}

/// `wasm_func_call`: calls the function with `args`, writing one value
/// per result into `results` (whose size must be the result arity).
/// Returns null on success, or a trap.
#[no_mangle]
pub extern "C" fn wasm_func_call(
    f: Option<&wasm_func_t>,
    args: Option<&wasm_val_vec_t>,
    results: Option<&mut wasm_val_vec_t>,
) -> Option<Box<wasm_trap_t>> {
    let Some(f) = f else {
        return Some(wasm_trap_t::from_message("null function".into()));
    };
    let (store, func) = f.func();
    let store = store.clone();
    let params: Result<Vec<Val>, _> = args
        .map_or(&[][..], WasmVec::as_slice)
        .iter()
        .map(wasm_val_t::to_val)
        .collect();
    let params = match params {
        Ok(p) => p,
        Err(e) => return Some(wasm_trap_t::from_error(e, &store)),
    };
    let mut empty = WasmVec::empty();
    let results = results.unwrap_or(&mut empty);
    let mut vals: Vec<Val> = vec![Val::I32(0); results.size];
    // The results' references are rooted by a scope of this call, then
    // manually for the C values that own them.
    let outcome = guard(|| {
        store.with(|s| {
            let mut scope = strata::RootScope::new(s);
            func.call(&mut scope, &params, &mut vals)?;
            for v in vals.iter_mut() {
                *v = crate::val::escape(*v, scope.as_context());
            }
            Ok(())
        })
    })
    .unwrap_or_else(|| Err(anyhow!("internal error: call panicked")));
    if let Err(e) = outcome {
        return Some(wasm_trap_t::from_error(e, &store));
    }
    for (slot, val) in results.as_mut_slice().iter_mut().zip(vals) {
        // The slots are outputs: whatever they held is not a value this
        // library owns, so it is overwritten, not dropped.
        std::mem::forget(std::mem::replace(slot, wasm_val_t::from_val(val, &store)));
    }
    None
}
