//! Tiered execution: hot functions move to compiled code, hot loops move
//! there mid-call (on-stack replacement), and nothing observable changes:
//! results, fuel, traps, backtraces and stack limits are those of either
//! tier alone.

use anyhow::Result;
use strata::*;

/// An engine running `tier`, tiering up after `calls` calls and `loops`
/// loop iterations, on the calling thread (so every run switches at the
/// same points), without the compile cache (whose code would run from
/// the first call), with `configure` applied on top.
fn make_engine(
    tier: Tier,
    (calls, loops): (u32, u32),
    configure: impl FnOnce(&mut Config),
) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .tier_up_calls(calls)
        .tier_up_loop_iterations(loops)
        .tier_up_in_background(false)
        .cache(None);
    configure(&mut config);
    Engine::new(&config).expect("valid configuration")
}

/// The thresholds the tests try: at once, after the first call or
/// iteration, a few pseudo-random ones, and the defaults.
fn thresholds() -> Vec<(u32, u32)> {
    let mut seed = 0x2545_f491_u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed % 7
    };
    let mut all = vec![(0, 0), (1, 1), (1000, 0), (1000, 10_000)];
    for _ in 0..4 {
        all.push((next(), next()));
    }
    all
}

const PROGRAM: &str = r#"
(module
  (global $steps (export "steps") (mut i64) (i64.const 0))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $mix (param i64 i32) (result i64)
    (global.set $steps (i64.add (global.get $steps) (i64.const 1)))
    (i64.add (i64.mul (local.get 0) (i64.const 31)) (i64.extend_i32_u (local.get 1))))
  ;; A loop in the caller's frame, calling a function each iteration.
  (func (export "hash") (param $n i32) (result i64)
    (local $i i32) (local $h i64)
    (loop $l
      (local.set $h (call $mix (local.get $h) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $h))
  ;; A loop that starts with its exit test (which the interpreter inverts).
  (func (export "count") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $out
      (loop $l
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
)
"#;

fn run_program(engine: &Engine, fuel: Option<u64>) -> Result<Vec<(String, i64, u64)>> {
    let module = Module::new(engine, PROGRAM)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let mut out = Vec::new();
    for (name, arg) in [
        ("fib", 18),
        ("hash", 5000),
        ("count", 3000),
        ("hash", 7),
        ("fib", 3),
    ] {
        if let Some(f) = fuel {
            store.set_fuel(f)?;
        }
        let func = instance.get_func(&mut store, name).expect("export");
        let mut results = [Val::I32(0)];
        func.call(&mut store, &[Val::I32(arg)], &mut results)?;
        let value = match results[0] {
            Val::I32(v) => i64::from(v),
            Val::I64(v) => v,
            ref other => panic!("unexpected result {other:?}"),
        };
        let used = fuel.map_or(0, |f| f - store.get_fuel().unwrap_or(0));
        out.push((name.to_string(), value, used));
    }
    Ok(out)
}

#[test]
fn hot_code_is_compiled_and_computes_the_same() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let expected = run_program(&make_engine(Tier::Interp, (0, 0), |_| {}), None)?;
    for t in thresholds() {
        let engine = make_engine(Tier::Tiered, t, |_| {});
        assert_eq!(run_program(&engine, None)?, expected, "thresholds {t:?}");
        let module = Module::new(&engine, PROGRAM)?;
        // A fresh module: what it ran is hot at once (calls), or after
        // the interpreter ran the loop once (loops).
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let hash = instance.get_typed_func::<i32, i64>(&mut store, "hash")?;
        hash.call(&mut store, 100)?;
        let (funcs, loops) = module.tiered_up();
        match t {
            (0, _) => assert!(funcs >= 2, "compiled {funcs} functions"),
            (1000, 0) => assert_eq!(loops, 1, "compiled {loops} loop entries"),
            (1000, 10_000) => assert_eq!((funcs, loops), (0, 0)),
            _ => {}
        }
    }
    Ok(())
}

#[test]
fn fuel_is_the_same_whatever_tier_each_function_is_in() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let metered = |c: &mut Config| {
        c.consume_fuel(true);
    };
    let expected = run_program(
        &make_engine(Tier::Interp, (0, 0), metered),
        Some(u64::MAX / 2),
    )?;
    for t in thresholds() {
        let got = run_program(&make_engine(Tier::Tiered, t, metered), Some(u64::MAX / 2))?;
        assert_eq!(got, expected, "thresholds {t:?}");
    }
    // Running out of fuel stops at the same iteration in every mix.
    let stop = |tier, t| -> Result<i64> {
        let engine = make_engine(tier, t, metered);
        let module = Module::new(&engine, PROGRAM)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let hash = instance.get_typed_func::<i32, i64>(&mut store, "hash")?;
        store.set_fuel(12_345)?;
        let err = hash.call(&mut store, 1_000_000).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::OutOfFuel),
            "{err:#}"
        );
        let steps = instance.get_global(&mut store, "steps").expect("export");
        Ok(steps.get(&mut store).i64().expect("i64"))
    };
    let expected = stop(Tier::Interp, (0, 0))?;
    assert!(expected > 100);
    for t in thresholds() {
        assert_eq!(stop(Tier::Tiered, t)?, expected, "thresholds {t:?}");
    }
    Ok(())
}

