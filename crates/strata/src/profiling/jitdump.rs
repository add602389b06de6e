//! The jitdump format of `perf` (tools/perf/Documentation/
//! jitdump-specification.txt in the Linux sources): a header, then one
//! `JIT_CODE_LOAD` record per function with its address, size, name and
//! machine code. `perf record -k mono` notices the file because the
//! process maps it executable; `perf inject --jit` then writes an ELF
//! image per function so `perf report` can name and annotate them.

use super::{CodeObserver, CodeRegion};
use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The header's magic number ("JiTD" when read as a little-endian u32).
const MAGIC: u32 = 0x4A69_5444;
const VERSION: u32 = 1;
/// Record types.
const JIT_CODE_LOAD: u32 = 0;
/// The header's size: six fields of 4 bytes, then two of 8.
const HEADER_SIZE: u32 = 40;
/// The fixed part of a `JIT_CODE_LOAD` record: its 16-byte prefix (type,
/// size, timestamp), pid, tid, vma, code address, code size, code index.
const CODE_LOAD_SIZE: u32 = 16 + 4 + 4 + 8 + 8 + 8 + 8;

/// The ELF machine of the host, which the header names.
const ELF_MACHINE: u32 = if cfg!(target_arch = "x86_64") {
    62 // EM_X86_64
} else if cfg!(target_arch = "aarch64") {
    183 // EM_AARCH64
} else {
    0 // EM_NONE
};

/// The process's jitdump file, shared by every engine that writes one.
pub(crate) struct JitDump {
    state: Arc<Mutex<State>>,
}

struct State {
    file: File,
    /// Functions written so far (each record's `code_index`).
    next_index: u64,
}

impl JitDump {
    /// Opens `jit-PID.dump` in the current directory (once per process),
    /// writes its header, and maps it executable so `perf record` notes it.
    pub(crate) fn open() -> anyhow::Result<JitDump> {
        static STATE: OnceLock<Arc<Mutex<State>>> = OnceLock::new();
        if let Some(state) = STATE.get() {
            return Ok(JitDump {
                state: Arc::clone(state),
            });
        }
        let path = format!("jit-{}.dump", std::process::id());
        // Readable too: mapping needs it.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("failed to create `{path}`"))?;
        file.write_all(&header())
            .with_context(|| format!("failed to write `{path}`"))?;
        announce(&file).with_context(|| format!("failed to map `{path}`"))?;
        let state = STATE.get_or_init(|| {
            Arc::new(Mutex::new(State {
                file,
                next_index: 0,
            }))
        });
        Ok(JitDump {
            state: Arc::clone(state),
        })
    }
}

/// The file header.
fn header() -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_SIZE as usize);
    h.extend_from_slice(&MAGIC.to_le_bytes());
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&HEADER_SIZE.to_le_bytes());
    h.extend_from_slice(&ELF_MACHINE.to_le_bytes());
    h.extend_from_slice(&0_u32.to_le_bytes()); // pad1
    h.extend_from_slice(&std::process::id().to_le_bytes());
    h.extend_from_slice(&timestamp().to_le_bytes());
    h.extend_from_slice(&0_u64.to_le_bytes()); // flags
    debug_assert_eq!(h.len(), HEADER_SIZE as usize);
    h
}

/// Maps the first page of `file` executable and leaves it mapped for the
/// life of the process: `perf record` records executable mappings, and
/// this one is how `perf inject` finds the dump.
fn announce(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a fresh private mapping of a file we own; nothing reads or
    // writes through it, and it is never unmapped, so no reference to it
    // can dangle.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page_size(),
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Now on the monotonic clock, in nanoseconds: the clock `perf record -k
/// mono` stamps samples with, so records and samples can be ordered.
fn timestamp() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The calling thread's id.
fn thread_id() -> u32 {
    // SAFETY: `gettid` has no preconditions.
    unsafe { libc::gettid() as u32 }
}

impl CodeObserver for JitDump {
    fn code_published(&self, regions: &[CodeRegion<'_>]) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut records = Vec::new();
        let (pid, tid) = (std::process::id(), thread_id());
        for r in regions {
            // SAFETY: a published region is readable, executable code of
            // `len` bytes, alive while it is registered (now).
            let code = unsafe { std::slice::from_raw_parts(r.address as *const u8, r.len) };
            let name = r.name.replace('\0', " ");
            let size = CODE_LOAD_SIZE as usize + name.len() + 1 + code.len();
            records.extend_from_slice(&JIT_CODE_LOAD.to_le_bytes());
            records.extend_from_slice(&(size as u32).to_le_bytes());
            records.extend_from_slice(&timestamp().to_le_bytes());
            records.extend_from_slice(&pid.to_le_bytes());
            records.extend_from_slice(&tid.to_le_bytes());
            records.extend_from_slice(&(r.address as u64).to_le_bytes()); // vma
            records.extend_from_slice(&(r.address as u64).to_le_bytes()); // code_addr
            records.extend_from_slice(&(r.len as u64).to_le_bytes());
            records.extend_from_slice(&state.next_index.to_le_bytes());
            records.extend_from_slice(name.as_bytes());
            records.push(0);
            records.extend_from_slice(code);
            state.next_index += 1;
        }
        // One write per batch; a failed write loses only these records.
        let _ = state.file.write_all(&records);
    }
}
