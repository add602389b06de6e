//! `strata run`'s debugging and profiling options, as wasmtime spells
//! them: `-D coredump=PATH` and `--profile=perfmap|jitdump|guest[,PATH[,INTERVAL]]`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use strata::{Config, Store, WasmCoreDump};

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
