//! SIMD, relaxed SIMD and wide arithmetic in every tier: bad input (bounds,
//! alignment, lane indices), vectors through tables of functions, the
//! deterministic relaxed instructions, and the interpreter's driver, which
//! runs an instruction whose slots do not fit a handler's fields.

mod common;
use common::{tier_engine, tiers};

use anyhow::Result;
use strata::*;

fn instance(engine: &Engine, wat: &str) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, wat)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

const MEMORY: &str = r#"
(module
  (memory (export "mem") 1)
  (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
  (func (export "load_offset") (param i32) (result v128)
    (v128.load offset=65520 align=1 (local.get 0)))
  (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
  (func (export "load8x8") (param i32) (result v128) (v128.load8x8_s (local.get 0)))
  (func (export "splat64") (param i32) (result v128) (v128.load64_splat (local.get 0)))
  (func (export "zero32") (param i32) (result v128) (v128.load32_zero (local.get 0)))
  (func (export "load_lane") (param i32 v128) (result v128)
    (v128.load16_lane 7 (local.get 0) (local.get 1)))
  (func (export "store_lane") (param i32 v128) (v128.store64_lane 1 (local.get 0) (local.get 1)))
)
"#;

fn memory_in(tier: Tier) -> Result<()> {
    let engine = tier_engine(tier);
    let (mut store, instance) = instance(&engine, MEMORY)?;
    let mem = instance.get_memory(&mut store, "mem").expect("exported");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(65536).collect();
    mem.write(&mut store, 0, &bytes)?;
    let at = |o: usize| u128::from_le_bytes(bytes[o..o + 16].try_into().unwrap());

    let load = instance.get_typed_func::<i32, u128>(&mut store, "load")?;
    // Unaligned accesses are fine; the last 16 bytes are the last access.
    assert_eq!(load.call(&mut store, 3)?, at(3));
    assert_eq!(load.call(&mut store, 65520)?, at(65520));
    for addr in [65521, 65535, -1] {
        let err = load.call(&mut store, addr).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{tier:?} {addr}"
        );
    }
    // The offset is added without wrapping.
    let load_offset = instance.get_typed_func::<i32, u128>(&mut store, "load_offset")?;
    assert_eq!(load_offset.call(&mut store, 0)?, at(65520));
    assert!(load_offset.call(&mut store, 1).is_err());

    let store_v = instance.get_typed_func::<(i32, u128), ()>(&mut store, "store")?;
    store_v.call(&mut store, (5, u128::MAX))?;
    assert_eq!(load.call(&mut store, 5)?, u128::MAX);
    let err = store_v.call(&mut store, (65530, 7)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    // A store that traps writes nothing.
    assert_eq!(load.call(&mut store, 65520)?, at(65520));

    let load8x8 = instance.get_typed_func::<i32, u128>(&mut store, "load8x8")?;
    let v = load8x8.call(&mut store, 0x80)?;
    assert_eq!(v as u16, 0xff80, "0x80 sign-extends");
    assert!(load8x8.call(&mut store, 65529).is_err());
    let splat64 = instance.get_typed_func::<i32, u128>(&mut store, "splat64")?;
    let lane = u64::from_le_bytes(bytes[48..56].try_into().unwrap());
    assert_eq!(
        splat64.call(&mut store, 48)?,
        u128::from(lane) << 64 | u128::from(lane)
    );
    let zero32 = instance.get_typed_func::<i32, u128>(&mut store, "zero32")?;
    assert_eq!(
        zero32.call(&mut store, 65532)?,
        u128::from(u32::from_le_bytes([252, 253, 254, 255]))
    );
    assert!(zero32.call(&mut store, 65533).is_err());

    let load_lane = instance.get_typed_func::<(i32, u128), u128>(&mut store, "load_lane")?;
    let v = load_lane.call(&mut store, (65534, 0))?;
    assert_eq!(v >> 112, 0xfffe, "lane 7 holds the two bytes read");
    let err = load_lane.call(&mut store, (65535, 0)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let store_lane = instance.get_typed_func::<(i32, u128), ()>(&mut store, "store_lane")?;
    store_lane.call(&mut store, (100, 0x1122_3344_5566_7788_0000_0000_0000_0000))?;
    assert_eq!(load.call(&mut store, 100)? as u64, 0x1122_3344_5566_7788);
    assert!(store_lane.call(&mut store, (65529, 0)).is_err());
    Ok(())
}

#[test]
fn memory_accesses_trap_at_the_bounds_and_allow_any_alignment() -> Result<()> {
    for tier in tiers() {
        memory_in(tier)?;
    }
    Ok(())
}

#[test]
fn lane_indices_and_alignment_are_validated() {
    let engine = Engine::default();
    let bad = [
        // Lane 16 of an i8x16.
        (
            "(module (func (param v128) (result i32) (i8x16.extract_lane_s 16 (local.get 0))))",
            "index out of bounds",
        ),
        // Shuffle lanes index 32 lanes.
        (
            "(module (func (param v128 v128) (result v128)
               (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 32 (local.get 0) (local.get 1))))",
            "index out of bounds",
        ),
        // An alignment above the natural one.
        (
            "(module (memory 1) (func (result v128) (v128.load align=32 (i32.const 0))))",
            "alignment",
        ),
    ];
    for (wat, word) in bad {
        let err = Module::new(&engine, wat).unwrap_err();
        assert!(format!("{err:#}").contains(word), "{err:#}");
    }
}

const TABLE: &str = r#"
(module
  (type $vv (func (param v128 v128) (result v128)))
  (table 3 funcref)
  (elem (i32.const 0) $add $shuffle $mulwide)
  (func $add (type $vv) (i32x4.add (local.get 0) (local.get 1)))
  (func $shuffle (type $vv)
    (i8x16.shuffle 31 30 29 28 27 26 25 24 7 6 5 4 3 2 1 0 (local.get 0) (local.get 1)))
  (func $mulwide (type $vv)
    (local $lo i64) (local $hi i64)
    (i64.mul_wide_u (i64x2.extract_lane 0 (local.get 0)) (i64x2.extract_lane 0 (local.get 1)))
    (local.set $hi) (local.set $lo)
    (i64x2.replace_lane 1 (i64x2.splat (local.get $lo)) (local.get $hi)))
  (func (export "apply") (param i32 v128 v128) (result v128)
    (call_indirect (type $vv) (local.get 1) (local.get 2) (local.get 0)))
)
"#;

#[test]
fn vectors_cross_tables_of_functions() -> Result<()> {
    let a: u128 = 0x0000_0004_0000_0003_0000_0002_ffff_ffff;
    let b: u128 = 0x0000_0010_0000_0020_0000_0030_0000_0001;
    for tier in tiers() {
        let (mut store, instance) = instance(&tier_engine(tier), TABLE)?;
        let apply = instance.get_typed_func::<(i32, u128, u128), u128>(&mut store, "apply")?;
        let results = (
            apply.call(&mut store, (0, a, b))?,
            apply.call(&mut store, (1, a, b))?,
            apply.call(&mut store, (2, u128::from(u64::MAX), u128::from(u64::MAX)))?,
        );
        assert_eq!(results.0, 0x0000_0014_0000_0023_0000_0032_0000_0000);
        let (ab, bb) = (a.to_le_bytes(), b.to_le_bytes());
        let mut shuffled = [0u8; 16];
        for i in 0..8 {
            shuffled[i] = bb[15 - i];
            shuffled[8 + i] = ab[7 - i];
        }
        assert_eq!(results.1, u128::from_le_bytes(shuffled));
        let wide = u128::from(u64::MAX) * u128::from(u64::MAX);
        assert_eq!(results.2, (wide >> 64) << 64 | (wide as u64 as u128));
        let err = apply.call(&mut store, (3, a, b)).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::TableOutOfBounds));
    }
    Ok(())
}

