//! The GC proposal through the API: structs, arrays, `i31` and the
//! `extern`/`any` conversions read and written from Rust and from wasm,
//! the heap's limits, deep subtype chains, in every tier (the JIT compiles
//! GC instructions; tiered execution compiles GC functions like others).

mod common;

use anyhow::Result;
use common::call;
use strata::*;

/// An engine with the GC proposal in `tier` (tiered: every function
/// compiled before its first call, on the calling thread).
fn engine(tier: Tier, max_heap: Option<u64>) -> Engine {
    let mut config = Config::new();
    config.tier(tier).wasm_gc(true);
    common::compile_at_once(&mut config, tier);
    if let Some(bytes) = max_heap {
        config.max_gc_heap_size(bytes);
    }
    Engine::new(&config).expect("valid configuration")
}

/// The tiers that run GC code: the interpreter, the JIT, and tiered
/// execution.
fn gc_tiers() -> Vec<Tier> {
    [Tier::Interp, Tier::Jit, Tier::Tiered]
        .into_iter()
        .filter(|t| t.is_available())
        .collect()
}

fn instance(store: &mut Store<()>, wat: &str) -> Result<Instance> {
    let module = Module::new(store.engine(), wat)?;
    Instance::new(store, &module, &[])
}

fn trap_of(e: anyhow::Error) -> Trap {
    *e.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("expected a trap, got {e:#}"))
}

const STRUCTS: &str = r#"
(module
  (type $s (struct (field $i (mut i32)) (field $b (mut i8)) (field $f f64)
                   (field $r (mut anyref))))
  (type $a (array (mut i16)))
  (func (export "make") (param i32 f64) (result (ref $s))
    (struct.new $s (local.get 0) (i32.const 0x1ff) (local.get 1) (ref.null any)))
  (func (export "get_i") (param anyref) (result i32)
    (struct.get $s $i (ref.cast (ref $s) (local.get 0))))
  (func (export "get_b_s") (param anyref) (result i32)
    (struct.get_s $s $b (ref.cast (ref $s) (local.get 0))))
  (func (export "get_r") (param anyref) (result anyref)
    (struct.get $s $r (ref.cast (ref $s) (local.get 0))))
  (func (export "new_arr") (param i32 i32) (result (ref $a))
    (array.new $a (local.get 1) (local.get 0)))
  (func (export "arr_get_s") (param anyref i32) (result i32)
    (array.get_s $a (ref.cast (ref $a) (local.get 0)) (local.get 1)))
  (func (export "i31_s") (param anyref) (result i32)
    (i31.get_s (ref.cast i31ref (local.get 0))))
  (func (export "i31_u") (param anyref) (result i32)
    (i31.get_u (ref.cast i31ref (local.get 0))))
  (func (export "internalize") (param externref) (result anyref)
    (any.convert_extern (local.get 0)))
  (func (export "externalize") (param anyref) (result externref)
    (extern.convert_any (local.get 0)))
  (func (export "eq") (param eqref eqref) (result i32)
    (ref.eq (local.get 0) (local.get 1)))
)
"#;

#[test]
fn structs_round_trip_through_the_api() -> Result<()> {
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, STRUCTS)?;
        let made = call(&mut store, &i, "make", &[Val::I32(7), Val::from(2.5f64)])?;
        let Val::AnyRef(Some(s)) = made[0] else {
            panic!("{tier:?}: expected a struct, got {made:?}")
        };
        assert!(s.is_struct(&store)? && s.is_eqref(&store)?);
        assert!(!s.is_array(&store)? && !s.is_i31(&store)?);
        let st = s.as_struct(&store)?.expect("a struct");
        assert_eq!(st.field(&store, 0)?, Val::I32(7));
        // 0x1ff stored in an i8 keeps 0xff: 255 zero-extended, -1 signed.
        assert_eq!(st.field(&store, 1)?, Val::I32(255));
        assert_eq!(call(&mut store, &i, "get_b_s", &[made[0]])?, [Val::I32(-1)]);
        assert_eq!(st.field(&store, 2)?, Val::from(2.5f64));
        assert_eq!(st.field(&store, 3)?, Val::AnyRef(None));
        // Writes from the host are what wasm reads.
        st.set_field(&mut store, 0, Val::I32(-42))?;
        assert_eq!(call(&mut store, &i, "get_i", &[made[0]])?, [Val::I32(-42)]);
        let one = AnyRef::from_i31(&store, I31::wrapping_i32(1));
        st.set_field(&mut store, 3, Val::AnyRef(Some(one)))?;
        assert_eq!(
            call(&mut store, &i, "get_r", &[made[0]])?,
            [Val::AnyRef(Some(one))]
        );
        // Wrong types, immutable fields and missing fields are errors.
        assert!(st.set_field(&mut store, 0, Val::I64(1)).is_err());
        assert!(st.set_field(&mut store, 2, Val::from(1.0f64)).is_err());
        assert!(st.field(&store, 4).is_err());
        // Typed calls take and return `Option<AnyRef>`.
        let get_i = i
            .get_func(&mut store, "get_i")
            .expect("exported")
            .typed::<Option<AnyRef>, i32>(&store)?;
        assert_eq!(get_i.call(&mut store, Some(s))?, -42);
        let make = i
            .get_func(&mut store, "make")
            .expect("exported")
            .typed::<(i32, f64), Option<AnyRef>>(&store)?;
        let other = make.call(&mut store, (8, 0.5))?;
        assert_eq!(get_i.call(&mut store, other)?, 8);
        let err = get_i.call(&mut store, None).unwrap_err();
        assert_eq!(trap_of(err), Trap::CastFailure);
        // A struct is not an i31: the cast in `i31_s` fails.
        let err = call(&mut store, &i, "i31_s", &[made[0]]).unwrap_err();
        assert_eq!(trap_of(err), Trap::CastFailure);
    }
    Ok(())
}

