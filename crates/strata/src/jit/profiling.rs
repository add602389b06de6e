//! Announcing a compiled module's code to the engine's code observer
//! (`Config::profiler`: perf map, jitdump).

use super::signals::CodeInfo;
use crate::profiling::{function_name, CodeObserver, CodeRegion};

/// Tells `observer` where each function (and trampoline) of `code` is.
pub(super) fn announce(observer: &dyn CodeObserver, code: &CodeInfo) {
    let names: Vec<String> = code
        .funcs
        .iter()
        .map(|f| match f.func_index {
            Some(index) => function_name(index, code.func_names.get(&index).map(String::as_str)),
            None => "array-call trampoline".to_string(),
        })
        .collect();
    let regions: Vec<CodeRegion<'_>> = code
        .funcs
        .iter()
        .zip(&names)
        .map(|(f, name)| CodeRegion {
            address: f.start,
            len: f.len,
            name,
        })
        .collect();
    observer.code_published(&regions);
}
