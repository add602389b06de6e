//! `strata run`: loads a module, instantiates it and calls an export.

use crate::diagnostics::{DebugOptions, GuestSampler, Profile};
use crate::limits::WasmOptions;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use strata::{Config, Engine, Extern, Func, Linker, Module, Store, Val, ValType};
use strata_wasi::threads::WasiThreadsCtx;
use strata_wasi::{I32Exit, SharedWasiCtx, WasiCtx};

/// The host state of a running program: one per thread, all clones of the
/// main thread's (so the WASI context is the same one everywhere).
#[derive(Clone)]
pub struct Host {
    /// Limits from `-W` (each thread's store counts its own).
    pub(crate) limits: strata::StoreLimits,
    /// What the guest reaches through WASI, shared by every thread.
    pub(crate) wasi: SharedWasiCtx,
    /// Spawns threads for `wasi::thread-spawn` (`-S threads=y`).
    pub(crate) threads: Option<Arc<WasiThreadsCtx<Host>>>,
}

/// Options of `strata run`. Options come before the module; everything after
/// the module is passed to it.
#[derive(Args)]
pub struct RunArgs {
    /// Call this export with ARGS and print its results, one per line.
    ///
    /// ARGS are the function's parameters (integers in decimal or 0x hex,
    /// floats); without --invoke a WASI program's `_start` runs.
    ///
    /// Example: strata run --invoke add add.wat 2 3
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Execution tier: `tiered`, `jit` or `interp`.
    ///
    /// `tiered` (the default where this build and host support the JIT)
    /// starts every function in the interpreter and compiles the hot ones
    /// in the background; `jit` compiles the whole module before it runs;
    /// `interp` interprets it and never maps executable memory.
    ///
    /// Example: strata run --tier interp prog.wasm
    #[arg(long, value_name = "TIER")]
    tier: Option<String>,
    /// Limits, proposals and unknown imports (`-W help` lists every KEY).
    ///
    /// Comma-separated or repeated.
    #[arg(short = 'W', value_name = "KEY=VALUE[,...]")]
    wasm: Vec<String>,
    /// Compiler and cache options: `cache=y|n`, `cache-dir=DIR`.
    ///
    /// Compiled code is cached by default in $XDG_CACHE_HOME/strata (else
    /// ~/.cache/strata), so later runs of the same module skip
    /// compilation. Comma-separated or repeated.
    ///
    /// Example: strata run -C cache=n prog.wasm
    #[arg(short = 'C', value_name = "KEY=VALUE[,...]")]
    codegen: Vec<String>,
    /// Allow running a precompiled module (`strata compile`'s `.cwasm`).
    ///
    /// Its machine code runs as it is, so only run artifacts you trust.
    #[arg(long)]
    allow_precompiled: bool,
    /// Give the guest the host directory HOST, named GUEST inside.
    ///
    /// GUEST is HOST when omitted; repeatable. The guest reaches nothing
    /// else of the host's file system.
    ///
    /// Example: strata run --dir ./data::/data --dir . prog.wasm
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Give the guest the environment variable NAME.
    ///
    /// With VALUE, or, when `=VALUE` is omitted, the host's value;
    /// repeatable. The guest sees no other variable.
    ///
    /// Example: strata run --env HOME=/data --env PATH prog.wasm
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    envs: Vec<String>,
    /// WASI options (`-S help` lists them).
    ///
    /// `tcplisten=ADDR` listens on ADDR and hands the guest the listening
    /// socket (the descriptor after the directories) for `sock_accept`.
    /// `threads=y` (with `-W threads=y`) provides wasi-threads'
    /// `wasi::thread-spawn`. Comma-separated or repeated.
    ///
    /// Example: strata run -S tcplisten=127.0.0.1:8080 server.wasm
    #[arg(short = 'S', value_name = "KEY=VALUE[,...]")]
    wasi: Vec<String>,
    /// Debugging options: `coredump=PATH` writes a core dump when wasm traps.
    ///
    /// The dump is a wasm module in the tool-conventions Coredump.md
    /// format: the frames with their code offsets (and locals where the
    /// tier knows them), the memories and the globals. Comma-separated or
    /// repeated.
    ///
    /// Example: strata run -D coredump=crash.core prog.wasm
    #[arg(short = 'D', value_name = "KEY=VALUE[,...]")]
    debug: Vec<String>,
    /// Profile the run: `perfmap`, `jitdump` or `guest[,PATH[,INTERVAL]]`.
    ///
    /// `perfmap` writes /tmp/perf-PID.map, naming each compiled function
    /// for `perf record`/`perf report`; `jitdump` writes jit-PID.dump in
    /// the current directory for `perf record -k mono` and `perf inject
    /// --jit`. Both describe compiled code, so the interpreter tier has
    /// nothing to write. `guest` samples the wasm call stack every
    /// INTERVAL (default 10ms) in any tier and writes a Firefox Profiler
    /// profile to PATH (default strata-guest-profile.json), which
    /// profiler.firefox.com opens.
    ///
    /// Example: strata run --profile=guest,prof.json,1ms prog.wasm
    #[arg(long, value_name = "STRATEGY")]
    profile: Option<String>,
    /// The module (`.wasm` or `.wat`), then its arguments.
    ///
    /// The arguments are the program's argv after the module name, or the
    /// invoked function's parameters. Everything after the module belongs
    /// to it, options included: `strata run prog.wasm --dir .` passes
    /// `--dir .` to the program.
    ///
    /// Example: strata run prog.wasm input.txt --verbose
    #[arg(
        value_name = "MODULE [ARGS]...",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    module_and_args: Vec<String>,
}