#[test]
fn arrays_round_trip_and_check_bounds() -> Result<()> {
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, STRUCTS)?;
        let made = call(&mut store, &i, "new_arr", &[Val::I32(3), Val::I32(0x8001)])?;
        let Val::AnyRef(Some(a)) = made[0] else {
            panic!("{tier:?}: expected an array, got {made:?}")
        };
        let arr = a.as_array(&store)?.expect("an array");
        assert_eq!(arr.len(&store)?, 3);
        // An i16 element: 0x8001 zero-extended from the host, signed in wasm.
        assert_eq!(arr.get(&store, 2)?, Val::I32(0x8001));
        arr.set(&mut store, 1, Val::I32(0x7fff))?;
        let get = |store: &mut Store<()>, k| call(store, &i, "arr_get_s", &[made[0], Val::I32(k)]);
        assert_eq!(get(&mut store, 0)?, [Val::I32(0x8001 - 0x10000)]);
        assert_eq!(get(&mut store, 1)?, [Val::I32(0x7fff)]);
        assert!(arr.get(&store, 3).is_err());
        assert_eq!(
            trap_of(get(&mut store, 3).unwrap_err()),
            Trap::ArrayOutOfBounds
        );
        assert_eq!(
            trap_of(get(&mut store, -1).unwrap_err()),
            Trap::ArrayOutOfBounds
        );
    }
    Ok(())
}

#[test]
fn i31_and_extern_conversions() -> Result<()> {
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, STRUCTS)?;
        assert_eq!(I31::new_i32(1 << 30), None);
        assert_eq!(
            I31::new_i32(-(1 << 30)).map(|v| v.get_i32()),
            Some(-(1 << 30))
        );
        let m3 = Val::AnyRef(Some(AnyRef::from_i31(&store, I31::wrapping_i32(-3))));
        assert_eq!(call(&mut store, &i, "i31_s", &[m3])?, [Val::I32(-3)]);
        // -3 in 31 bits, zero-extended: 2^31 - 3.
        assert_eq!(
            call(&mut store, &i, "i31_u", &[m3])?,
            [Val::I32(0x7fff_fffd)]
        );
        let Val::AnyRef(Some(r)) = m3 else {
            unreachable!()
        };
        assert_eq!(r.as_i31(&store)?.map(|v| v.get_u32()), Some(0x7fff_fffd));
        // i31s are compared by value.
        let m3b = Val::AnyRef(Some(AnyRef::from_i31(
            &store,
            I31::wrapping_u32(0xffff_fffd),
        )));
        assert_eq!(call(&mut store, &i, "eq", &[m3, m3b])?, [Val::I32(1)]);

        // A host reference survives internalizing and externalizing.
        let host = ExternRef::new(&mut store, 5u32).expect("room for a host reference");
        let any = call(&mut store, &i, "internalize", &[Val::ExternRef(Some(host))])?;
        let Val::AnyRef(Some(inside)) = any[0] else {
            panic!("expected an anyref, got {any:?}")
        };
        assert!(!inside.is_eqref(&store)? && !inside.is_struct(&store)?);
        let back = call(&mut store, &i, "externalize", &any)?;
        assert_eq!(back, [Val::ExternRef(Some(host))]);
        let via_api = ExternRef::convert_any(&store, inside)?;
        assert_eq!(via_api, host);
        let data = via_api.data(&store).and_then(|d| d.downcast_ref::<u32>());
        assert_eq!(data, Some(&5));
        // A struct externalized and internalized again is the same struct.
        let s = call(&mut store, &i, "make", &[Val::I32(1), Val::from(0.0f64)])?;
        let ext = call(&mut store, &i, "externalize", &s)?;
        let Val::ExternRef(Some(e)) = ext[0] else {
            panic!("expected an externref, got {ext:?}")
        };
        assert!(e.data(&store).is_none());
        assert_eq!(call(&mut store, &i, "internalize", &ext)?, s);
        let Val::AnyRef(Some(sr)) = s[0] else {
            unreachable!()
        };
        assert_eq!(AnyRef::convert_extern(&mut store, e)?, sr);
    }
    Ok(())
}

