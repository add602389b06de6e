//! Legacy exception handling in compiled code (`try`, `catch`,
//! `catch_all`, `delegate`, `rethrow`; `Config::wasm_legacy_exceptions`),
//! on the same `try_call` machinery as `try_table` (`exn.rs`).
//!
//! A `try`'s catch clauses are only known once its body is translated, but
//! the body's calls need their exception table first. So a `try` body is
//! covered by one catch-all landing block, its *dispatch* block, emitted
//! at the `try`'s `end`: it runs the first clause whose tag is the
//! exception's (compared by store tag identity, through the `exn_is`
//! helper), a `catch_all`, or else throws the exception on from there,
//! covered by the handlers around the `try` (with `delegate l`, by those
//! around label `l`). A clause body receives the payload and the exnref,
//! which a variable keeps for `rethrow`.

use super::abi::clif_type;
use super::exn::{op, TryScope};
use super::helpers::Builtins;
use super::translate::{block_args, Ctrl, Kind, Translator};
use crate::module::BlockSignature;
use crate::types::ValType;
use anyhow::Result;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder};
use cranelift_frontend::Variable;
use std::mem::offset_of;
use wasmparser::BlockType;

/// A legacy `try` being translated (`Kind::Try`): the block every
/// exception thrown in its body lands in (which dispatches on the catch
/// clauses once they are all known), the clauses so far, and the variable
/// holding the caught exception in its catch bodies (for `rethrow`).
pub(super) struct LegacyTry {
    dispatch: Block,
    clauses: Vec<(Option<u32>, Block)>,
    exn: Variable,
    /// `delegate`'s label (relative to the `try`'s enclosing labels).
    pub(super) delegate: Option<u32>,
}

impl Translator<'_, '_> {
    /// `try`: a block whose body's calls land in its dispatch block.
    pub(super) fn legacy_try(&mut self, blockty: BlockType) -> Result<()> {
        let BlockSignature { params, results } = self.env.module.block_type(blockty)?;
        let next = self.b.create_block();
        for t in results.iter() {
            self.b.append_block_param(next, clif_type(*t));
        }
        let dispatch = self.b.create_block();
        self.b.append_block_param(dispatch, I64);
        self.b.set_cold_block(dispatch);
        let exn = self.b.declare_var(I64);
        // The caught exception (kept for `rethrow`) is a heap object: a
        // root at every call the clause bodies make.
        super::gc::declare_gc_var(&mut self.b, exn, crate::types::ValType::EXNREF);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.def_var(exn, zero);
        let height = self.stack.len() - params.len();
        self.try_scopes.push(TryScope {
            ctrl: self.ctrl.len(),
            handlers: vec![(None, dispatch)],
        });
        let kind = Kind::Try(Box::new(LegacyTry {
            dispatch,
            clauses: Vec::new(),
            exn,
            delegate: None,
        }));
        self.ctrl
            .push(Ctrl::forward(kind, next, params, results, height));
        Ok(())
    }

    /// `catch tag` (`Some`) or `catch_all` (`None`) of the innermost
    /// `try`: ends the code before it and starts the clause's body, whose
    /// operands are the payload.
    pub(super) fn legacy_catch(&mut self, tag: Option<u32>) {
        let m = self.env.module;
        let params: Vec<ValType> = match tag {
            Some(t) => m.func_type_at(m.tags[t as usize]).params().to_vec(),
            None => Vec::new(),
        };
        let depth = self.ctrl.len() - 1;
        if self.reachable {
            let n = self.ctrl[depth].results.len();
            let args = self.top(n);
            self.b.ins().jump(self.ctrl[depth].next, &block_args(&args));
            self.ctrl[depth].next_reachable = true;
        }
        // The body of the `try` is over: its handlers do not cover the
        // catch clauses.
        if self.try_scopes.last().is_some_and(|s| s.ctrl == depth) {
            self.try_scopes.pop();
        }
        let body = self.b.create_block();
        for t in &params {
            self.b.append_block_param(body, clif_type(*t));
        }
        let exn = self.b.append_block_param(body, I64);
        let height = self.ctrl[depth].height;
        let Kind::Try(legacy) = &mut self.ctrl[depth].kind else {
            unreachable!("validated: catch outside try")
        };
        legacy.clauses.push((tag, body));
        let var = legacy.exn;
        self.stack.truncate(height);
        self.b.switch_to_block(body);
        self.b.def_var(var, exn);
        let values = self.b.block_params(body)[..params.len()].to_vec();
        self.push_all(&values, &params);
        self.reachable = true;
    }

    /// The end (or `delegate`) of a `try`: emits its dispatch block, which
    /// runs the first clause whose tag is the exception's (or a
    /// `catch_all`), else throws the exception on to the handlers around
    /// the `try` (or, for `delegate`, around its label).
    pub(super) fn finish_legacy_try(&mut self, legacy: &LegacyTry) {
        let depth = self.ctrl.len();
        if self.try_scopes.last().is_some_and(|s| s.ctrl == depth) {
            self.try_scopes.pop();
        }
        self.b.switch_to_block(legacy.dispatch);
        let exn = self.b.block_params(legacy.dispatch)[0];
        for &(tag, body) in &legacy.clauses {
            let Some(t) = tag else {
                self.b.ins().jump(body, &[BlockArg::Value(exn)]);
                return;
            };
            let tag_index = self.b.ins().iconst(I32, i64::from(t));
            let is = self.builtin(offset_of!(Builtins, exn_is), &[exn, tag_index], I32);
            let matched = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(is, matched, &[], next, &[]);
            self.b.switch_to_block(matched);
            let mut values = self.payload(t, exn);
            values.push(exn);
            self.b.ins().jump(body, &block_args(&values));
            self.b.switch_to_block(next);
        }
        // No clause takes it: on to the enclosing handlers, or with
        // `delegate l` to those around label `l` (the construct `l`
        // counts from outside the `try`; its own handlers apply).
        let saved = match legacy.delegate {
            Some(l) => {
                let target = depth.saturating_sub(1 + l as usize);
                let keep = self.try_scopes.partition_point(|s| s.ctrl <= target);
                Some(self.try_scopes.split_off(keep))
            }
            None => None,
        };
        let op = self.b.ins().iconst(I32, i64::from(op::THROW_REF));
        let zero = self.b.ins().iconst(I64, 0);
        self.throw_stub(&[op, exn, zero]);
        if let Some(saved) = saved {
            self.try_scopes.extend(saved);
        }
    }

    /// `rethrow l`: throws the exception caught by the catch clause that
    /// label `l` is in.
    pub(super) fn legacy_rethrow(&mut self, depth: u32) {
        let i = self.ctrl.len() - 1 - depth as usize;
        let Kind::Try(legacy) = &self.ctrl[i].kind else {
            unreachable!("validated: rethrow outside a catch")
        };
        let exn = self.b.use_var(legacy.exn);
        let op = self.b.ins().iconst(I32, i64::from(op::THROW_REF));
        let zero = self.b.ins().iconst(I64, 0);
        self.throw_stub(&[op, exn, zero]);
        self.reachable = false;
    }
}
