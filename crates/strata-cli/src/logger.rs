//! Strata's log messages on standard error: warnings by default (a function
//! the JIT failed to compile, which then stays interpreted), more or fewer
//! with `STRATA_LOG=off|error|warn|info|debug|trace` (wasmtime's
//! `WASMTIME_LOG` plays the same part).

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        eprintln!("{level}: {}", record.args());
    }

    fn flush(&self) {}
}

/// Installs the logger with the level `STRATA_LOG` names (warnings when it
/// is unset or not a level).
pub(crate) fn init() {
    let level = std::env::var("STRATA_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Warn);
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}
