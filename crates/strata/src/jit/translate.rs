//! WebAssembly function bodies to Cranelift IR.
//!
//! The wasm operand stack becomes a stack of SSA values, locals become
//! frontend variables, and each `block`/`loop`/`if` a Cranelift block whose
//! parameters carry its results (or, for a loop, its parameters). Memory,
//! globals, tables and function references are read through the instance's
//! `VMContext` at the offsets of `runtime::vm`; anything that needs the
//! store calls a runtime helper (`helpers.rs`).

use super::abi::{cell_flags, clif_type, native_signature, osr_signature, vm_flags};
use super::helpers::Builtins;
use super::TrapCodes;
use crate::module::{BlockSignature, ModuleInfo};
use crate::runtime::fuel;
use crate::runtime::tiering::LoopState;
use crate::runtime::vm::{VMContext, VMGlobal, VMMemory, VMRuntimeLimits, VMTable};
use crate::types::{HeapType, RefType, ValType};
use crate::Trap;
use anyhow::{bail, Result};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::types::{F32, F64, I32, I64, I8X16};
use cranelift_codegen::ir::{
    Block, BlockArg, ConstantData, Function, GlobalValueData, InstBuilder, JumpTableData,
    SourceLoc, TrapCode, Type, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::mem::offset_of;
use wasmparser::{FunctionBody, Operator};

/// What the translator needs to know about the module being compiled.
pub(crate) struct Env<'a> {
    pub module: &'a ModuleInfo,
    /// Which defined functions are compiled (the others run in the
    /// interpreter).
    pub compiled: &'a [bool],
    /// Which defined functions are in the code image being compiled
    /// (called directly).
    pub in_image: &'a [bool],
    /// The host's calling convention, for runtime helpers.
    pub host_call_conv: CallConv,
    pub fuel: bool,
    pub epoch: bool,
    /// Check memory accesses explicitly instead of relying on guard pages.
    pub explicit_bounds: bool,
    /// Relaxed SIMD gives the deterministic results
    /// (`Config::relaxed_simd_deterministic`), else the host's fastest.
    pub relaxed_deterministic: bool,
}

pub(super) enum Kind {
    Block,
    Loop,
    /// `else_block` takes the `if`'s parameters; `None` once `else` was seen.
    If {
        else_block: Option<Block>,
    },
    /// A `try_table`, whose handlers (`Translator::try_scopes`) end with
    /// it.
    TryTable,
    /// A legacy `try` (`legacy.rs`).
    Try(Box<super::legacy::LegacyTry>),
}

pub(super) struct Ctrl {
    pub(super) kind: Kind,
    /// Where control continues after `end`; its parameters are the results.
    pub(super) next: Block,
    /// Loop header (for `loop`), otherwise `next`.
    pub(super) target: Block,
    pub(super) params: Box<[ValType]>,
    pub(super) results: Box<[ValType]>,
    /// Height of the value stack below the construct's parameters.
    pub(super) height: usize,
    /// Whether anything jumps to `next`.
    pub(super) next_reachable: bool,
    /// For a loop translated before the loop an on-stack-replacement entry
    /// starts at: the operands below its parameters (all `height` of
    /// them), which its header takes as parameters too, so that a branch
    /// back to it from code after the entry passes them (the values the
    /// code before the entry computed do not dominate that code; see
    /// `Translator::enter_at_loop`). 0 otherwise.
    pub(super) carried: usize,
}

impl Ctrl {
    /// A construct whose branches go forward, to `next` (every kind but
    /// `loop`), with its value stack starting at `height`.
    pub(super) fn forward(
        kind: Kind,
        next: Block,
        params: Box<[ValType]>,
        results: Box<[ValType]>,
        height: usize,
    ) -> Ctrl {
        Ctrl {
            kind,
            next,
            target: next,
            params,
            results,
            height,
            next_reachable: false,
            carried: 0,
        }
    }

    fn branch_arity(&self) -> usize {
        match self.kind {
            Kind::Loop => self.params.len(),
            _ => self.results.len(),
        }
    }
}

impl Translator<'_, '_> {
    /// The arguments of a branch to `frame`'s target that passes `values`:
    /// for a loop that carries the operands below it, those first.
    pub(super) fn branch_args(&self, frame: usize, values: Vec<Value>) -> Vec<Value> {
        let carried = self.ctrl[frame].carried;
        if carried == 0 {
            return values;
        }
        let mut args: Vec<Value> = self.stack[..carried].iter().map(|(v, _)| *v).collect();
        args.extend(values);
        args
    }
}

