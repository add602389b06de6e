//! `-C` options (the compile cache, as wasmtime's `-C cache=n`) and
//! `strata compile`, which writes an ahead-of-time artifact (`.cwasm`)
//! that `strata run --allow-precompiled` runs without compiling.

use crate::limits::WasmOptions;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use strata::{CacheConfig, Config, Engine};

/// Compiler and cache settings chosen with `-C`.
#[derive(Debug, Clone)]
pub struct CodegenOptions {
    /// `-C cache=y|n`: whether compiled code is cached (on by default).
    cache: bool,
    /// `-C cache-dir=DIR`: where.
    cache_dir: Option<PathBuf>,
}

impl Default for CodegenOptions {
    fn default() -> CodegenOptions {
        CodegenOptions {
            cache: true,
            cache_dir: None,
        }
    }
}

/// Every `-C` key: the key, its value, and what it does.
pub const OPTIONS: [(&str, &str, &str); 2] = [
    (
        "cache",
        "y|n",
        "keep compiled code in the compile cache and reuse it (default y)",
    ),
    (
        "cache-dir",
        "DIR",
        "the compile cache's directory (default $XDG_CACHE_HOME/strata, else ~/.cache/strata)",
    ),
];

impl CodegenOptions {
    /// Parses every `-C` argument (each a comma-separated `key=value`
    /// list; a bare `cache` means `cache=y`).
    pub fn parse(args: &[String]) -> Result<CodegenOptions> {
        let mut options = CodegenOptions::default();
        for item in args
            .iter()
            .flat_map(|a| a.split(','))
            .filter(|i| !i.is_empty())
        {
            let (key, value) = match item.split_once('=') {
                Some(pair) => pair,
                None if item == "cache" => (item, "y"),
                None => bail!("-C option `{item}` needs a value (`{item}=...`)"),
            };
            match key {
                "cache" => {
                    options.cache = match value {
                        "y" | "yes" | "true" => true,
                        "n" | "no" | "false" => false,
                        _ => bail!("invalid value `{value}` for -C cache; expected `y` or `n`"),
                    }
                }
                "cache-dir" if value.is_empty() => bail!("-C cache-dir needs a directory"),
                "cache-dir" => options.cache_dir = Some(PathBuf::from(value)),
                _ => {
                    let keys: Vec<&str> = OPTIONS.iter().map(|o| o.0).collect();
                    bail!(
                        "unknown -C option `{key}`; expected one of: {}",
                        keys.join(", ")
                    )
                }
            }
        }
        Ok(options)
    }

    /// Applies the options to `config`.
    pub fn configure(&self, config: &mut Config) {
        if !self.cache {
            config.cache(None);
            return;
        }
        let mut cache = CacheConfig::new();
        if let Some(dir) = &self.cache_dir {
            cache.with_directory(dir);
        }
        config.cache(Some(cache));
    }
}

/// What `strata run --help` and `strata compile --help` say about `-C`.
pub fn help() -> String {
    let keys = OPTIONS
        .iter()
        .map(|(key, value, what)| format!("  {key}={value}: {what}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "Compiler and cache options; comma-separated or repeated.\n\n{keys}\n\n\
         Example: strata run -C cache=n prog.wasm"
    )
}

/// Options of `strata compile`.
#[derive(Args)]
pub struct CompileArgs {
    /// Limits and proposals (`-W help` lists every KEY).
    ///
    /// Only the settings that change code matter here (proposals, `fuel`,
    /// `timeout`); `strata run` must be given the same ones to run the
    /// result.
    #[arg(short = 'W', value_name = "KEY=VALUE[,...]")]
    wasm: Vec<String>,
    /// Compiler and cache options: `cache=y|n`, `cache-dir=DIR`.
    #[arg(short = 'C', value_name = "KEY=VALUE[,...]")]
    codegen: Vec<String>,
    /// Where to write the artifact (default: the module's name with
    /// `.cwasm`).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// The module to compile (`.wasm` or `.wat`).
    #[arg(value_name = "MODULE")]
    module: PathBuf,
    /// Only put the compiled code in the compile cache (what `strata run`
    /// starts in the background when tiered execution misses the cache).
    #[arg(long, hide = true)]
    fill_cache: bool,
}

/// Compiles the module `args` names into an artifact.
pub fn run(args: CompileArgs) -> Result<()> {
    let options = WasmOptions::parse(&args.wasm)?;
    let codegen = CodegenOptions::parse(&args.codegen)?;
    let mut config = Config::new();
    if !strata::Tier::Jit.is_available() {
        bail!("`strata compile` needs the JIT tier, which this build or host does not have");
    }
    config.tier(strata::Tier::Jit);
    options.configure(&mut config);
    codegen.configure(&mut config);
    let engine = Engine::new(&config)?;
    let path = &args.module;
    if args.fill_cache {
        // The run that started this goes on meanwhile: leave it the CPU.
        // Wait until it exits (its end of our standard input closes) or
        // has run for a while; compiling a 1 MB module takes about a
        // second of CPU that a short run should not share.
        wait_for_parent(std::time::Duration::from_secs(2));
        let _ = rustix::process::setpriority_process(None, 19);
        // Loading a module with the JIT tier stores its code in the cache.
        strata::Module::from_file(&engine, path)?;
        return Ok(());
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let artifact = engine
        .precompile_module(&bytes)
        .with_context(|| format!("failed to compile `{}`", path.display()))?;
    let output = args.output.unwrap_or_else(|| path.with_extension("cwasm"));
    std::fs::write(&output, artifact)
        .with_context(|| format!("failed to write `{}`", output.display()))?;
    Ok(())
}

/// Returns when standard input reaches end-of-file (the `strata run` that
/// started a cache fill holds the pipe's other end until it exits; a
/// terminal or `/dev/null` ends at once or never matters) or after
/// `limit`, whichever comes first.
fn wait_for_parent(limit: std::time::Duration) {
    use std::io::Read;
    let (done, waiting) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new().spawn(move || {
        let mut sink = [0u8; 64];
        while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
        let _ = done.send(());
    });
    if reader.is_ok() {
        let _ = waiting.recv_timeout(limit);
    }
}
