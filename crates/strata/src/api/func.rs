//! Functions: handles to wasm or host functions, typed calls, and the
//! `Caller` that host functions receive.
//!
//! Every call between host and wasm, in either direction, goes through one
//! calling convention: a buffer of raw `u64` slots that holds the arguments
//! on entry and the results on return. `Func::call` and `Func::new` convert
//! `Val`s to and from it; `TypedFunc` and `Func::wrap` convert Rust types
//! directly.

use super::values::{ExternRef, Val};
use crate::runtime::store::{FuncEntity, FuncKind, StoreInner};
use crate::types::{FuncType, ValType};
use crate::{AsContext, AsContextMut, Extern, Store};
use anyhow::{bail, Result};
use std::marker::PhantomData;
use std::sync::Arc;

/// The host calling convention: arguments in, results out, in one buffer of
/// `max(params, results)` raw slots.
pub(crate) type HostFunc<T> =
    Arc<dyn Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static>;

/// A WebAssembly or host function owned by a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Func {
    pub(crate) fn from_index(store_id: u64, index: u32) -> Func {
        Func { store_id, index }
    }

    /// Defines a host function with a dynamic signature: it receives and
    /// returns [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let store = store.as_context_mut();
        let host = dynamic_host_func(ty.clone(), func);
        store.new_host_func(ty, host)
    }

    /// Defines a host function from a Rust closure whose parameter and
    /// result types give the signature. The closure may take a
    /// [`Caller`] first, and may return a `Result` to trap.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_func();
        store.as_context_mut().new_host_func(ty, host)
    }

    /// The function's signature.
    ///
    /// # Panics
    /// When the function belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let inner = &store.as_context().inner;
        inner.assert_owner(self.store_id);
        (*inner.funcs[self.index as usize].ty).clone()
    }

    /// Calls the function with dynamically typed arguments; `results` must
    /// have one slot per result.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.store_id)?;
        let ty = store.inner.funcs[self.index as usize].ty.clone();
        if params.len() != ty.params().len() {
            bail!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            );
        }
        if results.len() != ty.results().len() {
            bail!(
                "expected {} results, got {}",
                ty.results().len(),
                results.len()
            );
        }
        let mut raw = vec![0u64; params.len().max(results.len())];
        for (i, (param, expected)) in params.iter().zip(ty.params()).enumerate() {
            if param.ty() != *expected {
                bail!("argument {i} has type {}, expected {expected}", param.ty());
            }
            raw[i] = param.to_raw(&store.inner)?;
        }
        crate::tier::invoke(store, self.index, &mut raw)?;
        for (i, ty) in ty.results().iter().enumerate() {
            results[i] = Val::from_raw(raw[i], *ty, &store.inner);
        }
        Ok(())
    }

    /// A statically typed view of the function; fails when `Params` and
    /// `Results` do not match its signature.
    pub fn typed<Params: WasmParams, Results: WasmParams>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let store = store.as_context();
        store.inner.check_owner(self.store_id)?;
        let ty = &store.inner.funcs[self.index as usize].ty;
        let want = FuncType::new(Params::valtypes(), Results::valtypes());
        if **ty != want {
            bail!("type mismatch: function has type {ty}, requested {want}");
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

impl<T> Store<T> {
    pub(crate) fn new_host_func(&mut self, ty: FuncType, host: HostFunc<T>) -> Func {
        let type_id = crate::engine::intern_type(&self.inner.engine, &ty);
        self.host_funcs.push(host);
        let index = self.inner.push_func(FuncEntity {
            type_id,
            ty: Arc::new(ty),
            kind: FuncKind::Host(self.host_funcs.len() as u32 - 1),
        });
        Func::from_index(self.inner.id, index)
    }
}

/// Adapts a closure over `Val`s to the raw host calling convention.
pub(crate) fn dynamic_host_func<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> HostFunc<T> {
    Arc::new(move |caller: Caller<'_, T>, raw: &mut [u64]| {
        let params: Vec<Val> = ty
            .params()
            .iter()
            .zip(raw.iter())
            .map(|(t, r)| Val::from_raw(*r, *t, &caller.store.inner))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let store_id = caller.store.inner.id;
        let store = &mut *caller.store;
        func(
            Caller {
                store,
                instance: caller.instance,
            },
            &params,
            &mut results,
        )?;
        for ((slot, val), want) in raw.iter_mut().zip(&results).zip(ty.results()) {
            if val.ty() != *want {
                bail!(
                    "host function returned a {} where its type says {want}",
                    val.ty()
                );
            }
            if let Val::FuncRef(Some(f)) = val {
                if f.store_id != store_id {
                    bail!("host function returned a function from another store");
                }
            }
            *slot = val.to_raw(&caller.store.inner)?;
        }
        Ok(())
    })
}