const RELAXED: &str = r#"
(module
  (func (export "madd") (param f32 f32 f32) (result f32)
    (f32x4.extract_lane 0
      (f32x4.relaxed_madd (f32x4.splat (local.get 0)) (f32x4.splat (local.get 1))
        (f32x4.splat (local.get 2)))))
  (func (export "nmadd") (param f64 f64 f64) (result f64)
    (f64x2.extract_lane 1
      (f64x2.relaxed_nmadd (f64x2.splat (local.get 0)) (f64x2.splat (local.get 1))
        (f64x2.splat (local.get 2)))))
  (func (export "trunc") (param f32) (result i32)
    (i32x4.extract_lane 2 (i32x4.relaxed_trunc_f32x4_u (f32x4.splat (local.get 0)))))
  (func (export "swizzle") (param i32) (result i32)
    (i8x16.extract_lane_u 0
      (i8x16.relaxed_swizzle (v128.const i8x16 7 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
        (i8x16.splat (local.get 0)))))
  (func (export "laneselect") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "dot") (param i32 i32) (result i32)
    (i16x8.extract_lane_s 0
      (i16x8.relaxed_dot_i8x16_i7x16_s (i8x16.splat (local.get 0)) (i8x16.splat (local.get 1)))))
)
"#;

fn relaxed_in(tier: Tier, deterministic: bool) -> Result<()> {
    let mut config = Config::new();
    config.tier(tier).relaxed_simd_deterministic(deterministic);
    let (mut store, instance) = instance(&Engine::new(&config)?, RELAXED)?;
    let madd = instance.get_typed_func::<(f32, f32, f32), f32>(&mut store, "madd")?;
    // (1 + 2^-23)(1 - 2^-23) - 1 is -2^-46 when fused, 0 when rounded twice.
    let e = f32::EPSILON;
    let fused = madd.call(&mut store, (1.0 + e, 1.0 - e, -1.0))?;
    let nmadd = instance.get_typed_func::<(f64, f64, f64), f64>(&mut store, "nmadd")?;
    let e64 = f64::EPSILON;
    let nfused = nmadd.call(&mut store, (1.0 + e64, 1.0 - e64, 1.0))?;
    let trunc = instance.get_typed_func::<f32, i32>(&mut store, "trunc")?;
    let swizzle = instance.get_typed_func::<i32, i32>(&mut store, "swizzle")?;
    let laneselect =
        instance.get_typed_func::<(u128, u128, u128), u128>(&mut store, "laneselect")?;
    let dot = instance.get_typed_func::<(i32, i32), i32>(&mut store, "dot")?;
    if deterministic {
        assert_eq!(fused, -(e * e), "{tier:?}: relaxed_madd is fused");
        assert_eq!(nfused, e64 * e64, "{tier:?}: relaxed_nmadd is fused");
        // The saturating conversion's results.
        assert_eq!(trunc.call(&mut store, f32::NAN)?, 0);
        assert_eq!(trunc.call(&mut store, -5.0)?, 0);
        assert_eq!(trunc.call(&mut store, 1e10)?, -1);
        // Out-of-range indices give 0, as `i8x16.swizzle`.
        assert_eq!(swizzle.call(&mut store, 0x80)?, 0);
        assert_eq!(swizzle.call(&mut store, 16)?, 0);
        // Bitwise selection, as `v128.bitselect`.
        let mask = 0x0f0f_0000_ffff_0000_0000_ffff_1234_5678u128;
        assert_eq!(
            laneselect.call(&mut store, (u128::MAX, 0, mask))?,
            mask,
            "{tier:?}"
        );
        // Both operands signed; the pair's sum wraps to 16 bits.
        assert_eq!(dot.call(&mut store, (-128, -128))?, -32768);
    }
    // Inside the range every choice agrees.
    assert_eq!(trunc.call(&mut store, 3.7)?, 3);
    assert_eq!(swizzle.call(&mut store, 0)?, 7);
    assert_eq!(dot.call(&mut store, (3, -5))?, -30);
    Ok(())
}

