//! Code images: the machine code of a set of compiled functions laid out
//! in one block, with what it takes to load the block at any address
//! (relocations) and to map its addresses back to wasm (trap sites and
//! source locations, for the signal handler and backtraces).
//!
//! An image is built from any subset of a module's functions (the whole
//! module when it is loaded, or a batch of hot functions); each function
//! comes with its array-call trampoline. Compiled code reaches everything
//! process-specific through the `VMContext`, so the only relocations are a
//! trampoline's call of its function (within the image) and calls of
//! Cranelift's libcalls (`ceilf`, `fma`, ..., where the host lacks the
//! instruction), patched with absolute addresses at load time. An image
//! is position-independent otherwise, which is what lets it be written to
//! an artifact or the compile cache and loaded in another process
//! (`code_memory.rs` loads it; `write`/`read` are its byte format).
//!
//! Next to the trap sites, each function has the stack maps of its calls
//! ([`StackMap`]): where the GC references live across each call are
//! spilled, for the collector (`signals::frame_gc_slots`).

use super::signals::SrcLocs;
use super::throw::CallSite;
use crate::codec::{Reader, Writer};
use anyhow::{bail, Result};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{LibCall, TrapCode};
use std::num::NonZeroU8;

/// Where each function starts in an image: a multiple of this (or of the
/// function's own alignment, when larger).
const FUNC_ALIGN: usize = 16;

/// One function's (or trampoline's) code in an image.
#[derive(Debug)]
pub(crate) struct ImageFunc {
    /// The function's index among the module's defined functions.
    pub defined: u32,
    /// Whether this is the function's array-call trampoline.
    pub trampoline: bool,
    /// For tiered execution's entries at a loop (`jit::tier_up`): which
    /// loop entry of the image this is (or the trampoline of). Such
    /// images are only ever loaded where they were compiled, never
    /// written out.
    pub loop_entry: Option<u32>,
    /// Where its code starts in the image, and how long it is.
    pub offset: u32,
    pub len: u32,
    /// Trapping instructions: offset from the function's start, trap code.
    pub traps: Vec<(u32, TrapCode)>,
    /// Which wasm operator each range of the code comes from.
    pub srclocs: SrcLocs,
    /// Its calls covered by exception handlers, sorted by return address.
    pub call_sites: Vec<CallSite>,
    /// The stack maps of its calls, sorted by return address.
    pub stack_maps: Vec<StackMap>,
}

/// Where the GC references that live across one call are, while the
/// callee runs (Cranelift's user stack maps, `translate.rs` declares which
/// values are references): the slots at `fp - frame_size + slot` for each
/// of `slots`, where `fp` is the frame pointer of the calling function's
/// frame. Each slot holds a reference's 64-bit cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StackMap {
    /// The call's return address, as an offset from the function's start.
    pub at: u32,
    /// The bytes from the stack pointer at the call up to the frame
    /// pointer.
    pub frame_size: u32,
    /// Offsets of the reference slots from the stack pointer at the call.
    pub slots: Vec<u32>,
}

/// How a relocation is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocKind {
    /// The target's absolute address, 8 bytes.
    Abs8,
    /// The target relative to the patched field, 4 bytes (x86-64 calls).
    PcRel4,
    /// An aarch64 `bl`: the word distance in the low 26 bits.
    Arm64Call,
}

/// What a relocation points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocTarget {
    /// The native code of a defined function in the same image.
    Native(u32),
    /// Loop entry `k` of the same image (never written out).
    LoopEntry(u32),
    /// One of Cranelift's libcalls (an index into [`LIBCALLS`]).
    LibCall(u8),
}

