//! `EqRef` in the Rust API: made from an `i31` or received from wasm,
//! asked what it is (`is_i31`, `as_struct`, `unwrap_array`, ...),
//! converted to and from `AnyRef`, compared as `ref.eq` compares, and
//! passed through typed calls and host functions as `Option<EqRef>`
//! (`eqref`), in both tiers. Expected values follow the GC proposal:
//! `ref.eq` holds for the same object and for `i31`s of equal value.

use anyhow::Result;
use strata::*;

const WAT: &str = r#"
(module
  (type $s (struct (field (mut i32))))
  (type $a (array (mut i8)))
  (import "host" "kind" (func $kind (param eqref) (result i32)))
  (func (export "same") (param eqref eqref) (result i32)
    (ref.eq (local.get 0) (local.get 1)))
  (func (export "mk_s") (param i32) (result eqref) (struct.new $s (local.get 0)))
  (func (export "mk_a") (param i32) (result eqref) (array.new_default $a (local.get 0)))
  (func (export "mk_i31") (param i32) (result eqref) (ref.i31 (local.get 0)))
  (func (export "id") (param eqref) (result eqref) (local.get 0))
  (func (export "internalize") (param externref) (result anyref)
    (any.convert_extern (local.get 0)))
  (func (export "kinds") (result i32)
    ;; struct 1, i31 2, array 3, null 0, as decimal digits: 1230.
    (i32.add
      (i32.add
        (i32.mul (call $kind (struct.new $s (i32.const 1))) (i32.const 1000))
        (i32.mul (call $kind (ref.i31 (i32.const 4))) (i32.const 100)))
      (i32.add
        (i32.mul (call $kind (array.new_default $a (i32.const 2))) (i32.const 10))
        (call $kind (ref.null eq))))))"#;

fn setup(tier: Tier) -> Result<(Store<()>, Instance)> {
    let mut config = Config::new();
    config.tier(tier).wasm_gc(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    // What the host sees of an `eqref` argument: 1 struct, 2 i31, 3 array,
    // 0 null.
    let kind = Func::wrap(
        &mut store,
        |caller: Caller<'_, ()>, r: Option<EqRef>| -> Result<i32> {
            Ok(match r {
                None => 0,
                Some(r) if r.is_struct(&caller)? => 1,
                Some(r) if r.is_i31(&caller)? => 2,
                Some(r) if r.is_array(&caller)? => 3,
                Some(_) => -1,
            })
        },
    );
    let module = Module::new(&engine, WAT)?;
    let i = Instance::new(&mut store, &module, &[kind.into()])?;
    Ok((store, i))
}

fn tiers() -> impl Iterator<Item = Tier> {
    [Tier::Interp, Tier::Jit]
        .into_iter()
        .filter(|t| t.is_available())
}

#[test]
fn eqrefs_say_what_they_are() -> Result<()> {
    for tier in tiers() {
        let (mut store, i) = setup(tier)?;
        let mk_s = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_s")?;
        let mk_a = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_a")?;
        let mk_i31 = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_i31")?;

        let s = mk_s.call(&mut store, 5)?.expect("a struct");
        assert!(s.is_struct(&store)? && !s.is_array(&store)? && !s.is_i31(&store)?);
        assert_eq!(s.as_i31(&store)?, None);
        assert!(s.unwrap_i31(&store).is_err());
        assert!(s.unwrap_array(&store).is_err());
        let st = s.unwrap_struct(&store)?;
        assert_eq!(st.field(&store, 0)?, Val::I32(5));
        assert_eq!(st.to_eqref(), s);

        let a = mk_a.call(&mut store, 3)?.expect("an array");
        assert!(a.is_array(&store)? && !a.is_struct(&store)?);
        assert_eq!(a.as_struct(&store)?, None);
        assert_eq!(a.unwrap_array(&store)?.len(&store)?, 3);
        assert_eq!(EqRef::from(a.unwrap_array(&store)?), a);

        let n = mk_i31.call(&mut store, -5)?.expect("an i31");
        assert!(n.is_i31(&store)?);
        assert_eq!(n.unwrap_i31(&store)?.get_i32(), -5, "{tier:?}");
        assert_eq!(n.as_array(&store)?, None);

        // The host sees every kind an `eqref` parameter can hold.
        let kinds = i.get_typed_func::<(), i32>(&mut store, "kinds")?;
        assert_eq!(kinds.call(&mut store, ())?, 1230, "{tier:?}");
    }
    Ok(())
}

