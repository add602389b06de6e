//! Exception handling in compiled code: `try_table`, `throw`,
//! `throw_ref`, and the calls a handler covers.
//!
//! A `try_table`'s catch clauses become landing blocks, one per clause,
//! each taking the thrown exception (an `exnref`, a 64-bit cell) as its
//! one parameter. Every call that may throw inside the construct is a
//! Cranelift `try_call` whose exception table lists the landing blocks of
//! every enclosing `try_table`, innermost first, each under its tag's
//! module index (`ExceptionTag`), or as the default for a `catch_all`;
//! the table's dynamic context is the function's `VMContext`, which the
//! unwinder (`throw.rs`) reads from the frame to turn the module's tag
//! index into the store's tag, so matching compares tag identities, not
//! indices.
//!
//! `throw`, `throw_ref` and a failed call through the generic helper
//! (whose callee, a host function or interpreted code, may have thrown)
//! all call the throw stub (`throw.rs`): it either resumes at a landing
//! block of this activation, with the exception in the first payload
//! register, or returns, with the exception (or other error) pending, and
//! the code traps with `TrapCodes::PENDING`, which ends the activation.

use super::abi::{cell_flags, clif_type, to_raw};
use super::helpers::Builtins;
use super::translate::{block_args, Ctrl, Kind, Translator};
use super::TrapCodes;
use crate::module::BlockSignature;
use crate::runtime::vm::VMContext;
use crate::Trap;
use anyhow::Result;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, FuncRef,
    InstBuilder, SigRef, Signature, StackSlotData, StackSlotKind, Value,
};
use std::mem::offset_of;
use wasmparser::{Catch, TryTable};

/// What the throw stub is asked to do (its second argument).
pub(crate) mod op {
    /// Throw a new exception: `a` is the module's tag index, `b` the
    /// address of the payload's cells.
    pub const THROW: u32 = 0;
    /// Throw exception `a` again (an `exnref`, not null).
    pub const THROW_REF: u32 = 1;
    /// Throw the pending exception, if a helper left one.
    pub const PENDING: u32 = 2;
}

/// The handlers of one `try_table` (or legacy `try` body): the landing
/// blocks in clause order, each with the module's tag index (`None` for a
/// catch-all), and the index of the construct's control frame.
pub(super) struct TryScope {
    pub(super) ctrl: usize,
    pub(super) handlers: Vec<(Option<u32>, Block)>,
}

impl Translator<'_, '_> {
    /// `try_table`: the landing blocks of its clauses, then its body as a
    /// block whose calls the clauses cover.
    pub(super) fn try_table(&mut self, table: TryTable) -> Result<()> {
        let BlockSignature { params, results } = self.env.module.block_type(table.ty)?;
        // The landing blocks go before the body, from a block of their
        // own; the body continues in a new block.
        let body = self.b.create_block();
        let body_params: Vec<Value> = params
            .iter()
            .map(|t| self.b.append_block_param(body, clif_type(*t)))
            .collect();
        let args = self.top(params.len());
        self.b.ins().jump(body, &block_args(&args));
        let mut scope = TryScope {
            ctrl: self.ctrl.len(),
            handlers: Vec::new(),
        };
        for catch in &table.catches {
            // Clause labels count from outside the `try_table`.
            let (tag, depth, with_ref) = match *catch {
                Catch::One { tag, label } => (Some(tag), label, false),
                Catch::OneRef { tag, label } => (Some(tag), label, true),
                Catch::All { label } => (None, label, false),
                Catch::AllRef { label } => (None, label, true),
            };
            let landing = self.b.create_block();
            let exn = self.b.append_block_param(landing, I64);
            self.b.switch_to_block(landing);
            self.b.set_cold_block(landing);
            let mut values = match tag {
                Some(t) => self.payload(t, exn),
                None => Vec::new(),
            };
            if with_ref {
                values.push(exn);
            }
            let i = self.ctrl.len() - 1 - depth as usize;
            let frame = &mut self.ctrl[i];
            if !matches!(frame.kind, Kind::Loop) {
                frame.next_reachable = true;
            }
            let target = frame.target;
            let values = self.branch_args(i, values);
            self.b.ins().jump(target, &block_args(&values));
            scope.handlers.push((tag, landing));
        }
        self.b.switch_to_block(body);
        self.stack.truncate(self.stack.len() - params.len());
        let height = self.stack.len();
        self.push_all(&body_params, &params);
        let next = self.b.create_block();
        for t in results.iter() {
            self.b.append_block_param(next, clif_type(*t));
        }
        self.try_scopes.push(scope);
        self.ctrl
            .push(Ctrl::forward(Kind::TryTable, next, params, results, height));
        Ok(())
    }

