//! Script values: arguments become [`Val`]s, results are matched against the
//! script's patterns (NaN patterns, v128 lanes, references, `either`).
//!
//! What the embedding API cannot express yet is decided in two functions,
//! [`heap_type_gap`] and [`pattern_gap`]: a directive that needs such a value
//! fails with their message. Nulls of every hierarchy are values
//! (`Val::FuncRef(None)`, `ExternRef(None)`, `AnyRef(None)`,
//! `ExnRef(None)`); non-null GC references are checked through the API's
//! `AnyRef` (`ref.host N` is an internalized `ref.extern N`, as in
//! wasmtime's runner). A non-null exnref is a value too (`ExnRef`), though
//! the pinned `wast` has no result pattern for one. Nothing else in the
//! runner looks inside a value.

use anyhow::{bail, Result};
use std::fmt::Write as _;
use strata::{AnyRef, ExternRef, Store, Val, ValType};
use wast::core::{AbstractHeapType as Heap, HeapType, NanPattern, V128Pattern};
use wast::core::{WastArgCore, WastRetCore};
use wast::token::{F32, F64};
use wast::{WastArg, WastRet};

const SHARED: &str = "shared references (shared-everything threads) are not supported by the \
                      embedding API yet";
const CONT: &str = "continuation references (stack switching) are not supported by the \
                    embedding API yet";

/// Why a null of heap type `ty` cannot be passed or checked through the
/// embedding API today; `None` when it can.
fn heap_type_gap(ty: &HeapType<'_>) -> Option<&'static str> {
    match ty {
        HeapType::Abstract { shared: true, .. } => Some(SHARED),
        HeapType::Abstract { ty, .. } => match ty {
            Heap::Cont | Heap::NoCont => Some(CONT),
            _ => None,
        },
        HeapType::Concrete(_) | HeapType::Exact(_) => None,
    }
}

/// The hierarchy (top heap type) of an abstract heap type, `None` for a
/// concrete one, whose hierarchy the script text does not say.
fn hierarchy(ty: &HeapType<'_>) -> Option<strata::HeapType> {
    match ty {
        HeapType::Abstract { ty, .. } => Some(match ty {
            Heap::Func | Heap::NoFunc => strata::HeapType::Func,
            Heap::Extern | Heap::NoExtern => strata::HeapType::Extern,
            Heap::Exn | Heap::NoExn => strata::HeapType::Exn,
            _ => strata::HeapType::Any,
        }),
        _ => None,
    }
}

/// The null of hierarchy `top`.
fn null_of(top: strata::HeapType) -> Val {
    Val::default_for(ValType::Ref(strata::RefType::new(true, top)))
}

/// Why a result pattern cannot be checked through the embedding API today;
/// `None` when it can (`either` is decided case by case in [`matches`]).
fn pattern_gap(want: &WastRetCore<'_>) -> Option<&'static str> {
    match want {
        WastRetCore::RefNull(Some(ty)) => heap_type_gap(ty),
        WastRetCore::RefI31Shared => Some(SHARED),
        _ => None,
    }
}

/// The value of a script argument. `ref.extern N` becomes a host reference
/// whose payload is the `u32` `N`, which [`check_results`] reads back.
///
/// A null takes its hierarchy from the heap type, or, for a concrete one,
/// from the parameter it is passed for (`param`).
pub(crate) fn arg(store: &mut Store<()>, arg: &WastArg<'_>, param: Option<ValType>) -> Result<Val> {
    let WastArg::Core(arg) = arg else {
        bail!("component-model arguments are not supported");
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(ty) => match (heap_type_gap(ty), hierarchy(ty), param) {
            (Some(gap), _, _) => bail!("{gap}"),
            (None, Some(top), _) => null_of(top),
            (None, None, Some(param)) => Val::default_for(param),
            (None, None, None) => bail!("a null of a concrete type for no parameter"),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(store, *n)?)),
        WastArgCore::RefHost(n) => {
            let host = ExternRef::new(&mut *store, *n)?;
            Val::AnyRef(Some(AnyRef::convert_extern(store, host)?))
        }
    })
}

/// Whether an argument or result is a component-model value, which the
/// runner skips.
pub(crate) fn is_component_arg(arg: &WastArg<'_>) -> bool {
    !matches!(arg, WastArg::Core(_))
}

/// Whether a result pattern is a component-model value.
pub(crate) fn is_component_ret(ret: &WastRet<'_>) -> bool {
    !matches!(ret, WastRet::Core(_))
}