#[test]
fn relaxed_simd_is_deterministic_by_default_in_every_tier() -> Result<()> {
    for tier in tiers() {
        relaxed_in(tier, true)?;
        relaxed_in(tier, false)?;
    }
    Ok(())
}

/// A function computing one instruction of each shape of the SIMD table
/// (and wide arithmetic), with `padding` extra `v128` locals before its
/// own: with enough of them, every operand's slot is beyond the 16-bit
/// fields of the interpreter's handlers, so the driver runs everything.
fn shapes(padding: usize) -> String {
    let locals = "v128 ".repeat(padding);
    format!(
        r#"
(module
  (memory 1)
  (memory $b 1)
  (func (export "run") (param $x v128) (param $y v128) (param $n i32) (result i64 v128 i32 i64)
    (local {locals}) (local $v v128) (local $lo i64)
    (v128.store (i32.const 32) (local.get $y))
    (local.set $v
      (v128.bitselect
        (i16x8.extmul_low_i8x16_s (local.get $x) (local.get $y))
        (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get $x) (local.get $y))
        (i32x4.shl (local.get $y) (local.get $n))))
    (local.set $v (f64x2.replace_lane 1 (local.get $v) (f64.convert_i32_s (local.get $n))))
    (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $n))))
    (local.set $v (v128.load32_lane 3 (i32.const 36) (local.get $v)))
    (v128.store16_lane 2 (i32.const 8) (local.get $v))
    (local.set $v (v128.xor (local.get $v) (v128.load (i32.const 0))))
    ;; The same on another memory (the access's extension word first).
    (v128.store $b (i32.const 48) (local.get $x))
    (v128.store8_lane $b 9 (i32.const 50) (local.get $v))
    (local.set $v (v128.load16_lane $b 1 (i32.const 49) (local.get $v)))
    (local.set $v (i32x4.add (local.get $v) (v128.load32_splat $b (i32.const 52))))
    (local.set $v (i16x8.neg (local.get $v)))
    (i64.add128 (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $v))
      (i64.const -1) (i64x2.extract_lane 1 (local.get $x)))
    ;; The high half; the low half stays on the stack as the first result.
    (local.set $lo)
    (local.get $v)
    (i8x16.bitmask (local.get $v))
    (local.get $lo))
)
"#
    )
}

