//! Compiling functions with Cranelift into a [`CodeImage`]: the machine
//! code of any subset of a module's functions and their trampolines,
//! compiled on several threads when there are enough of them.

use super::image::{libcall_index, reloc_kind, CodeImage, CompiledFunc, RelocTarget, StackMap};
use super::{abi, signals, translate};
use crate::module::ModuleInfo;
use crate::runtime::tiering::LoopState;
use anyhow::{anyhow, bail, Context as _, Result};
use cranelift_codegen::ir::{ExternalName, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::FinalizedRelocTarget;
use cranelift_frontend::FunctionBuilderContext;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The host's Cranelift target, with Strata's settings (built once).
pub(crate) fn isa() -> Result<&'static OwnedTargetIsa> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(build_isa)
        .as_ref()
        .map_err(|e| anyhow!("{e}"))
}

fn build_isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| format!("cranelift setting {name}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    // Backtraces walk frame pointers.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    // Functions may return more values than fit in registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    set(&mut flags, "enable_verifier", verify)?;
    let builder = cranelift_native::builder()
        .map_err(|e| format!("the JIT tier does not support this host: {e}"))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("the JIT tier does not support this host: {e}"))
}

/// What the code Cranelift makes for this host depends on: the target,
/// the shared settings and the host CPU's features, one `name=value` per
/// line. Part of the configuration fingerprint of artifacts and cache keys.
pub(crate) fn target_description() -> Result<String> {
    let isa = isa()?;
    let mut s = format!("target={}\n", isa.triple());
    for v in isa.flags().iter() {
        s.push_str(&format!("cranelift.{v}\n"));
    }
    for v in isa.isa_flags() {
        s.push_str(&format!("cpu.{v}\n"));
    }
    Ok(s)
}

/// Compiles defined functions `funcs` of `m` (each with its array-call
/// trampoline) into one image. Calls to functions outside `funcs` go
/// through their entries with a check for native code, so the image is
/// correct whatever tier those functions are in.
pub(crate) fn compile_image(m: &ModuleInfo, funcs: &[usize]) -> Result<CodeImage> {
    let mut compiled = vec![false; m.bodies.len()];
    for &i in funcs {
        match compiled.get_mut(i) {
            Some(c) => *c = true,
            None => bail!("function {i} is not a defined function of the module"),
        }
    }
    compile_parts(m, funcs, &[], &compiled)
}

/// What one compilation job produces.
#[derive(Clone, Copy)]
enum Job {
    /// Defined function `i`'s native code, or its array-call trampoline.
    Native(usize),
    Trampoline(usize),
    /// Loop entry `k` of the request, or its trampoline.
    Loop(usize),
    LoopTrampoline(usize),
}

