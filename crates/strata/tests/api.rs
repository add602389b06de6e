//! Tests of the embedding API: host functions, typed calls, memory access
//! through `Caller`, traps, linking errors, and bad input.

mod common;
use common::{tier_engine, tiers};

use anyhow::{anyhow, Result};
use strata::*;

fn engine(tier: Tier) -> Engine {
    tier_engine(tier)
}

fn linker_host_function_called_from_wasm_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "add3" (func $add3 (param i32 i32 i32) (result i32)))
            (func (export "run") (result i32)
              (call $add3 (i32.const 1) (i32.const 20) (i32.const 300))))"#,
    )?;
    let mut store = Store::new(&engine, Vec::new());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "add3",
        |mut caller: Caller<'_, Vec<(i32, i32, i32)>>, a: i32, b: i32, c: i32| {
            caller.data_mut().push((a, b, c));
            a + b + c
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 321);
    assert_eq!(store.data(), &[(1, 20, 300)]);
    Ok(())
}

fn func_wrap_as_positional_import_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "twice" (func $twice (param i64) (result i64)))
            (func (export "run") (param i64) (result i64) (call $twice (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let twice = Func::wrap(&mut store, |x: i64| x * 2);
    let instance = Instance::new(&mut store, &module, &[twice.into()])?;
    let run = instance.get_typed_func::<i64, i64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 21)?, 42);
    Ok(())
}

fn typed_export_and_mismatched_signature_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (func (export "sub") (param i32 i32) (result i32)
            (i32.sub (local.get 0) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let sub = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sub")?;
    assert_eq!(sub.call(&mut store, (10, 3))?, 7);
    let err = instance
        .get_typed_func::<(i64, i32), i32>(&mut store, "sub")
        .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    assert!(instance
        .get_typed_func::<(), ()>(&mut store, "nope")
        .is_err());
    Ok(())
}

fn caller_reads_and_writes_memory_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "upper" (func $upper (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello")
            (func (export "run") (call $upper (i32.const 16) (i32.const 5))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "upper",
        |mut caller: Caller<'_, ()>, ptr: i32, len: i32| {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| anyhow!("no memory"))?;
            let mut buf = vec![0; len as usize];
            memory.read(&caller, ptr as usize, &mut buf)?;
            buf.make_ascii_uppercase();
            memory.write(&mut caller, ptr as usize, &buf)?;
            memory.data_mut(&mut caller)[0] = b'!';
            Ok(())
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "run")?
        .call(&mut store, ())?;
    let memory = instance.get_memory(&store, "memory").unwrap();
    assert_eq!(&memory.data(&store)[16..21], b"HELLO");
    assert_eq!(memory.data(&store)[0], b'!');
    assert_eq!(memory.size(&store), 1);
    Ok(())
}

fn trap_of(tier: Tier, wat: &str, export: &str) -> anyhow::Error {
    let engine = engine(tier);
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&store, export).unwrap();
    f.call(&mut store, &[], &mut []).unwrap_err()
}

fn traps_have_kind_message_and_backtrace_in(tier: Tier) {
    let err = trap_of(
        tier,
        r#"(module
            (func $deep (unreachable))
            (func $run (export "run") (call $deep)))"#,
        "run",
    );
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    assert_eq!(Trap::UnreachableCodeReached.message(), "unreachable");
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("deep"), Some("run")]);

    let err = trap_of(
        tier,
        r#"(module (func (export "run") (drop (i32.div_u (i32.const 1) (i32.const 0)))))"#,
        "run",
    );
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    assert_eq!(err.root_cause().to_string(), "integer divide by zero");

    let err = trap_of(
        tier,
        r#"(module (memory 1) (func (export "run") (drop (i32.load (i32.const 65533)))))"#,
        "run",
    );
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));

    let err = trap_of(
        tier,
        r#"(module (func $f (export "run") (call $f)))"#,
        "run",
    );
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    assert_eq!(Trap::StackOverflow.message(), "call stack exhausted");
}

fn deep_recursion_is_bounded_by_the_configured_stack_in(tier: Tier) -> Result<()> {
    // The same recursion depth fits a large stack and traps on a small one.
    let wat = r#"(module (func $r (export "r") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))"#;
    for (stack, ok) in [(8 << 20, true), (64 << 10, false)] {
        let mut config = Config::new();
        config.tier(tier);
        config.max_wasm_stack(stack);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let r = instance.get_typed_func::<i32, i32>(&mut store, "r")?;
        match r.call(&mut store, 20_000) {
            Ok(v) => assert!(ok && v == 20_000),
            Err(e) => assert!(!ok && e.downcast_ref::<Trap>() == Some(&Trap::StackOverflow)),
        }
    }
    Ok(())
}