#[test]
fn the_interpreter_driver_computes_what_its_handlers_compute() -> Result<()> {
    let x: u128 = 0x8001_7f02_ff03_0004_1234_5678_9abc_def0;
    let y: u128 = 0x0f1e_2d3c_4b5a_6978_8796_a5b4_c3d2_e1f0;
    let mut results = Vec::new();
    for tier in tiers() {
        for padding in [0, 33_000] {
            let (mut store, instance) = instance(&tier_engine(tier), &shapes(padding))?;
            let run = instance
                .get_typed_func::<(u128, u128, i32), (i64, u128, i32, i64)>(&mut store, "run")?;
            results.push((tier, padding, run.call(&mut store, (x, y, 5))?));
        }
    }
    let first = results[0].2;
    for (tier, padding, r) in &results {
        assert_eq!(*r, first, "{tier:?} with {padding} padding locals");
    }
    Ok(())
}

/// `benches/corpus/simd_image.rs` in scalar Rust: what its `run` returns.
fn simd_image_reference(rounds: u32) -> i32 {
    const W: usize = 256;
    let mut img = vec![0u8; W * W];
    let mut out = vec![0u8; W * W];
    let mut x: u32 = 1;
    for p in img.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *p = (x >> 16) as u8;
    }
    let avgr = |a: u8, b: u8| (u16::from(a) + u16::from(b)).div_ceil(2) as u8;
    let mut checksum: u32 = 0;
    for r in 0..rounds {
        for row in 0..W {
            for i in 16..W - 16 {
                let at = row * W + i;
                out[at] = avgr(avgr(img[at - 1], img[at + 1]), img[at]);
            }
        }
        let threshold = 100 + (r % 64) as u8;
        let count = out.iter().filter(|&&p| p > threshold).count() as u32;
        let tone = out[..W].iter().fold(0u32, |t, &p| {
            t.wrapping_add((f32::from(p) * 0.5 + 1.0).sqrt() as u32)
        });
        let dot = out.iter().enumerate().fold(0u32, |d, (i, &p)| {
            d.wrapping_add(u32::from(p) * ((i & 7) as u32 + 1))
        });
        for p in img.iter_mut() {
            *p = p.saturating_add(3);
        }
        checksum = checksum.rotate_left(5) ^ count ^ dot ^ (tone << 7);
    }
    checksum as i32
}

