//! Exceptions in compiled code: throws caught in the throwing function and
//! through many compiled frames (direct, indirect and imported calls),
//! `catch_ref`/`throw_ref`, payloads of every type, tag identity across
//! instances, exceptions leaving compiled code, and throws over and over
//! and on several threads with the process staying healthy.

use strata::{Config, Engine, Instance, Linker, Module, Store, Tier, Val};

fn jit_engine() -> Option<Engine> {
    if !Tier::Jit.is_available() {
        eprintln!("the JIT tier is not available here");
        return None;
    }
    let mut config = Config::new();
    config.tier(Tier::Jit);
    config.wasm_exceptions(true);
    Some(Engine::new(&config).expect("valid config"))
}

const BASIC: &str = r#"
(module
  (tag $e (param i32))
  (tag $f (param i64 f64))
  (type $t (func (param i32)))
  (table funcref (elem $thrower))
  (func $thrower (param i32) (throw $e (local.get 0)))
  ;; Calls itself `depth` times, then throws `v`; every other level calls
  ;; through the table.
  (func $deep (param $depth i32) (param $v i32)
    (if (i32.eqz (local.get $depth))
      (then (call_indirect (type $t) (local.get $v) (i32.const 0)) (return)))
    (if (i32.and (local.get $depth) (i32.const 1))
      (then (call $deep (i32.sub (local.get $depth) (i32.const 1)) (local.get $v)))
      (else (call $deep (i32.sub (local.get $depth) (i32.const 1)) (local.get $v)))))
  (func (export "shallow") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (throw $e (i32.add (local.get 0) (i32.const 1))))
      (i32.const -1)))
  (func (export "deep") (param i32 i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $deep (local.get 0) (local.get 1)))
      (i32.const -1)))
  ;; The inner handler is for another tag: the outer catch_all takes it.
  (func (export "all") (param i32) (result i32)
    (block $h
      (block $hf (result i64 f64)
        (try_table (catch $f $hf)
          (try_table (catch_all $h)
            (call $deep (local.get 0) (i32.const 7))))
        (return (i32.const -1)))
      (return (i32.const -3)))
    (i32.const 99))
  (func (export "uncaught") (param i32) (result i32)
    (call $deep (local.get 0) (i32.const 5)) (i32.const 0))
  (func (export "ref") (param i32) (result i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h)
        (call $deep (local.get 0) (i32.const 3)))
      (return (i32.const -1)))
    (drop))
  ;; Caught with its reference, thrown again, caught by tag outside.
  (func (export "rethrow") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (block $h2 (result exnref)
          (try_table (catch_all_ref $h2)
            (call $deep (local.get 0) (i32.const 11)))
          (return (i32.const -1)))
        (throw_ref))
      (i32.const -2)))
  (func (export "null") (throw_ref (ref.null exn)))
)"#;

fn call<P: strata::WasmParams, R: strata::WasmParams>(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: P,
) -> anyhow::Result<R> {
    instance
        .get_typed_func::<P, R>(&mut *store, name)
        .unwrap()
        .call(store, args)
}

#[test]
fn throws_are_caught_in_the_function_and_through_compiled_frames() {
    let Some(engine) = jit_engine() else { return };
    let module = Module::new(&engine, BASIC).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let s = &mut store;
    assert_eq!(call::<i32, i32>(s, &instance, "shallow", 41).unwrap(), 42);
    assert_eq!(
        call::<(i32, i32), i32>(s, &instance, "deep", (0, 5)).unwrap(),
        5
    );
    assert_eq!(
        call::<(i32, i32), i32>(s, &instance, "deep", (50, 6)).unwrap(),
        6
    );
    assert_eq!(
        call::<(i32, i32), i32>(s, &instance, "deep", (1000, 8)).unwrap(),
        8
    );
    assert_eq!(call::<i32, i32>(s, &instance, "all", 10).unwrap(), 99);
    assert_eq!(call::<i32, i32>(s, &instance, "ref", 10).unwrap(), 3);
    assert_eq!(call::<i32, i32>(s, &instance, "rethrow", 10).unwrap(), 11);
    // Not caught: the call fails with the exception, and compiled code
    // runs normally after.
    let e = call::<i32, i32>(s, &instance, "uncaught", 10).unwrap_err();
    assert!(e.is::<strata::ThrownException>(), "{e:#}");
    assert!(e.to_string().contains("i32 5"), "{e}");
    let e = call::<(), ()>(s, &instance, "null", ()).unwrap_err();
    assert_eq!(
        e.downcast_ref::<strata::Trap>(),
        Some(&strata::Trap::NullReference)
    );
    assert_eq!(
        call::<(i32, i32), i32>(s, &instance, "deep", (3, 9)).unwrap(),
        9
    );
}