/// The libcalls compiled code may use, in the order their index in an
/// image refers to (the order is part of the artifact format).
pub(crate) const LIBCALLS: [LibCall; 14] = [
    LibCall::CeilF32,
    LibCall::CeilF64,
    LibCall::FloorF32,
    LibCall::FloorF64,
    LibCall::TruncF32,
    LibCall::TruncF64,
    LibCall::NearestF32,
    LibCall::NearestF64,
    LibCall::FmaF32,
    LibCall::FmaF64,
    LibCall::Memcpy,
    LibCall::Memset,
    LibCall::Memmove,
    LibCall::Memcmp,
];

/// A field of the image to patch when it is loaded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImageReloc {
    /// Offset of the patched field in the image.
    pub offset: u32,
    pub kind: RelocKind,
    pub target: RelocTarget,
    pub addend: i64,
}

impl RelocKind {
    /// The size of the patched field.
    pub fn size(self) -> u32 {
        match self {
            RelocKind::Abs8 => 8,
            RelocKind::PcRel4 | RelocKind::Arm64Call => 4,
        }
    }
}

/// Machine code for a set of functions, laid out, not yet loaded.
#[derive(Debug, Default)]
pub(crate) struct CodeImage {
    /// The code; relocated fields are zero (or hold an earlier load's
    /// values, which loading overwrites).
    pub text: Vec<u8>,
    pub funcs: Vec<ImageFunc>,
    pub relocs: Vec<ImageReloc>,
}

/// One function's machine code as Cranelift produced it.
pub(crate) struct CompiledFunc {
    pub defined: u32,
    pub trampoline: bool,
    /// Which loop entry this is (or the trampoline of), if any.
    pub loop_entry: Option<u32>,
    pub alignment: u32,
    pub bytes: Vec<u8>,
    /// (offset in the function, kind, target, addend).
    pub relocs: Vec<(u32, RelocKind, RelocTarget, i64)>,
    pub traps: Vec<(u32, TrapCode)>,
    pub srclocs: SrcLocs,
    pub call_sites: Vec<CallSite>,
    pub stack_maps: Vec<StackMap>,
}

/// The kind of a Cranelift relocation, or an error for one compiled code
/// should never contain.
pub(crate) fn reloc_kind(reloc: Reloc) -> Result<RelocKind> {
    Ok(match reloc {
        Reloc::Abs8 => RelocKind::Abs8,
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 => RelocKind::PcRel4,
        Reloc::Arm64Call => RelocKind::Arm64Call,
        other => bail!("compiled code needs an unsupported relocation ({other:?})"),
    })
}

/// The index of a libcall in [`LIBCALLS`].
pub(crate) fn libcall_index(call: LibCall) -> Result<u8> {
    match LIBCALLS.iter().position(|c| *c == call) {
        Some(i) => Ok(i as u8),
        None => bail!("compiled code calls an unsupported runtime library function ({call:?})"),
    }
}

impl CodeImage {
    /// Lays `funcs` out one after the other, each at its alignment.
    pub fn build(funcs: Vec<CompiledFunc>) -> Result<CodeImage> {
        let mut image = CodeImage::default();
        for f in funcs {
            let align = (f.alignment as usize).max(FUNC_ALIGN);
            let start = image.text.len().next_multiple_of(align);
            image.text.resize(start, 0);
            image.text.extend_from_slice(&f.bytes);
            let Ok(offset) = u32::try_from(start) else {
                bail!("the compiled code is larger than 4 GiB");
            };
            for (at, kind, target, addend) in f.relocs {
                image.relocs.push(ImageReloc {
                    offset: offset + at,
                    kind,
                    target,
                    addend,
                });
            }
            image.funcs.push(ImageFunc {
                defined: f.defined,
                trampoline: f.trampoline,
                loop_entry: f.loop_entry,
                offset,
                len: f.bytes.len() as u32,
                traps: f.traps,
                srclocs: f.srclocs,
                call_sites: f.call_sites,
                stack_maps: f.stack_maps,
            });
        }
        if u32::try_from(image.text.len()).is_err() {
            bail!("the compiled code is larger than 4 GiB");
        }
        image.check(u32::MAX)?;
        Ok(image)
    }

