//! Table storage operations shared by the API and every tier.

use crate::runtime::store::TableEntity;

/// The most elements a table may hold, whatever its declared maximum, so a
/// guest cannot exhaust host memory through `table.grow`.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// Grows `table` by `delta` elements of `init`; returns the old size, or
/// `None` when the table would exceed its maximum (the guest sees -1).
pub fn grow(table: &mut TableEntity, delta: u64, init: u64) -> Option<u64> {
    let old = table.elements.len() as u64;
    let new = old.checked_add(delta)?;
    let max = table.ty.maximum().unwrap_or(u32::MAX.into());
    if new > max || new > MAX_TABLE_ELEMENTS {
        return None;
    }
    table.elements.resize(new as usize, init);
    table.sync();
    Some(old)
}
