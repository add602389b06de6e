//! The compile cache: a module's compiled code kept in a file of the
//! user's cache directory, so that loading the same module again with the
//! same engine settings skips Cranelift.
//!
//! - **Key.** SHA-256 of the module's bytes, the artifact format version,
//!   Strata's version and the engine's fingerprint (Cranelift settings,
//!   host CPU features, every code-changing `Config` setting); the entry's
//!   file is `<key>.cwasm`.
//! - **Entries** are artifacts (`artifact/mod.rs`) without the module's
//!   binary: reading one checks its length, checksum, version, fingerprint
//!   and module hash, so a damaged or foreign entry is never run; it is
//!   removed and the module compiled again.
//! - **Writes** go to a temporary file in the same directory, renamed over
//!   the entry (atomic on POSIX), so concurrent processes only ever see
//!   whole entries; two processes compiling the same module both write the
//!   same entry and the last rename wins.
//! - **Size.** After writing, the directory is scanned (on an engine's
//!   first write and every 16th after it) and, when its entries exceed the
//!   limit, the least recently used (by modification time, which a hit
//!   refreshes) are removed down to three quarters of it. Temporary files
//!   left by a process that died are removed after an hour.
//! - **Hits skip validation**: an entry is only written after its module
//!   validated with the same settings, so `Module::from_binary` looks for
//!   one first ([`find`]) and, with one, only parses the module.
//! - The cache is best-effort: a directory that cannot be read or written
//!   only means compiling.

use crate::engine::CacheDir;
use crate::jit::{self, image::CodeImage, CompiledModule};
use crate::module::ModuleInfo;
use crate::Engine;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Writes by this process, for naming temporary files.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// The size check runs on every this-many-th write of an engine.
const CHECK_EVERY: u64 = 16;

