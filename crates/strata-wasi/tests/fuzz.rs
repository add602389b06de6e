//! Calls every WASI function of both modules with arbitrary arguments
//! (a fixed pseudo-random sequence, so failures reproduce): no call may
//! panic, each must return an errno (or end the call, for `proc_exit`),
//! and nothing outside the pre-opened directory may change.
//!
//! `poll_oneoff` is left out because arbitrary subscriptions can sleep for
//! years, and `fd_allocate` because an arbitrary length can really
//! reserve gigabytes of disk; both have their error paths tested in the
//! WASI programs.

use strata::{Engine, Linker, Module, Store, Val};
use strata_wasi::{I32Exit, WasiCtx};

/// Name and parameter kinds (`i` = i32, `I` = i64) of every function.
const FUNCTIONS: &[(&str, &str)] = &[
    ("args_get", "ii"),
    ("args_sizes_get", "ii"),
    ("environ_get", "ii"),
    ("environ_sizes_get", "ii"),
    ("clock_res_get", "ii"),
    ("clock_time_get", "iIi"),
    ("random_get", "ii"),
    ("sched_yield", ""),
    ("proc_raise", "i"),
    ("fd_advise", "iIIi"),
    ("fd_close", "i"),
    ("fd_datasync", "i"),
    ("fd_fdstat_get", "ii"),
    ("fd_fdstat_set_flags", "ii"),
    ("fd_fdstat_set_rights", "iII"),
    ("fd_filestat_get", "ii"),
    ("fd_filestat_set_size", "iI"),
    ("fd_filestat_set_times", "iIIi"),
    ("fd_pread", "iiiIi"),
    ("fd_prestat_get", "ii"),
    ("fd_prestat_dir_name", "iii"),
    ("fd_pwrite", "iiiIi"),
    ("fd_read", "iiii"),
    ("fd_readdir", "iiiIi"),
    ("fd_renumber", "ii"),
    ("fd_seek", "iIii"),
    ("fd_sync", "i"),
    ("fd_tell", "ii"),
    ("fd_write", "iiii"),
    ("path_create_directory", "iii"),
    ("path_filestat_get", "iiiii"),
    ("path_filestat_set_times", "iiiiIIi"),
    ("path_link", "iiiiiii"),
    ("path_open", "iiiiiIIii"),
    ("path_readlink", "iiiiii"),
    ("path_remove_directory", "iii"),
    ("path_rename", "iiiiii"),
    ("path_symlink", "iiiii"),
    ("path_unlink_file", "iii"),
    ("sock_accept", "iii"),
    ("sock_recv", "iiiiii"),
    ("sock_send", "iiiii"),
    ("sock_shutdown", "ii"),
    ("proc_exit", "i"),
];

