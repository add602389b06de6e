//! Arguments, environment, randomness and the process: `args_*`,
//! `environ_*`, `random_get`, `sched_yield`, `proc_raise` (`proc_exit` is
//! in `lib.rs` because it ends the call instead of returning an errno).

use crate::mem::Mem;
use crate::types::{Errno, Flavor, WasiResult};
use crate::WasiCtx;

/// Writes NUL-terminated `strings` to `buf` and a pointer to each to
/// `ptrs`, the layout both `args_get` and `environ_get` use.
fn write_strings(mem: &mut Mem<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        let slot = ptrs
            .checked_add(u32::try_from(i * 4).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        mem.write_u32(slot, at)?;
        mem.write(at, s)?;
        let end = at
            .checked_add(u32::try_from(s.len()).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        mem.write_u8(end, 0)?;
        at = end.checked_add(1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

fn write_sizes(mem: &mut Mem<'_>, strings: &[Vec<u8>], count: u32, size: u32) -> WasiResult {
    let bytes: usize = strings.iter().map(|s| s.len() + 1).sum();
    let n = u32::try_from(strings.len()).map_err(|_| Errno::OVERFLOW)?;
    mem.write_u32(count, n)?;
    mem.write_u32(size, u32::try_from(bytes).map_err(|_| Errno::OVERFLOW)?)
}

pub(crate) fn args_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    argv: u32,
    buf: u32,
) -> WasiResult {
    write_strings(mem, &ctx.args, argv, buf)
}

pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    argc: u32,
    size: u32,
) -> WasiResult {
    write_sizes(mem, &ctx.args, argc, size)
}

pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    environ: u32,
    buf: u32,
) -> WasiResult {
    write_strings(mem, &ctx.env, environ, buf)
}

pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    count: u32,
    size: u32,
) -> WasiResult {
    write_sizes(mem, &ctx.env, count, size)
}

pub(crate) fn random_get(
    _: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    buf: u32,
    len: u32,
) -> WasiResult {
    mem.check(buf, len)?;
    // Filled on the host in chunks and copied in, so that no host slice
    // ever covers guest memory (which another thread may share).
    let mut chunk = vec![0; (len as usize).min(64 << 10)];
    let mut done = 0u32;
    while done < len {
        let n = ((len - done) as usize).min(chunk.len());
        let out = &mut chunk[..n];
        let mut filled = 0;
        while filled < n {
            match rustix::rand::getrandom(&mut out[filled..], rustix::rand::GetRandomFlags::empty())
            {
                Ok(got) => filled += got,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        mem.write(buf + done, out)?;
        done += n as u32;
    }
    Ok(())
}

pub(crate) fn sched_yield(_: &mut WasiCtx, _: &mut Mem<'_>, _: Flavor) -> WasiResult {
    std::thread::yield_now();
    Ok(())
}

/// Preview1 has no way to describe a signal's effect on the embedder (a
/// guest cannot be allowed to kill the host process), so, like wasmtime,
/// every signal is `notsup`.
pub(crate) fn proc_raise(_: &mut WasiCtx, _: &mut Mem<'_>, _: Flavor, _sig: u32) -> WasiResult {
    Err(Errno::NOTSUP)
}