#[test]
fn thousands_of_throws_leave_the_process_healthy() {
    let Some(engine) = jit_engine() else { return };
    let module = Module::new(&engine, BASIC).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for i in 0..20_000 {
        let got = call::<(i32, i32), i32>(&mut store, &instance, "deep", (i % 40, i)).unwrap();
        assert_eq!(got, i);
        if i % 1000 == 0 {
            assert!(call::<i32, i32>(&mut store, &instance, "uncaught", 20).is_err());
        }
    }
}

#[test]
fn throws_on_several_threads() {
    let Some(engine) = jit_engine() else { return };
    let module = Module::new(&engine, BASIC).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                for i in 0..5_000 {
                    let v = t * 100_000 + i;
                    let got = call::<(i32, i32), i32>(&mut store, &instance, "deep", (i % 30, v))
                        .unwrap();
                    assert_eq!(got, v);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Every value type as payload, v128 included, through a frame.
#[test]
fn payloads_of_every_type() {
    let Some(engine) = jit_engine() else { return };
    let wat = r#"
    (module
      (tag $t (param i32 i64 f32 f64 v128 funcref externref))
      (func $f (export "f") (param i32 i64 f32 f64 v128 funcref externref)
        (throw $t (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                  (local.get 4) (local.get 5) (local.get 6)))
      (func (export "catch") (param i32 i64 f32 f64 v128 funcref externref)
        (result i32 i64 f32 f64 v128 funcref externref)
        (block $h (result i32 i64 f32 f64 v128 funcref externref)
          (try_table (catch $t $h)
            (call $f (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                     (local.get 4) (local.get 5) (local.get 6)))
          (unreachable))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let catch = instance.get_func(&mut store, "catch").unwrap();
    let v128 = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10_u128;
    let args = [
        Val::I32(-7),
        Val::I64(0x1234_5678_9abc_def0),
        Val::F32(1.5f32.to_bits()),
        Val::F64((-2.25f64).to_bits()),
        Val::V128(v128),
        Val::FuncRef(Some(f)),
        Val::ExternRef(None),
    ];
    let mut results = vec![Val::I32(0); 7];
    catch.call(&mut store, &args, &mut results).unwrap();
    assert_eq!(results[0], Val::I32(-7));
    assert_eq!(results[1], Val::I64(0x1234_5678_9abc_def0));
    assert_eq!(results[2], Val::F32(1.5f32.to_bits()));
    assert_eq!(results[3], Val::F64((-2.25f64).to_bits()));
    assert_eq!(results[4], Val::V128(v128));
    assert!(matches!(results[5], Val::FuncRef(Some(_))));
    assert!(matches!(results[6], Val::ExternRef(None)));
}

/// A tag is an identity, not an index: the same module instantiated twice
/// has two tags, and a handler catches only its own instance's; an
/// imported tag is the exporter's.
#[test]
fn handlers_match_tag_identity() {
    let Some(engine) = jit_engine() else { return };
    let thrower = r#"
    (module
      (tag $e (export "e") (param i32))
      (func (export "throw") (param i32) (throw $e (local.get 0))))"#;
    let catcher = r#"
    (module
      (import "a" "e" (tag $e (param i32)))
      (import "a" "throw" (func $throw (param i32)))
      (func (export "run") (param i32) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (call $throw (local.get 0)))
          (i32.const -1))))"#;
    let thrower = Module::new(&engine, thrower).unwrap();
    let catcher = Module::new(&engine, catcher).unwrap();
    let mut store = Store::new(&engine, ());
    let a = Instance::new(&mut store, &thrower, &[]).unwrap();
    let b = Instance::new(&mut store, &thrower, &[]).unwrap();
    let own = |store: &mut Store<()>, x: &Instance| {
        [
            x.get_export(&mut *store, "e").unwrap(),
            x.get_export(&mut *store, "throw").unwrap(),
        ]
    };
    // Its own tag: caught.
    let imports = own(&mut store, &a);
    let c = Instance::new(&mut store, &catcher, &imports).unwrap();
    assert_eq!(call::<i32, i32>(&mut store, &c, "run", 4).unwrap(), 4);
    // Another instance's tag, of the same module: not caught.
    let mut imports = own(&mut store, &a);
    imports[1] = own(&mut store, &b)[1].clone();
    let c = Instance::new(&mut store, &catcher, &imports).unwrap();
    assert!(call::<i32, i32>(&mut store, &c, "run", 4).is_err());
    let _ = Linker::<()>::new(&engine);
}

const HOST: &str = r#"
(module
  (import "host" "t" (tag $t (param i32)))
  (import "host" "throw" (func $throw (param i32)))
  (import "host" "reenter" (func $reenter (param i32)))
  ;; No handler here: the host's exception passes through this frame.
  (func $mid (param i32) (call $throw (local.get 0)) (unreachable))
  (func (export "direct") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $throw (local.get 0)))
      (i32.const -1)))
  (func (export "through") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $mid (local.get 0)))
      (i32.const -1)))
  (func (export "inner") (param i32) (throw $t (local.get 0)))
  ;; A tail call leaves this function's handlers behind: the catch_all
  ;; here must not see what the host function throws.
  (func $tail (param i32)
    (block $h
      (try_table (catch_all $h) (return_call $throw (local.get 0))))
    (unreachable))
  (func (export "tail") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $tail (local.get 0)))
      (i32.const -1)))
  (func (export "nested") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $reenter (local.get 0)))
      (i32.const -1)))
)"#;

