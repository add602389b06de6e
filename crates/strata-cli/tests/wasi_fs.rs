//! WASI file-system work under the real `strata` binary: files in a
//! pre-opened directory, large directory listings and readdir cookies,
//! every `fd_*` and `path_*` function with its rights and errors, and
//! every escape from the sandbox.

mod common;
use common::*;

#[test]
fn files_in_a_preopened_directory() {
    let dir = temp_dir("files");
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::os::unix::fs::symlink("b.txt", sandbox.join("l.txt")).unwrap();
    let o = strata_in(
        dir.path(),
        &[
            "run",
            "--dir",
            "sandbox::/data",
            &program("fs.wasm"),
            "files",
            "/data",
        ],
        b"",
    );
    // Rust's std reports the WASI errno as the raw OS error; wasi-libc
    // turns `notcapable` into `badf` (8) on a read-only file.
    assert_lines(
        &o,
        &[
            "write: ok ()",
            "append: ok ()",
            "read: ok \"hello\\nworld\\n\"",
            "seek+read: ok \"world\\n\"",
            "seek-end: ok 9",
            "len: ok (12, true, false)",
            "set_len: ok ()",
            "read-after-set_len: ok \"hel\"",
            "write-readonly: error 8",
            "create_new-exists: error 20",
            "open-missing: error 44",
            "rename: ok ()",
            "rename-missing: error 44",
            "hard_link: ok ()",
            "read-hard-link: ok \"hel\"",
            "read_link: ok \"b.txt\"",
            "read-through-symlink: ok \"hel\"",
            "symlink_metadata: ok true",
            "copy: ok 3",
            "create_dir: ok ()",
            "create_dir-exists: error 20",
            "create_dir_all: ok ()",
            "write-nested: ok ()",
            "remove_dir-not-empty: error 55",
            "remove_file-dir: error 31",
            "read-dir-as-file: error 8",
            "open-file-as-dir: error 54",
            "remove_dir_all: ok ()",
            "remove_file: ok ()",
            "remove_file-missing: error 44",
            "set_modified: ok SystemTime { tv_sec: 1000000000, tv_nsec: 0 }",
            "entries: [\"b.txt\", \"d.txt\", \"l.txt\"]",
        ],
    );
    // The host sees what the guest did.
    assert_eq!(
        std::fs::read_to_string(sandbox.join("b.txt")).unwrap(),
        "hel"
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.join("d.txt")).unwrap(),
        "hel"
    );
    assert!(!sandbox.join("a.txt").exists());
    assert!(!sandbox.join("sub").exists());
    let mtime = std::fs::metadata(sandbox.join("d.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000)
    );
}