/// A loop that becomes hot continues compiled at its header, taking over
/// the locals and every operand below the loop (of every type) and the
/// loop's parameters from the interpreter's frame.
#[test]
fn a_hot_loop_moves_to_compiled_code_with_its_operands() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = r#"
    (module
      (elem declare func $run)
      (func $run (export "run") (param $n i32) (param $v v128) (param $e externref)
          (result i32 i64 f32 f64 v128 i32 i32)
        (local $i i32) (local $acc i64) (local $r f64) (local $w v128) (local $f f32)
        (local $x i32)
        (i32.const 7) (i64.const 8) (f32.const 1.5) (f64.const 2.5) (local.get $v)
        (ref.func $run) (local.get $e)
        (f64.const 0.5)
        (loop $l (param f64) (result f64)
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (f64.add (f64.const 1))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.set $r)
        ref.is_null
        local.set $x
        ref.is_null
        i32.const 2
        i32.mul
        local.get $x
        i32.add
        local.set $x
        (local.set $w)
        (f64.add (local.get $r))
        (local.set $r)
        (local.set $f)
        (i64.add (local.get $acc))
        (local.set $acc)
        (i32.add (local.get $i))
        (local.get $acc) (local.get $f) (local.get $r) (local.get $w) (local.get $x)
        (local.get $n)))
    "#;
    let v = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10_u128;
    let n = 10_000_i64;
    for t in [(1000, 0), (1000, 1), (3, 5)] {
        let engine = make_engine(Tier::Tiered, t, |c| {
            c.wasm_simd(true);
        });
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_func(&mut store, "run").expect("export");
        let mut results = vec![Val::I32(0); 7];
        let args = [Val::I32(n as i32), Val::V128(v), Val::ExternRef(None)];
        run.call(&mut store, &args, &mut results)?;
        assert_eq!(results[0].i32(), Some(7 + n as i32), "{t:?}");
        assert_eq!(results[1].i64(), Some(8 + n * (n - 1) / 2), "{t:?}");
        assert_eq!(results[2].f32(), Some(1.5), "{t:?}");
        assert_eq!(results[3].f64(), Some(2.5 + 0.5 + n as f64), "{t:?}");
        assert_eq!(results[4].v128(), Some(v), "{t:?}");
        // The externref was null, the funcref was not.
        assert_eq!(results[5].i32(), Some(1), "{t:?}");
        let (_, loops) = module.tiered_up();
        assert_eq!(loops, 1, "the loop was entered compiled with {t:?}");
    }
    Ok(())
}

