//! Control-flow shapes the translator rewrites (operand forwarding, fused
//! compare-and-branch, loop inversion) and the calls and returns the
//! threaded handlers make, checked for their results.

use strata::{Config, Engine, Instance, Module, Store, Tier};

/// Runs each case (export, argument, expected result) in every tier this
/// build has: the shapes are the interpreter's, the answers everyone's.
fn run(wat: &str, cases: &[(&str, i32, i32)]) {
    for tier in [Tier::Interp, Tier::Jit, Tier::Tiered] {
        if !tier.is_available() {
            continue;
        }
        let engine = Engine::new(Config::new().tier(tier)).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        for &(name, arg, want) in cases {
            let f = instance
                .get_typed_func::<i32, i32>(&mut store, name)
                .unwrap();
            let got = f.call(&mut store, arg).unwrap();
            assert_eq!(got, want, "{name}({arg}) in {tier:?}");
        }
    }
}

#[test]
fn loops_headed_by_branches() {
    run(
        r#"(module
          ;; The loop's first instruction is an `if` whose else-target is not
          ;; known yet when the body branches back to the loop.
          (func (export "ifloop") (param i32) (result i32) (local i32)
            (local.set 1 (i32.const 0))
            (loop $l
              (if (i32.lt_s (local.get 1) (local.get 0))
                (then
                  (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                  (br $l))))
            (local.get 1))
          ;; A conditional exit at the loop head, jumped to from the bottom.
          (func (export "headexit") (param i32) (result i32) (local i32)
            (local.set 1 (i32.const 0))
            (block $out
              (loop $l
                (br_if $out (i32.ge_s (local.get 1) (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (i32.const 2)))
                (br $l)))
            (local.get 1))
          ;; The head's exit goes backward, to an outer loop.
          (func (export "nested") (param i32) (result i32) (local i32 i32)
            (loop $outer
              (local.set 2 (i32.add (local.get 2) (i32.const 1)))
              (loop $inner
                (br_if $outer (i32.lt_s (local.get 2) (local.get 0)))
                (local.set 1 (i32.const 99))))
            (i32.add (local.get 1) (local.get 2)))
          ;; i64.eqz fused into the loop's exit test.
          (func (export "countdown") (param i32) (result i32) (local i64 i32)
            (local.set 1 (i64.extend_i32_u (local.get 0)))
            (block $out
              (loop $l
                (br_if $out (i64.eqz (local.get 1)))
                (local.set 1 (i64.sub (local.get 1) (i64.const 1)))
                (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                (br $l)))
            (local.get 2)))"#,
        &[
            ("ifloop", 10, 10),
            ("ifloop", 0, 0),
            ("headexit", 9, 10),
            ("headexit", 0, 0),
            ("nested", 5, 104),
            ("countdown", 7, 7),
            ("countdown", 0, 0),
        ],
    );
}

/// A `br_table` entry that jumps back to a loop headed by a conditional
/// exit: loop inversion turns such a jump into two instructions, which
/// shifted the table's later entries (entry 1 here ran entry 0's exit and
/// returned 1 instead of looping to 55).
#[test]
fn br_table_entries_back_to_an_inverted_loop() {
    run(
        r#"(module
          (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
            (block $out
              (loop $l
                (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (local.set $acc (i32.add (local.get $acc) (local.get $i)))
                (br_table $l $l $out (i32.and (local.get $i) (i32.const 1)))))
            (local.get $acc)))"#,
        &[("run", 10, 55), ("run", 0, 0), ("run", 1, 1)],
    );
}

#[test]
fn lazy_locals_survive_writes_and_joins() {
    run(
        r#"(module
          ;; The old value of local 0 is on the stack when it is overwritten.
          (func (export "old_value") (param i32) (result i32)
            (local.get 0)
            (local.set 0 (i32.const 100))
            (local.get 0)
            (i32.sub))
          ;; A pending read of a local crosses a block whose branch skips
          ;; the write.
          (func (export "join") (param i32) (result i32)
            (local.get 0)
            (block
              (br_if 0 (local.get 0))
              (local.set 0 (i32.const 7)))
            (local.get 0)
            (i32.add))
          ;; local.tee keeps the new value on the stack.
          (func (export "tee") (param i32) (result i32)
            (local.get 0)
            (local.tee 0 (i32.mul (local.get 0) (i32.const 3)))
            (i32.add)))"#,
        &[
            ("old_value", 1, -99),
            ("join", 5, 10),
            ("join", 0, 7),
            ("tee", 2, 8),
        ],
    );
}

#[test]
fn multi_value_blocks_and_br_table() {
    run(
        r#"(module
          (func (export "table") (param i32) (result i32)
            (block (result i32)
              (block (result i32)
                (block (result i32)
                  (i32.const 10)
                  (local.get 0)
                  (br_table 0 1 2))
                (i32.add (i32.const 100)))
              (i32.add (i32.const 1000))))
          (func (export "swap") (param i32) (result i32)
            (local.get 0) (i32.const 1)
            (block (param i32 i32) (result i32 i32)
              (br 0))
            (i32.sub)))"#,
        &[
            ("table", 0, 1110),
            ("table", 1, 1010),
            ("table", 2, 10),
            ("table", 99, 10),
            ("swap", 5, 4),
        ],
    );
}

