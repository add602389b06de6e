;; Sum of Collatz sequence lengths for 1..n: tight integer loops and branches.
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $x i64) (local $steps i32) (local $total i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
        (local.set $x (i64.extend_i32_u (local.get $i)))
        (local.set $steps (i32.const 0))
        (block $end
          (loop $inner
            (br_if $end (i64.eq (local.get $x) (i64.const 1)))
            (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
              (then (local.set $x (i64.shr_u (local.get $x) (i64.const 1))))
              (else (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
            (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
            (br $inner)))
        (local.set $total (i32.add (local.get $total) (local.get $steps)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.get $total)))
