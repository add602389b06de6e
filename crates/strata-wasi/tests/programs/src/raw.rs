//! Raw preview1 calls that Rust's std does not reach, with their success
//! and error paths. Prints `name = result` lines (`ok`, an errno number,
//! or a value); the test compares them with what preview1 specifies.
//! The directory to work in is pre-opened as descriptor 3.
//!
//! Modes: `clocks`, `random`, `poll`, `fd`, `path`, `readdir N`, `misc`,
//! `streams FD`.
mod raw_wasi;
use raw_wasi::*;

macro_rules! show {
    ($name:expr, $v:expr) => {
        println!("{} = {}", $name, $v)
    };
}

const DIR: i32 = 3;

fn clock_now(id: i32) -> (i32, u64) {
    let mut t = 0u64;
    // SAFETY: `t` is a live local.
    let e = unsafe { clock_time_get(id, 1, addr(&mut t)) };
    (e, t)
}

fn clocks() {
    for id in 0..4 {
        let mut res = 0u64;
        // SAFETY: `res` is a live local.
        let e = unsafe { clock_res_get(id, addr(&mut res)) };
        show!(format!("res {id}"), format!("{} nonzero={}", status(e), res > 0));
        let (e1, t1) = clock_now(id);
        // Spin so CPU-time clocks move too.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let (e2, t2) = clock_now(id);
        show!(format!("time {id}"), format!("{} {} advances={}", status(e1), status(e2), t2 > t1));
    }
    let (_, real) = clock_now(0);
    // After 2020-01-01 and before 2200.
    show!("realtime plausible", real > 1_577_836_800_000_000_000 && real < 7_258_118_400_000_000_000);
    let mut t = 0u64;
    // SAFETY: `t` is a live local.
    show!("time bad clock", unsafe { clock_time_get(4, 0, addr(&mut t)) });
    show!("res bad clock", unsafe { clock_res_get(99, addr(&mut t)) });
    show!("time bad pointer", unsafe { clock_time_get(0, 0, -4) });
}

fn random() {
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    // SAFETY: the buffers are live locals of the given length.
    let (ea, eb) = unsafe { (random_get(addr(&mut a), 64), random_get(addr(&mut b), 64)) };
    show!("random_get", format!("{} {}", status(ea), status(eb)));
    show!("random differs", a != b && a != [0; 64]);
    show!("random_get empty", status(unsafe { random_get(addr(&mut a), 0) }));
    show!("random_get out of bounds", unsafe { random_get(-16, 64) });
}

/// A preview1 subscription (48 bytes).
fn sub(userdata: u64, tag: u8, a: u32, timeout: u64, flags: u16) -> [u8; 48] {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = tag;
    s[16..20].copy_from_slice(&a.to_le_bytes());
    s[24..32].copy_from_slice(&timeout.to_le_bytes());
    s[40..42].copy_from_slice(&flags.to_le_bytes());
    s
}

/// Runs `poll_oneoff` and returns (errno, events as (userdata, error, type, nbytes, flags)).
fn poll(subs: &[[u8; 48]]) -> (i32, Vec<(u64, u16, u8, u64, u16)>) {
    let mut events = vec![[0u8; 32]; subs.len()];
    let mut n = 0u32;
    // SAFETY: both arrays hold `subs.len()` records; `n` is a live local.
    let e = unsafe { poll_oneoff(addr(&subs[..]), addr(&mut events[..]), subs.len() as i32, addr(&mut n)) };
    let out = events[..n as usize]
        .iter()
        .map(|ev| {
            (
                u64::from_le_bytes(ev[0..8].try_into().unwrap()),
                u16::from_le_bytes(ev[8..10].try_into().unwrap()),
                ev[10],
                u64::from_le_bytes(ev[16..24].try_into().unwrap()),
                u16::from_le_bytes(ev[24..26].try_into().unwrap()),
            )
        })
        .collect();
    (e, out)
}

