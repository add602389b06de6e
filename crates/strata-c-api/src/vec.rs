//! Vectors: `wasm_X_vec_t`, a size and a data pointer that C reads
//! directly, and the `wasm_X_vec_new_empty`, `_new_uninitialized`, `_new`,
//! `_copy` and `_delete` functions of every vector type.
//!
//! A vector created by this library owns a boxed slice; `_delete` frees it
//! and every element it owns (pointer vectors own their elements, value
//! vectors own the references inside their values). Vectors that C builds
//! itself (`WASM_ARRAY_VEC`) are only ever read or written in place.

use crate::trap::wasm_frame_t;
use crate::types::{
    wasm_exporttype_t, wasm_externtype_t, wasm_functype_t, wasm_globaltype_t, wasm_importtype_t,
    wasm_memorytype_t, wasm_tabletype_t, wasm_tagtype_t, wasm_valtype_t,
};
use crate::val::wasm_val_t;
use crate::wasm_extern_t;
use std::mem::MaybeUninit;

/// A vector as C sees it: `size` elements at `data`.
#[repr(C)]
pub struct WasmVec<T: VecElem> {
    /// The number of elements.
    pub size: usize,
    /// The elements; null when `size` is zero.
    pub data: *mut T,
}

/// An element type of a vector: how to make a blank one and how to copy it.
pub trait VecElem: Sized {
    /// The value `_new_uninitialized` fills a vector with.
    fn blank() -> Self;
    /// A deep copy (`_copy`).
    fn copy_elem(&self) -> Self;
}

impl VecElem for u8 {
    fn blank() -> u8 {
        0
    }
    fn copy_elem(&self) -> u8 {
        *self
    }
}

impl<T: Clone> VecElem for Option<Box<T>> {
    fn blank() -> Self {
        None
    }
    fn copy_elem(&self) -> Self {
        self.clone()
    }
}

impl<T: VecElem> WasmVec<T> {
    /// The empty vector.
    pub fn empty() -> Self {
        WasmVec {
            size: 0,
            data: std::ptr::null_mut(),
        }
    }

    /// Takes ownership of `v`'s elements.
    pub fn from_vec(v: Vec<T>) -> Self {
        if v.is_empty() {
            return WasmVec::empty();
        }
        let size = v.len();
        let data = Box::into_raw(v.into_boxed_slice()).cast::<T>();
        WasmVec { size, data }
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        if self.data.is_null() || self.size == 0 {
            return &[];
        }
        // SAFETY: a non-null `data` points at `size` initialised elements:
        // either a slice this library allocated or an array C described
        // with its length (`WASM_ARRAY_VEC`).
        unsafe { std::slice::from_raw_parts(self.data, self.size) }
    }

    /// The elements, writable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.data.is_null() || self.size == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.size) }
    }

    /// Takes the elements out, leaving the vector empty. Only for vectors
    /// this library allocated (the `own` vectors of the C API).
    pub fn take(&mut self) -> Vec<T> {
        let (data, size) = (self.data, self.size);
        // Field writes: assigning a whole `WasmVec` would drop the old one.
        self.data = std::ptr::null_mut();
        self.size = 0;
        if data.is_null() || size == 0 {
            return Vec::new();
        }
        // SAFETY: `own` vectors were made by `from_vec`, a boxed slice of
        // exactly `size` elements; the vector no longer refers to it.
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, size)).into_vec() }
    }
}

impl<T: VecElem> Drop for WasmVec<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T: VecElem> Clone for WasmVec<T> {
    fn clone(&self) -> Self {
        WasmVec::from_vec(self.as_slice().iter().map(VecElem::copy_elem).collect())
    }
}

/// A vector of `size` blank elements, or an empty one when the memory
/// cannot be had.
fn blank_vec<T: VecElem>(size: usize) -> WasmVec<T> {
    let mut v = Vec::new();
    if v.try_reserve_exact(size).is_err() {
        return WasmVec::empty();
    }
    v.extend((0..size).map(|_| T::blank()));
    WasmVec::from_vec(v)
}