/// FNV-1a over sorted names, as `fs.wasm list` computes it.
fn fnv(names: &[String]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for n in names {
        for b in n.bytes().chain(std::iter::once(b'/')) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

#[test]
fn a_large_directory_is_listed_whole() {
    let dir = temp_dir("list");
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    let o = strata_in(
        dir.path(),
        &[
            "run",
            "--dir",
            "big",
            &program("fs.wasm"),
            "mkmany",
            "big",
            "1000",
        ],
        b"",
    );
    assert_lines(&o, &["created 1000"]);
    let mut names: Vec<String> = std::fs::read_dir(&big)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 1000);
    let o = strata_in(
        dir.path(),
        &["run", "--dir", "big", &program("fs.wasm"), "list", "big"],
        b"",
    );
    let expected = format!("1000 entries, 1000 distinct, fnv {}", fnv(&names));
    assert_lines(&o, &[&expected]);
}

#[test]
fn readdir_cookies_survive_a_large_directory_and_a_small_buffer() {
    let dir = temp_dir("readdir");
    let many = dir.path().join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..1000 {
        std::fs::write(many.join(format!("entry-with-a-long-name-{i:05}")), "").unwrap();
    }
    let o = strata_in(
        dir.path(),
        &["run", "--dir", ".", &program("raw.wasm"), "readdir", "1000"],
        b"",
    );
    assert_lines(
        &o,
        &[
            "readdir entries = 1002",
            "readdir distinct = 1002",
            "readdir has dot entries = true",
            "readdir needed many calls = true",
            "readdir missing = 0",
            "readdir past end = ok 0",
            "readdir on file = 76",
        ],
    );
}

#[test]
fn fd_functions_and_rights() {
    let dir = temp_dir("fd");
    let o = strata_in(
        dir.path(),
        &["run", "--dir", ".::/work", &program("raw.wasm"), "fd"],
        b"",
    );
    assert_lines(
        &o,
        &[
            "write = (0, 11)",
            "tell = ok 11",
            "seek set = ok 0",
            "seek end = ok 6",
            "seek cur = ok 8",
            "seek negative = 28",
            "seek bad whence = 28",
            "pread = ok 5 \"world\"",
            "pwrite = ok 5",
            "read back = \"HELLO world\"",
            "filestat = ok type=4 nlink=1 size=11",
            "set_size = ok",
            "size after set_size = 5",
            "set_times = ok",
            "mtim after set_times = true",
            "set_times now = ok",
            "set_times both = 28",
            "advise = ok",
            "advise bad = 28",
            "allocate = ok",
            "size after allocate = 100",
            "datasync = ok",
            "sync = ok",
            "fdstat = ok type=4 flags=0 write=true",
            "set_flags append = ok",
            "flags after set_flags = 1",
            "set_flags nonblock = ok",
            "flags after nonblock = 4",
            "set_flags sync = 58",
            "set_flags bad = 28",
            "drop write right = ok",
            "write without right = 76",
            "regain right = 76",
            "allocate without right = 76",
            "read with right = 0",
            "read-only write = 76",
            "read-only read = (0, [72, 69, 76, 76, 79])",
            "read-only seek = 76",
            "renumber = ok",
            "renumbered is read-write = true",
            "old number closed = 8",
            "renumber to closed = 8",
            "close = ok",
            "close again = 8",
            "read closed = 8",
            "write bad iovec = 21",
            "write iovec out of bounds = 21",
            "prestat = ok tag=0 len=5",
            "prestat_dir_name = ok \"/work\"",
            "prestat_dir_name short = 37",
            "prestat on file = 8",
            "prestat on stdout = 8",
            "prestat past end = 8",
            "dir fdstat = ok type=3",
            "seek dir = 76",
            "read dir = 76",
            // Standard output is a pipe here, which has no WASI filetype.
            "stdout fdstat type = 0",
        ],
    );
}

#[test]
fn path_functions_with_every_oflag_and_fdflag() {
    let dir = temp_dir("path");
    let o = strata_in(
        dir.path(),
        &["run", "--dir", ".", &program("raw.wasm"), "path"],
        b"",
    );
    assert_lines(
        &o,
        &[
            "open creat = ok",
            "open excl existing = 20",
            "open trunc size = 0",
            "open missing = 44",
            "open file as directory = 54",
            "open directory creat = 28",
            "open bad oflags = 28",
            // A directory never opens with `fd_write` (`isdir`, as POSIX
            // `open` and wasmtime answer), with or without `directory`.
            "open directory no rights = ok",
            "open directory read = ok",
            "open directory every right but write = ok",
            "open directory read write = 31",
            "open directory write = 31",
            "open directory every right = 31",
            "open dot read = ok",
            "open dot read write = 31",
            "open fdflag append = ok flags=1",
            // rustix opens `dsync` as `O_SYNC` (a stronger guarantee), and
            // Linux's `O_RSYNC` is `O_SYNC`, so all three read back as
            // sync|rsync.
            "open fdflag dsync = ok flags=24",
            "open fdflag nonblock = ok flags=4",
            "open fdflag rsync = ok flags=24",
            "open fdflag sync = ok flags=24",
            "append wrote at end = 2",
            // `trunc` with `append` is what wasi-libc asks for
            // `O_TRUNC | O_APPEND`; `fd_pwrite` then appends whatever the
            // offset and leaves the position, as on Linux and in wasmtime.
            "open creat trunc append = ok",
            "append position after write = ok 4",
            "pwrite on append = ok 3",
            "append position after pwrite = ok 4",
            "append contents = ok \"abcdXYZ\"",
            "open trunc append = ok size=0",
            "open empty path = 44",
            "open in file = 54",
            "open nul byte = 25",
            "open path out of bounds = 21",
            "open on non-directory fd = 54",
            "open with stdout as dir = 54",
            "mkdir = ok",
            "mkdir again = 20",
            "mkdir missing parent = 44",
            "open directory type = 3",
            "open in opened dir = ok",
            "rmdir not empty = 55",
            "unlink directory = 31",
            "rmdir file = 54",
            "unlink missing = 44",
            "rmdir missing = 44",
            "symlink = ok",
            "symlink exists = 20",
            "readlink = ok \"p.txt\"",
            "readlink short buffer = ok \"p.t\"",
            "readlink not a link = 28",
            "lstat link = ok type=7",
            "stat link = ok type=4 size=2",
            "stat missing = 44",
            "stat bad flags = 28",
            "open nofollow link = 32",
            "open follow link = ok",
            "set_times follow = ok",
            "target mtim set = true",
            "set_times nofollow = ok",
            "link mtim set = true",
            "set_times both = 28",
            "link = ok",
            "nlink after link = 2",
            "link exists = 20",
            "link follow flag = 28",
            // Linux refuses hard links to directories with EPERM.
            "link directory = 63",
            "rename = ok",
            "rename missing = 44",
            "rename into opened dir = ok",
            "rename dir onto nonempty dir = ok 55",
            "rename file onto dir = 31",
            "unlink = ok",
        ],
    );
    assert!(dir.path().join("d1/renamed").exists());
    assert!(!dir.path().join("link").exists());
}

#[test]
fn every_escape_from_the_sandbox_is_refused() {
    let dir = temp_dir("escape");
    let sandbox = dir.path().join("sandbox");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(sandbox.join("sub")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    use std::os::unix::fs::symlink;
    symlink("../outside/secret.txt", sandbox.join("out-link")).unwrap();
    symlink(outside.join("secret.txt"), sandbox.join("abs-link")).unwrap();
    symlink("../outside", sandbox.join("dir-link")).unwrap();
    symlink("sub", sandbox.join("inner-link")).unwrap();
    let o = strata_in(
        dir.path(),
        &["run", "--dir", "sandbox::/sandbox", &program("escape.wasm")],
        b"",
    );
    // 63 is `perm`, what cap-std (and so wasmtime) answers to a path that
    // would leave the directory.
    assert_lines(
        &o,
        &[
            "open ../outside/secret.txt = 63",
            "open sub/../../outside/secret.txt = 63",
            "open /etc/passwd = 63",
            "open out-link = 63",
            "open abs-link = 63",
            "open dir-link/secret.txt = 63",
            "open inner-link/../../outside/secret.txt = 63",
            "open dir .. = 63",
            "open dir dir-link = 63",
            "create through out-link = 63",
            "open inside sub/.. = ok",
            "open inside inner-link = ok",
            "open inside . = ok",
            "stat follow out-link = 63",
            "stat nofollow out-link = ok",
            "stat ../outside = 63",
            "set_times ../outside = 63",
            "unlink ../outside = 63",
            "readlink ../outside = 63",
            "link from outside = 63",
            "rename from outside = 63",
            "rename to outside = 63",
            "link to outside = 63",
            "mkdir outside = 63",
            "rmdir outside = 63",
            "symlink absolute target = 63",
            "symlink relative escaping target = ok",
            "symlink placed outside = 63",
            "open through my-up-link = 63",
            "hard link of out-link = ok",
            "open hard-to-link = 63",
            "open ../../outside from sub = 63",
            "open .. from sub = 63",
        ],
    );
    // Nothing outside changed.
    let mut outside_names: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside_names.sort();
    assert_eq!(outside_names, ["secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
        "secret"
    );
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(top, ["outside", "sandbox"]);
    assert!(sandbox.join("sub").is_dir());
}

/// Every test above again, with the interpreter (the tests themselves run
/// the default tier, the JIT where available).
#[test]
fn the_same_in_the_interpreter() {
    common::in_tier("interp", || {
        files_in_a_preopened_directory();
        a_large_directory_is_listed_whole();
        readdir_cookies_survive_a_large_directory_and_a_small_buffer();
        fd_functions_and_rights();
        path_functions_with_every_oflag_and_fdflag();
        every_escape_from_the_sandbox_is_refused();
    });
}
