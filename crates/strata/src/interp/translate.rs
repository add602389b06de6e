//! Translation of one wasm function body into register bytecode.
//!
//! The wasm operand stack is resolved at translation time: every operand is
//! either a local, a constant (both read in place, never copied) or a
//! temporary living at its canonical slot `temps + depth`. Instructions name
//! the slots they read and write, so `local.get 0; local.get 1; i32.add;
//! local.set 2` becomes one `I32Add { dst: 2, lhs: 0, rhs: 1 }`.
//!
//! Frame layout: `[params and locals | constants | temporaries]`. The
//! constants of a function are collected in a first pass so the temporaries'
//! base is known before instructions are emitted.
//!
//! Invariants that keep lazily-read locals correct:
//! - before `local.set`/`local.tee` of local `L`, every pending read of `L`
//!   on the operand stack is copied to its temporary;
//! - at every control-flow join (block, loop and if entry) all pending local
//!   reads are materialised, because code on another path may write them.

use super::ops::{Op, Slot};
use super::CompiledFunc;
use crate::module::ModuleInfo;
use crate::runtime::fuel;
use anyhow::{bail, Result};
use std::collections::HashMap;
use wasmparser::{BlockType, FunctionBody, Operator};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operand {
    /// The value is in this local (or constant) slot.
    Local(Slot),
    Const(Slot),
    /// The value is at its canonical temporary slot.
    Temp,
}

#[derive(Debug, PartialEq)]
enum CtrlKind {
    Block,
    Loop,
    If,
    Else,
}

struct Ctrl {
    kind: CtrlKind,
    /// Operand stack height below the block's parameters.
    height: usize,
    params: usize,
    results: usize,
    /// Branch target of a loop.
    loop_pc: u32,
    /// Forward branches to patch with the end of the block.
    pending: Vec<usize>,
    /// The `BrIfEqz` of an `if` that jumps to its `else` (or end).
    else_patch: Option<usize>,
    /// The rest of the block is dead code.
    unreachable: bool,
}

struct Translator<'m> {
    module: &'m ModuleInfo,
    ops: Vec<Op>,
    const_slots: HashMap<u64, Slot>,
    temps: Slot,
    stack: Vec<Operand>,
    max_depth: usize,
    ctrl: Vec<Ctrl>,
    /// Nesting depth of blocks opened inside dead code.
    dead_depth: usize,
    slot_lists: Vec<Slot>,
    /// The instruction whose result is the top temporary, if it was the
    /// last one emitted (so `local.set` may retarget it).
    last_producer: Option<usize>,
    num_results: usize,
    /// Fuel metering is on (`Config::consume_fuel`).
    fuel: bool,
    /// The `ConsumeFuel` of the straight-line run being translated.
    fuel_region: Option<usize>,
    /// Epoch checks are on (`Config::epoch_interruption`).
    epoch: bool,
}

