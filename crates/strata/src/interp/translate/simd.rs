//! Translation of the SIMD instructions: the rows of the SIMD table by
//! their shape (`Op::simd`), `v128.store` and `i8x16.shuffle`; and of the
//! wide-arithmetic instructions, whose two results are consecutive
//! temporaries. A `v128`
//! operand is the first of its two slots; operands beyond three go in an
//! `Ext` word after the instruction.

use super::Translator;
use crate::interp::ops::{Op, Simd};
use crate::types::ValType;
use anyhow::Result;
use wasmparser::Operator;

impl Translator<'_> {
    /// Translates `op` if it is a SIMD or wide-arithmetic instruction;
    /// whether it was.
    pub(super) fn simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        let Some(shape) = Op::simd(op) else {
            match *op {
                Operator::V128Store { memarg } => {
                    let (access, offset, ext) = self.access(&memarg)?;
                    let value = self.pop();
                    let addr = self.pop();
                    self.emit(Op::V128Store {
                        addr,
                        value,
                        offset,
                        access,
                    });
                    self.emit_access_ext(ext);
                }
                Operator::I8x16Shuffle { lanes } => {
                    // The first pass put the lane indices in the pool.
                    let mask = self.const_slots.slot((u128::from_le_bytes(lanes), 2));
                    let b = self.pop();
                    let a = self.pop();
                    let dst = self.push_temp(ValType::V128);
                    let at = self.emit(Op::I8x16Shuffle { dst, a, b });
                    self.emit_ext(mask, 0);
                    self.last_producer = Some(at);
                }
                Operator::I64Add128 | Operator::I64Sub128 => {
                    let bh = self.pop();
                    let bl = self.pop();
                    let high = self.pop();
                    let low = self.pop();
                    let dst = self.push_temp(ValType::I64);
                    self.push_temp(ValType::I64);
                    self.emit(if matches!(op, Operator::I64Add128) {
                        Op::I64Add128 { dst, low, high }
                    } else {
                        Op::I64Sub128 { dst, low, high }
                    });
                    self.emit_ext(bl, bh);
                }
                Operator::I64MulWideS | Operator::I64MulWideU => {
                    let rhs = self.pop();
                    let lhs = self.pop();
                    let dst = self.push_temp(ValType::I64);
                    self.push_temp(ValType::I64);
                    self.emit(if matches!(op, Operator::I64MulWideS) {
                        Op::I64MulWideS { dst, lhs, rhs }
                    } else {
                        Op::I64MulWideU { dst, lhs, rhs }
                    });
                }
                _ => return Ok(false),
            }
            return Ok(true);
        };
        match shape {
            Simd::Unary(make, ty) => {
                let src = self.pop();
                self.produce(ty, |dst| make(dst, src));
            }
            Simd::Binary(make) => {
                let rhs = self.pop();
                let lhs = self.pop();
                self.produce(ValType::V128, |dst| make(dst, lhs, rhs));
            }
            Simd::Ternary(make) => {
                let c = self.pop();
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(ValType::V128);
                let at = self.emit(make(dst, a, b));
                self.emit_ext(c, 0);
                self.last_producer = Some(at);
            }
            Simd::Extract(make, ty, lane) => {
                let src = self.pop();
                self.produce(ty, |dst| make(dst, src, u32::from(lane)));
            }
            Simd::Replace(make, lane) => {
                let val = self.pop();
                let vec = self.pop();
                let dst = self.push_temp(ValType::V128);
                let at = self.emit(make(dst, vec, val));
                self.emit_ext(u32::from(lane), 0);
                self.last_producer = Some(at);
            }
            Simd::Load(make, memarg) => {
                let (access, offset, ext) = self.access(&memarg)?;
                let addr = self.pop();
                let dst = self.push_temp(ValType::V128);
                let at = self.emit(make(dst, addr, offset, access));
                self.emit_access_ext(ext);
                self.last_producer = Some(at);
            }
            Simd::LoadLane(make, memarg, lane) => {
                let (access, offset, ext) = self.access(&memarg)?;
                let vec = self.pop();
                let addr = self.pop();
                let dst = self.push_temp(ValType::V128);
                let at = self.emit(make(dst, addr, offset, access));
                self.emit_access_ext(ext);
                self.emit_ext(vec, u32::from(lane));
                self.last_producer = Some(at);
            }
            Simd::StoreLane(make, memarg, lane) => {
                let (access, offset, ext) = self.access(&memarg)?;
                let vec = self.pop();
                let addr = self.pop();
                self.emit(make(addr, vec, offset, access));
                self.emit_access_ext(ext);
                self.emit_ext(u32::from(lane), 0);
            }
        }
        Ok(true)
    }

    /// Emits the extension word of the instruction just emitted (which
    /// stays the producer of the top temporary, so `local.set` may still
    /// retarget it: the caller says so).
    fn emit_ext(&mut self, a: u32, b: u32) {
        self.emit(Op::Ext { a, b, c: 0 });
    }
}
