//! Exception handling in the interpreter: `throw`, `throw_ref` and
//! `try_table` within a function, across many frames, through host
//! functions (a host function that throws, wasm called from a host function
//! that throws to the outer wasm), uncaught exceptions as a typed error
//! naming the tag, payloads of every type, the fuel the model charges, and
//! the legacy instructions behind their own switch (in every tier).
//!
//! Expected values follow the exception-handling specification: a
//! `catch $t L` branches to `L` with the payload, `catch_ref` adds the
//! exnref, `catch_all` passes nothing, a handler catches only exceptions
//! raised inside its block, the innermost first.

use anyhow::Result;
use strata::*;

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.tier(Tier::Interp).wasm_exceptions(true);
    configure(&mut config);
    Engine::new(&config).expect("engine")
}

fn instance(engine: &Engine, wat: &str) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, wat)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

const BASICS: &str = r#"(module
    (tag $e (export "e") (param i32))
    (tag $f (param i32 i64))
    (tag $empty)
    (func (export "same-function") (param i32) (result i32)
        (block $h (result i32)
            (try_table (catch $e $h)
                (throw $e (local.get 0)))
            (unreachable)))
    ;; Throws after `n` nested calls; the frames between are interpreted.
    (func $deep (export "deep") (param $n i32)
        (if (i32.eqz (local.get $n))
            (then (throw $e (i32.const 42))))
        (call $deep (i32.sub (local.get $n) (i32.const 1))))
    ;; The catching frame's locals survive the unwinding.
    (func (export "catch-deep") (param $n i32) (result i32)
        (local $keep i32)
        (local.set $keep (i32.const 1000))
        (block $h (result i32)
            (try_table (catch $e $h)
                (call $deep (local.get $n)))
            (i32.const -1))
        (i32.add (local.get $keep)))
    ;; The innermost handler that matches catches: $f passes the inner
    ;; handler (which only catches $e) to the outer one.
    (func (export "inner-outer") (param i32) (result i32)
        (block $outer (result i32 i64)
            (block $inner (result i32)
                (try_table (catch $e $inner)
                    (try_table (catch $f $outer)
                        (if (local.get 0)
                            (then (throw $e (i32.const 1)))
                            (else (throw $f (i32.const 2) (i64.const 7))))))
                (unreachable))
            (return (i32.add (i32.const 10))))
        (drop)
        (i32.const 20)
        (i32.add))
    ;; catch_ref then throw_ref rethrows the same exception; catch_all
    ;; catches anything.
    (func (export "rethrow") (result i32)
        (block $h (result i32)
            (try_table (catch $e $h)
                (block $r (result i32 exnref)
                    (try_table (catch_ref $e $r)
                        (throw $e (i32.const 5)))
                    (unreachable))
                (throw_ref))
            (unreachable)))
    (func (export "catch-all") (result i32)
        (block $h
            (try_table (catch_all $h)
                (throw $empty))
            (return (i32.const 0)))
        (i32.const 1))
    (func (export "throw-null") (throw_ref (ref.null exn)))
    ;; A loop label: the handler branches back to the loop's start with
    ;; its parameter, counting down to 0.
    (func (export "loop-catch") (param $n i32) (result i32)
        (local $count i32)
        (local.get $n)
        (loop $l (param i32)
            (local.set $n)
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (if (local.get $n)
                (then
                    (try_table (catch $e $l)
                        (throw $e (i32.sub (local.get $n) (i32.const 1)))))))
        (local.get $count))
    (func (export "uncaught") (param i32) (throw $e (local.get 0)))
)"#;