fn missing_imports_are_reported_with_module_name_and_type_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "f" (func (param i32) (result i64)))
            (import "env" "mem" (memory 1))
            (import "other" "g" (global (mut f32))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
    linker.define("env", "mem", mem)?;
    let err = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`env::f`") && err.contains("(func (param i32) (result i64))"),
        "{err}"
    );
    assert!(
        err.contains("`other::g`") && err.contains("(global (mut f32))"),
        "{err}"
    );
    assert!(!err.contains("env::mem"), "{err}");
    Ok(())
}

fn mistyped_import_is_rejected_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, r#"(module (import "env" "f" (func (param i32))))"#)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |_: i64| {})?;
    let err = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("incompatible import type for `env::f`"),
        "{err}"
    );
    Ok(())
}

#[derive(Debug, PartialEq)]
struct MyError(u32);
impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error {}", self.0)
    }
}
impl std::error::Error for MyError {}

fn host_errors_pass_through_unchanged_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (import "" "fail" (func $fail)) (func (export "run") (call $fail)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("", "fail", || -> Result<()> { Err(MyError(7).into()) })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let err = instance
        .get_typed_func::<(), ()>(&mut store, "run")?
        .call(&mut store, ())
        .unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(7)));
    assert!(err.downcast_ref::<Trap>().is_none());
    Ok(())
}

fn globals_tables_and_memory_growth_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (global (export "counter") (mut i32) (i32.const 5))
            (global (export "fixed") i64 (i64.const 9))
            (table (export "table") 2 4 funcref)
            (memory (export "memory") 1 2)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;

    let counter = instance.get_global(&store, "counter").unwrap();
    counter.set(&mut store, Val::I32(41))?;
    instance
        .get_typed_func::<(), ()>(&mut store, "bump")?
        .call(&mut store, ())?;
    assert_eq!(counter.get(&store).i32(), Some(42));
    let fixed = instance.get_global(&store, "fixed").unwrap();
    assert!(fixed.set(&mut store, Val::I64(1)).is_err());
    assert!(counter.set(&mut store, Val::I64(1)).is_err());

    let table = instance.get_table(&store, "table").unwrap();
    let grow = instance.get_func(&store, "grow").unwrap();
    table.set(&mut store, 1, Val::FuncRef(Some(grow)))?;
    assert!(matches!(table.get(&store, 1), Some(Val::FuncRef(Some(f))) if f == grow));
    assert_eq!(table.grow(&mut store, 2, Val::FuncRef(None))?, 2);
    assert!(table.grow(&mut store, 1, Val::FuncRef(None)).is_err());
    assert!(table.get(&store, 4).is_none());

    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 1)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1, "beyond the maximum");
    let memory = instance.get_memory(&store, "memory").unwrap();
    assert_eq!(memory.data_size(&store), 2 * 65536);
    assert!(memory.grow(&mut store, 1).is_err());
    Ok(())
}

fn dynamic_host_function_and_call_type_checks_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::F64, ValType::I32], [ValType::F64]);
    let f = Func::new(&mut store, ty, |_, args, results| {
        let (x, n) = (args[0].f64().unwrap(), args[1].i32().unwrap());
        results[0] = Val::from(x * f64::from(n));
        Ok(())
    });
    let mut out = [Val::F64(0)];
    f.call(&mut store, &[Val::from(1.5), Val::I32(4)], &mut out)?;
    assert_eq!(out[0].f64(), Some(6.0));
    assert!(f
        .call(&mut store, &[Val::I32(1), Val::I32(4)], &mut out)
        .is_err());
    assert!(f.call(&mut store, &[Val::from(1.5)], &mut out).is_err());
    Ok(())
}

fn failed_data_segment_keeps_earlier_effects_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let module = Module::new(
        &engine,
        r#"(module (import "" "mem" (memory 1))
            (data (i32.const 0) "ab")
            (data (i32.const 65535) "cd"))"#,
    )?;
    let err = Instance::new(&mut store, &module, &[memory.into()]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert_eq!(&memory.data(&store)[..2], b"ab");
    Ok(())
}