/// A real program built with SIMD (Rust intrinsics and auto-vectorised
/// loops, `benches/corpus/simd_image.rs`) computes in both tiers what the
/// same algorithm computes natively.
#[test]
fn a_rust_program_built_with_simd_runs_in_every_tier() -> Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../benches/corpus/simd_image.wasm"
    );
    let bytes = std::fs::read(path)?;
    for tier in tiers() {
        let engine = tier_engine(tier);
        let module = Module::new(&engine, &bytes)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        for rounds in [1, 3, 20] {
            let expected = simd_image_reference(rounds as u32);
            assert_eq!(
                run.call(&mut store, rounds)?,
                expected,
                "{tier:?}, {rounds} rounds"
            );
        }
    }
    Ok(())
}

/// The vector loads and stores of `MEMORY` on memory `$m`, which
/// `memories` declares (and exports as "mem"); every export takes a 64-bit
/// address, wrapped for a 32-bit memory. With `wide`, two more accesses
/// have an offset of 4 GiB (a memory64 only): no address reaches them.
fn vector_accesses(memories: &str, is_64: bool) -> String {
    let addr = if is_64 {
        "(local.get 0)"
    } else {
        "(i32.wrap_i64 (local.get 0))"
    };
    let wide = if is_64 {
        r#"(func (export "load_wide") (param i64) (result v128)
             (v128.load $m offset=0x100000000 (local.get 0)))
           (func (export "store_lane_wide") (param i64 v128)
             (v128.store8_lane $m offset=0x100000000 3 (local.get 0) (local.get 1)))"#
    } else {
        ""
    };
    format!(
        r#"
(module
  {memories}
  (func (export "load") (param i64) (result v128) (v128.load $m {addr}))
  (func (export "load_offset") (param i64) (result v128)
    (v128.load $m offset=65520 align=1 {addr}))
  (func (export "store") (param i64 v128) (v128.store $m {addr} (local.get 1)))
  (func (export "load8x8") (param i64) (result v128) (v128.load8x8_s $m {addr}))
  (func (export "splat64") (param i64) (result v128) (v128.load64_splat $m {addr}))
  (func (export "zero32") (param i64) (result v128) (v128.load32_zero $m {addr}))
  (func (export "load_lane") (param i64 v128) (result v128)
    (v128.load16_lane $m 7 {addr} (local.get 1)))
  (func (export "store_lane") (param i64 v128)
    (v128.store64_lane $m 1 {addr} (local.get 1)))
  {wide}
)
"#
    )
}