fn poll_tests() {
    let (_, t0) = clock_now(1);
    let (e, ev) = poll(&[sub(42, 0, 1, 30_000_000, 0)]);
    let (_, t1) = clock_now(1);
    show!("poll relative clock", format!("{} {:?} waited={}", status(e), ev, t1 - t0 >= 30_000_000));
    let (_, t0) = clock_now(1);
    let (e, ev) = poll(&[sub(7, 0, 1, t0 + 20_000_000, 1)]);
    let (_, t1) = clock_now(1);
    show!("poll absolute clock", format!("{} {:?} waited={}", status(e), ev, t1 - t0 >= 20_000_000));
    let (e, ev) = poll(&[sub(1, 0, 0, 0, 1)]);
    show!("poll past deadline", format!("{} {:?}", status(e), ev));
    let (e, ev) = poll(&[sub(5, 2, 1, 0, 0), sub(6, 0, 1, 5_000_000_000, 0)]);
    show!("poll stdout writable", format!("{} {:?}", status(e), ev.iter().map(|e| (e.0, e.1, e.2)).collect::<Vec<_>>()));
    let (e, ev) = poll(&[sub(9, 1, 0, 0, 0), sub(10, 0, 1, 5_000_000_000, 0)]);
    show!("poll stdin readable", format!("{} {:?}", status(e), ev.iter().map(|e| (e.0, e.1, e.2, e.3 > 0)).collect::<Vec<_>>()));
    let (_, data) = read(0, 100);
    show!("stdin after poll", format!("{:?}", String::from_utf8_lossy(&data)));
    let (e, ev) = poll(&[sub(11, 1, 0, 0, 0)]);
    show!("poll stdin at eof", format!("{} {:?}", status(e), ev.iter().map(|e| (e.0, e.1, e.2)).collect::<Vec<_>>()));
    let fd = open(DIR, false, "poll.txt", 1 | 8, RIGHTS_ALL, 0).unwrap();
    write(fd, b"0123456789");
    // SAFETY: `pos` is a live local.
    let mut pos = 0u64;
    unsafe { fd_seek(fd, 4, 0, addr(&mut pos)) };
    let (e, ev) = poll(&[sub(12, 1, fd as u32, 0, 0), sub(13, 2, fd as u32, 0, 0)]);
    show!("poll regular file", format!("{} {:?}", status(e), ev));
    let (e, ev) = poll(&[sub(14, 1, 999, 0, 0)]);
    show!("poll bad fd", format!("{} {:?}", status(e), ev));
    let (e, ev) = poll(&[sub(15, 0, 9, 0, 0)]);
    show!("poll bad clock", format!("{} {:?}", status(e), ev));
    let (e, _) = poll(&[]);
    show!("poll no subscriptions", e);
    let (e, _) = poll(&[sub(16, 3, 0, 0, 0)]);
    show!("poll bad event type", e);
    // SAFETY: deliberately out-of-bounds pointers: the host must fault.
    show!("poll out of bounds", unsafe { poll_oneoff(-8, -8, 1, -8) });
}

/// A file's (filetype, nlink, size, mtim) from `fd_filestat_get`.
fn fstat(fd: i32) -> (i32, u8, u64, u64, u64) {
    let mut b = [0u8; 64];
    // SAFETY: `b` is 64 bytes, a preview1 filestat.
    let e = unsafe { fd_filestat_get(fd, addr(&mut b)) };
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    (e, b[16], u(24), u(32), u(48))
}

/// (errno, filetype, flags, rights base) from `fd_fdstat_get`.
fn fdstat(fd: i32) -> (i32, u8, u16, i64) {
    let mut b = [0u8; 24];
    // SAFETY: `b` is 24 bytes, an fdstat.
    let e = unsafe { fd_fdstat_get(fd, addr(&mut b)) };
    (e, b[0], u16::from_le_bytes([b[2], b[3]]), i64::from_le_bytes(b[8..16].try_into().unwrap()))
}

