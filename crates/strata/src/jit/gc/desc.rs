//! The custom-descriptors proposal's instructions in compiled code:
//! `ref.get_desc` is one inlined load of the hidden descriptor field
//! (where the type's layout puts it); allocation with a descriptor and
//! the descriptor casts call the `gc` helper, which runs the interpreter's
//! implementation (`interp::gc`), so both tiers share the semantics and
//! the traps.

use super::super::translate::Translator;
use crate::isa::gc::{cast_flags, BrOnCast, GcOp};
use crate::types::{CompositeType, ValType};
use crate::Trap;
use anyhow::{bail, Result};
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::InstBuilder;

impl Translator<'_, '_> {
    /// Translates descriptor instruction `kind` of module type `t`
    /// (`cast`: a `ref.cast_desc_eq`'s target heap type and nullability).
    pub(super) fn gc_desc(
        &mut self,
        kind: GcOp,
        t: u32,
        cast: Option<(wasmparser::HeapType, bool)>,
    ) -> Result<()> {
        match kind {
            GcOp::StructNewDesc => {
                let n = match &self.env.module.types[t as usize].sub.composite {
                    CompositeType::Struct(s) => s.fields().len(),
                    _ => bail!("struct.new_desc of a non-struct type {t}"),
                };
                // The fields, then the descriptor.
                let (inputs, end) = self.pop_cells(1, n + 1);
                let ops = [0, t, 1, 0, 0, 0];
                let r = self.gc_helper(kind, ops, end, &inputs, Some(I64));
                self.push_result(r, self.concrete_ref(t));
            }
            GcOp::StructNewDefaultDesc => {
                let desc = self.pop();
                let ops = [0, t, 1, 0, 0, 0];
                let r = self.gc_helper(kind, ops, 2, &[(1, desc)], Some(I64));
                self.push_result(r, self.concrete_ref(t));
            }
            GcOp::RefGetDesc => {
                let (r, ty) = self.pop_typed();
                let result = self.env.module.desc_type(t, ty)?;
                self.null_check(r, Trap::NullReference);
                let obj = self.object_addr(r);
                let flags = super::heap_flags();
                let at = crate::interp::gc::descriptor_offset(&self.env.module.types[t as usize]);
                let desc = self.b.ins().uload32(flags, obj, at as i32);
                self.push(desc, result);
            }
            GcOp::RefTestDesc | GcOp::RefCastDesc => {
                let Some((hty, nullable)) = cast else {
                    unreachable!("decoded with its target type")
                };
                let to = self.env.module.cast_type(hty, nullable)?;
                let (v, desc) = self.pop2();
                let ops = [0, 1, cast_flags(to), 2, t, 0];
                let inputs = [(1, v), (2, desc)];
                if kind == GcOp::RefTestDesc {
                    let ok = self.gc_helper(kind, ops, 3, &inputs, Some(I32));
                    self.push_result(ok, ValType::I32);
                } else {
                    let r = self.gc_helper(kind, ops, 3, &inputs, Some(I64));
                    self.push_result(r, ValType::Ref(to));
                }
            }
            _ => unreachable!("not a descriptor instruction: {kind:?}"),
        }
        Ok(())
    }

    /// Translates `br_on_cast_desc_eq` or `br_on_cast_desc_eq_fail` to
    /// module type `t`: the helper's test (which traps on a null
    /// descriptor), then the branch as `br_on_cast` makes it.
    pub(super) fn br_on_cast_desc(&mut self, br: BrOnCast, t: u32) -> Result<()> {
        let to = self.env.module.ref_type(br.to)?;
        let desc = self.pop();
        let (v, from) = self.pop_typed();
        let ops = [0, 1, cast_flags(to), 2, t, 0];
        let ok = self.gc_helper(GcOp::RefTestDesc, ops, 3, &[(1, v), (2, desc)], Some(I32));
        let ok = ok.unwrap_or_else(|| unreachable!("a result was asked for"));
        self.branch_on_cast(ok, (v, from), to, br);
        Ok(())
    }
}
