//! File-system work through Rust's std in a pre-opened directory (the
//! first argument names it as the guest sees it). Prints one line per
//! step; errors print `name: error <errno>` (Rust's std reports the WASI
//! errno as the raw OS error).
//!
//! - `files DIR`: create, write, append, read, seek, set_len, metadata,
//!   rename, hard link, read_link (of `l.txt`, made by the test), copy, remove, create_dir,
//!   remove_dir, and the errors of each where there is one
//! - `list DIR`: prints the number of entries of DIR and a checksum of
//!   their sorted names, read with `read_dir`
//! - `mkmany DIR N`: creates N files `f0000`.. in DIR
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

fn errno(e: std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("error {n}"),
        None => format!("error {e}"),
    }
}

macro_rules! step {
    ($name:expr, $e:expr) => {
        match $e {
            Ok(v) => println!("{}: ok {:?}", $name, v),
            Err(e) => println!("{}: {}", $name, errno(e)),
        }
    };
}

fn files(d: &str) {
    let p = |n: &str| format!("{d}/{n}");
    step!("write", fs::write(p("a.txt"), "hello\n"));
    step!("append", fs::OpenOptions::new().append(true).open(p("a.txt")).and_then(|mut f| f.write_all(b"world\n")));
    step!("read", fs::read_to_string(p("a.txt")));
    step!("seek+read", fs::File::open(p("a.txt")).and_then(|mut f| {
        f.seek(SeekFrom::Start(6))?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        Ok(s)
    }));
    step!("seek-end", fs::File::open(p("a.txt")).and_then(|mut f| f.seek(SeekFrom::End(-3))));
    step!("len", fs::metadata(p("a.txt")).map(|m| (m.len(), m.is_file(), m.is_dir())));
    step!("set_len", fs::OpenOptions::new().write(true).open(p("a.txt")).and_then(|f| {
        f.set_len(3)?;
        f.sync_all()?;
        f.sync_data()
    }));
    step!("read-after-set_len", fs::read_to_string(p("a.txt")));
    step!("write-readonly", fs::File::open(p("a.txt")).and_then(|mut f| f.write_all(b"x")));
    step!("create_new-exists", fs::OpenOptions::new().write(true).create_new(true).open(p("a.txt")));
    step!("open-missing", fs::File::open(p("missing.txt")));
    step!("rename", fs::rename(p("a.txt"), p("b.txt")));
    step!("rename-missing", fs::rename(p("a.txt"), p("c.txt")));
    step!("hard_link", fs::hard_link(p("b.txt"), p("c.txt")));
    step!("read-hard-link", fs::read_to_string(p("c.txt")));
    // The test made `l.txt -> b.txt` (std cannot make symlinks on WASI
    // without an unstable API).
    step!("read_link", fs::read_link(p("l.txt")));
    step!("read-through-symlink", fs::read_to_string(p("l.txt")));
    step!("symlink_metadata", fs::symlink_metadata(p("l.txt")).map(|m| m.file_type().is_symlink()));
    step!("copy", fs::copy(p("b.txt"), p("d.txt")));
    step!("create_dir", fs::create_dir(p("sub")));
    step!("create_dir-exists", fs::create_dir(p("sub")));
    step!("create_dir_all", fs::create_dir_all(p("sub/x/y")));
    step!("write-nested", fs::write(p("sub/x/y/z.txt"), "deep"));
    step!("remove_dir-not-empty", fs::remove_dir(p("sub")));
    step!("remove_file-dir", fs::remove_file(p("sub")));
    step!("read-dir-as-file", fs::read(p("sub")));
    step!("open-file-as-dir", fs::read_dir(p("b.txt")).map(|_| ()));
    step!("remove_dir_all", fs::remove_dir_all(p("sub")));
    step!("remove_file", fs::remove_file(p("c.txt")));
    step!("remove_file-missing", fs::remove_file(p("c.txt")));
    step!("set_modified", fs::File::options().write(true).open(p("d.txt")).and_then(|f| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        f.set_modified(t)?;
        f.metadata()?.modified()
    }));
    let mut names: Vec<String> = fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    println!("entries: {names:?}");
}

fn list(d: &str) {
    let mut names: Vec<String> = Vec::new();
    for e in fs::read_dir(d).unwrap() {
        names.push(e.unwrap().file_name().into_string().unwrap());
    }
    names.sort();
    let mut dedup = names.clone();
    dedup.dedup();
    // FNV-1a over the sorted names, so the test can compare listings.
    let mut h: u64 = 0xcbf29ce484222325;
    for n in &names {
        for b in n.bytes().chain(std::iter::once(b'/')) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    println!("{} entries, {} distinct, fnv {h:016x}", names.len(), dedup.len());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("files") => files(&args[2]),
        Some("list") => list(&args[2]),
        Some("mkmany") => {
            let n: usize = args[3].parse().unwrap();
            for i in 0..n {
                fs::write(format!("{}/f{i:04}", args[2]), i.to_string()).unwrap();
            }
            println!("created {n}");
        }
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
