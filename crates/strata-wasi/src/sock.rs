//! `sock_accept`, `sock_recv`, `sock_send` and `sock_shutdown` on sockets
//! the embedder handed in (preview1 has no way to create one).

use crate::ctx::{FdEntry, Handle};
use crate::mem::Mem;
use crate::types::*;
use crate::WasiCtx;
use std::os::fd::OwnedFd;

const RIFLAGS_PEEK: u32 = 1;
const RIFLAGS_WAITALL: u32 = 2;

/// The socket behind `fd`: `badf` when nothing is open there, `notsock`
/// for anything but a socket (whatever its rights, as wasmtime and POSIX
/// answer), and `notcapable` for a socket without the `needed` rights.
fn socket(ctx: &WasiCtx, fd: u32, needed: u64) -> WasiResult<&OwnedFd> {
    let e = ctx.get(fd)?;
    let Handle::Socket(s) = &e.handle else {
        return Err(Errno::NOTSOCK);
    };
    e.require(needed)?;
    Ok(s)
}

pub(crate) fn sock_accept(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    flags: u32,
    out: u32,
) -> WasiResult {
    use rustix::net::SocketFlags;
    if flags & !u32::from(FDFLAGS_NONBLOCK) != 0 {
        return Err(Errno::INVAL);
    }
    let listener = socket(ctx, fd, rights::SOCK_ACCEPT)?;
    let mut sflags = SocketFlags::CLOEXEC;
    if flags != 0 {
        sflags |= SocketFlags::NONBLOCK;
    }
    let stream = crate::fd::retry(|| rustix::net::accept_with(listener, sflags))?;
    let new = ctx.insert(FdEntry {
        handle: Handle::Socket(stream),
        rights_base: rights::SOCKET,
        rights_inheriting: 0,
    })?;
    if let Err(e) = mem.write_u32(out, new) {
        ctx.fds.remove(&new);
        return Err(e);
    }
    Ok(())
}

pub(crate) fn sock_recv(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    flags: u32,
    out: u32,
    oflags: u32,
) -> WasiResult {
    use rustix::net::RecvFlags;
    if flags & !(RIFLAGS_PEEK | RIFLAGS_WAITALL) != 0 {
        return Err(Errno::INVAL);
    }
    let s = socket(ctx, fd, rights::FD_READ)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let mut buf = vec![0; Mem::iovecs_len(&iovs)];
    let mut rflags = RecvFlags::empty();
    if flags & RIFLAGS_PEEK != 0 {
        rflags |= RecvFlags::PEEK;
    }
    if flags & RIFLAGS_WAITALL != 0 {
        rflags |= RecvFlags::WAITALL;
    }
    let (n, _) = crate::fd::retry(|| rustix::net::recv(s, &mut buf[..], rflags))?;
    mem.scatter(&iovs, &buf[..n])?;
    mem.write_u32(out, n as u32)?;
    // Stream sockets never truncate a message (`recv_data_truncated`).
    mem.write_u16(oflags, 0)
}

pub(crate) fn sock_send(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    flags: u32,
    out: u32,
) -> WasiResult {
    if flags != 0 {
        return Err(Errno::INVAL);
    }
    let s = socket(ctx, fd, rights::FD_WRITE)?;
    let data = mem.gather(iovs, iovs_len)?;
    // NOSIGNAL: a closed peer is `pipe` for the guest, not SIGPIPE for
    // the host.
    let n = crate::fd::retry(|| rustix::net::send(s, &data, rustix::net::SendFlags::NOSIGNAL))?;
    mem.write_u32(out, n as u32)
}

pub(crate) fn sock_shutdown(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    how: u32,
) -> WasiResult {
    use rustix::net::Shutdown;
    let how = match how {
        1 => Shutdown::Read,
        2 => Shutdown::Write,
        3 => Shutdown::Both,
        _ => return Err(Errno::INVAL),
    };
    let s = socket(ctx, fd, rights::SOCK_SHUTDOWN)?;
    Ok(rustix::net::shutdown(s, how)?)
}
