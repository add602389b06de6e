//! Stack maps: which slots of an interpreted frame hold references the
//! collector must see, at each safepoint of the function.
//!
//! A safepoint is an instruction during which the collector may run: a
//! call (the callee may allocate, or be a host function that collects), a
//! tail call that leaves through a call out, and an allocating GC
//! instruction (and `throw`, which will allocate once exceptions are heap
//! objects). The translator knows the type of every local and of every
//! operand on the wasm stack there, so it records the slots of those whose
//! type the collector traces (`runtime::gc::collect::is_traced`). A
//! safepoint is named by its *resume position*: the index of the
//! instruction after it (and after its extension word), which is what a
//! suspended frame's `ret` points at, so the collector finds a frame's map
//! from the frame alone (`frames::for_each_ref`).
//!
//! A reference-typed local holds a reference (or null) at every point of
//! the function, so the locals are one list per function; per safepoint
//! only the operand temporaries are listed, and identical lists are stored
//! once. A function with no reference-typed local and no reference operand
//! at any safepoint has no maps at all (`None`), and costs nothing at
//! collection.

use super::ops::Slot;
use std::collections::HashMap;

/// A function's stack maps (see the module documentation).
#[derive(Debug)]
pub(crate) struct StackMaps {
    /// The slots of the reference-typed locals, live at every safepoint.
    locals: Box<[Slot]>,
    /// Each safepoint, by ascending resume position: the position, then
    /// where its operand slots start in `lists` and how many there are.
    points: Box<[(u32, u32, u32)]>,
    /// The operand slot lists, concatenated (deduplicated).
    lists: Box<[Slot]>,
}

impl StackMaps {
    /// The slots holding references when a frame of the function is
    /// suspended at the safepoint whose resume position is `at`; `None`
    /// if no safepoint resumes there.
    pub(crate) fn at(&self, at: u32) -> Option<impl Iterator<Item = Slot> + '_> {
        let i = self.points.binary_search_by_key(&at, |p| p.0).ok()?;
        let (_, start, len) = self.points[i];
        let operands = &self.lists[start as usize..(start + len) as usize];
        Some(self.locals.iter().chain(operands).copied())
    }
}

/// Collects a function's safepoints while it is translated.
#[derive(Default)]
pub(crate) struct Builder {
    points: Vec<(u32, u32, u32)>,
    lists: Vec<Slot>,
    /// Where each distinct operand list is in `lists`.
    seen: HashMap<Box<[Slot]>, (u32, u32)>,
}

impl Builder {
    /// Records the safepoint that resumes at `at` (after every earlier
    /// one), where the operand temporaries `operands` hold references.
    pub(crate) fn record(&mut self, at: u32, operands: &[Slot]) {
        debug_assert!(self.points.last().is_none_or(|p| p.0 < at));
        let (start, len) = if operands.is_empty() {
            (0, 0)
        } else if let Some(&found) = self.seen.get(operands) {
            found
        } else {
            let found = (self.lists.len() as u32, operands.len() as u32);
            self.lists.extend_from_slice(operands);
            self.seen.insert(operands.into(), found);
            found
        };
        self.points.push((at, start, len));
    }

    /// The function's maps, given its reference-typed locals' slots;
    /// `None` when no safepoint has a reference slot.
    pub(crate) fn finish(self, locals: Vec<Slot>) -> Option<Box<StackMaps>> {
        if locals.is_empty() && self.lists.is_empty() {
            return None;
        }
        Some(Box::new(StackMaps {
            locals: locals.into(),
            points: self.points.into(),
            lists: self.lists.into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_shared_and_looked_up_by_resume_position() {
        let mut b = Builder::default();
        b.record(3, &[]);
        b.record(7, &[10, 11]);
        b.record(9, &[10, 11]);
        b.record(12, &[12]);
        let maps = b.finish(vec![1]).expect("maps");
        assert_eq!(maps.lists.len(), 3, "the repeated list is stored once");
        let at = |p| maps.at(p).map(|s| s.collect::<Vec<_>>());
        assert_eq!(at(3), Some(vec![1]));
        assert_eq!(at(9), Some(vec![1, 10, 11]));
        assert_eq!(at(12), Some(vec![1, 12]));
        assert_eq!(at(8), None);
    }

    #[test]
    fn no_reference_slots_no_maps() {
        let mut b = Builder::default();
        b.record(2, &[]);
        assert!(b.finish(Vec::new()).is_none());
    }
}
