//! The `fd_*` functions: reading, writing, seeking, attributes, directory
//! listings and pre-open information of open descriptors.

use crate::ctx::{DirListEntry, FdEntry, Handle};
use crate::mem::Mem;
use crate::types::*;
use crate::WasiCtx;
use rustix::fs::{OFlags, SeekFrom};
use std::os::fd::BorrowedFd;

/// Retries a host call that was interrupted by a signal.
pub(crate) fn retry<R>(mut f: impl FnMut() -> rustix::io::Result<R>) -> WasiResult<R> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => {}
            other => return other.map_err(Errno::from),
        }
    }
}

/// The host descriptor of `e`, or `None` for the null stream.
fn host(e: &FdEntry) -> Option<BorrowedFd<'_>> {
    e.handle.host_fd()
}

pub(crate) fn fd_read(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_READ)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let mut buf = vec![0; Mem::iovecs_len(&iovs)];
    let n = match host(e) {
        Some(h) => retry(|| rustix::io::read(h, &mut buf[..]))?,
        None => 0,
    };
    mem.scatter(&iovs, &buf[..n])?;
    mem.write_u32(out, n as u32)
}

pub(crate) fn fd_write(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_WRITE)?;
    let data = mem.gather(iovs, iovs_len)?;
    let n = match host(e) {
        Some(h) => retry(|| rustix::io::write(h, &data))?,
        None => data.len(),
    };
    mem.write_u32(out, n as u32)
}

pub(crate) fn fd_pread(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_READ | rights::FD_SEEK)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let mut buf = vec![0; Mem::iovecs_len(&iovs)];
    let n = match host(e) {
        Some(h) => retry(|| rustix::io::pread(h, &mut buf[..], offset))?,
        None => 0,
    };
    mem.scatter(&iovs, &buf[..n])?;
    mem.write_u32(out, n as u32)
}

pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_WRITE | rights::FD_SEEK)?;
    let data = mem.gather(iovs, iovs_len)?;
    let n = match host(e) {
        Some(h) => retry(|| rustix::io::pwrite(h, &data, offset))?,
        None => data.len(),
    };
    mem.write_u32(out, n as u32)
}

/// Decodes a `whence` and offset; the two module versions number
/// `whence` differently.
fn seek_from(flavor: Flavor, offset: i64, whence: u32) -> WasiResult<SeekFrom> {
    let (set, cur, end) = match flavor {
        Flavor::Preview1 => (0, 1, 2),
        Flavor::Preview0 => (2, 0, 1),
    };
    Ok(match whence {
        w if w == set => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        w if w == cur => SeekFrom::Current(offset),
        w if w == end => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL),
    })
}

/// A position query needs `fd_tell`, which `fd_seek` implies.
fn require_tell(e: &FdEntry) -> WasiResult<&FdEntry> {
    e.require(rights::FD_TELL)
        .or_else(|_| e.require(rights::FD_SEEK))
}

pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    flavor: Flavor,
    fd: u32,
    offset: i64,
    whence: u32,
    out: u32,
) -> WasiResult {
    let pos = seek_from(flavor, offset, whence)?;
    let e = ctx.get(fd)?;
    let e = if pos == SeekFrom::Current(0) {
        require_tell(e)?
    } else {
        e.require(rights::FD_SEEK)?
    };
    if let Handle::Dir(_) = e.handle {
        return Err(Errno::BADF);
    }
    let new = match host(e) {
        Some(h) => retry(|| rustix::fs::seek(h, pos))?,
        None => 0,
    };
    mem.write_u64(out, new)
}

pub(crate) fn fd_tell(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = require_tell(ctx.get(fd)?)?;
    if let Handle::Dir(_) = e.handle {
        return Err(Errno::BADF);
    }
    let pos = match host(e) {
        Some(h) => retry(|| rustix::fs::seek(h, SeekFrom::Current(0)))?,
        None => 0,
    };
    mem.write_u64(out, pos)
}

