//! Ahead-of-time artifacts (`.cwasm`) and compile-cache entries: compiled
//! code in a file, with what proves it may run here.
//!
//! The format (all integers little-endian):
//!
//! ```text
//! magic         8 bytes  "\x7fSTRATA\0"
//! format        u32      FORMAT_VERSION
//! length        u64      of the whole file, checksum included
//! version       str      Strata's version
//! fingerprint   str      what the code depends on: target, Cranelift
//!                        settings, CPU features, every Config setting that
//!                        changes code (`name=value` lines)
//! module hash   32 bytes SHA-256 of the module's binary
//! wasm          bytes    the binary (empty in a cache entry, whose key
//!                        already names the binary)
//! image         the code image (`jit::image`)
//! checksum      16 bytes XXH3-128 of everything before it
//! ```
//!
//! The checksum detects damage (a truncated or corrupted file), not
//! forgery: whoever can write the file can write a matching checksum
//! (hence `unsafe Module::deserialize`). XXH3 reads the 3.8 MB cache entry
//! of the regex app in about 0.2 ms where SHA-256 took 2 ms, a tenth of a
//! warm start. The module hash, which names a cache entry, stays SHA-256.
//!
//! Loading checks, in order: the magic, the format version, the length
//! (truncation), the checksum (damage), Strata's version and the
//! fingerprint (an artifact made for another host or configuration), then
//! the image's own consistency. Any failure is an error; nothing of such a
//! file ever runs. `str` and `bytes` are a `u32` length and the bytes.

pub(crate) mod cache;

use crate::codec::{Reader, Writer};
use crate::jit::image::CodeImage;
use crate::{Config, Engine};
use anyhow::{bail, Context as _, Result};
use sha2::{Digest, Sha256};

/// The first bytes of every artifact.
pub(crate) const MAGIC: &[u8; 8] = b"\x7fSTRATA\0";

/// The artifact format's version; bumped whenever the layout of the file
/// or of the code image changes.
pub(crate) const FORMAT_VERSION: u32 = 4;

/// The Strata build that wrote an artifact: its version and a hash of its
/// sources (`build.rs`), since another build's code may assume another
/// runtime layout.
const STRATA_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("STRATA_BUILD_ID"));

/// The size of a SHA-256 hash.
const HASH_LEN: usize = 32;

/// The size of an artifact's checksum.
const CHECKSUM_LEN: usize = 16;

/// Whether `bytes` look like an artifact (start with its magic).
pub(crate) fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// SHA-256 of `bytes`.
pub(crate) fn hash(bytes: &[u8]) -> [u8; HASH_LEN] {
    Sha256::digest(bytes).into()
}

/// The checksum of an artifact's `bytes` (XXH3-128).
fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes()
}

/// The settings of `config` that change the code compiled for a module,
/// one `name=value` line each (everything else, such as stack and memory
/// limits, is enforced at run time and may differ between compiling and
/// running).
fn config_settings(config: &Config) -> String {
    let mut s = String::new();
    for (cli, _, flag) in crate::config::PROPOSALS {
        s.push_str(&format!("wasm.{cli}={}\n", config.features.contains(*flag)));
    }
    s.push_str(&format!(
        "relaxed-simd-deterministic={}\nconsume-fuel={}\nepoch-interruption={}\n\
         memory-guard-pages={}\njit-max-function-size={}\n",
        config.relaxed_simd_deterministic,
        config.consume_fuel,
        config.epoch_interruption,
        config.memory_guard_pages,
        config.jit_max_function_size,
    ));
    s
}

/// The engine's configuration fingerprint: the host's code generation
/// target (`jit::target_description`) and its code-changing settings.
pub(crate) fn fingerprint(engine: &Engine) -> Result<&str> {
    engine.fingerprint(|| {
        Ok(format!(
            "{}{}",
            crate::jit::target_description()?,
            config_settings(engine.config())
        ))
    })
}

/// Writes an artifact holding `image`, compiled by `engine` for the
/// module whose binary hashes to `module_hash`; `wasm` is that binary, or
/// empty for a cache entry.
pub(crate) fn write(
    engine: &Engine,
    module_hash: &[u8; HASH_LEN],
    wasm: &[u8],
    image: &CodeImage,
) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    w.bytes.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0); // the length, filled in below
    w.str(STRATA_VERSION)?;
    w.str(fingerprint(engine)?)?;
    w.bytes.extend_from_slice(module_hash);
    w.bytes(wasm)?;
    image.write(&mut w)?;
    let mut bytes = w.bytes;
    let len = (bytes.len() + CHECKSUM_LEN) as u64;
    bytes[12..20].copy_from_slice(&len.to_le_bytes());
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    Ok(bytes)
}

