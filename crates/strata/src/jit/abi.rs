//! The calling conventions compiled code uses: value types, the native
//! signature of wasm functions, the array-call trampolines host-to-wasm
//! calls enter through, and the cell encoding of values
//! (`crate::types::raw`) in Cranelift IR.

use crate::types::{FuncType, ValType};
use cranelift_codegen::ir::types::{F32, F64, I32, I64, I8X16};
use cranelift_codegen::ir::{
    AbiParam, ArgumentPurpose, BlockArg, ExceptionTableData, ExceptionTableItem, ExtFuncData,
    ExternalName, FuncRef, Function, InstBuilder, MemFlags, Signature, Type, UserExternalName,
    Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// The Cranelift type of a wasm value; references are their 64-bit cell.
pub(crate) fn clif_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => I32,
        ValType::I64 => I64,
        ValType::F32 => F32,
        ValType::F64 => F64,
        ValType::V128 => I8X16,
        ValType::Ref(_) => I64,
    }
}

/// The calling convention of every compiled wasm function: Cranelift's
/// `tail`, which `return_call` needs (wasmtime uses it whether or not the
/// tail-call proposal is on). Trampolines and runtime helpers keep the
/// host's convention.
pub(crate) const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The native signature of a wasm function: `vmctx, params... -> results`.
pub(crate) fn native_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(WASM_CALL_CONV);
    sig.params
        .push(AbiParam::special(I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Flags for the runtime structures compiled code reads: never trapping,
/// aligned.
pub(crate) fn vm_flags() -> MemFlags {
    MemFlags::trusted()
}

/// Flags for cell buffers (arguments and results): never trapping, but
/// only 8-byte aligned, which a `v128`'s two cells may not be.
pub(crate) fn cell_flags() -> MemFlags {
    MemFlags::new().with_notrap()
}

/// A value in its cell encoding (`crate::types::raw`), ready to store: a
/// 64-bit cell, or for a `v128` its 16 bytes, which are its two cells.
pub(crate) fn to_raw(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    match b.func.dfg.value_type(v) {
        I32 => b.ins().uextend(I64, v),
        F32 => {
            let bits = b.ins().bitcast(I32, MemFlags::new(), v);
            b.ins().uextend(I64, bits)
        }
        F64 => b.ins().bitcast(I64, MemFlags::new(), v),
        _ => v,
    }
}

/// Imports the native code of defined function `id` (compiled into the
/// same code image) into `func`, for a direct (colocated) call.
pub(crate) fn import_func(
    func: &mut Function,
    (namespace, id): (u32, u32),
    sig: Signature,
) -> FuncRef {
    let signature = func.import_signature(sig);
    let name = func.declare_imported_user_function(UserExternalName {
        namespace,
        index: id,
    });
    func.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: true,
    })
}

/// The external-name namespaces of compiled code: a defined function's
/// native code (index: its defined index), its trampoline, a loop entry
/// (index: its number in the image) and a loop entry's trampoline.
pub(crate) const NATIVE_NAMESPACE: u32 = 0;
pub(crate) const TRAMPOLINE_NAMESPACE: u32 = 1;
pub(crate) const LOOP_NAMESPACE: u32 = 2;
pub(crate) const LOOP_TRAMPOLINE_NAMESPACE: u32 = 3;

/// The signature of every array-call trampoline: `(vmctx, values) ->
/// trapped`, 0 when the function returned, 1 when a trap unwound it.
pub(crate) fn trampoline_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    sig
}

/// The signature of a function's entry at one of its loops (on-stack
/// replacement): `vmctx, slots -> results`, where `slots` is the
/// interpreter frame whose locals and operands it takes over.
pub(crate) fn osr_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(WASM_CALL_CONV);
    sig.params
        .push(AbiParam::special(I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(I64));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Builds the array-call trampoline of function `id` of type `ty`:
/// `extern "C" fn(vmctx, values: *mut u64) -> u32`, which loads the
/// arguments from `values`, calls the function and stores its results
/// back there, returning 0. Host to wasm calls enter compiled code through
/// it. The call is a `try_call` with a catch-all handler that returns 1:
/// the trap handler (`signals.rs`) resumes there, discarding the compiled
/// frames of a trap. With `osr`, `id` is an entry
/// at a loop (`osr_signature`), which gets `values` itself: the
/// interpreter frame it continues.
pub(crate) fn trampoline(
    fctx: &mut FunctionBuilderContext,
    func: &mut Function,
    ty: &FuncType,
    (id, osr): (u32, bool),
    call_conv: CallConv,
) {
    func.signature = trampoline_signature(call_conv);
    let sig = if osr {
        osr_signature(ty)
    } else {
        native_signature(ty)
    };
    let namespace = if osr {
        LOOP_NAMESPACE
    } else {
        NATIVE_NAMESPACE
    };
    let callee = import_func(func, (namespace, id), sig);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (vmctx, values) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let mut args = vec![vmctx];
    if osr {
        args.push(values);
    } else {
        for (i, t) in ty.params().iter().enumerate() {
            let at = (ty.param_cell(i) * 8) as i32;
            args.push(b.ins().load(clif_type(*t), cell_flags(), values, at));
        }
    }
    let sig_ref = b.func.dfg.ext_funcs[callee].signature;
    let returned = b.create_block();
    let rets: Vec<BlockArg> = (0..ty.results().len())
        .map(|i| {
            b.append_block_param(returned, clif_type(ty.results()[i]));
            BlockArg::TryCallRet(i as u32)
        })
        .collect();
    let trapped = b.create_block();
    b.append_block_param(trapped, I64);
    b.set_cold_block(trapped);
    let normal = b.func.dfg.block_call(returned, &rets);
    let unwound = b.func.dfg.block_call(trapped, &[BlockArg::TryCallExn(0)]);
    let table = b.func.dfg.exception_tables.push(ExceptionTableData::new(
        sig_ref,
        normal,
        [ExceptionTableItem::Default(unwound)],
    ));
    b.ins().try_call(callee, &args, table);
    b.switch_to_block(returned);
    let results = b.block_params(returned).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        let raw = to_raw(&mut b, r);
        let at = (ty.result_cell(i) * 8) as i32;
        b.ins().store(cell_flags(), raw, values, at);
    }
    let ok = b.ins().iconst(I32, 0);
    b.ins().return_(&[ok]);
    b.switch_to_block(trapped);
    let failed = b.ins().iconst(I32, 1);
    b.ins().return_(&[failed]);
    b.seal_all_blocks();
    b.finalize();
}
