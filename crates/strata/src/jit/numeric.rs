//! Translation of the numeric instructions: one row per instruction,
//! mapping it onto the Cranelift instruction with the same semantics.

use super::translate::Translator;
use anyhow::{bail, Result};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, I16, I32, I64, I8};
use cranelift_codegen::ir::{InstBuilder, MemFlags};
use wasmparser::Operator;

impl Translator<'_, '_> {
    pub(super) fn numeric(&mut self, op: Operator<'_>) -> Result<()> {
        use Operator as O;
        macro_rules! un {
            ($f:ident) => {{
                let x = self.pop();
                let v = self.b.ins().$f(x);
                self.push(v);
            }};
            ($f:ident, $t:expr) => {{
                let x = self.pop();
                let v = self.b.ins().$f($t, x);
                self.push(v);
            }};
            ($f:ident, $t:expr, $flags:expr) => {{
                let x = self.pop();
                let v = self.b.ins().$f($t, $flags, x);
                self.push(v);
            }};
        }
        macro_rules! bin {
            ($f:ident) => {{
                let (x, y) = self.pop2();
                let v = self.b.ins().$f(x, y);
                self.push(v);
            }};
        }
        // A comparison: its i8 result widened to wasm's i32.
        macro_rules! cmp {
            ($f:ident, $cc:expr) => {{
                let (x, y) = self.pop2();
                let c = self.b.ins().$f($cc, x, y);
                let v = self.b.ins().uextend(I32, c);
                self.push(v);
            }};
        }
        macro_rules! eqz {
            () => {{
                let x = self.pop();
                let c = self.b.ins().icmp_imm(IntCC::Equal, x, 0);
                let v = self.b.ins().uextend(I32, c);
                self.push(v);
            }};
        }
        macro_rules! extend_from {
            ($narrow:expr, $wide:expr) => {{
                let x = self.pop();
                let n = self.b.ins().ireduce($narrow, x);
                let v = self.b.ins().sextend($wide, n);
                self.push(v);
            }};
        }
        match op {
            O::I32Eqz | O::I64Eqz => eqz!(),
            O::I32Eq | O::I64Eq => cmp!(icmp, IntCC::Equal),
            O::I32Ne | O::I64Ne => cmp!(icmp, IntCC::NotEqual),
            O::I32LtS | O::I64LtS => cmp!(icmp, IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => cmp!(icmp, IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => cmp!(icmp, IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => cmp!(icmp, IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => cmp!(icmp, IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => cmp!(icmp, IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => cmp!(icmp, IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => cmp!(icmp, IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => cmp!(fcmp, FloatCC::Equal),
            O::F32Ne | O::F64Ne => cmp!(fcmp, FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => cmp!(fcmp, FloatCC::LessThan),
            O::F32Gt | O::F64Gt => cmp!(fcmp, FloatCC::GreaterThan),
            O::F32Le | O::F64Le => cmp!(fcmp, FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => cmp!(fcmp, FloatCC::GreaterThanOrEqual),
            O::I32Clz | O::I64Clz => un!(clz),
            O::I32Ctz | O::I64Ctz => un!(ctz),
            O::I32Popcnt | O::I64Popcnt => un!(popcnt),
            O::I32Add | O::I64Add => bin!(iadd),
            O::I32Sub | O::I64Sub => bin!(isub),
            O::I32Mul | O::I64Mul => bin!(imul),
            O::I32DivS | O::I64DivS => bin!(sdiv),
            O::I32DivU | O::I64DivU => bin!(udiv),
            O::I32RemS | O::I64RemS => bin!(srem),
            O::I32RemU | O::I64RemU => bin!(urem),
            O::I32And | O::I64And => bin!(band),
            O::I32Or | O::I64Or => bin!(bor),
            O::I32Xor | O::I64Xor => bin!(bxor),
            O::I32Shl | O::I64Shl => bin!(ishl),
            O::I32ShrS | O::I64ShrS => bin!(sshr),
            O::I32ShrU | O::I64ShrU => bin!(ushr),
            O::I32Rotl | O::I64Rotl => bin!(rotl),
            O::I32Rotr | O::I64Rotr => bin!(rotr),
            O::F32Abs | O::F64Abs => un!(fabs),
            O::F32Neg | O::F64Neg => un!(fneg),
            O::F32Ceil | O::F64Ceil => un!(ceil),
            O::F32Floor | O::F64Floor => un!(floor),
            O::F32Trunc | O::F64Trunc => un!(trunc),
            O::F32Nearest | O::F64Nearest => un!(nearest),
            O::F32Sqrt | O::F64Sqrt => un!(sqrt),
            O::F32Add | O::F64Add => bin!(fadd),
            O::F32Sub | O::F64Sub => bin!(fsub),
            O::F32Mul | O::F64Mul => bin!(fmul),
            O::F32Div | O::F64Div => bin!(fdiv),
            O::F32Min | O::F64Min => bin!(fmin),
            O::F32Max | O::F64Max => bin!(fmax),
            O::F32Copysign | O::F64Copysign => bin!(fcopysign),
            O::I32WrapI64 => un!(ireduce, I32),
            O::I64ExtendI32S => un!(sextend, I64),
            O::I64ExtendI32U => un!(uextend, I64),
            O::I32TruncF32S | O::I32TruncF64S => un!(fcvt_to_sint, I32),
            O::I32TruncF32U | O::I32TruncF64U => un!(fcvt_to_uint, I32),
            O::I64TruncF32S | O::I64TruncF64S => un!(fcvt_to_sint, I64),
            O::I64TruncF32U | O::I64TruncF64U => un!(fcvt_to_uint, I64),
            O::I32TruncSatF32S | O::I32TruncSatF64S => un!(fcvt_to_sint_sat, I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => un!(fcvt_to_uint_sat, I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => un!(fcvt_to_sint_sat, I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => un!(fcvt_to_uint_sat, I64),
            O::F32ConvertI32S | O::F32ConvertI64S => un!(fcvt_from_sint, F32),
            O::F32ConvertI32U | O::F32ConvertI64U => un!(fcvt_from_uint, F32),
            O::F64ConvertI32S | O::F64ConvertI64S => un!(fcvt_from_sint, F64),
            O::F64ConvertI32U | O::F64ConvertI64U => un!(fcvt_from_uint, F64),
            O::F32DemoteF64 => un!(fdemote, F32),
            O::F64PromoteF32 => un!(fpromote, F64),
            O::I32ReinterpretF32 => un!(bitcast, I32, MemFlags::new()),
            O::I64ReinterpretF64 => un!(bitcast, I64, MemFlags::new()),
            O::F32ReinterpretI32 => un!(bitcast, F32, MemFlags::new()),
            O::F64ReinterpretI64 => un!(bitcast, F64, MemFlags::new()),
            O::I32Extend8S => extend_from!(I8, I32),
            O::I32Extend16S => extend_from!(I16, I32),
            O::I64Extend8S => extend_from!(I8, I64),
            O::I64Extend16S => extend_from!(I16, I64),
            O::I64Extend32S => extend_from!(I32, I64),
            op => bail!("the JIT tier does not support {op:?} yet"),
        }
        Ok(())
    }
}
