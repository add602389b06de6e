//! Translation of what reaches outside the function: linear memory,
//! globals, tables, runtime helpers and calls.

use super::abi::{cell_flags, clif_type, native_signature, to_raw};
use super::helpers::Builtins;
use super::translate::{block_args, Translator};
use super::TrapCodes;
use crate::runtime::vm::{VMContext, VMFuncRef, VMMemory, VMRuntimeLimits, VMTable};
use crate::types::ValType;
use crate::Trap;
use anyhow::Result;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    AbiParam, InstBuilder, MemFlags, Signature, StackSlotData, StackSlotKind, TrapCode, Type, Value,
};
use cranelift_frontend::FunctionBuilder;
use std::mem::offset_of;

impl Translator<'_, '_> {
    /// The `VMMemory` and base address of memory `index`. Memory 0's are
    /// loaded once at function entry (the fast path); any other memory's
    /// are read through `VMContext::memories` where used, with movable
    /// read-only loads (the base never moves) that Cranelift shares
    /// between uses and hoists out of loops.
    pub(super) fn memory(&mut self, index: u32) -> (Value, Value) {
        if index == 0 {
            return self
                .memory
                .unwrap_or_else(|| unreachable!("validated: memory access without a memory"));
        }
        let memories = self.load_static(I64, self.vmctx, offset_of!(VMContext, memories));
        let vmmem = self.load_static(I64, memories, index as usize * 8);
        let base = self.load_static(I64, vmmem, offset_of!(VMMemory, base));
        (vmmem, base)
    }

    /// Whether memory `index` has 64-bit addresses.
    pub(super) fn memory_is_64(&self, index: u32) -> bool {
        self.env.module.memories[index as usize].is_64()
    }

    /// `v` as a 64-bit operand: an i32 zero-extended (its cell encoding),
    /// an i64 unchanged.
    pub(super) fn widen(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I64 {
            v
        } else {
            self.b.ins().uextend(I64, v)
        }
    }

    /// The address of a `size`-byte access at `index + offset` of memory
    /// `memory`, and the static offset left for the access instruction
    /// itself: the one memory access path of compiled code (scalar and
    /// vector loads and stores alike).
    ///
    /// A 32-bit memory of 64 KiB pages relies on the guard region (`base +
    /// u32 index + u32 offset + size` always lands in the reservation)
    /// unless explicit checks are configured. A 64-bit memory is always
    /// checked explicitly, in 64 bits with an overflow trap (no guard
    /// region can cover its index space), and so is one of 1-byte pages.
    pub(super) fn address(
        &mut self,
        memory: u32,
        index: Value,
        offset: u64,
        size: u32,
    ) -> (Value, i32) {
        let is_64 = self.memory_is_64(memory);
        // With 1-byte pages the accessible length need not end at a host
        // page, so bytes past it may be mapped: no guard can catch them.
        let small_pages = self.env.module.memories[memory as usize].page_size_log2()
            != crate::types::DEFAULT_PAGE_SIZE_LOG2;
        let (vmmem, base) = self.memory(memory);
        let index = self.widen(index);
        if self.env.explicit_bounds || is_64 || small_pages {
            // `offset + size` beyond u64 saturates: then the access is out
            // of bounds for any index (the sum overflows or exceeds `len`).
            let reach = offset.saturating_add(u64::from(size));
            let end = if is_64 {
                let reach = self.b.ins().iconst(I64, reach as i64);
                self.b
                    .ins()
                    .uadd_overflow_trap(index, reach, TrapCode::HEAP_OUT_OF_BOUNDS)
            } else {
                // A u32 index plus a u32 offset plus a size cannot wrap.
                self.b.ins().iadd_imm(index, reach as i64)
            };
            let len = self.load_vm(I64, vmmem, offset_of!(VMMemory, len));
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let addr = self.b.ins().iadd(base, index);
        match i32::try_from(offset) {
            Ok(o) => (addr, o),
            // In bounds (checked above for a 64-bit memory), so the sum is
            // the true address.
            Err(_) => (self.b.ins().iadd_imm(addr, offset as i64), 0),
        }
    }

    pub(super) fn load(
        &mut self,
        memarg: &wasmparser::MemArg,
        size: u32,
        ty: ValType,
        emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlags, Value, i32) -> Value,
    ) -> Result<()> {
        let memory = memarg_memory(memarg)?;
        let index = self.pop();
        let (addr, off) = self.address(memory, index, memarg.offset, size);
        let v = emit(&mut self.b, MemFlags::new(), addr, off);
        self.push(v, ty);
        Ok(())
    }

