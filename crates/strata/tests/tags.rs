//! Exception tags in the embedding API: creating them, importing and
//! exporting them (tags are generative; importing shares one), their
//! types, and the link errors of a mismatched tag.

use anyhow::Result;
use strata::*;

fn engine(exceptions: bool) -> Engine {
    let mut config = Config::new();
    config.tier(Tier::Interp).wasm_exceptions(exceptions);
    Engine::new(&config).expect("engine")
}

const WAT: &str = r#"(module
    (import "host" "t" (tag $imp (param i32)))
    (tag $own (export "own") (param i64 f32))
    (export "imp" (tag $imp)))"#;

fn tag_type(params: impl IntoIterator<Item = ValType>) -> TagType {
    TagType::new(FuncType::new(params, []))
}

#[test]
fn tags_link_by_identity_and_type() -> Result<()> {
    let engine = engine(true);
    let module = Module::new(&engine, WAT)?;
    let imports: Vec<_> = module.imports().map(|i| i.ty()).collect();
    assert_eq!(imports, [ExternType::Tag(tag_type([ValType::I32]))]);
    let exports: Vec<_> = module.exports().map(|e| e.ty().to_string()).collect();
    assert_eq!(exports, ["(tag (param i64 f32))", "(tag (param i32))"]);

    let mut store = Store::new(&engine, ());
    let host = Tag::new(&mut store, &tag_type([ValType::I32]))?;
    let mut linker = Linker::new(&engine);
    linker.define("host", "t", host)?;
    let a = linker.instantiate(&mut store, &module)?;
    let b = linker.instantiate(&mut store, &module)?;
    let own_a = a.get_tag(&store, "own").expect("own tag");
    let own_b = b.get_tag(&store, "own").expect("own tag");
    assert!(
        !Tag::eq(&own_a, &own_b, &store),
        "each instantiation makes a new tag"
    );
    assert!(Tag::eq(
        &a.get_tag(&store, "imp").expect("imp"),
        &host,
        &store
    ));
    assert!(Tag::eq(
        &b.get_tag(&store, "imp").expect("imp"),
        &host,
        &store
    ));
    assert_eq!(own_a.ty(&store), tag_type([ValType::I64, ValType::F32]));
    assert!(a.get_func(&store, "own").is_none());
    assert!(matches!(a.get_export(&store, "own"), Some(Extern::Tag(_))));

    // A tag of another type, or another kind of item, does not link.
    let wrong = Tag::new(&mut store, &tag_type([ValType::I64]))?;
    let err = Instance::new(&mut store, &module, &[wrong.into()]).unwrap_err();
    assert!(
        format!("{err:#}").contains(
            "incompatible import type for `host::t`: expected (tag (param i32)), found (tag (param i64))"
        ),
        "{err:#}"
    );
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )?;
    assert!(Instance::new(&mut store, &module, &[global.into()]).is_err());
    Ok(())
}

#[test]
fn tags_need_the_exceptions_switch_and_no_results() -> Result<()> {
    let mut store = Store::new(&engine(false), ());
    let err = Tag::new(&mut store, &tag_type([])).unwrap_err();
    assert!(err.to_string().contains("wasm_exceptions"), "{err}");
    assert!(Module::new(store.engine(), WAT).is_err());

    let mut store = Store::new(&engine(true), ());
    let with_result = TagType::new(FuncType::new([], [ValType::I32]));
    let err = Tag::new(&mut store, &with_result).unwrap_err();
    assert!(err.to_string().contains("no results"), "{err}");
    Ok(())
}

#[test]
#[should_panic(expected = "object used with the wrong store")]
fn a_tag_of_another_store_is_refused() {
    let engine = engine(true);
    let mut one = Store::new(&engine, ());
    let other = Store::new(&engine, ());
    let tag = Tag::new(&mut one, &tag_type([])).expect("tag");
    tag.ty(&other);
}
