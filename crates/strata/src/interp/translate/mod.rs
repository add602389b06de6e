//! Translation of one wasm function body into register bytecode.
//!
//! The wasm operand stack is resolved at translation time (`stack.rs`):
//! every operand has a type and is either a local, a constant (both read in
//! place, never copied) or a temporary living at its canonical slot `temps +
//! cells below it`. Instructions name the slots they read and write, so
//! `local.get 0; local.get 1; i32.add; local.set 2` becomes one `I32Add {
//! dst: 2, lhs: 0, rhs: 1 }`.
//!
//! Frame layout, in cells (a `v128` takes two): `[params and locals |
//! constants | temporaries]`. The constants of a function are collected in a
//! first pass so the temporaries' base is known before instructions are
//! emitted.
//!
//! Invariants that keep lazily-read locals correct:
//! - before `local.set`/`local.tee` of local `L`, every pending read of `L`
//!   on the operand stack is copied to its temporary;
//! - at every control-flow join (block, loop and if entry) all pending local
//!   reads are materialised, because code on another path may write them.

mod atomic;
mod exn;
mod gc;
mod simd;
mod stack;

use super::ops::{Access, Op, Slot};
use super::CompiledFunc;
use crate::module::{BlockSignature, ModuleInfo};
use crate::runtime::fuel;
use crate::runtime::gc::collect::is_traced;
use crate::types::raw::v128_to_cells;
use crate::types::{HeapType, RefType, ValType};
use anyhow::{bail, Result};
use stack::{Operand, Place};
use wasmparser::{BlockType, FunctionBody, Operator};

#[derive(Debug, PartialEq)]
enum CtrlKind {
    Block,
    Loop,
    If,
    Else,
    /// A legacy `catch` or `catch_all` block: the caught exnref sits at
    /// the block's height, below the payload, for `rethrow`.
    LegacyCatch,
}

struct Ctrl {
    kind: CtrlKind,
    /// Operand stack height (in operands) below the block's parameters.
    height: usize,
    params: Box<[ValType]>,
    results: Box<[ValType]>,
    /// Branch target of a loop.
    loop_pc: u32,
    /// Forward branches to patch with the end of the block.
    pending: Vec<usize>,
    /// The `BrIfEqz` of an `if` that jumps to its `else` (or end).
    else_patch: Option<usize>,
    /// The rest of the block is dead code.
    unreachable: bool,
    /// For a `try_table`: its entry in `Translator::handlers`, whose range
    /// ends where the block does.
    handler: Option<usize>,
    /// For a legacy `try` past its body: its handler, which each `catch`
    /// adds a clause to.
    catches: Option<usize>,
}

/// A function's distinct constants (value, cells) and their slots, sorted
/// by value: a lookup is a binary search. A sorted array rather than a
/// hash map: SipHash took 12M of the 110M instructions of translating the
/// regex app, and a fixed fast hash (FxHash, tried) would let a guest that
/// picks colliding constants make translation quadratic.
struct Constants {
    keys: Vec<(u128, usize)>,
    slots: Vec<Slot>,
}

impl Constants {
    /// Places the distinct constants among `keys` at consecutive slots
    /// from `first`; returns them and the cells they fill, in order.
    fn place(mut keys: Vec<(u128, usize)>, first: Slot) -> (Constants, Vec<u64>) {
        keys.sort_unstable();
        keys.dedup();
        let mut cells = Vec::with_capacity(keys.len());
        let mut slots = Vec::with_capacity(keys.len());
        for &(value, width) in &keys {
            slots.push(first + cells.len() as Slot);
            let [low, high] = v128_to_cells(value);
            cells.push(low);
            if width == 2 {
                cells.push(high);
            }
        }
        (Constants { keys, slots }, cells)
    }

    /// The slot of constant `key`, which the first pass saw.
    fn slot(&self, key: (u128, usize)) -> Slot {
        match self.keys.binary_search(&key) {
            Ok(i) => self.slots[i],
            Err(_) => unreachable!("the first pass places every constant"),
        }
    }
}