/// A module importing every function of `module` and exporting each
/// under the same name, with some path strings at low addresses.
fn forwarder(module: &str) -> String {
    let mut wat = String::from("(module\n");
    let funcs: Vec<_> = FUNCTIONS
        .iter()
        .filter(|(name, _)| module != "wasi_unstable" || *name != "sock_accept")
        .collect();
    for (name, params) in &funcs {
        let params: Vec<&str> = params
            .chars()
            .map(|c| if c == 'i' { "i32" } else { "i64" })
            .collect();
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        wat += &format!(
            "(import \"{module}\" \"{name}\" (func ${name} (param {}) {result}))\n",
            params.join(" ")
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    wat +=
        "(data (i32.const 0) \"file.txt\\00dir\\00..\\00/etc/passwd\\00dir/file\\00.\\00link\")\n";
    for (name, params) in &funcs {
        let types: Vec<&str> = params
            .chars()
            .map(|c| if c == 'i' { "i32" } else { "i64" })
            .collect();
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let gets: String = (0..types.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        wat += &format!(
            "(func (export \"{name}\") (param {}) {result} {gets} call ${name})\n",
            types.join(" ")
        );
    }
    wat + ")"
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Mostly values that reach something: small numbers (descriptors,
    /// flags, lengths of the strings above), addresses inside the page,
    /// and now and then anything at all.
    fn arg(&mut self) -> u64 {
        let r = self.next();
        match r % 10 {
            // The pre-opened directory.
            0..=1 => 3,
            2..=3 => r >> 60,
            4 => (r >> 32) % 65_536,
            5..=7 => (r >> 32) % 24,
            8 => u64::MAX - (r >> 56),
            _ => r,
        }
    }
}

fn fuzz(module_name: &str, seed: u64) {
    let root = std::env::temp_dir().join(format!(
        "strata-wasi-fuzz-{module_name}-{}",
        std::process::id()
    ));
    let sandbox = root.join("sandbox");
    let outside = root.join("outside");
    std::fs::create_dir_all(sandbox.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(sandbox.join("file.txt"), "inside").unwrap();
    std::fs::write(outside.join("secret.txt"), "outside").unwrap();

    let engine = Engine::default();
    let module = Module::new(&engine, forwarder(module_name)).expect("forwarder is valid");
    let mut linker = Linker::new(&engine);
    strata_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).unwrap();
    let ctx = WasiCtx::builder()
        .args(["prog", "arg"])
        .env("K", "V")
        .preopened_dir(&sandbox, "/sandbox")
        .unwrap()
        .build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mut rng = Rng(seed);
    let funcs: Vec<_> = FUNCTIONS
        .iter()
        .filter(|(name, _)| module_name != "wasi_unstable" || *name != "sock_accept")
        .collect();
    let mut errnos = std::collections::BTreeSet::new();
    for _ in 0..50_000 {
        let (name, kinds) = funcs[(rng.next() % funcs.len() as u64) as usize];
        let func = instance.get_func(&store, name).expect("exported");
        let params: Vec<Val> = kinds
            .chars()
            .map(|k| {
                let mut v = rng.arg();
                // Keep the pre-open and its rights: without them every path
                // call fails early.
                if v == 3 && ["fd_close", "fd_renumber", "fd_fdstat_set_rights"].contains(name) {
                    v = 4;
                }
                if k == 'i' {
                    Val::I32(v as u32 as i32)
                } else {
                    Val::I64(v as i64)
                }
            })
            .collect();
        let mut results = if *name == "proc_exit" {
            vec![]
        } else {
            vec![Val::I32(0)]
        };
        match func.call(&mut store, &params, &mut results) {
            Ok(()) => {
                let Val::I32(errno) = results[0] else {
                    panic!("{name} returned {:?}", results[0])
                };
                assert!((0..=76).contains(&errno), "{name}{params:?} -> {errno}");
                errnos.insert(errno);
            }
            Err(e) => {
                assert_eq!(*name, "proc_exit", "{name}{params:?} failed: {e:?}");
                let code = params[0].i32().expect("an i32 status") as u32;
                if code < 126 {
                    assert_eq!(e.downcast_ref::<I32Exit>(), Some(&I32Exit(code as i32)));
                } else {
                    assert!(e.to_string().contains("outside of [0..126)"), "{e}");
                }
            }
        }
    }
    eprintln!("{module_name}: errnos seen {errnos:?}");
    // The sequence reached many different outcomes, not only `fault`.
    assert!(errnos.len() > 8, "errnos seen: {errnos:?}");
    assert!(errnos.contains(&0), "some calls succeed: {errnos:?}");
    let names: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
        "outside"
    );
    let top = std::fs::read_dir(&root).unwrap().count();
    assert_eq!(top, 2, "nothing appeared next to the sandbox");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn arbitrary_arguments_never_panic_preview1() {
    fuzz("wasi_snapshot_preview1", 0x5eed_0001);
}

#[test]
fn arbitrary_arguments_never_panic_preview0() {
    fuzz("wasi_unstable", 0x5eed_0002);
}
