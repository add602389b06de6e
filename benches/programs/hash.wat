;; FNV-1a and xorshift mixing over a 64 KiB buffer, repeated: 32/64-bit
;; bit twiddling with loads, shifts, rotates and multiplies.
(module
  (memory 1)
  (func (export "run") (param $reps i32) (result i32)
    (local $i i32) (local $h i64) (local $x i32) (local $r i32)
    ;; Fill the buffer with an xorshift32 sequence.
    (local.set $x (i32.const 2463534242))
    (loop $fill
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (i32.store (local.get $i) (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 65536))))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $rep
      (local.set $i (i32.const 0))
      (loop $bytes
        (local.set $h (i64.mul
          (i64.xor (local.get $h) (i64.load8_u (local.get $i)))
          (i64.const 0x100000001b3)))
        (local.set $h (i64.rotl (local.get $h) (i64.const 5)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $bytes (i32.lt_u (local.get $i) (i32.const 65536))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rep (i32.lt_u (local.get $r) (local.get $reps))))
    (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))))