/// A function whose signature was checked once, called without
/// conversions through [`Val`].
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}
impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: WasmParams, Results: WasmParams> TypedFunc<Params, Results> {
    /// The underlying function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.func.store_id)?;
        let mut raw = [0u64; 16];
        let len = Params::LEN.max(Results::LEN);
        let mut heap;
        let buf: &mut [u64] = if len <= raw.len() {
            &mut raw[..len]
        } else {
            heap = vec![0u64; len];
            &mut heap
        };
        params.store_raw(buf, &store.inner)?;
        crate::tier::invoke(store, self.func.index, buf)?;
        Ok(Results::load_raw(buf, &store.inner))
    }
}

/// The store and instance a host function was called from.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<u32>,
}

impl<T> Caller<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The host data, writable.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The engine of the store.
    pub fn engine(&self) -> &crate::Engine {
        self.store.engine()
    }

    /// An export of the calling instance (typically its `memory`), or
    /// `None` when there is no such export or the caller is the host.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        let item = *self.store.inner.instances[instance as usize]
            .exports
            .get(name)?;
        Some(Extern::from_item(self.store.inner.id, item))
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> &Store<T> {
        self.store
    }
}
impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> &mut Store<T> {
        self.store
    }
}

/// A Rust type that corresponds to a WebAssembly value type.
pub trait WasmTy: Sized + 'static {
    /// The WebAssembly type.
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn to_raw(self, store: &StoreInner) -> Result<u64>;
    #[doc(hidden)]
    fn from_raw(raw: u64, store: &StoreInner) -> Self;
}

macro_rules! wasm_ty_num {
    ($($ty:ty => $vt:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTy for $ty {
            fn valtype() -> ValType { ValType::$vt }
            fn to_raw(self, _: &StoreInner) -> Result<u64> { Ok(($to)(self)) }
            fn from_raw(raw: u64, _: &StoreInner) -> Self { ($from)(raw) }
        }
    )*};
}

