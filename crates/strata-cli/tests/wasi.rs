//! WASI programs under the real `strata` binary: arguments, environment,
//! standard streams, exit status, clocks, poll, `wasi_unstable`, and the
//! user mistakes around them. Files, directories and the sandbox are in
//! `wasi_fs.rs`. The programs live in `crates/strata-wasi/tests/programs`
//! (sources and the built `.wasm`).

mod common;
use common::*;
use std::process::Stdio;

#[test]
fn arguments_with_spaces_quotes_and_newlines_reach_the_guest() {
    let dir = temp_dir("args");
    let io = program("io.wasm");
    let o = strata_in(
        dir.path(),
        &[
            "run",
            &io,
            "args",
            "two words",
            "a \"quoted\" 'arg'",
            "line\nbreak",
            "",
            "--dir",
        ],
        b"",
    );
    let argv0 = format!("{io:?}");
    assert_lines(
        &o,
        &[
            &argv0,
            "\"args\"",
            "\"two words\"",
            "\"a \\\"quoted\\\" 'arg'\"",
            "\"line\\nbreak\"",
            "\"\"",
            "\"--dir\"",
        ],
    );
    // The shorthand passes the same argv.
    let o = strata_in(dir.path(), &[&io, "args", "x y"], b"");
    assert_lines(&o, &[&argv0, "\"args\"", "\"x y\""]);
}

#[test]
fn only_the_given_environment_reaches_the_guest() {
    let dir = temp_dir("env");
    let o = strata_in(
        dir.path(),
        &[
            "run",
            "--env",
            "PLAIN=value",
            "--env",
            "SPACED=a b  c",
            "--env",
            "QUOTED=say \"hi\"",
            "--env",
            "MULTI=one\ntwo",
            "--env",
            "EQUALS=a=b",
            "--env",
            "EMPTY=",
            "--env",
            "STRATA_TEST_HOST_VAR",
            "--env",
            "STRATA_TEST_UNSET_VAR",
            &program("io.wasm"),
            "env",
        ],
        b"",
    );
    assert_lines(
        &o,
        &[
            "\"EMPTY=\"",
            "\"EQUALS=a=b\"",
            "\"MULTI=one\\ntwo\"",
            "\"PLAIN=value\"",
            "\"QUOTED=say \\\"hi\\\"\"",
            "\"SPACED=a b  c\"",
            "\"STRATA_TEST_HOST_VAR=from the host\"",
        ],
    );
    // Nothing is inherited unless asked for.
    let o = strata_in(dir.path(), &["run", &program("io.wasm"), "env"], b"");
    assert_lines(&o, &[]);
}

#[test]
fn standard_input_is_read() {
    let dir = temp_dir("stdin");
    let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let o = strata_in(dir.path(), &["run", &program("io.wasm"), "cat"], &input);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(o.stdout == input, "cat returned {} bytes", o.stdout.len());

    let o = strata_in(
        dir.path(),
        &[&program("io.wasm"), "wc"],
        b"first line\nsecond line\nno newline",
    );
    assert_lines(&o, &["33 bytes, 2 lines"]);
    // An empty standard input is an immediate end of file.
    let o = strata_in(dir.path(), &[&program("io.wasm"), "wc"], b"");
    assert_lines(&o, &["0 bytes, 0 lines"]);
}

