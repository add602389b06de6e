;; Throw-and-catch benchmark (benches/exceptions/run.sh).
;;   shallow(n): n exceptions, each thrown and caught in the same function.
;;   deep(n):    n exceptions, each thrown 50 calls below its handler.
;;   calls(n):   the same 50-deep calls without a throw (the baseline that
;;               deep's figure has subtracted).
;; Each returns the sum of the payloads it caught (or of the calls' results),
;; so nothing can be optimised away.
(module
  (tag $e (param i32))
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func $down (param $depth i32) (param $v i32) (result i32)
    (if (i32.eqz (local.get $depth))
      (then (call $thrower (local.get $v))))
    (i32.add (i32.const 1)
      (call $down (i32.sub (local.get $depth) (i32.const 1)) (local.get $v))))
  (func $leaf (param $depth i32) (param $v i32) (result i32)
    (if (result i32) (i32.eqz (local.get $depth))
      (then (local.get $v))
      (else (i32.add (i32.const 0)
        (call $leaf (i32.sub (local.get $depth) (i32.const 1)) (local.get $v))))))
  (func (export "shallow") (param $n i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (block $h (result i32)
          (try_table (catch $e $h)
            (throw $e (local.get $n)))
          (i32.const 0))
        (local.set $sum (i32.add (local.get $sum)))
        (br $l)))
    (local.get $sum))
  (func (export "deep") (param $n i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (block $h (result i32)
          (try_table (catch $e $h)
            (drop (call $down (i32.const 49) (local.get $n))))
          (i32.const 0))
        (local.set $sum (i32.add (local.get $sum)))
        (br $l)))
    (local.get $sum))
  (func (export "calls") (param $n i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (local.set $sum (i32.add (local.get $sum)
          (call $leaf (i32.const 49) (local.get $n))))
        (br $l)))
    (local.get $sum))
)