fn bad_modules_are_errors_not_panics_in(tier: Tier) {
    let engine = engine(tier);
    let valid =
        wat::parse_str(r#"(module (func (export "f") (result i32) (i32.const 1)))"#).unwrap();
    // Every truncation is rejected except those that end exactly on a
    // section boundary and still form a complete module (the bare header,
    // the header plus the type section).
    let accepted = (0..valid.len())
        .filter(|len| Module::new(&engine, &valid[..*len]).is_ok())
        .count();
    assert!(accepted <= 2, "{accepted} truncated prefixes were accepted");
    let err = Module::new(&engine, b"\0asm\x01\0\0\0\x0a\xff\xff").unwrap_err();
    assert!(format!("{err:#}").contains("offset"), "{err:#}");
    assert!(Module::new(&engine, "(module (func (result i32)))").is_err());
    assert!(Module::new(&engine, "not wasm at all").is_err());

    let mut config = Config::new();
    config.tier(tier);
    config.wasm_bulk_memory(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(
        &engine,
        r#"(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))"#,
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("bulk memory"), "{err:#}");
}

fn externrefs_round_trip_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (func (export "id") (param externref) (result externref) (local.get 0)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let r = ExternRef::new(&mut store, String::from("payload")).expect("room for a host reference");
    let id = instance.get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&mut store, "id")?;
    let back = id.call(&mut store, Some(r))?.expect("non-null");
    let data = back.data(&store).and_then(|d| d.downcast_ref::<String>());
    assert_eq!(data.map(String::as_str), Some("payload"));
    assert_eq!(id.call(&mut store, None)?, None);
    Ok(())
}

fn long_straight_line_code_runs_on_a_small_host_stack_in(tier: Tier) -> Result<()> {
    // The interpreter chains handlers with tail calls; if a handler did not
    // compile to a jump, a long run of straight-line code would grow the host
    // stack instruction by instruction: 100,000 instructions need at least
    // 800 KiB that way, more than this 256 KiB stack, so this fails if tail
    // calls regress.
    let mut body = String::from("(local.get 0)");
    for _ in 0..100_000 {
        body.push_str(" (i32.const 3) (i32.add)");
    }
    let wat = format!(
        r#"(module (func (export "f") (param i32) (result i32) {body})
            (func (export "spin") (param i32) (result i32) (local i32)
              (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
              (local.get 1)))"#
    );
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || -> Result<()> {
            let engine = tier_engine(tier);
            let module = Module::new(&engine, &wat)?;
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[])?;
            let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
            assert_eq!(f.call(&mut store, 1)?, 300_001);
            let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
            assert_eq!(spin.call(&mut store, 1_000_000)?, 1_000_000);
            Ok(())
        })?
        .join()
        .map_err(|_| anyhow!("the interpreter thread panicked"))?
}

fn host_reentry_recursion_traps_instead_of_overflowing_in(tier: Tier) -> Result<()> {
    // wasm -> host -> wasm -> host ... without end: each round uses host
    // stack, which must run out as a trap, on a thread with a small stack.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || -> Result<()> {
            let engine = tier_engine(tier);
            let module = Module::new(
                &engine,
                r#"(module (import "" "back" (func $back))
                    (func (export "go") (call $back)))"#,
            )?;
            let mut store = Store::new(&engine, None::<Func>);
            let back = Func::wrap(
                &mut store,
                |mut caller: Caller<'_, Option<Func>>| -> Result<()> {
                    let go = caller.data().expect("set before the call");
                    go.call(&mut caller, &[], &mut [])
                },
            );
            let instance = Instance::new(&mut store, &module, &[back.into()])?;
            let go = instance.get_func(&store, "go").unwrap();
            *store.data_mut() = Some(go);
            let err = go.call(&mut store, &[], &mut []).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
            Ok(())
        })?
        .join()
        .map_err(|_| anyhow!("the thread panicked"))?
}

/// Calls export `run` of `wat` and returns the trap's kind and the error.
fn trap_kind(tier: Tier, wat: &str) -> (Trap, anyhow::Error) {
    let err = trap_of(tier, wat, "run");
    let trap = *err
        .downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"));
    (trap, err)
}