#[test]
fn throw_and_catch_in_the_interpreter() -> Result<()> {
    let engine = engine(|_| {});
    let (mut store, i) = instance(&engine, BASICS)?;
    let same = i.get_typed_func::<i32, i32>(&store, "same-function")?;
    assert_eq!(same.call(&mut store, 7)?, 7);
    let deep = i.get_typed_func::<i32, i32>(&store, "catch-deep")?;
    assert_eq!(deep.call(&mut store, 0)?, 1042);
    assert_eq!(deep.call(&mut store, 10_000)?, 1042);
    let inner_outer = i.get_typed_func::<i32, i32>(&store, "inner-outer")?;
    assert_eq!(inner_outer.call(&mut store, 1)?, 11);
    assert_eq!(inner_outer.call(&mut store, 0)?, 22);
    let rethrow = i.get_typed_func::<(), i32>(&store, "rethrow")?;
    assert_eq!(rethrow.call(&mut store, ())?, 5);
    let all = i.get_typed_func::<(), i32>(&store, "catch-all")?;
    assert_eq!(all.call(&mut store, ())?, 1);
    let looped = i.get_typed_func::<i32, i32>(&store, "loop-catch")?;
    // n = 3, 2, 1, 0: four passes through the loop body.
    assert_eq!(looped.call(&mut store, 3)?, 4);
    let null = i.get_typed_func::<(), ()>(&store, "throw-null")?;
    let err = null.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::NullReference));
    // A handled exception leaves nothing pending.
    assert!(!store.has_pending_exception());
    Ok(())
}

#[test]
fn an_uncaught_exception_is_a_typed_error_naming_the_tag() -> Result<()> {
    let engine = engine(|_| {});
    let (mut store, i) = instance(&engine, BASICS)?;
    let f = i.get_typed_func::<i32, ()>(&store, "uncaught")?;
    let err = f.call(&mut store, 7).unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("uncaught WebAssembly exception"), "{msg}");
    assert!(msg.contains("tag `e`"), "{msg}");
    assert!(msg.contains("i32 7"), "{msg}");
    assert!(err.downcast_ref::<Trap>().is_none());
    let exn = store.take_pending_exception().expect("pending exception");
    assert!(!store.has_pending_exception());
    let tag = i.get_tag(&store, "e").expect("tag e");
    assert!(Tag::eq(&exn.tag(&store)?, &tag, &store));
    assert_eq!(exn.fields(&store)?, [Val::I32(7)]);
    assert_eq!(exn.field(&store, 0)?, Val::I32(7));
    assert!(exn.field(&store, 1).is_err());
    // Deep in the stack, the same.
    let deep = i.get_typed_func::<i32, ()>(&store, "deep")?;
    let err = deep.call(&mut store, 500).unwrap_err();
    assert!(err.is::<ThrownException>());
    assert!(err.to_string().contains("i32 42"), "{err}");
    // Afterwards the store runs wasm normally.
    let same = i.get_typed_func::<i32, i32>(&store, "same-function")?;
    assert_eq!(same.call(&mut store, 3)?, 3);
    Ok(())
}

#[test]
fn an_unexported_tag_is_named_by_its_index() -> Result<()> {
    let engine = engine(|_| {});
    let (mut store, i) = instance(
        &engine,
        r#"(module (tag) (tag $t (param f64))
            (func (export "f") (throw $t (f64.const 2.5))))"#,
    )?;
    let err = i
        .get_typed_func::<(), ()>(&store, "f")?
        .call(&mut store, ())
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("tag 1"), "{msg}");
    assert!(msg.contains("f64 2.5"), "{msg}");
    Ok(())
}