pub(crate) fn fd_sync(ctx: &mut WasiCtx, _: &mut Mem<'_>, _: Flavor, fd: u32) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_SYNC)?;
    match host(e) {
        Some(h) => retry(|| rustix::fs::fsync(h)),
        None => Ok(()),
    }
}

pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _: &mut Mem<'_>, _: Flavor, fd: u32) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_DATASYNC)?;
    match host(e) {
        Some(h) => retry(|| rustix::fs::fdatasync(h)),
        None => Ok(()),
    }
}

pub(crate) fn fd_advise(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> WasiResult {
    use rustix::fs::Advice;
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::INVAL),
    };
    let e = ctx.get(fd)?.require(rights::FD_ADVISE)?;
    match host(e) {
        Some(h) => retry(|| rustix::fs::fadvise(h, offset, std::num::NonZeroU64::new(len), advice)),
        None => Ok(()),
    }
}

pub(crate) fn fd_allocate(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    offset: u64,
    len: u64,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_ALLOCATE)?;
    if offset
        .checked_add(len)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(Errno::FBIG);
    }
    match host(e) {
        Some(h) => {
            retry(|| rustix::fs::fallocate(h, rustix::fs::FallocateFlags::empty(), offset, len))
        }
        None => Err(Errno::BADF),
    }
}

pub(crate) fn fd_close(ctx: &mut WasiCtx, _: &mut Mem<'_>, _: Flavor, fd: u32) -> WasiResult {
    ctx.fds.remove(&fd).map(drop).ok_or(Errno::BADF)
}

pub(crate) fn fd_renumber(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    to: u32,
) -> WasiResult {
    ctx.get(fd)?;
    ctx.get(to)?;
    if fd != to {
        if let Some(entry) = ctx.fds.remove(&fd) {
            ctx.fds.insert(to, entry);
        }
    }
    Ok(())
}

/// The `filetype` of an open descriptor.
///
/// wasi-libc's `isatty` (and with it Rust's `IsTerminal`) takes a
/// character device without the `fd_seek` and `fd_tell` rights for a
/// terminal, and programs act on it (compressors refuse to write binary
/// data to a terminal). So a character device that is not a terminal and
/// lacks both rights (the guest may have dropped them) is reported as
/// `unknown`, as wasmtime reports every stream that is not a terminal.
pub(crate) fn filetype(e: &FdEntry) -> WasiResult<u8> {
    use std::io::IsTerminal;
    let filetype = match &e.handle {
        Handle::Dir(_) => return Ok(FILETYPE_DIRECTORY),
        Handle::Null => FILETYPE_CHARACTER_DEVICE,
        Handle::Socket(s) => {
            return Ok(match rustix::net::sockopt::socket_type(s)? {
                rustix::net::SocketType::DGRAM => FILETYPE_SOCKET_DGRAM,
                _ => FILETYPE_SOCKET_STREAM,
            })
        }
        other => match other.host_fd() {
            Some(h) => filetype_of_mode(rustix::fs::fstat(h)?.st_mode),
            None => FILETYPE_UNKNOWN,
        },
    };
    let looks_like_a_terminal = filetype == FILETYPE_CHARACTER_DEVICE
        && e.rights_base & (rights::FD_SEEK | rights::FD_TELL) == 0;
    if looks_like_a_terminal && !e.handle.host_fd().is_some_and(|h| h.is_terminal()) {
        return Ok(FILETYPE_UNKNOWN);
    }
    Ok(filetype)
}

