//! Translation of the GC proposal's instructions: each becomes one
//! `Op::Gc` followed by one `Ext` word (operands as `isa/gc.rs` lists
//! them), which the driver runs (`interp/gc.rs`). `br_on_cast` and
//! `br_on_cast_fail` are a `ref.test` into a temporary and a conditional
//! branch on it.

use super::Translator;
use crate::interp::ops::Op;
use crate::isa::gc::{encode_heap, operator_allocates, GcOp};
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

    /// `(ref $t)` of module type `t`.
    fn concrete_ref(&self, t: u32) -> ValType {
        let ty = &self.module.types[t as usize];
        ValType::Ref(RefType::new(false, ty.heap_type()))
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
        // An allocating instruction is a safepoint whose operands are
        // still live while it allocates: its fields' values are written
        // into the new object after the allocation (and a collection).
        let live = operator_allocates(op).then(|| self.ref_temps());
        match *op {
            Operator::StructNew {
                struct_type_index: t,
            } => {
                let n = match &self.module.types[t as usize].sub.composite {
                    CompositeType::Struct(s) => s.fields().len(),
                    _ => bail!("struct.new of a non-struct type {t}"),
                };
                let base = self.call_args(n);
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(GcOp::StructNew, (dst, t, base), (0, 0, 0));
            }
            Operator::StructNewDefault {
                struct_type_index: t,
            } => {
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(GcOp::StructNewDefault, (dst, t, 0), (0, 0, 0));
            }
            Operator::StructGet {
                struct_type_index: t,
                field_index: f,
            }
            | Operator::StructGetS {
                struct_type_index: t,
                field_index: f,
            }
            | Operator::StructGetU {
                struct_type_index: t,
                field_index: f,
            } => {
                let kind = match op {
                    Operator::StructGet { .. } => GcOp::StructGet,
                    Operator::StructGetS { .. } => GcOp::StructGetS,
                    _ => GcOp::StructGetU,
                };
                let ty = self.field_type(t, f)?;
                let obj = self.pop();
                let dst = self.push_temp(ty);
                self.gc_op(kind, (dst, obj, t), (f, 0, 0));
            }
            Operator::StructSet {
                struct_type_index: t,
                field_index: f,
            } => {
                let value = self.pop();
                let obj = self.pop();
                self.gc_op(GcOp::StructSet, (obj, value, t), (f, 0, 0));
            }
            Operator::ArrayNew {
                array_type_index: t,
            } => {
                let len = self.pop();
                let value = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(GcOp::ArrayNew, (dst, value, len), (t, 0, 0));
            }
            Operator::ArrayNewDefault {
                array_type_index: t,
            } => {
                let len = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(GcOp::ArrayNewDefault, (dst, len, t), (0, 0, 0));
            }
            Operator::ArrayNewFixed {
                array_type_index: t,
                array_size: n,
            } => {
                let base = self.call_args(n as usize);
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(GcOp::ArrayNewFixed, (dst, base, t), (n, 0, 0));
            }
            Operator::ArrayNewData {
                array_type_index: t,
                array_data_index: seg,
            }
            | Operator::ArrayNewElem {
                array_type_index: t,
                array_elem_index: seg,
            } => {
                let kind = match op {
                    Operator::ArrayNewData { .. } => GcOp::ArrayNewData,
                    _ => GcOp::ArrayNewElem,
                };
                let len = self.pop();
                let offset = self.pop();
                let dst = self.push_temp(self.concrete_ref(t));
                self.gc_op(kind, (dst, offset, len), (t, seg, 0));
            }
            Operator::ArrayGet {
                array_type_index: t,
            }
            | Operator::ArrayGetS {
                array_type_index: t,
            }
            | Operator::ArrayGetU {
                array_type_index: t,
            } => {
                let kind = match op {
                    Operator::ArrayGet { .. } => GcOp::ArrayGet,
                    Operator::ArrayGetS { .. } => GcOp::ArrayGetS,
                    _ => GcOp::ArrayGetU,
                };
                let ty = self.field_type(t, 0)?;
                let index = self.pop();
                let array = self.pop();
                let dst = self.push_temp(ty);
                self.gc_op(kind, (dst, array, index), (t, 0, 0));
            }
            Operator::ArraySet {
                array_type_index: t,
            } => {
                let value = self.pop();
                let index = self.pop();
                let array = self.pop();
                self.gc_op(GcOp::ArraySet, (array, index, value), (t, 0, 0));
            }
            Operator::ArrayLen => {
                let array = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(GcOp::ArrayLen, (dst, array, 0), (0, 0, 0));
            }
            Operator::ArrayFill {
                array_type_index: t,
            } => {
                let len = self.pop();
                let value = self.pop();
                let offset = self.pop();
                let array = self.pop();
                self.gc_op(GcOp::ArrayFill, (array, offset, value), (len, t, 0));
            }
            Operator::ArrayCopy {
                array_type_index_dst: t,
                ..
            } => {
                let len = self.pop();
                let src_offset = self.pop();
                let src = self.pop();
                let dst_offset = self.pop();
                let dst = self.pop();
                self.gc_op(
                    GcOp::ArrayCopy,
                    (dst, dst_offset, src),
                    (src_offset, len, t),
                );
            }
            Operator::ArrayInitData {
                array_type_index: t,
                array_data_index: seg,
            }
            | Operator::ArrayInitElem {
                array_type_index: t,
                array_elem_index: seg,
            } => {
                let kind = match op {
                    Operator::ArrayInitData { .. } => GcOp::ArrayInitData,
                    _ => GcOp::ArrayInitElem,
                };
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                let array = self.pop();
                self.gc_op(kind, (array, dst, src), (len, t, seg));
            }
            Operator::RefI31 => {
                let src = self.pop();
                let ty = ValType::Ref(RefType::new(false, HeapType::I31));
                let dst = self.push_temp(ty);
                self.gc_op(GcOp::RefI31, (dst, src, 0), (0, 0, 0));
            }
            Operator::I31GetS | Operator::I31GetU => {
                let kind = if matches!(op, Operator::I31GetS) {
                    GcOp::I31GetS
                } else {
                    GcOp::I31GetU
                };
                let src = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(kind, (dst, src, 0), (0, 0, 0));
            }
            Operator::RefEq => {
                let rhs = self.pop();
                let lhs = self.pop();
                let dst = self.push_temp(ValType::I32);
                self.gc_op(GcOp::RefEq, (dst, lhs, rhs), (0, 0, 0));
            }
            Operator::RefTestNonNull { hty }
            | Operator::RefTestNullable { hty }
            | Operator::RefCastNonNull { hty }
            | Operator::RefCastNullable { hty } => {
                let nullable = matches!(
                    op,
                    Operator::RefTestNullable { .. } | Operator::RefCastNullable { .. }
                );
                let is_test = matches!(
                    op,
                    Operator::RefTestNullable { .. } | Operator::RefTestNonNull { .. }
                );
                let heap = self.module.heap_type(hty)?;
                let src = self.pop();
                let (kind, ty) = if is_test {
                    (GcOp::RefTest, ValType::I32)
                } else {
                    (GcOp::RefCast, ValType::Ref(RefType::new(nullable, heap)))
                };
                let dst = self.push_temp(ty);
                let (hk, hi) = encode_heap(heap);
                self.gc_op(kind, (dst, src, u32::from(nullable)), (hk, hi, 0));
            }
            Operator::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | Operator::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let on_fail = matches!(op, Operator::BrOnCastFail { .. });
                let to = self.module.ref_type(to_ref_type)?;
                let top = self.stack.len() - 1;
                let reference = self.slot_at(top);
                // The test's result goes to a temporary above the operand,
                // which the branch's copies (to slots at or below the
                // operand) never overwrite before the test is read.
                let cond = self.push_temp(ValType::I32);
                self.pop();
                let (hk, hi) = encode_heap(to.heap_type());
                self.gc_op(
                    GcOp::RefTest,
                    (cond, reference, u32::from(to.is_nullable())),
                    (hk, hi, 0),
                );
                // The label sees the operand as the target type (on
                // success) or as it was (on failure); slots do not change.
                let label = self.label(relative_depth);
                self.emit_branch_when(cond, on_fail, label);
                if on_fail {
                    self.stack[top].ty = ValType::Ref(to);
                }
            }
            Operator::AnyConvertExtern | Operator::ExternConvertAny => {
                let (src, ty) = self.pop_typed();
                let nullable = ty.as_ref().is_none_or(|r| r.is_nullable());
                let (kind, top) = if matches!(op, Operator::AnyConvertExtern) {
                    (GcOp::AnyConvertExtern, HeapType::Any)
                } else {
                    (GcOp::ExternConvertAny, HeapType::Extern)
                };
                let dst = self.push_temp(ValType::Ref(RefType::new(nullable, top)));
                self.gc_op(kind, (dst, src, 0), (0, 0, 0));
            }
            _ => return Ok(false),
        }
        debug_assert_eq!(
            live.is_some(),
            matches!(self.ops.len().checked_sub(2).map(|i| self.ops[i]), Some(Op::Gc { op, .. }) if op.allocates()),
            "`operator_allocates` names the operators of the allocating `GcOp`s"
        );
        if let Some(live) = live {
            self.safepoint(&live);
        }
        Ok(true)
    }
}