/// What `strata run --help` adds to each option's own text: the `-W`
/// keys and proposals, computed from the tables that parse them.
pub fn augment_help(command: clap::Command) -> clap::Command {
    command
        .mut_arg("codegen", |arg| arg.long_help(crate::compile::help()))
        .mut_arg("wasm", |arg| {
            let keys = crate::limits::OPTIONS
                .iter()
                .map(|(key, value, what)| format!("  {key}={value}: {what}"))
                .collect::<Vec<_>>()
                .join("\n");
            let proposals = strata::Config::feature_names()
                .collect::<Vec<_>>()
                .join(", ");
            arg.long_help(format!(
                "Limits, proposals and unknown imports; comma-separated or repeated \
                 (`-W help` prints this list).\n\n{keys}\n  NAME=y|n: switch a WebAssembly \
                 proposal on or off; NAME is one of {proposals}. A bare switch means y.\n\n\
                 Example: strata run -W fuel=1000000,timeout=2s -W unknown-imports-trap=y prog.wasm"
            ))
        })
        .after_long_help(
            "Examples:\n  \
             strata run prog.wasm arg1 arg2          run a WASI program with two arguments\n  \
             strata prog.wasm arg1 arg2              the same (`run` is the default command)\n  \
             strata run --invoke add add.wat 2 3     call an export and print its results\n  \
             strata run --dir . -W timeout=5s prog.wasm\n\n\
             Options go before the module: what follows it is passed to the module.",
        )
}

/// What `-S help` prints.
pub const WASI_HELP: &str = "Options of -S (comma-separated or repeated):\n\n  \
    -S tcplisten=ADDR    listen on ADDR and hand the guest the listening socket \
    (the descriptor after the directories)\n  \
    -S threads=y|n       provide wasi-threads (`wasi::thread-spawn`) to programs built for \
    wasm32-wasip1-threads; needs -W threads=y (at most -W max-threads=N threads at once)\n\n\
    Example: strata run -S tcplisten=127.0.0.1:8080 server.wasm\n\
    Example: strata run -W threads=y -S threads=y threaded.wasm\n";

/// A hint for arguments after the module that look like options of
/// `strata run` (`--dir`, `-W fuel=10`, `--env=X`...): they went to the
/// guest, and the user may have meant them for Strata. `None` when there
/// are none.
pub fn misplaced_options(args: &RunArgs) -> Option<String> {
    use clap::Args;
    let command = RunArgs::augment_args(clap::Command::new("run"));
    let mut names: Vec<String> = Vec::new();
    for arg in command.get_arguments().filter(|a| !a.is_positional()) {
        names.extend(arg.get_long().map(|l| format!("--{l}")));
        names.extend(arg.get_short().map(|s| format!("-{s}")));
    }
    let mut found: Vec<&str> = Vec::new();
    for guest_arg in args.module_and_args.iter().skip(1) {
        let matched = names.iter().find(|name| {
            guest_arg == *name
                || guest_arg.strip_prefix(name.as_str()).is_some_and(|rest| {
                    // `--dir=.`, or a short option with its value attached
                    // (`-Wfuel=10`).
                    rest.starts_with('=') || (!name.starts_with("--") && !rest.is_empty())
                })
        });
        if let Some(name) = matched {
            if !found.contains(&name.as_str()) {
                found.push(name);
            }
        }
    }
    let quoted: Vec<String> = found.iter().map(|n| format!("`{n}`")).collect();
    let (list, them) = match quoted.split_last() {
        Some((last, [])) => (last.clone(), "it"),
        Some((last, rest)) => (format!("{} and {last}", rest.join(", ")), "them"),
        None => return None,
    };
    let arguments = if them == "it" {
        "an argument"
    } else {
        "arguments"
    };
    Some(format!(
        "hint: {list} came after the module, so the module got {them} as {arguments}; \
         to give {them} to strata, put {them} before the module: \
         strata run [OPTIONS] <MODULE> [ARGS]..."
    ))
}

