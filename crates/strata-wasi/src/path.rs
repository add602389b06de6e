//! The `path_*` functions. Every path is resolved by cap-std relative to
//! a directory descriptor, which refuses (with `perm`, as in wasmtime) any
//! path that would leave it: `..` past its root, absolute paths, and
//! symlinks whose target lies outside.

use crate::ctx::{DirHandle, FdEntry, Handle};
use crate::mem::Mem;
use crate::types::*;
use crate::WasiCtx;
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
    SystemTimeSpec,
};

/// The directory behind `fd` and its entry, after checking `needed`.
fn dir(ctx: &WasiCtx, fd: u32, needed: u64) -> WasiResult<(&FdEntry, &cap_std::fs::Dir)> {
    let e = ctx.get(fd)?;
    let d = e.dir()?;
    e.require(needed)?;
    Ok((e, d))
}

fn lookup_follows(flags: u32) -> WasiResult<bool> {
    if flags & !LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL);
    }
    Ok(flags & LOOKUP_SYMLINK_FOLLOW != 0)
}

pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    dirflags: u32,
    p: u32,
    p_len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    out: u32,
) -> WasiResult {
    let follow = lookup_follows(dirflags)?;
    if oflags > 0xf || fdflags > 0x1f {
        return Err(Errno::INVAL);
    }
    let (oflags, fdflags) = (oflags as u16, fdflags as u16);
    let path = mem.path(p, p_len)?;
    let (e, d) = dir(ctx, fd, rights::PATH_OPEN)?;
    if oflags & OFLAGS_CREAT != 0 {
        e.require(rights::PATH_CREATE_FILE)?;
    }
    if oflags & OFLAGS_TRUNC != 0 {
        e.require(rights::PATH_FILESTAT_SET_SIZE)?;
    }
    // A new descriptor never gets more than its directory may hand down.
    let base = base & e.rights_inheriting;
    let inheriting = inheriting & e.rights_inheriting;

    let opened = if oflags & OFLAGS_DIRECTORY != 0 {
        if oflags & (OFLAGS_CREAT | OFLAGS_TRUNC) != 0 {
            return Err(Errno::INVAL);
        }
        let dir = if follow {
            d.open_dir(&path)?
        } else {
            d.open_dir_nofollow(&path)?
        };
        // A directory cannot be opened for writing: POSIX `open` answers
        // `EISDIR` to `O_DIRECTORY` with `O_WRONLY` or `O_RDWR`, and so do
        // preview1 and wasmtime when the `fd_write` right is asked for.
        if base & rights::FD_WRITE != 0 {
            return Err(Errno::ISDIR);
        }
        crate::ctx::readable_dir(dir).into_std_file()
    } else {
        use cap_std::fs::OpenOptionsExt;
        let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
        let append = fdflags & FDFLAGS_APPEND != 0;
        // The host cannot create, truncate or append through a read-only
        // open; the rights still decide what the guest may do with the
        // result.
        let write = append
            || oflags & (OFLAGS_CREAT | OFLAGS_TRUNC) != 0
            || base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0;
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.read(read || !write)
            .write(write)
            .truncate(oflags & OFLAGS_TRUNC != 0);
        // `O_APPEND` as a plain flag: cap-std (like std) refuses its
        // `append` together with `truncate`, which POSIX and wasmtime allow
        // (wasi-libc's `open(O_WRONLY | O_CREAT | O_TRUNC | O_APPEND)`).
        if append {
            opts.custom_flags(libc::O_APPEND);
        }
        if oflags & OFLAGS_CREAT != 0 {
            if oflags & OFLAGS_EXCL != 0 {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        opts.follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        opts.maybe_dir(true);
        opts.dsync(fdflags & FDFLAGS_DSYNC != 0)
            .rsync(fdflags & FDFLAGS_RSYNC != 0)
            .sync(fdflags & FDFLAGS_SYNC != 0)
            .nonblock(fdflags & FDFLAGS_NONBLOCK != 0);
        d.open_with(&path, &opts)?.into_std()
    };
    let is_dir = opened.metadata()?.is_dir();
    let entry = if is_dir {
        FdEntry {
            handle: Handle::Dir(DirHandle {
                dir: cap_std::fs::Dir::from_std_file(opened),
                preopen: None,
                listing: None,
            }),
            rights_base: base & rights::DIRECTORY,
            rights_inheriting: inheriting,
        }
    } else {
        FdEntry {
            handle: Handle::File(opened),
            rights_base: base & rights::FILE,
            rights_inheriting: inheriting,
        }
    };
    let new = ctx.insert(entry)?;
    if let Err(e) = mem.write_u32(out, new) {
        ctx.fds.remove(&new);
        return Err(e);
    }
    Ok(())
}

pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    p: u32,
    p_len: u32,
) -> WasiResult {
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_CREATE_DIRECTORY)?;
    Ok(d.create_dir(path)?)
}

pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    p: u32,
    p_len: u32,
) -> WasiResult {
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_REMOVE_DIRECTORY)?;
    Ok(d.remove_dir(path)?)
}

pub(crate) fn path_unlink_file(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    p: u32,
    p_len: u32,
) -> WasiResult {
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_UNLINK_FILE)?;
    Ok(d.remove_file(path)?)
}

pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    flavor: Flavor,
    fd: u32,
    flags: u32,
    p: u32,
    p_len: u32,
    out: u32,
) -> WasiResult {
    let follow = lookup_follows(flags)?;
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_FILESTAT_GET)?;
    let meta = if follow {
        d.metadata(path)?
    } else {
        d.symlink_metadata(path)?
    };
    mem.write(out, &Filestat::from_metadata(&meta).encode(flavor))
}

/// One time argument of `path_filestat_set_times` for cap-std.
fn time_spec(value: u64, fst: u32, set: u16, now: u16) -> WasiResult<Option<SystemTimeSpec>> {
    let fst = fst as u16;
    Ok(match (fst & set != 0, fst & now != 0) {
        (true, true) => return Err(Errno::INVAL),
        (false, true) => Some(SystemTimeSpec::SymbolicNow),
        (false, false) => None,
        (true, false) => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(value);
            Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(t),
            ))
        }
    })
}

pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    flags: u32,
    p: u32,
    p_len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let follow = lookup_follows(flags)?;
    if fst > 0xf {
        return Err(Errno::INVAL);
    }
    let atime = time_spec(atim, fst, FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW)?;
    let mtime = time_spec(mtim, fst, FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW)?;
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_FILESTAT_SET_TIMES)?;
    if follow {
        d.set_times(path, atime, mtime)?;
    } else {
        d.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}

pub(crate) fn path_link(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    old_fd: u32,
    old_flags: u32,
    old_p: u32,
    old_len: u32,
    new_fd: u32,
    new_p: u32,
    new_len: u32,
) -> WasiResult {
    // cap-std links the symlink itself (`linkat` without
    // `AT_SYMLINK_FOLLOW`); following it is refused, as in wasmtime.
    if lookup_follows(old_flags)? {
        return Err(Errno::INVAL);
    }
    let old = mem.path(old_p, old_len)?;
    let new = mem.path(new_p, new_len)?;
    let (_, from) = dir(ctx, old_fd, rights::PATH_LINK_SOURCE)?;
    let (_, to) = dir(ctx, new_fd, rights::PATH_LINK_TARGET)?;
    Ok(from.hard_link(old, to, new)?)
}

pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    old_p: u32,
    old_len: u32,
    new_fd: u32,
    new_p: u32,
    new_len: u32,
) -> WasiResult {
    let old = mem.path(old_p, old_len)?;
    let new = mem.path(new_p, new_len)?;
    let (_, from) = dir(ctx, fd, rights::PATH_RENAME_SOURCE)?;
    let (_, to) = dir(ctx, new_fd, rights::PATH_RENAME_TARGET)?;
    Ok(from.rename(old, to, new)?)
}

pub(crate) fn path_symlink(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    old_p: u32,
    old_len: u32,
    fd: u32,
    new_p: u32,
    new_len: u32,
) -> WasiResult {
    let target = mem.path(old_p, old_len)?;
    let link = mem.path(new_p, new_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_SYMLINK)?;
    // cap-std refuses absolute targets (`perm`): they could lead a host
    // program that follows the link out of the sandbox.
    Ok(d.symlink(target, link)?)
}

pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    fd: u32,
    p: u32,
    p_len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> WasiResult {
    use std::os::unix::ffi::OsStrExt;
    let path = mem.path(p, p_len)?;
    let (_, d) = dir(ctx, fd, rights::PATH_READLINK)?;
    // The link's text, whatever it is: reading it reaches nothing.
    let target = d.read_link_contents(path)?;
    let bytes = target.as_os_str().as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.check(buf, buf_len)?;
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(out, n as u32)
}
