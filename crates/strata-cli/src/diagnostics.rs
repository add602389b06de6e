//! `strata run`'s debugging and profiling options, as wasmtime spells
//! them: `-D coredump=PATH` and `--profile=perfmap|jitdump|guest[,PATH[,INTERVAL]]`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata::{
    Config, GuestProfiler, Module, ProfilingStrategy, Store, Tier, Trap, UpdateDeadline,
    WasmCoreDump,
};

/// `-D` options.
#[derive(Default)]
pub struct DebugOptions {
    /// `-D coredump=PATH`: where a trap writes its core dump.
    pub coredump: Option<PathBuf>,
}

/// Every `-D` key: the key, its value, and what it does.
pub const DEBUG_OPTIONS: [(&str, &str, &str); 1] = [(
    "coredump",
    "PATH",
    "when wasm traps, write a core dump (the tool-conventions Coredump.md format) to PATH",
)];

impl DebugOptions {
    /// Parses `-D` values: comma-separated `KEY=VALUE` items.
    pub fn parse(values: &[String]) -> Result<DebugOptions> {
        let mut options = DebugOptions::default();
        for item in values
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|i| !i.is_empty())
        {
            match item.split_once('=') {
                Some(("coredump", path)) if !path.is_empty() => {
                    options.coredump = Some(PathBuf::from(path));
                }
                _ => {
                    let keys: Vec<String> = DEBUG_OPTIONS
                        .iter()
                        .map(|(k, v, _)| format!("{k}={v}"))
                        .collect();
                    bail!(
                        "unknown -D option `{item}`; expected one of: {}",
                        keys.join(", ")
                    )
                }
            }
        }
        Ok(options)
    }

    /// Sets up the engine for the options.
    pub fn configure(&self, config: &mut Config) {
        config.coredump_on_trap(self.coredump.is_some());
    }

    /// Writes the core dump that `error` carries, if it carries one and a
    /// path was given; `program` names the module in the dump. The error
    /// stays what it is; a failure to write is reported on standard error.
    pub fn write_core_dump<T>(&self, store: &mut Store<T>, error: &anyhow::Error, program: &str) {
        let (Some(path), Some(dump)) = (&self.coredump, error.downcast_ref::<WasmCoreDump>())
        else {
            return;
        };
        let bytes = dump.serialize(store, program);
        let written = std::fs::write(path, bytes)
            .with_context(|| format!("failed to write the core dump to `{}`", path.display()));
        match written {
            Ok(()) => eprintln!("core dumped at `{}`", path.display()),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
}

/// A profiling strategy from `--profile`.
pub enum Profile {
    /// `perfmap`: `/tmp/perf-PID.map` for `perf report`.
    PerfMap,
    /// `jitdump`: `jit-PID.dump` for `perf inject --jit`.
    JitDump,
    /// `guest[,PATH[,INTERVAL]]`: samples of the wasm stack, written as a
    /// Firefox Profiler profile.
    Guest { path: PathBuf, interval: Duration },
}

/// The default file of `--profile=guest`.
pub const GUEST_PROFILE: &str = "strata-guest-profile.json";
/// The default sampling interval of `--profile=guest`, as wasmtime's.
pub const GUEST_INTERVAL: Duration = Duration::from_millis(10);

impl Profile {
    /// Parses the value of `--profile`.
    pub fn parse(value: &str) -> Result<Profile> {
        let mut parts = value.split(',');
        let kind = parts.next().unwrap_or_default();
        let profile = match kind {
            "perfmap" => Profile::PerfMap,
            "jitdump" => Profile::JitDump,
            "guest" => {
                let path = match parts.next() {
                    Some(p) if !p.is_empty() => PathBuf::from(p),
                    _ => PathBuf::from(GUEST_PROFILE),
                };
                let interval = match parts.next() {
                    Some(i) => crate::limits::parse_duration(i)
                        .with_context(|| format!("bad --profile=guest interval `{i}`"))?,
                    None => GUEST_INTERVAL,
                };
                if interval.is_zero() {
                    bail!("the --profile=guest interval must be more than zero");
                }
                Profile::Guest { path, interval }
            }
            other => bail!(
                "unknown profiling strategy `{other}`; expected perfmap, jitdump or \
                 guest[,PATH[,INTERVAL]]"
            ),
        };
        if parts.next().is_some() {
            bail!("too many parts in --profile=`{value}`");
        }
        Ok(profile)
    }

    /// Sets up the engine for the profile. Only compiled code has
    /// addresses, so in the interpreter tier `perfmap` and `jitdump` say so
    /// on standard error and do nothing.
    pub fn configure(&self, config: &mut Config, tier: Tier) {
        let strategy = match self {
            Profile::PerfMap => ProfilingStrategy::PerfMap,
            Profile::JitDump => ProfilingStrategy::JitDump,
            Profile::Guest { .. } => {
                // Samples are taken when the epoch deadline passes.
                config.epoch_interruption(true);
                return;
            }
        };
        if tier == Tier::Interp {
            let name = if strategy == ProfilingStrategy::PerfMap {
                "perfmap"
            } else {
                "jitdump"
            };
            eprintln!(
                "warning: --profile={name} describes compiled code, and the interpreter tier \
                 compiles none: nothing to write (--profile=guest samples any tier)"
            );
            return;
        }
        config.profiler(strategy);
    }
}

/// A running `--profile=guest`: a timer thread advances the engine's epoch
/// every interval, and the store's epoch callback samples the wasm stack
/// it interrupts (in any tier, without signals).
pub struct GuestSampler {
    profiler: Arc<Mutex<GuestProfiler>>,
    stop: Arc<AtomicBool>,
    timer: std::thread::JoinHandle<()>,
    path: PathBuf,
}

impl GuestSampler {
    /// Starts sampling wasm that runs in `store` (whose engine has epoch
    /// interruption on) every `interval`, naming `module` after its file.
    /// With a `timeout` (`-W timeout`), a sample past it ends the run with
    /// the `Interrupt` trap, as the timeout alone would.
    pub fn start<T>(
        store: &mut Store<T>,
        module: &Module,
        module_path: &Path,
        path: &Path,
        interval: Duration,
        timeout: Option<Duration>,
    ) -> GuestSampler {
        let name = module_path.file_name().map_or_else(
            || module_path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let profiler = Arc::new(Mutex::new(GuestProfiler::new(
            &name,
            interval,
            [(name.clone(), module.clone())],
        )));
        let started = Instant::now();
        let sampler = Arc::clone(&profiler);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |store| {
            let mut profiler = sampler.lock().unwrap_or_else(|e| e.into_inner());
            profiler.sample(&*store, interval);
            if timeout.is_some_and(|t| started.elapsed() >= t) {
                return Err(Trap::Interrupt.into());
            }
            Ok(UpdateDeadline::Continue(1))
        });
        let stop = Arc::new(AtomicBool::new(false));
        let engine = store.engine().clone();
        let stopped = Arc::clone(&stop);
        let timer = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(interval);
                engine.increment_epoch();
            }
        });
        GuestSampler {
            profiler,
            stop,
            timer,
            path: path.to_path_buf(),
        }
    }

    /// Stops sampling and writes the profile.
    pub fn finish<T>(self, store: &mut Store<T>) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.timer.join();
        // Drops the callback, and with it the other handle on the profiler.
        store.epoch_deadline_trap();
        let profiler = match Arc::try_unwrap(self.profiler) {
            Ok(profiler) => profiler.into_inner().unwrap_or_else(|e| e.into_inner()),
            Err(_) => bail!("the guest profiler is still in use"),
        };
        let file = std::fs::File::create(&self.path).with_context(|| {
            format!(
                "failed to create the guest profile `{}`",
                self.path.display()
            )
        })?;
        profiler
            .finish(std::io::BufWriter::new(file))
            .with_context(|| {
                format!(
                    "failed to write the guest profile `{}`",
                    self.path.display()
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_options_as_wasmtime_spells_them() {
        let d = DebugOptions::parse(&["coredump=/tmp/x.core".into()]).unwrap();
        assert_eq!(d.coredump, Some(PathBuf::from("/tmp/x.core")));
        assert!(DebugOptions::parse(&["coredump".into()]).is_err());
        assert!(DebugOptions::parse(&["dwarf=y".into()]).is_err());

        assert!(matches!(Profile::parse("perfmap"), Ok(Profile::PerfMap)));
        assert!(matches!(Profile::parse("jitdump"), Ok(Profile::JitDump)));
        match Profile::parse("guest").unwrap() {
            Profile::Guest { path, interval } => {
                assert_eq!(path, PathBuf::from(GUEST_PROFILE));
                assert_eq!(interval, GUEST_INTERVAL);
            }
            _ => panic!("not guest"),
        }
        match Profile::parse("guest,out.json,1ms").unwrap() {
            Profile::Guest { path, interval } => {
                assert_eq!(path, PathBuf::from("out.json"));
                assert_eq!(interval, Duration::from_millis(1));
            }
            _ => panic!("not guest"),
        }
        assert!(Profile::parse("guest,out.json,0s").is_err());
        assert!(Profile::parse("guest,a,1ms,extra").is_err());
        assert!(Profile::parse("vtune").is_err());
    }
}
