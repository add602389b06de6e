;; A one-connection echo server for `-S tcplisten=ADDR`: accepts on
;; descriptor 3, sends back what it receives until the peer shuts down its
;; side, then shuts down its own and exits with status 0. Any failing call
;; exits with that call's errno.
(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)

  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (local.get $errno)))))

  (func (export "_start")
    (local $conn i32) (local $n i32)
    (call $check (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))
    (local.set $conn (i32.load (i32.const 0)))
    ;; iovec at 16: 1024 bytes at 64; counts at 32 and 36, flags at 40.
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 1024))
    (block $done
      (loop $again
        (call $check (call $recv (local.get $conn) (i32.const 16) (i32.const 1) (i32.const 0) (i32.const 32) (i32.const 40)))
        (local.set $n (i32.load (i32.const 32)))
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store (i32.const 24) (i32.const 64))
        (i32.store (i32.const 28) (local.get $n))
        (call $check (call $send (local.get $conn) (i32.const 24) (i32.const 1) (i32.const 0) (i32.const 36)))
        (br $again)))
    (call $check (call $shutdown (local.get $conn) (i32.const 3)))))