struct Translator<'m> {
    module: &'m ModuleInfo,
    ops: Vec<Op>,
    /// The slot of each distinct constant.
    const_slots: Constants,
    /// Each local's first slot and type.
    locals: Vec<(Slot, ValType)>,
    temps: Slot,
    stack: Vec<Operand>,
    /// The most cells the operand stack held.
    max_cells: usize,
    ctrl: Vec<Ctrl>,
    /// Nesting depth of blocks opened inside dead code.
    dead_depth: usize,
    slot_lists: Vec<Slot>,
    /// The instruction whose result is the top temporary, if it was the
    /// last one emitted (so `local.set` may retarget it).
    last_producer: Option<usize>,
    results: Box<[ValType]>,
    /// Fuel metering is on (`Config::consume_fuel`).
    fuel: bool,
    /// The `ConsumeFuel` of the straight-line run being translated.
    fuel_region: Option<usize>,
    /// Epoch checks are on (`Config::epoch_interruption`).
    epoch: bool,
    /// The module offset of the operator being translated.
    offset: u32,
    /// Where each instruction that can stop a frame came from
    /// (`offsets::OffsetMap`).
    offsets: Vec<(u32, u32)>,
    /// The loops' headers.
    loops: Vec<super::LoopHeader>,
    /// The `try_table`s' handlers, in the order the blocks open.
    handlers: Vec<super::TryHandler>,
    /// The reference slots at each safepoint (`stack_maps.rs`).
    maps: super::stack_maps::Builder,
}

pub(crate) fn translate(
    m: &ModuleInfo,
    func_index: u32,
    body: &FunctionBody<'_>,
) -> Result<CompiledFunc> {
    let ty = m.func_type(func_index);
    // Each local's first slot: parameters, then declared locals, a `v128`
    // taking two cells.
    let mut types: Vec<ValType> = ty.params().to_vec();
    for local in body.get_locals_reader()? {
        let (count, t) = local?;
        let t = m.val_type(t)?;
        if types.len() as u64 + u64::from(count) > u64::from(u32::MAX / 8) {
            bail!("function has too many locals");
        }
        types.extend(std::iter::repeat_n(t, count as usize));
    }
    let mut locals = Vec::with_capacity(types.len());
    let mut cells: Slot = 0;
    for t in types {
        locals.push((cells, t));
        cells += t.cells() as Slot;
    }
    let param_cells = ty.param_cells();
    let local_cells = cells;

    // First pass: the distinct constants, placed right after the locals.
    // A body of up to `KEEP_OPERATORS` bytes keeps the decoded operators
    // (and their offsets) for the second pass, which then decodes nothing.
    let len = body.as_bytes().len();
    let keep = len <= KEEP_OPERATORS;
    // Operators take a little over two bytes each on average: reserving
    // for one per two bytes saves the growth's copies (callgrind).
    let mut kept = Vec::with_capacity(if keep { len / 2 } else { 0 });
    let mut keys = Vec::new();
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        let key = const_key(&op);
        if keep {
            kept.push((offset, op));
        }
        keys.extend(key);
    }
    let (const_slots, consts) = Constants::place(keys, local_cells);

    let results: Box<[ValType]> = ty.results().into();
    let mut t = Translator {
        module: m,
        ops: Vec::with_capacity(if keep { kept.len() } else { len / 3 }),
        const_slots,
        locals,
        temps: local_cells + consts.len() as Slot,
        stack: Vec::new(),
        max_cells: 0,
        ctrl: Vec::new(),
        dead_depth: 0,
        slot_lists: Vec::new(),
        last_producer: None,
        results: results.clone(),
        fuel: m.engine.config().consume_fuel,
        fuel_region: None,
        epoch: m.engine.config().epoch_interruption,
        offset: body.get_operators_reader()?.original_position() as u32,
        offsets: Vec::new(),
        loops: Vec::new(),
        handlers: Vec::new(),
        maps: Default::default(),
    };
    if t.epoch {
        t.emit(Op::CheckEpoch);
    }
    t.ctrl.push(Ctrl {
        kind: CtrlKind::Block,
        height: 0,
        params: Box::new([]),
        results,
        loop_pc: 0,
        pending: Vec::new(),
        else_patch: None,
        unreachable: false,
        handler: None,
        catches: None,
    });
    let mut step = |offset: u64, op| {
        t.offset = offset as u32;
        t.operator(op)
            .map_err(|e| e.context(format!("at offset {offset:#x}")))
    };
    if keep {
        for (offset, op) in kept {
            step(offset, op)?;
        }
    } else {
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            step(offset, reader.read()?)?;
        }
    }
    let result_cells = ty.result_cells();
    // `init` is padded to whole chunks of `INIT_CHUNK` cells (`exec::enter`
    // copies chunks); the padding lands in temporaries, which are written
    // before they are read, and the frame is made to hold it.
    let init_cells = (local_cells as usize - param_cells + consts.len())
        .next_multiple_of(super::exec::INIT_CHUNK);
    let frame_size = (t.temps as usize + t.max_cells)
        .max(result_cells)
        .max(param_cells + init_cells);
    if frame_size > (u32::MAX / 2) as usize {
        bail!("function frame is too large");
    }
    t.thread_jumps();
    let ref_locals = t
        .locals
        .iter()
        .filter(|(_, ty)| is_traced(*ty))
        .map(|&(slot, _)| slot)
        .collect();
    let stack_maps = std::mem::take(&mut t.maps).finish(ref_locals);
    static DUMP: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| std::env::var_os("STRATA_DUMP").is_some());
    if *DUMP {
        eprintln!("func {func_index}: temps at {}", t.temps);
        for (i, op) in t.ops.iter().enumerate() {
            eprintln!("  {i:4}: {op:?}");
        }
    }
    Ok(CompiledFunc {
        instrs: super::handlers::lower(&super::handlers::Lowering {
            ops: &t.ops,
            consts: &consts,
            const_base: local_cells,
            num_imported: m.num_imported_funcs,
            count_calls: m.engine.config().tier == crate::Tier::Tiered,
        }),
        ops: t.ops.into(),
        func_index,
        num_params: param_cells as u32,
        init: std::iter::repeat_n(0, local_cells as usize - param_cells)
            .chain(consts)
            .chain(std::iter::repeat(0))
            .take(init_cells)
            .collect(),
        frame_size: frame_size as u32,
        slot_lists: t.slot_lists.into(),
        num_results: result_cells as u32,
        offsets: super::offsets::OffsetMap::new(t.offsets),
        loops: t.loops.into(),
        handlers: t.handlers.into(),
        stack_maps,
    })
}