/// Counts the drops of values a host function holds while wasm it called
/// throws.
static DROPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        DROPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A host function's exception is thrown again at its call site in
/// compiled code and caught there, or further out through compiled
/// frames; an exception thrown by wasm that a host function called back
/// into leaves that inner activation as an error the host function sees
/// (its own values dropped normally: nothing jumps over its frame) and
/// returns, and the outer compiled handler catches it.
#[test]
fn host_exceptions_are_thrown_again_at_the_call_site() {
    use strata::{Caller, ExnRef, Extern, Func, FuncType, Tag, TagType, ValType};
    let Some(engine) = jit_engine() else { return };
    let module = Module::new(&engine, HOST).unwrap();
    let mut store = Store::new(&engine, ());
    let tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], []))).unwrap();
    let throw = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, ()>, x: i32| -> anyhow::Result<()> {
            let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(x * 2)])?;
            Ok(caller.throw(exn)?)
        },
    );
    let reenter = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, ()>, x: i32| -> anyhow::Result<()> {
            let _guard = Guard;
            let Some(Extern::Func(inner)) = caller.get_export("inner") else {
                panic!("no export `inner`");
            };
            inner.call(&mut caller, &[Val::I32(x + 100)], &mut [])?;
            unreachable!("`inner` always throws");
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define("host", "t", tag).unwrap();
    linker.define("host", "throw", throw).unwrap();
    linker.define("host", "reenter", reenter).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let s = &mut store;
    for i in 0..1000 {
        assert_eq!(call::<i32, i32>(s, &instance, "direct", i).unwrap(), 2 * i);
        assert_eq!(call::<i32, i32>(s, &instance, "through", i).unwrap(), 2 * i);
        assert_eq!(call::<i32, i32>(s, &instance, "tail", i).unwrap(), 2 * i);
        let before = DROPS.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            call::<i32, i32>(s, &instance, "nested", i).unwrap(),
            i + 100
        );
        assert_eq!(DROPS.load(std::sync::atomic::Ordering::SeqCst), before + 1);
    }
    // Uncaught, it reaches the embedder as a typed error naming the tag.
    let e = call::<i32, ()>(s, &instance, "inner", 7).unwrap_err();
    assert!(e.is::<strata::ThrownException>(), "{e:#}");
    assert!(s.take_pending_exception().is_some());
}

/// Tiered execution: as functions move from the interpreter to compiled
/// code one by one, exceptions cross between the tiers in both
/// directions (compiled thrower, interpreted handler, and the reverse)
/// with the same results throughout.
#[test]
fn exceptions_cross_between_tiers() {
    if !Tier::Jit.is_available() {
        return;
    }
    let wat = r#"
    (module
      (tag $e (param i32 i64))
      (func $throw (param i32) (throw $e (local.get 0) (i64.const 5)))
      (func $down (param i32 i32) (result i32)
        (if (i32.eqz (local.get 0)) (then (call $throw (local.get 1))))
        (i32.add (i32.const 1)
          (call $down (i32.sub (local.get 0) (i32.const 1)) (local.get 1))))
      (func $catch (export "catch") (param i32 i32) (result i32)
        (block $h (result i32 i64)
          (try_table (catch $e $h)
            (return (call $down (local.get 0) (local.get 1))))
          (unreachable))
        (i32.wrap_i64)
        (i32.add))
      ;; Rethrows whatever it catches, by reference.
      (func (export "outer") (param i32 i32) (result i32)
        (block $h (result exnref)
          (try_table (catch_all_ref $h)
            (drop (call $down (local.get 0) (local.get 1))))
          (return (i32.const -1)))
        (block $h2 (param exnref) (result i32 i64)
          (try_table (param exnref) (catch $e $h2) (throw_ref))
          (unreachable))
        (drop)))"#;
    for calls in [1, 2, 3, 7] {
        let mut config = Config::new();
        config
            .tier(Tier::Tiered)
            .wasm_exceptions(true)
            .tier_up_calls(calls)
            .tier_up_loop_iterations(calls)
            .tier_up_in_background(false)
            .cache(None);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        for i in 0..50 {
            let depth = i % 9;
            let got = call::<(i32, i32), i32>(&mut store, &instance, "catch", (depth, i)).unwrap();
            assert_eq!(got, i + 5, "calls {calls}, round {i}");
            let got = call::<(i32, i32), i32>(&mut store, &instance, "outer", (depth, i)).unwrap();
            assert_eq!(got, i, "calls {calls}, round {i}");
        }
        assert!(module.tiered_up().0 > 0, "nothing was compiled");
    }
}
