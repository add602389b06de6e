//! Executes one directive at a time against one store.

use crate::{spectest, values};
use anyhow::{anyhow, bail, Context as _, Result};
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use strata::{
    Config, Engine, Instance, Linker, Module, Store, ThrownException, Trap, Val, WasmBacktrace,
};
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, Wat};

/// What one directive did.
pub(crate) enum Outcome {
    Passed,
    Failed(String),
    /// A component-model directive, which Strata does not run.
    Skipped,
}

impl From<Result<()>> for Outcome {
    fn from(r: Result<()>) -> Outcome {
        match r {
            Ok(()) => Outcome::Passed,
            Err(e) => Outcome::Failed(error_text(&e)),
        }
    }
}

/// An error as one line: its chain of contexts, without the wasm backtrace
/// that Strata attaches to traps.
fn error_text(e: &anyhow::Error) -> String {
    let backtrace = e.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
    let mut parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string())
        .filter(|c| Some(c) != backtrace.as_ref())
        .collect();
    if let (Some(trap), Some(last)) = (e.root_cause().downcast_ref::<Trap>(), parts.last_mut()) {
        *last = format!("wasm trap: {trap}");
    }
    parts.join(": ").replace('\n', " ")
}

/// The state a script builds up: one store, the `spectest` module, the
/// instances and module definitions it named and what it registered.
pub(crate) struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module; `None` also after a module
    /// failed, so that later directives do not run against an older one.
    current: Option<Instance>,
    /// Whether the most recent module failed (for a clearer error).
    current_failed: bool,
    named: HashMap<String, Instance>,
    /// Modules defined with `(module definition $name ...)` or
    /// `(module $name ...)`, by name.
    definitions: HashMap<String, Module>,
    /// The most recent `module definition`, for a `module instance` that
    /// names none.
    last_definition: Option<Module>,
    /// Names of skipped component definitions and instances, so that the
    /// directives using them are skipped too.
    components: HashSet<String>,
}