/// The file of `engine`'s cache entry for a module whose bytes hash to
/// `module_hash`.
fn entry_path(engine: &Engine, cache: &CacheDir, module_hash: &[u8; 32]) -> Result<PathBuf> {
    let mut key = Vec::new();
    key.extend_from_slice(module_hash);
    key.extend_from_slice(&super::FORMAT_VERSION.to_le_bytes());
    key.extend_from_slice(super::STRATA_VERSION.as_bytes());
    key.push(0);
    key.extend_from_slice(super::fingerprint(engine)?.as_bytes());
    let hex: String = super::hash(&key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(cache.dir.join(format!("{hex}.cwasm")))
}

/// Compiles `m` for the JIT, or loads its code from the engine's cache
/// (and fills the cache on a miss). With `searched`, the caller already
/// looked for an entry ([`find`]) and found none it could use: the miss
/// is counted without reading and hashing everything a second time.
pub(crate) fn compile(engine: &Engine, m: &ModuleInfo, searched: bool) -> Result<CompiledModule> {
    if searched {
        count_miss(engine);
    } else if let Some(image) = lookup(engine, m) {
        if let Ok(code) = jit::load(m, &image) {
            return Ok(code);
        }
    }
    let image = jit::compile_image(m, &jit::selected_functions(m))?;
    let code = jit::load(m, &image)?;
    store(engine, m, &image);
    Ok(code)
}

/// The cached code image of `m`, when the engine has a cache with a
/// usable entry for it (counted as a hit; a miss when there is none).
/// Tier-up can take compiled code from here before any function is hot.
pub(crate) fn lookup(engine: &Engine, m: &ModuleInfo) -> Option<CodeImage> {
    let cache = engine.cache()?;
    let image = find_entry(engine, cache, &super::hash(&m.bytes)).and_then(|entry| entry.image(m));
    let counter = if image.is_some() {
        &cache.hits
    } else {
        &cache.misses
    };
    counter.fetch_add(1, Ordering::Relaxed);
    image
}

/// Counts a miss of a lookup the caller made with [`find`].
pub(crate) fn count_miss(engine: &Engine) {
    if let Some(cache) = engine.cache() {
        cache.misses.fetch_add(1, Ordering::Relaxed);
    }
}

/// A cache entry whose header, checksum, fingerprint and module hash were
/// checked; its image is read once the module is parsed.
pub(crate) struct Found {
    path: PathBuf,
    /// The entry, mapped rather than read (no copy of a multi-megabyte
    /// file before its checksum is checked).
    bytes: jit::code_memory::MappedFile,
    /// Where the code image lies in `bytes`.
    image: std::ops::Range<usize>,
}

/// The cache entry for the module binary `wasm`, before the module is
/// validated: an entry is only written for a module that validated with
/// the same settings (the key covers both), so a module with an entry
/// need not be validated again.
pub(crate) fn find(engine: &Engine, wasm: &[u8]) -> Option<Found> {
    let cache = engine.cache()?;
    find_entry(engine, cache, &super::hash(wasm))
}

impl Found {
    /// The entry's code image for `m` (parsed from the binary the entry
    /// was found for); `None`, removing the entry, when it does not fit.
    fn image(&self, m: &ModuleInfo) -> Option<CodeImage> {
        match super::read_image(&self.bytes[self.image.clone()], m.bodies.len()) {
            Ok(image) => {
                // A hit makes the entry the most recently used.
                if let Ok(file) = std::fs::File::open(&self.path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Some(image)
            }
            Err(_) => {
                let _ = std::fs::remove_file(&self.path);
                None
            }
        }
    }

    /// Loads the entry's code for `m`, counting a hit; `None` when it
    /// cannot be used (the caller compiles).
    pub(crate) fn load(self, engine: &Engine, m: &ModuleInfo) -> Option<CompiledModule> {
        let code = jit::load(m, &self.image(m)?).ok()?;
        if let Some(cache) = engine.cache() {
            cache.hits.fetch_add(1, Ordering::Relaxed);
        }
        Some(code)
    }
}

/// Writes `image`, compiled for `m`, to the engine's cache (if it has
/// one). Best effort: failures only mean compiling next time.
pub(crate) fn store(engine: &Engine, m: &ModuleInfo, image: &CodeImage) {
    let Some(cache) = engine.cache() else { return };
    let module_hash = super::hash(&m.bytes);
    let Ok(path) = entry_path(engine, cache, &module_hash) else {
        return;
    };
    if let Ok(entry) = super::write(engine, &module_hash, &[], image) {
        write_entry(cache, &path, &entry);
    }
}

/// The checked entry for the module hashing to `module_hash`, if there
/// is one. A damaged or foreign entry is removed.
fn find_entry(engine: &Engine, cache: &CacheDir, module_hash: &[u8; 32]) -> Option<Found> {
    let path = entry_path(engine, cache, module_hash).ok()?;
    let bytes = jit::code_memory::MappedFile::open(&path).ok()?;
    let image = super::parse(engine, &bytes).and_then(|entry| {
        if entry.module_hash != *module_hash {
            anyhow::bail!("the cache entry belongs to another module");
        }
        Ok(entry.image_range(&bytes))
    });
    match image {
        Ok(image) => Some(Found { path, bytes, image }),
        Err(_) => {
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

/// Writes `entry` to `path` atomically, then keeps the cache to its size.
fn write_entry(cache: &CacheDir, path: &Path, entry: &[u8]) {
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let engine_writes = cache.writes.fetch_add(1, Ordering::Relaxed);
    if std::fs::create_dir_all(&cache.dir).is_err() {
        return;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let temp = cache
        .dir
        .join(format!(".tmp-{}-{n}-{name}", std::process::id()));
    if std::fs::write(&temp, entry).is_err() || std::fs::rename(&temp, path).is_err() {
        let _ = std::fs::remove_file(&temp);
        return;
    }
    if engine_writes.is_multiple_of(CHECK_EVERY) {
        evict(&cache.dir, cache.max_size);
    }
}

/// Removes the least recently used entries of `dir` while they add up to
/// more than `max_size` (down to three quarters of it), and temporary
/// files older than an hour.
pub(crate) fn evict(dir: &Path, max_size: u64) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut entries = Vec::new();
    let mut total = 0u64;
    for item in listing.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        if name.starts_with(".tmp-") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age > Duration::from_secs(3600) {
                let _ = std::fs::remove_file(item.path());
            }
        } else if name.ends_with(".cwasm") && meta.is_file() {
            total += meta.len();
            entries.push((modified, meta.len(), item.path()));
        }
    }
    if total <= max_size {
        return;
    }
    entries.sort_by_key(|e| e.0);
    let target = max_size / 4 * 3;
    for (_, len, path) in entries {
        if total <= target {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}