    /// Checks that the image is consistent: functions, trap sites, source
    /// locations and relocations inside the code, functions of a module
    /// with `defined` functions, each with its trampoline, and relocation
    /// targets that exist. Loading relies on this; an image read from a
    /// file is checked before it is loaded.
    pub fn check(&self, defined: u32) -> Result<()> {
        let text = self.text.len() as u64;
        let mut seen = std::collections::HashMap::new();
        let mut loops = std::collections::HashSet::new();
        for f in &self.funcs {
            if f.defined >= defined {
                bail!(
                    "compiled code for function {} of a module with {defined}",
                    f.defined
                );
            }
            if u64::from(f.offset) + u64::from(f.len) > text {
                bail!(
                    "compiled code of function {} lies outside the image",
                    f.defined
                );
            }
            if f.traps.iter().any(|t| t.0 >= f.len)
                || f.srclocs.ranges().iter().any(|r| r.1 > f.len)
                || f.stack_maps.iter().any(|m| {
                    m.at > f.len || m.slots.iter().any(|&s| s.saturating_add(8) > m.frame_size)
                })
                || !f.stack_maps.windows(2).all(|w| w[0].at < w[1].at)
                || f.call_sites
                    .iter()
                    .any(|c| c.ret > f.len || c.handlers.iter().any(|h| h.1 >= f.len))
                || !f.call_sites.is_sorted_by(|a, b| a.ret < b.ret)
            {
                bail!(
                    "the code tables of function {} lie outside its code",
                    f.defined
                );
            }
            if let Some(k) = f.loop_entry {
                loops.insert(k);
                continue;
            }
            let e = seen.entry(f.defined).or_insert((0, 0));
            if f.trampoline {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
        if seen.values().any(|&(n, t)| n != 1 || t != 1) {
            bail!("compiled functions and trampolines do not match");
        }
        for r in &self.relocs {
            if u64::from(r.offset) + u64::from(r.kind.size()) > text {
                bail!("a relocation lies outside the compiled code");
            }
            match r.target {
                RelocTarget::Native(i) if !seen.contains_key(&i) => {
                    bail!("a relocation names function {i}, which is not in the image")
                }
                RelocTarget::LoopEntry(k) if !loops.contains(&k) => {
                    bail!("a relocation names loop entry {k}, which is not in the image")
                }
                RelocTarget::LibCall(i) if usize::from(i) >= LIBCALLS.len() => {
                    bail!("a relocation names unknown runtime function {i}")
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends the image's byte format to `w`.
    pub fn write(&self, w: &mut Writer) -> Result<()> {
        if self.funcs.iter().any(|f| f.loop_entry.is_some()) {
            bail!("code with loop entries is not written out");
        }
        w.bytes(&self.text)?;
        w.len(self.funcs.len())?;
        for f in &self.funcs {
            w.u32(f.defined);
            w.u8(u8::from(f.trampoline));
            w.u32(f.offset);
            w.u32(f.len);
            w.len(f.traps.len())?;
            for &(at, code) in &f.traps {
                w.u32(at);
                w.u8(code.as_raw().get());
            }
            let ranges = f.srclocs.ranges();
            w.len(ranges.len())?;
            for &(start, end, loc) in ranges {
                w.u32(start);
                w.u32(end);
                w.u32(loc);
            }
            w.len(f.call_sites.len())?;
            for c in &f.call_sites {
                w.u32(c.ret);
                w.u32(c.frame_offset);
                // A context in a register is `u32::MAX`, no frame's size.
                w.u32(c.context.unwrap_or(u32::MAX));
                w.len(c.handlers.len())?;
                for &(tag, at) in &c.handlers[..] {
                    // A catch-all is tag `u32::MAX`, which no module has.
                    w.u32(tag.unwrap_or(u32::MAX));
                    w.u32(at);
                }
            }
            w.len(f.stack_maps.len())?;
            for m in &f.stack_maps {
                w.u32(m.at);
                w.u32(m.frame_size);
                w.len(m.slots.len())?;
                for &s in &m.slots {
                    w.u32(s);
                }
            }
        }
        w.len(self.relocs.len())?;
        for r in &self.relocs {
            w.u32(r.offset);
            w.u8(match r.kind {
                RelocKind::Abs8 => 0,
                RelocKind::PcRel4 => 1,
                RelocKind::Arm64Call => 2,
            });
            match r.target {
                RelocTarget::Native(i) => {
                    w.u8(0);
                    w.u32(i);
                }
                RelocTarget::LoopEntry(_) => bail!("code with loop entries is not written out"),
                RelocTarget::LibCall(i) => {
                    w.u8(1);
                    w.u32(u32::from(i));
                }
            }
            w.u64(r.addend as u64);
        }
        Ok(())
    }

    /// Reads an image written by [`CodeImage::write`] for a module with
    /// `defined` functions, and checks it.
    pub fn read(r: &mut Reader<'_>, defined: u32) -> Result<CodeImage> {
        let text = r.bytes()?.to_vec();
        let mut funcs = Vec::with_capacity(r.count(17)?);
        for _ in 0..funcs.capacity() {
            let defined = r.u32()?;
            let trampoline = match r.u8()? {
                0 => false,
                1 => true,
                _ => bail!("bad function kind"),
            };
            let offset = r.u32()?;
            let len = r.u32()?;
            let mut traps = Vec::with_capacity(r.count(5)?);
            for _ in 0..traps.capacity() {
                let at = r.u32()?;
                let Some(code) = NonZeroU8::new(r.u8()?) else {
                    bail!("bad trap code");
                };
                traps.push((at, TrapCode::from_raw(code)));
            }
            let mut ranges = Vec::with_capacity(r.count(12)?);
            for _ in 0..ranges.capacity() {
                ranges.push((r.u32()?, r.u32()?, r.u32()?));
            }
            let mut call_sites = Vec::with_capacity(r.count(16)?);
            for _ in 0..call_sites.capacity() {
                let (ret, frame_offset, context) = (r.u32()?, r.u32()?, r.u32()?);
                let mut handlers = Vec::with_capacity(r.count(8)?);
                for _ in 0..handlers.capacity() {
                    let tag = r.u32()?;
                    handlers.push(((tag != u32::MAX).then_some(tag), r.u32()?));
                }
                call_sites.push(CallSite {
                    ret,
                    frame_offset,
                    context: (context != u32::MAX).then_some(context),
                    handlers: handlers.into(),
                });
            }
            let mut stack_maps = Vec::with_capacity(r.count(12)?);
            for _ in 0..stack_maps.capacity() {
                let (at, frame_size) = (r.u32()?, r.u32()?);
                let mut slots = Vec::with_capacity(r.count(4)?);
                for _ in 0..slots.capacity() {
                    slots.push(r.u32()?);
                }
                stack_maps.push(StackMap {
                    at,
                    frame_size,
                    slots,
                });
            }
            funcs.push(ImageFunc {
                defined,
                trampoline,
                loop_entry: None,
                offset,
                len,
                traps,
                srclocs: SrcLocs::from_ranges(ranges),
                call_sites,
                stack_maps,
            });
        }
        let mut relocs = Vec::with_capacity(r.count(18)?);
        for _ in 0..relocs.capacity() {
            let offset = r.u32()?;
            let kind = match r.u8()? {
                0 => RelocKind::Abs8,
                1 => RelocKind::PcRel4,
                2 => RelocKind::Arm64Call,
                _ => bail!("bad relocation kind"),
            };
            let target = match (r.u8()?, r.u32()?) {
                (0, i) => RelocTarget::Native(i),
                (1, i) if i < LIBCALLS.len() as u32 => RelocTarget::LibCall(i as u8),
                _ => bail!("bad relocation target"),
            };
            let addend = r.u64()? as i64;
            relocs.push(ImageReloc {
                offset,
                kind,
                target,
                addend,
            });
        }
        let image = CodeImage {
            text,
            funcs,
            relocs,
        };
        image.check(defined)?;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CodeImage {
        let func = |trampoline: bool, offset| ImageFunc {
            defined: 1,
            trampoline,
            loop_entry: None,
            offset,
            len: 8,
            traps: vec![
                (2, TrapCode::HEAP_OUT_OF_BOUNDS),
                (4, TrapCode::unwrap_user(3)),
            ],
            srclocs: SrcLocs::from_ranges(vec![(0, 4, 0x30), (4, 8, 0x34)]),
            call_sites: vec![CallSite {
                ret: 4,
                frame_offset: 32,
                context: Some(8),
                handlers: vec![(Some(1), 6), (None, 7)].into(),
            }],
            stack_maps: vec![StackMap {
                at: 4,
                frame_size: 32,
                slots: vec![0, 16],
            }],
        };
        CodeImage {
            text: (0..16).collect(),
            funcs: vec![func(false, 0), func(true, 8)],
            relocs: vec![ImageReloc {
                offset: 9,
                kind: RelocKind::PcRel4,
                target: RelocTarget::Native(1),
                addend: -4,
            }],
        }
    }

    fn round_trip(image: &CodeImage, defined: u32) -> Result<CodeImage> {
        let mut w = Writer::default();
        image.write(&mut w)?;
        CodeImage::read(&mut Reader::new(&w.bytes), defined)
    }

    #[test]
    fn images_round_trip_through_their_byte_format() {
        let image = sample();
        let back = round_trip(&image, 2).unwrap();
        assert_eq!(back.text, image.text);
        assert_eq!(back.relocs.len(), 1);
        assert_eq!(back.relocs[0].target, RelocTarget::Native(1));
        assert_eq!(back.relocs[0].addend, -4);
        for (a, b) in back.funcs.iter().zip(&image.funcs) {
            assert_eq!(
                (a.defined, a.trampoline, a.offset, a.len),
                (b.defined, b.trampoline, b.offset, b.len)
            );
            assert_eq!(a.traps, b.traps);
            assert_eq!(a.stack_maps, b.stack_maps);
            assert_eq!(a.srclocs.ranges(), b.srclocs.ranges());
            assert_eq!(a.call_sites, b.call_sites);
        }
    }

    #[test]
    fn inconsistent_images_are_refused() {
        // A function the module does not have.
        assert!(round_trip(&sample(), 1).is_err());
        // Code outside the image.
        let mut image = sample();
        image.funcs[1].len = 9;
        assert!(image.check(2).is_err());
        // A handler outside the code.
        let mut image = sample();
        image.funcs[0].call_sites[0].handlers = vec![(None, 8)].into();
        assert!(image.check(2).is_err());
        // A function without its trampoline.
        let mut image = sample();
        image.funcs.pop();
        assert!(image.check(2).is_err());
        // A relocation outside the code, or naming a missing function.
        let mut image = sample();
        image.relocs[0].offset = 13;
        assert!(image.check(2).is_err());
        let mut image = sample();
        image.relocs[0].target = RelocTarget::Native(0);
        assert!(image.check(2).is_err());
        // A stack map past the code, or a slot outside its frame.
        let mut image = sample();
        image.funcs[0].stack_maps[0].at = 9;
        assert!(image.check(2).is_err());
        let mut image = sample();
        image.funcs[0].stack_maps[0].slots.push(28);
        assert!(image.check(2).is_err());
        // Truncated bytes.
        let mut w = Writer::default();
        sample().write(&mut w).unwrap();
        for len in 0..w.bytes.len() {
            assert!(CodeImage::read(&mut Reader::new(&w.bytes[..len]), 2).is_err());
        }
    }
}
