//! Converting script arguments to values and checking results against the
//! script's expectations (including NaN patterns).

use anyhow::{bail, Result};
use strata::{ExternRef, Store, Val};
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
            wast::core::AbstractHeapType::Func => Val::FuncRef(None),
            wast::core::AbstractHeapType::Extern => Val::ExternRef(None),
            other => bail!("unsupported null reference type {other:?}"),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(store, *n))),
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
            bail!("result {i}: expected {}, got {}", describe(w), show(g));
        }
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
        (Val::FuncRef(r), WastRetCore::RefNull(_)) => r.is_none(),
        (Val::ExternRef(r), WastRetCore::RefNull(_)) => r.is_none(),
        (Val::FuncRef(r), WastRetCore::RefFunc(_)) => r.is_some(),
        (Val::ExternRef(r), WastRetCore::RefExtern(None)) => r.is_some(),
        (Val::ExternRef(Some(r)), WastRetCore::RefExtern(Some(n))) => r
            .data(store)
            .and_then(|d| d.downcast_ref::<u32>())
            .is_some_and(|v| v == n),
        (_, WastRetCore::Either(cases)) => cases.iter().any(|c| matches(store, got, c)),
        _ => false,
    }
}

fn describe(want: &WastRetCore<'_>) -> String {
    match want {
        WastRetCore::F32(NanPattern::Value(v)) => format!("f32 {:#x}", v.bits),
        WastRetCore::F64(NanPattern::Value(v)) => format!("f64 {:#x}", v.bits),
        other => format!("{other:?}"),
    }
}

fn show(v: &Val) -> String {
    match v {
        Val::F32(bits) => format!("f32 {bits:#x} ({})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64 {bits:#x} ({})", f64::from_bits(*bits)),
        other => format!("{other:?}"),
    }
}