fn fd_tests() {
    let fd = open(DIR, false, "f.txt", 1 | 8, RIGHTS_ALL, 0).unwrap();
    show!("write", format!("{:?}", write(fd, b"hello world")));
    let mut v = 0u64;
    // SAFETY (for each call below): pointers are live locals.
    show!("tell", format!("{} {}", status(unsafe { fd_tell(fd, addr(&mut v)) }), v));
    show!("seek set", format!("{} {}", status(unsafe { fd_seek(fd, 0, 0, addr(&mut v)) }), v));
    show!("seek end", format!("{} {}", status(unsafe { fd_seek(fd, -5, 2, addr(&mut v)) }), v));
    show!("seek cur", format!("{} {}", status(unsafe { fd_seek(fd, 2, 1, addr(&mut v)) }), v));
    show!("seek negative", unsafe { fd_seek(fd, -100, 0, addr(&mut v)) });
    show!("seek bad whence", unsafe { fd_seek(fd, 0, 3, addr(&mut v)) });
    let mut buf = [0u8; 5];
    let iov = [addr(&mut buf) as u32, 5u32];
    let mut n = 0u32;
    let e = unsafe { fd_pread(fd, addr(&iov), 1, 6, addr(&mut n)) };
    show!("pread", format!("{} {} {:?}", status(e), n, std::str::from_utf8(&buf[..n as usize]).unwrap()));
    let data = b"HELLO";
    let iov = [addr(data) as u32, 5u32];
    let e = unsafe { fd_pwrite(fd, addr(&iov), 1, 0, addr(&mut n)) };
    show!("pwrite", format!("{} {}", status(e), n));
    unsafe { fd_seek(fd, 0, 0, addr(&mut v)) };
    show!("read back", format!("{:?}", String::from_utf8(read(fd, 100).1).unwrap()));
    let (e, ft, nlink, size, _) = fstat(fd);
    show!("filestat", format!("{} type={ft} nlink={nlink} size={size}", status(e)));
    show!("set_size", status(unsafe { fd_filestat_set_size(fd, 5) }));
    show!("size after set_size", fstat(fd).3);
    let t = 1_234_567_890_123_456_789u64;
    show!("set_times", status(unsafe { fd_filestat_set_times(fd, t as i64, t as i64, 1 | 4) }));
    show!("mtim after set_times", fstat(fd).4 == t);
    show!("set_times now", status(unsafe { fd_filestat_set_times(fd, 0, 0, 2 | 8) }));
    show!("set_times both", unsafe { fd_filestat_set_times(fd, 0, 0, 1 | 2) });
    show!("advise", status(unsafe { fd_advise(fd, 0, 0, 1) }));
    show!("advise bad", unsafe { fd_advise(fd, 0, 0, 9) });
    show!("allocate", status(unsafe { fd_allocate(fd, 0, 100) }));
    show!("size after allocate", fstat(fd).3);
    show!("datasync", status(unsafe { fd_datasync(fd) }));
    show!("sync", status(unsafe { fd_sync(fd) }));
    let (e, ft, flags, base) = fdstat(fd);
    show!("fdstat", format!("{} type={ft} flags={flags} write={}", status(e), base & RIGHTS_FD_WRITE != 0));
    show!("set_flags append", status(unsafe { fd_fdstat_set_flags(fd, 1) }));
    show!("flags after set_flags", fdstat(fd).2);
    show!("set_flags nonblock", status(unsafe { fd_fdstat_set_flags(fd, 4) }));
    show!("flags after nonblock", fdstat(fd).2);
    show!("set_flags sync", unsafe { fd_fdstat_set_flags(fd, 16) });
    show!("set_flags bad", unsafe { fd_fdstat_set_flags(fd, 256) });
    show!("drop write right", status(unsafe { fd_fdstat_set_rights(fd, RIGHTS_FD_READ | RIGHTS_FD_SEEK, 0) }));
    show!("write without right", write(fd, b"x").0);
    show!("regain right", unsafe { fd_fdstat_set_rights(fd, RIGHTS_ALL, 0) });
    show!("allocate without right", unsafe { fd_allocate(fd, 0, 1) });
    show!("read with right", read(fd, 3).0);

    let ro = open(DIR, false, "f.txt", 0, RIGHTS_FD_READ, 0).unwrap();
    show!("read-only write", write(ro, b"x").0);
    show!("read-only read", format!("{:?}", read(ro, 5)));
    show!("read-only seek", unsafe { fd_seek(ro, 0, 0, addr(&mut v)) });
    let other = open(DIR, false, "f.txt", 0, RIGHTS_ALL, 0).unwrap();
    show!("renumber", status(unsafe { fd_renumber(other, ro) }));
    show!("renumbered is read-write", fdstat(ro).3 & RIGHTS_FD_WRITE != 0);
    show!("old number closed", fdstat(other).0);
    show!("renumber to closed", unsafe { fd_renumber(ro, 1000) });
    show!("close", status(unsafe { fd_close(ro) }));
    show!("close again", unsafe { fd_close(ro) });
    show!("read closed", read(ro, 1).0);
    show!("write bad iovec", unsafe { fd_write(1, -8, 1, addr(&mut n)) });
    let big = [0u32, 0xffff_fff0u32];
    show!("write iovec out of bounds", unsafe { fd_write(1, addr(&big), 1, addr(&mut n)) });

    let mut pre = [0u32; 2];
    let e = unsafe { fd_prestat_get(DIR, addr(&mut pre)) };
    show!("prestat", format!("{} tag={} len={}", status(e), pre[0] & 0xff, pre[1]));
    let mut name = vec![0u8; pre[1] as usize];
    let e = unsafe { fd_prestat_dir_name(DIR, addr(&mut name[..]), name.len() as i32) };
    show!("prestat_dir_name", format!("{} {:?}", status(e), String::from_utf8_lossy(&name)));
    show!("prestat_dir_name short", unsafe { fd_prestat_dir_name(DIR, addr(&mut name[..]), 0) });
    show!("prestat on file", unsafe { fd_prestat_get(fd, addr(&mut pre)) });
    show!("prestat on stdout", unsafe { fd_prestat_get(1, addr(&mut pre)) });
    show!("prestat past end", unsafe { fd_prestat_get(77, addr(&mut pre)) });
    let (e, ft, _, _) = fdstat(DIR);
    show!("dir fdstat", format!("{} type={ft}", status(e)));
    show!("seek dir", unsafe { fd_seek(DIR, 0, 0, addr(&mut v)) });
    show!("read dir", read(DIR, 4).0);
    show!("stdout fdstat type", fdstat(1).1);
}

