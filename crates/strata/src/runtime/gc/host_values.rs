//! The host values behind `externref`s (`ExternRef::new`): boxed in the
//! store and named by a cell that is their index + 1, which the host
//! reference's object in the GC heap (kind `Extern`) holds. The collector
//! frees a value once its object is dead. Freed indices are reused; a
//! host handle to a freed value cannot exist, because host handles root
//! their object (`roots::HostRoots`) and an unrooted one is refused.

use std::any::Any;

/// A host value.
pub(crate) type HostValue = Box<dyn Any + Send + Sync>;

/// The store's host values (see the module documentation).
#[derive(Default)]
pub(crate) struct HostValues {
    values: Vec<Option<HostValue>>,
    /// Indices of freed values, for reuse.
    free: Vec<u32>,
    /// Values made since the last collection.
    made_since: u64,
    /// Values the last collection left.
    live_after: u64,
}

/// The fewest values made between two collections triggered by pressure.
const MIN_PRESSURE: u64 = 4096;

impl HostValues {
    /// Stores `v`; returns its cell (index + 1), or `None` when the store
    /// holds as many values as a 32-bit index can name.
    pub(crate) fn insert(&mut self, v: HostValue) -> Option<u64> {
        self.made_since += 1;
        if let Some(i) = self.free.pop() {
            self.values[i as usize] = Some(v);
            return Some(u64::from(i) + 1);
        }
        let i = u32::try_from(self.values.len()).ok()?;
        self.values.push(Some(v));
        Some(u64::from(i) + 1)
    }

    /// The value of cell `cell`, if it names a live one.
    pub(crate) fn get(&self, cell: u64) -> Option<&(dyn Any + Send + Sync)> {
        let i = usize::try_from(cell.checked_sub(1)?).ok()?;
        self.values.get(i)?.as_deref()
    }

    /// How many slots the table has (live and free): the range of cells.
    pub(crate) fn slots(&self) -> usize {
        self.values.len()
    }

    /// How many values are live.
    pub(crate) fn live(&self) -> usize {
        self.values.len() - self.free.len()
    }

    /// Whether making a value should collect first: as many were made
    /// since the last collection as it left (and at least
    /// [`MIN_PRESSURE`]).
    pub(crate) fn pressure(&self) -> bool {
        self.made_since >= self.live_after.max(MIN_PRESSURE)
    }

    /// Frees every value whose bit in `marked` (one per slot) is clear.
    pub(crate) fn sweep(&mut self, marked: &[u64]) {
        for (i, v) in self.values.iter_mut().enumerate() {
            if v.is_some() && marked.get(i / 64).is_none_or(|w| w & (1 << (i % 64)) == 0) {
                *v = None;
                self.free.push(i as u32);
            }
        }
        self.made_since = 0;
        self.live_after = self.live() as u64;
    }
}