fn trap_messages_through_downcast_in(tier: Tier) {
    let cases = [
        (
            r#"(module (func (export "run") unreachable))"#,
            Trap::UnreachableCodeReached,
            "unreachable",
        ),
        (
            r#"(module (func (export "run") (drop (i64.rem_s (i64.const 7) (i64.const 0)))))"#,
            Trap::IntegerDivisionByZero,
            "integer divide by zero",
        ),
        (
            r#"(module (func (export "run") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))))"#,
            Trap::IntegerOverflow,
            "integer overflow",
        ),
        (
            r#"(module (memory 1) (func (export "run") (i64.store (i32.const 65530) (i64.const 1))))"#,
            Trap::MemoryOutOfBounds,
            "out of bounds memory access",
        ),
        (
            r#"(module
                (func $f (param i32) (result i32)
                  (i32.add (local.get 0) (call $f (local.get 0))))
                (func (export "run") (drop (call $f (i32.const 1)))))"#,
            Trap::StackOverflow,
            "call stack exhausted",
        ),
        (
            r#"(module (table 1 funcref) (type $t (func))
                (func (export "run") (call_indirect (type $t) (i32.const 0))))"#,
            Trap::IndirectCallToNull,
            "uninitialized element",
        ),
        (
            r#"(module (table 1 funcref) (type $t (func))
                (func (export "run") (call_indirect (type $t) (i32.const 5))))"#,
            Trap::TableOutOfBounds,
            "undefined element: out of bounds table access",
        ),
        (
            r#"(module (func (export "run") (drop (i32.trunc_f32_s (f32.const nan)))))"#,
            Trap::BadConversionToInteger,
            "invalid conversion to integer",
        ),
    ];
    for (wat, kind, message) in cases {
        let (trap, err) = trap_kind(tier, wat);
        assert_eq!(trap, kind, "{wat}");
        assert_eq!(trap.message(), message);
        assert_eq!(err.root_cause().to_string(), message);
        assert!(format!("{err:?}").contains(message), "{err:?}");
    }
}

fn backtrace_display_names_functions_from_the_name_section_in(tier: Tier) {
    let err = trap_of(
        tier,
        r#"(module $m
            (memory 1)
            (func $load_it (param i32) (result i32) (i32.load (local.get 0)))
            (func $middle (result i32) (call $load_it (i32.const -1)))
            (func $entry (export "run") (drop (call $middle))))"#,
        "run",
    );
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("load_it"), Some("middle"), Some("entry")]);
    assert_eq!(bt.frames()[0].func_index(), 0);
    assert_eq!(bt.frames()[0].module_name(), Some("m"));
    let shown = bt.to_string();
    assert!(
        shown.contains("m!load_it") && shown.contains("m!entry"),
        "{shown}"
    );
    // Without a name section the frame shows the function index.
    let err = trap_of(tier, r#"(module (func (export "run") unreachable))"#, "run");
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    assert_eq!(bt.frames()[0].func_name(), None);
    assert!(bt.to_string().contains("<wasm function 0>"), "{bt}");
}

fn deep_recursion_backtrace_is_truncated_in(tier: Tier) {
    let err = trap_of(
        tier,
        r#"(module (func $f (export "run") (call $f)))"#,
        "run",
    );
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    assert!(bt.frames().len() <= WasmBacktrace::MAX_FRAMES);
    assert!(bt.omitted_frames() > 0, "{} frames", bt.frames().len());
}

fn anyhow_host_error_passes_through_unchanged_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (import "" "fail" (func $fail (param i32) (result i32)))
            (func (export "run") (result i32) (call $fail (i32.const 3))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("", "fail", |x: i32| -> Result<i32> {
        Err(anyhow!("custom {x}"))
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(err.root_cause().to_string(), "custom 3");
    assert!(err.downcast_ref::<Trap>().is_none());

    // The same through a dynamic host function, with the store still usable.
    let fail = Func::new(&mut store, FuncType::new([], []), |_, _, _| {
        Err(MyError(11).into())
    });
    let err = fail.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(11)));
    assert!(run.call(&mut store, ()).is_err());
    Ok(())
}

fn host_function_can_raise_a_trap_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (import "" "t" (func $t)) (func (export "run") (call $t)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let t = Func::wrap(&mut store, || -> Result<()> {
        Err(Trap::IntegerOverflow.into())
    });
    let instance = Instance::new(&mut store, &module, &[t.into()])?;
    let err = instance
        .get_typed_func::<(), ()>(&mut store, "run")?
        .call(&mut store, ())
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IntegerOverflow));
    Ok(())
}

