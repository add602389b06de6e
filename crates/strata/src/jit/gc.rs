//! Translation of the GC proposal's instructions (`isa/gc.rs`).
//!
//! What is hot and simple is inlined: field and element loads and stores
//! at `heap base + reference + offset` (the base comes from
//! `VMRuntimeLimits::gc_heap_base`, never from a constant in the code),
//! null checks, array bounds checks, `i31` tagging and `ref.eq`.
//! Everything else (allocation, casts, the bulk array operations, the
//! `extern`/`any` conversions) calls the `gc` helper, which runs the
//! interpreter's implementation (`interp::gc::run`) on a small cell
//! buffer: one definition of the semantics and the traps for both tiers.

use super::abi::{cell_flags, clif_type};
use super::helpers::Builtins;
use super::translate::{block_args, Translator};
use crate::isa::gc::{
    cast_flags, decode, decode_br_on_cast, encode_heap, BrOnCast, GcOp, GcOperator,
};
use crate::runtime::gc::layout::{FieldLayout, ARRAY_DATA, ARRAY_LEN};
use crate::runtime::vm::VMRuntimeLimits;
use crate::types::{CompositeType, HeapType, RefType, StorageType, ValType};
use crate::Trap;
use anyhow::{bail, Result};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlags, StackSlotData, StackSlotKind, Type, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::mem::offset_of;
use wasmparser::Operator;

mod alloc;
mod desc;

/// The value type a field of `storage` reads as (packed ones as `i32`).
fn unpacked(storage: StorageType) -> ValType {
    match storage {
        StorageType::I8 | StorageType::I16 => ValType::I32,
        StorageType::Val(v) => v,
    }
}

/// Flags of an access to a field or element: inside an object, so it
/// never traps, but a `v128` need not be 16-byte aligned.
fn heap_flags() -> MemFlags {
    MemFlags::new().with_notrap()
}

/// Cells a value of `ty` takes in a helper's buffer.
fn cells(ty: ValType) -> u32 {
    if ty == ValType::V128 {
        2
    } else {
        1
    }
}

/// Whether a value of `ty` may hold a GC heap reference, so that it must
/// be in the stack maps of the calls it lives across: references of the
/// `any`, `extern` (host references are heap objects, and an
/// externalized `anyref` is its reference) and `exn` hierarchies.
pub(super) fn is_gc_ref(ty: ValType) -> bool {
    matches!(ty, ValType::Ref(r) if matches!(r.heap_type().top(), HeapType::Any | HeapType::Extern | HeapType::Exn))
}

/// Declares local `var` of type `ty` as a GC root when it is one (see
/// [`is_gc_ref`]): Cranelift spills it at every call it lives across and
/// lists its slot in that call's user stack map.
pub(super) fn declare_gc_var(b: &mut FunctionBuilder<'_>, var: Variable, ty: ValType) {
    if is_gc_ref(ty) {
        b.declare_var_needs_stack_map(var);
    }
}

impl Translator<'_, '_> {
    /// Declares operand `v` of type `ty` as a GC root when it is one (as
    /// [`declare_gc_var`]).
    pub(super) fn declare_gc_ref(&mut self, v: Value, ty: ValType) {
        if is_gc_ref(ty) {
            self.b.declare_value_needs_stack_map(v);
        }
    }

    /// The storage of a field (or, for an array type, the element) of
    /// module type `t`, and its layout.
    fn field(&self, t: u32, field: u32) -> Result<(StorageType, FieldLayout)> {
        let ty = &self.env.module.types[t as usize];
        let storage = match &ty.sub.composite {
            CompositeType::Struct(s) => match s.fields().get(field as usize) {
                Some(f) => f.storage,
                None => bail!("struct type {t} has no field {field}"),
            },
            CompositeType::Array(a) => a.element().storage,
            CompositeType::Func(_) => bail!("type {t} is a function type"),
        };
        let layout = match ty.layout.as_ref() {
            Some(l) => match (l.as_struct(), l.as_array()) {
                (Some((_, fields)), _) => fields[field as usize],
                (_, Some(elem)) => FieldLayout {
                    offset: ARRAY_DATA,
                    size: elem,
                },
                _ => bail!("type {t} has no layout"),
            },
            None => bail!("type {t} has no layout"),
        };
        Ok((storage, layout))
    }

