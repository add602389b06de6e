//! The state of one WASI guest ([`WasiCtx`]) and its builder.

use crate::types::{rights, Errno, WasiResult};
use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// What an open file descriptor refers to.
pub(crate) enum Handle {
    /// A standard stream of the host process (0, 1 or 2), used directly
    /// and never closed on the host.
    Stdio(u8),
    /// A stream that reads as empty and swallows writes (standard streams
    /// that were neither inherited nor given).
    Null,
    /// A regular file, pipe or device: opened by `path_open` through
    /// cap-std, or handed in by the embedder.
    File(std::fs::File),
    /// A directory: pre-opened, or opened by `path_open`.
    Dir(DirHandle),
    /// A socket the embedder handed in, or one `sock_accept` returned.
    Socket(OwnedFd),
}

impl Handle {
    /// The host descriptor, for everything that is not a directory or the
    /// null stream.
    pub(crate) fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Handle::Stdio(0) => Some(rustix::stdio::stdin()),
            Handle::Stdio(1) => Some(rustix::stdio::stdout()),
            Handle::Stdio(_) => Some(rustix::stdio::stderr()),
            Handle::File(f) => Some(f.as_fd()),
            Handle::Socket(s) => Some(s.as_fd()),
            Handle::Dir(d) => Some(d.dir.as_fd()),
            Handle::Null => None,
        }
    }
}

/// `dir` reopened for reading. cap-std may open directories with
/// `O_PATH`, on which `fsync`, `futimens` and `fcntl(F_SETFL)` fail with
/// `EBADF`; a readable descriptor serves every `fd_*` call. A directory
/// that cannot be read (no read permission) stays as it was.
pub(crate) fn readable_dir(dir: cap_std::fs::Dir) -> cap_std::fs::Dir {
    use cap_fs_ext::OpenOptionsMaybeDirExt;
    let mut opts = cap_std::fs::OpenOptions::new();
    opts.read(true).maybe_dir(true);
    match dir.open_with(".", &opts) {
        Ok(file) => cap_std::fs::Dir::from_std_file(file.into_std()),
        Err(_) => dir,
    }
}

/// An open directory.
pub(crate) struct DirHandle {
    pub(crate) dir: cap_std::fs::Dir,
    /// The guest name of a pre-opened directory (`fd_prestat_*`).
    pub(crate) preopen: Option<String>,
    /// The listing `fd_readdir` hands out: read once when a guest starts at
    /// cookie 0 and kept, so that cookies stay valid however large the
    /// directory is and however small the guest's buffer.
    pub(crate) listing: Option<Vec<DirListEntry>>,
}

/// One entry of a directory listing.
pub(crate) struct DirListEntry {
    pub(crate) name: Vec<u8>,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
}

/// One open file descriptor with its preview1 rights.
pub(crate) struct FdEntry {
    pub(crate) handle: Handle,
    pub(crate) rights_base: u64,
    pub(crate) rights_inheriting: u64,
}

impl FdEntry {
    /// The entry if it holds every right in `needed`, else `notcapable`.
    pub(crate) fn require(&self, needed: u64) -> WasiResult<&FdEntry> {
        if self.rights_base & needed == needed {
            Ok(self)
        } else {
            Err(Errno::NOTCAPABLE)
        }
    }

    /// The directory this entry holds, or `notdir`.
    pub(crate) fn dir(&self) -> WasiResult<&cap_std::fs::Dir> {
        match &self.handle {
            Handle::Dir(d) => Ok(&d.dir),
            _ => Err(Errno::NOTDIR),
        }
    }
}

/// The state of one WASI guest: arguments, environment and open file
/// descriptors (standard streams, pre-opened directories, and whatever
/// the guest opened inside them).
#[derive(Default)]
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, FdEntry>,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .field("fds", &self.fds.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WasiCtx {
    /// Starts building a context: no arguments, no environment, standard
    /// streams that read as empty and discard output, no directories.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// The lowest free descriptor number, as POSIX allocates them.
    pub(crate) fn insert(&mut self, entry: FdEntry) -> WasiResult<u32> {
        let mut fd = 0u32;
        for &used in self.fds.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::MFILE)?;
        }
        self.fds.insert(fd, entry);
        Ok(fd)
    }

    /// The open descriptor `fd`, or `badf`.
    pub(crate) fn get(&self, fd: u32) -> WasiResult<&FdEntry> {
        self.fds.get(&fd).ok_or(Errno::BADF)
    }

    /// The open descriptor `fd`, writable, or `badf`.
    pub(crate) fn get_mut(&mut self, fd: u32) -> WasiResult<&mut FdEntry> {
        self.fds.get_mut(&fd).ok_or(Errno::BADF)
    }
}

/// Builds a [`WasiCtx`].
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdio: [Option<StdioChoice>; 3],
    preopens: Vec<(cap_std::fs::Dir, String)>,
    sockets: Vec<(OwnedFd, bool)>,
}

enum StdioChoice {
    Inherit,
    File(std::fs::File),
}

