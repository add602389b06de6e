//! Runs WebAssembly spec test scripts (`.wast`) against Strata.
//!
//! [`run_wast`] executes every directive of a script: modules (text, binary
//! and quoted; `module definition` and `module instance`), `register`,
//! `invoke`, `get`, `assert_return` (v128 lanes, NaN patterns, references,
//! `either`), `assert_trap` (on calls and on instantiation),
//! `assert_exhaustion`, `assert_exception`, `assert_invalid`,
//! `assert_malformed` and `assert_unlinkable`. Each directive counts as
//! passed, failed, or (component-model directives only) skipped. It is
//! shared by `strata wast` and the spec test of this crate.

mod runner;
mod spectest;
mod values;

use strata::Config;
use wast::parser::{self, ParseBuffer};
use wast::Wast;

/// The outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Directives that behaved as the script expects.
    pub passed: usize,
    /// Directives that did not.
    pub failed: usize,
    /// Component-model directives, which Strata does not run.
    pub skipped: usize,
    /// One entry per failed directive, in script order.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Every directive the script held: passed, failed and skipped.
    pub fn directives(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// A directive that did not behave as the script expects.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The script's name as given to [`run_wast`].
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Runs the script `text` (named `file` in failure messages) with a fresh
/// engine built from `config`. A script that does not parse is one failure
/// at the parse error's line.
pub fn run_wast(file: &str, text: &str, config: &Config) -> Report {
    // The spec's names.wast deliberately uses bidirectional-override
    // characters in export names.
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(e) => return parse_failure(file, text, e),
    };
    let script = match parser::parse::<Wast>(&buf) {
        Ok(script) => script,
        Err(e) => return parse_failure(file, text, e),
    };
    let mut report = Report::default();
    let fail = |report: &mut Report, line: usize, message: String| {
        report.failed += 1;
        report.failures.push(Failure {
            file: file.to_string(),
            line,
            message,
        });
    };
    let mut runner = match runner::Runner::new(config) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("failed to set up the spectest module: {e:#}");
            fail(&mut report, 1, message);
            return report;
        }
    };
    // `Span::linecol_in` scans from the start of the text, which is
    // quadratic over a script of 25,000 directives; look lines up instead.
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    for directive in script.directives {
        let offset = directive.span().offset();
        let line = newlines.partition_point(|&n| n < offset) + 1;
        match runner.run(directive) {
            runner::Outcome::Passed => report.passed += 1,
            runner::Outcome::Skipped => report.skipped += 1,
            runner::Outcome::Failed(message) => fail(&mut report, line, message),
        }
    }
    report
}

fn parse_failure(file: &str, text: &str, mut e: wast::Error) -> Report {
    let (line, _) = e.span().linecol_in(text);
    e.set_path(std::path::Path::new(file));
    Report {
        passed: 0,
        failed: 1,
        skipped: 0,
        failures: vec![Failure {
            file: file.to_string(),
            line: line + 1,
            message: format!("failed to parse script: {e}"),
        }],
    }
}
