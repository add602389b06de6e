//! Constants and layouts of `wasi_snapshot_preview1` (as
//! `wasi_snapshot_preview1.witx` defines them) and the few places where
//! `wasi_unstable` (preview0, `wasi_unstable.witx`) differs.

/// A WASI error number (`errno`, a `u16` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

#[allow(missing_docs)]
impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const TOOBIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const ILSEQ: Errno = Errno(25);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NFILE: Errno = Errno(41);
    pub const NODEV: Errno = Errno(43);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const NOTTY: Errno = Errno(59);
    pub const NXIO: Errno = Errno(60);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const RANGE: Errno = Errno(68);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const TXTBSY: Errno = Errno(74);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCONN: Errno = Errno(53);
    pub const NOTCAPABLE: Errno = Errno(76);
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        from_host_errno(e.raw_os_error())
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WASI errno {}", self.0)
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        if let Some(code) = e.raw_os_error() {
            return from_host_errno(code);
        }
        // cap-std reports sandbox escapes (`..` past the pre-open, absolute
        // paths, symlinks leading outside) as `PermissionDenied` without an
        // OS code; wasmtime maps those to `perm`, and so do we.
        use std::io::ErrorKind::*;
        match e.kind() {
            NotADirectory => Errno::NOTDIR,
            IsADirectory => Errno::ISDIR,
            DirectoryNotEmpty => Errno::NOTEMPTY,
            NotFound => Errno::NOENT,
            PermissionDenied => Errno::PERM,
            AlreadyExists => Errno::EXIST,
            InvalidInput => Errno::INVAL,
            Interrupted => Errno::INTR,
            WouldBlock => Errno::AGAIN,
            Unsupported => Errno::NOTSUP,
            _ => Errno::IO,
        }
    }
}

/// Maps a host (Linux/POSIX) errno to its WASI number.
pub(crate) fn from_host_errno(code: i32) -> Errno {
    use libc::*;
    let n = match code {
        E2BIG => 1,
        EACCES => 2,
        EADDRINUSE => 3,
        EADDRNOTAVAIL => 4,
        EAFNOSUPPORT => 5,
        EAGAIN => 6,
        EALREADY => 7,
        EBADF => 8,
        EBADMSG => 9,
        EBUSY => 10,
        ECANCELED => 11,
        ECHILD => 12,
        ECONNABORTED => 13,
        ECONNREFUSED => 14,
        ECONNRESET => 15,
        EDEADLK => 16,
        EDESTADDRREQ => 17,
        EDOM => 18,
        EDQUOT => 19,
        EEXIST => 20,
        EFAULT => 21,
        EFBIG => 22,
        EHOSTUNREACH => 23,
        EIDRM => 24,
        EILSEQ => 25,
        EINPROGRESS => 26,
        EINTR => 27,
        EINVAL => 28,
        EIO => 29,
        EISCONN => 30,
        EISDIR => 31,
        ELOOP => 32,
        EMFILE => 33,
        EMLINK => 34,
        EMSGSIZE => 35,
        EMULTIHOP => 36,
        ENAMETOOLONG => 37,
        ENETDOWN => 38,
        ENETRESET => 39,
        ENETUNREACH => 40,
        ENFILE => 41,
        ENOBUFS => 42,
        ENODEV => 43,
        ENOENT => 44,
        ENOEXEC => 45,
        ENOLCK => 46,
        ENOLINK => 47,
        ENOMEM => 48,
        ENOMSG => 49,
        ENOPROTOOPT => 50,
        ENOSPC => 51,
        ENOSYS => 52,
        ENOTCONN => 53,
        ENOTDIR => 54,
        ENOTEMPTY => 55,
        ENOTRECOVERABLE => 56,
        ENOTSOCK => 57,
        ENOTSUP => 58,
        ENOTTY => 59,
        ENXIO => 60,
        EOVERFLOW => 61,
        EOWNERDEAD => 62,
        EPERM => 63,
        EPIPE => 64,
        EPROTO => 65,
        EPROTONOSUPPORT => 66,
        EPROTOTYPE => 67,
        ERANGE => 68,
        EROFS => 69,
        ESPIPE => 70,
        ESRCH => 71,
        ESTALE => 72,
        ETIMEDOUT => 73,
        ETXTBSY => 74,
        EXDEV => 75,
        _ => 29,
    };
    Errno(n)
}

/// The result of a WASI function: success or an errno.
pub(crate) type WasiResult<T = ()> = Result<T, Errno>;

/// Which of the two WASI module versions a call came through; they share
/// one implementation and differ only in a few layouts and constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `wasi_snapshot_preview1`.
    Preview1,
    /// `wasi_unstable` (preview0): `filestat::nlink` is a `u32`, `whence`
    /// counts `cur, end, set`, and `subscription_clock` starts with an
    /// `identifier` field.
    Preview0,
}

// `filetype`
pub(crate) const FILETYPE_UNKNOWN: u8 = 0;
pub(crate) const FILETYPE_BLOCK_DEVICE: u8 = 1;
pub(crate) const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub(crate) const FILETYPE_DIRECTORY: u8 = 3;
pub(crate) const FILETYPE_REGULAR_FILE: u8 = 4;
pub(crate) const FILETYPE_SOCKET_DGRAM: u8 = 5;
pub(crate) const FILETYPE_SOCKET_STREAM: u8 = 6;
pub(crate) const FILETYPE_SYMBOLIC_LINK: u8 = 7;

