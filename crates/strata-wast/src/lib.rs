//! Runs WebAssembly spec test scripts (`.wast`) against Strata.
//!
//! [`run_wast`] executes every directive of a script — modules, `register`,
//! `invoke`, `get` and all `assert_*` forms — and counts each as passed or
//! failed. It is shared by `strata wast` and the spec test of this crate.

mod spectest;
mod values;

use anyhow::{anyhow, bail, Context as _, Result};
use std::collections::HashMap;
use strata::{Config, Engine, Instance, Linker, Module, Store, Trap, Val};
use wast::core::Module as WastModule;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

/// The outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Directives that behaved as the script expects.
    pub passed: usize,
    /// Directives that did not.
    pub failed: usize,
    /// One entry per failed directive, in script order.
    pub failures: Vec<Failure>,
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
/// engine built from `config`.
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
    let mut fail = |line: usize, message: String| {
        report.failures.push(Failure {
            file: file.to_string(),
            line,
            message,
        });
    };
    let mut runner = match Runner::new(config) {
        Ok(r) => r,
        Err(e) => {
            fail(1, format!("failed to set up the spectest module: {e:#}"));
            report.failed = report.failures.len();
            return report;
        }
    };
    for directive in script.directives {
        let (line, _) = directive.span().linecol_in(text);
        match runner.directive(directive) {
            Outcome::Passed => report.passed += 1,
            Outcome::Skipped => {}
            Outcome::Failed(message) => fail(line + 1, message),
        }
    }
    report.failed = report.failures.len();
    report
}

/// A script that does not lex or parse: one failure at the error's line.
fn parse_failure(file: &str, text: &str, mut e: wast::Error) -> Report {
    let (line, _) = e.span().linecol_in(text);
    e.set_path(std::path::Path::new(file));
    Report {
        passed: 0,
        failed: 1,
        failures: vec![Failure {
            file: file.to_string(),
            line: line + 1,
            message: format!("failed to parse script: {e}"),
        }],
    }
}

enum Outcome {
    Passed,
    Failed(String),
    /// A directive of a proposal Strata does not run (threads, components).
    Skipped,
}

impl From<Result<()>> for Outcome {
    fn from(r: Result<()>) -> Outcome {
        match r {
            Ok(()) => Outcome::Passed,
            Err(e) => Outcome::Failed(format!("{e:#}")),
        }
    }
}

struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module.
    current: Option<Instance>,
    named: HashMap<String, Instance>,
    /// Modules defined with `(module definition ...)`, by name.
    definitions: HashMap<String, Module>,
}