    /// The size of struct type `t`, its fields' layouts and storages.
    fn struct_fields(&self, t: u32) -> Result<(u32, Vec<FieldLayout>, Vec<StorageType>)> {
        let ty = &self.env.module.types[t as usize];
        let (CompositeType::Struct(s), Some((size, layouts))) = (
            &ty.sub.composite,
            ty.layout.as_ref().and_then(|l| l.as_struct()),
        ) else {
            bail!("type {t} is not a struct type");
        };
        let storages = s.fields().iter().map(|f| f.storage).collect();
        Ok((size, layouts.to_vec(), storages))
    }

    /// `(ref exact $t)` of module type `t`: what `struct.new*` and
    /// `array.new*` produce.
    fn concrete_ref(&self, t: u32) -> ValType {
        let heap = self.env.module.types[t as usize].heap_type();
        ValType::Ref(RefType::new_exact(false, heap).unwrap_or(RefType::new(false, heap)))
    }

    /// The address of object `r` (a reference cell, known non-null).
    pub(super) fn object_addr(&mut self, r: Value) -> Value {
        let base = self.load_static(I64, self.limits, offset_of!(VMRuntimeLimits, gc_heap_base));
        // The cell holds a 32-bit offset, zero-extended.
        self.b.ins().iadd(base, r)
    }

    /// Traps with `trap` when reference `r` is null.
    fn null_check(&mut self, r: Value, trap: Trap) {
        let is_null = self.b.ins().icmp_imm(IntCC::Equal, r, 0);
        self.trap_if(is_null, trap);
    }

    /// Loads a field of `storage` (`size` bytes) at `addr + offset`, a
    /// packed one sign- or zero-extended to `i32`.
    fn load_field(
        &mut self,
        storage: StorageType,
        addr: Value,
        offset: i32,
        signed: bool,
    ) -> Value {
        let f = heap_flags();
        let ins = self.b.ins();
        match storage {
            StorageType::I8 if signed => ins.sload8(I32, f, addr, offset),
            StorageType::I8 => ins.uload8(I32, f, addr, offset),
            StorageType::I16 if signed => ins.sload16(I32, f, addr, offset),
            StorageType::I16 => ins.uload16(I32, f, addr, offset),
            StorageType::Val(v) => {
                let size = crate::runtime::gc::layout::storage_size(storage);
                if matches!(v, ValType::Ref(_)) && size == 4 {
                    ins.uload32(f, addr, offset)
                } else {
                    ins.load(clif_type(v), f, addr, offset)
                }
            }
        }
    }

    /// Stores `v` into a field of `storage` at `addr + offset`.
    pub(super) fn store_field(&mut self, storage: StorageType, v: Value, addr: Value, offset: i32) {
        let f = heap_flags();
        let ins = self.b.ins();
        match storage {
            StorageType::I8 => {
                ins.istore8(f, v, addr, offset);
            }
            StorageType::I16 => {
                ins.istore16(f, v, addr, offset);
            }
            StorageType::Val(ValType::Ref(_))
                if crate::runtime::gc::layout::storage_size(storage) == 4 =>
            {
                ins.istore32(f, v, addr, offset);
            }
            StorageType::Val(_) => {
                ins.store(f, v, addr, offset);
            }
        }
    }

