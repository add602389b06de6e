//! The GC heap's collector: garbage is reclaimed, and every kind of root
//! keeps what it reaches alive. The root tests run with the collector in
//! stress mode (a collection before every allocation where one is
//! allowed), and fill the heap with garbage of the same type holding
//! another value between making an object and reading it back: an object
//! a root failed to keep would be freed and its memory reused by that
//! garbage, so the read would see the garbage's value.

mod common;

use anyhow::Result;
use common::call;
use strata::*;

/// An engine with the GC proposal in `tier`, the collector in stress
/// mode if `stress`.
fn engine(tier: Tier, stress: bool) -> Engine {
    let mut config = Config::new();
    config
        .tier(tier)
        .wasm_gc(true)
        .wasm_exceptions(true)
        .gc_stress(stress);
    common::compile_at_once(&mut config, tier);
    Engine::new(&config).expect("valid configuration")
}

fn instance(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Result<Instance> {
    let module = Module::new(store.engine(), wat)?;
    Instance::new(store, &module, imports)
}

/// The module of the root tests. `$box` holds an i32; `churn` makes `n`
/// boxes holding 99 and drops them; each `via_*` function keeps a box of
/// its argument through one kind of root while `churn` runs, and returns
/// what the box holds then.
const ROOTS: &str = r#"
(module
  (type $box (struct (field (mut i32))))
  (type $pair (struct (field (ref $box)) (field (ref $box))))
  (type $boxes (array (mut (ref null $box))))
  (import "host" "reenter" (func $reenter))
  (global $g (mut (ref null $box)) (ref.null $box))
  (table $t 1 anyref)
  (elem $e (ref $box) (item (struct.new $box (i32.const 9))))
  (tag $x (param (ref $box)))
  (func $churn (export "churn") (param $n i32)
    (loop $l
      (drop (struct.new $box (i32.const 99)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func $get (param (ref null $box)) (result i32)
    (struct.get $box 0 (ref.as_non_null (local.get 0))))
  (func (export "make") (param i32) (result (ref $box))
    (struct.new $box (local.get 0)))
  (func (export "via_local") (param i32) (result i32) (local $b (ref null $box))
    (local.set $b (struct.new $box (local.get 0)))
    (call $churn (i32.const 100))
    (call $get (local.get $b)))
  ;; The first box is an operand-stack temporary while the second is
  ;; allocated, then both while the pair is.
  (func (export "via_operands") (param i32) (result i32) (local $p (ref null $pair))
    (local.set $p (struct.new $pair
      (struct.new $box (local.get 0))
      (struct.new $box (i32.add (local.get 0) (i32.const 1)))))
    (call $churn (i32.const 100))
    (i32.add
      (call $get (struct.get $pair 0 (local.get $p)))
      (call $get (struct.get $pair 1 (local.get $p)))))
  (func (export "via_global") (param i32) (result i32)
    (global.set $g (struct.new $box (local.get 0)))
    (call $churn (i32.const 100))
    (call $get (global.get $g)))
  (func (export "via_table") (param i32) (result i32)
    (table.set $t (i32.const 0) (struct.new $box (local.get 0)))
    (call $churn (i32.const 100))
    (call $get (ref.cast (ref $box) (table.get $t (i32.const 0)))))
  (func (export "via_array") (param i32) (result i32) (local $a (ref null $boxes))
    (local.set $a (array.new_default $boxes (i32.const 3)))
    (array.set $boxes (local.get $a) (i32.const 2) (struct.new $box (local.get 0)))
    (call $churn (i32.const 100))
    (call $get (array.get $boxes (local.get $a) (i32.const 2))))
  ;; The host function calls `churn` and collects: this frame belongs to
  ;; an outer entry by then.
  (func (export "via_reentry") (param i32) (result i32) (local $b (ref null $box))
    (local.set $b (struct.new $box (local.get 0)))
    (call $reenter)
    (call $get (local.get $b)))
  (func (export "via_segment") (result i32)
    (call $churn (i32.const 100))
    (call $get (array.get $boxes (array.new_elem $boxes $e (i32.const 0) (i32.const 1))
      (i32.const 0))))
  ;; The box lives only in an exception's payload while `churn` runs.
  (func (export "via_exception") (param i32) (result i32) (local $e exnref)
    (local.set $e (block $caught (result exnref)
      (try_table (catch_all_ref $caught)
        (throw $x (struct.new $box (local.get 0))))
      (unreachable)))
    (call $churn (i32.const 100))
    (block $got (result (ref $box))
      (try_table (catch $x $got) (throw_ref (local.get $e)))
      (unreachable))
    (call $get))
)"#;

/// A store with the `ROOTS` module, whose `reenter` import calls `churn`
/// and collects.
fn roots_instance(tier: Tier, stress: bool) -> Result<(Store<()>, Instance)> {
    let mut store = Store::new(&engine(tier, stress), ());
    let reenter = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| -> Result<()> {
        let churn = caller
            .get_export("churn")
            .and_then(Extern::into_func)
            .ok_or_else(|| anyhow::anyhow!("no churn"))?;
        churn.call(&mut caller, &[Val::I32(100)], &mut [])?;
        // Interpreted and compiled frames are at calls: it collects.
        assert!(caller.as_context_mut().gc(), "the stack is at safepoints");
        Ok(())
    });
    let i = instance(&mut store, ROOTS, &[reenter.into()])?;
    Ok((store, i))
}

#[test]
fn every_root_kind_keeps_its_object_under_stress() -> Result<()> {
    let tiers = [Tier::Interp, Tier::Jit, Tier::Tiered];
    for (tier, stress) in tiers
        .into_iter()
        .filter(|t| t.is_available())
        .flat_map(|t| [(t, true), (t, false)])
    {
        let (mut store, i) = roots_instance(tier, stress)?;
        for (name, arg, want) in [
            ("via_local", 7, 7),
            ("via_operands", 20, 41),
            ("via_global", 5, 5),
            ("via_table", 6, 6),
            ("via_array", 3, 3),
            ("via_reentry", 8, 8),
            ("via_exception", 4, 4),
        ] {
            let got = call(&mut store, &i, name, &[Val::I32(arg)])?;
            assert_eq!(got, [Val::I32(want)], "{tier:?} {name}, stress {stress}");
        }
        let got = call(&mut store, &i, "via_segment", &[])?;
        assert_eq!(got, [Val::I32(9)], "{tier:?} via_segment, stress {stress}");
        if stress {
            assert!(store.gc_stats().collections > 700, "{tier:?}");
        }
    }
    Ok(())
}

#[test]
fn garbage_is_reclaimed_and_its_space_reused() -> Result<()> {
    let (mut store, i) = roots_instance(Tier::Interp, false)?;
    // Instantiation made the element segment's box.
    let base = store.gc_stats();
    assert_eq!(base.objects, 1);
    call(&mut store, &i, "churn", &[Val::I32(1000)])?;
    let before = store.gc_stats();
    // 1000 boxes of 16 bytes (header and an i32, 8-aligned): below the
    // pressure that triggers a collection, so all are still there.
    assert_eq!(before.objects, 1001);
    assert_eq!(before.object_bytes, base.object_bytes + 16_000);
    assert!(store.gc());
    let after = store.gc_stats();
    assert_eq!(after.objects, 1, "only the segment's box is reachable");
    assert_eq!(after.object_bytes, base.object_bytes);
    // The dead tail went back to the bump pointer: the heap ends after
    // the one live box.
    assert_eq!(after.heap_bytes, after.object_bytes);
    // A long garbage loop (48 MB of boxes) keeps the heap bounded:
    // collections triggered by allocation pressure (every 4 MiB) free it
    // as it goes.
    call(&mut store, &i, "churn", &[Val::I32(3_000_000)])?;
    let stats = store.gc_stats();
    assert!(stats.collections >= 10, "{stats:?}");
    assert!(stats.heap_bytes < 8 << 20, "{stats:?}");
    Ok(())
}

#[test]
fn host_handles_are_roots_until_their_scope_ends() -> Result<()> {
    let (mut store, i) = roots_instance(Tier::Interp, true)?;
    let [Val::AnyRef(Some(kept))] = call(&mut store, &i, "make", &[Val::I32(11)])?[..] else {
        panic!("make returns a box")
    };
    let scoped = {
        let mut scope = RootScope::new(&mut store);
        let [Val::AnyRef(Some(r))] = call_in(&mut scope, &i, "make", 12)?[..] else {
            panic!("make returns a box")
        };
        let s = r.as_struct(&scope)?.expect("a struct");
        assert_eq!(s.field(&scope, 0)?, Val::I32(12));
        r
    };
    call(&mut store, &i, "churn", &[Val::I32(100)])?;
    assert!(store.gc());
    // The handle made outside any scope still reaches its box.
    let s = kept.as_struct(&store)?.expect("a struct");
    assert_eq!(s.field(&store, 0)?, Val::I32(11));
    // The scoped one is refused, as an error, wherever it is used.
    let err = scoped.is_struct(&store).unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::ANYREF, Mutability::Var),
        Val::AnyRef(None),
    )?;
    let err = global
        .set(&mut store, Val::AnyRef(Some(scoped)))
        .unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");
    Ok(())
}

/// `call` through any context (a `RootScope`).
fn call_in(
    store: &mut impl AsContextMut<Data = ()>,
    i: &Instance,
    name: &str,
    arg: i32,
) -> Result<Vec<Val>> {
    let f = i
        .get_func(&mut *store, name)
        .ok_or_else(|| anyhow::anyhow!("no export {name}"))?;
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, &[Val::I32(arg)], &mut results)?;
    Ok(results)
}