/// An artifact whose header, checksum and fingerprint were checked.
pub(crate) struct Artifact<'a> {
    /// SHA-256 of the module's binary.
    pub module_hash: [u8; HASH_LEN],
    /// The module's binary (empty in a cache entry).
    pub wasm: &'a [u8],
    /// The code image, still in its byte format (reading it needs the
    /// module: [`Artifact::image`]).
    image: &'a [u8],
}

impl Artifact<'_> {
    /// Reads the code image, for a module with `defined` functions.
    pub fn image(&self, defined: usize) -> Result<CodeImage> {
        read_image(self.image, defined)
    }

    /// Where the code image lies in `bytes`, the artifact this was parsed
    /// from (for [`read_image`] later).
    pub fn image_range(&self, bytes: &[u8]) -> std::ops::Range<usize> {
        let start = self.image.as_ptr() as usize - bytes.as_ptr() as usize;
        start..start + self.image.len()
    }
}

/// Reads a code image in its byte format (the end of an artifact), for a
/// module with `defined` functions.
pub(crate) fn read_image(bytes: &[u8], defined: usize) -> Result<CodeImage> {
    let mut r = Reader::new(bytes);
    let image = CodeImage::read(&mut r, defined as u32)?;
    if !r.is_empty() {
        bail!("the compiled code is followed by unexpected bytes");
    }
    Ok(image)
}

/// Checks `bytes` as an artifact for `engine` (see the module comment for
/// the order of the checks).
pub(crate) fn parse<'a>(engine: &Engine, bytes: &'a [u8]) -> Result<Artifact<'a>> {
    if !is_artifact(bytes) {
        bail!("not a precompiled Strata module (it does not start with Strata's artifact header)");
    }
    let mut r = Reader::new(&bytes[MAGIC.len()..]);
    let format = r.u32().context("the precompiled module is truncated")?;
    if format != FORMAT_VERSION {
        bail!(
            "the precompiled module has format version {format}, but this Strata reads \
             version {FORMAT_VERSION}; compile the module again"
        );
    }
    let len = r.u64().context("the precompiled module is truncated")?;
    if len != bytes.len() as u64 {
        if len > bytes.len() as u64 {
            bail!(
                "the precompiled module is truncated: {} of its {len} bytes are present",
                bytes.len()
            );
        }
        bail!("the precompiled module is damaged: its length does not match its header");
    }
    let Some(body_len) = bytes.len().checked_sub(CHECKSUM_LEN) else {
        bail!("the precompiled module is truncated");
    };
    let (body, sum) = bytes.split_at(body_len);
    if checksum(body) != sum {
        bail!("the precompiled module is damaged: its checksum does not match its contents");
    }
    let mut r = Reader::new(&body[MAGIC.len() + 12..]);
    let version = r.str()?;
    if version != STRATA_VERSION {
        bail!(
            "the precompiled module was compiled by Strata {version}, but this is Strata \
             {STRATA_VERSION}; compile the module again"
        );
    }
    let theirs = r.str()?;
    let ours = fingerprint(engine)?;
    if theirs != ours {
        bail!(
            "the precompiled module was compiled for a different host or configuration \
             ({}); compile it again with the same settings",
            fingerprint_difference(theirs, ours)
        );
    }
    let mut module_hash = [0; HASH_LEN];
    module_hash.copy_from_slice(r.take(HASH_LEN)?);
    let wasm = r.bytes()?;
    if !wasm.is_empty() && hash(wasm) != module_hash {
        bail!("the precompiled module is damaged: its module does not match its hash");
    }
    let image = r.rest();
    Ok(Artifact {
        module_hash,
        wasm,
        image,
    })
}

/// The first setting in which two fingerprints differ, for the error.
fn fingerprint_difference(theirs: &str, ours: &str) -> String {
    fn setting(line: &str) -> (&str, &str) {
        line.split_once('=').unwrap_or((line, ""))
    }
    let ours_map: std::collections::HashMap<&str, &str> = ours.lines().map(setting).collect();
    for line in theirs.lines() {
        let (key, value) = setting(line);
        match ours_map.get(key) {
            Some(here) if *here == value => {}
            Some(here) => return format!("`{key}` is {value} there and {here} here"),
            None => return format!("`{key}` is unknown here"),
        }
    }
    let theirs_keys: std::collections::HashSet<&str> =
        theirs.lines().map(|l| setting(l).0).collect();
    match ours
        .lines()
        .map(|l| setting(l).0)
        .find(|k| !theirs_keys.contains(k))
    {
        Some(key) => format!("`{key}` is missing there"),
        None => "the settings are ordered differently".to_string(),
    }
}
