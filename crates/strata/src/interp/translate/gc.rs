//! Translation of the GC proposal's instructions: each becomes one
//! `Op::Gc` followed by one `Ext` word (operands as `isa/gc.rs` lists
//! them), which the driver runs (`interp/gc.rs`). `br_on_cast` and
//! `br_on_cast_fail` are a `ref.test` into a temporary and a conditional
//! branch on it (`br_on_cast_desc_eq(_fail)` the same with `RefTestDesc`).

use super::Translator;
use crate::interp::ops::Op;
use crate::isa::gc::{cast_flags, decode, decode_br_on_cast, encode_heap, GcOp, GcOperator};
use crate::types::{CompositeType, HeapType, RefType, StorageType, ValType};
use anyhow::{bail, Result};
use wasmparser::Operator;

/// The value type a field of `storage` reads as (packed ones as `i32`).
fn unpacked(storage: StorageType) -> ValType {
    match storage {
        StorageType::I8 | StorageType::I16 => ValType::I32,
        StorageType::Val(v) => v,
    }
}

impl Translator<'_> {
    /// Emits a GC instruction and its extension word.
    fn gc_op(&mut self, op: GcOp, (a, b, c): (u32, u32, u32), (d, e, f): (u32, u32, u32)) {
        self.emit(Op::Gc { op, a, b, c });
        self.emit(Op::Ext { a: d, b: e, c: f });
    }

    /// `(ref exact $t)` of module type `t`: what `struct.new*` and
    /// `array.new*` produce.
    fn concrete_ref(&self, t: u32) -> ValType {
        let heap = self.module.types[t as usize].heap_type();
        ValType::Ref(RefType::new_exact(false, heap).unwrap_or(RefType::new(false, heap)))
    }

    /// The type a field (or, for an array type, the element) of module
    /// type `t` reads as.
    fn field_type(&self, t: u32, field: u32) -> Result<ValType> {
        Ok(match &self.module.types[t as usize].sub.composite {
            CompositeType::Struct(s) => match s.fields().get(field as usize) {
                Some(f) => unpacked(f.storage),
                None => bail!("struct type {t} has no field {field}"),
            },
            CompositeType::Array(a) => unpacked(a.element().storage),
            CompositeType::Func(_) => bail!("type {t} is a function type"),
        })
    }

    /// Translates a GC instruction; false when `op` is not one.
    pub(super) fn gc(&mut self, op: &Operator<'_>) -> Result<bool> {
        let Some(GcOperator {
            op: kind,
            ty: t,
            index,
            cast,
        }) = decode(op)
        else {
            return self.br_on_cast(op);
        };
        // An allocating instruction is a safepoint whose operands are
        // still live while it allocates: its fields' values are written
        // into the new object after the allocation (and a collection).
        let live = kind.allocates().then(|| self.ref_temps());
        match kind {
            GcOp::StructNew => {
                let n = match &self.module.types[t as usize].sub.composite {
                    CompositeType::Struct(s) => s.fields().len(),
                    _ => bail!("struct.new of a non-struct type {t}"),
                };
                let base = self.call_args(n);
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, t, base), (0, 0, 0));
            }
            GcOp::StructNewDefault => {
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, t, 0), (0, 0, 0));
            }
            GcOp::StructGet | GcOp::StructGetS | GcOp::StructGetU => {
                let ty = self.field_type(t, index)?;
                let obj = self.pop();
                let dst = self.push_temp(ty);
                self.gc_op(kind, (dst, obj, t), (index, 0, 0));
            }
            GcOp::StructSet => {
                let value = self.pop();
                let obj = self.pop();
                self.gc_op(kind, (obj, value, t), (index, 0, 0));
            }
            GcOp::ArrayNew => {
                let len = self.pop();
                let value = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, value, len), (t, 0, 0));
            }
            GcOp::ArrayNewDefault => {
                let len = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, len, t), (0, 0, 0));
            }
            GcOp::ArrayNewFixed => {
                let base = self.call_args(index as usize);
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, base, t), (index, 0, 0));
            }
            GcOp::ArrayNewData | GcOp::ArrayNewElem => {
                let len = self.pop();
                let offset = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, offset, len), (t, index, 0));
            }
            GcOp::ArrayGet | GcOp::ArrayGetS | GcOp::ArrayGetU => {
                let ty = self.field_type(t, 0)?;
                let index = self.pop();
                let array = self.pop();
                let dst = self.push_temp(ty);
                self.gc_op(kind, (dst, array, index), (t, 0, 0));
            }
            GcOp::ArraySet => {
                let value = self.pop();
                let index = self.pop();
                let array = self.pop();
                self.gc_op(kind, (array, index, value), (t, 0, 0));
            }
            GcOp::ArrayLen => {
                let array = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(kind, (dst, array, 0), (0, 0, 0));
            }
            GcOp::ArrayFill => {
                let len = self.pop();
                let value = self.pop();
                let offset = self.pop();
                let array = self.pop();
                self.gc_op(kind, (array, offset, value), (len, t, 0));
            }
            GcOp::ArrayCopy => {
                let len = self.pop();
                let src_offset = self.pop();
                let src = self.pop();
                let dst_offset = self.pop();
                let dst = self.pop();
                self.gc_op(kind, (dst, dst_offset, src), (src_offset, len, t));
            }
            GcOp::ArrayInitData | GcOp::ArrayInitElem => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                let array = self.pop();
                self.gc_op(kind, (array, dst, src), (len, t, index));
            }
            GcOp::RefI31 => {
                let src = self.pop();
                let ty = ValType::Ref(RefType::new(false, HeapType::I31));
                let dst = self.push_temp(ty);
                self.gc_op(kind, (dst, src, 0), (0, 0, 0));
            }
            GcOp::I31GetS | GcOp::I31GetU => {
                let src = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(kind, (dst, src, 0), (0, 0, 0));
            }
            GcOp::RefEq => {
                let rhs = self.pop();
                let lhs = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(kind, (dst, lhs, rhs), (0, 0, 0));
            }
            GcOp::RefTest | GcOp::RefCast => {
                let Some((hty, nullable)) = cast else {
                    unreachable!("decoded with its target type")
                };
                let to = self.module.cast_type(hty, nullable)?;
                let src = self.pop();
                let ty = if kind == GcOp::RefTest {
                    ValType::I32
                } else {
                    ValType::Ref(to)
                };
                let dst = self.push_temp(ty);
                let (hk, hi) = encode_heap(to.heap_type());
                self.gc_op(kind, (dst, src, cast_flags(to)), (hk, hi, 0));
            }
            GcOp::StructNewDesc => {
                let n = match &self.module.types[t as usize].sub.composite {
                    CompositeType::Struct(s) => s.fields().len(),
                    _ => bail!("struct.new_desc of a non-struct type {t}"),
                };
                // The fields and the descriptor, consecutive.
                let base = self.call_args(n + 1);
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, t, base), (0, 0, 0));
            }
            GcOp::StructNewDefaultDesc => {
                let desc = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, t, desc), (0, 0, 0));
            }
            GcOp::RefGetDesc => {
                let (src, ty) = self.pop_typed();
                let dst = self.push_temp(self.module.desc_type(t, ty)?);
                self.gc_op(kind, (dst, src, t), (0, 0, 0));
            }
            GcOp::RefTestDesc | GcOp::RefCastDesc => {
                let Some((hty, nullable)) = cast else {
                    unreachable!("decoded with its target type")
                };
                let to = self.module.cast_type(hty, nullable)?;
                let desc = self.pop();
                let src = self.pop();
                let dst = self.push_temp(if kind == GcOp::RefTestDesc {
                    ValType::I32
                } else {
                    ValType::Ref(to)
                });
                self.gc_op(kind, (dst, src, cast_flags(to)), (desc, t, 0));
            }
            GcOp::AnyConvertExtern | GcOp::ExternConvertAny => {
                let (src, ty) = self.pop_typed();
                let nullable = ty.as_ref().is_none_or(|r| r.is_nullable());
                let top = if kind == GcOp::AnyConvertExtern {
                    HeapType::Any
                } else {
                    HeapType::Extern
                };
                let dst = self.push_temp(ValType::Ref(RefType::new(nullable, top)));
                self.gc_op(kind, (dst, src, 0), (0, 0, 0));
            }
        }
        if let Some(live) = live {
            self.safepoint(&live);
        }
        Ok(true)
    }

    /// Translates `br_on_cast`, `br_on_cast_fail` or their descriptor
    /// forms; false when `op` is none of them.
    fn br_on_cast(&mut self, op: &Operator<'_>) -> Result<bool> {
        let Some(br) = decode_br_on_cast(op) else {
            return Ok(false);
        };
        let to = self.module.ref_type(br.to)?;
        // A descriptor operand lies above the reference.
        let top = self.stack.len() - 1 - usize::from(br.desc.is_some());
        let reference = self.slot_at(top);
        // The test's result goes to a temporary above the operands,
        // which the branch's copies (to slots at or below the
        // reference) never overwrite before the test is read.
        let cond = self.push_temp(ValType::I32);
        self.pop();
        let flags = cast_flags(to);
        match br.desc {
            Some(t) => {
                let desc = self.pop();
                self.gc_op(GcOp::RefTestDesc, (cond, reference, flags), (desc, t, 0));
            }
            None => {
                let (hk, hi) = encode_heap(to.heap_type());
                self.gc_op(GcOp::RefTest, (cond, reference, flags), (hk, hi, 0));
            }
        }
        let (relative_depth, on_fail) = (br.depth, br.on_fail);
        // The label sees the operand as the target type (on
        // success) or as it was (on failure); slots do not change.
        let label = self.label(relative_depth);
        self.emit_branch_when(cond, on_fail, label);
        if on_fail {
            self.stack[top].ty = ValType::Ref(to);
        }
        Ok(true)
    }
}
