//! The embedding API of `strata-wasi`: contexts built in Rust, sockets
//! handed in, custom standard streams, `proc_exit` through the host-error
//! path, and guests that export no memory. Guests are small text modules.

use std::io::{Read, Seek, Write};
use std::net::{TcpListener, TcpStream};
use strata::{Engine, Instance, Linker, Module, Store};
use strata_wasi::{I32Exit, WasiCtx};

/// Instantiates `wat` with WASI from `ctx`.
fn instantiate(wat: &str, ctx: WasiCtx) -> (Store<WasiCtx>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("valid module");
    let mut linker = Linker::new(&engine);
    strata_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).expect("defines WASI");
    let mut store = Store::new(&engine, ctx);
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiates");
    (store, instance)
}

fn call(store: &mut Store<WasiCtx>, instance: &Instance, name: &str) -> i32 {
    instance
        .get_typed_func::<(), i32>(&mut *store, name)
        .expect("export")
        .call(&mut *store, ())
        .expect("returns")
}

fn read_mem(store: &Store<WasiCtx>, instance: &Instance, at: usize, len: usize) -> Vec<u8> {
    let memory = instance.get_memory(store, "memory").expect("memory");
    let mut buf = vec![0; len];
    memory.read(store, at, &mut buf).expect("in bounds");
    buf
}

fn u32_at(store: &Store<WasiCtx>, instance: &Instance, at: usize) -> u32 {
    u32::from_le_bytes(read_mem(store, instance, at, 4).try_into().unwrap())
}

#[test]
fn sockets_handed_in_accept_receive_send_and_shut_down() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"ping").unwrap();
        let mut reply = Vec::new();
        // The guest shuts down its write side, which ends this read.
        s.read_to_end(&mut reply).unwrap();
        reply
    });
    let ctx = WasiCtx::builder().preopened_socket(listener, true).build();
    let (mut store, instance) = instantiate(
        r#"(module
            (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "sock_shutdown" (func $shutdown (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 500) "pong")
            ;; The listener is descriptor 3; the accepted stream lands at 100.
            (func (export "accept") (result i32)
                (call $accept (i32.const 3) (i32.const 0) (i32.const 100)))
            (func (export "stat") (result i32)
                (call $fdstat (i32.load (i32.const 100)) (i32.const 600)))
            ;; Waits until the stream is readable (userdata 9 at 700).
            (func (export "poll") (result i32)
                (i64.store (i32.const 700) (i64.const 9))
                (i32.store8 (i32.const 708) (i32.const 1))
                (i32.store (i32.const 716) (i32.load (i32.const 100)))
                (call $poll (i32.const 700) (i32.const 800) (i32.const 1) (i32.const 900)))
            ;; Peeks, then reads, into 300.. (count at 400, flags at 404).
            (func (export "peek") (result i32)
                (i32.store (i32.const 200) (i32.const 300))
                (i32.store (i32.const 204) (i32.const 16))
                (call $recv (i32.load (i32.const 100)) (i32.const 200) (i32.const 1) (i32.const 1) (i32.const 400) (i32.const 404)))
            (func (export "recv") (result i32)
                (call $recv (i32.load (i32.const 100)) (i32.const 200) (i32.const 1) (i32.const 0) (i32.const 400) (i32.const 404)))
            (func (export "send") (result i32)
                (i32.store (i32.const 210) (i32.const 500))
                (i32.store (i32.const 214) (i32.const 4))
                (call $send (i32.load (i32.const 100)) (i32.const 210) (i32.const 1) (i32.const 0) (i32.const 408)))
            (func (export "bad_flags") (result i32)
                (call $send (i32.load (i32.const 100)) (i32.const 210) (i32.const 1) (i32.const 1) (i32.const 408)))
            (func (export "shutdown_bad") (result i32)
                (call $shutdown (i32.load (i32.const 100)) (i32.const 0)))
            (func (export "shutdown") (result i32)
                (call $shutdown (i32.load (i32.const 100)) (i32.const 2)))
            (func (export "accept_on_stream") (result i32)
                (call $accept (i32.load (i32.const 100)) (i32.const 0) (i32.const 104))))"#,
        ctx,
    );
    assert_eq!(call(&mut store, &instance, "accept"), 0);
    assert_eq!(
        u32_at(&store, &instance, 100),
        4,
        "the next free descriptor"
    );
    assert_eq!(call(&mut store, &instance, "stat"), 0);
    assert_eq!(read_mem(&store, &instance, 600, 1), [6], "socket_stream");
    assert_eq!(call(&mut store, &instance, "poll"), 0);
    assert_eq!(u32_at(&store, &instance, 900), 1);
    assert_eq!(read_mem(&store, &instance, 800, 8), 9u64.to_le_bytes());
    assert_eq!(read_mem(&store, &instance, 810, 1), [1], "fd_read event");
    // Peeking leaves the data for the next read.
    let mut got = Vec::new();
    assert_eq!(call(&mut store, &instance, "peek"), 0);
    let n = u32_at(&store, &instance, 400) as usize;
    assert!(n > 0 && n <= 4);
    assert_eq!(read_mem(&store, &instance, 300, n), &b"ping"[..n]);
    while got.len() < 4 {
        assert_eq!(call(&mut store, &instance, "recv"), 0);
        let n = u32_at(&store, &instance, 400) as usize;
        assert!(n > 0, "the client sent 4 bytes");
        got.extend(read_mem(&store, &instance, 300, n));
    }
    assert_eq!(got, b"ping");
    assert_eq!(call(&mut store, &instance, "send"), 0);
    assert_eq!(u32_at(&store, &instance, 408), 4);
    assert_eq!(call(&mut store, &instance, "bad_flags"), 28, "inval");
    assert_eq!(call(&mut store, &instance, "shutdown_bad"), 28, "inval");
    assert_eq!(
        call(&mut store, &instance, "accept_on_stream"),
        76,
        "notcapable"
    );
    assert_eq!(call(&mut store, &instance, "shutdown"), 0);
    assert_eq!(client.join().unwrap(), b"pong");
}

