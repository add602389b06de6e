//! Pieces shared by the benchmarks: timing, external command lines, and
//! summary statistics.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `f` `runs` times and returns the shortest time and the last result.
pub fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Whether `program --version` runs successfully.
pub fn runs_ok(program: &OsString) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The external runtime to compare against: the program named by the
/// environment variable `var`, else the first of `names` on the PATH, if it
/// runs.
pub fn find_tool(var: &str, names: &[&str]) -> Option<OsString> {
    if let Some(w) = std::env::var_os(var) {
        return runs_ok(&w).then_some(w);
    }
    names.iter().map(OsString::from).find(runs_ok)
}

/// An external command line that invokes `run` with `arg` on `wasm`.
pub struct CliRun {
    program: OsString,
    args: Vec<OsString>,
}

impl CliRun {
    /// `PROGRAM run OPTIONS... --invoke run WASM ARG`.
    pub fn new(program: &OsString, options: &[&str], wasm: &Path, arg: i32) -> CliRun {
        let mut args: Vec<OsString> = vec!["run".into()];
        args.extend(options.iter().map(OsString::from));
        args.extend([
            "--invoke".into(),
            "run".into(),
            wasm.into(),
            arg.to_string().into(),
        ]);
        CliRun {
            program: program.clone(),
            args,
        }
    }

    /// The command line, as it could be typed into a shell.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|s| s.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Best wall time over `runs` runs and the printed result.
    pub fn time(&self, runs: usize) -> (Duration, Result<String, String>) {
        best(runs, || {
            let out = Command::new(&self.program).args(&self.args).output();
            match out {
                Ok(o) if o.status.success() => {
                    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
                }
                Ok(o) => Err(format!(
                    "exit {}: {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// The geometric mean of `xs`.
pub fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|r| r.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// A table cell: milliseconds, or `-` when there is no measurement.
pub fn cell(t: Option<Duration>) -> String {
    t.map_or("-".to_string(), |t| format!("{:.1}", ms(t)))
}

/// The ratio `num / den` as a table cell, also collected into `acc` (for a
/// geometric mean); `-` when either is missing.
pub fn ratio(num: Option<Duration>, den: Option<Duration>, acc: &mut Vec<f64>) -> String {
    match (num, den) {
        (Some(n), Some(d)) => {
            let r = n.as_secs_f64() / d.as_secs_f64();
            acc.push(r);
            format!("{r:.2}")
        }
        _ => "-".to_string(),
    }
}