/// Runs the module as `args` describe.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let (module_path, guest_args) = args
        .module_and_args
        .split_first()
        .ok_or_else(|| anyhow!("no module given"))?;
    if args.wasm.iter().any(|w| w == "help") {
        print!("{}", crate::limits::help());
        return Ok(ExitCode::SUCCESS);
    }
    if args.wasi.iter().any(|w| w == "help") {
        print!("{WASI_HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let argv = guest_argv(module_path, args.invoke.is_some(), guest_args);
    let module_path = PathBuf::from(module_path);
    let tier = crate::parse_tier(args.tier.as_deref())?;
    let options = WasmOptions::parse(&args.wasm)?;
    let wasi_options = WasiOptions::parse(&args.wasi)?;
    if wasi_options.threads && !options.feature_enabled("threads") {
        bail!(
            "-S threads=y needs -W threads=y: wasi-threads runs on shared memory and atomics \
             (the threads proposal)"
        );
    }
    let debug = DebugOptions::parse(&args.debug)?;
    let profile = args.profile.as_deref().map(Profile::parse).transpose()?;
    let codegen = crate::compile::CodegenOptions::parse(&args.codegen)?;
    let mut config = Config::new();
    config.tier(tier);
    options.configure(&mut config);
    codegen.configure(&mut config);
    debug.configure(&mut config);
    if let Some(profile) = &profile {
        profile.configure(&mut config, tier);
    }
    let engine = Engine::new(&config)?;
    let module = load_module(&engine, &module_path, args.allow_precompiled)?;
    if tier == strata::Tier::Tiered && engine.cache_statistics().1 > 0 {
        fill_cache_in_background(&args.wasm, &args.codegen, &module_path);
    }
    let wasi = wasi_ctx(&args, &argv, &wasi_options)?;
    let mut store = Store::new(
        &engine,
        Host {
            limits: options.store_limits(),
            wasi: Arc::new(Mutex::new(wasi)),
            threads: None,
        },
    );
    store.limiter(|host| &mut host.limits);
    options.start(&mut store)?;
    let sampler = match &profile {
        Some(Profile::Guest { path, interval }) => Some(GuestSampler::start(
            &mut store,
            &module,
            &module_path,
            path,
            *interval,
            options.timeout(),
        )),
        _ => None,
    };
    let outcome = execute(
        &mut store,
        &engine,
        &module,
        &module_path,
        &args,
        guest_args,
        &options,
        &debug,
        wasi_options.threads,
    );
    // The profile covers the run whatever its outcome (a trap, an exit).
    if let Some(sampler) = sampler {
        sampler.finish(&mut store)?;
    }
    outcome
}

/// Loads the module at `path`: wasm or text, or, with
/// `allow_precompiled`, an artifact of `strata compile`.
/// A module that missed the compile cache starts interpreted under tiered
/// execution, and only its hot code is compiled; meanwhile a detached
/// `strata compile --fill-cache` with the same code-changing options
/// compiles all of it into the cache, so that the next run starts from
/// compiled code (the cache's writes are atomic, so runs racing to fill it
/// are safe). Best effort: if it cannot start, the next run misses too.
fn fill_cache_in_background(wasm: &[String], codegen: &[String], module: &std::path::Path) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["compile", "--fill-cache"]);
    for w in wasm {
        cmd.arg("-W").arg(w);
    }
    for c in codegen {
        cmd.arg("-C").arg(c);
    }
    // The child's standard input is a pipe this process never writes:
    // it reads end-of-file when this process exits, which is when it
    // starts compiling (`compile.rs`), so a short run never shares the
    // CPU with it.
    cmd.arg(module)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Ok(mut child) = cmd.spawn() {
        // Kept open until exit (the descriptor closes with the process).
        std::mem::forget(child.stdin.take());
    }
}