    /// The payload of exception `exn` (an `exnref` known to be of tag
    /// `tag`), copied out of it by a helper.
    pub(super) fn payload(&mut self, tag: u32, exn: Value) -> Vec<Value> {
        let m = self.env.module;
        let ty = m.func_type_at(m.tags[tag as usize]).clone();
        if ty.params().is_empty() {
            return Vec::new();
        }
        let buf = self.cells(ty.param_cells());
        self.builtin(offset_of!(Builtins, exn_payload), &[exn, buf], I32);
        ty.params()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let at = (ty.param_cell(i) * 8) as i32;
                self.b.ins().load(clif_type(*t), cell_flags(), buf, at)
            })
            .collect()
    }

    /// The address of a new stack buffer of `n` cells.
    fn cells(&mut self, n: usize) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (n.max(1) * 8) as u32,
            4,
        ));
        self.b.ins().stack_addr(I64, slot, 0)
    }

    /// `throw tag`: the operands are the payload.
    pub(super) fn throw(&mut self, tag: u32) {
        let m = self.env.module;
        let ty = m.func_type_at(m.tags[tag as usize]).clone();
        let n = ty.params().len();
        let values = self.top(n);
        self.stack.truncate(self.stack.len() - n);
        let buf = self.cells(ty.param_cells());
        for (i, v) in values.iter().enumerate() {
            let raw = to_raw(&mut self.b, *v);
            let at = (ty.param_cell(i) * 8) as i32;
            self.b.ins().store(cell_flags(), raw, buf, at);
        }
        let op = self.b.ins().iconst(I32, i64::from(op::THROW));
        let tag = self.b.ins().iconst(I64, i64::from(tag));
        self.throw_stub(&[op, tag, buf]);
        self.reachable = false;
    }

    /// `throw_ref`: traps on null.
    pub(super) fn throw_ref(&mut self) {
        let exn = self.pop();
        let is_null = self.b.ins().icmp_imm(IntCC::Equal, exn, 0);
        self.trap_if(is_null, Trap::NullReference);
        let op = self.b.ins().iconst(I32, i64::from(op::THROW_REF));
        let zero = self.b.ins().iconst(I64, 0);
        self.throw_stub(&[op, exn, zero]);
        self.reachable = false;
    }

    /// After a helper failed: throws its error if it is an exception (to
    /// a handler of this activation), otherwise traps with it. Ends the
    /// current block.
    pub(super) fn fail_pending(&mut self) {
        let op = self.b.ins().iconst(I32, i64::from(op::PENDING));
        let zero = self.b.ins().iconst(I64, 0);
        self.throw_stub(&[op, zero, zero]);
    }

    /// Calls the throw stub with `args` (after the context), covered by
    /// the enclosing handlers; when it returns, nothing caught the
    /// exception in this activation (or the error is not one) and the
    /// code traps with the pending error.
    pub(super) fn throw_stub(&mut self, args: &[Value]) {
        let mut sig = Signature::new(self.env.host_call_conv);
        sig.params.push(AbiParam::new(I64));
        for a in args {
            sig.params
                .push(AbiParam::new(self.b.func.dfg.value_type(*a)));
        }
        let sig = self.b.import_signature(sig);
        let builtins = self.load_static(I64, self.vmctx, offset_of!(VMContext, builtins));
        let callee = self.load_static(I64, builtins, offset_of!(Builtins, throw));
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        self.call_indirect_covered(sig, callee, &all);
        self.b.ins().trap(TrapCodes::PENDING);
    }

    /// The exception table of a call of signature `sig` made here, and
    /// the block its normal return continues in (whose parameters are
    /// the results); `None` outside every `try_table`.
    fn exception_table(&mut self, sig: SigRef) -> Option<(ExceptionTableData, Block)> {
        if self.try_scopes.is_empty() {
            return None;
        }
        let cont = self.b.create_block();
        let returns: Vec<_> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let mut rets = Vec::with_capacity(returns.len());
        for (i, t) in returns.into_iter().enumerate() {
            self.b.append_block_param(cont, t);
            rets.push(BlockArg::TryCallRet(i as u32));
        }
        let normal = self.b.func.dfg.block_call(cont, &rets);
        let mut items = vec![ExceptionTableItem::Context(self.vmctx)];
        for scope in self.try_scopes.iter().rev() {
            for &(tag, landing) in &scope.handlers {
                let call = self
                    .b
                    .func
                    .dfg
                    .block_call(landing, &[BlockArg::TryCallExn(0)]);
                items.push(match tag {
                    Some(t) => ExceptionTableItem::Tag(ExceptionTag::from_u32(t), call),
                    None => ExceptionTableItem::Default(call),
                });
            }
        }
        Some((ExceptionTableData::new(sig, normal, items), cont))
    }

    /// A direct call of `callee`, a `try_call` inside a `try_table`;
    /// returns its results.
    pub(super) fn call_covered(&mut self, callee: FuncRef, args: &[Value]) -> Vec<Value> {
        let sig = self.b.func.dfg.ext_funcs[callee].signature;
        match self.exception_table(sig) {
            None => {
                let call = self.b.ins().call(callee, args);
                self.b.inst_results(call).to_vec()
            }
            Some((table, cont)) => {
                let table = self.b.func.dfg.exception_tables.push(table);
                self.b.ins().try_call(callee, args, table);
                self.b.switch_to_block(cont);
                self.b.block_params(cont).to_vec()
            }
        }
    }

    /// An indirect call of `callee`, a `try_call_indirect` inside a
    /// `try_table`; returns its results.
    pub(super) fn call_indirect_covered(
        &mut self,
        sig: SigRef,
        callee: Value,
        args: &[Value],
    ) -> Vec<Value> {
        match self.exception_table(sig) {
            None => {
                let call = self.b.ins().call_indirect(sig, callee, args);
                self.b.inst_results(call).to_vec()
            }
            Some((table, cont)) => {
                let table = self.b.func.dfg.exception_tables.push(table);
                self.b.ins().try_call_indirect(callee, args, table);
                self.b.switch_to_block(cont);
                self.b.block_params(cont).to_vec()
            }
        }
    }
}