/// A vector that takes ownership of `size` elements at `ptr`.
///
/// # Safety
/// `ptr` must be null or point at `size` initialised elements, which the
/// caller gives up.
unsafe fn vec_from_raw<T: VecElem>(size: usize, ptr: *const T) -> WasmVec<T> {
    if ptr.is_null() || size == 0 {
        return WasmVec::empty();
    }
    // SAFETY: guaranteed by the caller; the elements are moved out, their
    // owner (C) gives them up, so nothing is dropped twice.
    let items = unsafe { std::slice::from_raw_parts(ptr, size) };
    let mut v = Vec::with_capacity(size);
    for item in items {
        // SAFETY: see above.
        v.push(unsafe { std::ptr::read(item) });
    }
    WasmVec::from_vec(v)
}

macro_rules! declare_vecs {
    ($(($name:ident, $elem:ty),)*) => {$(paste::paste! {
        #[doc = concat!("`wasm_", stringify!($name), "_vec_t`.")]
        pub type [<wasm_ $name _vec_t>] = WasmVec<$elem>;

        #[doc = concat!("`wasm_", stringify!($name), "_vec_new_empty`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _vec_new_empty>](
            out: Option<&mut MaybeUninit<[<wasm_ $name _vec_t>]>>,
        ) {
            if let Some(out) = out {
                out.write(WasmVec::empty());
            }
        }

        #[doc = concat!("`wasm_", stringify!($name), "_vec_new_uninitialized`.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _vec_new_uninitialized>](
            out: Option<&mut MaybeUninit<[<wasm_ $name _vec_t>]>>,
            size: usize,
        ) {
            if let Some(out) = out {
                out.write(blank_vec(size));
            }
        }

        #[doc = concat!("`wasm_", stringify!($name), "_vec_new`: takes ownership of the elements.")]
        ///
        /// # Safety
        /// `data` must point at `size` elements (or be null).
        #[no_mangle]
        pub unsafe extern "C" fn [<wasm_ $name _vec_new>](
            out: Option<&mut MaybeUninit<[<wasm_ $name _vec_t>]>>,
            size: usize,
            data: *const $elem,
        ) {
            if let Some(out) = out {
                // SAFETY: the C API's contract for `_vec_new`.
                out.write(unsafe { vec_from_raw(size, data) });
            }
        }

        #[doc = concat!("`wasm_", stringify!($name), "_vec_copy`: a deep copy.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _vec_copy>](
            out: Option<&mut MaybeUninit<[<wasm_ $name _vec_t>]>>,
            src: Option<&[<wasm_ $name _vec_t>]>,
        ) {
            if let Some(out) = out {
                out.write(src.map_or_else(WasmVec::empty, Clone::clone));
            }
        }

        #[doc = concat!("`wasm_", stringify!($name), "_vec_delete`: frees the vector and its elements.")]
        #[no_mangle]
        pub extern "C" fn [<wasm_ $name _vec_delete>](v: Option<&mut [<wasm_ $name _vec_t>]>) {
            if let Some(v) = v {
                drop(v.take());
            }
        }
    })*};
}

declare_vecs! {
    (byte, u8),
    (valtype, Option<Box<wasm_valtype_t>>),
    (functype, Option<Box<wasm_functype_t>>),
    (globaltype, Option<Box<wasm_globaltype_t>>),
    (tabletype, Option<Box<wasm_tabletype_t>>),
    (memorytype, Option<Box<wasm_memorytype_t>>),
    (tagtype, Option<Box<wasm_tagtype_t>>),
    (externtype, Option<Box<wasm_externtype_t>>),
    (importtype, Option<Box<wasm_importtype_t>>),
    (exporttype, Option<Box<wasm_exporttype_t>>),
    (val, wasm_val_t),
    (frame, Option<Box<wasm_frame_t>>),
    (extern, Option<Box<wasm_extern_t>>),
}

/// `wasm_name_t`: a byte vector, not NUL-terminated.
pub type wasm_name_t = wasm_byte_vec_t;
/// `wasm_message_t`: a byte vector that ends with a NUL.
pub type wasm_message_t = wasm_byte_vec_t;

impl wasm_byte_vec_t {
    /// A byte vector holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        WasmVec::from_vec(bytes.to_vec())
    }
}