fn host_memory_access_out_of_bounds_is_an_error_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "peek" (func $peek (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (param i32) (result i32) (call $peek (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "peek",
        |caller: Caller<'_, ()>, ptr: i32| -> Result<i32> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| anyhow!("no memory"))?;
            assert!(caller.get_export("nope").is_none());
            let mut buf = [0u8; 4];
            memory.read(&caller, ptr as u32 as usize, &mut buf)?;
            Ok(i32::from_le_bytes(buf) + memory.data(&caller).len() as i32)
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let memory = instance.get_memory(&store, "memory").unwrap();
    memory.write(&mut store, 8, &7i32.to_le_bytes())?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 8)?, 7 + 65536);
    let err = run.call(&mut store, 65533).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert!(memory.write(&mut store, 65535, &[1, 2]).is_err());
    assert!(memory.write(&mut store, usize::MAX, &[1]).is_err());
    let mut buf = [0u8; 2];
    assert!(memory.read(&store, 65535, &mut buf).is_err());
    Ok(())
}

fn typed_func_result_mismatch_and_wrong_result_count_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32) (result i64) (i64.extend_i32_s (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    assert_eq!(
        instance
            .get_typed_func::<i32, i64>(&mut store, "f")?
            .call(&mut store, -2)?,
        -2
    );
    assert!(instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .is_err());
    assert!(instance
        .get_typed_func::<(i32, i32), i64>(&mut store, "f")
        .is_err());
    assert!(instance
        .get_typed_func::<i32, (i64, i64)>(&mut store, "f")
        .is_err());
    let f = instance.get_func(&store, "f").unwrap();
    assert!(f.call(&mut store, &[Val::I32(1)], &mut []).is_err());
    assert!(f
        .call(&mut store, &[Val::I64(1)], &mut [Val::I64(0)])
        .is_err());
    Ok(())
}

fn wrong_positional_imports_are_rejected_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, r#"(module (import "" "f" (func (param i32))))"#)?;
    let mut store = Store::new(&engine, ());
    assert!(Instance::new(&mut store, &module, &[]).is_err());
    let wrong = Func::wrap(&mut store, |_: f32| {});
    assert!(Instance::new(&mut store, &module, &[wrong.into()]).is_err());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    assert!(Instance::new(&mut store, &module, &[memory.into()]).is_err());
    let right = Func::wrap(&mut store, |_: i32| {});
    assert!(Instance::new(&mut store, &module, &[right.into(), right.into()]).is_err());
    Instance::new(&mut store, &module, &[right.into()])?;
    Ok(())
}

fn start_function_trap_fails_instantiation_in(tier: Tier) -> Result<()> {
    let engine = engine(tier);
    let module = Module::new(&engine, r#"(module (func $s unreachable) (start $s))"#)?;
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    Ok(())
}

fn malformed_and_invalid_modules_explain_themselves_in(tier: Tier) {
    let engine = engine(tier);
    let check = |bytes: &[u8], needle: &str| {
        let err = Module::from_binary(&engine, bytes).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains(needle), "expected {needle:?} in {text:?}");
    };
    // Bad magic / version / truncated header.
    check(b"\0asn\x01\0\0\0", "magic");
    check(b"\0asm\x02\0\0\0", "version");
    check(b"\0as", "offset");
    // Binary garbage after a valid header.
    check(b"\0asm\x01\0\0\0\xde\xad\xbe\xef\x01\x02", "offset");
    // A section whose declared size runs past the end of the input.
    check(b"\0asm\x01\0\0\0\x01\x7f\x00", "offset");
    // Validation errors: a type mismatch in a function body.
    let invalid = wat::parse_str(r#"(module (func (result i32) (i64.const 1)))"#).unwrap();
    check(&invalid, "type mismatch");
    check(&invalid, "offset");
    // An undefined function index in a call.
    let invalid = wat::parse_str(r#"(module (func (call 0)))"#).unwrap();
    let mut patched = invalid.clone();
    // `call 0` is `10 00`; make it `call 9` which does not exist.
    let pos = patched.windows(2).rposition(|w| w == [0x10, 0x00]).unwrap();
    patched[pos + 1] = 9;
    check(&patched, "offset");
    // `Module::new` treats input without the wasm magic as text: garbage
    // and text that is not wat are errors with a position, not panics.
    let err = Module::new(&engine, b"\0asn\x01\0\0\0").unwrap_err();
    assert!(format!("{err:#}").contains("1:1"), "{err:#}");
    let err = Module::new(&engine, "(module (func (i32.frobnicate)))").unwrap_err();
    assert!(format!("{err:#}").contains("frobnicate"), "{err:#}");
}

fn random_garbage_never_panics_in(tier: Tier) {
    let engine = engine(tier);
    let valid = wat::parse_str(
        r#"(module (memory 1) (global (mut i32) (i32.const 0))
            (func (export "f") (param i32) (result i32)
              (i32.add (local.get 0) (i32.load (i32.const 0))))
            (data (i32.const 0) "abc"))"#,
    )
    .unwrap();
    // Flip every byte of a valid module to several values: each result must
    // be an `Ok` or an `Err`, never a panic.
    let mut rejected = 0;
    for i in 0..valid.len() {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bytes = valid.clone();
            if bytes[i] == v {
                continue;
            }
            bytes[i] = v;
            if Module::new(&engine, &bytes).is_err() {
                rejected += 1;
            }
        }
    }
    assert!(rejected > 0);
}