#[test]
fn proc_exit_is_an_i32exit_error() {
    let (mut store, instance) = instantiate(
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (func (export "_start") (call $exit (i32.const 17)) unreachable))"#,
        WasiCtx::builder().build(),
    );
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let err = start.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(17)), "{err:?}");
    assert!(
        err.downcast_ref::<strata::Trap>().is_none(),
        "not a trap: {err:?}"
    );
}

#[test]
fn without_an_exported_memory_every_call_fails_naming_the_export() {
    let (mut store, instance) = instantiate(
        r#"(module
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
            (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
            (memory 1)
            (func (export "sizes") (result i32) (call $sizes (i32.const 0) (i32.const 4)))
            (func (export "write") (result i32) (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (func (export "yield") (result i32) (call $yield)))"#,
        WasiCtx::builder().args(["prog", "arg"]).build(),
    );
    for (export, function) in [
        ("sizes", "wasi_snapshot_preview1::args_sizes_get"),
        ("write", "wasi_unstable::fd_write"),
        ("yield", "wasi_snapshot_preview1::sched_yield"),
    ] {
        let err = instance
            .get_typed_func::<(), i32>(&mut store, export)
            .expect("export")
            .call(&mut store, ())
            .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("missing required memory export")
                && message.contains(&format!("`{function}`"))
                && message.contains("`memory`"),
            "{message}"
        );
    }
    // The failed calls left the context in place: a module of the same
    // store that does export its memory sees the arguments.
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "argc") (result i32)
              (drop (call $sizes (i32.const 0) (i32.const 4)))
              (i32.load (i32.const 0))))"#,
    )
    .expect("valid module");
    let mut linker = Linker::new(store.engine());
    strata_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).expect("defines WASI");
    let other = linker
        .instantiate(&mut store, &module)
        .expect("instantiates");
    assert_eq!(call(&mut store, &other, "argc"), 2);
}

const STDIO_GUEST: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "environ_get" (func $env (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_fdstat_set_rights"
        (func $set_rights (param i32 i64 i64) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 500) "out!")
    ;; Reads up to 64 bytes of stdin into 300 (count at 400).
    (func (export "read") (result i32)
        (i32.store (i32.const 200) (i32.const 300))
        (i32.store (i32.const 204) (i32.const 64))
        (call $read (i32.const 0) (i32.const 200) (i32.const 1) (i32.const 400)))
    (func (export "write") (result i32)
        (i32.store (i32.const 210) (i32.const 500))
        (i32.store (i32.const 214) (i32.const 4))
        (call $write (i32.const 1) (i32.const 210) (i32.const 1) (i32.const 404)))
    ;; argc at 1000, size at 1004, pointers at 1100, strings at 1200.
    (func (export "args") (result i32)
        (drop (call $sizes (i32.const 1000) (i32.const 1004)))
        (call $args (i32.const 1100) (i32.const 1200)))
    (func (export "env") (result i32)
        (drop (call $esizes (i32.const 2000) (i32.const 2004)))
        (call $env (i32.const 2100) (i32.const 2200)))
    (func (export "args_bad") (result i32)
        (call $args (i32.const 1100) (i32.const 65534)))
    ;; The fdstat of stdout at 3000; its rights cut to `fd_write`.
    (func (export "fdstat1") (result i32) (call $fdstat (i32.const 1) (i32.const 3000)))
    (func (export "only_write1") (result i32) (call $set_rights (i32.const 1) (i64.const 0x40) (i64.const 0))))"#;