fn load_module(engine: &Engine, path: &std::path::Path, allow_precompiled: bool) -> Result<Module> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    if !Module::is_precompiled(&bytes) {
        // The bytes already read (a 1 MB module is not read twice).
        return Module::from_file_contents(engine, path, &bytes);
    }
    if !allow_precompiled {
        bail!(
            "running a precompiled module requires the `--allow-precompiled` flag (`{}` is one)",
            path.display()
        );
    }
    // SAFETY: the user vouched for the artifact with --allow-precompiled;
    // its header, checksum and configuration are checked before it runs.
    unsafe { Module::deserialize(engine, &bytes) }
        .with_context(|| format!("failed to load precompiled module `{}`", path.display()))
}

/// Links and instantiates `module` in `store` and runs its entry point or
/// the export `--invoke` names.
#[allow(clippy::too_many_arguments)]
fn execute(
    store: &mut Store<Host>,
    engine: &Engine,
    module: &Module,
    module_path: &std::path::Path,
    args: &RunArgs,
    guest_args: &[String],
    options: &WasmOptions,
    debug: &DebugOptions,
    threads: bool,
) -> Result<ExitCode> {
    let mut linker = Linker::new(engine); // Modules that import nothing from WASI never notice these.
    strata_wasi::add_to_linker_shared(&mut linker, |host: &Host| &host.wasi)?;
    if threads {
        crate::threads::define(&mut linker, module)?;
    }
    options.define_unknown_imports(&mut linker, module)?;
    let program = module_path.display().to_string();
    let instantiated = if threads {
        crate::threads::start(store, &linker, module, options)
            .and_then(|pre| pre.instantiate(&mut *store))
    } else {
        linker.instantiate(&mut *store, module)
    };
    let instance = match instantiated {
        Ok(instance) => instance,
        // A start function may already exit.
        Err(e) => match exit_status(&e) {
            Some(code) => return Ok(code),
            None => {
                debug.write_core_dump(store, &e, &program);
                return Err(e)
                    .with_context(|| format!("failed to instantiate `{}`", module_path.display()));
            }
        },
    };

    // With --invoke the arguments are the function's parameters; otherwise
    // they are the program's argv, which WASI already holds.
    let (name, func, params) = match &args.invoke {
        Some(name) => match instance.get_export(&*store, name) {
            Some(Extern::Func(f)) => (name.clone(), f, guest_args),
            Some(other) => bail!(
                "export `{name}` of `{}` is {}, not a function\n{}",
                module_path.display(),
                match other {
                    Extern::Memory(_) | Extern::SharedMemory(_) => "a memory",
                    Extern::Global(_) => "a global",
                    Extern::Table(_) => "a table",
                    Extern::Func(_) => "a function",
                    Extern::Tag(_) => "a tag",
                },
                export_list(module)
            ),
            None => bail!(
                "failed to find export `{name}` in `{}`\n{}",
                module_path.display(),
                export_list(module)
            ),
        },
        None => {
            let entry = ["_start", ""].into_iter().find_map(|n| {
                instance
                    .get_func(&*store, n)
                    .map(|f| (n.to_string(), f, &[][..]))
            });
            match entry {
                Some(entry) => entry,
                // A module without an entry point ran its start function
                // during instantiation; nothing more to do.
                None => return Ok(ExitCode::SUCCESS),
            }
        }
    };
    // A WASI reactor initialises itself in `_initialize` before any other
    // export may run, as wasmtime does.
    if name != "_initialize" {
        if let Some(init) = instance.get_func(&*store, "_initialize") {
            if let Err(e) = call(store, "_initialize", init, &[]) {
                debug.write_core_dump(store, &e, &program);
                return exit_status(&e).ok_or(e);
            }
        }
    }
    let results = match call(store, &name, func, params) {
        Ok(results) => results,
        Err(e) => {
            debug.write_core_dump(store, &e, &program);
            return exit_status(&e).ok_or(e);
        }
    };
    for value in results {
        println!("{}", format_val(&value));
    }
    Ok(ExitCode::SUCCESS)
}

/// The exit status a guest asked for with `proc_exit`, if `e` is that
/// (strata-wasi only makes `I32Exit`s of 0 to 125, so nothing is lost).
fn exit_status(e: &anyhow::Error) -> Option<ExitCode> {
    e.downcast_ref::<I32Exit>()
        .map(|exit| ExitCode::from(exit.0 as u8))
}

/// The guest's argv: the module as named on the command line, then the
/// arguments after it (with `--invoke` those are the function's, so argv
/// is the module alone).
fn guest_argv(module: &str, invoke: bool, guest_args: &[String]) -> Vec<String> {
    let mut argv = vec![module.to_string()];
    if !invoke {
        argv.extend(guest_args.iter().cloned());
    }
    argv
}