/// Whether `op` is one of the most frequent operators that only the
/// structural `match` of `Translator::translate_op` translates (locals,
/// constants, globals, blocks and branches, calls): those skip asking the
/// instruction families (`translate_family`: seven lookups, each a large
/// `match` that fails), which took 18M of the 129M instructions of
/// translating the regex app's functions (callgrind). None of the
/// families takes any of them, so the order changes nothing.
fn is_structural(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::LocalGet { .. }
            | Operator::LocalSet { .. }
            | Operator::LocalTee { .. }
            | Operator::I32Const { .. }
            | Operator::I64Const { .. }
            | Operator::F32Const { .. }
            | Operator::F64Const { .. }
            | Operator::GlobalGet { .. }
            | Operator::GlobalSet { .. }
            | Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::Return
            | Operator::Drop
            | Operator::Call { .. }
    )
}

/// The largest body (in bytes) whose operators the first pass of
/// [`translate`] keeps for the second, rather than decoding them again.
/// Decoding (wasmparser's `OperatorsReader::read`) was 40M of the 136M
/// instructions of translating the regex app's 292 functions (callgrind),
/// half in each pass; keeping the operators saved 7M of it (moving them
/// costs too). A kept operator takes a few dozen bytes, so the bound
/// keeps the buffer to about a megabyte: a larger body (a hostile 7 MB
/// one, say) is decoded twice instead.
const KEEP_OPERATORS: usize = 64 << 10;

/// The constant an operator pushes, as the key of the constant pool: its
/// cell encoding and cell count.
fn const_key(op: &Operator<'_>) -> Option<(u128, usize)> {
    Some(match op {
        Operator::I32Const { value } => (u128::from(*value as u32), 1),
        Operator::I64Const { value } => (u128::from(*value as u64), 1),
        Operator::F32Const { value } => (u128::from(value.bits()), 1),
        Operator::F64Const { value } => (u128::from(value.bits()), 1),
        Operator::V128Const { value } => (value.i128() as u128, 2),
        // The lane indices of a shuffle are a `v128` operand in a slot.
        Operator::I8x16Shuffle { lanes } => (u128::from_le_bytes(*lanes), 2),
        Operator::RefNull { .. } => (0, 1),
        _ => return None,
    })
}