pub(super) struct Translator<'a, 'b> {
    pub(super) env: &'a Env<'a>,
    pub(super) b: FunctionBuilder<'b>,
    /// The wasm operand stack: each operand's SSA value and wasm type (which
    /// says, for instance, which values are references).
    pub(super) stack: Vec<(Value, ValType)>,
    pub(super) ctrl: Vec<Ctrl>,
    pub(super) locals: Vec<(Variable, ValType)>,
    pub(super) vmctx: Value,
    /// `*const VMRuntimeLimits`, loaded once.
    pub(super) limits: Value,
    /// Memory 0: its `VMMemory` and base address (which never changes).
    pub(super) memory: Option<(Value, Value)>,
    pub(super) reachable: bool,
    /// Nesting depth of constructs opened in unreachable code.
    pub(super) dead_depth: usize,
    /// The fuel charge of the region being translated, and its cost so far.
    pub(super) fuel_region: Option<(cranelift_codegen::ir::Inst, u32)>,
    /// The function's index, and the module offset of the operator being
    /// translated (for the stack an epoch callback sees).
    pub(super) func_index: u32,
    pub(super) offset: u32,
    /// When compiling an entry at a loop: the loop's state in the
    /// interpreter frame, the entry's block and the frame's address; `None`
    /// once the loop is translated.
    osr: Option<(&'a LoopState, Block, Value)>,
    /// The handlers of the enclosing `try_table`s, outermost first.
    pub(super) try_scopes: Vec<super::exn::TryScope>,
}

/// Flags of a load of the context's fixed data (`Translator::load_static`):
/// trusted, read-only and free to move.
fn static_flags() -> cranelift_codegen::ir::MemFlags {
    vm_flags().with_readonly().with_can_move()
}

pub(super) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

fn user_trap(trap: Trap) -> TrapCode {
    TrapCodes::of(trap)
}

/// Translates defined function `index` into `func`. With `osr`, `func` is
/// instead the function's entry at the loop whose state that is
/// (`abi::osr_signature`): it loads the locals and operands from the
/// interpreter frame and continues at the loop's header. The code before
/// the loop is still translated (it keeps the translator's model of
/// blocks and operands) but nothing reaches it, and Cranelift drops it.
pub(crate) fn translate(
    env: &Env<'_>,
    fctx: &mut FunctionBuilderContext,
    func: &mut Function,
    index: u32,
    body: &FunctionBody<'_>,
    osr: Option<&LoopState>,
) -> Result<()> {
    let m = env.module;
    let ty = m.func_type(index);
    func.signature = match osr {
        Some(_) => osr_signature(ty),
        None => native_signature(ty),
    };

    // The stack limit lives in the store's limits, reached through vmctx.
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let limits_gv = func.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: Offset32::new(offset_of!(VMContext, limits) as i32),
        global_type: I64,
        flags: vm_flags().with_readonly(),
    });
    let stack_limit_gv = func.create_global_value(GlobalValueData::Load {
        base: limits_gv,
        offset: Offset32::new(offset_of!(VMRuntimeLimits, stack_limit) as i32),
        global_type: I64,
        flags: vm_flags(),
    });
    func.stack_limit = Some(stack_limit_gv);

    let mut b = FunctionBuilder::new(func, fctx);
    // Every instruction carries the module offset of the wasm operator it
    // comes from (backtraces map native pcs back to it); the entry code
    // gets the body's first operator.
    let mut ops = body.get_operators_reader()?;
    b.set_srcloc(SourceLoc::new(ops.original_position() as u32));
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let vmctx = b.block_params(entry)[0];
    // Loaded here, where they dominate every use; `static_flags` lets
    // Cranelift drop the ones a function does not use (memory 0's base
    // never moves: memories grow within their reservation).
    let limits = b.ins().load(
        I64,
        static_flags(),
        vmctx,
        offset_of!(VMContext, limits) as i32,
    );
    let memory = if m.memories.is_empty() {
        None
    } else {
        let vmmem = b.ins().load(
            I64,
            static_flags(),
            vmctx,
            offset_of!(VMContext, memory0) as i32,
        );
        let base = b.ins().load(
            I64,
            static_flags(),
            vmmem,
            offset_of!(VMMemory, base) as i32,
        );
        Some((vmmem, base))
    };

    let mut locals = Vec::new();
    for (i, p) in ty.params().iter().enumerate() {
        let var = b.declare_var(clif_type(*p));
        super::gc::declare_gc_var(&mut b, var, *p);
        let v = match osr {
            Some(_) => zero_of(&mut b, clif_type(*p)),
            None => b.block_params(entry)[i + 1],
        };
        b.def_var(var, v);
        locals.push((var, *p));
    }
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let (count, vt) = reader.read()?;
        let t = m.val_type(vt)?;
        for _ in 0..count {
            let var = b.declare_var(clif_type(t));
            super::gc::declare_gc_var(&mut b, var, t);
            let zero = zero_of(&mut b, clif_type(t));
            b.def_var(var, zero);
            locals.push((var, t));
        }
    }

    let ret = b.create_block();
    for r in ty.results() {
        b.append_block_param(ret, clif_type(*r));
    }
    let mut t = Translator {
        env,
        b,
        stack: Vec::new(),
        ctrl: vec![Ctrl::forward(
            Kind::Block,
            ret,
            Box::new([]),
            ty.results().into(),
            0,
        )],
        locals,
        vmctx,
        limits,
        memory,
        reachable: true,
        dead_depth: 0,
        fuel_region: None,
        func_index: index,
        offset: ops.original_position() as u32,
        osr: None,
        try_scopes: Vec::new(),
    };
    if let Some(state) = osr {
        // The entry goes to the loop; the function's own start is a block
        // nothing jumps to.
        let slots = t.b.block_params(entry)[1];
        let osr_block = t.b.create_block();
        t.b.ins().jump(osr_block, &[]);
        let start = t.b.create_block();
        t.b.switch_to_block(start);
        t.osr = Some((state, osr_block, slots));
    }
    if env.epoch {
        t.check_epoch();
    }
    while !ops.eof() {
        t.offset = ops.original_position() as u32;
        t.b.set_srcloc(SourceLoc::new(t.offset));
        let op = ops.read()?;
        if t.osr.is_some_and(|(state, _, _)| state.offset == t.offset) {
            t.enter_at_loop(&op)?;
        }
        t.operator(op)?;
    }
    if t.osr.is_some() {
        bail!("the loop to enter at is not in function {index}");
    }
    t.b.seal_all_blocks();
    t.b.finalize();
    Ok(())
}

