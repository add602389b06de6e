//! Runs a WASI program: arguments, an environment variable, a pre-opened
//! directory, and its exit status.
//!
//! `cargo run -p strata-wasi --example wasi`

use strata::{Engine, Linker, Module, Store};
use strata_wasi::{I32Exit, WasiCtx};

/// Writes "hello from WASI" and a file in its pre-opened directory, then
/// exits with status 7.
const PROGRAM: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from WASI\n")
  (data (i32.const 64) "greeting.txt")
  (func (export "_start")
    ;; iovec at 0: 16 bytes at address 16
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; Create greeting.txt in the first pre-open (fd 3), write the same text.
    (if (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 12)
          (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 12)))
      (then
        (drop (call $fd_write (i32.load (i32.const 12)) (i32.const 0) (i32.const 1) (i32.const 8)))))
    (call $proc_exit (i32.const 7))))
"#;

fn main() -> anyhow::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, PROGRAM)?;

    let dir = std::env::temp_dir().join(format!("strata-wasi-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let wasi = WasiCtx::builder()
        .arg("example.wasm")
        .arg("an argument")
        .env("GREETING", "hello")
        .inherit_stdio()
        .preopened_dir(&dir, ".")?
        .build();

    let mut linker = Linker::new(&engine);
    strata_wasi::add_to_linker(&mut linker, |wasi: &mut WasiCtx| wasi)?;
    let mut store = Store::new(&engine, wasi);
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        // `proc_exit` ends the call with its status.
        Err(e) => e.downcast_ref::<I32Exit>().map(|e| e.0).ok_or(e)?,
    };
    let written = std::fs::read_to_string(dir.join("greeting.txt"))?;
    println!(
        "exit status {status}; the guest wrote {written:?} in {}",
        dir.display()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
