//! Statically typed calls: Rust types that stand for WebAssembly values
//! ([`WasmTy`], [`WasmParams`]), calls without [`Val`] conversions
//! ([`TypedFunc`]) and host functions from Rust closures ([`IntoFunc`]).
//! Values move in the cell encoding of `crate::types::raw`.

use super::func::{Caller, Func, HostFunc};
use super::gc::EqRef;
use super::values::{AnyRef, ExternRef, Val};
use crate::runtime::store::StoreInner;
use crate::types::raw::{v128_from_cells, v128_to_cells, Raw};
use crate::types::{FuncType, ValType};
use crate::AsContextMut;
use anyhow::Result;
use std::marker::PhantomData;
use std::sync::Arc;

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
    /// A typed view of `func`, whose type was checked by the caller.
    pub(crate) fn new(func: Func) -> Self {
        TypedFunc {
            func,
            _marker: PhantomData,
        }
    }

    /// The underlying function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.func.store_id)?;
        let mut raw = [0u64; 16];
        let len = Params::CELLS.max(Results::CELLS);
        let mut heap;
        let buf: &mut [u64] = if len <= raw.len() {
            &mut raw[..len]
        } else {
            heap = vec![0u64; len];
            &mut heap
        };
        params.store_cells(buf, &store.inner)?;
        super::coredump::invoke(store, self.func.index, buf)?;
        Ok(Results::load_cells(buf, &store.inner))
    }
}

/// A Rust type that corresponds to a WebAssembly value type.
pub trait WasmTy: Sized + 'static {
    /// How many cells a value takes (2 for `u128`, which stands for
    /// `v128`, else 1).
    #[doc(hidden)]
    const CELLS: usize = 1;
    /// The WebAssembly type.
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()>;
    #[doc(hidden)]
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self;
}

macro_rules! wasm_ty_num {
    ($($ty:ty => $vt:ident;)*) => {$(
        impl WasmTy for $ty {
            fn valtype() -> ValType { ValType::$vt }
            fn store_cells(self, cells: &mut [u64], _: &StoreInner) -> Result<()> {
                cells[0] = self.to_raw();
                Ok(())
            }
            fn load_cells(cells: &[u64], _: &StoreInner) -> Self {
                <$ty>::from_raw(cells[0])
            }
        }
    )*};
}

wasm_ty_num! {
    i32 => I32;
    u32 => I32;
    i64 => I64;
    u64 => I64;
    f32 => F32;
    f64 => F64;
}

impl WasmTy for u128 {
    const CELLS: usize = 2;
    fn valtype() -> ValType {
        ValType::V128
    }
    fn store_cells(self, cells: &mut [u64], _: &StoreInner) -> Result<()> {
        cells[..2].copy_from_slice(&v128_to_cells(self));
        Ok(())
    }
    fn load_cells(cells: &[u64], _: &StoreInner) -> Self {
        v128_from_cells(cells[0], cells[1])
    }
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        Val::FuncRef(self).write_cells(cells, store)
    }
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
        match Val::read_cells(cells, ValType::FUNCREF, store) {
            Val::FuncRef(f) => f,
            _ => None,
        }
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        Val::ExternRef(self).write_cells(cells, store)
    }
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
        match Val::read_cells(cells, ValType::EXTERNREF, store) {
            Val::ExternRef(r) => r,
            _ => None,
        }
    }
}

impl WasmTy for Option<AnyRef> {
    fn valtype() -> ValType {
        ValType::ANYREF
    }
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        Val::AnyRef(self).write_cells(cells, store)
    }
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
        match Val::read_cells(cells, ValType::ANYREF, store) {
            Val::AnyRef(r) => r,
            _ => None,
        }
    }
}

impl WasmTy for Option<EqRef> {
    fn valtype() -> ValType {
        ValType::EQREF
    }
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        Val::from(self).write_cells(cells, store)
    }
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
        // A typed function's signature says the cell is an `eqref`.
        EqRef::from_cell(store, cells[0])
    }
}

/// A list of WebAssembly values as Rust types: `()`, one [`WasmTy`], or a
/// tuple of them. Used for the parameters and results of typed functions.
pub trait WasmParams: Sized {
    /// How many values.
    const LEN: usize;
    /// How many cells they take, laid out one after another.
    #[doc(hidden)]
    const CELLS: usize;
    /// Their WebAssembly types.
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()>;
    #[doc(hidden)]
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    const LEN: usize = 1;
    const CELLS: usize = A::CELLS;
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
        WasmTy::store_cells(self, cells, store)
    }
    fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
        <A as WasmTy>::load_cells(cells, store)
    }
}

macro_rules! wasm_params_tuple {
    ($n:expr; $($t:ident $i:tt),*) => {
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            const LEN: usize = $n;
            const CELLS: usize = 0 $(+ $t::CELLS)*;
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn store_cells(self, cells: &mut [u64], store: &StoreInner) -> Result<()> {
                let mut at = 0;
                $(
                    self.$i.store_cells(&mut cells[at..], store)?;
                    at += $t::CELLS;
                )*
                Ok(())
            }
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
            fn load_cells(cells: &[u64], store: &StoreInner) -> Self {
                let mut at = 0;
                ($({
                    let v = $t::load_cells(&cells[at..], store);
                    at += $t::CELLS;
                    v
                },)*)
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
    ($($t:ident),*) => {
        impl<T: 'static, Fun, $($t: WasmTy,)* R> IntoFunc<T, ($($t,)*), R> for Fun
        where
            Fun: Fn($($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
            fn into_func(self) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(vec![$($t::valtype()),*], R::Values::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, raw: &mut [u64]| {
                    let inner = &caller.store.inner;
                    let mut at = 0;
                    $(
                        let $t = $t::load_cells(&raw[at..], inner);
                        at += $t::CELLS;
                    )*
                    let out = (self)($($t),*).into_result()?;
                    out.store_cells(raw, &caller.store.inner)
                });
                (ty, host)
            }
        }

        impl<T: 'static, Fun, $($t: WasmTy,)* R> IntoFunc<T, (Caller<'_, T>, $($t,)*), R> for Fun
        where
            Fun: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
            fn into_func(self) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(vec![$($t::valtype()),*], R::Values::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, raw: &mut [u64]| {
                    let mut at = 0;
                    $(
                        let $t = $t::load_cells(&raw[at..], &caller.store.inner);
                        at += $t::CELLS;
                    )*
                    let store = &mut *caller.store;
                    let inner_caller = Caller { store, instance: caller.instance };
                    let out = (self)(inner_caller, $($t),*).into_result()?;
                    out.store_cells(raw, &caller.store.inner)
                });
                (ty, host)
            }
        }
    };
}

into_func!();
into_func!(A);
into_func!(A, B);
into_func!(A, B, C);
into_func!(A, B, C, D);
into_func!(A, B, C, D, E);
into_func!(A, B, C, D, E, F);
into_func!(A, B, C, D, E, F, G);
into_func!(A, B, C, D, E, F, G, H);
into_func!(A, B, C, D, E, F, G, H, I);
into_func!(A, B, C, D, E, F, G, H, I, J);
into_func!(A, B, C, D, E, F, G, H, I, J, K);
into_func!(A, B, C, D, E, F, G, H, I, J, K, L);