/// The rights of a standard stream: those of a file, without `fd_seek`
/// and `fd_tell` when the host descriptor cannot seek (a terminal, pipe or
/// socket). The null stream seeks, always to 0, like `/dev/null`.
///
/// wasi-libc's `isatty` answers yes for a character device without
/// `fd_seek` and `fd_tell`, so a seekable character device such as
/// `/dev/null` keeps them, and [`crate::fd::filetype`] reports any other
/// stream that would look like that as `unknown` unless it is a terminal.
fn stream_rights(fd: Option<BorrowedFd<'_>>) -> u64 {
    use std::io::IsTerminal;
    let seekable = fd.is_none_or(|fd| {
        !fd.is_terminal() && rustix::fs::seek(fd, rustix::fs::SeekFrom::Current(0)).is_ok()
    });
    if seekable {
        rights::FILE
    } else {
        rights::FILE & !(rights::FD_SEEK | rights::FD_TELL)
    }
}

impl WasiCtxBuilder {
    /// Appends one argument to the guest's argv (the first is, by
    /// convention, the program name).
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends arguments to the guest's argv.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_vec()));
        self
    }

    /// Adds the environment variable `name=value`.
    pub fn env(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        let mut var = name.as_ref().to_vec();
        var.push(b'=');
        var.extend_from_slice(value.as_ref());
        self.env.push(var);
        self
    }

    /// Gives the guest this process's standard input, output and error.
    pub fn inherit_stdio(mut self) -> Self {
        self.stdio = [
            Some(StdioChoice::Inherit),
            Some(StdioChoice::Inherit),
            Some(StdioChoice::Inherit),
        ];
        self
    }

    /// Gives the guest `file` (a file, pipe or device) as standard input.
    pub fn stdin(mut self, file: std::fs::File) -> Self {
        self.stdio[0] = Some(StdioChoice::File(file));
        self
    }

    /// Gives the guest `file` as standard output.
    pub fn stdout(mut self, file: std::fs::File) -> Self {
        self.stdio[1] = Some(StdioChoice::File(file));
        self
    }

    /// Gives the guest `file` as standard error.
    pub fn stderr(mut self, file: std::fs::File) -> Self {
        self.stdio[2] = Some(StdioChoice::File(file));
        self
    }

    /// Pre-opens the host directory `host_path` for the guest under the
    /// name `guest_name`. The guest reaches nothing outside the directories
    /// pre-opened this way. Fails when the directory cannot be opened.
    pub fn preopened_dir(
        self,
        host_path: impl AsRef<std::path::Path>,
        guest_name: impl Into<String>,
    ) -> std::io::Result<Self> {
        let dir = cap_std::fs::Dir::open_ambient_dir(host_path, cap_std::ambient_authority())?;
        Ok(self.preopened_cap_dir(dir, guest_name))
    }

    /// Pre-opens an already open cap-std directory under the name
    /// `guest_name`.
    pub fn preopened_cap_dir(
        mut self,
        dir: cap_std::fs::Dir,
        guest_name: impl Into<String>,
    ) -> Self {
        self.preopens.push((dir, guest_name.into()));
        self
    }

    /// Hands the guest a socket: a listening socket (`listener == true`)
    /// it may `sock_accept` on, or a connected stream socket. It gets the
    /// next descriptor after the pre-opened directories.
    pub fn preopened_socket(mut self, socket: impl Into<OwnedFd>, listener: bool) -> Self {
        self.sockets.push((socket.into(), listener));
        self
    }

    /// The context: descriptors 0 to 2 are the standard streams, the
    /// pre-opened directories follow from 3 in the order they were added,
    /// then the sockets.
    pub fn build(self) -> WasiCtx {
        let mut ctx = WasiCtx {
            args: self.args,
            env: self.env,
            fds: BTreeMap::new(),
        };
        for (fd, choice) in (0u8..).zip(self.stdio) {
            let handle = match choice {
                Some(StdioChoice::Inherit) => Handle::Stdio(fd),
                Some(StdioChoice::File(f)) => Handle::File(f),
                None => Handle::Null,
            };
            let rights_base = stream_rights(handle.host_fd());
            ctx.fds.insert(
                u32::from(fd),
                FdEntry {
                    handle,
                    rights_base,
                    rights_inheriting: 0,
                },
            );
        }
        for (dir, name) in self.preopens {
            let fd = ctx.fds.len() as u32;
            ctx.fds.insert(
                fd,
                FdEntry {
                    handle: Handle::Dir(DirHandle {
                        dir: readable_dir(dir),
                        preopen: Some(name),
                        listing: None,
                    }),
                    rights_base: rights::DIRECTORY,
                    rights_inheriting: rights::DIRECTORY | rights::FILE,
                },
            );
        }
        for (socket, listener) in self.sockets {
            let fd = ctx.fds.len() as u32;
            let rights_base = if listener {
                rights::LISTENER
            } else {
                rights::SOCKET
            };
            ctx.fds.insert(
                fd,
                FdEntry {
                    handle: Handle::Socket(socket),
                    rights_base,
                    rights_inheriting: rights::SOCKET,
                },
            );
        }
        ctx
    }
}