impl Translator<'_> {
    /// Jump threading: a branch to an unconditional `Br` goes straight to
    /// where that one goes (an `if` inside a block that ends its parent, a
    /// `br_table` entry to a block's end), and a `Br` to a return
    /// instruction becomes the return itself, so `if ... else ... end` at
    /// the end of a function returns directly. A `br_table`'s entries stay
    /// `Br`s (the handler indexes them) but are threaded too.
    fn thread_jumps(&mut self) {
        let mut entries_left = 0;
        for i in 0..self.ops.len() {
            let in_table = entries_left > 0;
            entries_left = match self.ops[i] {
                Op::BrTable { len, .. } => len as usize + 1,
                _ => entries_left.saturating_sub(1),
            };
            let mut op = self.ops[i];
            let Some(target) = op.branch_target_mut() else {
                continue;
            };
            // A bounded walk: `Br`s may form a cycle (`loop br 0 end`).
            for _ in 0..8 {
                match self.ops.get(*target as usize) {
                    Some(&Op::Br { target: next }) if next != *target => *target = next,
                    _ => break,
                }
            }
            let dest = self.ops.get(*target as usize).copied();
            self.ops[i] = match (op, dest) {
                (
                    Op::Br { .. },
                    Some(ret @ (Op::Return | Op::Return1 { .. } | Op::ReturnMany { .. })),
                ) if !in_table => ret,
                _ => op,
            };
        }
    }

    fn emit(&mut self, op: Op) -> usize {
        if super::offsets::records_offset(&op) {
            self.offsets.push((self.ops.len() as u32, self.offset));
        }
        self.ops.push(op);
        self.last_producer = None;
        self.ops.len() - 1
    }

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    /// The slots of the operand temporaries that hold references the
    /// collector traces. Operands read lazily from a local are covered by
    /// the local's own entry, and constants are never references (a null
    /// reference's constant is 0).
    fn ref_temps(&self) -> Vec<Slot> {
        (0..self.stack.len())
            .filter(|&i| self.stack[i].place == Place::Temp && is_traced(self.stack[i].ty))
            .map(|i| self.slot_at(i))
            .collect()
    }

    /// Records a safepoint that resumes at the next instruction emitted,
    /// with reference operands `operands` (`stack_maps.rs`).
    fn safepoint(&mut self, operands: &[Slot]) {
        let at = self.pc();
        self.maps.record(at, operands);
    }

    /// Emits `op`, whose one-cell result of type `ty` goes to a new top
    /// temporary made by `make`.
    fn produce(&mut self, ty: ValType, make: impl FnOnce(Slot) -> Op) {
        let dst = self.push_temp(ty);
        let idx = self.emit(make(dst));
        self.last_producer = Some(idx);
    }

    fn set_unreachable(&mut self) {
        if let Some(c) = self.ctrl.last_mut() {
            c.unreachable = true;
        }
    }

    fn push_ctrl(&mut self, kind: CtrlKind, ty: BlockType) -> Result<()> {
        let BlockSignature { params, results } = self.module.block_type(ty)?;
        self.materialize_locals();
        self.materialize_top(params.len());
        self.last_producer = None;
        let height = self.stack.len() - params.len();
        let is_loop = kind == CtrlKind::Loop;
        if is_loop {
            // Every operand is at a slot now (its temporary, or a
            // constant's slot): the state compiled code can take over here.
            let stack = (0..self.stack.len())
                .map(|i| (self.slot_at(i), self.stack[i].ty))
                .collect();
            self.loops.push(super::LoopHeader {
                pc: self.pc(),
                state: crate::runtime::tiering::LoopState {
                    offset: self.offset,
                    stack,
                },
            });
        }
        self.ctrl.push(Ctrl {
            kind,
            height,
            params,
            results,
            loop_pc: self.pc(),
            pending: Vec::new(),
            else_patch: None,
            unreachable: false,
            handler: None,
            catches: None,
        });
        if is_loop && self.epoch {
            // At the loop header, so every iteration checks.
            self.emit(Op::CheckEpoch);
        }
        Ok(())
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
        let target = self.label_target(label);
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

    /// Emits a branch to `label` taken when `cond` is zero (`when_zero`) or
    /// not, with the copies the label's values need on the taken path.
    fn emit_branch_when(&mut self, cond: Slot, when_zero: bool, label: usize) {
        if self.branch_needs_copies(label) {
            let skip = if when_zero {
                self.emit(Op::BrIfNez { cond, target: 0 })
            } else {
                self.emit(Op::BrIfEqz { cond, target: 0 })
            };
            self.emit_branch(label);
            let pc = self.pc();
            self.patch(skip, pc);
        } else if when_zero {
            let target = self.label_target(label);
            let at = self.emit(Op::BrIfEqz { cond, target });
            if self.ctrl[label].kind != CtrlKind::Loop {
                self.ctrl[label].pending.push(at);
            }
        } else {
            self.emit_branch_if(cond, label);
        }
    }

    /// The known target of a branch to `label`: a loop's header, or 0 for
    /// a block's end, which is patched later.
    fn label_target(&self, label: usize) -> u32 {
        if self.ctrl[label].kind == CtrlKind::Loop {
            self.ctrl[label].loop_pc
        } else {
            0
        }
    }

    /// Returns the top operands as the function's results.
    fn emit_return(&mut self) {
        let n = self.results.len();
        if n == 0 {
            self.emit(Op::Return);
        } else if n == 1 && self.results[0].cells() == 1 {
            let src = self.slot_at(self.stack.len() - 1);
            self.emit(Op::Return1 { src });
        } else {
            let list = self.slot_lists.len() as u32;
            let cells = self.top_cell_slots(n);
            let len = cells.len() as u32;
            self.slot_lists.extend(cells);
            self.emit(Op::ReturnMany { list, len });
        }
    }

    /// The index in `ctrl` of the label `depth` levels out.
    fn label(&self, depth: u32) -> usize {
        self.ctrl.len() - 1 - depth as usize
    }

    /// How many values a branch to `label` carries.
    fn label_arity(&self, label: usize) -> usize {
        let c = &self.ctrl[label];
        if c.kind == CtrlKind::Loop {
            c.params.len()
        } else {
            c.results.len()
        }
    }

    /// Whether branching to `label` needs code beyond a jump.
    fn branch_needs_copies(&self, label: usize) -> bool {
        if label == 0 {
            return true;
        }
        let n = self.label_arity(label);
        let mut dst = self.temps + self.cells_below(self.ctrl[label].height);
        let len = self.stack.len();
        for i in len - n..len {
            if self.slot_at(i) != dst {
                return true;
            }
            dst += self.stack[i].ty.cells() as Slot;
        }
        false
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
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::TryTable { .. }
                | Operator::Try { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth == 0 => {}
                Operator::Catch { .. } | Operator::CatchAll if self.dead_depth == 0 => {}
                Operator::End | Operator::Delegate { .. } if self.dead_depth == 0 => {}
                Operator::End | Operator::Delegate { .. } => {
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

    /// Translates `op` if it belongs to one of the instruction families
    /// with their own tables and translators (numeric, memory, SIMD,
    /// atomic, GC); says whether it did.
    fn translate_family(&mut self, op: &Operator<'_>) -> Result<bool> {
        if let Some(make) = Op::unary(op) {
            let src = self.pop();
            self.produce(result_type(op), |dst| make(dst, src));
            return Ok(true);
        }
        if let Some(make) = Op::binary(op) {
            let rhs = self.pop();
            let lhs = self.pop();
            self.produce(result_type(op), |dst| make(dst, lhs, rhs));
            return Ok(true);
        }
        if let Some((make, memarg)) = Op::load(op) {
            let (access, offset, ext) = self.access(&memarg)?;
            let addr = self.pop();
            self.produce(result_type(op), |dst| make(dst, addr, offset, access));
            self.emit_access_ext(ext);
            return Ok(true);
        }
        if let Some((make, memarg)) = Op::store(op) {
            let (access, offset, ext) = self.access(&memarg)?;
            let value = self.pop();
            let addr = self.pop();
            self.emit(make(addr, value, offset, access));
            self.emit_access_ext(ext);
            return Ok(true);
        }
        Ok(self.simd(op)? || self.atomic(op)? || self.gc(op)?)
    }

    fn translate_op(&mut self, op: Operator<'_>) -> Result<()> {
        if !is_structural(&op) && self.translate_family(&op)? {
            return Ok(());
        }
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.emit(Op::Unreachable);
                self.set_unreachable();
            }
            Operator::Block { blockty } => self.push_ctrl(CtrlKind::Block, blockty)?,
            Operator::Loop { blockty } => self.push_ctrl(CtrlKind::Loop, blockty)?,
            Operator::If { blockty } => {
                let cond = self.pop();
                // Fuse `cmp; if` into one branch on the negated comparison,
                // unless entering the block needs copies in between.
                let fused = self.last_producer.and_then(|at| {
                    let (dst, op) = self.ops[at].negated_compare_branch(0)?;
                    (dst == cond && cond >= self.temps).then_some((at, op))
                });
                self.push_ctrl(CtrlKind::If, blockty)?;
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
                let (height, params) = (c.height, c.params.clone());
                if let Some(at) = else_patch {
                    let pc = self.pc();
                    self.patch(at, pc);
                }
                self.reset_to(height, &params);
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
                if let Some(h) = self.ctrl[label].handler {
                    self.handlers[h].end = self.pc();
                }
                let fell_through = !self.ctrl[label].unreachable;
                if fell_through {
                    self.end_of_branch(label);
                }
                let c = self.ctrl.pop().expect("control stack is never empty here");
                // The end is reached by falling through, by a branch to it,
                // or from an `if` without `else`; otherwise what follows is
                // dead code, skipped as the JIT skips it.
                let reached = fell_through || !c.pending.is_empty() || c.else_patch.is_some();
                let pc = self.pc();
                if let Some(at) = c.else_patch {
                    self.patch(at, pc);
                }
                for at in c.pending {
                    self.patch(at, pc);
                }
                self.reset_to(c.height, &c.results);
                self.last_producer = None;
                if !reached {
                    self.set_unreachable();
                }
            }
            Operator::Br { relative_depth } => {
                let label = self.label(relative_depth);
                self.emit_branch(label);
                self.set_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let label = self.label(relative_depth);
                self.emit_branch_when(cond, false, label);
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
                // are needed, else to a stub emitted after the table. An
                // entry is exactly one `Br` (the handler indexes them), so
                // a jump back to a loop is not inverted here.
                let mut stubs = Vec::new();
                for &label in &labels {
                    if self.branch_needs_copies(label) {
                        let at = self.emit(Op::Br { target: 0 });
                        stubs.push((at, label));
                    } else if self.ctrl[label].kind == CtrlKind::Loop {
                        let target = self.ctrl[label].loop_pc;
                        self.emit(Op::Br { target });
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
                let base = self.call_args(ty.params().len());
                self.emit(Op::Call {
                    func: function_index,
                    base,
                });
                self.safepoint(&self.ref_temps());
                for r in ty.results() {
                    self.push_temp(*r);
                }
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            }
            | Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                let ty = self.module.func_type_at(type_index);
                let index = self.pop();
                let base = self.call_args(ty.params().len());
                let type_id = self.module.type_id(type_index).bits();
                let table = table_index;
                let tail = matches!(op, Operator::ReturnCallIndirect { .. });
                self.emit(if tail {
                    Op::ReturnCallIndirect {
                        type_id,
                        table,
                        index,
                    }
                } else {
                    Op::CallIndirect {
                        type_id,
                        table,
                        index,
                    }
                });
                self.emit(Op::Ext {
                    a: base,
                    b: 0,
                    c: 0,
                });
                // A tail call's frame keeps nothing live past it but its
                // locals (only a call out, of a host or compiled callee,
                // suspends it).
                self.safepoint(&if tail { Vec::new() } else { self.ref_temps() });
                if tail {
                    self.set_unreachable();
                } else {
                    for r in ty.results() {
                        self.push_temp(*r);
                    }
                }
            }
            Operator::CallRef { type_index } | Operator::ReturnCallRef { type_index } => {
                let ty = self.module.func_type_at(type_index);
                let callee = self.pop();
                let base = self.call_args(ty.params().len());
                if matches!(op, Operator::CallRef { .. }) {
                    self.emit(Op::CallRef { callee, base });
                    self.safepoint(&self.ref_temps());
                    for r in ty.results() {
                        self.push_temp(*r);
                    }
                } else {
                    self.emit(Op::ReturnCallRef { callee, base });
                    self.safepoint(&[]);
                    self.set_unreachable();
                }
            }
            Operator::ReturnCall { function_index } => {
                let ty = self.module.func_type(function_index);
                let base = self.call_args(ty.params().len());
                self.emit(Op::ReturnCall {
                    func: function_index,
                    base,
                });
                self.safepoint(&[]);
                self.set_unreachable();
            }
            Operator::RefAsNonNull => {
                let (src, ty) = self.pop_typed();
                self.produce(ty.non_null(), |dst| Op::RefAsNonNull { dst, src });
            }
            Operator::BrOnNull { relative_depth } => {
                // Branch when null, without the reference; otherwise it
                // stays, now known to be non-null.
                let top = self.stack.len() - 1;
                let operand = self.stack[top];
                let reference = self.pop();
                let label = self.label(relative_depth);
                self.emit_branch_when(reference, true, label);
                self.push(operand.place, operand.ty.non_null());
            }
            Operator::BrOnNonNull { relative_depth } => {
                // Branch with the reference when it is not null; otherwise
                // drop it.
                let reference = self.slot_at(self.stack.len() - 1);
                let label = self.label(relative_depth);
                self.emit_branch_when(reference, false, label);
                self.pop();
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop();
                let b = self.pop();
                let (a, ty) = self.pop_typed();
                let dst = self.push_temp(ty);
                // A `v128` selects each of its cells; the condition sits
                // above both operands, so no write clobbers it.
                for c in 0..ty.cells() as Slot {
                    let at = self.emit(Op::Select {
                        dst: dst + c,
                        cond,
                        a: a + c,
                    });
                    self.emit(Op::Ext {
                        a: b + c,
                        b: 0,
                        c: 0,
                    });
                    // A one-cell result may go straight to the local a
                    // `local.set` right after puts it in (the `Ext` word
                    // is part of the instruction).
                    if ty.cells() == 1 {
                        self.last_producer = Some(at);
                    }
                }
            }
            Operator::LocalGet { local_index } => {
                let (slot, ty) = self.locals[local_index as usize];
                self.push(Place::Local(slot), ty);
            }
            Operator::LocalSet { local_index } => self.local_set(local_index),
            Operator::LocalTee { local_index } => {
                self.local_set(local_index);
                let (slot, ty) = self.locals[local_index as usize];
                self.push(Place::Local(slot), ty);
            }
            Operator::GlobalGet { global_index } => {
                let ty = self.module.globals[global_index as usize].content();
                if ty.cells() == 1 {
                    self.produce(ty, |dst| Op::GlobalGet {
                        dst,
                        global: global_index,
                    });
                } else {
                    let dst = self.push_temp(ty);
                    self.emit(Op::GlobalGetV128 {
                        dst,
                        global: global_index,
                    });
                }
            }
            Operator::GlobalSet { global_index } => {
                let (src, ty) = self.pop_typed();
                self.emit(if ty.cells() == 1 {
                    Op::GlobalSet {
                        global: global_index,
                        src,
                    }
                } else {
                    Op::GlobalSetV128 {
                        global: global_index,
                        src,
                    }
                });
            }
            Operator::I32Const { .. }
            | Operator::I64Const { .. }
            | Operator::F32Const { .. }
            | Operator::F64Const { .. }
            | Operator::V128Const { .. } => {
                let ty = match op {
                    Operator::I32Const { .. } => ValType::I32,
                    Operator::I64Const { .. } => ValType::I64,
                    Operator::F32Const { .. } => ValType::F32,
                    Operator::F64Const { .. } => ValType::F64,
                    _ => ValType::V128,
                };
                self.push_const(&op, ty);
            }
            Operator::RefNull { hty } => {
                let heap = self.module.heap_type(hty)?;
                self.push_const(&op, ValType::Ref(RefType::new(true, heap)));
            }
            Operator::RefFunc { function_index } => {
                let type_index = self.module.funcs[function_index as usize];
                let heap = HeapType::ConcreteFunc(self.module.type_id(type_index));
                self.produce(ValType::Ref(RefType::new(false, heap)), |dst| Op::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            Operator::MemorySize { mem } => {
                let ty = self.memory_index_type(mem);
                self.produce(ty, |dst| Op::MemorySize { dst, memory: mem })
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let dst = self.push_temp(self.memory_index_type(mem));
                self.emit(Op::MemoryGrow {
                    dst,
                    delta,
                    memory: mem,
                });
            }
            Operator::MemoryFill { mem } => {
                let len = self.pop();
                let value = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryFill { dst, value, len });
                self.emit(Op::Ext { a: mem, b: 0, c: 0 });
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryCopy { dst, src, len });
                self.emit(Op::Ext {
                    a: dst_mem,
                    b: src_mem,
                    c: 0,
                });
            }
            Operator::MemoryInit { data_index, mem } => {
                let len = self.pop();
                let src = self.pop();
                let dst = self.pop();
                self.emit(Op::MemoryInit {
                    segment: data_index,
                    dst,
                    src,
                });
                self.emit(Op::Ext {
                    a: len,
                    b: mem,
                    c: 0,
                });
            }
            Operator::DataDrop { data_index } => {
                self.emit(Op::DataDrop {
                    segment: data_index,
                });
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let ty = ValType::Ref(self.module.tables[table as usize].element());
                self.produce(ty, |dst| Op::TableGet { dst, table, index });
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
            Operator::TableSize { table } => {
                let ty = self.table_index_type(table);
                self.produce(ty, |dst| Op::TableSize { dst, table })
            }
            Operator::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let dst = self.push_temp(self.table_index_type(table));
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
            Operator::TryTable { try_table } => self.try_table(try_table)?,
            Operator::Throw { tag_index } => {
                let ty = self
                    .module
                    .func_type_at(self.module.tags[tag_index as usize]);
                // The stack map keeps the payload too: once exceptions
                // are heap objects, `throw` allocates before it copies it.
                let live = self.ref_temps();
                let base = self.call_args(ty.params().len());
                self.emit(Op::Throw {
                    tag: tag_index,
                    base,
                });
                self.safepoint(&live);
                self.set_unreachable();
            }
            Operator::Try { blockty } => self.open_try(blockty, Vec::new())?,
            Operator::Catch { tag_index } => self.legacy_catch(Some(tag_index)),
            Operator::CatchAll => self.legacy_catch(None),
            Operator::Delegate { relative_depth } => {
                self.delegate(relative_depth);
                self.translate_op(Operator::End)?;
            }
            Operator::Rethrow { relative_depth } => {
                let label = self.label(relative_depth);
                let src = self.temps + self.cells_below(self.ctrl[label].height);
                self.emit(Op::ThrowRef { src });
                self.set_unreachable();
            }
            Operator::ThrowRef => {
                let src = self.pop();
                self.emit(Op::ThrowRef { src });
                self.set_unreachable();
            }
            other => bail!("the interpreter does not support {other:?} yet"),
        }
        Ok(())
    }

    /// Pushes the constant `op` pushes, from the constant pool.
    fn push_const(&mut self, op: &Operator<'_>, ty: ValType) {
        let key = const_key(op).unwrap_or_else(|| unreachable!("{op:?} is a constant"));
        let slot = self.const_slots.slot(key);
        self.push(Place::Const(slot), ty);
    }

    /// Places the top `n` operands at consecutive canonical slots for a call
    /// and pops them; returns the first slot.
    fn call_args(&mut self, n: usize) -> Slot {
        self.materialize_top(n);
        let height = self.stack.len() - n;
        let base = self.temps + self.cells_below(height);
        self.stack.truncate(height);
        base
    }

    /// Moves the block's results to their canonical slots at the end of a
    /// reachable branch of it.
    fn end_of_branch(&mut self, label: usize) {
        let c = &self.ctrl[label];
        let (height, results) = (c.height, c.results.clone());
        self.copy_top_to(height, results.len());
        self.reset_to(height, &results);
    }

    fn local_set(&mut self, local: u32) {
        let (slot, ty) = self.locals[local as usize];
        let top = self.stack.len() - 1;
        let value_is_temp = self.stack[top].place == Place::Temp;
        let value = self.pop();
        let producer = self.last_producer;
        let preserved = self.preserve_local(slot);
        if let (false, true, Some(at)) = (preserved, value_is_temp, producer) {
            if let Some(dst) = self.ops[at].result_slot_mut() {
                if *dst == value {
                    *dst = slot;
                    self.last_producer = None;
                    return;
                }
            }
        }
        self.copy_cells(slot, value, ty.cells());
    }
}

/// The type of the value a numeric instruction or load produces.
fn result_type(op: &Operator<'_>) -> ValType {
    crate::isa::result_type(op).unwrap_or_else(|| unreachable!("{op:?} is in the table"))
}

impl Translator<'_> {
    /// How a load or store with `memarg` addresses its memory: memory 0
    /// with 32-bit addresses takes the fast path; any other goes through
    /// the `VMContext` with its memory index and the offset's high half in
    /// an extension word.
    fn access(&self, memarg: &wasmparser::MemArg) -> Result<(Access, u32, Option<Op>)> {
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            bail!("memory accesses to GC arrays are not supported");
        };
        let is_64 = self.module.memories[memory as usize].is_64();
        let (low, high) = (memarg.offset as u32, (memarg.offset >> 32) as u32);
        if memory == 0 && !is_64 {
            return Ok((Access::Mem0, low, None));
        }
        let access = if high == 0 {
            Access::Indexed
        } else {
            Access::Wide
        };
        let ext = Op::Ext {
            a: memory,
            b: high,
            c: 0,
        };
        Ok((access, low, Some(ext)))
    }

    /// Emits the extension word `access` returned, if any, right after
    /// the load or store: before the extension word of any other operand
    /// (vector and lane of the SIMD lane accesses), where handlers and the
    /// driver look for the memory.
    fn emit_access_ext(&mut self, ext: Option<Op>) {
        if let Some(ext) = ext {
            self.emit(ext);
        }
    }

    /// The type of memory `memory`'s addresses and sizes.
    fn memory_index_type(&self, memory: u32) -> ValType {
        if self.module.memories[memory as usize].is_64() {
            ValType::I64
        } else {
            ValType::I32
        }
    }

    /// The type of table `table`'s indices and sizes.
    fn table_index_type(&self, table: u32) -> ValType {
        if self.module.tables[table as usize].is_64() {
            ValType::I64
        } else {
            ValType::I32
        }
    }
}
