;; WASI over a shared memory (wasi-threads without atomics): the module
;; imports a shared memory, as `wasm32-wasip1-threads` programs do, and
;; re-exports it for WASI. The main thread writes a line, puts a message
;; in memory at run time (a passive segment, so that the thread's
;; instantiation does not rewrite it, and one byte stored after it), and
;; spawns a thread that writes that message from the shared memory and
;; exits the process with status 0 while the main thread sleeps. The
;; export `deadlock` never ends by itself.
(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (export "memory" (memory 0))
  (data (i32.const 256) "main writes through shared memory\n")
  (data $message "the thread writes what main stored: ?\n")

  ;; Writes `len` bytes at `ptr` to stdout, through an iovec at `iov`.
  (func $print (param $iov i32) (param $ptr i32) (param $len i32)
    (i32.store (local.get $iov) (local.get $ptr))
    (i32.store offset=4 (local.get $iov) (local.get $len))
    (drop (call $fd_write (i32.const 1) (local.get $iov) (i32.const 1) (i32.const 0))))

  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (i32.eqz (local.get $arg))
      (then (call $wait_forever)))
    (call $print (i32.const 1024) (local.get $arg) (i32.const 38))
    (call $exit (i32.const 0)))

  ;; Waits for a notification that never comes.
  (func $wait_forever
    (drop (memory.atomic.wait32 (i32.const 2048) (i32.const 0) (i64.const -1))))

  ;; A deadlock: a spawned thread and the main thread both wait forever
  ;; (`-W timeout` ends it).
  (func (export "deadlock")
    (drop (call $spawn (i32.const 0)))
    (call $wait_forever))

  (func (export "_start")
    (call $print (i32.const 512) (i32.const 256) (i32.const 34))
    (memory.init $message (i32.const 320) (i32.const 0) (i32.const 38))
    (i32.store8 (i32.const 356) (i32.const 88)) ;; 'X' over the '?'
    (drop (call $spawn (i32.const 320)))
    ;; Sleep 60 s; the thread's exit ends the process first.
    (i32.store offset=16 (i32.const 0) (i32.const 1))
    (i64.store offset=24 (i32.const 0) (i64.const 60000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (call $exit (i32.const 1))))
