//! `WasiConfig`: what a WASI guest may reach, for `Store.set_wasi`.

use crate::error::wasmtime_error;
use pyo3::prelude::*;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use strata_wasi::WasiCtx;

enum Stdio {
    /// Reads as empty, discards writes (the default).
    Null,
    Inherit,
    File(File),
}

/// The arguments, environment, standard streams and directories of a WASI
/// guest. Files are opened when set (so errors appear there); the context
/// is built from them by each `Store.set_wasi`.
#[pyclass(module = "strata._strata")]
pub struct WasiConfig {
    args: Vec<Vec<u8>>,
    env: Vec<(Vec<u8>, Vec<u8>)>,
    stdio: [Stdio; 3],
    preopens: Vec<(PathBuf, String)>,
}

fn fspath(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    path.py()
        .import("os")?
        .getattr("fspath")?
        .call1((path,))?
        .extract()
}

/// The numeric value of a `DirPerms` / `FilePerms` member (or an int).
fn perms(value: &Bound<'_, PyAny>) -> PyResult<u8> {
    match value.getattr("value") {
        Ok(v) => v.extract(),
        Err(_) => value.extract(),
    }
}

const READ_WRITE: u8 = 3;

#[pymethods]
impl WasiConfig {
    /// A guest with nothing: no arguments, no environment, empty standard
    /// input, discarded output, no directories.
    #[new]
    fn new() -> WasiConfig {
        WasiConfig {
            args: Vec::new(),
            env: Vec::new(),
            stdio: [Stdio::Null, Stdio::Null, Stdio::Null],
            preopens: Vec::new(),
        }
    }

    /// The guest's arguments (the first is, by convention, the program
    /// name). Write-only.
    #[setter]
    fn set_argv(&mut self, argv: Vec<String>) {
        self.args = argv.into_iter().map(String::into_bytes).collect();
    }

    /// Gives the guest this process's arguments.
    fn inherit_argv(&mut self) {
        self.args = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
    }

    /// The guest's environment: an iterable of `(name, value)` pairs.
    /// Write-only.
    #[setter]
    fn set_env(&mut self, pairs: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut env = Vec::new();
        for pair in pairs.try_iter()? {
            let pair = pair?;
            let mut items = pair.try_iter()?;
            let mut next = || -> PyResult<String> {
                match items.next() {
                    Some(item) => item?.extract(),
                    None => Err(pyo3::exceptions::PyValueError::new_err(
                        "environment entries are (name, value) pairs",
                    )),
                }
            };
            let (name, value) = (next()?, next()?);
            env.push((name.into_bytes(), value.into_bytes()));
        }
        self.env = env;
        Ok(())
    }

    /// Gives the guest this process's environment variables.
    fn inherit_env(&mut self) {
        self.env = std::env::vars_os()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
    }

    /// Reads the guest's standard input from the file at this path, which
    /// must exist. Write-only.
    #[setter]
    fn set_stdin_file(&mut self, path: &Bound<'_, PyAny>) -> PyResult<()> {
        let path = fspath(path)?;
        let file = File::open(&path).map_err(|e| {
            wasmtime_error(format!("failed to set stdin file {}: {e}", path.display()))
        })?;
        self.stdio[0] = Stdio::File(file);
        Ok(())
    }

    /// Writes the guest's standard output to the file at this path,
    /// created or truncated now. Write-only.
    #[setter]
    fn set_stdout_file(&mut self, path: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stdio[1] = Stdio::File(create(path, "stdout")?);
        Ok(())
    }

    /// Writes the guest's standard error to the file at this path, created
    /// or truncated now. Write-only.
    #[setter]
    fn set_stderr_file(&mut self, path: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stdio[2] = Stdio::File(create(path, "stderr")?);
        Ok(())
    }

    /// Gives the guest this process's standard input.
    fn inherit_stdin(&mut self) {
        self.stdio[0] = Stdio::Inherit;
    }

    /// Gives the guest this process's standard output (file descriptor 1:
    /// Python's own `sys.stdout` buffer is not flushed first).
    fn inherit_stdout(&mut self) {
        self.stdio[1] = Stdio::Inherit;
    }

    /// Gives the guest this process's standard error.
    fn inherit_stderr(&mut self) {
        self.stdio[2] = Stdio::Inherit;
    }

    /// Lets the guest use the host directory `path` under the name
    /// `guest_path`. Strata's WASI grants read-write access only: other
    /// `dir_perms` / `file_perms` raise `WasmtimeError` rather than grant
    /// more than asked.
    #[pyo3(signature = (path, guest_path, dir_perms=None, file_perms=None))]
    fn preopen_dir(
        &mut self,
        path: &Bound<'_, PyAny>,
        guest_path: String,
        dir_perms: Option<&Bound<'_, PyAny>>,
        file_perms: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        for p in [dir_perms, file_perms].into_iter().flatten() {
            if perms(p)? != READ_WRITE {
                return Err(wasmtime_error(
                    "Strata's WASI supports read-write preopened directories only",
                ));
            }
        }
        let path = fspath(path)?;
        if !path.is_dir() {
            return Err(wasmtime_error(format!(
                "failed to add preopen dir: {} is not a directory",
                path.display()
            )));
        }
        self.preopens.push((path, guest_path));
        Ok(())
    }
}

fn create(path: &Bound<'_, PyAny>, which: &str) -> PyResult<File> {
    let path = fspath(path)?;
    File::create(&path).map_err(|e| {
        wasmtime_error(format!(
            "failed to set {which} file {}: {e}",
            path.display()
        ))
    })
}

impl WasiConfig {
    /// A WASI context as configured.
    pub(crate) fn build(&self) -> PyResult<WasiCtx> {
        let io = |e: std::io::Error| wasmtime_error(format!("failed to configure WASI: {e}"));
        let mut builder = WasiCtx::builder().args(&self.args);
        for (name, value) in &self.env {
            builder = builder.env(name, value);
        }
        // The builder inherits the three streams together; a stream that
        // is not inherited then gets its file, or /dev/null in place of
        // the null stream.
        let inherit_any = self.stdio.iter().any(|s| matches!(s, Stdio::Inherit));
        if inherit_any {
            builder = builder.inherit_stdio();
        }
        for (fd, stdio) in self.stdio.iter().enumerate() {
            let file = match stdio {
                Stdio::Inherit => continue,
                Stdio::File(f) => f.try_clone().map_err(io)?,
                Stdio::Null if inherit_any => {
                    let null = std::fs::OpenOptions::new()
                        .read(fd == 0)
                        .write(fd != 0)
                        .open("/dev/null");
                    null.map_err(io)?
                }
                Stdio::Null => continue,
            };
            builder = match fd {
                0 => builder.stdin(file),
                1 => builder.stdout(file),
                _ => builder.stderr(file),
            };
        }
        for (path, guest) in &self.preopens {
            builder = builder.preopened_dir(path, guest.clone()).map_err(|e| {
                wasmtime_error(format!("failed to add preopen dir {}: {e}", path.display()))
            })?;
        }
        Ok(builder.build())
    }
}