/// The options of `-S`.
#[derive(Default)]
struct WasiOptions {
    /// `tcplisten=ADDR`, in order.
    listen: Vec<String>,
    /// `threads=y`: provide wasi-threads.
    threads: bool,
}

impl WasiOptions {
    fn parse(args: &[String]) -> Result<WasiOptions> {
        let mut options = WasiOptions::default();
        for item in args
            .iter()
            .flat_map(|a| a.split(','))
            .filter(|i| !i.is_empty())
        {
            match item.split_once('=').unwrap_or((item, "y")) {
                ("tcplisten", addr) if item.contains('=') => options.listen.push(addr.to_string()),
                ("threads", value) => {
                    options.threads = match value {
                        "y" | "yes" | "true" => true,
                        "n" | "no" | "false" => false,
                        _ => bail!("invalid value `{value}` for -S threads; expected `y` or `n`"),
                    }
                }
                _ => bail!("unknown -S option `{item}`; expected: tcplisten=ADDR, threads=y|n"),
            }
        }
        Ok(options)
    }
}

/// The WASI context from `--dir`, `--env` and `-S`, with the standard
/// streams inherited.
fn wasi_ctx(args: &RunArgs, argv: &[String], wasi: &WasiOptions) -> Result<WasiCtx> {
    let mut builder = WasiCtx::builder().args(argv).inherit_stdio();
    for var in &args.envs {
        builder = match var.split_once('=') {
            Some((name, value)) => builder.env(name, value),
            None => match std::env::var_os(var) {
                Some(value) => {
                    use std::os::unix::ffi::OsStrExt;
                    builder.env(var, value.as_bytes())
                }
                // Nothing to inherit: the guest does not see the name.
                None => builder,
            },
        };
    }
    for spec in &args.dirs {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        builder = builder
            .preopened_dir(host, guest)
            .with_context(|| format!("failed to open directory `{host}` (from --dir)"))?;
    }
    for addr in &wasi.listen {
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("failed to listen on `{addr}` (from -S tcplisten)"))?;
        builder = builder.preopened_socket(listener, true);
    }
    Ok(builder.build())
}

fn export_list(module: &Module) -> String {
    let funcs: Vec<String> = module
        .exports()
        .filter_map(|e| match e.ty() {
            strata::ExternType::Func(ty) => Some(format!("  {}: {ty}", e.name())),
            _ => None,
        })
        .collect();
    if funcs.is_empty() {
        "the module exports no functions".to_string()
    } else {
        format!("exported functions:\n{}", funcs.join("\n"))
    }
}

fn call(store: &mut Store<Host>, name: &str, func: Func, args: &[String]) -> Result<Vec<Val>> {
    let ty = func.ty(&*store);
    if args.len() != ty.params().len() {
        bail!(
            "export `{name}` expects {} arguments of types {:?}, got {}",
            ty.params().len(),
            ty.params()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            args.len()
        );
    }
    let params = args
        .iter()
        .zip(ty.params())
        .enumerate()
        .map(|(i, (arg, ty))| {
            parse_val(arg, *ty)
                .with_context(|| format!("argument {i} of `{name}`: cannot parse `{arg}` as {ty}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    func.call(store, &params, &mut results)?;
    Ok(results)
}

fn parse_int(s: &str) -> Result<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16)?,
        None => digits.parse::<i128>()?,
    };
    Ok(if neg { -value } else { value })
}

fn parse_val(s: &str, ty: ValType) -> Result<Val> {
    Ok(match ty {
        // Integers accept both signed and unsigned spellings of the bits.
        ValType::I32 => {
            let v = parse_int(s)?;
            if !(i128::from(i32::MIN)..=i128::from(u32::MAX)).contains(&v) {
                bail!("out of range for i32");
            }
            Val::I32(v as i32)
        }
        ValType::I64 => {
            let v = parse_int(s)?;
            if !(i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v) {
                bail!("out of range for i64");
            }
            Val::I64(v as i64)
        }
        ValType::F32 => Val::F32(s.parse::<f32>()?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>()?.to_bits()),
        other => return Err(anyhow!("cannot pass {other} values from the command line")),
    })
}

fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        // As wasmtime: the vector as one unsigned 128-bit integer.
        Val::V128(x) => x.to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => {
            "null".to_string()
        }
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
        Val::AnyRef(Some(_)) => "<anyref>".to_string(),
        Val::ExnRef(Some(_)) => "<exnref>".to_string(),
    }
}