impl Runner {
    pub(crate) fn new(config: &Config) -> Result<Runner> {
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
            current_failed: false,
            named: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            components: HashSet::new(),
        })
    }

    /// Runs one directive. A panic in Strata is a failure of the directive
    /// (with the panic's message), not the end of the script.
    pub(crate) fn run(&mut self, directive: WastDirective<'_>) -> Outcome {
        if self.is_component(&directive) {
            return Outcome::Skipped;
        }
        match catch_unwind(AssertUnwindSafe(|| self.directive(directive))) {
            Ok(outcome) => outcome,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string());
                // Whatever the directive was doing is in an unknown state.
                self.current = None;
                self.current_failed = true;
                Outcome::Failed(format!("Strata panicked: {message}"))
            }
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module).into(),
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = self.compile(&mut module);
                // A failed definition must not leave an older one in its place.
                self.last_definition = compiled.as_ref().ok().cloned();
                if let Some(name) = name {
                    match &compiled {
                        Ok(m) => self.definitions.insert(name, m.clone()),
                        Err(_) => self.definitions.remove(&name),
                    };
                }
                compiled.map(drop).into()
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self
                .module_instance(instance.map(|i| i.name()), module.map(|m| m.name()))
                .into(),
            WastDirective::Register { name, module, .. } => {
                let r = self.instance(module.map(|m| m.name())).and_then(|i| {
                    self.linker.instance(&mut self.store, name, i)?;
                    Ok(())
                });
                r.into()
            }
            WastDirective::Invoke(invoke) => self.invoke(&invoke).map(drop).into(),
            WastDirective::AssertReturn { exec, results, .. } => {
                let r = self
                    .execute(exec)
                    .and_then(|got| values::check_results(&self.store, &got, &results));
                r.into()
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let result = self.execute(exec);
                expect_trap(&self.store, result, message).into()
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = self.invoke(&call);
                expect_trap(&self.store, result, message).into()
            }
            WastDirective::AssertException { exec, .. } => {
                let result = self.execute(exec);
                expect_exception(&mut self.store, result).into()
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => self
                .expect_rejected(&mut module, "an invalid", message)
                .into(),
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self
                .expect_rejected(&mut module, "a malformed", message)
                .into(),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => self.expect_unlinkable(&mut module, message).into(),
            WastDirective::AssertInvalidCustom { message, .. }
            | WastDirective::AssertMalformedCustom { message, .. } => Outcome::Failed(format!(
                "custom-section assertions are not supported: Strata does not report \
                 errors in custom sections (expected `{message}`)"
            )),
            WastDirective::AssertSuspension { .. } => Outcome::Failed(
                "`assert_suspension` is not supported: Strata does not implement stack \
                 switching"
                    .to_string(),
            ),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Outcome::Failed(
                "`thread` and `wait` are not supported: Strata cannot share memories \
                 between stores yet"
                    .to_string(),
            ),
        }
    }

    /// Whether a directive belongs to the component model, which the
    /// runner skips (and says so in its counts).
    fn is_component(&mut self, directive: &WastDirective<'_>) -> bool {
        fn quote(q: &QuoteWat<'_>) -> bool {
            matches!(
                q,
                QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
            )
        }
        fn invoke(i: &WastInvoke<'_>) -> bool {
            i.args.iter().any(values::is_component_arg)
        }
        fn exec(e: &WastExecute<'_>) -> bool {
            match e {
                WastExecute::Invoke(i) => invoke(i),
                WastExecute::Wat(w) => matches!(w, Wat::Component(_)),
                WastExecute::Get { .. } => false,
            }
        }
        match directive {
            WastDirective::Module(q) | WastDirective::ModuleDefinition(q) => {
                if quote(q) {
                    if let Some(id) = q.name() {
                        self.components.insert(id.name().to_string());
                    }
                }
                quote(q)
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let component = module.is_some_and(|m| self.components.contains(m.name()));
                if let (true, Some(id)) = (component, instance) {
                    self.components.insert(id.name().to_string());
                }
                component
            }
            WastDirective::AssertMalformed { module, .. }
            | WastDirective::AssertInvalid { module, .. }
            | WastDirective::AssertInvalidCustom { module, .. }
            | WastDirective::AssertMalformedCustom { module, .. } => quote(module),
            WastDirective::AssertUnlinkable { module, .. } => matches!(module, Wat::Component(_)),
            WastDirective::Register { module, .. } => {
                module.is_some_and(|m| self.components.contains(m.name()))
            }
            WastDirective::Invoke(i) => invoke(i),
            WastDirective::AssertReturn {
                exec: e, results, ..
            } => exec(e) || results.iter().any(values::is_component_ret),
            WastDirective::AssertTrap { exec: e, .. }
            | WastDirective::AssertException { exec: e, .. }
            | WastDirective::AssertSuspension { exec: e, .. } => exec(e),
            WastDirective::AssertExhaustion { call, .. } => invoke(call),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => false,
        }
    }

    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module> {
        let bytes = module.encode()?;
        Module::from_binary(&self.engine, &bytes)
    }

    fn module(&mut self, mut module: QuoteWat<'_>) -> Result<()> {
        let name = module.name().map(|id| id.name().to_string());
        let result = self.compile(&mut module).and_then(|m| {
            // A named module is a definition too (`module instance` may
            // instantiate it again), as in wasmtime's runner.
            if let Some(name) = &name {
                self.definitions.insert(name.clone(), m.clone());
            }
            self.linker.instantiate(&mut self.store, &m)
        });
        match result {
            Ok(instance) => {
                self.current = Some(instance);
                self.current_failed = false;
                if let Some(name) = name {
                    self.named.insert(name, instance);
                }
                Ok(())
            }
            Err(e) => {
                self.current = None;
                self.current_failed = true;
                if let Some(name) = name {
                    self.named.remove(&name);
                }
                Err(e.context("module failed to load or instantiate"))
            }
        }
    }

    fn module_instance(&mut self, instance: Option<&str>, module: Option<&str>) -> Result<()> {
        let definition = match module {
            Some(name) => self
                .definitions
                .get(name)
                .ok_or_else(|| anyhow!("unknown module definition `{name}`"))?,
            None => self
                .last_definition
                .as_ref()
                .ok_or_else(|| anyhow!("no module definition precedes this instance"))?,
        }
        .clone();
        match self.linker.instantiate(&mut self.store, &definition) {
            Ok(i) => {
                self.current = Some(i);
                self.current_failed = false;
                if let Some(name) = instance {
                    self.named.insert(name.to_string(), i);
                }
                Ok(())
            }
            Err(e) => {
                self.current = None;
                self.current_failed = true;
                Err(e.context("module failed to instantiate"))
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
            None if self.current_failed => self
                .current
                .ok_or_else(|| anyhow!("no module is instantiated (the last module failed)")),
            None => self
                .current
                .ok_or_else(|| anyhow!("no module is instantiated")),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>> {
        let instance = self.instance(invoke.module.map(|m| m.name()))?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| anyhow!("no exported function `{}`", invoke.name))?;
        let ty = func.ty(&self.store);
        let mut args = Vec::with_capacity(invoke.args.len());
        for (i, arg) in invoke.args.iter().enumerate() {
            let param = ty.params().get(i).copied();
            args.push(
                values::arg(&mut self.store, arg, param)
                    .with_context(|| format!("argument {i}"))?,
            );
        }
        let mut results: Vec<Val> = ty.results().iter().cloned().map(Val::default_for).collect();
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }

    /// Runs a call, a `get`, or a module instantiation (whose instance is
    /// then dropped: the spec's way to test traps during instantiation).
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode()?;
                let module = Module::from_binary(&self.engine, &bytes)?;
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

    /// `assert_invalid` and `assert_malformed`: the module must be refused,
    /// and refused as invalid. A module the validator accepts but Strata
    /// still refuses (a feature it does not implement yet) does not count.
    /// Error messages are not compared: Strata's come from `wasmparser` and
    /// the text parser, whose wording differs from the reference
    /// interpreter's.
    fn expect_rejected(&self, module: &mut QuoteWat<'_>, what: &str, message: &str) -> Result<()> {
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            // The text itself is malformed (or names something that does not
            // exist): the module never reaches Strata, which is right.
            Err(_) => return Ok(()),
        };
        match Module::from_binary(&self.engine, &bytes) {
            Ok(_) => bail!("expected {what} module (`{message}`), but it loaded"),
            Err(e) => match Module::validate(&self.engine, &bytes) {
                Err(_) => Ok(()),
                Ok(()) => bail!(
                    "expected {what} module (`{message}`): it is valid, but Strata refused \
                     it: {}",
                    error_text(&e)
                ),
            },
        }
    }

    fn expect_unlinkable(&mut self, module: &mut Wat<'_>, message: &str) -> Result<()> {
        let bytes = module.encode()?;
        let module = Module::from_binary(&self.engine, &bytes)
            .context("expected a link error, but the module failed to load")?;
        match self.linker.instantiate(&mut self.store, &module) {
            Ok(_) => bail!("expected a link error (`{message}`), but the module instantiated"),
            Err(e) if e.downcast_ref::<Trap>().is_some() => {
                bail!(
                    "expected a link error (`{message}`), got a trap: {}",
                    error_text(&e)
                )
            }
            Err(_) => Ok(()),
        }
    }
}

