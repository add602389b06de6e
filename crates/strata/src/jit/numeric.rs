//! The numeric instructions, loads and stores, generated from the
//! instruction table (`crate::isa`): each row's Cranelift column names the
//! instruction that computes it. A row without one does not compile.

use super::translate::Translator;
use crate::isa::{numeric_ops, Wasm};
use crate::types::ValType;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, I128, I16, I32, I64, I8};
use cranelift_codegen::ir::{InstBuilder, MemFlags, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// Expands a row's Cranelift column applied to `$v`: `[op]` and
/// `[op(args)]` are `InstBuilder` methods (the column's arguments first);
/// `[@f]` and `[@f(args)]` are functions of this module.
macro_rules! clif {
    ($b:expr; [@$f:ident]; $($v:expr),*) => { $f($b, $($v),*) };
    ($b:expr; [@$f:ident($($a:expr),*)]; $($v:expr),*) => { $f($b, $($a,)* $($v),*) };
    ($b:expr; [$m:ident]; $($v:expr),*) => { $b.ins().$m($($v),*) };
    ($b:expr; [$m:ident($($a:expr),*)]; $($v:expr),*) => { $b.ins().$m($($a,)* $($v),*) };
}

/// `eqz` and `ref.is_null`: 1 when the operand is zero.
fn eqz(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let c = b.ins().icmp_imm(IntCC::Equal, x, 0);
    b.ins().uextend(I32, c)
}

/// `extend8_s` and friends: sign-extends the low `narrow` bits of `x`.
fn extend_low(b: &mut FunctionBuilder<'_>, narrow: Type, x: Value) -> Value {
    let wide = b.func.dfg.value_type(x);
    let n = b.ins().ireduce(narrow, x);
    b.ins().sextend(wide, n)
}

macro_rules! jit_lowering {
    (
        unary { $($U:ident($UI:ty) -> $UO:ty = $uf:expr => $UJ:tt;)* }
        unary_trap { $($UT:ident($UTI:ty) -> $UTO:ty = $utf:expr => $UTJ:tt;)* }
        binary { $($B:ident($BI:ty) -> $BO:ty = $bf:expr => $BJ:tt;)* }
        compare { $($C:ident / $CB:ident $(! $CN:ident)? ($CI:ty) = $cf:expr => $CJ:tt;)* }
        binary_trap { $($BT:ident($BTI:ty) -> $BTO:ty = $btf:expr => $BTJ:tt;)* }
        load { $($L:ident($LM:ty) -> $LO:ty => $LJ:tt;)* }
        store { $($S:ident($SI:ty) -> $SM:ty => $SJ:tt;)* }
    ) => {
        impl Translator<'_, '_> {
            /// Translates an instruction of the table; false when `op` is
            /// not one.
            pub(super) fn numeric(&mut self, op: &wasmparser::Operator<'_>) -> anyhow::Result<bool> {
                use wasmparser::Operator as W;
                match *op {
                    $( W::$U => {
                        let x = self.pop();
                        let v = clif!(&mut self.b; $UJ; x);
                        self.push(v, <$UO as Wasm>::TYPE);
                    } )*
                    $( W::$UT => {
                        let x = self.pop();
                        let v = clif!(&mut self.b; $UTJ; x);
                        self.push(v, <$UTO as Wasm>::TYPE);
                    } )*
                    $( W::$B => {
                        let (x, y) = self.pop2();
                        let v = clif!(&mut self.b; $BJ; x, y);
                        self.push(v, <$BO as Wasm>::TYPE);
                    } )*
                    $( W::$C => {
                        // Comparisons give an i8; wasm wants an i32.
                        let (x, y) = self.pop2();
                        let c = clif!(&mut self.b; $CJ; x, y);
                        let v = self.b.ins().uextend(I32, c);
                        self.push(v, ValType::I32);
                    } )*
                    $( W::$BT => {
                        let (x, y) = self.pop2();
                        let v = clif!(&mut self.b; $BTJ; x, y);
                        self.push(v, <$BTO as Wasm>::TYPE);
                    } )*
                    $( W::$L { memarg } => {
                        let ty = <$LO as Wasm>::TYPE;
                        self.load(&memarg, size_of::<$LM>() as u32, ty, |b, f, a, o| {
                            clif!(b; $LJ; f, a, o)
                        })?;
                    } )*
                    $( W::$S { memarg } => {
                        self.store(&memarg, size_of::<$SM>() as u32, |b, f, v, a, o| {
                            clif!(b; $SJ; f, v, a, o)
                        })?;
                    } )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

numeric_ops!(jit_lowering);

impl Translator<'_, '_> {
    /// Translates a wide-arithmetic instruction as 128-bit Cranelift
    /// arithmetic; false when `op` is not one.
    pub(super) fn wide(&mut self, op: &wasmparser::Operator<'_>) -> anyhow::Result<bool> {
        use wasmparser::Operator as W;
        let r = match *op {
            W::I64Add128 | W::I64Sub128 => {
                let (bl, bh) = self.pop2();
                let (al, ah) = self.pop2();
                let a = self.b.ins().iconcat(al, ah);
                let b = self.b.ins().iconcat(bl, bh);
                if matches!(op, W::I64Add128) {
                    self.b.ins().iadd(a, b)
                } else {
                    self.b.ins().isub(a, b)
                }
            }
            W::I64MulWideS | W::I64MulWideU => {
                let (x, y) = self.pop2();
                let (x, y) = if matches!(op, W::I64MulWideS) {
                    (self.b.ins().sextend(I128, x), self.b.ins().sextend(I128, y))
                } else {
                    (self.b.ins().uextend(I128, x), self.b.ins().uextend(I128, y))
                };
                self.b.ins().imul(x, y)
            }
            _ => return Ok(false),
        };
        let (low, high) = self.b.ins().isplit(r);
        self.push(low, ValType::I64);
        self.push(high, ValType::I64);
        Ok(true)
    }
}