#[test]
fn huge_arrays_and_the_heap_limit_trap() -> Result<()> {
    let wat = r#"
    (module
      (type $bytes (array (mut i8)))
      (type $longs (array (mut i64)))
      (func (export "longs") (param i32) (result i32)
        (array.len (array.new_default $longs (local.get 0))))
      (func (export "bytes") (param i32) (result i32)
        (array.len (array.new_default $bytes (local.get 0))))
      (func (export "fill") (param i32)
        (loop $l
          (drop (array.new_default $bytes (i32.const 1000)))
          (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
      (type $keep (array (mut (ref null $bytes))))
      (global $kept (mut (ref null $keep)) (ref.null $keep))
      ;; Keeps every array it makes reachable from a global.
      (func (export "keep") (param i32)
        (global.set $kept (array.new_default $keep (local.get 0)))
        (loop $l
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (array.set $keep (global.get $kept) (local.get 0)
            (array.new_default $bytes (i32.const 1000)))
          (br_if $l (local.get 0))))
    )"#;
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, Some(64 << 10)), ());
        let i = instance(&mut store, wat)?;
        // 2^32 - 1 elements (the most an i32 length can say) do not fit
        // the 32-bit heap whatever the limit.
        for name in ["longs", "bytes"] {
            let err = call(&mut store, &i, name, &[Val::I32(-1)]).unwrap_err();
            assert_eq!(trap_of(err), Trap::AllocationTooLarge, "{tier:?} {name}");
        }
        assert_eq!(
            call(&mut store, &i, "bytes", &[Val::I32(10)])?,
            [Val::I32(10)]
        );
        // 64 KiB hold 64 arrays of 1016 bytes at most: 100 live ones do
        // not fit, but garbage is collected, however much of it is made,
        // in either tier.
        call(&mut store, &i, "fill", &[Val::I32(10_000)])?;
        let err = call(&mut store, &i, "keep", &[Val::I32(100)]).unwrap_err();
        assert_eq!(trap_of(err), Trap::GcHeapOutOfMemory, "{tier:?}");
        assert_eq!(Trap::GcHeapOutOfMemory.message(), "GC heap out of memory");
        // The store goes on: what needs no allocation still runs.
        let m3 = Val::AnyRef(Some(AnyRef::from_i31(&store, I31::wrapping_i32(2))));
        let j = instance(&mut store, STRUCTS)?;
        assert_eq!(call(&mut store, &j, "i31_s", &[m3])?, [Val::I32(2)]);
    }
    Ok(())
}

/// A module with a chain of `depth` struct subtypes, `$t0` the root, and
/// functions testing and casting a new object of one type to another.
fn chain(depth: usize) -> String {
    let mut wat = String::from("(module (rec\n");
    wat.push_str("  (type $t0 (sub (struct (field i32))))\n");
    for k in 1..=depth {
        wat.push_str(&format!(
            "  (type $t{k} (sub $t{} (struct (field i32))))\n",
            k - 1
        ));
    }
    wat.push_str(")\n");
    let new = |k: usize| format!("(struct.new $t{k} (i32.const {k}))");
    wat.push_str(&format!(
        "  (func (export \"leaf_is_root\") (result i32) (ref.test (ref $t0) {}))\n",
        new(depth)
    ));
    wat.push_str(&format!(
        "  (func (export \"root_is_leaf\") (result i32) (ref.test (ref $t{depth}) {}))\n",
        new(0)
    ));
    wat.push_str(&format!(
        "  (func (export \"cast_mid\") (result i32) (struct.get $t{m} 0 (ref.cast (ref $t{m}) {})))\n",
        new(depth),
        m = depth / 2
    ));
    wat.push_str(&format!(
        "  (func (export \"cast_down\") (drop (ref.cast (ref $t{depth}) {})))\n",
        new(depth / 2)
    ));
    wat.push(')');
    wat
}

#[test]
fn deep_subtype_chains_cast_in_both_directions() -> Result<()> {
    // The spec allows chains of 63 supertypes.
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, &chain(63))?;
        assert_eq!(call(&mut store, &i, "leaf_is_root", &[])?, [Val::I32(1)]);
        assert_eq!(call(&mut store, &i, "root_is_leaf", &[])?, [Val::I32(0)]);
        // The leaf's field, read through its middle supertype.
        assert_eq!(call(&mut store, &i, "cast_mid", &[])?, [Val::I32(63)]);
        let err = call(&mut store, &i, "cast_down", &[]).unwrap_err();
        assert_eq!(trap_of(err), Trap::CastFailure);
    }
    // One more is invalid: an error, not a panic.
    let engine = engine(Tier::Interp, None);
    assert!(Module::new(&engine, chain(64)).is_err());
    Ok(())
}

