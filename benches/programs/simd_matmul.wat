;; Dense f32 matrix multiply C = A * B (n x n, n a multiple of 4) with
;; f32x4 lanes: each row of C is accumulated four columns at a time from a
;; splat of A[i][k] times a row slice of B. Returns the truncated trace of
;; C: vector loads/stores, splats, f32x4 mul/add, lane extraction.
(module
  (memory 64)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $k i32)
    (local $a i32) (local $b i32) (local $c i32) (local $row i32)
    (local $acc v128) (local $trace f32)
    (local.set $n (i32.and (local.get $n) (i32.const -4)))
    (local.set $a (i32.const 0))
    (local.set $b (i32.mul (i32.mul (local.get $n) (local.get $n)) (i32.const 4)))
    (local.set $c (i32.mul (local.get $b) (i32.const 2)))
    ;; A[i][j] = (i + j) mod 7, B[i][j] = (3i + 5j) mod 11 - 5: small
    ;; integers keep the f32 sums exact.
    (local.set $i (i32.const 0))
    (loop $fi
      (local.set $j (i32.const 0))
      (loop $fj
        (local.set $k (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2)))
        (f32.store (i32.add (local.get $a) (local.get $k))
          (f32.convert_i32_s (i32.rem_u (i32.add (local.get $i) (local.get $j)) (i32.const 7))))
        (f32.store (i32.add (local.get $b) (local.get $k))
          (f32.convert_i32_s (i32.sub
            (i32.rem_u (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.mul (local.get $j) (i32.const 5))) (i32.const 11))
            (i32.const 5))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $fj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fi (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $li
      (local.set $row (i32.mul (local.get $i) (i32.mul (local.get $n) (i32.const 4))))
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $lk
          (local.set $acc
            (f32x4.add (local.get $acc)
              (f32x4.mul
                (f32x4.splat (f32.load (i32.add (i32.add (local.get $a) (local.get $row)) (i32.shl (local.get $k) (i32.const 2)))))
                (v128.load (i32.add (local.get $b)
                  (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 2)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $lk (i32.lt_u (local.get $k) (local.get $n))))
        (v128.store
          (i32.add (i32.add (local.get $c) (local.get $row)) (i32.shl (local.get $j) (i32.const 2)))
          (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $lj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $li (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $t
      (local.set $trace (f32.add (local.get $trace)
        (f32.load (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (i32.add (local.get $n) (i32.const 1))) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $t (i32.lt_u (local.get $i) (local.get $n))))
    (i32.trunc_f32_s (local.get $trace))))