/// Every value type as a payload, caught in wasm and returned, and read by
/// the host from an uncaught exception.
#[test]
fn payloads_of_every_type_survive() -> Result<()> {
    let engine = engine(|_| {});
    let wat = r#"(module
        (tag $all (export "all") (param i32 i64 f32 f64 v128 externref funcref))
        (func $g (export "g"))
        (func $throw (param i32 i64 f32 f64 v128 externref funcref)
            (throw $all (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                        (local.get 4) (local.get 5) (local.get 6)))
        (func (export "roundtrip") (param i32 i64 f32 f64 v128 externref funcref)
            (result i32 i64 f32 f64 v128 externref funcref)
            (try_table (catch $all 0)
                (call $throw (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                             (local.get 4) (local.get 5) (local.get 6)))
            (unreachable))
        (func (export "uncaught") (param i32 i64 f32 f64 v128 externref funcref)
            (call $throw (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                         (local.get 4) (local.get 5) (local.get 6))))"#;
    let (mut store, i) = instance(&engine, wat)?;
    let g = i.get_func(&store, "g").expect("g");
    let host = ExternRef::new(&mut store, 17u32).expect("room for a host reference");
    let v128 = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128;
    let args = [
        Val::I32(-3),
        Val::I64(i64::MIN + 5),
        Val::F32(f32::NAN.to_bits() | 0x55),
        Val::F64(1.5f64.to_bits()),
        Val::V128(v128),
        Val::ExternRef(Some(host)),
        Val::FuncRef(Some(g)),
    ];
    let mut results = [Val::I32(0); 7];
    let roundtrip = i.get_func(&store, "roundtrip").expect("roundtrip");
    roundtrip.call(&mut store, &args, &mut results)?;
    assert_eq!(results, args);
    let uncaught = i.get_func(&store, "uncaught").expect("uncaught");
    let err = uncaught.call(&mut store, &args, &mut []).unwrap_err();
    assert!(err.is::<ThrownException>());
    assert!(
        err.to_string()
            .contains("v128 0x00112233445566778899aabbccddeeff"),
        "{err}"
    );
    let exn = store.take_pending_exception().expect("pending");
    assert_eq!(exn.fields(&store)?, args);
    Ok(())
}

const HOST: &str = r#"(module
    (import "host" "tag" (tag $e (param i32)))
    (import "host" "throws" (func $throws (param i32)))
    (import "host" "calls-back" (func $calls_back (param i32)))
    (func (export "inner") (param i32)
        (throw $e (i32.mul (local.get 0) (i32.const 2))))
    (func (export "catch-host") (param i32) (result i32)
        (block $h (result i32)
            (try_table (catch $e $h)
                (call $throws (local.get 0)))
            (i32.const -1)))
    (func (export "catch-through-host") (param i32) (result i32)
        (block $h (result i32)
            (try_table (catch $e $h)
                (call $calls_back (local.get 0)))
            (i32.const -1)))
    (func (export "uncaught-from-host") (param i32) (call $throws (local.get 0)))
)"#;

/// A host function that throws (caught by the wasm that called it), and a
/// wasm function called from a host function that throws to the wasm
/// around the host function.
#[test]
fn exceptions_cross_host_functions() -> Result<()> {
    let engine = engine(|_| {});
    let module = Module::new(&engine, HOST)?;
    let mut store = Store::new(&engine, ());
    let tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], [])))?;
    let mut linker = Linker::new(&engine);
    linker.define("host", "tag", tag)?;
    linker.func_wrap(
        "host",
        "throws",
        move |mut caller: Caller<'_, ()>, x: i32| -> Result<()> {
            let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(x + 1)])?;
            Ok(caller.throw(exn)?)
        },
    )?;
    linker.func_wrap(
        "host",
        "calls-back",
        |mut caller: Caller<'_, ()>, x: i32| -> Result<()> {
            let Some(Extern::Func(inner)) = caller.get_export("inner") else {
                anyhow::bail!("no inner");
            };
            let err = inner
                .call(&mut caller, &[Val::I32(x)], &mut [])
                .unwrap_err();
            // The inner call's exception is uncaught there, pending here.
            assert!(err.is::<ThrownException>());
            assert!(caller.has_pending_exception());
            Err(err)
        },
    )?;
    let i = linker.instantiate(&mut store, &module)?;
    let catch_host = i.get_typed_func::<i32, i32>(&store, "catch-host")?;
    assert_eq!(catch_host.call(&mut store, 4)?, 5);
    let through = i.get_typed_func::<i32, i32>(&store, "catch-through-host")?;
    assert_eq!(through.call(&mut store, 4)?, 8);
    assert!(!store.has_pending_exception());
    let uncaught = i.get_typed_func::<i32, ()>(&store, "uncaught-from-host")?;
    let err = uncaught.call(&mut store, 1).unwrap_err();
    assert!(err.is::<ThrownException>());
    // The host's tag is exported by no instance: named by its index in
    // the instance that imports it.
    assert!(
        err.to_string().contains("tag 0 with payload (i32 2)"),
        "{err}"
    );
    // ExnRef::new checks its fields against the tag.
    assert!(ExnRef::new(&mut store, &tag, &[]).is_err());
    assert!(ExnRef::new(&mut store, &tag, &[Val::I64(1)]).is_err());
    Ok(())
}

