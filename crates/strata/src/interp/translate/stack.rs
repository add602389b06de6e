//! The translator's model of the wasm operand stack: where each operand
//! lives (a local, a constant, or its canonical temporary) and its type.
//!
//! Heights are counted in cells (`crate::types::raw`): a `v128` takes two.
//! The operand at stack position `i` has its canonical temporary at
//! `temps + cells below it`, so a value's slot depends only on the types
//! below it, which is what makes block results and call arguments land in
//! the same slots on every path.

use super::Translator;
use crate::interp::ops::{Op, Slot};
use crate::types::ValType;

/// Where an operand's value is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Place {
    /// In this local's slot (read lazily, see `Translator::preserve_local`).
    Local(Slot),
    /// In this constant's slot.
    Const(Slot),
    /// At its canonical temporary slot.
    Temp,
}

/// One wasm operand.
#[derive(Debug, Clone, Copy)]
pub(super) struct Operand {
    pub place: Place,
    pub ty: ValType,
    /// Cells below this operand on the stack.
    pub base: u32,
}

impl Translator<'_> {
    /// The cell height of the stack up to position `i` (the cells of the
    /// operands below it).
    pub(super) fn cells_below(&self, i: usize) -> u32 {
        match self.stack.get(i) {
            Some(op) => op.base,
            None => self
                .stack
                .last()
                .map_or(0, |t| t.base + t.ty.cells() as u32),
        }
    }

    /// The first slot of the operand at position `i`.
    pub(super) fn slot_at(&self, i: usize) -> Slot {
        let op = &self.stack[i];
        match op.place {
            Place::Local(s) | Place::Const(s) => s,
            Place::Temp => self.temps + op.base,
        }
    }

    /// Pops the top operand: its first slot and its type.
    pub(super) fn pop_typed(&mut self) -> (Slot, ValType) {
        let i = self.stack.len() - 1;
        let slot = self.slot_at(i);
        let ty = self.stack[i].ty;
        self.stack.pop();
        (slot, ty)
    }

    /// Pops the top operand; its first slot.
    pub(super) fn pop(&mut self) -> Slot {
        self.pop_typed().0
    }

    /// Pushes an operand of type `ty` at `place`.
    pub(super) fn push(&mut self, place: Place, ty: ValType) {
        let base = self.cells_below(self.stack.len());
        self.stack.push(Operand { place, ty, base });
        let top = (base as usize) + ty.cells();
        self.max_cells = self.max_cells.max(top);
    }

    /// Pushes a new temporary of type `ty`; its slot.
    pub(super) fn push_temp(&mut self, ty: ValType) -> Slot {
        self.push(Place::Temp, ty);
        self.slot_at(self.stack.len() - 1)
    }

    /// Emits copies of `cells` cells from `src` to `dst`, lowest first.
    pub(super) fn copy_cells(&mut self, dst: Slot, src: Slot, cells: usize) {
        if dst != src {
            for c in 0..cells as Slot {
                self.emit(Op::Copy {
                    dst: dst + c,
                    src: src + c,
                });
            }
        }
    }

    /// Moves the operand at position `i` to its canonical temporary.
    pub(super) fn materialize(&mut self, i: usize) {
        if self.stack[i].place != Place::Temp {
            let src = self.slot_at(i);
            let dst = self.temps + self.stack[i].base;
            self.copy_cells(dst, src, self.stack[i].ty.cells());
            self.stack[i].place = Place::Temp;
        }
    }

    /// Moves the top `n` operands to their canonical temporaries.
    pub(super) fn materialize_top(&mut self, n: usize) {
        for i in self.stack.len() - n..self.stack.len() {
            self.materialize(i);
        }
    }

    /// Moves every lazily read local to its temporary (at control-flow
    /// joins, where another path may write the local).
    pub(super) fn materialize_locals(&mut self) {
        for i in 0..self.stack.len() {
            if matches!(self.stack[i].place, Place::Local(_)) {
                self.materialize(i);
            }
        }
    }

    /// Copies pending reads of the local at `slot` to temporaries; true if
    /// there were any.
    pub(super) fn preserve_local(&mut self, slot: Slot) -> bool {
        let mut any = false;
        for i in 0..self.stack.len() {
            if self.stack[i].place == Place::Local(slot) {
                self.materialize(i);
                any = true;
            }
        }
        any
    }

    /// Copies the top `types.len()` operands to the canonical slots of the
    /// stack positions from `height` on, where a label expects its values.
    /// Ascending order is safe: a temporary source sits at or above its
    /// destination, so no copy overwrites a source still to be read.
    pub(super) fn copy_top_to(&mut self, height: usize, n: usize) {
        let len = self.stack.len();
        let mut dst = self.temps + self.cells_below(height);
        for i in len - n..len {
            let src = self.slot_at(i);
            let cells = self.stack[i].ty.cells();
            self.copy_cells(dst, src, cells);
            dst += cells as Slot;
        }
    }

    /// Replaces the stack above `height` by temporaries of `types`.
    pub(super) fn reset_to(&mut self, height: usize, types: &[ValType]) {
        self.stack.truncate(height);
        for ty in types {
            self.push_temp(*ty);
        }
    }

    /// The first slot of each of the top `n` operands' cells, in order.
    pub(super) fn top_cell_slots(&self, n: usize) -> Vec<Slot> {
        let len = self.stack.len();
        let mut slots = Vec::with_capacity(n);
        for i in len - n..len {
            let s = self.slot_at(i);
            slots.extend((0..self.stack[i].ty.cells() as Slot).map(|c| s + c));
        }
        slots
    }
}
