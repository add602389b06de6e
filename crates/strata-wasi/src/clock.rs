//! `clock_res_get` and `clock_time_get` for the four preview1 clocks, read
//! from the host's `clock_gettime`.

use crate::mem::Mem;
use crate::types::*;
use crate::WasiCtx;
use rustix::time::ClockId;

/// The host clock behind a WASI `clockid`, or `inval`.
pub(crate) fn host_clock(id: u32) -> WasiResult<ClockId> {
    Ok(match id {
        CLOCK_REALTIME => ClockId::Realtime,
        CLOCK_MONOTONIC => ClockId::Monotonic,
        CLOCK_PROCESS_CPUTIME => ClockId::ProcessCPUTime,
        CLOCK_THREAD_CPUTIME => ClockId::ThreadCPUTime,
        _ => return Err(Errno::INVAL),
    })
}

fn to_nanos(ts: rustix::time::Timespec) -> WasiResult<u64> {
    u64::try_from(ts.tv_sec)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|ns| ns.checked_add(u64::try_from(ts.tv_nsec).ok()?))
        .ok_or(Errno::OVERFLOW)
}

/// The current value of a WASI clock in nanoseconds.
pub(crate) fn now(id: u32) -> WasiResult<u64> {
    to_nanos(rustix::time::clock_gettime(host_clock(id)?))
}

pub(crate) fn clock_res_get(
    _: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    id: u32,
    out: u32,
) -> WasiResult {
    let res = to_nanos(rustix::time::clock_getres(host_clock(id)?))?;
    // The spec requires a non-zero resolution for a supported clock.
    mem.write_u64(out, res.max(1))
}

pub(crate) fn clock_time_get(
    _: &mut WasiCtx,
    mem: &mut Mem<'_>,
    _: Flavor,
    id: u32,
    _precision: u64,
    out: u32,
) -> WasiResult {
    mem.write_u64(out, now(id)?)
}
