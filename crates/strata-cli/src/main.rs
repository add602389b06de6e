//! The `strata` command line.
//!
//! Exit status: 0 on success; 1 for bad input (unreadable or invalid module,
//! missing imports, bad arguments); 134 when WebAssembly traps, as wasmtime
//! does.

mod compile;
mod diagnostics;
mod limits;
mod logger;
mod run;
mod threads;
mod wast;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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
    /// Compiles a module ahead of time into a `.cwasm` artifact, which
    /// `strata run --allow-precompiled` runs without compiling.
    Compile(compile::CompileArgs),
}

/// Exit status for a trap (and an uncaught exception), as wasmtime uses
/// (the status of `abort()`).
const TRAP_EXIT: u8 = 134;

fn main() -> ExitCode {
    logger::init();
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `strata MODULE ARGS...` is shorthand for `strata run MODULE ARGS...`.
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        let known = [
            "run",
            "wast",
            "compile",
            "help",
            "-h",
            "--help",
            "-V",
            "--version",
        ];
        if !known.contains(&first) {
            args.insert(1, "run".into());
        }
    }
    let command = Cli::command().mut_subcommand("run", run::augment_help);
    let matches = match command.try_get_matches_from(&args) {
        Ok(matches) => matches,
        // `strata run -W help` has no module, and needs none.
        Err(e) if e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {
            match help_topic(&args) {
                Some('W') => {
                    print!("{}", limits::help());
                    return ExitCode::SUCCESS;
                }
                Some(_) => {
                    print!("{}", run::WASI_HELP);
                    return ExitCode::SUCCESS;
                }
                None => e.exit(),
            }
        }
        Err(e) => e.exit(),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Run(args) => {
            let hint = run::misplaced_options(&args);
            let code = match run::run(args) {
                Ok(code) => code,
                Err(e) => report_error(&e),
            };
            // Options after the module went to the guest; when the run
            // fails, that may be why.
            if code != ExitCode::SUCCESS {
                if let Some(hint) = hint {
                    use std::io::Write;
                    let _ = writeln!(std::io::stderr(), "{hint}");
                }
            }
            code
        }
        Command::Wast(args) => wast::run(args).unwrap_or_else(|e| report_error(&e)),
        Command::Compile(args) => match compile::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report_error(&e),
        },
    }
}

/// `W` or `S` when the arguments ask for `-W help` or `-S help`.
fn help_topic(args: &[std::ffi::OsString]) -> Option<char> {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    for (i, arg) in args.iter().enumerate() {
        for topic in ['W', 'S'] {
            let flag = format!("-{topic}");
            let attached = arg
                .strip_prefix(flag.as_str())
                .map(|v| v.trim_start_matches('='));
            if attached == Some("help") || (*arg == flag && args.get(i + 1) == Some(&"help")) {
                return Some(topic);
            }
        }
    }
    None
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
    // An exception no wasm frame caught ends the run as a trap does; the
    // error names the tag (its export name, or its index) and the payload.
    if let Some(exn) = e.downcast_ref::<strata::ThrownException>() {
        let _ = writeln!(err, "error: {exn}");
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