/// Compiles defined functions `funcs` of `m` and, for tiered execution,
/// the entries `loops` (defined function, state at the loop; see
/// `translate::translate`) into one image. Calls to a function whose flag
/// in `compiled` is set go straight to its native code through its entry:
/// it is in this image or was published before it.
pub(crate) fn compile_parts(
    m: &ModuleInfo,
    funcs: &[usize],
    loops: &[(usize, &LoopState)],
    compiled: &[bool],
) -> Result<CodeImage> {
    let isa = isa()?;
    let host_call_conv = isa.default_call_conv();
    let config = m.engine.config();
    if let Some(&i) = funcs
        .iter()
        .chain(loops.iter().map(|(i, _)| i))
        .find(|&&i| i >= m.bodies.len())
    {
        bail!("function {i} is not a defined function of the module");
    }
    let mut in_image = vec![false; m.bodies.len()];
    for &i in funcs {
        in_image[i] = true;
    }
    let env = translate::Env {
        module: m,
        compiled,
        in_image: &in_image,
        host_call_conv,
        fuel: config.consume_fuel,
        epoch: config.epoch_interruption,
        explicit_bounds: !config.memory_guard_pages,
        relaxed_deterministic: config.relaxed_simd_deterministic,
    };
    let jobs: Vec<Job> = funcs
        .iter()
        .flat_map(|&i| [Job::Native(i), Job::Trampoline(i)])
        .chain((0..loops.len()).flat_map(|k| [Job::Loop(k), Job::LoopTrampoline(k)]))
        .collect();

    // Compile functions (and their trampolines) on every core when there
    // are enough to be worth it.
    let threads = if jobs.len() < 64 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    };
    let next = AtomicUsize::new(0);
    let worker = || -> Result<Vec<(usize, CompiledFunc)>> {
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(&job) = jobs.get(at) else {
                return Ok(done);
            };
            let (i, namespace, name, loop_entry) = match job {
                Job::Native(i) => (i, abi::NATIVE_NAMESPACE, i as u32, None),
                Job::Trampoline(i) => (i, abi::TRAMPOLINE_NAMESPACE, i as u32, None),
                Job::Loop(k) => (loops[k].0, abi::LOOP_NAMESPACE, k as u32, Some(k as u32)),
                Job::LoopTrampoline(k) => (
                    loops[k].0,
                    abi::LOOP_TRAMPOLINE_NAMESPACE,
                    k as u32,
                    Some(k as u32),
                ),
            };
            let trampoline = matches!(job, Job::Trampoline(_) | Job::LoopTrampoline(_));
            let index = m.num_imported_funcs + i as u32;
            ctx.clear();
            ctx.func.name = UserFuncName::user(namespace, name);
            let ty = m.func_type(index);
            match job {
                Job::Native(_) | Job::Loop(_) => {
                    let state = match job {
                        Job::Loop(k) => Some(loops[k].1),
                        _ => None,
                    };
                    let body = m.body(i);
                    translate::translate(&env, &mut fctx, &mut ctx.func, index, &body, state)
                        .with_context(|| format!("failed to compile function {index}"))?;
                }
                Job::Trampoline(_) | Job::LoopTrampoline(_) => {
                    let osr = matches!(job, Job::LoopTrampoline(_));
                    abi::trampoline(&mut fctx, &mut ctx.func, ty, (name, osr), host_call_conv);
                }
            }
            ctx.compile(&**isa, &mut Default::default())
                .map_err(|e| anyhow!("failed to compile function {index}: {:?}", e.inner))?;
            let Some(code) = ctx.compiled_code() else {
                bail!("failed to compile function {index}");
            };
            let mut relocs = Vec::new();
            for r in code.buffer.relocs() {
                let target = match &r.target {
                    FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                        let name = &ctx.func.params.user_named_funcs()[*name];
                        match name.namespace {
                            abi::NATIVE_NAMESPACE => RelocTarget::Native(name.index),
                            abi::LOOP_NAMESPACE => RelocTarget::LoopEntry(name.index),
                            _ => bail!("function {index} refers to an unknown function"),
                        }
                    }
                    FinalizedRelocTarget::ExternalName(ExternalName::LibCall(call)) => {
                        RelocTarget::LibCall(libcall_index(*call)?)
                    }
                    other => bail!(
                        "compiled code of function {index} refers to an unsupported symbol \
                         ({other:?})"
                    ),
                };
                relocs.push((r.offset, reloc_kind(r.kind)?, target, r.addend));
            }
            done.push((
                at,
                CompiledFunc {
                    defined: i as u32,
                    trampoline,
                    loop_entry,
                    alignment: code.buffer.alignment,
                    bytes: code.code_buffer().to_vec(),
                    relocs,
                    traps: code
                        .buffer
                        .traps()
                        .iter()
                        .map(|t| (t.offset, t.code))
                        .collect(),
                    srclocs: signals::SrcLocs::new(code.buffer.get_srclocs_sorted()),
                    call_sites: super::throw::call_sites(code.buffer.call_sites())
                        .with_context(|| format!("failed to compile function {index}"))?,
                    stack_maps: code
                        .buffer
                        .user_stack_maps()
                        .iter()
                        .map(|(at, frame_size, map)| StackMap {
                            at: *at,
                            frame_size: *frame_size,
                            slots: map.entries().map(|(_, offset)| offset).collect(),
                        })
                        .collect(),
                },
            ));
        }
    };
    let mut compiled: Vec<(usize, CompiledFunc)> = if threads == 1 {
        worker()?
    } else {
        let results: Vec<Result<Vec<(usize, CompiledFunc)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut all = Vec::with_capacity(jobs.len());
        for r in results {
            all.extend(r?);
        }
        all
    };
    // The same layout whatever thread compiled what, so an image (and a
    // cache entry) is reproducible.
    compiled.sort_by_key(|(job, _)| *job);
    CodeImage::build(compiled.into_iter().map(|(_, f)| f).collect())
}
