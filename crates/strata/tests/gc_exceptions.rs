//! Exceptions as objects of the GC heap: exceptions nothing reaches are
//! freed (a long throw-and-catch loop keeps the heap bounded under a
//! small limit), and the references an exception's payload holds live as
//! long as the exception does, whichever root holds the exception (a
//! global, the pending exception, a host handle), also with the collector
//! in stress mode. To see a freed object, each test fills the heap with
//! garbage boxes holding 99 between making an object and reading it back:
//! an object freed too early would be overwritten by that garbage.

mod common;

use anyhow::Result;
use common::call;
use strata::*;

/// An engine with exceptions and GC in `tier`: the heap limited to
/// `max_heap` bytes, the collector in stress mode if `stress`.
fn engine(tier: Tier, stress: bool, max_heap: u64) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .wasm_exceptions(true)
        .gc_stress(stress)
        .max_gc_heap_size(max_heap);
    Engine::new(&config).expect("valid configuration")
}

fn tiers() -> impl Iterator<Item = Tier> {
    [Tier::Interp, Tier::Jit]
        .into_iter()
        .filter(|t| t.is_available())
}

/// `throws` throws and catches `n` exceptions carrying an i32 and an
/// `i64` and returns the sum of the i32s (no GC instruction: the JIT
/// compiles it under any tier).
const CHURN: &str = r#"
(module
  (tag $t (param i32 i64))
  (func (export "throws") (param $n i32) (result i32) (local $sum i32)
    (loop $l
      (block $h (result i32 i64)
        (try_table (catch $t $h)
          (throw $t (local.get $n) (i64.const 7)))
        (unreachable))
      (drop)
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum)))"#;

/// Whether the collector runs while compiled code is live below it (it
/// reads compiled frames' stack maps), asked by collecting from a host
/// function that compiled code calls.
fn collects_under_compiled_frames() -> Result<bool> {
    let mut store = Store::new(&engine(Tier::Jit, false, 1 << 20), ());
    let collect = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| -> i32 {
        i32::from(caller.as_context_mut().gc())
    });
    let wat = r#"(module (import "host" "collect" (func $c (result i32)))
        (func (export "probe") (result i32) (call $c)))"#;
    let module = Module::new(store.engine(), wat)?;
    let i = Instance::new(&mut store, &module, &[collect.into()])?;
    Ok(call(&mut store, &i, "probe", &[])? == [Val::I32(1)])
}

#[test]
fn thrown_and_caught_exceptions_are_freed() -> Result<()> {
    // 64 KiB of heap holds 2730 exceptions of 24 bytes (the header and
    // two payload cells): far fewer than the loops throw.
    let limit = 64 << 10;
    let store_of = |tier| -> Result<(Store<()>, Instance)> {
        let mut store = Store::new(&engine(tier, false, limit), ());
        let module = Module::new(store.engine(), CHURN)?;
        let i = Instance::new(&mut store, &module, &[])?;
        Ok((store, i))
    };
    // Interpreted, the throwing instruction is a safepoint: collecting
    // when the heap is full frees the caught exceptions as the loop goes.
    let (mut store, i) = store_of(Tier::Interp)?;
    let n = 2_000_000;
    let got = call(&mut store, &i, "throws", &[Val::I32(n)])?;
    let want = (1..=n as u64).sum::<u64>() as u32 as i32;
    assert_eq!(got, [Val::I32(want)]);
    let stats = store.gc_stats();
    assert!(stats.heap_bytes <= limit, "{stats:?}");
    assert!(
        stats.collections >= 2_000_000 * 24 / (64 << 10),
        "{stats:?}"
    );
    assert!(store.gc());
    assert_eq!(store.gc_stats().objects, 0, "nothing holds an exception");

    // Compiled code does not collect while it runs (no stack maps yet):
    // each call's exceptions fit the heap, and a collection between calls
    // frees them all.
    if !Tier::Jit.is_available() {
        return Ok(());
    }
    let (mut store, i) = store_of(Tier::Jit)?;
    if collects_under_compiled_frames()? {
        // Compiled frames are roots the collector reads: a throw in
        // compiled code is a safepoint too, and the loop runs as
        // interpreted.
        let got = call(&mut store, &i, "throws", &[Val::I32(n)])?;
        assert_eq!(got, [Val::I32(want)]);
        let stats = store.gc_stats();
        assert!(stats.heap_bytes <= limit, "{stats:?}");
        assert!(store.gc());
        assert_eq!(store.gc_stats().objects, 0);
        return Ok(());
    }
    // Compiled code does not collect while it runs: each call's
    // exceptions fit the heap, and a collection between calls frees them
    // all.
    for _ in 0..200 {
        let got = call(&mut store, &i, "throws", &[Val::I32(2000)])?;
        assert_eq!(got, [Val::I32(2000 * 2001 / 2)]);
        let objects = store.gc_stats().objects;
        assert_eq!(objects, 2000, "every exception is an object");
        assert!(store.gc());
        assert_eq!(store.gc_stats().objects, 0);
    }
    assert!(store.gc_stats().heap_bytes <= limit);
    // More live exceptions than the heap holds, in one compiled call: the
    // limit traps, never aborts, and the store goes on.
    let err = call(&mut store, &i, "throws", &[Val::I32(10_000)]).unwrap_err();
    let trap = err.downcast_ref::<Trap>().copied();
    assert_eq!(trap, Some(Trap::GcHeapOutOfMemory), "{err:#}");
    assert!(store.gc());
    let got = call(&mut store, &i, "throws", &[Val::I32(10)])?;
    assert_eq!(got, [Val::I32(55)]);
    Ok(())
}