fn zero_of(b: &mut FunctionBuilder<'_>, t: Type) -> Value {
    match t {
        F32 => b.ins().f32const(0.0),
        F64 => b.ins().f64const(0.0),
        I8X16 => v128_const(b, 0),
        t => b.ins().iconst(t, 0),
    }
}

/// A `v128` constant.
pub(super) fn v128_const(b: &mut FunctionBuilder<'_>, v: u128) -> Value {
    let handle = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from(v.to_le_bytes().as_slice()));
    b.ins().vconst(I8X16, handle)
}

impl Translator<'_, '_> {
    /// At the loop the entry being compiled starts at (`translate`'s
    /// `osr`): the code before it and the entry both jump to a new block
    /// whose parameters are the operands, so that everything after it
    /// uses those and not values of the unreachable code before; the
    /// entry first loads the locals and operands from the interpreter
    /// frame. The loop's header follows, with its fuel charge and epoch
    /// check, as the interpreter, which stopped right before it, expects.
    fn enter_at_loop(&mut self, op: &Operator<'_>) -> Result<()> {
        let Some((state, osr_block, slots)) = self.osr.take() else {
            return Ok(());
        };
        let types: Vec<ValType> = self.stack.iter().map(|(_, t)| *t).collect();
        let matches = matches!(op, Operator::Loop { .. })
            && self.reachable
            && types.len() == state.stack.len()
            && types.iter().zip(&state.stack[..]).all(|(a, (_, b))| a == b);
        if !matches {
            bail!("the interpreter's loop state does not match the code");
        }
        let merge = self.block_with(&types);
        let values = self.top(types.len());
        self.b.ins().jump(merge, &block_args(&values));
        self.b.switch_to_block(osr_block);
        let mut cell = 0_u64;
        for i in 0..self.locals.len() {
            let (var, ty) = self.locals[i];
            let at = i32::try_from(cell * 8)?;
            let v = self.b.ins().load(clif_type(ty), cell_flags(), slots, at);
            self.b.def_var(var, v);
            cell += ty.cells() as u64;
        }
        let mut loaded = Vec::with_capacity(types.len());
        for &(slot, ty) in &state.stack[..] {
            let at = i32::try_from(u64::from(slot) * 8)?;
            loaded.push(self.b.ins().load(clif_type(ty), cell_flags(), slots, at));
        }
        self.b.ins().jump(merge, &block_args(&loaded));
        self.stack.clear();
        self.start(merge, &types);
        Ok(())
    }

