//! Constant expressions: global initialisers, table initialisers and
//! segment offsets and items.

use wasmparser::Operator;

/// One instruction of a constant expression. Arithmetic (extended-const)
/// reuses the instruction table's semantics (`crate::isa`), so each
/// semantic exists once.
#[derive(Debug, Clone)]
pub(crate) enum ConstOp {
    /// Push a value, in its cell encoding (a `v128` in both halves).
    Const(u128),
    /// Push the value of a global (by module index).
    GlobalGet(u32),
    /// Push a reference to a function (by module index).
    RefFunc(u32),
    /// Push a null reference.
    RefNull,
    /// A binary arithmetic instruction on one-cell values.
    Binary(fn(u64, u64) -> Result<u64, crate::Trap>),
    /// An allocating (or converting) instruction of the GC proposal, which
    /// the instantiating store's heap evaluates (`runtime::gc::eval_const`).
    Gc(GcConst),
}

/// The GC proposal's constant instructions (type operands are module type
/// indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GcConst {
    StructNew(u32),
    StructNewDefault(u32),
    /// `struct.new_desc` (custom descriptors): the fields, then the
    /// descriptor.
    StructNewDesc(u32),
    /// `struct.new_default_desc`: the descriptor.
    StructNewDefaultDesc(u32),
    ArrayNew(u32),
    ArrayNewDefault(u32),
    /// The type and the number of elements.
    ArrayNewFixed(u32, u32),
    RefI31,
    AnyConvertExtern,
    ExternConvertAny,
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
                Operator::I32Const { value } => ConstOp::Const(u128::from(value as u32)),
                Operator::I64Const { value } => ConstOp::Const(u128::from(value as u64)),
                Operator::F32Const { value } => ConstOp::Const(u128::from(value.bits())),
                Operator::F64Const { value } => ConstOp::Const(u128::from(value.bits())),
                Operator::V128Const { value } => ConstOp::Const(value.i128() as u128),
                Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                Operator::RefNull { .. } => ConstOp::RefNull,
                Operator::StructNew { struct_type_index } => {
                    ConstOp::Gc(GcConst::StructNew(struct_type_index))
                }
                Operator::StructNewDefault { struct_type_index } => {
                    ConstOp::Gc(GcConst::StructNewDefault(struct_type_index))
                }
                Operator::StructNewDesc { struct_type_index } => {
                    ConstOp::Gc(GcConst::StructNewDesc(struct_type_index))
                }
                Operator::StructNewDefaultDesc { struct_type_index } => {
                    ConstOp::Gc(GcConst::StructNewDefaultDesc(struct_type_index))
                }
                Operator::ArrayNew { array_type_index } => {
                    ConstOp::Gc(GcConst::ArrayNew(array_type_index))
                }
                Operator::ArrayNewDefault { array_type_index } => {
                    ConstOp::Gc(GcConst::ArrayNewDefault(array_type_index))
                }
                Operator::ArrayNewFixed {
                    array_type_index,
                    array_size,
                } => ConstOp::Gc(GcConst::ArrayNewFixed(array_type_index, array_size)),
                Operator::RefI31 => ConstOp::Gc(GcConst::RefI31),
                Operator::AnyConvertExtern => ConstOp::Gc(GcConst::AnyConvertExtern),
                Operator::ExternConvertAny => ConstOp::Gc(GcConst::ExternConvertAny),
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

    /// Evaluates with `global` reading a global's value and `func` turning
    /// a module function index into a function reference, both in their
    /// cell encoding (a `v128` in both halves), and `gc` running a GC
    /// instruction on the stack (it pops its operands and returns its
    /// result).
    pub(crate) fn eval(
        &self,
        global: &dyn Fn(u32) -> u128,
        func: &dyn Fn(u32) -> u64,
        gc: &mut dyn FnMut(GcConst, &mut Vec<u128>) -> anyhow::Result<u128>,
    ) -> anyhow::Result<u128> {
        let mut stack: Vec<u128> = Vec::with_capacity(2);
        let underflow = || anyhow::anyhow!("constant expression pops from an empty stack");
        for op in &self.ops {
            let v = match op {
                ConstOp::Const(v) => *v,
                ConstOp::GlobalGet(g) => global(*g),
                ConstOp::RefFunc(f) => u128::from(func(*f)),
                ConstOp::RefNull => 0,
                ConstOp::Binary(f) => {
                    let b = stack.pop().ok_or_else(underflow)?;
                    let a = stack.pop().ok_or_else(underflow)?;
                    u128::from(f(a as u64, b as u64)?)
                }
                ConstOp::Gc(op) => gc(*op, &mut stack)?,
            };
            stack.push(v);
        }
        match (stack.pop(), stack.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => anyhow::bail!("constant expression does not leave exactly one value"),
        }
    }
}
