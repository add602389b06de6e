;; Throw-and-catch: ITERS exceptions, each thrown DEPTH calls below the
;; try_table that catches it (0: in a direct callee). Not in the interpreter
;; benchmark list (wasmi does not run exceptions); time it with
;;   strata run --tier interp -W exceptions=y --invoke run exceptions.wat ITERS DEPTH
(module
  (tag $e (param i32))
  (func $down (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (throw $e (i32.const 1))))
    (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "run") (param $iters i32) (param $depth i32) (result i32)
    (local $sum i32)
    (loop $l
      (block $h (result i32)
        (try_table (result i32) (catch $e $h) (call $down (local.get $depth))))
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee $iters (i32.sub (local.get $iters) (i32.const 1)))))
    (local.get $sum)))