fn path_tests() {
    let p = |s: &str| (addr(s.as_bytes()), s.len() as i32);
    macro_rules! call1 {
        ($f:ident, $s:expr) => {{
            let (a, l) = p($s);
            // SAFETY: the path is a live string.
            status(unsafe { $f(DIR, a, l) })
        }};
    }
    let fd = open(DIR, false, "p.txt", 1, RIGHTS_ALL, 0).unwrap();
    write(fd, b"12345");
    show!("open creat", "ok");
    show!("open excl existing", open(DIR, false, "p.txt", 1 | 4, RIGHTS_ALL, 0).unwrap_err());
    let t = open(DIR, false, "p.txt", 8, RIGHTS_ALL, 0).unwrap();
    show!("open trunc size", fstat(t).3);
    show!("open missing", open(DIR, false, "nope.txt", 0, RIGHTS_ALL, 0).unwrap_err());
    show!("open file as directory", open(DIR, false, "p.txt", 2, RIGHTS_ALL, 0).unwrap_err());
    show!("open directory creat", open(DIR, false, "dd", 1 | 2, RIGHTS_ALL, 0).unwrap_err());
    show!("open bad oflags", open(DIR, false, "p.txt", 16, RIGHTS_ALL, 0).unwrap_err());
    // A directory opens without `fd_write` only, as POSIX `open` and
    // wasmtime have it.
    let o = |r: Result<i32, i32>| r.map_or_else(|e| e.to_string(), |_| "ok".to_string());
    show!("open directory no rights", o(open(DIR, false, ".", 2, 0, 0)));
    show!("open directory read", o(open(DIR, false, ".", 2, RIGHTS_FD_READ, 0)));
    show!("open directory every right but write", o(open(DIR, false, ".", 2, RIGHTS_DIR, 0)));
    show!("open directory read write", o(open(DIR, false, ".", 2, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0)));
    show!("open directory write", o(open(DIR, false, ".", 2, RIGHTS_FD_WRITE, 0)));
    show!("open directory every right", o(open(DIR, false, ".", 2, RIGHTS_ALL, 0)));
    show!("open dot read", o(open(DIR, false, ".", 0, RIGHTS_FD_READ, 0)));
    show!("open dot read write", o(open(DIR, false, ".", 0, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0)));
    for (name, flag) in [("append", 1), ("dsync", 2), ("nonblock", 4), ("rsync", 8), ("sync", 16)] {
        let r = open(DIR, false, "p.txt", 0, RIGHTS_ALL, flag);
        show!(format!("open fdflag {name}"), match r {
            Ok(fd) => format!("ok flags={}", fdstat(fd).2),
            Err(e) => e.to_string(),
        });
    }
    let a = open(DIR, false, "p.txt", 0, RIGHTS_ALL, 1).unwrap();
    write(a, b"AB");
    show!("append wrote at end", fstat(a).3);
    // What wasi-libc's open(O_WRONLY | O_CREAT | O_TRUNC | O_APPEND) asks.
    let a = open(DIR, false, "append.txt", 1 | 8, RIGHTS_ALL, 1);
    show!("open creat trunc append", o(a));
    let a = a.unwrap_or(-1);
    write(a, b"ab");
    let mut v = 0u64;
    // SAFETY (for each call below): pointers are live locals.
    unsafe { fd_seek(a, 0, 0, addr(&mut v)) };
    write(a, b"cd");
    let e = unsafe { fd_tell(a, addr(&mut v)) };
    show!("append position after write", format!("{} {v}", status(e)));
    // As on Linux and in wasmtime, `fd_pwrite` on an appending descriptor
    // writes at the end whatever the offset, and leaves the position.
    let data = b"XYZ";
    let iov = [addr(data) as u32, 3u32];
    let mut n = 0u32;
    let e = unsafe { fd_pwrite(a, addr(&iov), 1, 0, addr(&mut n)) };
    show!("pwrite on append", format!("{} {n}", status(e)));
    let e = unsafe { fd_tell(a, addr(&mut v)) };
    show!("append position after pwrite", format!("{} {v}", status(e)));
    let mut buf = [0u8; 16];
    let iov = [addr(&mut buf) as u32, 16u32];
    let e = unsafe { fd_pread(a, addr(&iov), 1, 0, addr(&mut n)) };
    show!("append contents", format!("{} {:?}", status(e), String::from_utf8_lossy(&buf[..n as usize])));
    let t = open(DIR, false, "append.txt", 8, RIGHTS_ALL, 1);
    show!("open trunc append", format!("{} size={}", o(t), fstat(t.unwrap_or(-1)).3));
    show!("open empty path", open(DIR, false, "", 0, RIGHTS_ALL, 0).unwrap_err());
    show!("open in file", open(DIR, false, "p.txt/x", 0, RIGHTS_ALL, 0).unwrap_err());
    show!("open nul byte", open(DIR, false, "p\0.txt", 0, RIGHTS_ALL, 0).unwrap_err());
    let (_, l) = p("p.txt");
    show!("open path out of bounds", unsafe { path_open(DIR, 0, -2, l, 0, 0, 0, 0, -4) });
    show!("open on non-directory fd", open(fd, false, "x", 0, RIGHTS_ALL, 0).unwrap_err());
    show!("open with stdout as dir", open(1, false, "x", 0, RIGHTS_ALL, 0).unwrap_err());

    show!("mkdir", call1!(path_create_directory, "d1"));
    show!("mkdir again", call1!(path_create_directory, "d1"));
    show!("mkdir missing parent", call1!(path_create_directory, "nope/d2"));
    let d = open(DIR, false, "d1", 2, RIGHTS_DIR, 0).unwrap();
    show!("open directory type", fdstat(d).1);
    show!("open in opened dir", open(d, false, "inner.txt", 1, RIGHTS_ALL, 0).map(|_| "ok").unwrap_or("err"));
    show!("rmdir not empty", call1!(path_remove_directory, "d1"));
    show!("unlink directory", call1!(path_unlink_file, "d1"));
    show!("rmdir file", call1!(path_remove_directory, "p.txt"));
    show!("unlink missing", call1!(path_unlink_file, "nope"));
    show!("rmdir missing", call1!(path_remove_directory, "nope"));

    let (ta, tl) = p("p.txt");
    let (la, ll) = p("link");
    show!("symlink", status(unsafe { path_symlink(ta, tl, DIR, la, ll) }));
    show!("symlink exists", unsafe { path_symlink(ta, tl, DIR, la, ll) });
    let mut b = [0u8; 64];
    let mut n = 0u32;
    let e = unsafe { path_readlink(DIR, la, ll, addr(&mut b), 64, addr(&mut n)) };
    show!("readlink", format!("{} {:?}", status(e), String::from_utf8_lossy(&b[..n as usize])));
    let e = unsafe { path_readlink(DIR, la, ll, addr(&mut b), 3, addr(&mut n)) };
    show!("readlink short buffer", format!("{} {:?}", status(e), String::from_utf8_lossy(&b[..n as usize])));
    show!("readlink not a link", unsafe { path_readlink(DIR, ta, tl, addr(&mut b), 64, addr(&mut n)) });
    let mut st = [0u8; 64];
    let e = unsafe { path_filestat_get(DIR, 0, la, ll, addr(&mut st)) };
    show!("lstat link", format!("{} type={}", status(e), st[16]));
    let e = unsafe { path_filestat_get(DIR, 1, la, ll, addr(&mut st)) };
    show!("stat link", format!("{} type={} size={}", status(e), st[16], u64::from_le_bytes(st[32..40].try_into().unwrap())));
    show!("stat missing", unsafe { path_filestat_get(DIR, 1, la, 2, addr(&mut st)) });
    show!("stat bad flags", unsafe { path_filestat_get(DIR, 4, la, ll, addr(&mut st)) });
    show!("open nofollow link", open(DIR, false, "link", 0, RIGHTS_ALL, 0).unwrap_err());
    show!("open follow link", open(DIR, true, "link", 0, RIGHTS_ALL, 0).map(|_| "ok").unwrap_or("err"));
    let t = 2_000_000_000_000_000_000u64;
    let e = unsafe { path_filestat_set_times(DIR, 1, la, ll, t as i64, t as i64, 1 | 4) };
    show!("set_times follow", status(e));
    unsafe { path_filestat_get(DIR, 0, ta, tl, addr(&mut st)) };
    show!("target mtim set", u64::from_le_bytes(st[48..56].try_into().unwrap()) == t);
    let e = unsafe { path_filestat_set_times(DIR, 0, la, ll, 5_000_000_000, 5_000_000_000, 1 | 4) };
    show!("set_times nofollow", status(e));
    unsafe { path_filestat_get(DIR, 0, la, ll, addr(&mut st)) };
    show!("link mtim set", u64::from_le_bytes(st[48..56].try_into().unwrap()) == 5_000_000_000);
    show!("set_times both", unsafe { path_filestat_set_times(DIR, 0, ta, tl, 0, 0, 4 | 8) });

    let (ha, hl) = p("hard");
    show!("link", status(unsafe { path_link(DIR, 0, ta, tl, DIR, ha, hl) }));
    unsafe { path_filestat_get(DIR, 0, ta, tl, addr(&mut st)) };
    show!("nlink after link", u64::from_le_bytes(st[24..32].try_into().unwrap()));
    show!("link exists", unsafe { path_link(DIR, 0, ta, tl, DIR, ha, hl) });
    show!("link follow flag", unsafe { path_link(DIR, 1, la, ll, DIR, ha, hl) });
    show!("link directory", unsafe { path_link(DIR, 0, p("d1").0, 2, DIR, p("d1h").0, 3) });
    let (ra, rl) = p("renamed");
    show!("rename", status(unsafe { path_rename(DIR, ha, hl, DIR, ra, rl) }));
    show!("rename missing", unsafe { path_rename(DIR, ha, hl, DIR, ra, rl) });
    show!("rename into opened dir", status(unsafe { path_rename(DIR, ra, rl, d, ra, rl) }));
    let e = unsafe { path_create_directory(DIR, p("d3").0, 2) };
    show!("rename dir onto nonempty dir", format!("{} {}", status(e), unsafe { path_rename(DIR, p("d3").0, 2, DIR, p("d1").0, 2) }));
    show!("rename file onto dir", unsafe { path_rename(DIR, ta, tl, DIR, p("d3").0, 2) });
    show!("unlink", call1!(path_unlink_file, "link"));
}

