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
//! Tables are split by proposal: `numeric.rs` for WebAssembly 1.0/2.0.

mod numeric;
pub(crate) mod semantics;

pub(crate) use numeric::numeric_ops;

use crate::types::raw::Raw;
use crate::Trap;

macro_rules! define_const_binary {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr;)* }
        load { $($L:ident($LM:ty) -> $LO:ty;)* }
        store { $($S:ident($SI:ty) -> $SM:ty;)* }
    ) => {
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

numeric_ops!(define_const_binary);