// `fdflags`
pub(crate) const FDFLAGS_APPEND: u16 = 1 << 0;
pub(crate) const FDFLAGS_DSYNC: u16 = 1 << 1;
pub(crate) const FDFLAGS_NONBLOCK: u16 = 1 << 2;
pub(crate) const FDFLAGS_RSYNC: u16 = 1 << 3;
pub(crate) const FDFLAGS_SYNC: u16 = 1 << 4;

// `oflags`
pub(crate) const OFLAGS_CREAT: u16 = 1 << 0;
pub(crate) const OFLAGS_DIRECTORY: u16 = 1 << 1;
pub(crate) const OFLAGS_EXCL: u16 = 1 << 2;
pub(crate) const OFLAGS_TRUNC: u16 = 1 << 3;

// `lookupflags`
pub(crate) const LOOKUP_SYMLINK_FOLLOW: u32 = 1 << 0;

// `fstflags`
pub(crate) const FSTFLAGS_ATIM: u16 = 1 << 0;
pub(crate) const FSTFLAGS_ATIM_NOW: u16 = 1 << 1;
pub(crate) const FSTFLAGS_MTIM: u16 = 1 << 2;
pub(crate) const FSTFLAGS_MTIM_NOW: u16 = 1 << 3;

// `clockid`
pub(crate) const CLOCK_REALTIME: u32 = 0;
pub(crate) const CLOCK_MONOTONIC: u32 = 1;
pub(crate) const CLOCK_PROCESS_CPUTIME: u32 = 2;
pub(crate) const CLOCK_THREAD_CPUTIME: u32 = 3;

// `eventtype` and `subclockflags`
pub(crate) const EVENTTYPE_CLOCK: u8 = 0;
pub(crate) const EVENTTYPE_FD_READ: u8 = 1;
pub(crate) const EVENTTYPE_FD_WRITE: u8 = 2;
pub(crate) const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// `rights` bits.
#[allow(missing_docs)]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    /// Preview1 only; `wasi_unstable` has no `sock_accept`.
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every right preview1 defines.
    pub const ALL: u64 = (1 << 30) - 1;

    /// The rights that make sense on a regular file (or a character
    /// device such as a terminal).
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// The rights of a connected socket.
    pub const SOCKET: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | SOCK_SHUTDOWN;

    /// The rights of a listening socket.
    pub const LISTENER: u64 =
        FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE | SOCK_ACCEPT;

    /// The rights that make sense on a directory.
    pub const DIRECTORY: u64 = FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
}

/// File attributes (`filestat`) before they are laid out for a guest.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Filestat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
    pub(crate) nlink: u64,
    pub(crate) size: u64,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

/// Nanoseconds since the epoch; times before it (which WASI's unsigned
/// `timestamp` cannot express) become 0.
fn nanos(sec: i64, nsec: i64) -> u64 {
    u64::try_from(sec)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|ns| ns.checked_add(u64::try_from(nsec).unwrap_or(0)))
        .unwrap_or(0)
}

/// The WASI `filetype` of a host `st_mode`.
pub(crate) fn filetype_of_mode(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFREG => FILETYPE_REGULAR_FILE,
        libc::S_IFDIR => FILETYPE_DIRECTORY,
        libc::S_IFLNK => FILETYPE_SYMBOLIC_LINK,
        libc::S_IFCHR => FILETYPE_CHARACTER_DEVICE,
        libc::S_IFBLK => FILETYPE_BLOCK_DEVICE,
        libc::S_IFSOCK => FILETYPE_SOCKET_STREAM,
        // FIFOs have no filetype of their own in WASI.
        _ => FILETYPE_UNKNOWN,
    }
}

impl Filestat {
    /// From `fstat` on an open descriptor.
    pub(crate) fn from_stat(st: &rustix::fs::Stat) -> Filestat {
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        Filestat {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            filetype: filetype_of_mode(st.st_mode as u32),
            nlink: st.st_nlink as u64,
            size: st.st_size as u64,
            atim: nanos(st.st_atime as i64, st.st_atime_nsec as i64),
            mtim: nanos(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctim: nanos(st.st_ctime as i64, st.st_ctime_nsec as i64),
        }
    }

    /// From cap-std metadata of a path.
    pub(crate) fn from_metadata(m: &cap_std::fs::Metadata) -> Filestat {
        use cap_fs_ext::OsMetadataExt;
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: filetype_of_mode(m.mode()),
            nlink: m.nlink(),
            size: m.size(),
            atim: nanos(m.atime(), m.atime_nsec()),
            mtim: nanos(m.mtime(), m.mtime_nsec()),
            ctim: nanos(m.ctime(), m.ctime_nsec()),
        }
    }

    /// The guest layout: 64 bytes with a `u64` link count in preview1, 56
    /// bytes with a `u32` one in preview0.
    pub(crate) fn encode(&self, flavor: Flavor) -> Vec<u8> {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&self.dev.to_le_bytes());
        b.extend_from_slice(&self.ino.to_le_bytes());
        b.push(self.filetype);
        match flavor {
            Flavor::Preview1 => {
                b.extend_from_slice(&[0; 7]);
                b.extend_from_slice(&self.nlink.to_le_bytes());
            }
            Flavor::Preview0 => {
                b.extend_from_slice(&[0; 3]);
                let nlink = u32::try_from(self.nlink).unwrap_or(u32::MAX);
                b.extend_from_slice(&nlink.to_le_bytes());
            }
        }
        for v in [self.size, self.atim, self.mtim, self.ctim] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }
}