/// Calls within an instance run in the threaded handlers once the callee
/// is translated; the first call of each function goes through the driver.
/// Each case runs twice so both paths are taken.
#[test]
fn calls_after_translation_keep_frames_results_and_traps() {
    use strata::{Linker, Trap, WasmBacktrace};
    let engine = Engine::new(Config::new().tier(Tier::Interp)).unwrap();
    let store = &mut Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    // A second instance whose functions call back into the first: calls and
    // returns across instances go through the driver.
    let a = Module::new(
        &engine,
        r#"(module
          (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          ;; Locals are zero on every entry, constants in place.
          (func $locals (param i32) (result i32) (local i32 i64)
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 2 (i64.add (local.get 2) (i64.const 40)))
            (i32.add (local.get 1) (i32.wrap_i64 (local.get 2))))
          (func (export "locals") (param i32) (result i32)
            (i32.add (call $locals (local.get 0)) (call $locals (local.get 0))))
          (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
          (func $mid (param i32) (result i32) (call $inner (local.get 0)))
          (func (export "outer") (param i32) (result i32) (call $mid (local.get 0)))
          (func $rec (export "rec") (param i32) (result i32)
            (call $rec (i32.add (local.get 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let a = linker.instantiate(&mut *store, &a).unwrap();
    linker.instance(&mut *store, "a", a).unwrap();
    let b = Module::new(
        &engine,
        r#"(module
          (import "a" "fib" (func $fib (param i32) (result i32)))
          (func $twice (param i32) (result i32)
            (i32.add (call $fib (local.get 0)) (call $fib (local.get 0))))
          (func (export "run") (param i32) (result i32)
            (i32.add (call $twice (local.get 0)) (i32.const 1))))"#,
    )
    .unwrap();
    let b = linker.instantiate(&mut *store, &b).unwrap();

    let fib = a.get_typed_func::<i32, i32>(&mut *store, "fib").unwrap();
    let locals = a.get_typed_func::<i32, i32>(&mut *store, "locals").unwrap();
    let outer = a.get_typed_func::<i32, i32>(&mut *store, "outer").unwrap();
    let rec = a.get_typed_func::<i32, i32>(&mut *store, "rec").unwrap();
    let run = b.get_typed_func::<i32, i32>(&mut *store, "run").unwrap();
    for _ in 0..2 {
        assert_eq!(fib.call(&mut *store, 20).unwrap(), 6765);
        assert_eq!(locals.call(&mut *store, 2).unwrap(), 84);
        assert_eq!(run.call(&mut *store, 10).unwrap(), 111);
        assert_eq!(outer.call(&mut *store, 1).unwrap(), 1);

        let err = outer.call(&mut *store, 0).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::IntegerDivisionByZero)
        );
        let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
        let indices: Vec<u32> = bt.frames().iter().map(|f| f.func_index()).collect();
        assert_eq!(indices, [3, 4, 5]);

        let err = rec.call(&mut *store, 0).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    }
}

/// Constants become immediates in the lowered code when they fit (32 bits
/// for arithmetic, 16 for compare-and-branch), sign-extended for 64-bit
/// operands; values at and beyond each boundary must keep their meaning.
#[test]
fn constant_operands_keep_their_values_at_every_width() {
    let edges: [i64; 16] = [
        0,
        1,
        -1,
        32_767,
        32_768,
        -32_768,
        -32_769,
        65_535,
        65_536,
        i32::MAX as i64,
        i32::MIN as i64,
        u32::MAX as i64,
        1 << 32,
        -(1 << 33),
        i64::MAX,
        i64::MIN,
    ];
    let mut wat = String::from("(module\n");
    for (k, &c) in edges.iter().enumerate() {
        let c32 = c as i32;
        wat += &format!(
            r#"(func (export "i32_{k}") (param i32) (result i64)
                 (i64.extend_i32_u (i32.add (local.get 0) (i32.const {c32})))
                 (i64.shl (i64.extend_i32_u (i32.lt_u (local.get 0) (i32.const {c32})))
                          (i64.const 1))
                 (i64.add)
                 (block (param i64) (result i64)
                   (br_if 0 (i32.lt_s (local.get 0) (i32.const {c32})))
                   (i64.add (i64.const 4)))
                 (block (param i64) (result i64)
                   (br_if 0 (i32.ge_u (local.get 0) (i32.const {c32})))
                   (i64.add (i64.const 8))))
               (func (export "i64_{k}") (param i64) (result i64)
                 (i64.xor (local.get 0) (i64.const {c}))
                 (block (param i64) (result i64)
                   (br_if 0 (i64.gt_s (local.get 0) (i64.const {c})))
                   (i64.add (i64.const 1)))
                 (block (param i64) (result i64)
                   (br_if 0 (i64.le_u (local.get 0) (i64.const {c})))
                   (i64.sub (i64.const 2))))
"#
        );
    }
    wat += ")";
    let engine = Engine::new(Config::new().tier(Tier::Interp)).unwrap();
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let probes: Vec<i64> = edges
        .iter()
        .flat_map(|&e| [e.wrapping_sub(1), e, e.wrapping_add(1)])
        .collect();
    for (k, &c) in edges.iter().enumerate() {
        let narrow = instance
            .get_typed_func::<i32, i64>(&mut store, &format!("i32_{k}"))
            .unwrap();
        let wide = instance
            .get_typed_func::<i64, i64>(&mut store, &format!("i64_{k}"))
            .unwrap();
        let c32 = c as i32;
        for &x in &probes {
            let x32 = x as i32;
            let sum = i64::from(x32.wrapping_add(c32) as u32);
            let lt_u = i64::from((x32 as u32) < (c32 as u32));
            let mut want = sum + (lt_u << 1);
            if x32 >= c32 {
                want += 4;
            }
            if lt_u == 1 {
                want += 8;
            }
            assert_eq!(
                narrow.call(&mut store, x32).unwrap(),
                want,
                "i32_{k}({x32}) c={c32}"
            );

            let mut want = x ^ c;
            if x <= c {
                want = want.wrapping_add(1);
            }
            if (x as u64) > (c as u64) {
                want = want.wrapping_sub(2);
            }
            assert_eq!(
                wide.call(&mut store, x).unwrap(),
                want,
                "i64_{k}({x}) c={c}"
            );
        }
    }
}

/// The translator keeps the decoded operators of bodies up to 64 KiB for
/// its second pass and decodes larger ones again: both ways translate the
/// same code. Constants shared across the body come from one pool slot.
#[test]
fn large_and_small_bodies_translate_alike() {
    // 20,000 steps of `x += 3` (and `x -= 1` every 5th), 7 or 10 bytes
    // each: a body of about 150 KB, and one of about 80 bytes.
    let step = |i: u32| {
        if i % 5 == 4 {
            "(local.set 1 (i32.sub (i32.add (local.get 1) (i32.const 3)) (i32.const 1)))"
        } else {
            "(local.set 1 (i32.add (local.get 1) (i32.const 3)))"
        }
    };
    let large: String = (0..20_000).map(step).collect();
    let small: String = (0..10).map(step).collect();
    let wat = format!(
        r#"(module
          (func (export "large") (param i32) (result i32) (local i32)
            (local.set 1 (local.get 0)) {large} (local.get 1))
          (func (export "small") (param i32) (result i32) (local i32)
            (local.set 1 (local.get 0)) {small} (local.get 1)))"#
    );
    // 20,000 * 3 - 4,000 and 10 * 3 - 2, on top of the argument.
    run(&wat, &[("large", 7, 56_007), ("small", 7, 35)]);
}

/// An `i32.add` whose sum addresses the load or store right after it runs
/// as one fused handler (`handlers/fused.rs`): every operand source of the
/// sum, a wrapping sum, a store of the sum itself, and accesses out of
/// bounds, which trap at the access.
#[test]
fn address_sums_fused_with_their_access() {
    use strata::{Trap, WasmBacktrace};
    let engine = Engine::new(Config::new().tier(Tier::Interp)).unwrap();
    let wat = r#"(module
          (memory 1)
          (data (i32.const 8) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
          ;; A constant right operand, a load with an offset.
          (func (export "load") (param i32) (result i32)
            (i32.load offset=4 (i32.add (local.get 0) (i32.const 8))))
          ;; Two slot operands, a narrow load.
          (func (export "load8") (param i32) (result i32)
            (i32.load8_u (i32.add (local.get 0) (local.get 0))))
          ;; The right operand from the accumulator (`base + i * 2`).
          (func (export "load16") (param i32) (result i32)
            (i32.load16_u (i32.add (i32.const 8) (i32.shl (local.get 0) (i32.const 1)))))
          ;; A 64-bit load at a sum that wraps around 2^32.
          (func (export "wrap") (param i32) (result i32)
            (i32.wrap_i64 (i64.load (i32.add (local.get 0) (i32.const -16)))))
          ;; The sum is kept in a local, and stored at itself.
          (func (export "store_sum") (param i32) (result i32) (local i32)
            (i32.store (local.tee 1 (i32.add (local.get 0) (i32.const 16))) (local.get 1))
            (i32.add (i32.load (local.get 1)) (local.get 1)))
          ;; A narrow store of another value, read back.
          (func (export "store8") (param i32) (result i32)
            (i32.store8 (i32.add (local.get 0) (i32.const 100)) (i32.const 0x1ff))
            (i32.load (i32.add (local.get 0) (i32.const 100))))
          ;; Out of bounds, after a global is set.
          (global $g (mut i32) (i32.const 0))
          (func (export "oob") (param i32) (result i32) (local i32)
            (global.set $g (i32.const 7))
            (drop (i32.load (local.tee 1 (i32.add (local.get 0) (i32.const 65533)))))
            (local.get 1))
          (func (export "g") (result i32) (global.get $g)))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let call = |store: &mut Store<()>, name: &str, arg: i32| {
        let f = instance
            .get_typed_func::<i32, i32>(&mut *store, name)
            .unwrap();
        f.call(&mut *store, arg)
    };
    for (name, arg, want) in [
        ("load", 0, 0x0807_0605),
        ("load", -4, 0x0403_0201),
        ("load8", 4, 1),
        ("load8", 7, 7),
        ("load16", 1, 0x0403),
        ("wrap", 24, 0x0403_0201),
        ("store_sum", 0, 32),
        ("store_sum", 1000, 2032),
        ("store8", 0, 0xff),
    ] {
        assert_eq!(call(&mut store, name, arg).unwrap(), want, "{name}({arg})");
    }
    // The trap is the load's: its module offset is the one the JIT
    // reports for the same call (when the build has the JIT).
    let trap_offset = |err: &anyhow::Error| {
        let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
        bt.frames()[0].module_offset()
    };
    let mut jit = Tier::Jit.is_available().then(|| {
        let engine = Engine::new(Config::new().tier(Tier::Jit)).unwrap();
        let mut store = Store::new(&engine, ());
        let module = Module::new(&engine, wat).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let oob = instance
            .get_typed_func::<i32, i32>(&mut store, "oob")
            .unwrap();
        (store, oob)
    });
    for arg in [0, 1, 4, 1000, -65533 - 1] {
        let err = call(&mut store, "oob", arg).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "oob({arg})"
        );
        assert!(trap_offset(&err).is_some());
        if let Some((jit_store, jit_oob)) = &mut jit {
            let jit_err = jit_oob.call(&mut *jit_store, arg).unwrap_err();
            assert_eq!(trap_offset(&err), trap_offset(&jit_err), "oob({arg})");
        }
    }
    assert_eq!(call(&mut store, "oob", -65533).unwrap(), 0);
    let g = instance.get_typed_func::<(), i32>(&mut store, "g").unwrap();
    assert_eq!(g.call(&mut store, ()).unwrap(), 7);
}