#[test]
fn casts_of_function_references_use_their_types() -> Result<()> {
    let wat = r#"
    (module
      (type $ft (sub (func (result i32))))
      (type $sub (sub $ft (func (result i32))))
      (type $other (func (param i32)))
      (func $f (type $sub) (i32.const 1))
      (func $g (type $other))
      (table funcref (elem $f $g))
      (func (export "is_ft") (param i32) (result i32)
        (ref.test (ref $ft) (table.get (local.get 0))))
      (func (export "is_sub_null") (result i32)
        (ref.test (ref null $sub) (ref.null func)))
      (func (export "call_ft") (param i32) (result i32)
        (call_ref $ft (ref.cast (ref $ft) (table.get (local.get 0)))))
    )"#;
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, wat)?;
        assert_eq!(
            call(&mut store, &i, "is_ft", &[Val::I32(0)])?,
            [Val::I32(1)]
        );
        assert_eq!(
            call(&mut store, &i, "is_ft", &[Val::I32(1)])?,
            [Val::I32(0)]
        );
        assert_eq!(call(&mut store, &i, "is_sub_null", &[])?, [Val::I32(1)]);
        assert_eq!(
            call(&mut store, &i, "call_ft", &[Val::I32(0)])?,
            [Val::I32(1)]
        );
        let err = call(&mut store, &i, "call_ft", &[Val::I32(1)]).unwrap_err();
        assert_eq!(trap_of(err), Trap::CastFailure);
    }
    Ok(())
}

#[test]
fn constant_expressions_allocate() -> Result<()> {
    let wat = r#"
    (module
      (type $p (struct (field i32) (field i64)))
      (type $a (array i8))
      (global $g (ref $p) (struct.new $p (i32.const 3) (i64.const -4)))
      (global $h (ref $a) (array.new_fixed $a 3 (i32.const 1) (i32.const 2) (i32.const 300)))
      (global $i i31ref (ref.i31 (i32.const -1)))
      (table $t 2 anyref)
      (elem (table $t) (i32.const 0) anyref (item (array.new_default $a (i32.const 4))))
      (func (export "g") (result i64) (struct.get $p 1 (global.get $g)))
      (func (export "h") (result i32) (array.get_u $a (global.get $h) (i32.const 2)))
      (func (export "i") (result i32) (i31.get_u (global.get $i)))
      (func (export "t") (result i32) (array.len (ref.cast (ref $a) (table.get $t (i32.const 0)))))
    )"#;
    for tier in gc_tiers() {
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, wat)?;
        assert_eq!(call(&mut store, &i, "g", &[])?, [Val::I64(-4)]);
        // 300 in an i8 is 44.
        assert_eq!(call(&mut store, &i, "h", &[])?, [Val::I32(44)]);
        assert_eq!(call(&mut store, &i, "i", &[])?, [Val::I32(0x7fff_ffff)]);
        assert_eq!(call(&mut store, &i, "t", &[])?, [Val::I32(4)]);
    }
    Ok(())
}

#[test]
fn gc_functions_compile_and_call_across_tiers() -> Result<()> {
    // `gc` recurses through a GC function and a plain one: compiled in the
    // JIT, interpreted as a whole module in tiered execution (until the
    // collector reads compiled frames), in one tier either way.
    let wat = r#"
    (module
      (type $s (struct (field i32)))
      (func $plain (export "plain") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (call $gc (i32.sub (local.get 0) (i32.const 1))))))
      (func $gc (export "gc") (param i32) (result i32)
        (i32.add (struct.get $s 0 (struct.new $s (i32.const 1)))
                 (call $plain (local.get 0)))))"#;
    for tier in [Tier::Jit, Tier::Tiered] {
        if !tier.is_available() {
            continue;
        }
        let mut store = Store::new(&engine(tier, None), ());
        let i = instance(&mut store, wat)?;
        for _ in 0..3 {
            // gc(n) = 1 + plain(n) = 1 + gc(n - 1) ... = n + 1.
            assert_eq!(call(&mut store, &i, "gc", &[Val::I32(5)])?, [Val::I32(6)]);
            assert_eq!(
                call(&mut store, &i, "plain", &[Val::I32(5)])?,
                [Val::I32(5)]
            );
        }
        // A deep recursion alternating between the two functions never
        // enters the other tier afresh at every call.
        assert_eq!(
            call(&mut store, &i, "gc", &[Val::I32(2_000)])?,
            [Val::I32(2_001)]
        );
    }
    Ok(())
}