/// Tags are generative: an exception of one instance's tag is not caught
/// by another instance's `catch` of "the same" tag, but by `catch_all`;
/// importing the tag shares it.
#[test]
fn handlers_catch_by_tag_identity() -> Result<()> {
    let engine = engine(|_| {});
    let thrower = Module::new(
        &engine,
        r#"(module (tag $e (export "e") (param i32))
            (func (export "throw") (throw $e (i32.const 9))))"#,
    )?;
    let catcher = Module::new(
        &engine,
        r#"(module
            (import "m" "e" (tag $e (param i32)))
            (import "m" "throw" (func $throw))
            (func (export "catch") (result i32)
                (block $all
                    (block $h (result i32)
                        (try_table (catch $e $h) (catch_all $all) (call $throw))
                        (unreachable))
                    (return))
                (i32.const -1)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let a = Instance::new(&mut store, &thrower, &[])?;
    let b = Instance::new(&mut store, &thrower, &[])?;
    let e_a: Extern = a.get_tag(&store, "e").expect("e").into();
    let throw_a: Extern = a.get_func(&store, "throw").expect("throw").into();
    let throw_b: Extern = b.get_func(&store, "throw").expect("throw").into();
    let same = Instance::new(&mut store, &catcher, &[e_a.clone(), throw_a])?;
    let other = Instance::new(&mut store, &catcher, &[e_a, throw_b])?;
    let f = same.get_typed_func::<(), i32>(&store, "catch")?;
    assert_eq!(f.call(&mut store, ())?, 9);
    let f = other.get_typed_func::<(), i32>(&store, "catch")?;
    assert_eq!(f.call(&mut store, ())?, -1);
    Ok(())
}

/// The fuel model (`runtime/fuel.rs`): `try_table`, `throw` and
/// `throw_ref` cost 1 each, catching costs nothing more.
#[test]
fn exceptions_consume_the_fuel_the_model_says() -> Result<()> {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let (mut store, i) = instance(
        &engine,
        r#"(module (tag $e (param i32))
            (func (export "f") (result i32)
                (block $h (result i32)
                    (try_table (result i32) (catch $e $h)
                        (throw $e (i32.const 3)))))
            (func (export "g") (result i32)
                (block $h (result i32)
                    (try_table (catch $e $h)
                        (block $r (result i32 exnref)
                            (try_table (catch_ref $e $r)
                                (throw $e (i32.const 4)))
                            (unreachable))
                        (throw_ref))
                    (unreachable))
                (i32.const 1)
                (i32.add)))"#,
    )?;
    let f = i.get_typed_func::<(), i32>(&store, "f")?;
    store.set_fuel(100)?;
    assert_eq!(f.call(&mut store, ())?, 3);
    // try_table; i32.const, throw.
    assert_eq!(store.get_fuel()?, 100 - 3);
    let g = i.get_typed_func::<(), i32>(&store, "g")?;
    store.set_fuel(100)?;
    assert_eq!(g.call(&mut store, ())?, 5);
    // try_table; try_table; i32.const, throw; throw_ref; i32.const, add.
    assert_eq!(store.get_fuel()?, 100 - 7);
    // Out of fuel in the handler's code: the trap, not the exception.
    store.set_fuel(6)?;
    let err = g.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));

    // Legacy: `try` and `rethrow` cost 1, `catch` nothing; translated
    // eagerly, as the metered spec configuration does.
    let legacy = crate::engine(|c| {
        c.consume_fuel(true)
            .wasm_legacy_exceptions(true)
            .lazy_translation(false);
    });
    let (mut store, i) = instance(
        &legacy,
        r#"(module (tag $e (param i32))
            (func $throw (param i32) (throw $e (local.get 0)))
            (func (export "f") (result i32)
                try (result i32)
                    try (result i32)
                        i32.const 1
                        call $throw
                        i32.const 0
                    catch $e
                        rethrow 0
                    end
                catch $e
                    i32.const 100
                    i32.add
                end))"#,
    )?;
    let f = i.get_typed_func::<(), i32>(&store, "f")?;
    store.set_fuel(100)?;
    assert_eq!(f.call(&mut store, ())?, 101);
    // try; try; i32.const, call; local.get, throw; rethrow; i32.const, add.
    assert_eq!(store.get_fuel()?, 100 - 9);
    Ok(())
}

