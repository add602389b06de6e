;; Sieve of Eratosthenes over linear memory, repeated: byte loads and stores.
;; Returns the number of primes below 1_000_000 times the repetition count.
(module
  (memory 16)
  (func $sieve (param $limit i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $limit))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $limit)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $d2
              (loop $mark
                (br_if $d2 (i32.ge_u (local.get $j) (local.get $limit)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $mark)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $done
      (loop $count
        (br_if $done (i32.ge_u (local.get $i) (local.get $limit)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count)))
    (local.get $count))
  (func (export "run") (param $reps i32) (result i32)
    (local $total i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $reps)))
        (local.set $total (i32.add (local.get $total) (call $sieve (i32.const 1000000))))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $l)))
    (local.get $total)))