#[test]
fn linker_host_function_called_from_wasm() -> Result<()> {
    for tier in tiers() {
        linker_host_function_called_from_wasm_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn func_wrap_as_positional_import() -> Result<()> {
    for tier in tiers() {
        func_wrap_as_positional_import_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn typed_export_and_mismatched_signature() -> Result<()> {
    for tier in tiers() {
        typed_export_and_mismatched_signature_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn caller_reads_and_writes_memory() -> Result<()> {
    for tier in tiers() {
        caller_reads_and_writes_memory_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn traps_have_kind_message_and_backtrace() {
    for tier in tiers() {
        traps_have_kind_message_and_backtrace_in(tier);
    }
}

#[test]
fn deep_recursion_is_bounded_by_the_configured_stack() -> Result<()> {
    for tier in tiers() {
        deep_recursion_is_bounded_by_the_configured_stack_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn missing_imports_are_reported_with_module_name_and_type() -> Result<()> {
    for tier in tiers() {
        missing_imports_are_reported_with_module_name_and_type_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn mistyped_import_is_rejected() -> Result<()> {
    for tier in tiers() {
        mistyped_import_is_rejected_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn host_errors_pass_through_unchanged() -> Result<()> {
    for tier in tiers() {
        host_errors_pass_through_unchanged_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn globals_tables_and_memory_growth() -> Result<()> {
    for tier in tiers() {
        globals_tables_and_memory_growth_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn dynamic_host_function_and_call_type_checks() -> Result<()> {
    for tier in tiers() {
        dynamic_host_function_and_call_type_checks_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn failed_data_segment_keeps_earlier_effects() -> Result<()> {
    for tier in tiers() {
        failed_data_segment_keeps_earlier_effects_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn bad_modules_are_errors_not_panics() {
    for tier in tiers() {
        bad_modules_are_errors_not_panics_in(tier);
    }
}

#[test]
fn externrefs_round_trip() -> Result<()> {
    for tier in tiers() {
        externrefs_round_trip_in(tier).map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn long_straight_line_code_runs_on_a_small_host_stack() -> Result<()> {
    for tier in tiers() {
        long_straight_line_code_runs_on_a_small_host_stack_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn host_reentry_recursion_traps_instead_of_overflowing() -> Result<()> {
    for tier in tiers() {
        host_reentry_recursion_traps_instead_of_overflowing_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn trap_messages_through_downcast() {
    for tier in tiers() {
        trap_messages_through_downcast_in(tier);
    }
}

#[test]
fn backtrace_display_names_functions_from_the_name_section() {
    for tier in tiers() {
        backtrace_display_names_functions_from_the_name_section_in(tier);
    }
}

#[test]
fn deep_recursion_backtrace_is_truncated() {
    for tier in tiers() {
        deep_recursion_backtrace_is_truncated_in(tier);
    }
}

#[test]
fn anyhow_host_error_passes_through_unchanged() -> Result<()> {
    for tier in tiers() {
        anyhow_host_error_passes_through_unchanged_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn host_function_can_raise_a_trap() -> Result<()> {
    for tier in tiers() {
        host_function_can_raise_a_trap_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn host_memory_access_out_of_bounds_is_an_error() -> Result<()> {
    for tier in tiers() {
        host_memory_access_out_of_bounds_is_an_error_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn typed_func_result_mismatch_and_wrong_result_count() -> Result<()> {
    for tier in tiers() {
        typed_func_result_mismatch_and_wrong_result_count_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn wrong_positional_imports_are_rejected() -> Result<()> {
    for tier in tiers() {
        wrong_positional_imports_are_rejected_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn start_function_trap_fails_instantiation() -> Result<()> {
    for tier in tiers() {
        start_function_trap_fails_instantiation_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn malformed_and_invalid_modules_explain_themselves() {
    for tier in tiers() {
        malformed_and_invalid_modules_explain_themselves_in(tier);
    }
}

#[test]
fn random_garbage_never_panics() {
    for tier in tiers() {
        random_garbage_never_panics_in(tier);
    }
}

#[test]
fn disabled_proposals_are_named_with_their_switch() -> Result<()> {
    // Relaxed SIMD is on by default and needs SIMD, so switching SIMD off
    // alone is a configuration error (as in wasmtime).
    let err = Engine::new(Config::new().wasm_simd(false)).unwrap_err();
    assert!(
        format!("{err}").contains("Config::wasm_relaxed_simd"),
        "{err}"
    );
    let engine = Engine::new(Config::new().wasm_relaxed_simd(false).wasm_simd(false))?;
    let err = Module::new(&engine, "(module (func (param v128)))").unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("`simd` proposal") && message.contains("Config::wasm_simd"),
        "{message}"
    );
    // A proposal whose prerequisite is off is a configuration error.
    let err = Engine::new(Config::new().wasm_gc(true).wasm_function_references(false)).unwrap_err();
    assert!(
        format!("{err}").contains("wasm_function_references"),
        "{err}"
    );
    // `set_feature` brings prerequisites along, and rejects unknown names.
    let mut config = Config::new();
    config
        .wasm_reference_types(false)
        .set_feature("gc", true)
        .map_err(|e| anyhow!(e))?;
    Engine::new(&config)?;
    assert!(Config::new().set_feature("frobnicate", true).is_err());
    Ok(())
}

#[test]
fn wasm_stack_limits_the_host_cannot_honour_are_rejected() {
    // Nothing can hold a stack of more bytes than the address space has.
    for bytes in [0, usize::MAX, usize::MAX / 2 + 1] {
        let err = Engine::new(Config::new().max_wasm_stack(bytes)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("max_wasm_stack") && message.contains(&bytes.to_string()),
            "{message}"
        );
    }
}

fn huge_wasm_stack_limit_is_a_limit_not_an_allocation_in(tier: Tier) -> Result<()> {
    // One TiB is more than this machine has, but as a limit it only means
    // that recursion stops at the call depth limit instead.
    let mut config = Config::new();
    config.tier(tier).max_wasm_stack(1 << 40);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
            (func $r (export "r") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
                (else (i32.add (local.get 0) (call $r (i32.sub (local.get 0) (i32.const 1)))))))
            (func $forever (export "forever") (call $forever)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let r = instance.get_typed_func::<i32, i32>(&mut store, "r")?;
    assert_eq!(r.call(&mut store, 1000)?, 500_500);
    let forever = instance.get_typed_func::<(), ()>(&mut store, "forever")?;
    let err = forever.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    Ok(())
}

#[test]
fn huge_wasm_stack_limit_is_a_limit_not_an_allocation() -> Result<()> {
    for tier in tiers() {
        huge_wasm_stack_limit_is_a_limit_not_an_allocation_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

fn values_survive_the_stack_growing_under_them_in(tier: Tier) -> Result<()> {
    // Deep recursion whose frames keep live values across calls of every
    // kind (direct, indirect, to the host, with several results): the
    // interpreter's stack starts small and grows while they wait.
    let engine = engine(tier);
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "host" (func $host (param i32) (result i32)))
            (type $t (func (param i32) (result i32 i64)))
            (table 1 funcref)
            (elem (i32.const 0) $r)
            (func $r (type $t) (param $n i32) (result i32 i64)
              (local $a i64) (local $b i32)
              (if (result i32 i64) (i32.eqz (local.get $n))
                (then (i32.const 0) (i64.const 0))
                (else
                  (local.set $a (i64.extend_i32_u (local.get $n)))
                  (local.set $b (call $host (local.get $n)))
                  (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))
                  (local.get $a) (i64.add)
                  (local.set $a)
                  (local.get $b) (i32.add)
                  (local.get $a))))
            (func (export "run") (param i32) (result i32 i64) (call $r (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let host = Func::wrap(&mut store, |x: i32| x * 2);
    let instance = Instance::new(&mut store, &module, &[host.into()])?;
    let run = instance.get_typed_func::<i32, (i32, i64)>(&mut store, "run")?;
    for n in [10, 3000, 8000] {
        let sum = i64::from(n) * i64::from(n + 1) / 2;
        assert_eq!(run.call(&mut store, n)?, (2 * sum as i32, sum), "n = {n}");
    }
    Ok(())
}

#[test]
fn values_survive_the_stack_growing_under_them() -> Result<()> {
    for tier in tiers() {
        values_survive_the_stack_growing_under_them_in(tier)
            .map_err(|e| e.context(format!("in tier {tier:?}")))?;
    }
    Ok(())
}

#[test]
fn memory_and_table_types_keep_their_flags_and_sizes() -> Result<()> {
    let big = 1_u64 << 40;
    for tier in tiers() {
        let mut config = Config::new();
        config
            .tier(tier)
            .wasm_memory64(true)
            .wasm_threads(true)
            .wasm_multi_memory(true);
        let engine = Engine::new(&config)?;
        // A module's 64-bit memories and tables keep their types.
        let module = Module::new(
            &engine,
            r#"(module (memory (export "shared") 1 2 shared)
                (memory (export "m64") i64 1 5) (table (export "t64") i64 2 7 funcref))"#,
        )?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let m64 = instance.get_memory(&store, "m64").expect("exported");
        assert_eq!(m64.ty(&store), MemoryType::new64(1, Some(5)));
        let t64 = instance.get_table(&store, "t64").expect("exported");
        assert_eq!(
            t64.ty(&store),
            TableType::new64(RefType::FUNCREF, 2, Some(7))
        );
        // A shared memory is exported as a `SharedMemory`, never as a
        // store `Memory`.
        assert!(instance.get_memory(&store, "shared").is_none());
        let shared = instance
            .get_shared_memory(&store, "shared")
            .expect("exported");
        let ty = shared.ty();
        assert!(ty.is_shared() && !ty.is_64());
        assert_eq!((ty.minimum(), ty.maximum()), (1, Some(2)));
        assert_eq!(ty.to_string(), "(memory 1 2 shared)");
        assert_eq!(
            MemoryType::new64(1, Some(big)).to_string(),
            format!("(memory i64 1 {big})")
        );
        assert_eq!(
            TableType::new64(RefType::FUNCREF, 1, Some(big)).to_string(),
            format!("(table i64 1 {big} funcref)")
        );

        // The same types made through the API.
        let m = Memory::new(&mut store, MemoryType::new64(2, Some(big)))?;
        assert_eq!(m.ty(&store), MemoryType::new64(2, Some(big)));
        let err = Memory::new(&mut store, MemoryType::shared(1, 3)).unwrap_err();
        assert!(err.to_string().contains("SharedMemory"), "{err}");
        let m = strata::SharedMemory::new(&engine, MemoryType::shared(1, 3))?;
        assert_eq!(m.ty(), MemoryType::shared(1, 3));
        let ty = TableType::new64(RefType::FUNCREF, 3, Some(big));
        let t = Table::new(&mut store, ty, Val::FuncRef(None))?;
        assert_eq!(t.ty(&store), ty);

        // A 64-bit table does not satisfy a 32-bit table import.
        let importer = Module::new(&engine, r#"(module (import "" "t" (table 1 funcref)))"#)?;
        let err = Instance::new(&mut store, &importer, &[t.into()]).unwrap_err();
        assert!(
            err.to_string().contains("incompatible import type"),
            "{err}"
        );
    }
    // Without their proposals the engine refuses such memories and tables.
    let mut config = Config::new();
    config.wasm_memory64(false);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    let err = Memory::new(&mut store, MemoryType::new(1, None).with_page_size_log2(0)).unwrap_err();
    assert!(err.to_string().contains("wasm_custom_page_sizes"), "{err}");
    let err = Memory::new(&mut store, MemoryType::new64(1, None)).unwrap_err();
    assert!(err.to_string().contains("wasm_memory64"), "{err}");
    let err = strata::SharedMemory::new(&engine, MemoryType::shared(1, 1)).unwrap_err();
    assert!(err.to_string().contains("wasm_threads"), "{err}");
    let ty = TableType::new64(RefType::FUNCREF, 1, None);
    let err = Table::new(&mut store, ty, Val::FuncRef(None)).unwrap_err();
    assert!(err.to_string().contains("wasm_memory64"), "{err}");
    Ok(())
}

/// `Linker::instantiate_pre` resolves names once; the result instantiates
/// in many stores (host functions created in each), reports undefined
/// imports up front and mistyped ones when instantiating.
#[test]
fn instance_pre_instantiates_in_many_stores() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "count" (func $count (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello")
            (func (export "run") (result i32) (call $count)))"#,
    )?;
    let mut linker = Linker::<i32>::new(&engine);
    linker.func_wrap("host", "count", |mut caller: Caller<'_, i32>| {
        *caller.data_mut() += 1;
        *caller.data()
    })?;
    let pre = linker.instantiate_pre(&module)?;
    for start in [0, 100] {
        let mut store = Store::new(&engine, start);
        let instance = pre.instantiate(&mut store)?;
        let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, ())?, start + 1);
        assert_eq!(run.call(&mut store, ())?, start + 2);
        let memory = instance.get_memory(&mut store, "memory").expect("memory");
        assert_eq!(&memory.data(&store)[16..21], b"hello");
    }
    let empty = Linker::<i32>::new(&engine);
    let err = empty.instantiate_pre(&module).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown import: `host::count` has not been defined"),
        "{err}"
    );
    let mut wrong = Linker::<i32>::new(&engine);
    wrong.func_wrap("host", "count", |x: i32| x)?;
    let pre = wrong.instantiate_pre(&module)?;
    let mut store = Store::new(&engine, 0);
    let err = pre.instantiate(&mut store).unwrap_err();
    assert!(
        err.to_string()
            .contains("incompatible import type for `host::count`"),
        "{err}"
    );
    Ok(())
}