#[test]
fn custom_standard_streams_arguments_and_environment() {
    let dir = std::env::temp_dir().join(format!("strata-wasi-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.txt"), "input text").unwrap();
    let stdin = std::fs::File::open(dir.join("in.txt")).unwrap();
    let mut stdout = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(dir.join("out.txt"))
        .unwrap();
    let ctx = WasiCtx::builder()
        .stdin(stdin)
        .stdout(stdout.try_clone().unwrap())
        .args(["prog", "a b"])
        .env("K", "v=w")
        .build();
    let (mut store, instance) = instantiate(STDIO_GUEST, ctx);
    assert_eq!(call(&mut store, &instance, "read"), 0);
    assert_eq!(u32_at(&store, &instance, 400), 10);
    assert_eq!(read_mem(&store, &instance, 300, 10), b"input text");
    assert_eq!(call(&mut store, &instance, "read"), 0);
    assert_eq!(u32_at(&store, &instance, 400), 0, "end of file");
    assert_eq!(call(&mut store, &instance, "write"), 0);
    let mut written = String::new();
    stdout.rewind().unwrap();
    stdout.read_to_string(&mut written).unwrap();
    assert_eq!(written, "out!");

    assert_eq!(call(&mut store, &instance, "args"), 0);
    assert_eq!(u32_at(&store, &instance, 1000), 2);
    assert_eq!(u32_at(&store, &instance, 1004), 9, "\"prog\\0a b\\0\"");
    assert_eq!(u32_at(&store, &instance, 1100), 1200);
    assert_eq!(u32_at(&store, &instance, 1104), 1205);
    assert_eq!(read_mem(&store, &instance, 1200, 9), b"prog\0a b\0");
    assert_eq!(
        call(&mut store, &instance, "args_bad"),
        21,
        "strings past the end fault"
    );
    assert_eq!(call(&mut store, &instance, "env"), 0);
    assert_eq!(u32_at(&store, &instance, 2000), 1);
    assert_eq!(read_mem(&store, &instance, 2200, 6), b"K=v=w\0");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn streams_not_given_read_empty_and_swallow_output() {
    let (mut store, instance) = instantiate(STDIO_GUEST, WasiCtx::builder().build());
    assert_eq!(call(&mut store, &instance, "read"), 0);
    assert_eq!(u32_at(&store, &instance, 400), 0);
    assert_eq!(call(&mut store, &instance, "write"), 0);
    assert_eq!(u32_at(&store, &instance, 404), 4);
    assert_eq!(call(&mut store, &instance, "args"), 0);
    assert_eq!(u32_at(&store, &instance, 1000), 0);
    // The null stream is a character device that seeks, like /dev/null,
    // so wasi-libc's `isatty` (a character device without `fd_seek` and
    // `fd_tell`) does not take it for a terminal.
    let seek_tell = strata_wasi::rights::FD_SEEK | strata_wasi::rights::FD_TELL;
    assert_eq!(call(&mut store, &instance, "fdstat1"), 0);
    let stat = read_mem(&store, &instance, 3000, 24);
    assert_eq!(stat[0], 2, "character device");
    let base = u64::from_le_bytes(stat[8..16].try_into().unwrap());
    assert_eq!(base & seek_tell, seek_tell);
    // Without those rights it would look like one, so its type is
    // `unknown` then.
    assert_eq!(call(&mut store, &instance, "only_write1"), 0);
    assert_eq!(call(&mut store, &instance, "fdstat1"), 0);
    assert_eq!(read_mem(&store, &instance, 3000, 1), [0], "unknown");
}

#[test]
fn directory_descriptors_support_fd_calls() {
    let dir = std::env::temp_dir().join(format!("strata-wasi-dirfd-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let ctx = WasiCtx::builder()
        .preopened_dir(&dir, "/d")
        .unwrap()
        .build();
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
        (import "wasi_snapshot_preview1" "fd_sync" (func $sync (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_datasync" (func $dsync (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $times (param i32 i64 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $setfl (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 100) "sub")
        ;; Every right but `fd_write`, which a directory refuses.
        (func (export "open") (param i32) (result i32)
            (call $open (i32.const 3) (local.get 0) (i32.const 100) (i32.const 3) (i32.const 2)
                (i64.const 0xfffffbf) (i64.const 0xfffffff) (i32.const 0) (i32.const 200)))
        (func (export "all") (param $fd i32) (result i32)
            (i32.or (i32.or (call $sync (local.get $fd)) (call $dsync (local.get $fd)))
                (i32.or (call $times (local.get $fd) (i64.const 0) (i64.const 5000000000) (i32.const 6))
                    (i32.or (call $setfl (local.get $fd) (i32.const 0))
                        (call $readdir (local.get $fd) (i32.const 400) (i32.const 100) (i64.const 0) (i32.const 500)))))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    strata_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).unwrap();
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let open = instance
        .get_typed_func::<i32, i32>(&mut store, "open")
        .unwrap();
    let all = instance
        .get_typed_func::<i32, i32>(&mut store, "all")
        .unwrap();
    // The pre-open, and `sub` opened with and without following symlinks.
    assert_eq!(all.call(&mut store, 3).unwrap(), 0);
    for follow in [0, 1] {
        assert_eq!(open.call(&mut store, follow).unwrap(), 0);
        let fd = u32_at(&store, &instance, 200) as i32;
        assert_eq!(all.call(&mut store, fd).unwrap(), 0, "follow={follow}");
    }
    let mtime = std::fs::metadata(dir.join("sub"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(5)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
