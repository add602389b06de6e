//! The `strata` command line.
//!
//! Exit status: 0 on success; 1 for bad input (unreadable or invalid module,
//! missing imports, bad arguments); 134 when WebAssembly traps, as wasmtime
//! does.

mod limits;
mod run;
mod wast;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// A WebAssembly runtime.
#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a WebAssembly module (`.wasm` or `.wat`).
    Run(run::RunArgs),
    /// Runs WebAssembly spec test scripts (`.wast`).
    Wast(wast::WastArgs),
}

/// Exit status for a trap, as wasmtime uses (the status of `abort()`).
const TRAP_EXIT: u8 = 134;

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `strata MODULE ARGS...` is shorthand for `strata run MODULE ARGS...`.
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        let known = ["run", "wast", "help", "-h", "--help", "-V", "--version"];
        if !known.contains(&first) {
            args.insert(1, "run".into());
        }
    }
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Wast(args) => wast::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => report_error(&e),
    }
}

/// Prints `e` the way wasmtime does and picks the exit status. Write
/// errors (a closed stderr) are ignored rather than turned into a panic.
fn report_error(e: &anyhow::Error) -> ExitCode {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    if let Some(trap) = e.downcast_ref::<strata::Trap>() {
        let _ = writeln!(err, "error: wasm trap: {trap}");
        if let Some(bt) = e.downcast_ref::<strata::WasmBacktrace>() {
            let _ = write!(err, "{bt}");
        }
        return ExitCode::from(TRAP_EXIT);
    }
    for (i, cause) in e.chain().enumerate() {
        for (j, line) in cause.to_string().lines().enumerate() {
            let _ = match (i, j) {
                (0, 0) => writeln!(err, "error: {line}"),
                (_, 0) => writeln!(err, "  caused by: {line}"),
                _ => writeln!(err, "    {line}"),
            };
        }
    }
    ExitCode::FAILURE
}

/// The tier `--tier` names, or the best one available when it is absent.
fn parse_tier(tier: Option<&str>) -> anyhow::Result<strata::Tier> {
    match tier {
        Some(name) => name.parse().map_err(anyhow::Error::msg),
        None => Ok(strata::Tier::best_available()),
    }
}
