//! The preview1 imports, declared by hand so the test programs need no
//! crate. Every parameter is the wasm type (`i32`/`i64`); every function
//! returns its errno.
#![allow(dead_code)]

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    pub fn args_sizes_get(argc: i32, size: i32) -> i32;
    pub fn clock_res_get(id: i32, out: i32) -> i32;
    pub fn clock_time_get(id: i32, precision: i64, out: i32) -> i32;
    pub fn random_get(buf: i32, len: i32) -> i32;
    pub fn sched_yield() -> i32;
    pub fn proc_raise(sig: i32) -> i32;
    pub fn fd_advise(fd: i32, offset: i64, len: i64, advice: i32) -> i32;
    pub fn fd_allocate(fd: i32, offset: i64, len: i64) -> i32;
    pub fn fd_close(fd: i32) -> i32;
    pub fn fd_datasync(fd: i32) -> i32;
    pub fn fd_fdstat_get(fd: i32, out: i32) -> i32;
    pub fn fd_fdstat_set_flags(fd: i32, flags: i32) -> i32;
    pub fn fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) -> i32;
    pub fn fd_filestat_get(fd: i32, out: i32) -> i32;
    pub fn fd_filestat_set_size(fd: i32, size: i64) -> i32;
    pub fn fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, fst: i32) -> i32;
    pub fn fd_pread(fd: i32, iovs: i32, len: i32, offset: i64, out: i32) -> i32;
    pub fn fd_prestat_get(fd: i32, out: i32) -> i32;
    pub fn fd_prestat_dir_name(fd: i32, buf: i32, len: i32) -> i32;
    pub fn fd_pwrite(fd: i32, iovs: i32, len: i32, offset: i64, out: i32) -> i32;
    pub fn fd_read(fd: i32, iovs: i32, len: i32, out: i32) -> i32;
    pub fn fd_readdir(fd: i32, buf: i32, len: i32, cookie: i64, out: i32) -> i32;
    pub fn fd_renumber(fd: i32, to: i32) -> i32;
    pub fn fd_seek(fd: i32, offset: i64, whence: i32, out: i32) -> i32;
    pub fn fd_sync(fd: i32) -> i32;
    pub fn fd_tell(fd: i32, out: i32) -> i32;
    pub fn fd_write(fd: i32, iovs: i32, len: i32, out: i32) -> i32;
    pub fn path_create_directory(fd: i32, p: i32, len: i32) -> i32;
    pub fn path_filestat_get(fd: i32, flags: i32, p: i32, len: i32, out: i32) -> i32;
    pub fn path_filestat_set_times(
        fd: i32, flags: i32, p: i32, len: i32, atim: i64, mtim: i64, fst: i32,
    ) -> i32;
    pub fn path_link(
        old_fd: i32, old_flags: i32, old_p: i32, old_len: i32, new_fd: i32, new_p: i32,
        new_len: i32,
    ) -> i32;
    pub fn path_open(
        fd: i32, dirflags: i32, p: i32, len: i32, oflags: i32, base: i64, inheriting: i64,
        fdflags: i32, out: i32,
    ) -> i32;
    pub fn path_readlink(fd: i32, p: i32, len: i32, buf: i32, buf_len: i32, out: i32) -> i32;
    pub fn path_remove_directory(fd: i32, p: i32, len: i32) -> i32;
    pub fn path_rename(fd: i32, old_p: i32, old_len: i32, new_fd: i32, new_p: i32, new_len: i32)
        -> i32;
    pub fn path_symlink(old_p: i32, old_len: i32, fd: i32, new_p: i32, new_len: i32) -> i32;
    pub fn path_unlink_file(fd: i32, p: i32, len: i32) -> i32;
    pub fn poll_oneoff(subs: i32, events: i32, n: i32, out: i32) -> i32;
    pub fn sock_accept(fd: i32, flags: i32, out: i32) -> i32;
    pub fn sock_recv(fd: i32, iovs: i32, len: i32, flags: i32, out: i32, oflags: i32) -> i32;
    pub fn sock_send(fd: i32, iovs: i32, len: i32, flags: i32, out: i32) -> i32;
    pub fn sock_shutdown(fd: i32, how: i32) -> i32;
}

/// The guest address of a local (`&x` or `&mut x`).
pub fn addr<T: ?Sized>(p: *const T) -> i32 {
    p as *const u8 as i32
}

pub const RIGHTS_FD_READ: i64 = 1 << 1;
pub const RIGHTS_FD_SEEK: i64 = 1 << 2;
pub const RIGHTS_FD_TELL: i64 = 1 << 5;
pub const RIGHTS_FD_WRITE: i64 = 1 << 6;
pub const RIGHTS_FD_READDIR: i64 = 1 << 14;
/// Every right a file or directory can hold.
pub const RIGHTS_ALL: i64 = (1 << 28) - 1;
/// Every right but `fd_write`, which a directory cannot be opened with
/// (`isdir`).
pub const RIGHTS_DIR: i64 = RIGHTS_ALL & !RIGHTS_FD_WRITE;

/// Opens `path` under directory `dir` and returns the descriptor or errno.
pub fn open(dir: i32, follow: bool, path: &str, oflags: i32, rights: i64, fdflags: i32) -> Result<i32, i32> {
    let mut fd = 0i32;
    // SAFETY: every pointer refers to a live local of the right size.
    let e = unsafe {
        path_open(dir, follow as i32, addr(path.as_bytes()), path.len() as i32, oflags, rights, rights, fdflags, addr(&mut fd))
    };
    if e == 0 { Ok(fd) } else { Err(e) }
}

/// The errno of a call as a short string: `ok` or the number.
pub fn status(e: i32) -> String {
    if e == 0 { "ok".to_string() } else { e.to_string() }
}

/// Writes `data` to `fd` with one `fd_write`, returning (errno, written).
pub fn write(fd: i32, data: &[u8]) -> (i32, u32) {
    let iov = [addr(data) as u32, data.len() as u32];
    let mut n = 0u32;
    // SAFETY: the iovec and counter are live locals.
    let e = unsafe { fd_write(fd, addr(&iov), 1, addr(&mut n)) };
    (e, n)
}

/// Reads up to `len` bytes from `fd` with one `fd_read`.
pub fn read(fd: i32, len: usize) -> (i32, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let iov = [addr(&buf[..]) as u32, len as u32];
    let mut n = 0u32;
    // SAFETY: the iovec points into `buf`, which outlives the call.
    let e = unsafe { fd_read(fd, addr(&iov), 1, addr(&mut n)) };
    buf.truncate(n as usize);
    (e, buf)
}
