//! `perf`'s map files: `/tmp/perf-PID.map`, one line per function of JIT
//! code, `START SIZE NAME` with START and SIZE in hexadecimal. `perf
//! report` reads the file of the process it profiled to name samples that
//! fall into anonymous executable memory.

use super::{CodeObserver, CodeRegion};
use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The process's map file, shared by every engine that writes one.
pub(crate) struct PerfMap {
    file: Arc<Mutex<File>>,
}

impl PerfMap {
    /// Opens (creates, or truncates once per process) `/tmp/perf-PID.map`.
    pub(crate) fn open() -> anyhow::Result<PerfMap> {
        static FILE: OnceLock<Arc<Mutex<File>>> = OnceLock::new();
        if let Some(file) = FILE.get() {
            return Ok(PerfMap {
                file: Arc::clone(file),
            });
        }
        let path = format!("/tmp/perf-{}.map", std::process::id());
        let file = File::create(&path).with_context(|| format!("failed to create `{path}`"))?;
        let file = FILE.get_or_init(|| Arc::new(Mutex::new(file)));
        Ok(PerfMap {
            file: Arc::clone(file),
        })
    }
}

impl CodeObserver for PerfMap {
    fn code_published(&self, regions: &[CodeRegion<'_>]) {
        let mut lines = String::new();
        for r in regions {
            // perf reads the name up to the end of the line.
            let name = r.name.replace('\n', " ");
            lines.push_str(&format!("{:x} {:x} {name}\n", r.address, r.len));
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // One write per batch, so concurrent compilations do not interleave
        // lines; a failed write loses only these names.
        let _ = file.write_all(lines.as_bytes());
    }
}