impl Runner {
    fn new(config: &Config) -> Result<Runner> {
        let engine = Engine::new(config)?;
        let mut store = Store::new(&engine, ());
        // Scripts run unbounded: with metering or interruption switched on
        // (to test the instrumentation), give them all the fuel and time.
        // `set_fuel` fails when metering is off, which is fine here.
        store.set_fuel(u64::MAX).ok();
        store.set_epoch_deadline(u64::MAX);
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        spectest::define(&mut linker, &mut store)?;
        Ok(Runner {
            engine,
            store,
            linker,
            current: None,
            named: HashMap::new(),
            definitions: HashMap::new(),
        })
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module).into(),
            WastDirective::ModuleDefinition(mut module) => {
                let name = quote_name(&module);
                let r = self.compile(&mut module).map(|m| {
                    if let Some(name) = name {
                        self.definitions.insert(name, m);
                    }
                });
                r.into()
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let r = (|| {
                    let name = module.ok_or_else(|| anyhow!("module instance without a module"))?;
                    let m = self
                        .definitions
                        .get(name.name())
                        .ok_or_else(|| anyhow!("unknown module definition `{}`", name.name()))?
                        .clone();
                    let i = self.linker.instantiate(&mut self.store, &m)?;
                    self.current = Some(i);
                    if let Some(id) = instance {
                        self.named.insert(id.name().to_string(), i);
                    }
                    Ok(())
                })();
                r.into()
            }
            WastDirective::Register { name, module, .. } => {
                let r = self.instance(module.map(|m| m.name())).and_then(|i| {
                    self.linker.instance(&mut self.store, name, i)?;
                    Ok(())
                });
                r.into()
            }
            WastDirective::Invoke(invoke) => self.invoke(&invoke).map(drop).into(),
            WastDirective::AssertReturn { exec, results, .. } => {
                let r = values::check_supported(&results)
                    .and_then(|()| self.execute(exec))
                    .and_then(|values| values::check_results(&self.store, &values, &results));
                r.into()
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                expect_trap(self.execute(exec), message).into()
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                expect_trap(self.invoke(&call), message).into()
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match self.compile(&mut module) {
                Ok(_) => Outcome::Failed(format!("expected an invalid module ({message})")),
                Err(_) => Outcome::Passed,
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let r = module
                    .encode()
                    .map_err(anyhow::Error::from)
                    .and_then(|bytes| Module::new(&self.engine, bytes));
                match r {
                    Err(e) => Outcome::Failed(format!("module failed to compile: {e:#}")),
                    Ok(m) => match self.linker.instantiate(&mut self.store, &m) {
                        Ok(_) => Outcome::Failed(format!("expected a link error ({message})")),
                        Err(e) if e.downcast_ref::<Trap>().is_some() => {
                            Outcome::Failed(format!("expected a link error, got a trap: {e:#}"))
                        }
                        Err(_) => Outcome::Passed,
                    },
                }
            }
            WastDirective::AssertInvalidCustom { .. } => Outcome::Skipped,
            _ => Outcome::Skipped,
        }
    }

    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module> {
        let bytes = module.encode()?;
        Module::new(&self.engine, bytes)
    }

    fn module(&mut self, mut module: QuoteWat<'_>) -> Result<()> {
        let name = quote_name(&module);
        let result = self
            .compile(&mut module)
            .and_then(|m| self.linker.instantiate(&mut self.store, &m));
        match result {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = name {
                    self.named.insert(name, instance);
                }
                Ok(())
            }
            Err(e) => {
                self.current = None;
                Err(e.context("module failed to load or instantiate"))
            }
        }
    }

    fn instance(&self, name: Option<&str>) -> Result<Instance> {
        match name {
            Some(name) => self
                .named
                .get(name)
                .copied()
                .ok_or_else(|| anyhow!("unknown module `{name}`")),
            None => self
                .current
                .ok_or_else(|| anyhow!("no module is instantiated")),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>> {
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            args.push(values::arg(&mut self.store, arg)?);
        }
        let instance = self.instance(invoke.module.map(|m| m.name()))?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| anyhow!("no exported function `{}`", invoke.name))?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode()?;
                let module = Module::new(&self.engine, bytes)?;
                self.linker.instantiate(&mut self.store, &module)?;
                Ok(Vec::new())
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module.map(|m| m.name()))?;
                let g = instance
                    .get_global(&self.store, global)
                    .with_context(|| format!("no exported global `{global}`"))?;
                Ok(vec![g.get(&self.store)])
            }
        }
    }
}

/// Checks that `result` is a trap whose message contains the script's, as
/// wasmtime's runner does (Strata uses wasmtime's wording, which sometimes
/// adds context: "undefined element: out of bounds table access"). Like
/// wasmtime, "uninitialized element N" is matched without the index, which
/// traps do not carry.
fn expect_trap(result: Result<Vec<Val>>, expected: &str) -> Result<()> {
    match result {
        Ok(values) => bail!("expected trap `{expected}`, got {values:?}"),
        Err(e) => match e.downcast_ref::<Trap>() {
            Some(trap)
                if trap.message().contains(expected)
                    || (expected.starts_with("uninitialized element")
                        && trap.message().contains("uninitialized element")) =>
            {
                Ok(())
            }
            Some(trap) => bail!("expected trap `{expected}`, got trap `{trap}`"),
            None => bail!("expected trap `{expected}`, got error: {e:#}"),
        },
    }
}

/// The `$name` of a text module, if it has one.
fn quote_name(module: &QuoteWat<'_>) -> Option<String> {
    match module {
        QuoteWat::Wat(Wat::Module(WastModule { id: Some(id), .. })) => Some(id.name().to_string()),
        _ => None,
    }
}