/// A hot loop inside another loop, with operands below both: the entry
/// at the inner loop compiles (the outer loop's header, reached again by
/// its back edge from compiled code, takes the operands below it as
/// parameters) and computes what the interpreter does.
#[test]
fn a_hot_inner_loop_with_operands_below_its_outer_loop_compiles() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = r#"
    (module
      (func (export "nest") (param $n i32) (result i32)
        (local $i i32) (local $k i32) (local $sum i32)
        (i32.const 100)
        (loop $outer
          (i32.const 5)
          (local.set $i (i32.const 0))
          (loop $inner
            (local.set $sum (i32.add (local.get $sum) (local.get $i)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $inner (i32.lt_u (local.get $i) (local.get $n))))
          (local.set $sum (i32.add (local.get $sum)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $outer (i32.lt_u (local.get $k) (i32.const 3))))
        (local.get $sum)
        (i32.add)))
    "#;
    let n = 1000;
    for t in [(1000, 0), (1000, 1), (1000, 7)] {
        let engine = make_engine(Tier::Tiered, t, |_| {});
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let nest = instance.get_typed_func::<i32, i32>(&mut store, "nest")?;
        assert_eq!(
            nest.call(&mut store, n)?,
            100 + 3 * (n * (n - 1) / 2 + 5),
            "{t:?}"
        );
        let (_, loops) = module.tiered_up();
        assert!(loops >= 1, "the inner loop was entered compiled with {t:?}");
    }
    Ok(())
}

/// A function too large for `Config::jit_max_function_size` stays in the
/// interpreter however hot it is.
#[test]
fn functions_over_the_size_limit_stay_interpreted() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let engine = make_engine(Tier::Tiered, (0, 0), |c| {
        c.jit_max_function_size(8);
    });
    let module = Module::new(&engine, PROGRAM)?;
    let expected = run_program(&make_engine(Tier::Interp, (0, 0), |_| {}), None)?;
    assert_eq!(run_program(&engine, None)?, expected);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    instance
        .get_typed_func::<i32, i64>(&mut store, "hash")?
        .call(&mut store, 1000)?;
    assert_eq!(module.tiered_up(), (0, 0));
    Ok(())
}

/// A trap deep in compiled code called from interpreted frames, and from
/// a loop that moved to compiled code mid-call, lists every frame.
#[test]
fn backtraces_list_interpreted_and_compiled_frames() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = r#"
    (module
      (func $fail (param i32) (result i32)
        (if (i32.eq (local.get 0) (i32.const 3)) (then (unreachable)))
        (local.get 0))
      (func $middle (param i32) (result i32) (call $fail (local.get 0)))
      (func $outer (export "outer") (result i32)
        (i32.add (i32.add (call $middle (i32.const 1)) (call $middle (i32.const 2)))
                 (call $middle (i32.const 3))))
      (func $looper (export "looper") (param $n i32) (result i32)
        (local $i i32)
        (loop $l
          (drop (call $fail (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $i))
      (func (export "start_loop") (result i32) (call $looper (i32.const 10))))
    "#;
    let names = |err: &anyhow::Error| -> Vec<u32> {
        let trace = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
        trace.frames().iter().map(|f| f.func_index()).collect()
    };
    for t in [(1, 1000), (0, 1000)] {
        let engine = make_engine(Tier::Tiered, t, |_| {});
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let outer = instance.get_typed_func::<(), i32>(&mut store, "outer")?;
        let err = outer.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::UnreachableCodeReached)
        );
        assert_eq!(names(&err), [0, 1, 2], "{t:?}: {err:?}");
    }
    // `looper` is interpreted until its loop is hot, then compiled from
    // the loop's header; `start_loop` stays interpreted.
    let engine = make_engine(Tier::Tiered, (1000, 2), |_| {});
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let start = instance.get_typed_func::<(), i32>(&mut store, "start_loop")?;
    let err = start.call(&mut store, ()).unwrap_err();
    assert_eq!(names(&err), [0, 3, 4], "{err:?}");
    assert_eq!(module.tiered_up().1, 1);
    Ok(())
}

/// Unbounded recursion that moves between the tiers ends in the stack
/// exhaustion trap, never a crash.
#[test]
fn recursion_across_tiers_exhausts_the_stack_cleanly() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = r#"
    (module
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1))))))))
    "#;
    for t in [(0, 0), (1, 1), (50, 1), (1000, 10_000)] {
        let engine = make_engine(Tier::Tiered, t, |_| {});
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
        assert_eq!(down.call(&mut store, 1000)?, 1000);
        let err = down.call(&mut store, i32::MAX).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::StackOverflow),
            "{t:?}: {err:#}"
        );
        // The store is still usable.
        assert_eq!(down.call(&mut store, 10)?, 10);
    }
    Ok(())
}

