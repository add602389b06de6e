//! `strata wast`: runs spec test scripts.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `strata wast`.
#[derive(Args)]
pub struct WastArgs {
    /// Execution tier: `tiered` (the default where this build and host
    /// support the JIT), `jit` (everything compiled) or `interp` (the
    /// interpreter).
    #[arg(long, value_name = "TIER")]
    tier: Option<String>,
    /// WebAssembly proposals (`NAME=y|n`: `simd`, `gc`, ...) and the other
    /// `-W` options of `strata run` (`-W help` lists them); comma-separated
    /// or repeated.
    #[arg(short = 'W', value_name = "KEY=VALUE[,...]")]
    wasm: Vec<String>,
    /// The scripts to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Runs every script, prints each failure as `FILE:LINE: message`, and ends
/// with `N passed, N failed` (after a line counting skipped component-model
/// directives, if there were any).
pub fn run(args: WastArgs) -> Result<ExitCode> {
    if args.wasm.iter().any(|w| w == "help") {
        print!("{}", crate::limits::help());
        return Ok(ExitCode::SUCCESS);
    }
    let tier = crate::parse_tier(args.tier.as_deref())?;
    let mut config = strata::Config::new();
    config.tier(tier);
    crate::limits::WasmOptions::parse(&args.wasm)?.configure(&mut config);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let report = strata_wast::run_wast(&path.display().to_string(), &text, &config);
        for failure in &report.failures {
            println!("{failure}");
        }
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
    }
    if skipped > 0 {
        println!("{skipped} skipped (component-model directives are not supported)");
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
