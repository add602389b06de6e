//! `poll_oneoff`: clock subscriptions and read/write readiness.
//!
//! Regular files, directories and the null stream are always ready (as
//! POSIX `poll` says for regular files); pipes, terminals and sockets are
//! waited on with the host's `poll`. A clock subscription becomes a
//! timeout; CPU-time clocks are waited on in wall-clock time, the only
//! time the host can sleep on.

use crate::clock;
use crate::ctx::Handle;
use crate::mem::Mem;
use crate::types::*;
use crate::WasiCtx;
use rustix::event::{PollFd, PollFlags};
use std::time::{Duration, Instant};

const EVENT_SIZE: u32 = 32;
const EVENTRWFLAGS_HANGUP: u16 = 1;

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn encode(&self) -> [u8; EVENT_SIZE as usize] {
        let mut b = [0u8; EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.0.to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    fn failed(userdata: u64, kind: u8, error: Errno) -> Event {
        Event {
            userdata,
            error,
            kind,
            nbytes: 0,
            flags: 0,
        }
    }
}

/// Bytes left to read in a regular file from its current position.
fn file_remaining(h: std::os::fd::BorrowedFd<'_>) -> u64 {
    let size = rustix::fs::fstat(h)
        .map(|st| st.st_size as u64)
        .unwrap_or(0);
    let pos = rustix::fs::seek(h, rustix::fs::SeekFrom::Current(0)).unwrap_or(size);
    size.saturating_sub(pos)
}

/// Whether any of the `nsubs` subscriptions at `subs` waits on a
/// descriptor (and so needs the context); a bad pointer answers yes, so
/// that `poll_oneoff` itself reports it.
pub(crate) fn reaches_descriptors(mem: &Mem<'_>, flavor: Flavor, subs: u32, nsubs: u32) -> bool {
    let sub_size = match flavor {
        Flavor::Preview1 => 48u32,
        Flavor::Preview0 => 56,
    };
    (0..nsubs).any(|i| {
        let kind = i
            .checked_mul(sub_size)
            .and_then(|off| subs.checked_add(off))
            .and_then(|at| at.checked_add(8))
            .map(|at| mem.read_u8(at));
        !matches!(kind, Some(Ok(EVENTTYPE_CLOCK)))
    })
}

pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    flavor: Flavor,
    subs: u32,
    events: u32,
    nsubs: u32,
    out: u32,
) -> WasiResult {
    if nsubs == 0 {
        return Err(Errno::INVAL);
    }
    // Preview0's `subscription_clock` starts with an extra `identifier`.
    let (sub_size, clock_at) = match flavor {
        Flavor::Preview1 => (48u32, 16u32),
        Flavor::Preview0 => (56, 24),
    };
    mem.check(subs, nsubs.checked_mul(sub_size).ok_or(Errno::FAULT)?)?;
    mem.check(events, nsubs.checked_mul(EVENT_SIZE).ok_or(Errno::FAULT)?)?;

    let start = Instant::now();
    let mut ready = Vec::new();
    let mut clocks: Vec<(u64, Instant)> = Vec::new();
    let mut waits = Vec::new();
    for i in 0..nsubs {
        let at = subs + i * sub_size;
        let userdata = mem.read_u64(at)?;
        let kind = mem.read_u8(at + 8)?;
        match kind {
            EVENTTYPE_CLOCK => {
                let id = mem.read_u32(at + clock_at)?;
                let timeout = mem.read_u64(at + clock_at + 8)?;
                let flags = mem.read_u16(at + clock_at + 24)?;
                let remaining = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                    clock::now(id).map(|now| timeout.saturating_sub(now))
                } else {
                    clock::host_clock(id).map(|_| timeout)
                };
                match remaining {
                    Ok(ns) => {
                        let deadline = start
                            .checked_add(Duration::from_nanos(ns))
                            .unwrap_or(start + Duration::from_secs(u32::MAX as u64));
                        clocks.push((userdata, deadline));
                    }
                    Err(e) => ready.push(Event::failed(userdata, kind, e)),
                }
            }
            EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                let fd = mem.read_u32(at + 16)?;
                let needed = if kind == EVENTTYPE_FD_READ {
                    rights::FD_READ
                } else {
                    rights::FD_WRITE
                };
                let entry = match ctx.get(fd).and_then(|e| e.require(needed)) {
                    Ok(e) => e,
                    Err(e) => {
                        ready.push(Event::failed(userdata, kind, e));
                        continue;
                    }
                };
                let always_ready = match &entry.handle {
                    Handle::Null | Handle::Dir(_) => Some(0),
                    other => other.host_fd().and_then(|h| {
                        let st = rustix::fs::fstat(h).ok()?;
                        (st.st_mode & libc::S_IFMT == libc::S_IFREG).then(|| {
                            if kind == EVENTTYPE_FD_READ {
                                file_remaining(h)
                            } else {
                                0
                            }
                        })
                    }),
                };
                match (always_ready, entry.handle.host_fd()) {
                    (Some(nbytes), _) => ready.push(Event {
                        nbytes,
                        ..Event::failed(userdata, kind, Errno::SUCCESS)
                    }),
                    (None, None) => ready.push(Event::failed(userdata, kind, Errno::SUCCESS)),
                    (None, Some(h)) => waits.push((userdata, kind, h)),
                }
            }
            _ => return Err(Errno::INVAL),
        }
    }

    // With something already ready, only look; otherwise wait for the
    // earliest clock (or forever without one).
    let deadline = clocks.iter().map(|(_, d)| *d).min();
    loop {
        let timeout = if !ready.is_empty() {
            Some(Duration::ZERO)
        } else {
            deadline.map(|d| d.saturating_duration_since(Instant::now()))
        };
        let ts = timeout.map(|t| rustix::event::Timespec {
            tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(t.subsec_nanos()),
        });
        let mut fds: Vec<PollFd<'_>> = waits
            .iter()
            .map(|&(_, kind, h)| {
                let flags = if kind == EVENTTYPE_FD_READ {
                    PollFlags::IN
                } else {
                    PollFlags::OUT
                };
                PollFd::from_borrowed_fd(h, flags)
            })
            .collect();
        match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(_) => {
                for ((userdata, kind, h), p) in waits.iter().zip(&fds) {
                    let revents = p.revents();
                    if revents.is_empty() {
                        continue;
                    }
                    let mut event = Event::failed(*userdata, *kind, Errno::SUCCESS);
                    if revents.contains(PollFlags::NVAL) {
                        event.error = Errno::BADF;
                    } else if revents.contains(PollFlags::ERR) {
                        event.error = Errno::IO;
                    } else {
                        if revents.contains(PollFlags::HUP) {
                            event.flags = EVENTRWFLAGS_HANGUP;
                        }
                        if *kind == EVENTTYPE_FD_READ {
                            // What a read would return now (data can
                            // still be pending after a hangup); 1 when
                            // the host cannot tell.
                            event.nbytes = rustix::io::ioctl_fionread(*h).unwrap_or(1);
                        }
                    }
                    ready.push(event);
                }
                break;
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let now = Instant::now();
    let nothing_else = ready.is_empty();
    for (userdata, d) in &clocks {
        // The poll timed out: the earliest clock has expired even if the
        // host rounded its wait a little short.
        if *d <= now || (nothing_else && Some(*d) == deadline) {
            ready.push(Event::failed(*userdata, EVENTTYPE_CLOCK, Errno::SUCCESS));
        }
    }
    for (i, event) in ready.iter().enumerate() {
        mem.write(events + i as u32 * EVENT_SIZE, &event.encode())?;
    }
    mem.write_u32(out, ready.len() as u32)
}