#[test]
fn collection_while_compiled_code_is_live() -> Result<()> {
    if !Tier::Jit.is_available() {
        return Ok(());
    }
    // Compiled code holds a box only in a local while its import collects
    // and garbage of the same type is made: the box survives (freed, its
    // memory would hold the garbage's 99).
    let wat = r#"
    (module
      (type $box (struct (field i32)))
      (import "host" "collect" (func $collect (result i32)))
      (func $churn
        (local $n i32) (local.set $n (i32.const 100))
        (loop $l
          (drop (struct.new $box (i32.const 99)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "hold") (param i32) (result i32 i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (local.get 0)))
        (call $collect)
        (call $churn)
        (struct.get $box 0 (local.get $b))))"#;
    let mut store = Store::new(&engine(Tier::Jit, false), ());
    let collect = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| -> i32 {
        i32::from(caller.as_context_mut().gc())
    });
    let i = instance(&mut store, wat, &[collect.into()])?;
    let got = call(&mut store, &i, "hold", &[Val::I32(17)])?;
    assert_eq!(got, [Val::I32(1), Val::I32(17)], "collected, box kept");
    assert!(store.gc_stats().collections >= 1);
    Ok(())
}

/// Counts the host values dropped.
struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn externref_churn_keeps_the_store_flat() -> Result<()> {
    let wat = r#"
    (module
      (import "host" "make" (func $make (param i32) (result externref)))
      (global $keep (mut externref) (ref.null extern))
      (func (export "churn") (param $n i32)
        (loop $l
          (drop (call $make (local.get $n)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "keep") (param externref) (global.set $keep (local.get 0)))
      (func (export "kept") (result externref) (global.get $keep)))"#;
    for tier in [Tier::Interp, Tier::Jit] {
        if !tier.is_available() {
            continue;
        }
        let mut store = Store::new(&engine(tier, false), ());
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = dropped.clone();
        let make = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, _: i32| {
            Some(
                ExternRef::new(&mut caller, Counted(counter.clone()))
                    .expect("room for a host reference"),
            )
        });
        let i = instance(&mut store, wat, &[make.into()])?;
        {
            let mut scope = RootScope::new(&mut store);
            let kept = ExternRef::new(&mut scope, 42u64).expect("room for a host reference");
            let keep = i.get_func(&mut scope, "keep").expect("keep");
            keep.call(&mut scope, &[Val::ExternRef(Some(kept))], &mut [])?;
        }
        call(&mut store, &i, "churn", &[Val::I32(1_000_000)])?;
        store.gc();
        let stats = store.gc_stats();
        let dropped = dropped.load(std::sync::atomic::Ordering::Relaxed);
        // Everything but the kept value was dropped.
        assert_eq!(dropped, 1_000_000, "{tier:?}");
        assert_eq!(stats.host_values, 1, "{tier:?}: {stats:?}");
        // Interpreted, collections ran all along: the table stayed small
        // (4096 values between collections). Compiled code is live for
        // the whole loop, and nothing is collected while it is (no stack
        // maps yet): the values were dropped by the collection after it.
        if tier == Tier::Interp {
            assert!(stats.host_value_slots <= 8192, "{stats:?}");
            assert!(stats.collections >= 200, "{stats:?}");
        }
        // The value a global holds survived every collection.
        let [Val::ExternRef(Some(r))] = call(&mut store, &i, "kept", &[])?[..] else {
            panic!("kept returns the value")
        };
        let data = r.data(&store).and_then(|d| d.downcast_ref::<u64>());
        assert_eq!(data, Some(&42), "{tier:?}");
    }
    Ok(())
}

#[test]
fn host_references_are_heap_objects_and_a_full_heap_is_an_error() -> Result<()> {
    let mut config = Config::new();
    config.max_gc_heap_size(64 << 10);
    let mut store = Store::new(&Engine::new(&config)?, ());
    // Each host reference is a 16-byte object: a 64 KiB heap holds at
    // most 4095 of them (offset 0 is never used), all kept by handles.
    let mut kept = Vec::new();
    let err = loop {
        match ExternRef::new(&mut store, kept.len()) {
            Ok(r) => kept.push(r),
            Err(e) => break e,
        }
        assert!(kept.len() < 4096, "more objects than the heap holds");
    };
    assert_eq!(kept.len(), 4095);
    assert_eq!(err.to_string(), "GC heap out of memory");
    assert_eq!(store.gc_stats().objects, 4095);
    for (i, r) in kept.iter().enumerate() {
        let data = r.data(&store).and_then(|d| d.downcast_ref::<usize>());
        assert_eq!(data, Some(&i));
    }
    Ok(())
}

#[test]
fn a_panicking_host_function_leaves_a_usable_store() -> Result<()> {
    let wat = r#"
    (module
      (type $box (struct (field i32)))
      (import "host" "boom" (func $boom))
      (func (export "run") (result i32) (local $b (ref null $box))
        (local.set $b (struct.new $box (i32.const 5)))
        (call $boom)
        (struct.get $box 0 (local.get $b)))
      (func (export "make") (param i32) (result (ref $box))
        (struct.new $box (local.get 0))))"#;
    let mut store = Store::new(&engine(Tier::Interp, true), ());
    let boom = Func::wrap(&mut store, || -> () { panic!("host function panics") });
    let i = instance(&mut store, wat, &[boom.into()])?;
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call(&mut store, &i, "run", &[])
    }));
    assert!(run.is_err(), "the panic reaches the embedder");
    // The store goes on: collecting reads no freed stack, and new objects
    // work.
    store.gc();
    let [Val::AnyRef(Some(r))] = call(&mut store, &i, "make", &[Val::I32(3)])?[..] else {
        panic!("make returns a box")
    };
    let s = r.as_struct(&store)?.expect("a struct");
    assert_eq!(s.field(&store, 0)?, Val::I32(3));
    Ok(())
}
