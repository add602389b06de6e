//! `strata run`: loads a module, instantiates it and calls an export.

use crate::limits::WasmOptions;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use strata::{Config, Engine, Func, Linker, Module, Store, Val, ValType};

/// The host state of a running program.
pub struct Host {
    /// Limits from `-W`.
    limits: strata::StoreLimits,
}

/// Options of `strata run`. Options come before the module; everything after
/// the module is passed to it.
#[derive(Args)]
pub struct RunArgs {
    /// Call this export with ARGS and print its results, one per line.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Execution tier: `jit` (compiled; the default where this build and
    /// host support it) or `interp` (the interpreter).
    #[arg(long, value_name = "TIER")]
    tier: Option<String>,
    /// Resource limits: `fuel=N`, `timeout=DURATION` (e.g. `2s`),
    /// `max-memory-size=BYTES`, `max-table-elements=N`, `max-instances=N`,
    /// `max-tables=N`, `max-memories=N`, `max-wasm-stack=BYTES`;
    /// comma-separated or repeated.
    #[arg(short = 'W', value_name = "KEY=VALUE[,...]")]
    wasm: Vec<String>,
    /// The module to run (`.wasm` or `.wat`), then its arguments: the
    /// invoked function's parameters. Everything after the module belongs
    /// to it, options included.
    #[arg(
        value_name = "MODULE [ARGS]...",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    module_and_args: Vec<String>,
}

/// Runs the module as `args` describe.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let (module_path, guest_args) = args
        .module_and_args
        .split_first()
        .ok_or_else(|| anyhow!("no module given"))?;
    let module_path = PathBuf::from(module_path);
    let tier = crate::parse_tier(args.tier.as_deref())?;
    let options = WasmOptions::parse(&args.wasm)?;
    let mut config = Config::new();
    config.tier(tier);
    options.configure(&mut config);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, &module_path)?;
    let mut store = Store::new(
        &engine,
        Host {
            limits: options.store_limits(),
        },
    );
    store.limiter(|host| &mut host.limits);
    options.start(&mut store)?;
    let linker = Linker::new(&engine);
    let instance = linker
        .instantiate(&mut store, &module)
        .with_context(|| format!("failed to instantiate `{}`", module_path.display()))?;

    // With --invoke the arguments are the function's parameters; otherwise
    // they are the program's argv (passed through WASI once it exists).
    let (name, func, params) = match &args.invoke {
        Some(name) => match instance.get_func(&store, name) {
            Some(f) => (name.clone(), f, guest_args),
            None => bail!(
                "failed to find export `{name}` in `{}`\n{}",
                module_path.display(),
                export_list(&module)
            ),
        },
        None => {
            let entry = ["_start", ""].into_iter().find_map(|n| {
                instance
                    .get_func(&store, n)
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
    let results = call(&mut store, &name, func, params)?;
    for value in results {
        println!("{}", format_val(&value));
    }
    Ok(ExitCode::SUCCESS)
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
        Val::V128(x) => format!("{x:#034x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
    }
}