pub(crate) fn translate(
    m: &ModuleInfo,
    func_index: u32,
    body: &FunctionBody<'_>,
) -> Result<CompiledFunc> {
    let ty = m.func_type(func_index);
    let mut num_locals: u64 = ty.params().len() as u64;
    for local in body.get_locals_reader()? {
        num_locals += u64::from(local?.0);
    }
    if num_locals > u64::from(u32::MAX / 4) {
        bail!("function has too many locals");
    }
    let num_locals = num_locals as Slot;

    // First pass: the distinct constants, placed right after the locals.
    let mut consts = Vec::new();
    let mut const_slots = HashMap::new();
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let raw = match reader.read()? {
            Operator::I32Const { value } => value as u32 as u64,
            Operator::I64Const { value } => value as u64,
            Operator::F32Const { value } => value.bits() as u64,
            Operator::F64Const { value } => value.bits(),
            Operator::RefNull { .. } => 0,
            _ => continue,
        };
        const_slots.entry(raw).or_insert_with(|| {
            consts.push(raw);
            num_locals + consts.len() as Slot - 1
        });
    }

    let mut t = Translator {
        module: m,
        ops: Vec::new(),
        const_slots,
        temps: num_locals + consts.len() as Slot,
        stack: Vec::new(),
        max_depth: 0,
        ctrl: Vec::new(),
        dead_depth: 0,
        slot_lists: Vec::new(),
        last_producer: None,
        num_results: ty.results().len(),
        fuel: m.engine.config().consume_fuel,
        fuel_region: None,
        epoch: m.engine.config().epoch_interruption,
    };
    if t.epoch {
        t.emit(Op::CheckEpoch);
    }
    t.ctrl.push(Ctrl {
        kind: CtrlKind::Block,
        height: 0,
        params: 0,
        results: ty.results().len(),
        loop_pc: 0,
        pending: Vec::new(),
        else_patch: None,
        unreachable: false,
    });
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        t.operator(op)
            .map_err(|e| e.context(format!("at offset {offset:#x}")))?;
    }
    let frame_size = (t.temps as usize + t.max_depth).max(t.num_results);
    if frame_size > (u32::MAX / 2) as usize {
        bail!("function frame is too large");
    }
    t.thread_jumps_to_returns();
    if std::env::var_os("STRATA_DUMP").is_some() {
        eprintln!("func {func_index}: temps at {}", t.temps);
        for (i, op) in t.ops.iter().enumerate() {
            eprintln!("  {i:4}: {op:?}");
        }
    }
    Ok(CompiledFunc {
        instrs: super::handlers::lower(
            &t.ops,
            &super::handlers::Lowering {
                consts: &consts,
                const_base: num_locals,
                num_imported: m.num_imported_funcs,
            },
        ),
        ops: t.ops.into(),
        func_index,
        num_params: ty.params().len() as u32,
        init: std::iter::repeat_n(0, (num_locals as usize) - ty.params().len())
            .chain(consts)
            .collect(),
        frame_size: frame_size as u32,
        slot_lists: t.slot_lists.into(),
        num_results: ty.results().len() as u32,
    })
}

