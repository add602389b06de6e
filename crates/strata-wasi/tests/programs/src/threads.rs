//! A threaded WASI program (target `wasm32-wasip1-threads`): threads,
//! atomics, a mutex, a condition variable, a barrier, a channel and scoped
//! threads, with output that does not depend on scheduling. Built for the
//! host too, its output is `threads.out`, which Strata must reproduce.
//!
//! Modes (the first argument):
//! - none: the deterministic program above;
//! - `limit`: spawns parked threads until spawning fails, then prints how
//!   many it got;
//! - `exit CODE`: a spawned thread exits the process with CODE while the
//!   main thread waits;
//! - `trap`: a spawned thread traps (`abort` is `unreachable` in wasm)
//!   while the main thread waits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        None => deterministic(),
        Some("limit") => limit(),
        Some("exit") => exit_from_thread(args.get(2).and_then(|c| c.parse().ok()).unwrap_or(3)),
        Some("trap") => trap_in_thread(),
        Some(other) => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}

fn deterministic() {
    // Atomics: four threads add into one counter.
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (1..=4u64)
        .map(|t| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for i in 1..=10_000u64 {
                    counter.fetch_add(i * t, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("atomic sum: {}", counter.load(Ordering::SeqCst));

    // A mutex over a map that every thread updates.
    let words = Arc::new(Mutex::new(BTreeMap::new()));
    let text = "the quick brown fox jumps over the lazy dog the end";
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let words = Arc::clone(&words);
            thread::spawn(move || {
                for w in text.split(' ') {
                    *words.lock().unwrap().entry(w).or_insert(0) += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let words = words.lock().unwrap();
    let summary: Vec<String> = words.iter().map(|(w, n)| format!("{w}={n}")).collect();
    println!("mutex words: {}", summary.join(" "));

    // A channel: workers count primes in ranges and send their results.
    let (tx, rx) = mpsc::channel();
    for worker in 0..4u32 {
        let tx = tx.clone();
        thread::spawn(move || {
            let lo = worker * 5_000;
            let hi = lo + 5_000;
            let primes = (lo..hi).filter(|&n| is_prime(n)).count();
            tx.send((worker, lo, hi, primes)).unwrap();
        });
    }
    drop(tx);
    let mut results: Vec<_> = rx.iter().collect();
    results.sort();
    for (worker, lo, hi, primes) in &results {
        println!("channel worker {worker}: {primes} primes in [{lo}, {hi})");
    }
    let total: usize = results.iter().map(|r| r.3).sum();
    println!("channel total: {total} primes below 20000");

    // A condition variable: a producer hands values to a consumer one at a
    // time.
    let slot = Arc::new((Mutex::new(None::<u64>), Condvar::new()));
    let consumer = {
        let slot = Arc::clone(&slot);
        thread::spawn(move || {
            let (lock, cvar) = &*slot;
            let mut sum = 0;
            for _ in 0..100 {
                let mut value = lock.lock().unwrap();
                while value.is_none() {
                    value = cvar.wait(value).unwrap();
                }
                sum += value.take().unwrap();
                cvar.notify_all();
            }
            sum
        })
    };
    {
        let (lock, cvar) = &*slot;
        for i in 1..=100u64 {
            let mut value = lock.lock().unwrap();
            while value.is_some() {
                value = cvar.wait(value).unwrap();
            }
            *value = Some(i * i);
            cvar.notify_all();
        }
    }
    println!("condvar sum of squares: {}", consumer.join().unwrap());

    // A barrier: no thread passes until all have arrived.
    let barrier = Arc::new(Barrier::new(5));
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let arrived = Arc::clone(&arrived);
            thread::spawn(move || {
                arrived.fetch_add(1, Ordering::SeqCst);
                barrier.wait();
                arrived.load(Ordering::SeqCst)
            })
        })
        .collect();
    let seen: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("barrier: every thread saw {:?}", seen);

    // Scoped threads borrowing the main thread's data, and join results.
    let data: Vec<u64> = (1..=1000).collect();
    let sums: Vec<u64> = thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(250)
            .map(|chunk| s.spawn(move || chunk.iter().map(|x| x * x).sum::<u64>()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!("scoped sums: {:?} total {}", sums, sums.iter().sum::<u64>());

    // A named thread.
    let name = thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| thread::current().name().map(str::to_string))
        .unwrap()
        .join()
        .unwrap();
    println!("thread name: {}", name.unwrap_or_default());
    println!("done");
}

fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

/// Spawns threads that wait forever until spawning fails.
fn limit() {
    let stop = Arc::new(AtomicBool::new(false));
    let mut spawned = 0usize;
    loop {
        let stop = Arc::clone(&stop);
        let spawn = thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    thread::park();
                }
            });
        match spawn {
            Ok(_) => spawned += 1,
            Err(e) => {
                println!("spawn failed after {spawned} threads: {}", e.kind());
                break;
            }
        }
        if spawned == 100_000 {
            println!("no limit after {spawned} threads");
            break;
        }
    }
    // Exit without joining the parked threads.
    std::process::exit(0);
}

fn exit_from_thread(code: i32) -> ! {
    thread::spawn(move || {
        println!("thread exits with {code}");
        std::process::exit(code);
    });
    loop {
        thread::park();
    }
}

fn trap_in_thread() -> ! {
    thread::spawn(|| {
        println!("thread traps");
        std::process::abort();
    });
    loop {
        thread::park();
    }
}
