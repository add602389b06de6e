//! Standard streams, arguments, environment and exit status, through
//! Rust's std on wasm32-wasip1. The first argument picks the test:
//!
//! - `args`: prints each argument (argv[0] too) with `{:?}`
//! - `env`: prints each environment variable `NAME=VALUE` with `{:?}`, sorted
//! - `cat`: copies standard input to standard output
//! - `wc`: prints the number of bytes and lines on standard input
//! - `big N`: prints N bytes (lines of `0123456789abcdef...`)
//! - `exit N`: prints to stdout and stderr, then exits with status N
//! - `trap`: reaches `unreachable` two calls deep
use std::io::{Read, Write};

#[inline(never)]
fn inner_trap(x: u32) -> u32 {
    if x < 100 {
        std::process::abort();
    }
    x
}

#[inline(never)]
fn outer_trap(x: u32) -> u32 {
    inner_trap(x) + 1
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    let mut out = std::io::stdout().lock();
    match mode {
        "args" => {
            for a in &args {
                writeln!(out, "{a:?}").unwrap();
            }
        }
        "env" => {
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            vars.sort();
            for (k, v) in vars {
                writeln!(out, "{:?}", format!("{k}={v}")).unwrap();
            }
        }
        "cat" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).unwrap();
            out.write_all(&buf).unwrap();
        }
        "wc" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).unwrap();
            let lines = buf.iter().filter(|&&b| b == b'\n').count();
            writeln!(out, "{} bytes, {} lines", buf.len(), lines).unwrap();
        }
        "big" => {
            let n: usize = args[2].parse().unwrap();
            let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n";
            let mut left = n;
            while left > 0 {
                let take = left.min(line.len());
                out.write_all(&line[..take]).unwrap();
                left -= take;
            }
        }
        "exit" => {
            let code: i32 = args[2].parse().unwrap();
            writeln!(out, "exiting with {code}").unwrap();
            out.flush().unwrap();
            eprintln!("to stderr");
            std::process::exit(code);
        }
        "trap" => {
            let depth = args.len() as u32;
            writeln!(out, "{}", outer_trap(depth)).unwrap();
        }
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