    pub(super) fn pop_typed(&mut self) -> (Value, ValType) {
        self.stack
            .pop()
            .unwrap_or_else(|| unreachable!("validated: stack underflow"))
    }
    pub(super) fn pop(&mut self) -> Value {
        self.pop_typed().0
    }
    pub(super) fn pop2(&mut self) -> (Value, Value) {
        let y = self.pop();
        let x = self.pop();
        (x, y)
    }
    pub(super) fn push(&mut self, v: Value, ty: ValType) {
        self.declare_gc_ref(v, ty);
        self.stack.push((v, ty));
    }
    /// Pushes `values`, of `types`.
    pub(super) fn push_all(&mut self, values: &[Value], types: &[ValType]) {
        for (v, ty) in values.iter().zip(types) {
            self.declare_gc_ref(*v, *ty);
        }
        self.stack
            .extend(values.iter().copied().zip(types.iter().copied()));
    }
    /// The values of the top `n` operands.
    pub(super) fn top(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len() - n..]
            .iter()
            .map(|(v, _)| *v)
            .collect()
    }

    fn block_with(&mut self, types: &[ValType]) -> Block {
        let block = self.b.create_block();
        for t in types {
            self.b.append_block_param(block, clif_type(*t));
        }
        block
    }

    /// Starts `block`, whose parameters (of `types`) are now the stack's
    /// top values.
    pub(super) fn start(&mut self, block: Block, types: &[ValType]) {
        self.b.switch_to_block(block);
        let params = self.b.block_params(block).to_vec();
        self.push_all(&params, types);
    }

    fn trap(&mut self, trap: Trap) {
        self.b.ins().trap(user_trap(trap));
    }

    pub(super) fn trap_if(&mut self, cond: Value, trap: Trap) {
        self.b.ins().trapnz(cond, user_trap(trap));
    }

    pub(super) fn load_vm(&mut self, ty: Type, base: Value, offset: usize) -> Value {
        self.b.ins().load(ty, vm_flags(), base, offset as i32)
    }

    /// A load of runtime data that never changes while the code runs.
    /// Cranelift keeps it where it is: see [`Translator::load_static`].
    pub(super) fn load_ro(&mut self, ty: Type, base: Value, offset: usize) -> Value {
        self.b
            .ins()
            .load(ty, vm_flags().with_readonly(), base, offset as i32)
    }

    /// A read-only load (as [`Translator::load_ro`]) that is valid
    /// anywhere in the function, because `base` is the context or a
    /// pointer read from it at a constant offset (never an address that a
    /// check guards): it may move, so Cranelift shares it between uses,
    /// hoists it out of loops and drops it when unused.
    pub(super) fn load_static(&mut self, ty: Type, base: Value, offset: usize) -> Value {
        self.b.ins().load(ty, static_flags(), base, offset as i32)
    }

    fn check_epoch(&mut self) {
        let epoch_ptr = self.load_vm(I64, self.limits, offset_of!(VMRuntimeLimits, epoch));
        let epoch = self.load_vm(I64, epoch_ptr, 0);
        let deadline = self.load_vm(
            I64,
            self.limits,
            offset_of!(VMRuntimeLimits, epoch_deadline),
        );
        let passed = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        // Past the deadline, the store decides (`helpers::epoch_reached`):
        // go on, or fail (the `Interrupt` trap without a callback).
        let reached = self.b.create_block();
        let go_on = self.b.create_block();
        self.b.ins().brif(passed, reached, &[], go_on, &[]);
        self.b.set_cold_block(reached);
        self.b.switch_to_block(reached);
        self.b.seal_block(reached);
        let fp = self.b.ins().get_frame_pointer(I64);
        let func = self.b.ins().iconst(I32, i64::from(self.func_index));
        let offset = self.b.ins().iconst(I32, i64::from(self.offset));
        self.builtin_status(offset_of!(Builtins, epoch_reached), &[fp, func, offset]);
        self.b.ins().jump(go_on, &[]);
        self.b.switch_to_block(go_on);
        self.b.seal_block(go_on);
    }

    /// Emits the fuel charge of a new region with a placeholder amount,
    /// patched when the region ends.
    fn start_fuel_region(&mut self) -> cranelift_codegen::ir::Inst {
        let amount = self.b.ins().iconst(I64, 0);
        let inst = self.b.func.dfg.value_def(amount).unwrap_inst();
        let off = offset_of!(VMRuntimeLimits, fuel);
        let fuel = self.load_vm(I64, self.limits, off);
        let short = self.b.ins().icmp(IntCC::UnsignedLessThan, fuel, amount);
        self.trap_if(short, Trap::OutOfFuel);
        let left = self.b.ins().isub(fuel, amount);
        self.b
            .ins()
            .store(vm_flags(), left, self.limits, off as i32);
        inst
    }

    fn end_fuel_region(&mut self) {
        if let Some((inst, amount)) = self.fuel_region.take() {
            self.b.func.dfg.replace(inst).iconst(I64, i64::from(amount));
        }
    }

    fn operator(&mut self, op: Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        if !self.env.fuel {
            return self.translate(op);
        }
        let cost = fuel::cost(&op);
        let ends = fuel::ends_region(&op);
        if cost > 0 {
            let (inst, amount) = match self.fuel_region {
                Some(r) => r,
                None => (self.start_fuel_region(), 0),
            };
            self.fuel_region = Some((inst, amount.saturating_add(cost)));
        }
        if ends {
            // Patch before translating: the region's code is all emitted.
            self.end_fuel_region();
        }
        self.translate(op)
    }

    /// Skips dead code, tracking only the nesting that ends it.
    fn unreachable_operator(&mut self, op: Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => {
                self.end_fuel_region();
                self.translate(op)?;
            }
            Operator::Catch { .. } | Operator::CatchAll if self.dead_depth == 0 => {
                self.end_fuel_region();
                self.translate(op)?;
            }
            Operator::End | Operator::Delegate { .. } if self.dead_depth > 0 => {
                self.dead_depth -= 1
            }
            Operator::Delegate { .. } => {
                self.end_fuel_region();
                self.translate(op)?;
            }
            Operator::End => {
                self.end_fuel_region();
                self.translate(op)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Jumps to the branch target of the construct `depth` levels out.
    pub(super) fn branch_target(&mut self, depth: u32) -> (Block, Vec<Value>) {
        let i = self.ctrl.len() - 1 - depth as usize;
        let frame = &mut self.ctrl[i];
        if !matches!(frame.kind, Kind::Loop) {
            frame.next_reachable = true;
        }
        let (target, n) = (frame.target, frame.branch_arity());
        (target, self.branch_args(i, self.top(n)))
    }

    fn translate(&mut self, op: Operator<'_>) -> Result<()> {
        use Operator as O;
        match op {
            O::Unreachable => {
                self.trap(Trap::UnreachableCodeReached);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let BlockSignature { params, results } = self.env.module.block_type(blockty)?;
                let next = self.block_with(&results);
                let height = self.stack.len() - params.len();
                self.ctrl
                    .push(Ctrl::forward(Kind::Block, next, params, results, height));
            }
            O::Loop { blockty } => {
                let BlockSignature { params, results } = self.env.module.block_type(blockty)?;
                let next = self.block_with(&results);
                let height = self.stack.len() - params.len();
                // Before an on-stack-replacement entry, the header takes
                // every operand (see `Ctrl::carried`).
                let carried = if self.osr.is_some() { height } else { 0 };
                let types: Vec<ValType> = self.stack[height - carried..]
                    .iter()
                    .map(|(_, t)| *t)
                    .collect();
                let header = self.block_with(&types);
                let args = self.top(types.len());
                self.b.ins().jump(header, &block_args(&args));
                self.stack.truncate(height - carried);
                self.start(header, &types);
                self.ctrl.push(Ctrl {
                    kind: Kind::Loop,
                    next,
                    target: header,
                    params,
                    results,
                    height,
                    next_reachable: false,
                    carried,
                });
                if self.env.epoch {
                    self.check_epoch();
                }
            }
            O::If { blockty } => {
                let cond = self.pop();
                let BlockSignature { params, results } = self.env.module.block_type(blockty)?;
                let then_block = self.b.create_block();
                let else_block = self.block_with(&params);
                let next = self.block_with(&results);
                let args = self.top(params.len());
                self.b
                    .ins()
                    .brif(cond, then_block, &[], else_block, &block_args(&args));
                self.b.switch_to_block(then_block);
                let height = self.stack.len() - params.len();
                let kind = Kind::If {
                    else_block: Some(else_block),
                };
                self.ctrl
                    .push(Ctrl::forward(kind, next, params, results, height));
            }
            O::Else => {
                let frame = self
                    .ctrl
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("validated"));
                let Kind::If { else_block } = &mut frame.kind else {
                    unreachable!("validated: else outside if")
                };
                let else_block = else_block
                    .take()
                    .unwrap_or_else(|| unreachable!("validated"));
                let (next, n, height) = (frame.next, frame.results.len(), frame.height);
                let params = frame.params.clone();
                if self.reachable {
                    frame.next_reachable = true;
                    let args = self.top(n);
                    self.b.ins().jump(next, &block_args(&args));
                }
                self.stack.truncate(height);
                self.start(else_block, &params);
                self.reachable = true;
            }
            O::End => {
                let frame = self.ctrl.pop().unwrap_or_else(|| unreachable!("validated"));
                if matches!(frame.kind, Kind::TryTable) {
                    self.try_scopes.pop();
                }
                let mut next_reachable = frame.next_reachable;
                if self.reachable {
                    next_reachable = true;
                    let args = self.top(frame.results.len());
                    self.b.ins().jump(frame.next, &block_args(&args));
                }
                if let Kind::Try(legacy) = &frame.kind {
                    self.finish_legacy_try(legacy);
                }
                self.stack.truncate(frame.height);
                if let Kind::If {
                    else_block: Some(else_block),
                } = frame.kind
                {
                    // No `else`: the parameters pass through as results.
                    self.b.switch_to_block(else_block);
                    let params = self.b.block_params(else_block).to_vec();
                    self.b.ins().jump(frame.next, &block_args(&params));
                    next_reachable = true;
                }
                self.start(frame.next, &frame.results);
                self.reachable = next_reachable;
                if self.ctrl.is_empty() {
                    if self.reachable {
                        let results = self.top(frame.results.len());
                        self.b.ins().return_(&results);
                    }
                    self.reachable = false;
                }
            }
            O::Br { relative_depth } => {
                let (target, args) = self.branch_target(relative_depth);
                self.b.ins().jump(target, &block_args(&args));
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, args) = self.branch_target(relative_depth);
                let cont = self.b.create_block();
                self.b
                    .ins()
                    .brif(cond, target, &block_args(&args), cont, &[]);
                self.b.switch_to_block(cont);
            }
            O::BrTable { targets } => {
                let index = self.pop();
                let mut calls = Vec::new();
                for depth in targets.targets() {
                    let (target, args) = self.branch_target(depth?);
                    calls.push(self.b.func.dfg.block_call(target, &block_args(&args)));
                }
                let (target, args) = self.branch_target(targets.default());
                let default = self.b.func.dfg.block_call(target, &block_args(&args));
                let jt = self
                    .b
                    .create_jump_table(JumpTableData::new(default, &calls));
                self.b.ins().br_table(index, jt);
                self.reachable = false;
            }
            O::Return => {
                let args = self.top(self.ctrl[0].results.len());
                self.b.ins().return_(&args);
                self.reachable = false;
            }
            O::Call { function_index } => self.call(function_index, false)?,
            O::TryTable { try_table } => self.try_table(try_table)?,
            O::Throw { tag_index } => self.throw(tag_index),
            O::ThrowRef => self.throw_ref(),
            O::Try { blockty } => self.legacy_try(blockty)?,
            O::Catch { tag_index } => self.legacy_catch(Some(tag_index)),
            O::CatchAll => self.legacy_catch(None),
            O::Delegate { relative_depth } => {
                if let Some(Ctrl {
                    kind: Kind::Try(legacy),
                    ..
                }) = self.ctrl.last_mut()
                {
                    legacy.delegate = Some(relative_depth);
                }
                self.translate(O::End)?;
            }
            O::Rethrow { relative_depth } => self.legacy_rethrow(relative_depth),
            O::ReturnCall { function_index } => {
                self.call(function_index, true)?;
                self.reachable = false;
            }
            O::CallIndirect {
                type_index,
                table_index,
            }
            | O::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                let tail = matches!(op, O::ReturnCallIndirect { .. });
                let index = self.pop();
                let entry = self.table_entry(table_index, index);
                let raw = self.b.ins().load(I64, vm_flags(), entry, 0);
                let f = self.deref_func(raw, Trap::IndirectCallToNull);
                let entry = self.store_entry(f);
                self.call_entry(entry, type_index, true, tail);
                if tail {
                    self.reachable = false;
                }
            }
            O::CallRef { type_index } | O::ReturnCallRef { type_index } => {
                let tail = matches!(op, O::ReturnCallRef { .. });
                let r = self.pop();
                let f = self.deref_func(r, Trap::NullFunctionReference);
                let entry = self.store_entry(f);
                self.call_entry(entry, type_index, false, tail);
                if tail {
                    self.reachable = false;
                }
            }
            O::RefAsNonNull => {
                let (v, ty) = self.pop_typed();
                let is_null = self.b.ins().icmp_imm(IntCC::Equal, v, 0);
                self.trap_if(is_null, Trap::NullReference);
                self.push(v, ty.non_null());
            }
            O::BrOnNull { relative_depth } => {
                // Branch without the reference when it is null; otherwise
                // it stays, known to be non-null.
                let (v, ty) = self.pop_typed();
                let (target, args) = self.branch_target(relative_depth);
                let cont = self.b.create_block();
                self.b.ins().brif(v, cont, &[], target, &block_args(&args));
                self.b.switch_to_block(cont);
                self.push(v, ty.non_null());
            }
            O::BrOnNonNull { relative_depth } => {
                // Branch with the reference when it is not null; otherwise
                // drop it.
                let v = self.top(1)[0];
                let (target, args) = self.branch_target(relative_depth);
                let cont = self.b.create_block();
                self.b.ins().brif(v, target, &block_args(&args), cont, &[]);
                self.b.switch_to_block(cont);
                self.pop();
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let cond = self.pop();
                let y = self.pop();
                let (x, ty) = self.pop_typed();
                let v = self.b.ins().select(cond, x, y);
                self.push(v, ty);
            }
            O::LocalGet { local_index } => {
                let (var, ty) = self.locals[local_index as usize];
                let v = self.b.use_var(var);
                self.push(v, ty);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            O::LocalTee { local_index } => {
                let (v, _) = *self
                    .stack
                    .last()
                    .unwrap_or_else(|| unreachable!("validated"));
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            O::GlobalGet { global_index } => {
                let ty = self.env.module.globals[global_index as usize].content();
                let g = self.global(global_index);
                // A `v128` is the global's 16 bytes, `bits` then `high`.
                let v = self.b.ins().load(
                    clif_type(ty),
                    vm_flags(),
                    g,
                    offset_of!(VMGlobal, bits) as i32,
                );
                self.push(v, ty);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let g = self.global(global_index);
                let raw = self.raw(v);
                self.b
                    .ins()
                    .store(vm_flags(), raw, g, offset_of!(VMGlobal, bits) as i32);
            }
            O::MemorySize { mem } => {
                let (vmmem, _) = self.memory(mem);
                let len = self.load_vm(I64, vmmem, offset_of!(VMMemory, len));
                let log2 = self.env.module.memories[mem as usize].page_size_log2();
                let pages = self.b.ins().ushr_imm(len, i64::from(log2));
                if self.memory_is_64(mem) {
                    self.push(pages, ValType::I64);
                } else {
                    let pages = self.b.ins().ireduce(I32, pages);
                    self.push(pages, ValType::I32);
                }
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.widen(delta);
                let m = self.b.ins().iconst(I32, i64::from(mem));
                let is_64 = self.memory_is_64(mem);
                self.grow(offset_of!(Builtins, memory_grow), &[m, delta], is_64);
            }
            O::MemoryFill { mem } => {
                let len = self.pop();
                let (dst, value) = self.pop2();
                let m = self.b.ins().iconst(I32, i64::from(mem));
                let args = [m, self.widen(dst), self.widen(value), self.widen(len)];
                self.builtin_status(offset_of!(Builtins, memory_fill), &args);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let len = self.pop();
                let (dst, src) = self.pop2();
                let dm = self.b.ins().iconst(I32, i64::from(dst_mem));
                let sm = self.b.ins().iconst(I32, i64::from(src_mem));
                let args = [dm, sm, self.widen(dst), self.widen(src), self.widen(len)];
                self.builtin_status(offset_of!(Builtins, memory_copy), &args);
            }
            O::MemoryInit { data_index, mem } => {
                let len = self.pop();
                let (dst, src) = self.pop2();
                let m = self.b.ins().iconst(I32, i64::from(mem));
                let seg = self.b.ins().iconst(I32, i64::from(data_index));
                let args = [m, seg, self.widen(dst), self.widen(src), self.widen(len)];
                self.builtin_status(offset_of!(Builtins, memory_init), &args);
            }
            O::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(I32, i64::from(data_index));
                self.builtin_status(offset_of!(Builtins, data_drop), &[seg]);
            }
            O::TableGet { table } => {
                let index = self.pop();
                let entry = self.table_entry(table, index);
                let v = self.b.ins().load(I64, vm_flags(), entry, 0);
                let ty = ValType::Ref(self.env.module.tables[table as usize].element());
                self.push(v, ty);
            }
            O::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                let entry = self.table_entry(table, index);
                self.b.ins().store(vm_flags(), value, entry, 0);
            }
            O::TableSize { table } => {
                let vmtable = self.table(table);
                let len = self.load_vm(I64, vmtable, offset_of!(VMTable, len));
                if self.env.module.tables[table as usize].is_64() {
                    self.push(len, ValType::I64);
                } else {
                    let len = self.b.ins().ireduce(I32, len);
                    self.push(len, ValType::I32);
                }
            }
            O::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let t = self.b.ins().iconst(I32, i64::from(table));
                let delta = self.widen(delta);
                let is_64 = self.env.module.tables[table as usize].is_64();
                self.grow(offset_of!(Builtins, table_grow), &[t, delta, init], is_64);
            }
            O::TableFill { table } => {
                let len = self.pop();
                let (dst, value) = self.pop2();
                let t = self.b.ins().iconst(I32, i64::from(table));
                let args = [t, self.widen(dst), value, self.widen(len)];
                self.builtin_status(offset_of!(Builtins, table_fill), &args);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let len = self.pop();
                let (dst, src) = self.pop2();
                let dt = self.b.ins().iconst(I32, i64::from(dst_table));
                let st = self.b.ins().iconst(I32, i64::from(src_table));
                let args = [dt, st, self.widen(dst), self.widen(src), self.widen(len)];
                self.builtin_status(offset_of!(Builtins, table_copy), &args);
            }
            O::TableInit { elem_index, table } => {
                let len = self.pop();
                let (dst, src) = self.pop2();
                let t = self.b.ins().iconst(I32, i64::from(table));
                let seg = self.b.ins().iconst(I32, i64::from(elem_index));
                let args = [t, seg, self.widen(dst), self.widen(src), self.widen(len)];
                self.builtin_status(offset_of!(Builtins, table_init), &args);
            }
            O::ElemDrop { elem_index } => {
                let seg = self.b.ins().iconst(I32, i64::from(elem_index));
                self.builtin_status(offset_of!(Builtins, elem_drop), &[seg]);
            }
            O::RefNull { hty } => {
                let heap = self.env.module.heap_type(hty)?;
                let v = self.b.ins().iconst(I64, 0);
                self.push(v, ValType::Ref(RefType::new(true, heap)));
            }
            O::RefFunc { function_index } => {
                let f = self.store_func_index(function_index);
                let f = self.b.ins().uextend(I64, f);
                let v = self.b.ins().iadd_imm(f, 1);
                let m = self.env.module;
                let heap = HeapType::ConcreteFunc(m.type_id(m.funcs[function_index as usize]));
                self.push(v, ValType::Ref(RefType::new(false, heap)));
            }
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, i64::from(value));
                self.push(v, ValType::I32);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v, ValType::I64);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(f32::from_bits(value.bits()));
                self.push(v, ValType::F32);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(f64::from_bits(value.bits()));
                self.push(v, ValType::F64);
            }
            O::V128Const { value } => {
                let v = v128_const(&mut self.b, value.i128() as u128);
                self.push(v, ValType::V128);
            }
            op => {
                if !self.numeric(&op)?
                    && !self.simd(&op)?
                    && !self.wide(&op)?
                    && !self.atomic(&op)?
                    && !self.gc(&op)?
                {
                    bail!("the JIT tier does not support {op:?} yet");
                }
            }
        }
        Ok(())
    }
}