/// With the default background compilation, the program keeps running in
/// the interpreter while its hot code compiles, then switches over.
#[test]
fn background_compilation_takes_over() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let mut config = Config::new();
    config
        .tier(Tier::Tiered)
        .tier_up_calls(10)
        .tier_up_loop_iterations(100);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, PROGRAM)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    let started = std::time::Instant::now();
    while module.tiered_up().0 == 0 {
        assert_eq!(fib.call(&mut store, 15)?, 610);
        assert!(started.elapsed().as_secs() < 60, "nothing was compiled");
    }
    for _ in 0..10 {
        assert_eq!(fib.call(&mut store, 20)?, 6765);
    }
    Ok(())
}

/// A call that enters the interpreter from outside it (from the host, or
/// from compiled code calling a function that is still interpreted) costs
/// a whole entry, so it counts as 16 calls towards `tier_up_calls`; calls
/// between interpreted functions count once.
#[test]
fn calls_from_outside_the_interpreter_count_more() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    // 32 calls: two entries (16 each) use them up, the third finds none
    // left and compiles.
    let engine = make_engine(Tier::Tiered, (32, u32::MAX), |_| {});
    let wat = r#"
      (module
        (func $leaf (param i32) (result i32)
          (i32.add (local.get 0) (i32.const 1)))
        (func (export "outer") (param i32) (result i32)
          (call $leaf (local.get 0)))
        ;; 20 calls of $leaf between interpreted functions: fewer than 32.
        (func (export "loop") (result i32)
          (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (call $leaf (local.get $acc)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))
          (local.get $acc)))"#;

    // Interpreted callers: 20 calls leave $leaf interpreted.
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let looped = instance.get_typed_func::<(), i32>(&mut store, "loop")?;
    assert_eq!(looped.call(&mut store, ())?, 20);
    assert_eq!(
        module.tiered_up().0,
        0,
        "20 interpreted calls compiled something"
    );

    // Host entries: $outer's first two calls spend its count (16 + 16)
    // and the third compiles it. Its two interpreted runs counted $leaf
    // once each (32 - 2 = 30); compiled $outer then calls the interpreted
    // $leaf through an entry: 30 - 16 = 14 in the third call, 0 in the
    // fourth, and the fifth compiles $leaf.
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let outer = instance.get_typed_func::<i32, i32>(&mut store, "outer")?;
    let mut compiled = Vec::new();
    for i in 0..5 {
        assert_eq!(outer.call(&mut store, i)?, i + 1);
        compiled.push(module.tiered_up().0);
    }
    assert_eq!(
        compiled,
        [0, 0, 1, 1, 2],
        "functions compiled after each call"
    );
    Ok(())
}

/// A module of `n` functions in a binary call tree (function `i` calls
/// `2i + 1` and `2i + 2`), each mixing its argument, so that every
/// function runs once per call of the root and each result depends on all.
fn call_tree(n: u32) -> String {
    let mut wat = String::from("(module\n");
    for i in 0..n {
        let mut body = format!("(i32.add (i32.mul (local.get 0) (i32.const 31)) (i32.const {i}))");
        for child in [2 * i + 1, 2 * i + 2] {
            if child < n {
                body = format!("(i32.xor (call $f{child} {body}) (i32.const {child}))");
            }
        }
        wat.push_str(&format!("  (func $f{i} (param i32) (result i32) {body})\n"));
    }
    wat.push_str("  (export \"root\" (func $f0)))\n");
    wat
}

/// With background work allowed, a tiered engine translates the callees of
/// the functions the program uses on another thread, ahead of the program
/// (`interp/prefetch.rs`); whichever thread translates a function, the
/// program computes the same and uses the same fuel as the interpreter.
#[test]
fn translating_ahead_on_another_thread_changes_nothing() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = call_tree(500);
    let run = |tier: Tier| -> Result<(Vec<i32>, u64)> {
        let mut config = Config::new();
        config
            .tier(tier)
            .consume_fuel(true)
            .tier_up_calls(u32::MAX)
            .tier_up_loop_iterations(u32::MAX)
            .cache(None);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, &wat)?;
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2)?;
        let instance = Instance::new(&mut store, &module, &[])?;
        let root = instance.get_typed_func::<i32, i32>(&mut store, "root")?;
        let mut results = Vec::new();
        for arg in [1, 7, -3] {
            results.push(root.call(&mut store, arg)?);
        }
        Ok((results, u64::MAX / 2 - store.get_fuel()?))
    };
    let expected = run(Tier::Interp)?;
    for _ in 0..5 {
        assert_eq!(run(Tier::Tiered)?, expected);
    }
    Ok(())
}