impl Translator<'_> {
    fn block_arity(&self, ty: BlockType) -> (usize, usize) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(i) => {
                let ty = &self.module.types[i as usize];
                (ty.params().len(), ty.results().len())
            }
        }
    }

    /// Replaces each jump to a return instruction with the return itself,
    /// so `if ... else ... end` at the end of a function returns directly.
    fn thread_jumps_to_returns(&mut self) {
        for i in 0..self.ops.len() {
            if let Op::Br { target } = self.ops[i] {
                if let Some(&dest) = self.ops.get(target as usize) {
                    if matches!(
                        dest,
                        Op::Return | Op::Return1 { .. } | Op::ReturnMany { .. }
                    ) {
                        self.ops[i] = dest;
                    }
                }
            }
        }
    }

    fn emit(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.last_producer = None;
        self.ops.len() - 1
    }

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    fn slot_at(&self, i: usize) -> Slot {
        match self.stack[i] {
            Operand::Local(s) | Operand::Const(s) => s,
            Operand::Temp => self.temps + i as Slot,
        }
    }

    fn pop(&mut self) -> Slot {
        let i = self.stack.len() - 1;
        let slot = self.slot_at(i);
        self.stack.pop();
        slot
    }

    fn push_temp(&mut self) -> Slot {
        self.stack.push(Operand::Temp);
        self.max_depth = self.max_depth.max(self.stack.len());
        self.temps + self.stack.len() as Slot - 1
    }

    /// Emits `op`, whose result goes to a new top temporary made by `make`.
    fn produce(&mut self, make: impl FnOnce(Slot) -> Op) {
        let dst = self.push_temp();
        let idx = self.emit(make(dst));
        self.last_producer = Some(idx);
    }

    fn materialize(&mut self, i: usize) {
        if self.stack[i] != Operand::Temp {
            let src = self.slot_at(i);
            self.emit(Op::Copy {
                dst: self.temps + i as Slot,
                src,
            });
            self.stack[i] = Operand::Temp;
        }
    }

    fn materialize_top(&mut self, n: usize) {
        for i in self.stack.len() - n..self.stack.len() {
            self.materialize(i);
        }
    }

    fn materialize_locals(&mut self) {
        for i in 0..self.stack.len() {
            if matches!(self.stack[i], Operand::Local(_)) {
                self.materialize(i);
            }
        }
    }

    /// Copies pending reads of `local` to temporaries; true if any.
    fn preserve_local(&mut self, local: Slot) -> bool {
        let mut any = false;
        for i in 0..self.stack.len() {
            if self.stack[i] == Operand::Local(local) {
                self.materialize(i);
                any = true;
            }
        }
        any
    }

    fn set_unreachable(&mut self) {
        if let Some(c) = self.ctrl.last_mut() {
            c.unreachable = true;
        }
    }

    fn push_ctrl(&mut self, kind: CtrlKind, ty: BlockType) {
        let (params, results) = self.block_arity(ty);
        self.materialize_locals();
        self.materialize_top(params);
        self.last_producer = None;
        let height = self.stack.len() - params;
        let is_loop = kind == CtrlKind::Loop;
        self.ctrl.push(Ctrl {
            kind,
            height,
            params,
            results,
            loop_pc: self.pc(),
            pending: Vec::new(),
            else_patch: None,
            unreachable: false,
        });
        if is_loop && self.epoch {
            // At the loop header, so every iteration checks.
            self.emit(Op::CheckEpoch);
        }
    }

    fn patch(&mut self, at: usize, target: u32) {
        let op = &mut self.ops[at];
        match op.branch_target_mut() {
            Some(t) => *t = target,
            None => unreachable!("patching a non-branch {op:?}"),
        }
    }

    /// Emits a conditional jump to `label` taken when `cond != 0`, fusing
    /// it with the comparison that just produced `cond` when possible.
    fn emit_branch_if(&mut self, cond: Slot, label: usize) {
        let target = if self.ctrl[label].kind == CtrlKind::Loop {
            self.ctrl[label].loop_pc
        } else {
            0
        };
        let fused = self.last_producer.and_then(|at| {
            let (dst, op) = self.ops[at].compare_branch(target)?;
            (dst == cond && cond >= self.temps).then_some((at, op))
        });
        let at = match fused {
            Some((at, op)) => {
                self.ops[at] = op;
                self.last_producer = None;
                at
            }
            None => self.emit(Op::BrIfNez { cond, target }),
        };
        if self.ctrl[label].kind != CtrlKind::Loop {
            self.ctrl[label].pending.push(at);
        }
    }

    fn emit_return(&mut self) {
        let n = self.num_results;
        let len = self.stack.len();
        match n {
            0 => {
                self.emit(Op::Return);
            }
            1 => {
                let src = self.slot_at(len - 1);
                self.emit(Op::Return1 { src });
            }
            _ => {
                let list = self.slot_lists.len() as u32;
                for i in len - n..len {
                    let s = self.slot_at(i);
                    self.slot_lists.push(s);
                }
                self.emit(Op::ReturnMany {
                    list,
                    len: n as u32,
                });
            }
        }
    }

    /// The index in `ctrl` of the label `depth` levels out.
    fn label(&self, depth: u32) -> usize {
        self.ctrl.len() - 1 - depth as usize
    }

    fn label_arity(&self, label: usize) -> usize {
        let c = &self.ctrl[label];
        if c.kind == CtrlKind::Loop {
            c.params
        } else {
            c.results
        }
    }

    /// Whether branching to `label` needs code beyond a jump.
    fn branch_needs_copies(&self, label: usize) -> bool {
        if label == 0 {
            return true;
        }
        let n = self.label_arity(label);
        let height = self.ctrl[label].height;
        let len = self.stack.len();
        (0..n).any(|i| self.slot_at(len - n + i) != self.temps + (height + i) as Slot)
    }

    /// Emits the copies and the jump of an unconditional branch to `label`.
    fn emit_branch(&mut self, label: usize) {
        if label == 0 {
            self.emit_return();
            return;
        }
        let n = self.label_arity(label);
        self.copy_top_to(self.ctrl[label].height, n);
        self.emit_jump(label);
    }

    /// Loop inversion: a jump back to a loop that starts with a conditional
    /// exit (`loop (br_if $out cond) ... (br $loop)`) becomes the inverted
    /// test at the bottom — continue into the body when the exit condition
    /// does not hold, else leave — so each iteration runs one branch, not
    /// two. Returns false when the loop does not start that way.
    fn invert_loop_jump(&mut self, loop_pc: u32) -> bool {
        let Some(head) = self.ops.get(loop_pc as usize).copied() else {
            return false;
        };
        let Some(inverted) = head.negated_branch(loop_pc + 1) else {
            return false;
        };
        // An open `if` whose else-branch is not placed yet: its target is
        // unknown and tracked outside the pending lists.
        let head_at = loop_pc as usize;
        if self.ctrl.iter().any(|c| c.else_patch == Some(head_at)) {
            return false;
        }
        let mut exit = head;
        let exit_target = exit.branch_target_mut().map_or(0, |t| *t);
        // The head's exit may still await patching at the end of its block;
        // the copy must then be patched with it.
        let owner = self.ctrl.iter().position(|c| c.pending.contains(&head_at));
        self.emit(inverted);
        let at = self.emit(Op::Br {
            target: exit_target,
        });
        if let Some(owner) = owner {
            self.ctrl[owner].pending.push(at);
        }
        true
    }

    /// Copies the top `n` operands to the canonical slots of stack
    /// positions `height..height + n`, where a label expects its values.
    /// Ascending order is safe: a temporary source sits at or above its
    /// destination, so no copy overwrites a source still to be read.
    fn copy_top_to(&mut self, height: usize, n: usize) {
        let len = self.stack.len();
        for i in 0..n {
            let src = self.slot_at(len - n + i);
            let dst = self.temps + (height + i) as Slot;
            if src != dst {
                self.emit(Op::Copy { dst, src });
            }
        }
    }

    fn emit_jump(&mut self, label: usize) {
        if self.ctrl[label].kind == CtrlKind::Loop {
            let target = self.ctrl[label].loop_pc;
            if !self.invert_loop_jump(target) {
                self.emit(Op::Br { target });
            }
        } else {
            let at = self.emit(Op::Br { target: 0 });
            self.ctrl[label].pending.push(at);
        }
    }

    fn operator(&mut self, op: Operator<'_>) -> Result<()> {
        if self.ctrl.last().is_some_and(|c| c.unreachable) {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth == 0 => {}
                Operator::End if self.dead_depth == 0 => {}
                Operator::End => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        if !self.fuel {
            return self.translate_op(op);
        }
        let cost = fuel::cost(&op);
        let ends_region = fuel::ends_region(&op);
        if cost > 0 {
            let at = match self.fuel_region {
                Some(at) => at,
                None => {
                    let at = self.emit(Op::ConsumeFuel { amount: 0 });
                    self.fuel_region = Some(at);
                    at
                }
            };
            if let Op::ConsumeFuel { amount } = &mut self.ops[at] {
                *amount = amount.saturating_add(cost);
            }
        }
        self.translate_op(op)?;
        if ends_region {
            self.fuel_region = None;
        }
        Ok(())
    }

    fn translate_op(&mut self, op: Operator<'_>) -> Result<()> {
        if let Some(make) = Op::unary(&op) {
            let src = self.pop();
            self.produce(|dst| make(dst, src));
            return Ok(());
        }
        if let Some(make) = Op::binary(&op) {
            let rhs = self.pop();
            let lhs = self.pop();
            self.produce(|dst| make(dst, lhs, rhs));
            return Ok(());
        }
        if let Some((make, memarg)) = Op::load(&op) {
            let offset = memarg_offset(&memarg)?;
            let addr = self.pop();
            self.produce(|dst| make(dst, addr, offset));
            return Ok(());
        }
        if let Some((make, memarg)) = Op::store(&op) {
            let offset = memarg_offset(&memarg)?;
            let value = self.pop();
            let addr = self.pop();
            self.emit(make(addr, value, offset));
            return Ok(());
        }
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.emit(Op::Unreachable);
                self.set_unreachable();
            }
            Operator::Block { blockty } => self.push_ctrl(CtrlKind::Block, blockty),
            Operator::Loop { blockty } => self.push_ctrl(CtrlKind::Loop, blockty),
            Operator::If { blockty } => {
                let cond = self.pop();
                // Fuse `cmp; if` into one branch on the negated comparison,
                // unless entering the block needs copies in between.
                let fused = self.last_producer.and_then(|at| {
                    let (dst, op) = self.ops[at].negated_compare_branch(0)?;
                    (dst == cond && cond >= self.temps).then_some((at, op))
                });
                self.push_ctrl(CtrlKind::If, blockty);
                let at = match fused {
                    Some((at, op)) if at + 1 == self.ops.len() => {
                        self.ops[at] = op;
                        self.last_producer = None;
                        at
                    }
                    _ => self.emit(Op::BrIfEqz { cond, target: 0 }),
                };
                if let Some(c) = self.ctrl.last_mut() {
                    c.else_patch = Some(at);
                }
            }
            Operator::Else => {
                let label = self.ctrl.len() - 1;
                if !self.ctrl[label].unreachable {
                    self.end_of_branch(label);
                    self.emit_jump(label);
                }
                let c = &mut self.ctrl[label];
                c.kind = CtrlKind::Else;
                c.unreachable = false;
                let else_patch = c.else_patch.take();
                let (height, params) = (c.height, c.params);
                if let Some(at) = else_patch {
                    let pc = self.pc();
                    self.patch(at, pc);
                }
                self.stack.truncate(height);
                for _ in 0..params {
                    self.push_temp();
                }
                self.last_producer = None;
            }
            Operator::End => {
                let label = self.ctrl.len() - 1;
                if label == 0 {
                    if !self.ctrl[0].unreachable {
                        self.emit_return();
                    }
                    self.ctrl.pop();
                    return Ok(());
                }
                if !self.ctrl[label].unreachable {
                    self.end_of_branch(label);
                }
                let c = self.ctrl.pop().expect("control stack is never empty here");
                let pc = self.pc();
                if let Some(at) = c.else_patch {
                    self.patch(at, pc);
                }
                for at in c.pending {
                    self.patch(at, pc);
                }
                self.stack.truncate(c.height);
                for _ in 0..c.results {
                    self.push_temp();
                }
                self.last_producer = None;
            }
            Operator::Br { relative_depth } => {
                let label = self.label(relative_depth);
                self.emit_branch(label);
                self.set_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let label = self.label(relative_depth);
                if self.branch_needs_copies(label) {
                    let skip = self.emit(Op::BrIfEqz { cond, target: 0 });
                    self.emit_branch(label);
                    let pc = self.pc();
                    self.patch(skip, pc);
                } else {
                    self.emit_branch_if(cond, label);
                }
            }
            Operator::BrTable { targets } => {
                let index = self.pop();
                let mut labels = Vec::with_capacity(targets.len() as usize + 1);
                for depth in targets.targets() {
                    labels.push(self.label(depth?));
                }
                labels.push(self.label(targets.default()));
                self.emit(Op::BrTable {
                    index,
                    len: targets.len(),
                });
                // One jump per entry: straight to the label when no copies
                // are needed, else to a stub emitted after the table.
                let mut stubs = Vec::new();
                for &label in &labels {
                    if self.branch_needs_copies(label) {
                        let at = self.emit(Op::Br { target: 0 });
                        stubs.push((at, label));
                    } else {
                        self.emit_jump(label);
                    }
                }
                for (at, label) in stubs {
                    let pc = self.pc();
                    self.patch(at, pc);
                    self.emit_branch(label);
                }
                self.set_unreachable();
            }
            Operator::Return => {
                self.emit_return();
                self.set_unreachable();
            }
            Operator::Call { function_index } => {
                let ty = self.module.func_type(function_index);
                let (p, r) = (ty.params().len(), ty.results().len());
                let base = self.call_args(p);
                self.emit(Op::Call {
                    func: function_index,
                    base,
                });
                for _ in 0..r {
                    self.push_temp();
                }
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let ty = &self.module.types[type_index as usize];
                let (p, r) = (ty.params().len(), ty.results().len());
                let index = self.pop();
                let base = self.call_args(p);
                self.emit(Op::CallIndirect {
                    type_id: self.module.type_ids[type_index as usize],
                    table: table_index,
                    index,
                });
                self.emit(Op::Ext {
                    a: base,
                    b: 0,
                    c: 0,
                });
                for _ in 0..r {
                    self.push_temp();
                }
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop();
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp();
                self.emit(Op::Select { dst, cond, a });
                self.emit(Op::Ext { a: b, b: 0, c: 0 });
            }
            Operator::LocalGet { local_index } => {
                self.stack.push(Operand::Local(local_index));
                self.max_depth = self.max_depth.max(self.stack.len());
            }
            Operator::LocalSet { local_index } => self.local_set(local_index),
            Operator::LocalTee { local_index } => {
                self.local_set(local_index);
                self.stack.push(Operand::Local(local_index));
                self.max_depth = self.max_depth.max(self.stack.len());
            }
            Operator::GlobalGet { global_index } => {
                self.produce(|dst| Op::GlobalGet {
                    dst,
                    global: global_index,
                });
            }
            Operator::GlobalSet { global_index } => {
                let src = self.pop();
                self.emit(Op::GlobalSet {
                    global: global_index,
                    src,
                });
            }
            Operator::I32Const { value } => self.push_const(value as u32 as u64),
            Operator::I64Const { value } => self.push_const(value as u64),
            Operator::F32Const { value } => self.push_const(value.bits() as u64),
            Operator::F64Const { value } => self.push_const(value.bits()),
            Operator::RefNull { .. } => self.push_const(0),
            Operator::RefFunc { function_index } => {
                self.produce(|dst| Op::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            Operator::MemorySize { .. } => self.produce(|dst| Op::MemorySize { dst }),
            Operator::MemoryGrow { .. } => {
                let delta = self.pop();
                let dst = self.push_temp();
                self.emit(Op::MemoryGrow { dst, delta });
            }
            Operator::MemoryFill { .. } => {
                let len = self.pop();
                let value = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryFill { dst, value, len });
            }
            Operator::MemoryCopy { .. } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryCopy { dst, src, len });
            }
            Operator::MemoryInit { data_index, .. } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryInit {
                    segment: data_index,
                    dst,
                    src,
                });
                self.emit(Op::Ext { a: len, b: 0, c: 0 });
            }
            Operator::DataDrop { data_index } => {
                self.emit(Op::DataDrop {
                    segment: data_index,
                });
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                self.produce(|dst| Op::TableGet { dst, table, index });
            }
            Operator::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                self.emit(Op::TableSet {
                    table,
                    index,
                    value,
                });
            }
            Operator::TableSize { table } => self.produce(|dst| Op::TableSize { dst, table }),
            Operator::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let dst = self.push_temp();
                self.emit(Op::TableGrow { dst, table, delta });
                self.emit(Op::Ext {
                    a: init,
                    b: 0,
                    c: 0,
                });
            }
            Operator::TableFill { table } => {
                let len = self.pop();
                let value = self.pop();
                let dst = self.pop();
                self.emit(Op::TableFill { table, dst, value });
                self.emit(Op::Ext { a: len, b: 0, c: 0 });
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::TableCopy {
                    dst_table,
                    src_table,
                });
                self.emit(Op::Ext {
                    a: dst,
                    b: src,
                    c: len,
                });
            }
            Operator::TableInit { elem_index, table } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::TableInit {
                    table,
                    segment: elem_index,
                });
                self.emit(Op::Ext {
                    a: dst,
                    b: src,
                    c: len,
                });
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Op::ElemDrop {
                    segment: elem_index,
                });
            }
            other => bail!("unsupported instruction {other:?}"),
        }
        Ok(())
    }

    fn push_const(&mut self, raw: u64) {
        let slot = self.const_slots[&raw];
        self.stack.push(Operand::Const(slot));
        self.max_depth = self.max_depth.max(self.stack.len());
    }

    /// Places the top `n` operands at consecutive canonical slots for a call
    /// and pops them; returns the first slot.
    fn call_args(&mut self, n: usize) -> Slot {
        self.materialize_top(n);
        let base = self.temps + (self.stack.len() - n) as Slot;
        self.stack.truncate(self.stack.len() - n);
        base
    }

    /// Moves the block's results to their canonical slots at the end of a
    /// reachable branch of it.
    fn end_of_branch(&mut self, label: usize) {
        let c = &self.ctrl[label];
        let (height, n) = (c.height, c.results);
        self.copy_top_to(height, n);
        self.stack.truncate(height);
        for _ in 0..n {
            self.push_temp();
        }
    }

    fn local_set(&mut self, local: Slot) {
        let top = self.stack.len() - 1;
        let value_is_temp = self.stack[top] == Operand::Temp;
        let value = self.pop();
        let producer = self.last_producer;
        let preserved = self.preserve_local(local);
        if let (false, true, Some(at)) = (preserved, value_is_temp, producer) {
            if let Some(dst) = self.ops[at].result_slot_mut() {
                if *dst == value {
                    *dst = local;
                    self.last_producer = None;
                    return;
                }
            }
        }
        if value != local {
            self.emit(Op::Copy {
                dst: local,
                src: value,
            });
        }
    }
}

fn memarg_offset(memarg: &wasmparser::MemArg) -> Result<u32> {
    if memarg.target != wasmparser::MemArgTarget::Memory(0) {
        bail!("only memory 0 is supported (multi-memory is not implemented yet)");
    }
    u32::try_from(memarg.offset).map_err(|_| anyhow::anyhow!("memory64 offsets are not supported"))
}
