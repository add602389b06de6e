//! The fuel cost model, shared by every tier so that a program consumes the
//! same fuel wherever it runs.
//!
//! Each instruction costs 1, except `nop`, `drop`, `block`, `loop`, `else`
//! and `end`, which cost 0. Fuel is charged per straight-line run of
//! instructions (a region), in full when the region starts: a region ends
//! after any instruction where control may leave or join, so a region is
//! either run to its end or left by a trap inside it. Running out traps
//! with "all fuel consumed" before the region runs, and charges nothing.
//!
//! Exceptions: `throw`, `throw_ref` and `try_table` cost 1 each (entering
//! a `try_table` installs its handlers, unlike a plain `block`); of the
//! legacy instructions, `try` and `rethrow` cost 1, and `catch`,
//! `catch_all` and `delegate`, which only delimit code as `else` and `end`
//! do, cost 0. Unwinding and catching cost nothing more: only calls and
//! throws raise exceptions and both end their region, so a region is never
//! left half-run by one, and the handler resumes at a label (after a
//! block's `end`, at a loop's start, or the function's return), where a
//! new region starts. Every tier charges exactly this.

use wasmparser::Operator;

/// The fuel an instruction costs (see `Config::consume_fuel`).
pub(crate) fn cost(op: &Operator<'_>) -> u32 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Else
        | Operator::End
        | Operator::Catch { .. }
        | Operator::CatchAll
        | Operator::Delegate { .. } => 0,
        _ => 1,
    }
}

/// Whether execution may leave or enter the straight-line run at this
/// instruction, so the next instruction starts a new fuel region.
///
/// Generated from wasmparser's list of every operator: an operator whose
/// stack effect wasmparser cannot state as a fixed arity (`arity custom`:
/// every control instruction, and a few others) must be classified by
/// name in `custom_arity!` below, or this does not compile; every other
/// operator is straight-line code, except the few with a fixed arity that
/// never fall through (`unreachable`, `throw_ref`, `rethrow`), named in
/// `classify!`. So a control instruction that a new wasmparser adds can
/// never fall silently into the wrong region.
pub(crate) fn ends_region(op: &Operator<'_>) -> bool {
    macro_rules! classify {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
            match op {
                $( Operator::$op { .. } => classify!(@one $op ($($ann)*)), )*
                // `Operator` is non-exhaustive; every variant wasmparser
                // has is listed above.
                _ => true,
            }
        };
        // These have a fixed arity but never fall through.
        (@one Unreachable ($($ann:tt)*)) => { true };
        (@one ThrowRef ($($ann:tt)*)) => { true };
        (@one Rethrow ($($ann:tt)*)) => { true };
        (@one $op:ident (arity custom)) => { custom_arity!($op) };
        (@one $op:ident ($($ann:tt)*)) => { false };
    }
    wasmparser::for_each_operator!(classify)
}

/// Whether an operator wasmparser gives no fixed arity ends a fuel region:
/// one arm per operator, no default.
macro_rules! custom_arity {
    // Control flow: branches, calls, returns, block boundaries, throws,
    // and the stack-switching instructions, which transfer control.
    (Block) => {
        true
    };
    (Loop) => {
        true
    };
    (If) => {
        true
    };
    (Else) => {
        true
    };
    (End) => {
        true
    };
    (Br) => {
        true
    };
    (BrIf) => {
        true
    };
    (BrTable) => {
        true
    };
    (BrOnNull) => {
        true
    };
    (BrOnNonNull) => {
        true
    };
    (BrOnCast) => {
        true
    };
    (BrOnCastFail) => {
        true
    };
    (BrOnCastDescEq) => {
        true
    };
    (BrOnCastDescEqFail) => {
        true
    };
    (Return) => {
        true
    };
    (Call) => {
        true
    };
    (CallIndirect) => {
        true
    };
    (CallRef) => {
        true
    };
    (ReturnCall) => {
        true
    };
    (ReturnCallIndirect) => {
        true
    };
    (ReturnCallRef) => {
        true
    };
    (Throw) => {
        true
    };
    (ThrowRef) => {
        true
    };
    (TryTable) => {
        true
    };
    (Try) => {
        true
    };
    (Catch) => {
        true
    };
    (CatchAll) => {
        true
    };
    (Delegate) => {
        true
    };
    (Rethrow) => {
        true
    };
    (ContNew) => {
        true
    };
    (ContBind) => {
        true
    };
    (Suspend) => {
        true
    };
    (Resume) => {
        true
    };
    (ResumeThrow) => {
        true
    };
    (ResumeThrowRef) => {
        true
    };
    (Switch) => {
        true
    };
    // Allocation and selection with variable operand counts: straight-line
    // code.
    (StructNew) => {
        false
    };
    (StructNewDesc) => {
        false
    };
    (ArrayNewFixed) => {
        false
    };
    (TypedSelectMulti) => {
        false
    };
}
use custom_arity;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_instructions_end_regions_and_others_do_not() {
        let ends = [
            Operator::Unreachable,
            Operator::Return,
            Operator::Call { function_index: 0 },
            Operator::ReturnCall { function_index: 0 },
            Operator::ReturnCallIndirect {
                type_index: 0,
                table_index: 0,
            },
            Operator::CallRef { type_index: 0 },
            Operator::ReturnCallRef { type_index: 0 },
            Operator::BrOnNull { relative_depth: 0 },
            Operator::BrOnNonNull { relative_depth: 0 },
            Operator::Throw { tag_index: 0 },
            Operator::ThrowRef,
            Operator::Rethrow { relative_depth: 0 },
        ];
        for op in &ends {
            assert!(ends_region(op), "{op:?} ends a region");
        }
        let straight = [
            Operator::Nop,
            Operator::I32Add,
            Operator::LocalGet { local_index: 0 },
            Operator::RefAsNonNull,
            Operator::RefIsNull,
            Operator::MemoryGrow { mem: 0 },
            Operator::StructNew {
                struct_type_index: 0,
            },
        ];
        for op in &straight {
            assert!(!ends_region(op), "{op:?} is straight-line code");
        }
    }

    #[test]
    fn exception_instructions_cost_one_and_their_delimiters_nothing() {
        let try_table = Operator::TryTable {
            try_table: wasmparser::TryTable {
                ty: wasmparser::BlockType::Empty,
                catches: Vec::new(),
            },
        };
        for op in [
            Operator::Throw { tag_index: 0 },
            Operator::ThrowRef,
            try_table,
            Operator::Try {
                blockty: wasmparser::BlockType::Empty,
            },
            Operator::Rethrow { relative_depth: 0 },
        ] {
            assert_eq!(cost(&op), 1, "{op:?}");
            assert!(ends_region(&op), "{op:?}");
        }
        for op in [
            Operator::Catch { tag_index: 0 },
            Operator::CatchAll,
            Operator::Delegate { relative_depth: 0 },
        ] {
            assert_eq!(cost(&op), 0, "{op:?}");
            assert!(ends_region(&op), "{op:?}");
        }
    }
}