    pub(super) fn store(
        &mut self,
        memarg: &wasmparser::MemArg,
        size: u32,
        emit: impl FnOnce(
            &mut FunctionBuilder<'_>,
            MemFlags,
            Value,
            Value,
            i32,
        ) -> cranelift_codegen::ir::Inst,
    ) -> Result<()> {
        let memory = memarg_memory(memarg)?;
        let value = self.pop();
        let index = self.pop();
        let (addr, off) = self.address(memory, index, memarg.offset, size);
        emit(&mut self.b, MemFlags::new(), value, addr, off);
        Ok(())
    }

    /// `*mut VMGlobal` of global `index`. The context's arrays and the
    /// definitions' addresses in them never change while the instance
    /// lives (only a global's value does), so both loads are read-only:
    /// Cranelift shares them between uses and hoists them out of loops,
    /// and a `global.get`/`global.set` pair (a shadow stack pointer's, in
    /// every non-leaf function of a Rust or C program) reads them once.
    pub(super) fn global(&mut self, index: u32) -> Value {
        let globals = self.load_static(I64, self.vmctx, offset_of!(VMContext, globals));
        self.load_static(I64, globals, index as usize * 8)
    }

    /// `*const VMTable` of table `index` (read-only loads, as for
    /// globals: a table's length and base may change, not its address).
    pub(super) fn table(&mut self, index: u32) -> Value {
        let tables = self.load_static(I64, self.vmctx, offset_of!(VMContext, tables));
        self.load_static(I64, tables, index as usize * 8)
    }

    /// The address of element `index` of table `table`, trapping when out
    /// of bounds.
    pub(super) fn table_entry(&mut self, table: u32, index: Value) -> Value {
        let vmtable = self.table(table);
        let len = self.load_vm(I64, vmtable, offset_of!(VMTable, len));
        // A table64 index is already 64-bit: never truncated.
        let index = self.widen(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, Trap::TableOutOfBounds);
        let base = self.load_vm(I64, vmtable, offset_of!(VMTable, base));
        let scaled = self.b.ins().ishl_imm(index, 3);
        self.b.ins().iadd(base, scaled)
    }

    /// The store index of function `index` of this instance (an i32).
    pub(super) fn store_func_index(&mut self, index: u32) -> Value {
        let funcs = self.load_static(I64, self.vmctx, offset_of!(VMContext, funcs));
        self.load_static(I32, funcs, index as usize * 4)
    }

    pub(super) fn raw(&mut self, v: Value) -> Value {
        to_raw(&mut self.b, v)
    }