fn readdir_test(count: usize) {
    let dir = open(DIR, false, "many", 2, RIGHTS_DIR, 0).unwrap();
    // A small buffer forces many calls, each resuming at the cookie of the
    // first entry that did not fit.
    let mut buf = vec![0u8; 300];
    let mut cookie = 0u64;
    let mut names = Vec::new();
    let mut calls = 0;
    loop {
        let mut used = 0u32;
        // SAFETY: `buf` and `used` are live locals.
        let e = unsafe { fd_readdir(dir, addr(&mut buf[..]), buf.len() as i32, cookie as i64, addr(&mut used)) };
        calls += 1;
        assert_eq!(e, 0);
        let mut at = 0usize;
        let used = used as usize;
        while at + 24 <= used {
            let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
            let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
            if at + 24 + namlen > used {
                break;
            }
            names.push(String::from_utf8(buf[at + 24..at + 24 + namlen].to_vec()).unwrap());
            cookie = next;
            at += 24 + namlen;
        }
        if used < buf.len() {
            break;
        }
    }
    let total = names.len();
    names.sort();
    names.dedup();
    show!("readdir entries", total);
    show!("readdir distinct", names.len());
    show!("readdir has dot entries", names.contains(&".".to_string()) && names.contains(&"..".to_string()));
    show!("readdir needed many calls", calls > count / 20);
    let missing = (0..count).filter(|i| !names.contains(&format!("entry-with-a-long-name-{i:05}"))).count();
    show!("readdir missing", missing);
    let mut used = 0u32;
    let e = unsafe { fd_readdir(dir, addr(&mut buf[..]), buf.len() as i32, 1 << 40, addr(&mut used)) };
    show!("readdir past end", format!("{} {used}", status(e)));
    let f = open(DIR, false, "poll.txt", 1, RIGHTS_ALL, 0).unwrap();
    show!("readdir on file", unsafe { fd_readdir(f, addr(&mut buf[..]), 300, 0, addr(&mut used)) });
}