#[test]
fn eqrefs_compare_as_ref_eq_does() -> Result<()> {
    for tier in tiers() {
        let (mut store, i) = setup(tier)?;
        let mk_s = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_s")?;
        let same = i.get_typed_func::<(Option<EqRef>, Option<EqRef>), i32>(&mut store, "same")?;
        let s1 = mk_s.call(&mut store, 5)?;
        let s2 = mk_s.call(&mut store, 5)?;
        let seven = Some(EqRef::from_i31(&store, I31::wrapping_i32(7)));
        let seven_again = Some(EqRef::from_i31(&store, I31::wrapping_u32(7)));
        let eight = Some(EqRef::from_i31(&store, I31::wrapping_i32(8)));
        for (a, b, want) in [
            (s1, s1, 1),
            (s1, s2, 0),
            (seven, seven_again, 1),
            (seven, eight, 0),
            (s1, seven, 0),
            (None, None, 1),
            (s1, None, 0),
        ] {
            assert_eq!(
                same.call(&mut store, (a, b))?,
                want,
                "{tier:?}: {a:?} {b:?}"
            );
            if let (Some(a), Some(b)) = (a, b) {
                assert_eq!(EqRef::ref_eq(&store, &a, &b)?, want == 1);
                assert_eq!(a.ptr_eq(&b), want == 1);
            }
        }
        // Untyped, through `Val`.
        let f = i.get_func(&mut store, "same").expect("same");
        let mut out = [Val::I32(-1)];
        let s1 = s1.expect("a struct");
        f.call(&mut store, &[s1.into(), Val::from(Some(s1))], &mut out)?;
        assert_eq!(out, [Val::I32(1)]);
        // The identity on `eqref` gives the same reference back, and null.
        let id = i.get_typed_func::<Option<EqRef>, Option<EqRef>>(&mut store, "id")?;
        assert_eq!(id.call(&mut store, Some(s1))?, Some(s1));
        assert_eq!(id.call(&mut store, None)?, None);
    }
    Ok(())
}

#[test]
fn eqrefs_convert_to_and_from_anyrefs() -> Result<()> {
    let (mut store, i) = setup(Tier::Interp)?;
    let mk_s = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_s")?;
    let s = mk_s.call(&mut store, 9)?.expect("a struct");
    let any: AnyRef = s.into();
    assert_eq!(any, s.to_anyref());
    assert_eq!(any.as_eqref(&store)?, Some(s));
    assert_eq!(any.unwrap_eqref(&store)?, s);
    assert_eq!(Val::from(s).eqref(&store)?, Some(Some(s)));
    assert_eq!(Val::AnyRef(None).eqref(&store)?, Some(None));
    assert_eq!(Val::I32(1).eqref(&store)?, None);
    // An internalized host reference is an `anyref` but no `eqref`.
    let ext = ExternRef::new(&mut store, 1u8).expect("room for a host reference");
    let internalize =
        i.get_typed_func::<Option<ExternRef>, Option<AnyRef>>(&mut store, "internalize")?;
    let host = internalize.call(&mut store, Some(ext))?.expect("an anyref");
    assert_eq!(host.as_eqref(&store)?, None);
    assert!(host.unwrap_eqref(&store).is_err());
    assert_eq!(Val::AnyRef(Some(host)).eqref(&store)?, None);
    // A signature whose result is an `anyref` does not type as `eqref`.
    assert!(i
        .get_typed_func::<Option<ExternRef>, Option<EqRef>>(&mut store, "internalize")
        .is_err());
    Ok(())
}

#[test]
fn eqref_handles_are_rooted_like_anyrefs() -> Result<()> {
    let (mut store, i) = setup(Tier::Interp)?;
    let mk_s = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_s")?;
    let scoped = {
        let mut scope = RootScope::new(&mut store);
        mk_s.call(&mut scope, 1)?.expect("a struct")
    };
    let kept = mk_s.call(&mut store, 2)?.expect("a struct");
    assert!(store.gc());
    assert_eq!(kept.unwrap_struct(&store)?.field(&store, 0)?, Val::I32(2));
    let err = EqRef::ref_eq(&store, &scoped, &kept).unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");
    assert!(scoped.is_struct(&store).is_err());
    let same = i.get_typed_func::<(Option<EqRef>, Option<EqRef>), i32>(&mut store, "same")?;
    assert!(same.call(&mut store, (Some(scoped), None)).is_err());
    Ok(())
}

#[test]
fn manually_rooted_handles_outlive_scopes_until_unrooted() -> Result<()> {
    let (mut store, i) = setup(Tier::Interp)?;
    let mk_s = i.get_typed_func::<i32, Option<EqRef>>(&mut store, "mk_s")?;
    let manual = {
        let mut scope = RootScope::new(&mut store);
        let s = mk_s.call(&mut scope, 31)?.expect("a struct").to_anyref();
        s.to_manually_rooted(&scope)?
    };
    // The scope ended: only the manual root keeps the struct.
    assert!(store.gc());
    let churn = mk_s.call(&mut store, 99)?;
    assert!(churn.is_some());
    let st = manual.as_struct(&store)?.expect("a struct");
    assert_eq!(st.field(&store, 0)?, Val::I32(31));
    // A scoped copy dies with its scope; the manual root stays.
    {
        let scope = RootScope::new(&mut store);
        let copy = manual.to_rooted(&scope)?;
        assert_eq!(copy, manual);
    }
    manual.unroot(&store);
    let err = manual.is_struct(&store).unwrap_err();
    assert!(err.to_string().contains("root scope ended"), "{err:#}");
    assert!(manual.to_manually_rooted(&store).is_err());
    Ok(())
}
