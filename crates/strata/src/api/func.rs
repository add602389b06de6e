//! Functions: handles to wasm or host functions, dynamically typed calls,
//! and the `Caller` that host functions receive.
//!
//! Every call between host and wasm, in either direction, goes through one
//! calling convention: a buffer of cells (`crate::types::raw`) that holds
//! the arguments on entry and the results on return. `Func::call` and
//! `Func::new` convert `Val`s to and from it; `TypedFunc` and `Func::wrap`
//! (`typed.rs`) convert Rust types directly.

use super::typed::{IntoFunc, TypedFunc, WasmParams};
use super::values::Val;
use crate::runtime::store::{FuncEntity, FuncKind};
use crate::types::FuncType;
use crate::{AsContext, AsContextMut, Extern, Store};
use anyhow::{bail, Result};
use std::sync::Arc;

/// The host calling convention: arguments in, results out, in one buffer of
/// cells (`FuncType::buffer_cells`).
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
        let mut raw = vec![0u64; ty.buffer_cells()];
        for (i, (param, expected)) in params.iter().zip(ty.params()).enumerate() {
            param.check_ty(&store.inner, expected, &format!("argument {i}"))?;
            param.write_cells(&mut raw[ty.param_cell(i)..], &store.inner)?;
        }
        super::coredump::invoke(store, self.index, &mut raw)?;
        for (i, result_ty) in ty.results().iter().enumerate() {
            results[i] = Val::read_cells(&raw[ty.result_cell(i)..], *result_ty, &store.inner);
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
        if !store.inner.engine.types().func_subtype(ty, &want) {
            bail!("type mismatch: function has type {ty}, requested {want}");
        }
        Ok(TypedFunc::new(*self))
    }
}

impl<T> Store<T> {
    pub(crate) fn new_host_func(&mut self, ty: FuncType, host: HostFunc<T>) -> Func {
        let registered = self.inner.engine.types().register_func(&ty);
        self.host_funcs.push(host);
        let index = self.inner.push_func(FuncEntity {
            type_id: registered.index,
            ty: registered
                .func
                .clone()
                .unwrap_or_else(|| unreachable!("registered as a function type")),
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
            .enumerate()
            .map(|(i, t)| Val::read_cells(&raw[ty.param_cell(i)..], *t, &caller.store.inner))
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
        let inner = &caller.store.inner;
        for (i, (val, want)) in results.iter().zip(ty.results()).enumerate() {
            if !val.matches(inner, want) {
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
            val.write_cells(&mut raw[ty.result_cell(i)..], inner)?;
        }
        Ok(())
    })
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
        Some(Extern::from_item(&self.store.inner, item))
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