/// What each standard stream says it is: its `fd_fdstat_get` type and
/// seek rights, its `fd_filestat_get` type, and what wasi-libc's `isatty`
/// (Rust's `IsTerminal`) concludes. Written to descriptor `report`.
fn streams(report: i32) {
    use std::io::IsTerminal;
    let terminal = [
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
    ];
    for fd in 0..3 {
        let (e, ft, _, base) = fdstat(fd);
        let (fe, fft, ..) = fstat(fd);
        let line = format!(
            "fd {fd} = {} type={ft} seek={} tell={} filestat {} type={fft} isatty={}\n",
            status(e),
            base & RIGHTS_FD_SEEK != 0,
            base & RIGHTS_FD_TELL != 0,
            status(fe),
            terminal[fd as usize]
        );
        write(report, line.as_bytes());
    }
}

fn misc() {
    // SAFETY: plain calls, or deliberately bad pointers the host must catch.
    show!("sched_yield", status(unsafe { sched_yield() }));
    show!("proc_raise", unsafe { proc_raise(2) });
    show!("args_sizes_get out of bounds", unsafe { args_sizes_get(-2, -2) });
    let mut n = 0u32;
    let mut b = [0u8; 8];
    let iov = [addr(&mut b) as u32, 8u32];
    let mut fl = 0u16;
    show!("sock_recv on file", unsafe { sock_recv(0, addr(&iov), 1, 0, addr(&mut n), addr(&mut fl)) });
    show!("sock_send on stdout", unsafe { sock_send(1, addr(&iov), 1, 0, addr(&mut n)) });
    show!("sock_shutdown on stdout", unsafe { sock_shutdown(1, 3) });
    show!("sock_accept on stdin", unsafe { sock_accept(0, 0, addr(&mut n)) });
    show!("sock_accept bad fd", unsafe { sock_accept(99, 0, addr(&mut n)) });
    show!("set_flags nonblock on stdout", unsafe { fd_fdstat_set_flags(1, 4) });
    show!("set_flags unchanged on stdout", status(unsafe { fd_fdstat_set_flags(1, 0) }));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("clocks") => clocks(),
        Some("random") => random(),
        Some("poll") => poll_tests(),
        Some("fd") => fd_tests(),
        Some("path") => path_tests(),
        Some("readdir") => readdir_test(args[2].parse().unwrap()),
        Some("misc") => misc(),
        Some("streams") => streams(args[2].parse().unwrap()),
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