    /// The address of element `index` (an i32) of array `r` (non-null) of
    /// `elem`-byte elements, trapping when it is out of bounds.
    fn element_addr(&mut self, r: Value, index: Value, elem: u8) -> Value {
        let obj = self.object_addr(r);
        let len = self.b.ins().load(I32, heap_flags(), obj, ARRAY_LEN as i32);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, Trap::ArrayOutOfBounds);
        let index = self.b.ins().uextend(I64, index);
        let scaled = self.b.ins().imul_imm(index, i64::from(elem));
        self.b.ins().iadd(obj, scaled)
    }

    /// Calls the `gc` helper for `op` with operands `ops` on a buffer of
    /// `n` cells holding `inputs` (each at its cell), and returns the
    /// value of type `result` the helper left in cell 0.
    fn gc_helper(
        &mut self,
        op: GcOp,
        ops: [u32; 6],
        n: u32,
        inputs: &[(u32, Value)],
        result: Option<Type>,
    ) -> Option<Value> {
        let n = n.max(1);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            n * 8,
            4,
        ));
        let buf = self.b.ins().stack_addr(I64, slot, 0);
        for &(cell, v) in inputs {
            let raw = self.raw(v);
            self.b
                .ins()
                .store(cell_flags(), raw, buf, (cell * 8) as i32);
        }
        let mut args = vec![self.b.ins().iconst(I32, op as i64)];
        for o in ops {
            args.push(self.b.ins().iconst(I32, i64::from(o)));
        }
        args.push(buf);
        args.push(self.b.ins().iconst(I32, i64::from(n)));
        self.builtin_status(offset_of!(Builtins, gc), &args);
        result.map(|t| self.b.ins().load(t, cell_flags(), buf, 0))
    }

    /// Pops `types.len()` operands into consecutive cells from `first`
    /// on (a `v128` takes two); returns them with the next free cell.
    fn pop_cells(&mut self, first: u32, count: usize) -> (Vec<(u32, Value)>, u32) {
        let values = self.stack.split_off(self.stack.len() - count);
        let mut cell = first;
        let mut out = Vec::with_capacity(count);
        for (v, ty) in values {
            out.push((cell, v));
            cell += cells(ty);
        }
        (out, cell)
    }

    /// The operands of a heap type for `ref.test`/`ref.cast`: its kind and,
    /// for a concrete type, a module type index naming it (the helper maps
    /// it to the engine's index, which compiled code must not contain).
    fn heap_operands(&self, heap: HeapType) -> (u32, u32) {
        let (kind, shared) = encode_heap(heap);
        if (12..=14).contains(&kind) {
            let index = self
                .env
                .module
                .types
                .iter()
                .position(|t| t.index.bits() == shared)
                .unwrap_or_else(|| unreachable!("validated: a type of the module"));
            (kind, index as u32)
        } else {
            (kind, 0)
        }
    }

    /// Whether reference `v` is a value of `to` (an i32 0 or 1).
    fn ref_test(&mut self, v: Value, to: RefType) -> Value {
        let (hk, hi) = self.heap_operands(to.heap_type());
        let ops = [0, 1, cast_flags(to), hk, hi, 0];
        self.gc_helper(GcOp::RefTest, ops, 2, &[(1, v)], Some(I32))
            .unwrap_or_else(|| unreachable!("a result was asked for"))
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
        match kind {
            GcOp::StructNew | GcOp::StructNewDefault => {
                let (size, layouts, storages) = self.struct_fields(t)?;
                let n = if kind == GcOp::StructNew {
                    storages.len()
                } else {
                    0
                };
                let (inputs, end) = self.pop_cells(1, n);
                let fields = storages
                    .into_iter()
                    .zip(layouts)
                    .zip(inputs.iter().map(|&(_, v)| v))
                    .map(|((s, l), v)| (s, l, v))
                    .collect();
                let ops = [0, t, u32::from(n > 0), 0, 0, 0];
                let r = self.struct_new_inline(t, size, fields, |this| {
                    let r = this.gc_helper(kind, ops, end, &inputs, Some(I64));
                    r.unwrap_or_else(|| unreachable!("a result was asked for"))
                });
                self.push(r, self.concrete_ref(t));
            }
            GcOp::StructGet | GcOp::StructGetS | GcOp::StructGetU => {
                let (storage, layout) = self.field(t, index)?;
                let r = self.pop();
                self.null_check(r, Trap::NullStructReference);
                let obj = self.object_addr(r);
                let signed = kind == GcOp::StructGetS;
                let v = self.load_field(storage, obj, layout.offset as i32, signed);
                self.push(v, unpacked(storage));
            }
            GcOp::StructSet => {
                let (storage, layout) = self.field(t, index)?;
                let (r, v) = self.pop2();
                self.null_check(r, Trap::NullStructReference);
                let obj = self.object_addr(r);
                self.store_field(storage, v, obj, layout.offset as i32);
            }
            GcOp::ArrayNew => {
                let (storage, layout) = self.field(t, 0)?;
                let (value, len) = self.pop2();
                let ops = [0, 2, 1, t, 0, 0];
                let inputs = [(1, len), (2, value)];
                let elem = (storage, layout.size);
                let r = self.array_new_inline(t, elem, len, Some(value), |this| {
                    let r = this.gc_helper(GcOp::ArrayNew, ops, 4, &inputs, Some(I64));
                    r.unwrap_or_else(|| unreachable!("a result was asked for"))
                });
                self.push(r, self.concrete_ref(t));
            }
            GcOp::ArrayNewDefault => {
                let (storage, layout) = self.field(t, 0)?;
                let len = self.pop();
                let ops = [0, 1, t, 0, 0, 0];
                let elem = (storage, layout.size);
                let r = self.array_new_inline(t, elem, len, None, |this| {
                    let r = this.gc_helper(GcOp::ArrayNewDefault, ops, 2, &[(1, len)], Some(I64));
                    r.unwrap_or_else(|| unreachable!("a result was asked for"))
                });
                self.push(r, self.concrete_ref(t));
            }
            GcOp::ArrayNewFixed => {
                let (storage, layout) = self.field(t, 0)?;
                let n = index;
                let (inputs, end) = self.pop_cells(1, n as usize);
                let ops = [0, 1, t, n, 0, 0];
                let slow = |this: &mut Self| {
                    let r = this.gc_helper(GcOp::ArrayNewFixed, ops, end, &inputs, Some(I64));
                    r.unwrap_or_else(|| unreachable!("a result was asked for"))
                };
                let values = inputs.iter().map(|&(_, v)| v).collect();
                let elem = (storage, layout.size);
                let r = match self.array_new_fixed_inline(t, elem, values, slow) {
                    Some(r) => r,
                    None => slow(self),
                };
                self.push(r, self.concrete_ref(t));
            }
            GcOp::ArrayNewData | GcOp::ArrayNewElem => {
                let seg = index;
                let (offset, len) = self.pop2();
                let ops = [0, 1, 2, t, seg, 0];
                let r = self.gc_helper(kind, ops, 3, &[(1, offset), (2, len)], Some(I64));
                self.push_result(r, self.concrete_ref(t));
            }
            GcOp::ArrayGet | GcOp::ArrayGetS | GcOp::ArrayGetU => {
                let (storage, layout) = self.field(t, 0)?;
                let (r, index) = self.pop2();
                self.null_check(r, Trap::NullArrayReference);
                let at = self.element_addr(r, index, layout.size);
                let signed = kind == GcOp::ArrayGetS;
                let v = self.load_field(storage, at, ARRAY_DATA as i32, signed);
                self.push(v, unpacked(storage));
            }
            GcOp::ArraySet => {
                let (storage, layout) = self.field(t, 0)?;
                let v = self.pop();
                let (r, index) = self.pop2();
                self.null_check(r, Trap::NullArrayReference);
                let at = self.element_addr(r, index, layout.size);
                self.store_field(storage, v, at, ARRAY_DATA as i32);
            }
            GcOp::ArrayLen => {
                let r = self.pop();
                self.null_check(r, Trap::NullArrayReference);
                let obj = self.object_addr(r);
                let len = self.b.ins().load(I32, heap_flags(), obj, ARRAY_LEN as i32);
                self.push(len, ValType::I32);
            }
            GcOp::ArrayFill => {
                let len = self.pop();
                let value = self.pop();
                let (r, offset) = self.pop2();
                let inputs = [(0, r), (1, offset), (2, len), (3, value)];
                self.gc_helper(GcOp::ArrayFill, [0, 1, 3, 2, t, 0], 5, &inputs, None);
            }
            GcOp::ArrayCopy => {
                let len = self.pop();
                let (src, src_offset) = self.pop2();
                let (dst, dst_offset) = self.pop2();
                let inputs = [
                    (0, dst),
                    (1, dst_offset),
                    (2, src),
                    (3, src_offset),
                    (4, len),
                ];
                self.gc_helper(GcOp::ArrayCopy, [0, 1, 2, 3, 4, t], 5, &inputs, None);
            }
            GcOp::ArrayInitData | GcOp::ArrayInitElem => {
                let seg = index;
                let (src, len) = self.pop2();
                let (r, dst) = self.pop2();
                let inputs = [(0, r), (1, dst), (2, src), (3, len)];
                self.gc_helper(kind, [0, 1, 2, 3, t, seg], 4, &inputs, None);
            }
            GcOp::RefI31 => {
                let v = self.pop();
                let shifted = self.b.ins().ishl_imm(v, 1);
                let tagged = self.b.ins().bor_imm(shifted, 1);
                let cell = self.b.ins().uextend(I64, tagged);
                self.push(cell, ValType::Ref(RefType::new(false, HeapType::I31)));
            }
            GcOp::I31GetS | GcOp::I31GetU => {
                let r = self.pop();
                self.null_check(r, Trap::NullI31Reference);
                let v = self.b.ins().ireduce(I32, r);
                let v = if kind == GcOp::I31GetS {
                    self.b.ins().sshr_imm(v, 1)
                } else {
                    self.b.ins().ushr_imm(v, 1)
                };
                self.push(v, ValType::I32);
            }
            GcOp::RefEq => {
                let (x, y) = self.pop2();
                let eq = self.b.ins().icmp(IntCC::Equal, x, y);
                let eq = self.b.ins().uextend(I32, eq);
                self.push(eq, ValType::I32);
            }
            GcOp::RefTest | GcOp::RefCast => {
                let Some((hty, nullable)) = cast else {
                    unreachable!("decoded with its target type")
                };
                let to = self.env.module.cast_type(hty, nullable)?;
                let v = self.pop();
                let ok = self.ref_test(v, to);
                if kind == GcOp::RefTest {
                    self.push(ok, ValType::I32);
                } else {
                    let bad = self.b.ins().icmp_imm(IntCC::Equal, ok, 0);
                    self.trap_if(bad, Trap::CastFailure);
                    self.push(v, ValType::Ref(to));
                }
            }
            GcOp::StructNewDesc
            | GcOp::StructNewDefaultDesc
            | GcOp::RefGetDesc
            | GcOp::RefTestDesc
            | GcOp::RefCastDesc => self.gc_desc(kind, t, cast)?,
            GcOp::AnyConvertExtern | GcOp::ExternConvertAny => {
                let (v, ty) = self.pop_typed();
                let nullable = ty.as_ref().is_none_or(|r| r.is_nullable());
                let top = if kind == GcOp::AnyConvertExtern {
                    HeapType::Any
                } else {
                    HeapType::Extern
                };
                // One encoding for both hierarchies (`runtime::gc`).
                self.push(v, ValType::Ref(RefType::new(nullable, top)));
            }
        }
        Ok(true)
    }

    /// Translates `br_on_cast` or `br_on_cast_fail`; false when `op` is
    /// neither.
    fn br_on_cast(&mut self, op: &Operator<'_>) -> Result<bool> {
        let Some(br) = decode_br_on_cast(op) else {
            return Ok(false);
        };
        if let Some(t) = br.desc {
            self.br_on_cast_desc(br, t)?;
            return Ok(true);
        }
        let to = self.env.module.ref_type(br.to)?;
        let (v, from) = self.pop_typed();
        let ok = self.ref_test(v, to);
        self.branch_on_cast(ok, (v, from), to, br);
        Ok(true)
    }

    /// The branch of `br_on_cast*` (`br`) once the test gave `ok`: the
    /// label sees operand `v` as the target type `to` (on success) or as
    /// it was, `from` (on failure); the value is the same.
    pub(super) fn branch_on_cast(
        &mut self,
        ok: Value,
        (v, from): (Value, ValType),
        to: RefType,
        br: BrOnCast,
    ) {
        let on_fail = br.on_fail;
        self.push(v, if on_fail { from } else { ValType::Ref(to) });
        let (target, args) = self.branch_target(br.depth);
        let cont = self.b.create_block();
        if on_fail {
            self.b.ins().brif(ok, cont, &[], target, &block_args(&args));
        } else {
            self.b.ins().brif(ok, target, &block_args(&args), cont, &[]);
        }
        self.b.switch_to_block(cont);
        self.pop();
        self.push(v, if on_fail { ValType::Ref(to) } else { from });
    }

    /// Pushes a helper's result.
    fn push_result(&mut self, r: Option<Value>, ty: ValType) {
        let r = r.unwrap_or_else(|| unreachable!("a result was asked for"));
        self.push(r, ty);
    }
}