pub(crate) fn fd_fdstat_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?;
    let mut flags = 0;
    if let Some(h) = host(e) {
        let fl = rustix::fs::fcntl_getfl(h)?;
        if fl.contains(OFlags::APPEND) {
            flags |= FDFLAGS_APPEND;
        }
        if fl.contains(OFlags::NONBLOCK) {
            flags |= FDFLAGS_NONBLOCK;
        }
        // On Linux `O_SYNC` includes the `O_DSYNC` bit and `O_RSYNC` is
        // `O_SYNC`, so the strongest flag present is reported.
        if fl.contains(OFlags::SYNC) {
            flags |= FDFLAGS_SYNC | FDFLAGS_RSYNC;
        } else if fl.contains(OFlags::DSYNC) {
            flags |= FDFLAGS_DSYNC;
        }
    }
    let mut b = [0u8; 24];
    b[0] = filetype(e)?;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&e.rights_base.to_le_bytes());
    b[16..24].copy_from_slice(&e.rights_inheriting.to_le_bytes());
    mem.write(out, &b)
}

pub(crate) fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    flags: u32,
) -> WasiResult {
    if flags > 0x1f {
        return Err(Errno::INVAL);
    }
    let e = ctx.get(fd)?.require(rights::FD_FDSTAT_SET_FLAGS)?;
    // Linux cannot change the synchronisation flags of an open
    // descriptor (`fcntl(F_SETFL)` ignores them).
    if flags as u16 & (FDFLAGS_DSYNC | FDFLAGS_RSYNC | FDFLAGS_SYNC) != 0 {
        return Err(Errno::NOTSUP);
    }
    let Some(h) = host(e) else { return Ok(()) };
    let old = rustix::fs::fcntl_getfl(h)?;
    let mut fl = old;
    fl.set(OFlags::APPEND, flags as u16 & FDFLAGS_APPEND != 0);
    fl.set(OFlags::NONBLOCK, flags as u16 & FDFLAGS_NONBLOCK != 0);
    // The host's own standard streams share their file description with
    // the parent process (a terminal, a shell pipeline): a flag set there
    // would outlive the guest, so they keep theirs.
    if matches!(e.handle, Handle::Stdio(_)) && fl != old {
        return Err(Errno::NOTSUP);
    }
    retry(|| rustix::fs::fcntl_setfl(h, fl))
}

pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult {
    let e = ctx.get_mut(fd)?;
    // Rights can only be dropped, never gained.
    if base & !e.rights_base != 0 || inheriting & !e.rights_inheriting != 0 {
        return Err(Errno::NOTCAPABLE);
    }
    e.rights_base = base;
    e.rights_inheriting = inheriting;
    Ok(())
}

pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    flavor: Flavor,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_FILESTAT_GET)?;
    let mut stat = match host(e) {
        Some(h) => Filestat::from_stat(&rustix::fs::fstat(h)?),
        None => Filestat::default(),
    };
    // The same type `fd_fdstat_get` reports.
    stat.filetype = filetype(e)?;
    mem.write(out, &stat.encode(flavor))
}

pub(crate) fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    size: u64,
) -> WasiResult {
    let e = ctx.get(fd)?.require(rights::FD_FILESTAT_SET_SIZE)?;
    if size > i64::MAX as u64 {
        return Err(Errno::FBIG);
    }
    match host(e) {
        Some(h) => retry(|| rustix::fs::ftruncate(h, size)),
        None => Err(Errno::INVAL),
    }
}

/// The two timestamps `futimens`/`utimensat` take, from a WASI
/// `fstflags` and its values; `inval` when a time is both given and `now`.
pub(crate) fn timestamps(atim: u64, mtim: u64, fst: u32) -> WasiResult<rustix::fs::Timestamps> {
    if fst > 0xf {
        return Err(Errno::INVAL);
    }
    let fst = fst as u16;
    let one = |value: u64, set: u16, now: u16| -> WasiResult<rustix::fs::Timespec> {
        let nsec = match (fst & set != 0, fst & now != 0) {
            (true, true) => return Err(Errno::INVAL),
            (false, true) => rustix::fs::UTIME_NOW,
            (false, false) => rustix::fs::UTIME_OMIT,
            (true, false) => {
                return Ok(rustix::fs::Timespec {
                    tv_sec: (value / 1_000_000_000) as _,
                    tv_nsec: (value % 1_000_000_000) as _,
                })
            }
        };
        Ok(rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: nsec,
        })
    };
    Ok(rustix::fs::Timestamps {
        last_access: one(atim, FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW)?,
        last_modification: one(mtim, FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW)?,
    })
}

pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let times = timestamps(atim, mtim, fst)?;
    let e = ctx.get(fd)?.require(rights::FD_FILESTAT_SET_TIMES)?;
    match host(e) {
        Some(h) => retry(|| rustix::fs::futimens(h, &times)),
        None => Ok(()),
    }
}

pub(crate) fn fd_prestat_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    out: u32,
) -> WasiResult {
    match &ctx.get(fd)?.handle {
        Handle::Dir(d) => {
            let name = d.preopen.as_ref().ok_or(Errno::BADF)?;
            let mut b = [0u8; 8];
            b[4..].copy_from_slice(&(name.len() as u32).to_le_bytes());
            mem.write(out, &b)
        }
        // wasi-libc scans descriptors from 3 until this returns `badf`.
        _ => Err(Errno::BADF),
    }
}

pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let Handle::Dir(d) = &ctx.get(fd)?.handle else {
        return Err(Errno::BADF);
    };
    let name = d.preopen.as_ref().ok_or(Errno::BADF)?;
    if (path_len as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    mem.write(path, name.as_bytes())
}

/// Reads the whole listing of `dir`, with `.` and `..` first as POSIX
/// `readdir` gives them.
fn list(dir: &cap_std::fs::Dir) -> WasiResult<Vec<DirListEntry>> {
    use cap_fs_ext::FileTypeExt;
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::DirEntryExt;
    let own = rustix::fs::fstat(dir)?.st_ino;
    let mut out: Vec<DirListEntry> = [".", ".."]
        .iter()
        .map(|n| DirListEntry {
            name: n.as_bytes().to_vec(),
            ino: own,
            filetype: FILETYPE_DIRECTORY,
        })
        .collect();
    for entry in dir.entries()? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let filetype = if ft.is_dir() {
            FILETYPE_DIRECTORY
        } else if ft.is_file() {
            FILETYPE_REGULAR_FILE
        } else if ft.is_symlink() {
            FILETYPE_SYMBOLIC_LINK
        } else if ft.is_block_device() {
            FILETYPE_BLOCK_DEVICE
        } else if ft.is_char_device() {
            FILETYPE_CHARACTER_DEVICE
        } else if ft.is_socket() {
            FILETYPE_SOCKET_STREAM
        } else {
            FILETYPE_UNKNOWN
        };
        out.push(DirListEntry {
            name: entry.file_name().into_vec(),
            ino: entry.ino(),
            filetype,
        });
    }
    Ok(out)
}

pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    out: u32,
) -> WasiResult {
    let e = ctx.get_mut(fd)?;
    e.require(rights::FD_READDIR)?;
    let Handle::Dir(d) = &mut e.handle else {
        return Err(Errno::NOTDIR);
    };
    // A listing taken at cookie 0 serves every later cookie, so entries
    // are neither skipped nor repeated however the directory changes
    // meanwhile.
    if cookie == 0 || d.listing.is_none() {
        d.listing = Some(list(&d.dir)?);
    }
    let listing = d.listing.as_deref().unwrap_or_default();
    let mut bytes = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, entry) in listing.iter().enumerate().skip(start) {
        if bytes.len() >= buf_len as usize {
            break;
        }
        bytes.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        bytes.extend_from_slice(&entry.ino.to_le_bytes());
        bytes.extend_from_slice(&(entry.name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&[entry.filetype, 0, 0, 0]);
        bytes.extend_from_slice(&entry.name);
    }
    // The last entry may be cut short: a full buffer tells the guest to
    // call again from that entry's cookie with a larger buffer.
    bytes.truncate(buf_len as usize);
    mem.write(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}