#[test]
fn large_output_is_printed_whole() {
    let dir = temp_dir("big");
    let n = 1 << 20;
    let o = strata_in(
        dir.path(),
        &[&program("io.wasm"), "big", &n.to_string()],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(o.stdout.len(), n);
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n";
    assert!(o.stdout.chunks(line.len()).all(|c| c == &line[..c.len()]));
}

#[test]
fn proc_exit_sets_the_exit_status() {
    let dir = temp_dir("exit");
    for code in [0, 1, 3, 42, 125] {
        let o = strata_in(
            dir.path(),
            &[&program("io.wasm"), "exit", &code.to_string()],
            b"",
        );
        assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("exiting with {code}\n"));
        assert_eq!(stderr(&o), "to stderr\n");
    }
    // From 126 up the status is reserved: an error, as in wasmtime.
    for code in [126, 255, 256] {
        let o = strata_in(
            dir.path(),
            &[&program("io.wasm"), "exit", &code.to_string()],
            b"",
        );
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(err.starts_with("to stderr\nerror: "), "{err}");
        assert!(
            err.contains("exit with invalid exit status outside of [0..126)"),
            "{err}"
        );
    }
    // Returning from `_start` is status 0.
    let o = strata_in(dir.path(), &[&program("io.wasm"), "args"], b"");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_trap_in_a_wasi_program_exits_134_with_a_named_backtrace() {
    let dir = temp_dir("trap");
    let o = strata_in(dir.path(), &[&program("io.wasm"), "trap"], b"");
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(err.starts_with("error: wasm trap: unreachable\n"), "{err}");
    let inner = err.find("inner_trap").expect("backtrace names inner_trap");
    let outer = err.find("outer_trap").expect("backtrace names outer_trap");
    let start = err.find("_start").expect("backtrace names _start");
    assert!(inner < outer && outer < start, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Rust names are demangled, as wasmtime shows them.
    assert!(err.contains("io::inner_trap\n"), "{err}");
    assert!(!err.contains("_ZN"), "{err}");
}

#[test]
fn clocks_random_and_process_functions() {
    let dir = temp_dir("clocks");
    let o = strata_in(dir.path(), &[&program("raw.wasm"), "clocks"], b"");
    let mut expected = Vec::new();
    for id in 0..4 {
        expected.push(format!("res {id} = ok nonzero=true"));
        expected.push(format!("time {id} = ok ok advances=true"));
    }
    expected.extend(
        [
            "realtime plausible = true",
            "time bad clock = 28",
            "res bad clock = 28",
            "time bad pointer = 21",
        ]
        .map(String::from),
    );
    assert_lines(&o, &expected.iter().map(String::as_str).collect::<Vec<_>>());

    let o = strata_in(dir.path(), &[&program("raw.wasm"), "random"], b"");
    assert_lines(
        &o,
        &[
            "random_get = ok ok",
            "random differs = true",
            "random_get empty = ok",
            "random_get out of bounds = 21",
        ],
    );

    let o = strata_in(dir.path(), &[&program("raw.wasm"), "misc"], b"");
    assert_lines(
        &o,
        &[
            "sched_yield = ok",
            "proc_raise = 58",
            "args_sizes_get out of bounds = 21",
            "sock_recv on file = 57",
            "sock_send on stdout = 57",
            // Anything but a socket is `notsock`, whatever its rights.
            "sock_shutdown on stdout = 57",
            "sock_accept on stdin = 57",
            "sock_accept bad fd = 8",
            "set_flags nonblock on stdout = 58",
            "set_flags unchanged on stdout = ok",
        ],
    );
}

#[test]
fn poll_oneoff_clocks_and_readiness() {
    let dir = temp_dir("poll");
    let o = strata_in(
        dir.path(),
        &["run", "--dir", ".", &program("raw.wasm"), "poll"],
        b"abc",
    );
    assert_lines(
        &o,
        &[
            "poll relative clock = ok [(42, 0, 0, 0, 0)] waited=true",
            "poll absolute clock = ok [(7, 0, 0, 0, 0)] waited=true",
            "poll past deadline = ok [(1, 0, 0, 0, 0)]",
            "poll stdout writable = ok [(5, 0, 2)]",
            "poll stdin readable = ok [(9, 0, 1, true)]",
            "stdin after poll = \"abc\"",
            "poll stdin at eof = ok [(11, 0, 1)]",
            // A regular file is always ready; a read reports the bytes
            // left after the position (10 - 4).
            "poll regular file = ok [(12, 0, 1, 6, 0), (13, 0, 2, 0, 0)]",
            "poll bad fd = ok [(14, 8, 1, 0, 0)]",
            "poll bad clock = ok [(15, 28, 0, 0, 0)]",
            "poll no subscriptions = 28",
            "poll bad event type = 28",
            "poll out of bounds = 21",
        ],
    );
}

#[test]
fn the_guest_sees_no_directory_it_was_not_given() {
    let dir = temp_dir("nodir");
    std::fs::write(dir.path().join("visible.txt"), "x").unwrap();
    // Without --dir, std's path lookup finds no pre-open at all.
    let o = strata_in(dir.path(), &[&program("fs.wasm"), "list", "."], b"");
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("panicked"),
        "the guest's own panic: {}",
        stderr(&o)
    );
}

#[test]
fn wasi_unstable_programs_run_with_preview0_layouts() {
    let dir = temp_dir("preview0");
    let o = strata_in(
        dir.path(),
        &["run", "--dir", ".", &program("preview0.wat")],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "failed check {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    assert_eq!(stdout(&o), "preview0 ok\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f.txt")).unwrap(),
        "0123456789"
    );
}

#[test]
fn a_missing_dir_is_a_clear_error() {
    let dir = temp_dir("missingdir");
    let o = strata_in(
        dir.path(),
        &[
            "run",
            "--dir",
            "no-such-dir::/x",
            &program("io.wasm"),
            "args",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: failed to open directory `no-such-dir` (from --dir)"),
        "{err}"
    );
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn mistyped_and_unknown_wasi_imports_are_all_listed() {
    let dir = temp_dir("imports");
    std::fs::write(
        dir.path().join("bad.wat"),
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
            (import "wasi_snapshot_preview1" "no_such_function" (func))
            (import "wasi_unstable" "sock_accept" (func (param i32 i32 i32) (result i32)))
            (func (export "_start")))"#,
    )
    .unwrap();
    let o = strata_in(dir.path(), &["run", "bad.wat"], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: failed to instantiate `bad.wat`"),
        "{err}"
    );
    assert!(
        err.contains("incompatible import type for `wasi_snapshot_preview1::fd_write`"),
        "{err}"
    );
    assert!(
        err.contains("`wasi_snapshot_preview1::no_such_function` has not been defined"),
        "{err}"
    );
    // preview0 has no sock_accept.
    assert!(
        err.contains("`wasi_unstable::sock_accept` has not been defined"),
        "{err}"
    );
}

#[test]
fn invoke_still_works_on_a_wasi_program() {
    let dir = temp_dir("invoke");
    let o = strata_in(
        dir.path(),
        &["run", "--invoke", "nope", &program("io.wasm")],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("failed to find export `nope`"), "{err}");
    assert!(err.contains("_start: (func)"), "{err}");
    // Invoking `_start` directly runs the program with argv = [module].
    let o = strata_in(
        dir.path(),
        &["run", "--invoke", "_start", &program("io.wasm")],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "unknown mode, as argv[1] is absent"
    );
    assert!(stderr(&o).contains("unknown mode \"\""), "{}", stderr(&o));
}

#[test]
fn tcplisten_hands_the_guest_a_listening_socket() {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::process::Command;
    use std::time::{Duration, Instant};
    // A port that was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "run",
            "-S",
            &format!("tcplisten={addr}"),
            &program("echo.wat"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the strata binary runs");
    let start = Instant::now();
    let mut stream = loop {
        match TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(e) if start.elapsed() > Duration::from_secs(20) => {
                let _ = child.kill();
                panic!("strata never listened on {addr}: {e}");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(b"hello over tcp").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"hello over tcp");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
}

#[test]
fn bad_wasi_options_are_clear_errors() {
    let dir = temp_dir("sopts");
    let o = strata_in(
        dir.path(),
        &["run", "-S", "nope=1", &program("io.wasm")],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: unknown -S option `nope=1`; expected: tcplisten=ADDR"),
        "{}",
        stderr(&o)
    );
    let o = strata_in(
        dir.path(),
        &["run", "-S", "tcplisten=not-an-address", &program("io.wasm")],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: failed to listen on `not-an-address` (from -S tcplisten)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_reactor_is_initialised_before_the_invoked_export() {
    let dir = temp_dir("reactor");
    std::fs::write(
        dir.path().join("reactor.wat"),
        r#"(module
            (global $ready (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $ready (i32.const 41)))
            (func (export "get") (result i32) (i32.add (global.get $ready) (i32.const 1))))"#,
    )
    .unwrap();
    let o = strata_in(dir.path(), &["run", "--invoke", "get", "reactor.wat"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "42\n");
}

#[test]
fn a_failed_program_hints_at_options_after_the_module() {
    let dir = temp_dir("hint");
    let io = program("io.wasm");
    let hint = "hint: `--dir` and `-W` came after the module, so the module got them as \
                arguments; to give them to strata, put them before the module: \
                strata run [OPTIONS] <MODULE> [ARGS]...\n";
    // A failing exit status, then a trap: the hint comes last, once per
    // option, with values attached or not.
    let o = strata_in(
        dir.path(),
        &[
            "run", &io, "exit", "3", "--dir", ".", "-Wfuel=1", "-W", "x", "--dir=.",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stderr(&o), format!("to stderr\n{hint}"));
    let o = strata_in(dir.path(), &[&io, "trap", "--dir", ".", "-W", "x"], b"");
    assert_eq!(o.status.code(), Some(134));
    assert!(
        stderr(&o).starts_with("error: wasm trap: unreachable"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).ends_with(hint), "{}", stderr(&o));
    // The same arguments in a run that succeeds: no hint.
    let o = strata_in(dir.path(), &[&io, "args", "--dir", "."], b"");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
    // Arguments that only resemble options: no hint.
    let o = strata_in(
        dir.path(),
        &[&io, "exit", "3", "--directory", "-v", "-", "--", "-Qx"],
        b"",
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stderr(&o), "to stderr\n");
}

/// A pseudo-terminal: the controlling side (kept open while the guest
/// runs) and the terminal side, as a file to hand to a child process.
fn pseudo_terminal() -> (std::os::fd::OwnedFd, std::fs::File) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("this host hands out pseudo-terminals");
    grantpt(&controller).expect("grantpt");
    unlockpt(&controller).expect("unlockpt");
    let name = ptsname(&controller, Vec::new()).expect("ptsname");
    let terminal = std::fs::File::options()
        .read(true)
        .write(true)
        .open(name.to_str().expect("a UTF-8 terminal name"))
        .expect("open the terminal side");
    (controller, terminal)
}

/// Runs `raw.wasm streams REPORT` with the three given standard streams
/// and returns its report (which it writes to descriptor REPORT, piped).
fn stream_report(dir: &tempfile::TempDir, streams: [Stdio; 3], report: usize) -> Vec<String> {
    let [stdin, stdout, stderr] = streams;
    let child = strata_command(
        dir.path(),
        &["run", &program("raw.wasm"), "streams", &report.to_string()],
    )
    .stdin(stdin)
    .stdout(stdout)
    .stderr(stderr)
    .spawn()
    .expect("the strata binary runs");
    let o = child.wait_with_output().expect("strata finishes");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8_lossy(if report == 1 { &o.stdout } else { &o.stderr });
    text.lines().map(String::from).collect()
}

#[test]
fn standard_streams_report_what_they_really_are() {
    let dir = temp_dir("streams");
    let file = |name: &str| {
        let f = std::fs::File::create(dir.path().join(name)).unwrap();
        Stdio::from(f)
    };
    let null = || {
        Stdio::from(
            std::fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/null")
                .unwrap(),
        )
    };
    // Types: 0 unknown (a pipe), 2 character device, 4 regular file.
    // Pipes cannot seek and are no terminal.
    let pipe =
        |fd| format!("fd {fd} = ok type=0 seek=false tell=false filestat ok type=0 isatty=false");
    assert_eq!(
        stream_report(&dir, [Stdio::piped(), Stdio::piped(), Stdio::piped()], 1),
        [pipe(0), pipe(1), pipe(2)]
    );
    // /dev/null is a character device that seeks, so wasi-libc's `isatty`
    // (a character device without `fd_seek` and `fd_tell`) says no, and a
    // compressor writes its output there; a file is a file.
    assert_eq!(
        stream_report(&dir, [null(), file("out.txt"), Stdio::piped()], 2),
        [
            "fd 0 = ok type=2 seek=true tell=true filestat ok type=2 isatty=false".to_string(),
            "fd 1 = ok type=4 seek=true tell=true filestat ok type=4 isatty=false".to_string(),
            pipe(2),
        ]
    );
    // A socket is a socket.
    let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
    assert_eq!(
        stream_report(
            &dir,
            [
                Stdio::from(std::os::fd::OwnedFd::from(socket)),
                Stdio::piped(),
                Stdio::piped()
            ],
            1
        ),
        [
            "fd 0 = ok type=6 seek=false tell=false filestat ok type=6 isatty=false".to_string(),
            pipe(1),
            pipe(2),
        ]
    );
    // Only a terminal is a character device without seeking.
    let tty =
        |fd| format!("fd {fd} = ok type=2 seek=false tell=false filestat ok type=2 isatty=true");
    let (_controller, terminal) = pseudo_terminal();
    assert_eq!(
        stream_report(
            &dir,
            [
                Stdio::from(terminal.try_clone().unwrap()),
                Stdio::piped(),
                Stdio::from(terminal.try_clone().unwrap()),
            ],
            1
        ),
        [tty(0), pipe(1), tty(2)]
    );
    assert_eq!(
        stream_report(&dir, [null(), Stdio::from(terminal), Stdio::piped()], 2),
        [
            "fd 0 = ok type=2 seek=true tell=true filestat ok type=2 isatty=false".to_string(),
            tty(1),
            pipe(2),
        ]
    );
}

/// Every test above again, with the interpreter (the tests themselves run
/// the default tier, the JIT where available).
#[test]
fn the_same_in_the_interpreter() {
    common::in_tier("interp", || {
        arguments_with_spaces_quotes_and_newlines_reach_the_guest();
        only_the_given_environment_reaches_the_guest();
        standard_input_is_read();
        large_output_is_printed_whole();
        proc_exit_sets_the_exit_status();
        a_trap_in_a_wasi_program_exits_134_with_a_named_backtrace();
        clocks_random_and_process_functions();
        poll_oneoff_clocks_and_readiness();
        the_guest_sees_no_directory_it_was_not_given();
        wasi_unstable_programs_run_with_preview0_layouts();
        a_missing_dir_is_a_clear_error();
        mistyped_and_unknown_wasi_imports_are_all_listed();
        invoke_still_works_on_a_wasi_program();
        tcplisten_hands_the_guest_a_listening_socket();
        bad_wasi_options_are_clear_errors();
        a_reactor_is_initialised_before_the_invoked_export();
        standard_streams_report_what_they_really_are();
        a_failed_program_hints_at_options_after_the_module();
    });
}