    /// Calls the runtime helper at `offset` in the `Builtins` table (which
    /// compiled code finds through its `VMContext`, so it holds no
    /// process-specific addresses) with `vmctx` and `args`, returning its
    /// `ret`.
    pub(super) fn builtin(&mut self, offset: usize, args: &[Value], ret: Type) -> Value {
        let mut sig = Signature::new(self.env.host_call_conv);
        sig.params.push(AbiParam::new(I64));
        for a in args {
            sig.params
                .push(AbiParam::new(self.b.func.dfg.value_type(*a)));
        }
        sig.returns.push(AbiParam::new(ret));
        let sig = self.b.import_signature(sig);
        // The table is a static and the context's pointer to it is set
        // once: read-only loads.
        let builtins = self.load_static(I64, self.vmctx, offset_of!(VMContext, builtins));
        let callee = self.load_static(I64, builtins, offset);
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, callee, &all);
        self.b.inst_results(call)[0]
    }

    /// Calls a helper that returns 0 or 1 (error pending) and traps on 1.
    pub(super) fn builtin_status(&mut self, offset: usize, args: &[Value]) {
        let status = self.builtin(offset, args, I32);
        self.b.ins().trapnz(status, TrapCodes::PENDING);
    }

    /// Calls a grow helper (`memory_grow` or `table_grow`) with `args`
    /// and a result slot, traps on a pending error, and pushes the old
    /// size or -1 as a value of the grown entity's index type. The status
    /// is separate from the result, so no size is taken for a failure.
    pub(super) fn grow(&mut self, offset: usize, args: &[Value], is_64: bool) {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
        let out = self.b.ins().stack_addr(I64, slot, 0);
        let mut all = args.to_vec();
        all.push(out);
        self.builtin_status(offset, &all);
        let r = self.b.ins().stack_load(I64, slot, 0);
        if is_64 {
            self.push(r, ValType::I64);
        } else {
            let r = self.b.ins().ireduce(I32, r);
            self.push(r, ValType::I32);
        }
    }

    /// `call` (or, with `tail`, `return_call`) of function `index`,
    /// through its entry in the instance's `VMContext::func_refs`: defined
    /// and imported functions alike, so a function whose code is switched
    /// (interpreted to compiled) is called with its current code.
    pub(super) fn call(&mut self, index: u32, tail: bool) -> Result<()> {
        let m = self.env.module;
        let type_index = m.funcs[index as usize];
        let defined = index.checked_sub(m.num_imported_funcs);
        if let Some(i) = defined.filter(|&i| self.env.in_image[i as usize]) {
            // In the same code image: its code never changes, so a direct
            // call (patched when the image is loaded) is as right as a call
            // through the entry, and cheaper.
            let ty = m.func_type_at(type_index).clone();
            let n = ty.params().len();
            let mut args = vec![self.vmctx];
            args.extend(self.top(n));
            self.stack.truncate(self.stack.len() - n);
            let callee = super::abi::import_func(
                self.b.func,
                (super::abi::NATIVE_NAMESPACE, i),
                native_signature(&ty),
            );
            if tail {
                self.b.ins().return_call(callee, &args);
            } else {
                let results = self.call_covered(callee, &args);
                self.push_all(&results, ty.results());
            }
            return Ok(());
        }
        let refs = self.load_static(I64, self.vmctx, offset_of!(VMContext, func_refs));
        let entry = self.load_static(I64, refs, index as usize * 8);
        let compiled = defined.is_some_and(|i| self.env.compiled[i as usize]);
        if !compiled {
            self.call_entry(entry, type_index, false, tail);
            return Ok(());
        }
        // A function this module defines, published in an earlier code
        // image: it always has native code and runs in this instance, so
        // neither the null check of the generic path nor a context load is
        // needed.
        let ty = m.func_type_at(type_index).clone();
        let n = ty.params().len();
        let mut args = vec![self.vmctx];
        args.extend(self.top(n));
        self.stack.truncate(self.stack.len() - n);
        let native = self.load_vm(I64, entry, offset_of!(VMFuncRef, native));
        let sig = self.b.import_signature(native_signature(&ty));
        if tail {
            self.b.ins().return_call_indirect(sig, native, &args);
        } else {
            let results = self.call_indirect_covered(sig, native, &args);
            self.push_all(&results, ty.results());
        }
        Ok(())
    }

    /// The entry of store function `f` (an i32): what a function reference
    /// in a table names.
    pub(super) fn store_entry(&mut self, f: Value) -> Value {
        let refs = self.load_vm(I64, self.limits, offset_of!(VMRuntimeLimits, func_refs));
        let f = self.b.ins().uextend(I64, f);
        let offset = self.b.ins().ishl_imm(f, 3);
        let at = self.b.ins().iadd(refs, offset);
        self.load_ro(I64, at, 0)
    }

    /// The store function a function reference names (an i32), trapping
    /// with `trap` when it is null.
    pub(super) fn deref_func(&mut self, r: Value, trap: Trap) -> Value {
        let is_null = self.b.ins().icmp_imm(IntCC::Equal, r, 0);
        self.trap_if(is_null, trap);
        let f = self.b.ins().iadd_imm(r, -1);
        self.b.ins().ireduce(I32, f)
    }

    /// Calls the function whose entry (`*const VMFuncRef`) is `entry`, of
    /// type `type_index`: its compiled code directly when it has some,
    /// otherwise through the generic helper. With `check` (`call_indirect`), the callee's type
    /// must be the module's type `type_index` or a subtype of it; the
    /// expected type id is read from the instance's context, never compiled
    /// in, so the code does not depend on the engine it was compiled in.
    ///
    /// With `tail`, the call is a tail call: compiled code is entered with
    /// `return_call_indirect`, a host function is called and its results
    /// returned.
    pub(super) fn call_entry(&mut self, entry: Value, type_index: u32, check: bool, tail: bool) {
        let ty = self.env.module.func_type_at(type_index).clone();
        let n = ty.params().len();
        let args = self.top(n);
        self.stack.truncate(self.stack.len() - n);

        if check {
            let id = self.load_vm(I32, entry, offset_of!(VMFuncRef, type_id));
            let type_ids = self.load_static(I64, self.vmctx, offset_of!(VMContext, type_ids));
            let expected = self.load_static(I32, type_ids, type_index as usize * 4);
            let same = self.b.ins().icmp(IntCC::Equal, id, expected);
            let checked = self.b.create_block();
            let subtype = self.b.create_block();
            self.b.set_cold_block(subtype);
            self.b.ins().brif(same, checked, &[], subtype, &[]);
            self.b.switch_to_block(subtype);
            let ok = self.builtin(offset_of!(Builtins, is_subtype), &[id, expected], I32);
            let bad = self.b.ins().icmp_imm(IntCC::Equal, ok, 0);
            self.trap_if(bad, Trap::BadSignature);
            self.b.ins().jump(checked, &[]);
            self.b.switch_to_block(checked);
        }
        let native = self.load_vm(I64, entry, offset_of!(VMFuncRef, native));
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result_types: Vec<Type> = ty.results().iter().map(|t| clif_type(*t)).collect();
        for t in &result_types {
            self.b.append_block_param(join, *t);
        }
        self.b.ins().brif(native, fast, &[], slow, &[]);

        self.b.switch_to_block(fast);
        let callee_vmctx = self.load_vm(I64, entry, offset_of!(VMFuncRef, vmctx));
        let sig = self.b.import_signature(native_signature(&ty));
        let mut all = vec![callee_vmctx];
        all.extend_from_slice(&args);
        if tail {
            self.b.ins().return_call_indirect(sig, native, &all);
        } else {
            let results = self.call_indirect_covered(sig, native, &all);
            self.b.ins().jump(join, &block_args(&results));
        }

        // No compiled code (a host function): through the cell buffer of
        // the host calling convention.
        self.b.switch_to_block(slow);
        let cells = ty.buffer_cells().max(1);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (cells * 8) as u32,
            4,
        ));
        let buf = self.b.ins().stack_addr(I64, slot, 0);
        for (i, a) in args.iter().enumerate() {
            let raw = self.raw(*a);
            let at = (ty.param_cell(i) * 8) as i32;
            self.b.ins().store(cell_flags(), raw, buf, at);
        }
        let f = self.load_vm(I32, entry, offset_of!(VMFuncRef, func));
        // The callee (a host function, or interpreted code) may have
        // thrown: its exception is thrown again here.
        let status = self.builtin(offset_of!(Builtins, call), &[f, buf], I32);
        let failed = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(failed);
        self.b.ins().brif(status, failed, &[], done, &[]);
        self.b.switch_to_block(failed);
        // A tail call has left this function's handlers: they do not
        // catch what its callee threw.
        let scopes = if tail {
            std::mem::take(&mut self.try_scopes)
        } else {
            Vec::new()
        };
        self.fail_pending();
        if tail {
            self.try_scopes = scopes;
        }
        self.b.switch_to_block(done);
        let mut results = Vec::new();
        for (i, t) in result_types.iter().enumerate() {
            let at = (ty.result_cell(i) * 8) as i32;
            results.push(self.b.ins().load(*t, cell_flags(), buf, at));
        }
        if tail {
            // The function's results are the callee's: the types match,
            // as validation checked.
            self.b.ins().return_(&results);
        } else {
            self.b.ins().jump(join, &block_args(&results));
            self.start(join, ty.results());
        }
    }
}

/// The memory a load or store addresses.
pub(super) fn memarg_memory(memarg: &wasmparser::MemArg) -> Result<u32> {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => Ok(m),
        _ => anyhow::bail!("memory accesses to GC arrays are not supported"),
    }
}
