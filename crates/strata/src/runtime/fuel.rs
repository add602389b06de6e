//! The fuel cost model, shared by every tier so that a program consumes the
//! same fuel wherever it runs.
//!
//! Each instruction costs 1, except `nop`, `drop`, `block`, `loop`, `else`
//! and `end`, which cost 0. Fuel is charged per straight-line run of
//! instructions (a region), in full when the region starts: a region ends
//! after any instruction where control may leave or join, so a region is
//! either run to its end or left by a trap inside it. Running out traps
//! with "all fuel consumed" before the region runs, and charges nothing.

use wasmparser::Operator;

/// The fuel an instruction costs (see `Config::consume_fuel`).
pub(crate) fn cost(op: &Operator<'_>) -> u32 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

/// Whether execution may leave or enter the straight-line run at this
/// instruction, so the next instruction starts a new fuel region.
pub(crate) fn ends_region(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::Unreachable
    )
}