/// Checks that `result` is a trap whose message contains the script's, as
/// wasmtime's runner does (Strata uses wasmtime's wording, which sometimes
/// adds context: "undefined element: out of bounds table access"). Like
/// wasmtime, "uninitialized element N" is matched without the index, which
/// traps do not carry.
fn expect_trap(store: &Store<()>, result: Result<Vec<Val>>, expected: &str) -> Result<()> {
    match result {
        Ok(values) => bail!(
            "expected trap `{expected}`, got {}",
            values::show_all(store, &values)
        ),
        Err(e) => match e.downcast_ref::<Trap>() {
            Some(trap)
                if trap.message().contains(expected)
                    || (expected.starts_with("uninitialized element")
                        && trap.message().contains("uninitialized element")) =>
            {
                Ok(())
            }
            Some(trap) => bail!("expected trap `{expected}`, got trap `{trap}`"),
            None => bail!("expected trap `{expected}`, got error: {}", error_text(&e)),
        },
    }
}

/// `assert_exception`: the call must end in an uncaught wasm exception,
/// which the embedding API reports as a `ThrownException` error (the
/// exception stays pending in the store; it is taken and dropped here).
fn expect_exception(store: &mut Store<()>, result: Result<Vec<Val>>) -> Result<()> {
    let pending = store.take_pending_exception();
    match result {
        Ok(values) => bail!(
            "expected an exception, got {}",
            values::show_all(store, &values)
        ),
        Err(e) if e.downcast_ref::<Trap>().is_some() => {
            bail!("expected an exception, got trap: {}", error_text(&e))
        }
        Err(e) if e.is::<ThrownException>() && pending.is_some() => Ok(()),
        Err(e) => bail!("expected an exception, got error: {}", error_text(&e)),
    }
}
