;; Binary trees with GC structs (the benchmarks game's allocation test):
;; a stretch tree of depth MAX+1, a long-lived tree of depth MAX, and for
;; each depth D = 4, 6, ..., MAX, 2^(MAX-D+4) trees of depth D built and
;; walked. Returns the total of the node counts; for MAX = 16 that is
;; 262143 + 14592688 + 131071 = 14985902. Time it with
;;   strata run -W gc=y --invoke run gc_binary_trees.wat 16
;;   wasmtime run -W gc=y,function-references=y --invoke run gc_binary_trees.wat 16
;; MAX = 16 allocates about 240 MB of nodes in all; the collector keeps
;; the live ones (the long-lived tree and the tree being walked).
(module
  (type $node (struct (field $l (ref null $node)) (field $r (ref null $node))))
  (func $make (param $d i32) (result (ref $node))
    (if (result (ref $node)) (i32.eqz (local.get $d))
      (then (struct.new $node (ref.null $node) (ref.null $node)))
      (else
        (local.set $d (i32.sub (local.get $d) (i32.const 1)))
        (struct.new $node (call $make (local.get $d)) (call $make (local.get $d))))))
  (func $check (param $t (ref $node)) (result i32)
    (local $l (ref null $node))
    (local.set $l (struct.get $node $l (local.get $t)))
    (if (result i32) (ref.is_null (local.get $l))
      (then (i32.const 1))
      (else
        (i32.add
          (i32.add (i32.const 1) (call $check (ref.as_non_null (local.get $l))))
          (call $check (ref.as_non_null (struct.get $node $r (local.get $t))))))))
  (func (export "run") (param $max i32) (result i32)
    (local $d i32) (local $i i32) (local $sum i32) (local $long (ref null $node))
    (local.set $sum (call $check (call $make (i32.add (local.get $max) (i32.const 1)))))
    (local.set $long (call $make (local.get $max)))
    (local.set $d (i32.const 4))
    (block $done
      (loop $depths
        (br_if $done (i32.gt_s (local.get $d) (local.get $max)))
        (local.set $i
          (i32.shl (i32.const 1)
                   (i32.add (i32.sub (local.get $max) (local.get $d)) (i32.const 4))))
        (loop $trees
          (local.set $sum
            (i32.add (local.get $sum) (call $check (call $make (local.get $d)))))
          (br_if $trees (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
        (local.set $d (i32.add (local.get $d) (i32.const 2)))
        (br $depths)))
    (i32.add (local.get $sum) (call $check (ref.as_non_null (local.get $long))))))