#[cfg(test)]
mod tests {
    use crate::module::ModuleInfo;
    use crate::{Config, Engine, Tier};

    #[test]
    fn references_live_across_calls_get_stack_maps() {
        if !Tier::Jit.is_available() {
            return;
        }
        let mut config = Config::new();
        config.tier(Tier::Jit).wasm_gc(true);
        let engine = Engine::new(&config).expect("valid configuration");
        // `keep` holds a struct reference across a call and reads it
        // after; `plain` holds no reference.
        let bytes = wat::parse_str(
            r#"(module
              (type $s (struct (field i32)))
              (func $plain (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
              (func $keep (param i32) (result i32)
                (local $r (ref null $s))
                (local.set $r (struct.new $s (local.get 0)))
                (drop (call $plain (i32.const 0)))
                (struct.get $s 0 (local.get $r))))"#,
        )
        .expect("valid text");
        let m = ModuleInfo::parse(&engine, &bytes).expect("valid module");
        let image = super::super::compile_image(&m, &[0, 1]).expect("compiles");
        let maps = |defined: u32| {
            let f = image
                .funcs
                .iter()
                .find(|f| f.defined == defined && !f.trampoline)
                .expect("compiled");
            f.stack_maps.clone()
        };
        assert!(maps(0).is_empty(), "{:?}", maps(0));
        // The call of `$plain` has the reference in its map (the helper
        // call that allocates it has nothing live yet).
        assert!(maps(1).iter().any(|m| !m.slots.is_empty()), "{:?}", maps(1));
    }
}
