//! Exception handling: `try_table` becomes a handler table entry (the
//! range of instructions it covers and its catch clauses) plus one landing
//! pad per clause, and `throw`/`throw_ref` become driver instructions.
//!
//! The unwinder (`interp/unwind.rs`) writes a caught exception's values
//! straight into the slots where the clause's label expects them (the
//! label's canonical temporaries) and resumes at the clause's landing pad,
//! which only jumps to the label (or returns, for the function's label).
//! The pads sit before the covered range, skipped by one jump on entry.
//!
//! Legacy exception handling (`try`, `catch`, `catch_all`, `delegate`,
//! `rethrow`) uses the same tables: a `try`'s range is its body, each
//! `catch` adds a clause whose landing is the catch's own code, which
//! finds the exnref at the block's height (where `rethrow` reads it) and
//! the payload above it; `delegate` adds a clause that sends the search on
//! to the handler around its label (or to the caller).

use super::{CtrlKind, Translator};
use crate::interp::ops::{Op, Slot};
use crate::interp::{CatchClause, CatchKind, TryHandler};
use crate::types::ValType;
use anyhow::Result;
use wasmparser::{Catch, TryTable};

impl Translator<'_> {
    /// `try_table`: its landing pads, then its block, whose instructions
    /// its handler entry covers until the block's `end`.
    pub(super) fn try_table(&mut self, t: TryTable) -> Result<()> {
        let skip = self.emit(Op::Br { target: 0 });
        let mut clauses = Vec::with_capacity(t.catches.len());
        for c in &t.catches {
            // Catch labels count from the block around the `try_table`.
            let (kind, depth) = match *c {
                Catch::One { tag, label } => (CatchKind::Tag(tag), label),
                Catch::OneRef { tag, label } => (CatchKind::TagRef(tag), label),
                Catch::All { label } => (CatchKind::All, label),
                Catch::AllRef { label } => (CatchKind::AllRef, label),
            };
            let label = self.label(depth);
            let (dst, target) = self.landing_pad(label, self.catch_cells(kind));
            clauses.push(CatchClause { kind, dst, target });
        }
        let pc = self.pc();
        self.patch(skip, pc);
        self.open_try(t.ty, clauses)
    }

    /// Opens the block of a `try_table` (or a legacy `try`) whose handler
    /// has `clauses`: its range starts after the block's entry copies.
    pub(super) fn open_try(
        &mut self,
        ty: wasmparser::BlockType,
        clauses: Vec<CatchClause>,
    ) -> Result<()> {
        self.push_ctrl(CtrlKind::Block, ty)?;
        let start = self.pc();
        self.handlers.push(TryHandler {
            start,
            end: start,
            clauses: clauses.into(),
        });
        let h = self.handlers.len() - 1;
        if let Some(c) = self.ctrl.last_mut() {
            c.handler = Some(h);
        }
        Ok(())
    }

    /// How many cells a clause of `kind` hands its label: the tag's
    /// payload, then the exnref for the `_ref` forms.
    pub(super) fn catch_cells(&self, kind: CatchKind) -> usize {
        let payload = |tag: u32| {
            self.module
                .func_type_at(self.module.tags[tag as usize])
                .param_cells()
        };
        match kind {
            CatchKind::Tag(tag) => payload(tag),
            CatchKind::TagRef(tag) => payload(tag) + 1,
            CatchKind::All | CatchKind::Delegate(_) => 0,
            CatchKind::AllRef => 1,
            CatchKind::LegacyTag(tag) => payload(tag) + 1,
            CatchKind::LegacyAll => 1,
        }
    }

    /// Emits a landing pad that takes `cells` cells of values, already in
    /// place, to `label`: where the values go and the pad's address.
    fn landing_pad(&mut self, label: usize, cells: usize) -> (Slot, u32) {
        let below = self.cells_below(self.ctrl[label].height);
        let dst = self.temps + below;
        // The frame must hold the values even if no other path puts them
        // there.
        self.max_cells = self.max_cells.max(below as usize + cells);
        let pc = self.pc();
        if label == 0 {
            // The function's label: return the values.
            if cells == 0 {
                self.emit(Op::Return);
            } else if self.results.len() == 1 && cells == 1 {
                self.emit(Op::Return1 { src: dst });
            } else {
                let list = self.slot_lists.len() as u32;
                self.slot_lists.extend((0..cells as Slot).map(|c| dst + c));
                self.emit(Op::ReturnMany {
                    list,
                    len: cells as u32,
                });
            }
        } else if self.ctrl[label].kind == CtrlKind::Loop {
            let target = self.ctrl[label].loop_pc;
            self.emit(Op::Br { target });
        } else {
            let at = self.emit(Op::Br { target: 0 });
            self.ctrl[label].pending.push(at);
        }
        (dst, pc)
    }

    /// A legacy `catch $tag` (or `catch_all`, `None`): ends the `try` body
    /// (or the previous catch) and starts the clause's code, which the
    /// handler of the `try` resumes at.
    pub(super) fn legacy_catch(&mut self, tag: Option<u32>) {
        let label = self.ctrl.len() - 1;
        if let Some(h) = self.ctrl[label].handler.take() {
            self.handlers[h].end = self.pc();
            self.ctrl[label].catches = Some(h);
        }
        if !self.ctrl[label].unreachable {
            self.end_of_branch(label);
            self.emit_jump(label);
        }
        let c = &mut self.ctrl[label];
        c.kind = CtrlKind::LegacyCatch;
        c.unreachable = false;
        let height = c.height;
        let h = c.catches;
        let mut types = vec![ValType::EXNREF];
        if let Some(tag) = tag {
            let ty = self.module.func_type_at(self.module.tags[tag as usize]);
            types.extend_from_slice(ty.params());
        }
        self.reset_to(height, &types);
        self.last_producer = None;
        let kind = match tag {
            Some(tag) => CatchKind::LegacyTag(tag),
            None => CatchKind::LegacyAll,
        };
        let dst = self.temps + self.cells_below(height);
        // The landing is a jump to the catch's code, which makes that code
        // a branch target: its first instruction then reads its operands
        // from their slots, never from an accumulator the unwinding left
        // stale.
        let target = self.pc();
        self.emit(Op::Br { target: target + 1 });
        if let Some(h) = h {
            let mut clauses = std::mem::take(&mut self.handlers[h].clauses).into_vec();
            clauses.push(CatchClause { kind, dst, target });
            self.handlers[h].clauses = clauses.into();
        }
    }

    /// `delegate`: ends the `try` body; what it does not catch goes on to
    /// the handler of the innermost `try` body around label
    /// `relative_depth` (counted from outside the `try`), or to the caller.
    pub(super) fn delegate(&mut self, relative_depth: u32) {
        let label = self.ctrl.len() - 1;
        let Some(h) = self.ctrl[label].handler.take() else {
            return;
        };
        self.handlers[h].end = self.pc();
        let outer = label - 1 - relative_depth as usize;
        let to = self.ctrl[..=outer].iter().rev().find_map(|c| c.handler);
        let to = to.map_or(u32::MAX, |t| t as u32);
        self.handlers[h].clauses = Box::new([CatchClause {
            kind: CatchKind::Delegate(to),
            dst: 0,
            target: 0,
        }]);
    }
}
