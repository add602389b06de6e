//! Constant expressions: global initialisers and segment offsets/items.

use crate::trap::Trap;
use wasmparser::Operator;

/// One instruction of a constant expression. Arithmetic (extended-const)
/// reuses the instruction table's semantics (`crate::isa`), so each
/// semantic exists once.
#[derive(Debug, Clone)]
pub(crate) enum ConstOp {
    /// Push a raw slot value.
    Const(u64),
    /// Push the value of a global (by module index).
    GlobalGet(u32),
    /// Push a reference to a function (by module index).
    RefFunc(u32),
    /// Push a null reference.
    RefNull,
    /// A binary arithmetic instruction.
    Binary(fn(u64, u64) -> Result<u64, Trap>),
}

/// A constant expression, ready to evaluate at instantiation.
#[derive(Debug, Clone)]
pub(crate) struct ConstExpr {
    pub ops: Vec<ConstOp>,
}

impl ConstExpr {
    pub(crate) fn parse(expr: &wasmparser::ConstExpr<'_>) -> anyhow::Result<ConstExpr> {
        let mut reader = expr.get_operators_reader();
        let mut ops = Vec::new();
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            ops.push(match op {
                Operator::I32Const { value } => ConstOp::Const(value as u32 as u64),
                Operator::I64Const { value } => ConstOp::Const(value as u64),
                Operator::F32Const { value } => ConstOp::Const(value.bits() as u64),
                Operator::F64Const { value } => ConstOp::Const(value.bits()),
                Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                Operator::RefNull { .. } => ConstOp::RefNull,
                Operator::End => break,
                other => match crate::isa::const_binary(&other) {
                    Some(f) => ConstOp::Binary(f),
                    None => anyhow::bail!(
                        "unsupported constant instruction {other:?} at offset {offset:#x}"
                    ),
                },
            });
        }
        Ok(ConstExpr { ops })
    }

    /// Evaluates with `global` reading a global's raw value and `func`
    /// turning a module function index into a raw function reference.
    pub(crate) fn eval(
        &self,
        global: &dyn Fn(u32) -> u64,
        func: &dyn Fn(u32) -> u64,
    ) -> Result<u64, Trap> {
        let mut stack: Vec<u64> = Vec::with_capacity(2);
        for op in &self.ops {
            let v = match op {
                ConstOp::Const(v) => *v,
                ConstOp::GlobalGet(g) => global(*g),
                ConstOp::RefFunc(f) => func(*f),
                ConstOp::RefNull => 0,
                ConstOp::Binary(f) => {
                    let b = stack.pop().unwrap_or_default();
                    let a = stack.pop().unwrap_or_default();
                    f(a, b)?
                }
            };
            stack.push(v);
        }
        Ok(stack.pop().unwrap_or_default())
    }
}
