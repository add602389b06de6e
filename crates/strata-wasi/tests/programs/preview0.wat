;; A program built for `wasi_unstable` (preview0), written by hand. It
;; checks the places where preview0 differs from preview1 and exits with
;; a distinct status for the first check that fails (0 when all pass):
;; the `whence` numbering (cur=0, end=1, set=2), the 56-byte `filestat`
;; with a u32 `nlink`, and the `subscription_clock` with its extra
;; `identifier` field. Descriptor 3 must be a pre-opened directory.
(module
  (import "wasi_unstable" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "f.txt")
  (data (i32.const 400) "0123456789")
  (data (i32.const 1000) "preview0 ok\n")

  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))

  (func (export "_start")
    (local $fd i32) (local $t0 i64)
    ;; Create f.txt with every right.
    (call $check (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5)
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 200))) (i32.const 10))
    (local.set $fd (i32.load (i32.const 200)))
    (i32.store (i32.const 300) (i32.const 400))
    (i32.store (i32.const 304) (i32.const 10))
    (call $check (i32.eqz (call $fd_write (local.get $fd) (i32.const 300) (i32.const 1) (i32.const 308))) (i32.const 11))
    ;; whence 2 is `set` in preview0.
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const 3) (i32.const 2) (i32.const 320))) (i32.const 12))
    (call $check (i64.eq (i64.load (i32.const 320)) (i64.const 3)) (i32.const 12))
    ;; whence 1 is `end`.
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const -2) (i32.const 1) (i32.const 320))) (i32.const 13))
    (call $check (i64.eq (i64.load (i32.const 320)) (i64.const 8)) (i32.const 13))
    ;; whence 0 is `cur`.
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const 1) (i32.const 0) (i32.const 320))) (i32.const 14))
    (call $check (i64.eq (i64.load (i32.const 320)) (i64.const 9)) (i32.const 14))
    ;; filestat: filetype at 16, u32 nlink at 20, size at 24.
    (call $check (i32.eqz (call $fd_filestat_get (local.get $fd) (i32.const 500))) (i32.const 15))
    (call $check (i32.eq (i32.load8_u (i32.const 516)) (i32.const 4)) (i32.const 15))
    (call $check (i32.eq (i32.load (i32.const 520)) (i32.const 1)) (i32.const 16))
    (call $check (i64.eq (i64.load (i32.const 524)) (i64.const 10)) (i32.const 17))
    (call $check (i32.eqz (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 5) (i32.const 600))) (i32.const 18))
    (call $check (i64.eq (i64.load (i32.const 624)) (i64.const 10)) (i32.const 18))
    ;; A 10 ms relative monotonic clock: userdata 77, identifier at 16,
    ;; clock id at 24, timeout at 32, flags at 48.
    (i64.store (i32.const 700) (i64.const 77))
    (i32.store8 (i32.const 708) (i32.const 0))
    (i64.store (i32.const 716) (i64.const 5))
    (i32.store (i32.const 724) (i32.const 1))
    (i64.store (i32.const 732) (i64.const 10000000))
    (i32.store16 (i32.const 748) (i32.const 0))
    (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 920)))
    (local.set $t0 (i64.load (i32.const 920)))
    (call $check (i32.eqz (call $poll_oneoff (i32.const 700) (i32.const 800) (i32.const 1) (i32.const 900))) (i32.const 19))
    (call $check (i32.eq (i32.load (i32.const 900)) (i32.const 1)) (i32.const 20))
    (call $check (i64.eq (i64.load (i32.const 800)) (i64.const 77)) (i32.const 21))
    (call $check (i32.eqz (i32.load8_u (i32.const 810))) (i32.const 22))
    (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 920)))
    (call $check (i64.ge_u (i64.sub (i64.load (i32.const 920)) (local.get $t0)) (i64.const 10000000)) (i32.const 23))
    (i32.store (i32.const 300) (i32.const 1000))
    (i32.store (i32.const 304) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 308)))))