/// Checks `got` against the script's expected results: same count, and
/// each value matching its pattern.
pub(crate) fn check_results(store: &Store<()>, got: &[Val], want: &[WastRet<'_>]) -> Result<()> {
    let want: Vec<&WastRetCore<'_>> = want
        .iter()
        .map(|w| match w {
            WastRet::Core(w) => Ok(w),
            _ => Err(anyhow::anyhow!("component-model results are not supported")),
        })
        .collect::<Result<_>>()?;
    if got.len() != want.len() {
        bail!(
            "expected {} results, got {}: {}",
            want.len(),
            got.len(),
            show_all(store, got)
        );
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        match matches(store, g, w) {
            Match::Yes => {}
            Match::Unsupported(gap) => bail!("result {i}: {gap}"),
            Match::No => bail!(
                "result {i}: expected {}, got {}",
                describe(w),
                show(store, g, Some(w))
            ),
        }
    }
    Ok(())
}

/// The outcome of matching one value against one pattern.
enum Match {
    Yes,
    No,
    /// The pattern needs a value the embedding API cannot express yet.
    Unsupported(&'static str),
}

fn matches(store: &Store<()>, got: &Val, want: &WastRetCore<'_>) -> Match {
    if let WastRetCore::Either(cases) = want {
        let mut outcome = Match::No;
        for case in cases {
            match matches(store, got, case) {
                Match::Yes => return Match::Yes,
                Match::Unsupported(gap) => outcome = Match::Unsupported(gap),
                Match::No => {}
            }
        }
        return outcome;
    }
    if let Some(gap) = pattern_gap(want) {
        return Match::Unsupported(gap);
    }
    let yes = match (got, want) {
        (Val::I32(a), WastRetCore::I32(b)) => a == b,
        (Val::I64(a), WastRetCore::I64(b)) => a == b,
        (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
        (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
        (Val::V128(a), WastRetCore::V128(p)) => v128_matches(*a, p),
        // A null of the expected hierarchy (any null for a concrete type,
        // whose hierarchy the script does not say).
        (got, WastRetCore::RefNull(ty)) => {
            got.is_null()
                && ty
                    .as_ref()
                    .and_then(hierarchy)
                    .is_none_or(|top| null_of(top) == *got)
        }
        // Like wasmtime's runner, `ref.func N` only asks for a non-null
        // function: the API does not say which function a reference is.
        (Val::FuncRef(r), WastRetCore::RefFunc(_)) => r.is_some(),
        (Val::ExternRef(r), WastRetCore::RefExtern(None)) => r.is_some(),
        (Val::ExternRef(Some(r)), WastRetCore::RefExtern(Some(n))) => {
            extern_payload(store, r) == Some(*n)
        }
        (Val::AnyRef(r), WastRetCore::RefAny) => r.is_some(),
        (Val::AnyRef(Some(r)), WastRetCore::RefEq) => r.is_eqref(store).unwrap_or(false),
        (Val::AnyRef(Some(r)), WastRetCore::RefI31) => r.is_i31(store).unwrap_or(false),
        (Val::AnyRef(Some(r)), WastRetCore::RefStruct) => r.is_struct(store).unwrap_or(false),
        (Val::AnyRef(Some(r)), WastRetCore::RefArray) => r.is_array(store).unwrap_or(false),
        (Val::AnyRef(Some(r)), WastRetCore::RefHost(n)) => {
            ExternRef::convert_any(store, *r).is_ok_and(|e| extern_payload(store, &e) == Some(*n))
        }
        _ => false,
    };
    if yes {
        Match::Yes
    } else {
        Match::No
    }
}

/// The `u32` a script's `ref.extern N` argument carries.
fn extern_payload(store: &Store<()>, r: &ExternRef) -> Option<u32> {
    r.data(store).and_then(|d| d.downcast_ref::<u32>()).copied()
}

fn f32_matches(bits: u32, want: &NanPattern<F32>) -> bool {
    match want {
        NanPattern::Value(v) => bits == v.bits,
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
    }
}

fn f64_matches(bits: u64, want: &NanPattern<F64>) -> bool {
    match want {
        NanPattern::Value(v) => bits == v.bits,
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
    }
}

/// The lanes of a v128 value, little-endian, `N` bytes each.
fn lanes<const N: usize>(v: u128) -> impl Iterator<Item = [u8; N]> {
    let bytes = v.to_le_bytes();
    (0..16 / N).map(move |i| {
        let mut lane = [0; N];
        lane.copy_from_slice(&bytes[i * N..(i + 1) * N]);
        lane
    })
}

/// Lane-wise comparison, with a NaN pattern per float lane.
fn v128_matches(v: u128, want: &V128Pattern) -> bool {
    match want {
        V128Pattern::I8x16(w) => lanes::<1>(v).zip(w).all(|(l, w)| l[0] as i8 == *w),
        V128Pattern::I16x8(w) => lanes::<2>(v)
            .zip(w)
            .all(|(l, w)| i16::from_le_bytes(l) == *w),
        V128Pattern::I32x4(w) => lanes::<4>(v)
            .zip(w)
            .all(|(l, w)| i32::from_le_bytes(l) == *w),
        V128Pattern::I64x2(w) => lanes::<8>(v)
            .zip(w)
            .all(|(l, w)| i64::from_le_bytes(l) == *w),
        V128Pattern::F32x4(w) => lanes::<4>(v)
            .zip(w)
            .all(|(l, w)| f32_matches(u32::from_le_bytes(l), w)),
        V128Pattern::F64x2(w) => lanes::<8>(v)
            .zip(w)
            .all(|(l, w)| f64_matches(u64::from_le_bytes(l), w)),
    }
}

/// The script's expected result, as the script writes it.
fn describe(want: &WastRetCore<'_>) -> String {
    match want {
        WastRetCore::I32(v) => format!("i32.const {v}"),
        WastRetCore::I64(v) => format!("i64.const {v}"),
        WastRetCore::F32(p) => format!("f32.const {}", nan_pattern(p, |v| show_f32(v.bits))),
        WastRetCore::F64(p) => format!("f64.const {}", nan_pattern(p, |v| show_f64(v.bits))),
        WastRetCore::V128(p) => format!("v128.const {}", describe_v128(p)),
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(ty)) => format!("ref.null {}", heap_type(ty)),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::RefAny => "ref.any".to_string(),
        WastRetCore::RefEq => "ref.eq".to_string(),
        WastRetCore::RefStruct => "ref.struct".to_string(),
        WastRetCore::RefArray => "ref.array".to_string(),
        WastRetCore::RefI31 => "ref.i31".to_string(),
        WastRetCore::RefHost(n) => format!("ref.host {n}"),
        WastRetCore::Either(cases) => {
            let cases: Vec<String> = cases.iter().map(describe).collect();
            format!("either ({})", cases.join(") ("))
        }
        other => format!("{other:?}"),
    }
}

fn heap_type(ty: &HeapType<'_>) -> String {
    let HeapType::Abstract { ty, shared } = ty else {
        return format!("{ty:?}");
    };
    let name = match ty {
        Heap::Func => "func",
        Heap::Extern => "extern",
        Heap::Any => "any",
        Heap::None => "none",
        Heap::NoExtern => "noextern",
        Heap::NoFunc => "nofunc",
        Heap::Eq => "eq",
        Heap::Struct => "struct",
        Heap::Array => "array",
        Heap::I31 => "i31",
        Heap::Exn => "exn",
        Heap::NoExn => "noexn",
        Heap::Cont => "cont",
        Heap::NoCont => "nocont",
    };
    if *shared {
        format!("(shared {name})")
    } else {
        name.to_string()
    }
}

fn nan_pattern<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn describe_v128(p: &V128Pattern) -> String {
    fn join<T>(shape: &str, lanes: &[T], f: impl Fn(&T) -> String) -> String {
        let mut s = shape.to_string();
        for lane in lanes {
            let _ = write!(s, " {}", f(lane));
        }
        s
    }
    match p {
        V128Pattern::I8x16(l) => join("i8x16", l, |v| v.to_string()),
        V128Pattern::I16x8(l) => join("i16x8", l, |v| v.to_string()),
        V128Pattern::I32x4(l) => join("i32x4", l, |v| v.to_string()),
        V128Pattern::I64x2(l) => join("i64x2", l, |v| v.to_string()),
        V128Pattern::F32x4(l) => join("f32x4", l, |p| nan_pattern(p, |v| show_f32(v.bits))),
        V128Pattern::F64x2(l) => join("f64x2", l, |p| nan_pattern(p, |v| show_f64(v.bits))),
    }
}

fn show_f32(bits: u32) -> String {
    format!("{} ({bits:#010x})", f32::from_bits(bits))
}

fn show_f64(bits: u64) -> String {
    format!("{} ({bits:#018x})", f64::from_bits(bits))
}

/// A value as the script would write it; a v128 is shown in the lane shape
/// of the pattern it is compared with.
fn show(store: &Store<()>, v: &Val, like: Option<&WastRetCore<'_>>) -> String {
    match v {
        Val::I32(v) => format!("i32.const {v}"),
        Val::I64(v) => format!("i64.const {v}"),
        Val::F32(bits) => format!("f32.const {}", show_f32(*bits)),
        Val::F64(bits) => format!("f64.const {}", show_f64(*bits)),
        Val::V128(v) => {
            let shape = match like {
                Some(WastRetCore::V128(p)) => Some(p),
                Some(WastRetCore::Either(cases)) => cases.iter().find_map(|c| match c {
                    WastRetCore::V128(p) => Some(p),
                    _ => None,
                }),
                _ => None,
            };
            match shape {
                Some(p) => format!("v128.const {} ({v:#034x})", show_v128(*v, p)),
                None => format!("v128.const {v:#034x}"),
            }
        }
        Val::ExternRef(Some(r)) => match extern_payload(store, r) {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern (host data)".to_string(),
        },
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        #[allow(unreachable_patterns)] // `Val` will gain reference variants.
        other => format!("{other:?}"),
    }
}

/// Values as the script would write them: `[i32.const 1, ref.null func]`.
pub(crate) fn show_all(store: &Store<()>, values: &[Val]) -> String {
    let values: Vec<String> = values.iter().map(|v| show(store, v, None)).collect();
    format!("[{}]", values.join(", "))
}

/// `v` in the lane shape of `p`.
fn show_v128(v: u128, p: &V128Pattern) -> String {
    fn join(shape: &str, lanes: impl Iterator<Item = String>) -> String {
        let mut s = shape.to_string();
        for lane in lanes {
            let _ = write!(s, " {lane}");
        }
        s
    }
    match p {
        V128Pattern::I8x16(_) => join("i8x16", lanes::<1>(v).map(|l| (l[0] as i8).to_string())),
        V128Pattern::I16x8(_) => join(
            "i16x8",
            lanes::<2>(v).map(|l| i16::from_le_bytes(l).to_string()),
        ),
        V128Pattern::I32x4(_) => join(
            "i32x4",
            lanes::<4>(v).map(|l| i32::from_le_bytes(l).to_string()),
        ),
        V128Pattern::I64x2(_) => join(
            "i64x2",
            lanes::<8>(v).map(|l| i64::from_le_bytes(l).to_string()),
        ),
        V128Pattern::F32x4(_) => join(
            "f32x4",
            lanes::<4>(v).map(|l| show_f32(u32::from_le_bytes(l))),
        ),
        V128Pattern::F64x2(_) => join(
            "f64x2",
            lanes::<8>(v).map(|l| show_f64(u64::from_le_bytes(l))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> V128Pattern {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        wast::parser::parse::<V128Pattern>(&buf).unwrap()
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let v = u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(v, &pattern("i32x4 1 2 3 -1")));
        assert!(!v128_matches(v, &pattern("i32x4 1 2 3 4")));
        assert!(v128_matches(
            v,
            &pattern("i64x2 0x200000001 0xffffffff00000003")
        ));
        assert!(v128_matches(v, &pattern("i16x8 1 0 2 0 3 0 -1 -1")));
        assert!(v128_matches(
            v,
            &pattern("i8x16 1 0 0 0 2 0 0 0 3 0 0 0 -1 -1 -1 -1")
        ));
        assert!(!v128_matches(
            v,
            &pattern("i8x16 1 0 0 0 2 0 0 0 3 0 0 0 -1 -1 -1 0")
        ));
    }

    #[test]
    fn float_lanes_take_nan_patterns_one_by_one() {
        let lanes = |l: [u32; 4]| {
            let mut b = [0u8; 16];
            for (i, l) in l.iter().enumerate() {
                b[i * 4..i * 4 + 4].copy_from_slice(&l.to_le_bytes());
            }
            u128::from_le_bytes(b)
        };
        let p = pattern("f32x4 nan:canonical nan:arithmetic 1.0 -0.0");
        assert!(v128_matches(
            lanes([0x7fc0_0000, 0xffc0_0001, 0x3f80_0000, 0x8000_0000]),
            &p
        ));
        // A non-canonical NaN in the canonical lane.
        assert!(!v128_matches(
            lanes([0x7fc0_0001, 0xffc0_0001, 0x3f80_0000, 0x8000_0000]),
            &p
        ));
        // A signalling NaN in the arithmetic lane.
        assert!(!v128_matches(
            lanes([0x7fc0_0000, 0x7f80_0001, 0x3f80_0000, 0x8000_0000]),
            &p
        ));
        // +0 is not -0.
        assert!(!v128_matches(
            lanes([0x7fc0_0000, 0xffc0_0001, 0x3f80_0000, 0]),
            &p
        ));

        let p = pattern("f64x2 nan:arithmetic 2.5");
        let v = (2.5f64.to_bits() as u128) << 64 | 0xfff8_0000_0000_0001;
        assert!(v128_matches(v, &p));
        assert!(!v128_matches(
            (2.5f64.to_bits() as u128) << 64 | 0x7ff0_0000_0000_0001,
            &p
        ));
        assert_eq!(
            show_v128(v, &p),
            format!(
                "f64x2 {} {}",
                show_f64(0xfff8_0000_0000_0001),
                show_f64(2.5f64.to_bits())
            )
        );
    }
}