/// `$box` holds an i32; `churn` makes `n` garbage boxes. `throw_box`
/// throws an exception carrying a box of its argument, uncaught;
/// `catch_box` catches one and returns its exnref; `keep` catches one and
/// keeps its exnref in a global, the only path to the box; `kept`
/// rethrows the kept exception and returns its box's value.
const BOXES: &str = r#"
(module
  (type $box (struct (field i32)))
  (tag $x (export "x") (param (ref $box) v128 i32))
  (global $e (mut exnref) (ref.null exn))
  (func $churn (export "churn") (param $n i32)
    (loop $l
      (drop (struct.new $box (i32.const 99)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func $throw_box (export "throw_box") (param i32)
    (throw $x (struct.new $box (local.get 0)) (v128.const i64x2 1 2) (i32.const 3)))
  (func $catch_box (export "catch_box") (param i32) (result exnref)
    (block $caught (result exnref)
      (try_table (catch_all_ref $caught)
        (call $throw_box (local.get 0)))
      (unreachable)))
  (func (export "keep") (param i32)
    (global.set $e (call $catch_box (local.get 0))))
  (func (export "kept") (result i32)
    (block $got (result (ref $box) v128 i32)
      (try_table (catch $x $got) (throw_ref (global.get $e)))
      (unreachable))
    (drop) (drop)
    (struct.get $box 0))
  (func (export "make") (param i32) (result (ref $box))
    (struct.new $box (local.get 0))))"#;

fn boxes(tier: Tier, stress: bool) -> Result<(Store<()>, Instance)> {
    let mut store = Store::new(&engine(tier, stress, 16 << 20), ());
    let module = Module::new(store.engine(), BOXES)?;
    let i = Instance::new(&mut store, &module, &[])?;
    Ok((store, i))
}

#[test]
fn a_payload_lives_as_long_as_its_exception() -> Result<()> {
    for tier in tiers() {
        for stress in [true, false] {
            let (mut store, i) = boxes(tier, stress)?;
            call(&mut store, &i, "keep", &[Val::I32(41)])?;
            assert!(store.gc(), "{tier:?}: no wasm is running");
            call(&mut store, &i, "churn", &[Val::I32(1000)])?;
            let got = call(&mut store, &i, "kept", &[])?;
            assert_eq!(got, [Val::I32(41)], "{tier:?}, stress {stress}");
        }
    }
    Ok(())
}

#[test]
fn the_pending_exception_is_a_root() -> Result<()> {
    for tier in tiers() {
        let (mut store, i) = boxes(tier, true)?;
        let err = call(&mut store, &i, "throw_box", &[Val::I32(17)]).unwrap_err();
        assert!(err.is::<ThrownException>(), "{err:#}");
        assert!(store.gc());
        call(&mut store, &i, "churn", &[Val::I32(1000)])?;
        let exn = store.take_pending_exception().expect("pending");
        let fields = exn.fields(&store)?;
        let Val::AnyRef(Some(b)) = fields[0] else {
            panic!("a box")
        };
        let b = b.as_struct(&store)?.expect("a struct");
        assert_eq!(b.field(&store, 0)?, Val::I32(17), "{tier:?}");
        assert_eq!(fields[1], Val::V128(1 | 2 << 64));
        assert_eq!(fields[2], Val::I32(3));
    }
    Ok(())
}

/// The exnref `catch_box` returns for `v`.
fn catch_box(store: &mut impl AsContextMut<Data = ()>, i: &Instance, v: i32) -> Result<ExnRef> {
    let f = i.get_func(&mut *store, "catch_box").expect("catch_box");
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &[Val::I32(v)], &mut out)?;
    match out {
        [Val::ExnRef(Some(e))] => Ok(e),
        other => anyhow::bail!("catch_box returned {other:?}"),
    }
}

/// The value of the box exception `exn` carries.
fn box_of(store: &Store<()>, exn: &ExnRef) -> Result<Val> {
    let Val::AnyRef(Some(b)) = exn.field(store, 0)? else {
        anyhow::bail!("not a box")
    };
    b.as_struct(store)?.expect("a struct").field(store, 0)
}

#[test]
fn host_exception_handles_are_roots_until_their_scope_ends() -> Result<()> {
    let (mut store, i) = boxes(Tier::Interp, true)?;
    let scoped = {
        let mut scope = RootScope::new(&mut store);
        catch_box(&mut scope, &i, 23)?
    };
    // Made outside any scope: rooted until the store drops. No handle
    // to the box it carries exists: only the exception keeps it.
    let lasting = catch_box(&mut store, &i, 26)?;
    assert!(store.gc());
    call(&mut store, &i, "churn", &[Val::I32(1000)])?;
    assert_eq!(box_of(&store, &lasting)?, Val::I32(26));
    assert_eq!(
        &lasting.fields(&store)?[1..],
        [Val::V128(1 | 2 << 64), Val::I32(3)]
    );
    // A handle whose scope ended is refused, as an error.
    let err = scoped.fields(&store).unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");
    let err = scoped.tag(&store).unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");

    // An exception the host makes keeps its payload as well.
    let tag = i.get_tag(&mut store, "x").expect("tag");
    let made = {
        let [b] = call(&mut store, &i, "make", &[Val::I32(27)])?[..] else {
            panic!("one result")
        };
        ExnRef::new(&mut store, &tag, &[b, Val::V128(9), Val::I32(10)])?
    };
    assert!(store.gc());
    call(&mut store, &i, "churn", &[Val::I32(1000)])?;
    assert_eq!(box_of(&store, &made)?, Val::I32(27));
    assert_eq!(made.tag(&store)?.ty(&store).ty().params().len(), 3);
    Ok(())
}