/// A trap after a caught exception still has its backtrace, and an
/// exception thrown with the wasm stack nearly exhausted unwinds fine.
#[test]
fn backtraces_and_stack_limits_keep_working() -> Result<()> {
    let engine = engine(|c| {
        c.max_wasm_stack(64 << 10);
    });
    let (mut store, i) = instance(
        &engine,
        r#"(module (tag $e)
            (func $down (export "down") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0))
                    (then (throw $e))
                    (else (i32.add (i32.const 1)
                        (call $down (i32.sub (local.get 0) (i32.const 1)))))))
            (func $trap (unreachable))
            (func (export "catch-then-trap") (param i32) (result i32)
                (block $h
                    (try_table (catch $e $h)
                        (drop (call $down (local.get 0)))))
                (call $trap)
                (i32.const 0)))"#,
    )?;
    let f = i.get_typed_func::<i32, i32>(&store, "catch-then-trap")?;
    let err = f.call(&mut store, 100).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let bt = err.downcast_ref::<WasmBacktrace>().expect("backtrace");
    assert_eq!(bt.frames().len(), 2, "{bt:?}");
    // Too deep for 64 KiB: the stack trap, not an exception.
    let down = i.get_typed_func::<i32, i32>(&store, "down")?;
    let err = down.call(&mut store, 100_000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    Ok(())
}

const LEGACY: &str = r#"(module
    (tag $e (export "e") (param i32))
    (tag $f (param i32))
    (func $throw-e (param i32) (throw $e (local.get 0)))
    (func $throw-f (param i32) (throw $f (local.get 0)))
    ;; catch $e gets the payload; catch_all anything else.
    (func (export "try-catch") (param i32) (result i32)
        try (result i32)
            local.get 0
            i32.eqz
            if
                i32.const 5
                call $throw-e
            else
                i32.const 6
                call $throw-f
            end
            i32.const 0
        catch $e
            i32.const 100
            i32.add
        catch_all
            i32.const 200
        end)
    ;; No exception: the try body's result.
    (func (export "no-throw") (result i32)
        try (result i32)
            i32.const 7
        catch_all
            i32.const 8
        end)
    ;; rethrow in a catch rethrows the caught exception to the outer try.
    (func (export "rethrow") (result i32)
        try (result i32)
            try
                i32.const 11
                call $throw-e
            catch $e
                drop
                rethrow 0
            end
            i32.const 0
        catch $e
            i32.const 1000
            i32.add
        end)
    ;; rethrow of an outer catch from inside an inner try/catch.
    (func (export "rethrow-outer") (result i32)
        try (result i32)
            try
                i32.const 3
                call $throw-e
            catch $e
                drop
                try
                    i32.const 4
                    call $throw-f
                catch $f
                    drop
                    rethrow 1
                end
            end
            i32.const 0
        catch $e
        end)
    ;; delegate 0 skips the delegating try's own catch clauses: the
    ;; block around it is inside the outer try, which catches.
    (func (export "delegate") (result i32)
        try (result i32)
            block
                try
                    i32.const 21
                    call $throw-e
                delegate 0
            end
            i32.const 0
        catch $e
            i32.const 2000
            i32.add
        end)
    ;; delegate 0 right inside a try: that try's catch handles it;
    ;; delegate 1 skips it for the try around.
    (func (export "delegate-skip") (param i32) (result i32)
        try (result i32)
            try (result i32)
                local.get 0
                if
                    try
                        i32.const 21
                        call $throw-e
                    delegate 0
                else
                    try
                        i32.const 22
                        call $throw-e
                    delegate 2
                end
                i32.const 0
            catch $e
                i32.const 500
                i32.add
            end
        catch $e
            i32.const 2000
            i32.add
        end)
    ;; delegate to the function's label: the caller gets it.
    (func $delegate-out (export "delegate-out") (result i32)
        try (result i32)
            i32.const 1
            call $throw-e
            i32.const 0
        delegate 0)
    (func (export "catch-delegate-out") (result i32)
        try (result i32)
            call $delegate-out
        catch $e
            i32.const 3000
            i32.add
        end)
    ;; An exception raised in a catch body is not caught by the catches
    ;; of the same try, and a delegate from there to that try skips it.
    (func (export "throw-in-catch") (result i32)
      try (result i32)
        try (result i32)
          i32.const 1
          call $throw-e
          i32.const 0
        catch $e
          drop
          i32.const 2
          call $throw-f
          i32.const 0
        catch $f
          drop
          i32.const 99
        end
      catch $f
        i32.const 300
        i32.add
      end)
    (func (export "delegate-from-catch") (result i32)
      try (result i32)
        try (result i32)
          i32.const 1
          call $throw-e
          i32.const 0
        catch $e
          drop
          try
            i32.const 2
            call $throw-f
          delegate 0
          i32.const 0
        catch $f
          i32.const 700
          i32.add
        end
      catch $f
        i32.const 400
        i32.add
      end)
    (func (export "catch-values") (param i32) (result i32 i32)
      try (result i32 i32)
        local.get 0
        call $throw-e
        i32.const 0
        i32.const 0
      catch $e
        i32.const 7
      end)
)"#;