/// An interpreted frame calling a function that has compiled code: the
/// call handler enters the code itself (`control::call_compiled`). The
/// caller's loop stays interpreted (its loops never count as hot and it
/// is entered once), its callees compile on their third call. What the
/// callee does must look the same as from the driver: results, a trap
/// (with both frames in the backtrace), an exception the interpreted
/// caller catches, memory the callee grows, and references the
/// interpreted frame holds while the callee collects.
#[test]
fn interpreted_callers_enter_compiled_callees_directly() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    let wat = r#"
    (module
      (type $box (struct (field i32)))
      (tag $e (param i32))
      (memory 1)
      (func $leaf (param i32) (result i32)
        (if (i32.eq (local.get 0) (i32.const 900)) (then (unreachable)))
        (if (i32.eq (local.get 0) (i32.const 901)) (then (throw $e (i32.const 7))))
        (i32.add (local.get 0) (i32.const 3)))
      (func $grow (param i32) (result i32)
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (local.get 0))
        (memory.size))
      (func $churn (param i32) (result i32)
        (local $k i32)
        (loop $l
          (drop (struct.new $box (i32.add (local.get $k) (i32.const 1000))))
          (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 50))))
        (local.get 0))
      (func (export "sum") (param $n i32) (param $bad i32) (result i32)
        (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (i32.add (local.get $acc)
            (call $leaf (select (local.get $bad) (local.get $i)
              (i32.eq (local.get $i) (i32.const 10))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (local.get $acc))
      (func (export "catching") (result i32)
        (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (i32.add (local.get $acc)
            (block $caught (result i32)
              (try_table (result i32) (catch $e $caught)
                (call $leaf (select (i32.const 901) (local.get $i)
                  (i32.eq (local.get $i) (i32.const 10))))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))
        (local.get $acc))
      (func (export "growing") (result i32)
        (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (i32.add (local.get $acc) (call $grow (local.get $i))))
          ;; The interpreted frame reads what the compiled callee wrote in
          ;; the page it added.
          (local.set $acc (i32.add (local.get $acc)
            (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 6))))
        (local.get $acc))
      (func (export "holding") (result i32)
        (local $b (ref null $box)) (local $i i32)
        (local.set $b (struct.new $box (i32.const 41)))
        (loop $l
          (drop (call $churn (local.get $i)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
        (i32.add (struct.get $box 0 (local.get $b)) (i32.const 1))))
    "#;
    let engine = make_engine(Tier::Tiered, (2, u32::MAX), |c| {
        c.wasm_gc(true).wasm_exceptions(true).gc_stress(true);
    });
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let sum = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sum")?;
    // 0 + 1 + ... + 19, plus 3 each.
    assert_eq!(sum.call(&mut store, (20, 10))?, 190 + 60);
    let err = sum.call(&mut store, (20, 900)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let trace = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let frames: Vec<u32> = trace.frames().iter().map(|f| f.func_index()).collect();
    assert_eq!(frames, [0, 3], "{err:?}");
    let catching = instance.get_typed_func::<(), i32>(&mut store, "catching")?;
    // 0 + ... + 19 without 10, plus 3 each, plus the 7 thrown.
    assert_eq!(catching.call(&mut store, ())?, 180 + 57 + 7);
    let growing = instance.get_typed_func::<(), i32>(&mut store, "growing")?;
    // Sizes 2..=7, plus the stored 0..=5.
    assert_eq!(growing.call(&mut store, ())?, 27 + 15);
    let holding = instance.get_typed_func::<(), i32>(&mut store, "holding")?;
    let before = store.gc_stats().collections;
    assert_eq!(holding.call(&mut store, ())?, 42);
    // Under `gc_stress` every allocation collects, the compiled ones too,
    // which the collector can do only with the interpreted frames published
    // (without them it skips collecting): 10 calls of 50 allocations.
    let collections = store.gc_stats().collections - before;
    assert!(collections >= 500, "{collections} collections");
    assert!(module.tiered_up().0 >= 3, "{:?}", module.tiered_up());
    Ok(())
}