/// Runs every access of `vector_accesses(memories, is_64)` in `tier` at
/// the bounds of its one-page memory, checking what `memory_in` checks of
/// memory 0; returns what each call gave (a value or a trap).
fn other_memory_in(tier: Tier, memories: &str, is_64: bool) -> Result<Vec<String>> {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_multi_memory(true)
        .wasm_memory64(true);
    let engine = Engine::new(&config)?;
    let (mut store, instance) = instance(&engine, &vector_accesses(memories, is_64))?;
    let mem = instance.get_memory(&mut store, "mem").expect("exported");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(65536).collect();
    mem.write(&mut store, 0, &bytes)?;
    let at = |o: usize| u128::from_le_bytes(bytes[o..o + 16].try_into().unwrap());
    let mut seen = Vec::new();
    let mut record = |r: Result<u128>| -> Option<u128> {
        seen.push(match &r {
            Ok(v) => format!("{v:#x}"),
            Err(e) => format!("{:?}", e.downcast_ref::<Trap>()),
        });
        r.ok()
    };
    let oob = |r: Result<u128>| {
        let err = r.expect_err("out of bounds");
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{tier:?} {memories}"
        );
    };

    let load = instance.get_typed_func::<i64, u128>(&mut store, "load")?;
    assert_eq!(record(load.call(&mut store, 3)), Some(at(3)));
    assert_eq!(record(load.call(&mut store, 65520)), Some(at(65520)));
    // Past the end, past 4 GiB (a 32-bit address wraps to 0) and at the
    // top of the 64-bit space, where `address + 16` overflows.
    for addr in [65521, 65535, -1] {
        oob(load.call(&mut store, addr));
    }
    let far = load.call(&mut store, 1 << 32);
    if is_64 {
        oob(far);
    } else {
        assert_eq!(record(far), Some(at(0)), "{tier:?}: the address wraps");
    }
    let load_offset = instance.get_typed_func::<i64, u128>(&mut store, "load_offset")?;
    assert_eq!(record(load_offset.call(&mut store, 0)), Some(at(65520)));
    oob(load_offset.call(&mut store, 1));

    let store_v = instance.get_typed_func::<(i64, u128), ()>(&mut store, "store")?;
    store_v.call(&mut store, (5, u128::MAX))?;
    assert_eq!(record(load.call(&mut store, 5)), Some(u128::MAX));
    let err = store_v.call(&mut store, (65530, 7)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert_eq!(record(load.call(&mut store, 65520)), Some(at(65520)));

    let load8x8 = instance.get_typed_func::<i64, u128>(&mut store, "load8x8")?;
    let v = record(load8x8.call(&mut store, 0x80)).expect("in bounds");
    assert_eq!(v as u16, 0xff80, "0x80 sign-extends");
    oob(load8x8.call(&mut store, 65529));
    let splat64 = instance.get_typed_func::<i64, u128>(&mut store, "splat64")?;
    let lane = u64::from_le_bytes(bytes[48..56].try_into().unwrap());
    assert_eq!(
        record(splat64.call(&mut store, 48)),
        Some(u128::from(lane) << 64 | u128::from(lane))
    );
    oob(splat64.call(&mut store, 65529));
    let zero32 = instance.get_typed_func::<i64, u128>(&mut store, "zero32")?;
    assert_eq!(
        record(zero32.call(&mut store, 65532)),
        Some(u128::from(u32::from_le_bytes([252, 253, 254, 255])))
    );
    oob(zero32.call(&mut store, 65533));

    let load_lane = instance.get_typed_func::<(i64, u128), u128>(&mut store, "load_lane")?;
    let v = record(load_lane.call(&mut store, (65534, 1))).expect("in bounds");
    assert_eq!(v >> 112, 0xfffe, "lane 7 holds the two bytes read");
    assert_eq!(v & 0xffff, 1, "the other lanes are the vector's");
    oob(load_lane.call(&mut store, (65535, 0)));
    let store_lane = instance.get_typed_func::<(i64, u128), ()>(&mut store, "store_lane")?;
    store_lane.call(&mut store, (100, 0x1122_3344_5566_7788_0000_0000_0000_0000))?;
    assert_eq!(
        record(load.call(&mut store, 100)).map(|v| v as u64),
        Some(0x1122_3344_5566_7788)
    );
    assert!(store_lane.call(&mut store, (65529, 0)).is_err());
    assert!(store_lane.call(&mut store, (-1, 0)).is_err());

    if is_64 {
        let load_wide = instance.get_typed_func::<i64, u128>(&mut store, "load_wide")?;
        // `address + offset` overflows for the last one: no wrap-around to
        // a small address.
        for addr in [0, 65536, -(1 << 32) + 16] {
            oob(load_wide.call(&mut store, addr));
        }
        let store_lane_wide =
            instance.get_typed_func::<(i64, u128), ()>(&mut store, "store_lane_wide")?;
        for addr in [0, -(1 << 32) + 16] {
            let err = store_lane_wide.call(&mut store, (addr, 0)).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        }
    }
    // Nothing out of bounds was written, to this memory or another.
    let mut after = vec![0; 65536];
    mem.read(&store, 0, &mut after)?;
    let mut expected = bytes.clone();
    expected[5..21].fill(0xff);
    expected[100..108].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    assert!(after == expected, "{tier:?} {memories}: memory contents");
    Ok(seen)
}

#[test]
fn vector_accesses_address_any_memory_and_memory64_in_every_tier() -> Result<()> {
    // Memory 0 is larger than memory 1, so an access that took the wrong
    // memory would not trap where it must.
    let cases = [
        ("(memory 2) (memory $m (export \"mem\") 1)", false),
        ("(memory $m (export \"mem\") i64 1)", true),
        ("(memory 2) (memory $m (export \"mem\") i64 1)", true),
    ];
    for (memories, is_64) in cases {
        let mut results = Vec::new();
        for tier in tiers() {
            results.push((tier, other_memory_in(tier, memories, is_64)?));
        }
        for (tier, seen) in &results {
            assert_eq!(seen, &results[0].1, "{tier:?} against {:?}", results[0].0);
        }
    }
    Ok(())
}