/// The legacy instructions are refused unless switched on; switched on,
/// every tier gives the results the legacy specification gives and
/// charges the same fuel (tiered with a tier-up threshold of 0 compiles
/// each function at its first call).
#[test]
fn legacy_exception_handling_needs_its_switch() -> Result<()> {
    let off = engine(|_| {});
    let err = Module::new(&off, LEGACY).unwrap_err();
    assert!(format!("{err:#}").contains("legacy"), "{err:#}");
    let mut fuels = Vec::new();
    for tier in [Tier::Interp, Tier::Jit, Tier::Tiered] {
        if !tier.is_available() {
            continue;
        }
        let engine = engine(|c| {
            c.tier(tier)
                .wasm_legacy_exceptions(true)
                .consume_fuel(true)
                .tier_up_calls(0)
                .tier_up_in_background(false);
        });
        let (mut store, i) = instance(&engine, LEGACY)?;
        let mut fuel = Vec::new();
        let mut call = |name: &str, arg: Option<i32>| -> Result<i32> {
            store.set_fuel(1_000_000)?;
            let r = match arg {
                Some(a) => i
                    .get_typed_func::<i32, i32>(&store, name)?
                    .call(&mut store, a),
                None => i
                    .get_typed_func::<(), i32>(&store, name)?
                    .call(&mut store, ()),
            };
            fuel.push(1_000_000 - store.get_fuel()?);
            r
        };
        let context = format!("{tier:?}");
        assert_eq!(call("try-catch", Some(0))?, 105, "{context}");
        assert_eq!(call("try-catch", Some(1))?, 200, "{context}");
        assert_eq!(call("no-throw", None)?, 7, "{context}");
        assert_eq!(call("rethrow", None)?, 1011, "{context}");
        assert_eq!(call("rethrow-outer", None)?, 3, "{context}");
        assert_eq!(call("delegate", None)?, 2021, "{context}");
        assert_eq!(call("delegate-skip", Some(1))?, 521, "{context}");
        assert_eq!(call("delegate-skip", Some(0))?, 2022, "{context}");
        let err = call("delegate-out", None).unwrap_err();
        assert!(err.is::<ThrownException>(), "{context}: {err:?}");
        assert!(
            err.to_string().contains("tag `e` with payload (i32 1)"),
            "{context}: {err}"
        );
        assert_eq!(call("catch-delegate-out", None)?, 3001, "{context}");
        assert_eq!(call("throw-in-catch", None)?, 302, "{context}");
        assert_eq!(call("delegate-from-catch", None)?, 402, "{context}");
        let values = i.get_typed_func::<i32, (i32, i32)>(&store, "catch-values")?;
        assert_eq!(values.call(&mut store, 5)?, (5, 7), "{context}");
        fuels.push((tier, fuel));
    }
    for (tier, fuel) in &fuels[1..] {
        assert_eq!(
            fuel, &fuels[0].1,
            "fuel of {tier:?} against the interpreter"
        );
    }
    Ok(())
}

