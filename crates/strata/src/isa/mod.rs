//! The instruction table: every instruction whose semantics is a pure
//! function of its operands, one row each, written once for every tier.
//!
//! A row names the instruction (as `wasmparser` names the operator), its
//! operand and result types, and its semantics as a Rust closure (or a
//! function in `semantics.rs`). A table is a macro that hands all its rows
//! to a callback macro; the callbacks generate what each consumer needs:
//! the interpreter's `Op` variants, handlers and driver arms
//! (`interp/ops.rs`, `interp/handlers/numeric.rs`, `interp/exec.rs`), and
//! the constant-expression evaluator's arithmetic (`const_binary` below).
//! Tables are split by proposal: `numeric.rs` for WebAssembly 1.0/2.0,
//! `simd.rs` for fixed-width and relaxed SIMD (lane semantics in
//! `lanes.rs`), `atomic.rs` for the threads proposal's atomics (with their
//! semantics), `gc.rs` for the GC proposal's instruction kinds (whose
//! semantics need the store's heap, `runtime/gc`).

pub(crate) mod atomic;
pub(crate) mod gc;
pub(crate) mod lanes;
mod numeric;
pub(crate) mod semantics;
mod simd;

pub(crate) use numeric::numeric_ops;
pub(crate) use simd::simd_ops;

use crate::types::raw::Raw;
use crate::types::ValType;
use crate::Trap;

/// The WebAssembly type a Rust type of the instruction table stands for.
pub(crate) trait Wasm {
    const TYPE: ValType;
}

macro_rules! wasm_types {
    ($($t:ty => $v:ident),*) => {$( impl Wasm for $t { const TYPE: ValType = ValType::$v; } )*};
}
wasm_types!(i32 => I32, u32 => I32, i64 => I64, u64 => I64, f32 => F32, f64 => F64);

macro_rules! define_table_queries {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
    ) => {
        /// The type of the value an instruction of the table (or a load)
        /// produces.
        pub(crate) fn result_type(op: &wasmparser::Operator<'_>) -> Option<ValType> {
            use wasmparser::Operator as W;
            Some(match op {
                $( W::$U => <$UO as Wasm>::TYPE, )*
                $( W::$UT => <$UTO as Wasm>::TYPE, )*
                $( W::$B => <$BO as Wasm>::TYPE, )*
                $( W::$C => ValType::I32, )*
                $( W::$BT => <$BTO as Wasm>::TYPE, )*
                $( W::$L { .. } => <$LO as Wasm>::TYPE, )*
                _ => return None,
            })
        }

        /// The binary semantics of a wasm operator on raw slots, for constant
        /// expressions (extended-const).
        pub(crate) fn const_binary(op: &wasmparser::Operator<'_>) -> Option<fn(u64, u64) -> Result<u64, Trap>> {
            use wasmparser::Operator as W;
            Some(match op {
                $( W::$B => |a, b| Ok((($bf)(<$BI>::from_raw(a), <$BI>::from_raw(b)) as $BO).to_raw()), )*
                $( W::$C => |a, b| Ok((($cf)(<$CI>::from_raw(a), <$CI>::from_raw(b)) as i32).to_raw()), )*
                _ => return None,
            })
        }
    };
}

numeric_ops!(define_table_queries);

#[cfg(strata_jit)]
macro_rules! define_simd_queries {
    (
        v_unary { $($VU:ident = $vuf:expr => $VUJ:tt;)* }
        v_binary { $($VB:ident = $vbf:expr => $VBJ:tt;)* }
        v_ternary { $($VT:ident = $vtf:expr => $VTJ:tt;)* }
        v_test { $($VX:ident = $vxf:expr => $VXJ:tt;)* }
        v_shift { $($VS:ident = $vsf:expr => $VSJ:tt;)* }
        v_splat { $($VP:ident($VPT:ty) = $vpf:expr => $VPJ:tt;)* }
        v_extract { $($VE:ident -> $VET:ty = $vef:expr => $VEJ:tt;)* }
        v_replace { $($VR:ident($VRT:ty) = $vrf:expr => $VRJ:tt;)* }
        v_load { $($VL:ident($VLN:literal) = $vlf:expr => $VLJ:tt;)* }
        v_load_lane { $($VLL:ident($VLLN:literal) => $VLLJ:tt;)* }
        v_store_lane { $($VSL:ident($VSLN:literal) => $VSLJ:tt;)* }
    ) => {
        /// Whether `op` is a SIMD instruction that computes on vectors
        /// (a row of the SIMD table, `v128.store` or `i8x16.shuffle`; not
        /// `v128.const`, which only moves bits).
        pub(crate) fn is_simd(op: &wasmparser::Operator<'_>) -> bool {
            use wasmparser::Operator as W;
            matches!(
                op,
                $( W::$VU )|*
                $( | W::$VB )*
                $( | W::$VT )*
                $( | W::$VX )*
                $( | W::$VS )*
                $( | W::$VP )*
                $( | W::$VE { .. } )*
                $( | W::$VR { .. } )*
                $( | W::$VL { .. } )*
                $( | W::$VLL { .. } )*
                $( | W::$VSL { .. } )*
                | W::V128Store { .. }
                | W::I8x16Shuffle { .. }
            )
        }
    };
}

// Only the JIT asks (a function that computes on vectors needs the
// host CPU's SIMD extensions to be compiled).
#[cfg(strata_jit)]
simd_ops!(define_simd_queries);
