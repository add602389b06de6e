//! Allocation of GC objects in compiled code, without a call in the
//! common case.
//!
//! The heap shares an allocation window with compiled code
//! (`VMRuntimeLimits::gc_window`, see `runtime::gc`): `cur..end` is free
//! (its bytes not zeroed). An allocation that fits bumps `cur`, sets the
//! object's bit in the heap's start bitmap, writes the header (the engine's type index, read from the instance's
//! `type_ids`, and the collector's word) and every field, zero for a
//! default one (padding between fields is never read); one
//! that does not (the window is empty in stress mode, and ends where a
//! collection is due) calls the `gc` helper, which runs the interpreter's
//! implementation and may collect first. Both paths produce the same
//! object, so the instruction's semantics stay those of `interp::gc`.

use super::super::translate::Translator;
use crate::runtime::gc::layout::{array_size, FieldLayout, ARRAY_DATA, ARRAY_LEN, HEADER};
use crate::runtime::gc::{array_header, struct_header};
use crate::runtime::vm::{VMContext, VMGcWindow, VMRuntimeLimits};
use crate::types::{StorageType, ValType};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlags, Value};
use std::mem::offset_of;

impl Translator<'_, '_> {
    /// Allocates an object of module type `t`, `size` bytes (an `i64`, a
    /// multiple of 8) with header word `header`, from the window when it
    /// fits there, running `init` to write its contents; otherwise
    /// `slow` makes it through the runtime. Returns the reference.
    pub(super) fn alloc_inline(
        &mut self,
        t: u32,
        size: Value,
        header: u32,
        init: impl FnOnce(&mut Self, Value),
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let fast = self.b.create_block();
        let call = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        // The window changes under every call and allocation: plain loads,
        // never hoisted or merged across them.
        let f = MemFlags::trusted();
        let window = self.load_static(I64, self.limits, offset_of!(VMRuntimeLimits, gc_window));
        let cur = self
            .b
            .ins()
            .uload32(f, window, offset_of!(VMGcWindow, cur) as i32);
        let end = self
            .b
            .ins()
            .uload32(f, window, offset_of!(VMGcWindow, end) as i32);
        let next = self.b.ins().iadd(cur, size);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, next, end);
        self.b.ins().brif(fits, fast, &[], call, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(call);

        self.b.switch_to_block(fast);
        self.b
            .ins()
            .istore32(f, next, window, offset_of!(VMGcWindow, cur) as i32);
        // starts[cur / 512] |= 1 << (cur / 8 % 64): the collector's record
        // that an object starts here.
        let starts = self
            .b
            .ins()
            .load(I64, f, window, offset_of!(VMGcWindow, starts) as i32);
        let word = self.b.ins().ushr_imm(cur, 9);
        let word = self.b.ins().ishl_imm(word, 3);
        let word = self.b.ins().iadd(starts, word);
        let slot = self.b.ins().ushr_imm(cur, 3);
        let one = self.b.ins().iconst(I64, 1);
        // `ishl` takes its amount modulo 64.
        let bit = self.b.ins().ishl(one, slot);
        let bits = self.b.ins().load(I64, f, word, 0);
        let bits = self.b.ins().bor(bits, bit);
        self.b.ins().store(f, bits, word, 0);
        let addr = self.object_addr(cur);
        let type_ids = self.load_static(I64, self.vmctx, offset_of!(VMContext, type_ids));
        let type_id = self.load_static(I32, type_ids, t as usize * 4);
        let heap = MemFlags::new().with_notrap();
        self.b.ins().store(heap, type_id, addr, 0);
        let word = self.b.ins().iconst(I32, i64::from(header));
        self.b.ins().store(heap, word, addr, 4);
        init(self, addr);
        self.b.ins().jump(join, &[cur.into()]);

        self.b.switch_to_block(call);
        let r = slow(self);
        self.b.ins().jump(join, &[r.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// `struct.new` (`fields` with their values) or `struct.new_default`
    /// (`fields` empty) of struct type `t` of `size` bytes: allocated
    /// inline.
    pub(super) fn struct_new_inline(
        &mut self,
        t: u32,
        size: u32,
        fields: Vec<(StorageType, FieldLayout, Value)>,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let bytes = self.b.ins().iconst(I64, i64::from(size));
        let init = move |this: &mut Self, addr: Value| {
            if fields.is_empty() {
                // Every field zero (null, 0), the padding too.
                let start = this.b.ins().iadd_imm(addr, i64::from(HEADER));
                let stop = this.b.ins().iadd_imm(addr, i64::from(size));
                this.zero(start, stop);
            }
            for (storage, layout, v) in fields {
                this.store_field(storage, v, addr, layout.offset as i32);
            }
        };
        self.alloc_inline(t, bytes, struct_header(size), init, slow)
    }

    /// `array.new_fixed` of array type `t` with elements `values` of
    /// `storage` (`elem` bytes each): allocated inline. `None` when the
    /// array is too large for any heap (the helper traps).
    pub(super) fn array_new_fixed_inline(
        &mut self,
        t: u32,
        (storage, elem): (StorageType, u8),
        values: Vec<Value>,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Option<Value> {
        let len = u32::try_from(values.len()).ok()?;
        let size = array_size(elem, len)?;
        let bytes = self.b.ins().iconst(I64, i64::from(size));
        let init = move |this: &mut Self, addr: Value| {
            let len = this.b.ins().iconst(I32, i64::from(len));
            this.b
                .ins()
                .store(MemFlags::new().with_notrap(), len, addr, ARRAY_LEN as i32);
            for (i, v) in values.into_iter().enumerate() {
                let at = ARRAY_DATA as usize + i * usize::from(elem);
                this.store_field(storage, v, addr, at as i32);
            }
        };
        Some(self.alloc_inline(t, bytes, array_header(elem), init, slow))
    }

    /// `array.new` (`fill` given) or `array.new_default` of array type `t`
    /// with `len` (an `i32`) elements of `storage` (`elem` bytes each):
    /// allocated inline when it fits the window (a length no heap can
    /// hold never does, and the helper traps).
    pub(super) fn array_new_inline(
        &mut self,
        t: u32,
        (storage, elem): (StorageType, u8),
        len: Value,
        fill: Option<Value>,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        // ARRAY_DATA + len * elem, rounded up to 8: at most 2^36, so no
        // 64-bit sum overflows.
        let len64 = self.b.ins().uextend(I64, len);
        let data = self.b.ins().imul_imm(len64, i64::from(elem));
        let bytes = self.b.ins().iadd_imm(data, i64::from(ARRAY_DATA) + 7);
        let bytes = self.b.ins().band_imm(bytes, !7);
        let init = move |this: &mut Self, addr: Value| {
            this.b
                .ins()
                .store(MemFlags::new().with_notrap(), len, addr, ARRAY_LEN as i32);
            let start = this.b.ins().iadd_imm(addr, i64::from(ARRAY_DATA));
            match fill {
                Some(v) => {
                    let stop = this.b.ins().iadd(start, data);
                    this.fill(storage, elem, (start, stop), v);
                }
                None => {
                    // To the object's end: the padding too.
                    let stop = this.b.ins().iadd(addr, bytes);
                    this.zero(start, stop);
                }
            }
        };
        self.alloc_inline(t, bytes, array_header(elem), init, slow)
    }

    /// Zeroes the bytes from `start` to `stop` (addresses, 8 bytes apart
    /// a multiple of times).
    fn zero(&mut self, start: Value, stop: Value) {
        let zero = self.b.ins().iconst(I64, 0);
        self.fill(StorageType::Val(ValType::I64), 8, (start, stop), zero);
    }

    /// Stores `v`, of `storage` (`elem` bytes), at every `elem` bytes from
    /// `start` to `stop` (addresses).
    fn fill(&mut self, storage: StorageType, elem: u8, (start, stop): (Value, Value), v: Value) {
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(body, I64);
        let empty = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, start, stop);
        self.b.ins().brif(empty, done, &[], body, &[start.into()]);
        self.b.switch_to_block(body);
        let at = self.b.block_params(body)[0];
        self.store_field(storage, v, at, 0);
        let next = self.b.ins().iadd_imm(at, i64::from(elem));
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, next, stop);
        self.b.ins().brif(more, body, &[next.into()], done, &[]);
        self.b.seal_block(body);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }
}