wasm_ty_num! {
    i32 => I32, |v: i32| v as u32 as u64, |r: u64| r as u32 as i32;
    u32 => I32, |v: u32| v as u64, |r: u64| r as u32;
    i64 => I64, |v: i64| v as u64, |r: u64| r as i64;
    u64 => I64, |v: u64| v, |r: u64| r;
    f32 => F32, |v: f32| v.to_bits() as u64, |r: u64| f32::from_bits(r as u32);
    f64 => F64, |v: f64| v.to_bits(), |r: u64| f64::from_bits(r);
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn to_raw(self, store: &StoreInner) -> Result<u64> {
        Val::FuncRef(self).to_raw(store)
    }
    fn from_raw(raw: u64, store: &StoreInner) -> Self {
        raw.checked_sub(1)
            .map(|i| Func::from_index(store.id, i as u32))
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_raw(self, store: &StoreInner) -> Result<u64> {
        Val::ExternRef(self).to_raw(store)
    }
    fn from_raw(raw: u64, store: &StoreInner) -> Self {
        match Val::from_raw(raw, ValType::ExternRef, store) {
            Val::ExternRef(r) => r,
            _ => None,
        }
    }
}

/// A list of WebAssembly values as Rust types: `()`, one [`WasmTy`], or a
/// tuple of them. Used for the parameters and results of typed functions.
pub trait WasmParams: Sized {
    /// How many values.
    const LEN: usize;
    /// Their WebAssembly types.
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn store_raw(self, raw: &mut [u64], store: &StoreInner) -> Result<()>;
    #[doc(hidden)]
    fn load_raw(raw: &[u64], store: &StoreInner) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    const LEN: usize = 1;
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store_raw(self, raw: &mut [u64], store: &StoreInner) -> Result<()> {
        raw[0] = self.to_raw(store)?;
        Ok(())
    }
    fn load_raw(raw: &[u64], store: &StoreInner) -> Self {
        A::from_raw(raw[0], store)
    }
}

macro_rules! wasm_params_tuple {
    ($n:expr; $($t:ident $i:tt),*) => {
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            const LEN: usize = $n;
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[allow(unused_variables)]
            fn store_raw(self, raw: &mut [u64], store: &StoreInner) -> Result<()> {
                $(raw[$i] = self.$i.to_raw(store)?;)*
                Ok(())
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn load_raw(raw: &[u64], store: &StoreInner) -> Self {
                ($($t::from_raw(raw[$i], store),)*)
            }
        }
    };
}

wasm_params_tuple!(0;);
wasm_params_tuple!(2; A 0, B 1);
wasm_params_tuple!(3; A 0, B 1, C 2);
wasm_params_tuple!(4; A 0, B 1, C 2, D 3);
wasm_params_tuple!(5; A 0, B 1, C 2, D 3, E 4);
wasm_params_tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);
wasm_params_tuple!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
wasm_params_tuple!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// What a wrapped host closure may return: values, or a `Result` of them
/// (an `Err` becomes the error of the wasm call).
pub trait WasmRet {
    /// The values returned.
    type Values: WasmParams;
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Values>;
}

impl<R: WasmParams> WasmRet for R {
    type Values = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmParams> WasmRet for Result<R> {
    type Values = R;
    fn into_result(self) -> Result<R> {
        self
    }
}

/// A Rust closure that can become a host function; implemented for
/// closures of up to twelve [`WasmTy`] parameters, optionally preceded by a
/// [`Caller`].
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_func(self) -> (FuncType, HostFunc<T>);
}

macro_rules! into_func {
    ($($t:ident $i:tt),*) => {
        impl<T: 'static, Fun, $($t: WasmTy,)* R> IntoFunc<T, ($($t,)*), R> for Fun
        where
            Fun: Fn($($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(vec![$($t::valtype()),*], R::Values::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, raw: &mut [u64]| {
                    #[allow(unused_variables)]
                    let inner = &caller.store.inner;
                    let out = (self)($($t::from_raw(raw[$i], inner)),*).into_result()?;
                    out.store_raw(raw, &caller.store.inner)
                });
                (ty, host)
            }
        }

        impl<T: 'static, Fun, $($t: WasmTy,)* R> IntoFunc<T, (Caller<'_, T>, $($t,)*), R> for Fun
        where
            Fun: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            #[allow(non_snake_case)]
            fn into_func(self) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(vec![$($t::valtype()),*], R::Values::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, raw: &mut [u64]| {
                    $(let $t = $t::from_raw(raw[$i], &caller.store.inner);)*
                    let store = &mut *caller.store;
                    let inner_caller = Caller { store, instance: caller.instance };
                    let out = (self)(inner_caller, $($t),*).into_result()?;
                    out.store_raw(raw, &caller.store.inner)
                });
                (ty, host)
            }
        }
    };
}

into_func!();
into_func!(A 0);
into_func!(A 0, B 1);
into_func!(A 0, B 1, C 2);
into_func!(A 0, B 1, C 2, D 3);
into_func!(A 0, B 1, C 2, D 3, E 4);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
