;; wasi-threads without shared memory: each thread's instance has a memory
;; of its own, which is all `thread-spawn`'s failure paths need. The start
;; argument says what a spawned thread does: 0 sleeps (60 s), 1 calls
;; `proc_exit(7)`, 2 traps, 3 recurses without end. The main thread runs one of the exports
;; (`strata run --invoke NAME`).
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Sleeps 60 s: one relative clock subscription (monotonic) at 0, its
  ;; event at 64, the count at 128. A sleep holds no host CPU.
  (func $sleep
    (i32.store offset=16 (i32.const 0) (i32.const 1))
    (i64.store offset=24 (i32.const 0) (i64.const 60000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))))

  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (i32.eq (local.get $arg) (i32.const 1))
      (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get $arg) (i32.const 2))
      (then (unreachable)))
    (if (i32.eq (local.get $arg) (i32.const 3))
      (then (call $recurse (i32.const 0))))
    (call $sleep))

  (func $recurse (param $depth i32)
    (call $recurse (i32.add (local.get $depth) (i32.const 1))))

  ;; Spawns sleeping threads until `thread-spawn` fails; returns how many
  ;; started, or -1 if a thread id was not the next positive number.
  (func (export "spawn_until_limit") (result i32)
    (local $n i32) (local $tid i32)
    (block $done
      (loop $next
        (local.set $tid (call $spawn (i32.const 0)))
        (br_if $done (i32.lt_s (local.get $tid) (i32.const 0)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (if (i32.ne (local.get $tid) (local.get $n))
          (then (return (i32.const -1))))
        (br_if $done (i32.ge_u (local.get $n) (i32.const 100000)))
        (br $next)))
    (local.get $n))

  ;; A spawned thread exits the process while this one sleeps.
  (func (export "exit_in_thread")
    (drop (call $spawn (i32.const 1)))
    (call $sleep))

  ;; A spawned thread traps while this one sleeps.
  (func (export "trap_in_thread")
    (drop (call $spawn (i32.const 2)))
    (call $sleep))

  ;; A spawned thread exhausts its stack while this one sleeps.
  (func (export "overflow_in_thread")
    (drop (call $spawn (i32.const 3)))
    (call $sleep)))