/// Tiered execution: exceptions pass between interpreted and compiled
/// functions, whichever of a thrower, the functions between it and its
/// handler, and the handler's function have tiered up (thresholds of 0,
/// 1 and 2 calls).
#[test]
fn tiered_execution_throws_across_tiers() -> Result<()> {
    if !Tier::Tiered.is_available() {
        return Ok(());
    }
    for (calls, loops) in [(0, 0), (1, 1), (2, 10)] {
        let engine = engine(|c| {
            c.tier(Tier::Tiered)
                .tier_up_calls(calls)
                .tier_up_loop_iterations(loops)
                .tier_up_in_background(false);
        });
        let (mut store, i) = instance(
            &engine,
            r#"(module (tag $e (param i32))
                (func $thrower (param i32) (result i32)
                    (if (i32.and (local.get 0) (i32.const 1))
                        (then (throw $e (local.get 0))))
                    (local.get 0))
                ;; No exception instruction: compiled once hot, or from
                ;; its loop on (on-stack replacement) in its first call.
                (func $middle (param i32) (result i32) (local $k i32)
                    (loop $spin
                        (br_if $spin (i32.lt_u
                            (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                            (i32.const 50))))
                    (i32.add (call $thrower (local.get 0)) (local.get $k)))
                (func (export "sum") (param $n i32) (result i32)
                    (local $i i32) (local $sum i32) (local $v i32)
                    (loop $l
                        (block $next
                            (local.set $v
                                (block $caught (result i32)
                                    ;; even: added
                                    (local.set $sum (i32.add (local.get $sum)
                                        (try_table (result i32) (catch $e $caught)
                                            (call $middle (local.get $i)))))
                                    (br $next)))
                            ;; odd: caught, subtracted
                            (local.set $sum (i32.sub (local.get $sum) (local.get $v))))
                        (br_if $l (i32.lt_u
                            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                            (local.get $n))))
                    (local.get $sum)))"#,
        )?;
        let sum = i.get_typed_func::<i32, i32>(&store, "sum")?;
        // 0 + 2 + ... + 98, each plus 50 from $middle's loop, minus
        // 1 + 3 + ... + 99: 4950 - 2500.
        for _ in 0..3 {
            assert_eq!(
                sum.call(&mut store, 100)?,
                2450,
                "thresholds {calls}/{loops}"
            );
        }
    }
    Ok(())
}

/// Exnrefs cross the API as `Val::ExnRef`: wasm hands a caught exception
/// to the host, which reads it and passes it back to be rethrown; one the
/// host makes is thrown by `throw_ref`.
#[test]
fn exnrefs_are_values_of_the_api() -> Result<()> {
    let engine = engine(|_| {});
    let (mut store, i) = instance(
        &engine,
        r#"(module (tag $e (export "e") (param i32 i64))
            (func (export "catch") (param i32) (result exnref)
                (block $h (result i32 i64 exnref)
                    (try_table (catch_ref $e $h)
                        (throw $e (local.get 0) (i64.const -9)))
                    (unreachable))
                (return))
            (func (export "rethrow") (param exnref) (result i32)
                (block $h (result i32 i64)
                    (try_table (catch $e $h) (throw_ref (local.get 0)))
                    (unreachable))
                (drop)))"#,
    )?;
    let tag = i.get_tag(&store, "e").expect("e");
    let catch = i.get_func(&store, "catch").expect("catch");
    let mut out = [Val::ExnRef(None)];
    catch.call(&mut store, &[Val::I32(3)], &mut out)?;
    let Val::ExnRef(Some(exn)) = out[0] else {
        panic!("expected an exnref, got {:?}", out[0]);
    };
    assert!(Tag::eq(&exn.tag(&store)?, &tag, &store));
    assert_eq!(exn.fields(&store)?, [Val::I32(3), Val::I64(-9)]);
    let rethrow = i.get_func(&store, "rethrow").expect("rethrow");
    let mut out = [Val::I32(0)];
    rethrow.call(&mut store, &[Val::ExnRef(Some(exn))], &mut out)?;
    assert_eq!(out, [Val::I32(3)]);
    let made = ExnRef::new(&mut store, &tag, &[Val::I32(12), Val::I64(0)])?;
    rethrow.call(&mut store, &[Val::ExnRef(Some(made))], &mut out)?;
    assert_eq!(out, [Val::I32(12)]);
    // A null exnref traps in `throw_ref`.
    let err = rethrow
        .call(&mut store, &[Val::ExnRef(None)], &mut out)
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::NullReference));
    Ok(())
}
