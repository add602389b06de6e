;; Byte crunching with i8x16 lanes, as codecs and hashes do: fills 64 KiB
;; with a pseudo-random byte stream, then `n` times counts the bytes below a
;; threshold (compare, subtract the all-ones mask), sums all bytes
;; (pairwise widening adds), and folds a swizzled, saturating-added mix
;; into a checksum. Returns the counts, sums and checksum mixed together.
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i32)
    (local $p i32) (local $x i32) (local $round i32)
    (local $v v128) (local $count v128) (local $sum v128) (local $mix v128)
    (local $result i32)
    ;; An LCG byte stream.
    (local.set $x (i32.const 12345))
    (loop $fill
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store8 (local.get $p) (i32.shr_u (local.get $x) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $p) (i32.const 65536))))
    (loop $rounds
      (local.set $count (v128.const i64x2 0 0))
      (local.set $sum (v128.const i64x2 0 0))
      (local.set $p (i32.const 0))
      (loop $scan
        (local.set $v (v128.load (local.get $p)))
        ;; Bytes below 100 (unsigned): the mask is -1 per such byte.
        (local.set $count (i8x16.sub (local.get $count)
          (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 100)))))
        (local.set $sum (i32x4.add (local.get $sum)
          (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $v)))))
        (local.set $mix (v128.xor
          (i8x16.add_sat_u (local.get $mix)
            (i8x16.swizzle (local.get $v)
              (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0)))
          (i8x16.shl (local.get $mix) (i32.const 1))))
        ;; The per-lane counts wrap after 256 vectors: fold them every 128.
        (if (i32.eqz (i32.and (local.get $p) (i32.const 2047)))
          (then
            (local.set $result (i32.add (local.get $result)
              (i32x4.extract_lane 0 (i32x4.extadd_pairwise_i16x8_u
                (i16x8.extadd_pairwise_i8x16_u (local.get $count))))))
            (local.set $count (v128.const i64x2 0 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $scan (i32.lt_u (local.get $p) (i32.const 65536))))
      (local.set $result (i32.add (local.get $result)
        (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))
      (local.set $result (i32.xor (local.get $result) (i8x16.bitmask (local.get $mix))))
      (local.set $round (i32.add (local.get $round) (i32.const 1)))
      (br_if $rounds (i32.lt_u (local.get $round) (local.get $n))))
    (local.get $result)))
