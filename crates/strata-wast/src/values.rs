//! Converting script arguments to values and checking results against the
//! script's expectations (including NaN patterns).

use anyhow::{bail, Result};
use strata::{ExternRef, Store, Val};
use wast::core::AbstractHeapType::{self, Extern, Func};
use wast::core::{HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// The value of a script argument; `ref.extern N` becomes a host reference
/// whose payload is `N`.
pub(crate) fn arg(store: &mut Store<()>, arg: &WastArg<'_>) -> Result<Val> {
    let WastArg::Core(arg) = arg else {
        bail!("component-model arguments are not supported");
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty, .. }) => match ty {
            Func => Val::FuncRef(None),
            Extern => Val::ExternRef(None),
            other => bail!("unsupported null reference type {other:?}"),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(store, *n))),
        WastArgCore::V128(_) => bail!("SIMD (v128) values are not supported"),
        other => bail!("unsupported argument {other:?}"),
    })
}

/// Checks `got` against the script's expected results.
pub(crate) fn check_results(store: &Store<()>, got: &[Val], want: &[WastRet<'_>]) -> Result<()> {
    if got.len() != want.len() {
        bail!(
            "expected {} results, got {}: {got:?}",
            want.len(),
            got.len()
        );
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let WastRet::Core(w) = w else {
            bail!("component-model results are not supported");
        };
        if !matches(store, g, w) {
            bail!(
                "result {i}: expected {}, got {}",
                describe(w),
                show(store, g)
            );
        }
    }
    Ok(())
}

/// Fails when an expected result is a SIMD value, which Strata does not
/// support; checked before running so the message says why.
pub(crate) fn check_supported(want: &[WastRet<'_>]) -> Result<()> {
    if want
        .iter()
        .any(|w| matches!(w, WastRet::Core(WastRetCore::V128(_))))
    {
        bail!("SIMD (v128) values are not supported");
    }
    Ok(())
}

fn matches(store: &Store<()>, got: &Val, want: &WastRetCore<'_>) -> bool {
    match (got, want) {
        (Val::I32(a), WastRetCore::I32(b)) => a == b,
        (Val::I64(a), WastRetCore::I64(b)) => a == b,
        (Val::F32(a), WastRetCore::F32(p)) => match p {
            NanPattern::Value(v) => *a == v.bits,
            NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => a & 0x7fc0_0000 == 0x7fc0_0000,
        },
        (Val::F64(a), WastRetCore::F64(p)) => match p {
            NanPattern::Value(v) => *a == v.bits,
            NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => a & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        },
        (Val::FuncRef(r), WastRetCore::RefNull(ty)) => r.is_none() && null_of(ty, Func),
        (Val::ExternRef(r), WastRetCore::RefNull(ty)) => r.is_none() && null_of(ty, Extern),
        (Val::FuncRef(r), WastRetCore::RefFunc(_)) => r.is_some(),
        (Val::ExternRef(r), WastRetCore::RefExtern(None)) => r.is_some(),
        (Val::ExternRef(Some(r)), WastRetCore::RefExtern(Some(n))) => r
            .data(store)
            .and_then(|d| d.downcast_ref::<u32>())
            .is_some_and(|v| v == n),
        (Val::FuncRef(Some(_)) | Val::ExternRef(Some(_)), WastRetCore::RefAny) => true,
        (_, WastRetCore::Either(cases)) => cases.iter().any(|c| matches(store, got, c)),
        _ => false,
    }
}

/// Whether an expected `ref.null` of type `ty` (any null when absent)
/// accepts a null of the abstract heap type `of`.
fn null_of(ty: &Option<HeapType<'_>>, of: AbstractHeapType) -> bool {
    match ty {
        None => true,
        Some(HeapType::Abstract { ty, .. }) => *ty == of,
        Some(_) => false,
    }
}

fn describe(want: &WastRetCore<'_>) -> String {
    match want {
        WastRetCore::F32(NanPattern::Value(v)) => format!("f32 {:#x}", v.bits),
        WastRetCore::F64(NanPattern::Value(v)) => format!("f64 {:#x}", v.bits),
        WastRetCore::RefNull(Some(HeapType::Abstract { ty: Func, .. })) => "ref.null func".into(),
        WastRetCore::RefNull(Some(HeapType::Abstract { ty: Extern, .. })) => {
            "ref.null extern".into()
        }
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        other => format!("{other:?}"),
    }
}

fn show(store: &Store<()>, v: &Val) -> String {
    match v {
        Val::ExternRef(Some(r)) => match r.data(store).and_then(|d| d.downcast_ref::<u32>()) {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern (host data)".to_string(),
        },
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::F32(bits) => format!("f32 {bits:#x} ({})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64 {bits:#x} ({})", f64::from_bits(*bits)),
        other => format!("{other:?}"),
    }
}
