//! Diagnostics through the real binary: code offsets in backtraces, core
//! dumps (`-D coredump=PATH`), and profiling (`--profile=perfmap`,
//! `jitdump` and `guest`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wasmparser::{Operator, Parser, Payload};

/// The tiers every execution test runs in.
const TIERS: [&str; 2] = ["interp", "jit"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs `strata run --tier TIER ARGS...` in `dir`.
fn run_in(tier: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["run", "--tier", tier])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the strata binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("strata-diagnostics-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The binary `strata` runs for the `.wat` fixture `name` (`wat` is
/// deterministic, so offsets in it are the ones Strata reports).
fn binary_of(name: &str) -> Vec<u8> {
    wat::parse_file(fixture(name)).expect("the fixture parses")
}

/// The module offset of the `nth` operator of defined function `func` (in
/// the function index space of a module without imported functions) for
/// which `matches` holds, and the offset of the function's body.
fn offset_of(wasm: &[u8], func: usize, matches: impl Fn(&Operator<'_>) -> bool) -> (usize, usize) {
    let body = Parser::new(0)
        .parse_all(wasm)
        .filter_map(|p| match p.expect("a valid module") {
            Payload::CodeSectionEntry(body) => Some(body),
            _ => None,
        })
        .nth(func)
        .expect("the function exists");
    let mut ops = body.get_operators_reader().expect("a body");
    while !ops.eof() {
        let at = ops.original_position();
        if matches(&ops.read().expect("an operator")) {
            return (at as usize, body.range().start as usize);
        }
    }
    panic!("no such operator in function {func}");
}

#[test]
fn backtraces_show_the_offset_of_each_frames_instruction_in_both_tiers() {
    let wasm = binary_of("offsets.wat");
    let (div, _) = offset_of(&wasm, 0, |op| matches!(op, Operator::I32DivS));
    let (call, _) = offset_of(&wasm, 1, |op| matches!(op, Operator::Call { .. }));
    let (indirect, _) = offset_of(&wasm, 2, |op| matches!(op, Operator::CallIndirect { .. }));
    let (unreachable, _) = offset_of(&wasm, 3, |op| matches!(op, Operator::Unreachable));
    let dir = fixture("");
    for tier in TIERS {
        let o = run_in(tier, &dir, &["--invoke", "run", "offsets.wat", "0"]);
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        let expected = format!(
            "error: wasm trap: integer divide by zero\nwasm backtrace:\n   \
             0: {div:#6x} - offsets!divide\n   \
             1: {call:#6x} - offsets!middle\n   \
             2: {indirect:#6x} - offsets!entry\n"
        );
        assert_eq!(stderr(&o), expected, "{tier}");

        let o = run_in(tier, &dir, &["--invoke", "abort", "offsets.wat"]);
        assert_eq!(
            stderr(&o),
            format!(
                "error: wasm trap: unreachable\nwasm backtrace:\n   \
                 0: {unreachable:#6x} - offsets!abort\n"
            ),
            "{tier}"
        );
    }
}

/// What a core dump says, read with wasmparser's readers section by
/// section.
#[derive(Debug, Default)]
struct CoreDump {
    name: String,
    modules: Vec<String>,
    /// (module, memories, globals) of each instance.
    instances: Vec<(u32, Vec<u32>, Vec<u32>)>,
    thread: String,
    frames: Vec<wasmparser::CoreDumpStackFrame>,
    /// Minimum pages of each memory.
    memories: Vec<u64>,
    /// (memory, offset, bytes) of each data segment.
    data: Vec<(u32, u64, Vec<u8>)>,
    /// (type, mutable, value) of each global (i32 globals only here).
    globals: Vec<(wasmparser::ValType, bool, Option<i32>)>,
}

fn read_core_dump(bytes: &[u8]) -> CoreDump {
    use wasmparser::{BinaryReader, ConstExpr, DataKind, KnownCustom};
    // A core dump is a valid (never instantiated) module.
    wasmparser::Validator::new()
        .validate_all(bytes)
        .expect("the core dump is a valid module");
    let const_i32 = |e: &ConstExpr<'_>| match e.get_operators_reader().read() {
        Ok(Operator::I32Const { value }) => Some(value),
        _ => None,
    };
    let mut dump = CoreDump::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("a well-formed core dump") {
            Payload::CustomSection(c) => {
                let data = BinaryReader::new(c.data(), c.data_offset());
                match c.name() {
                    "core" => {
                        dump.name = wasmparser::CoreDumpSection::new(data).unwrap().name.into()
                    }
                    "coremodules" => {
                        let m = wasmparser::CoreDumpModulesSection::new(data).unwrap();
                        dump.modules = m.modules.iter().map(|s| s.to_string()).collect();
                    }
                    "coreinstances" => {
                        let i = wasmparser::CoreDumpInstancesSection::new(data).unwrap();
                        dump.instances = i
                            .instances
                            .into_iter()
                            .map(|i| (i.module_index, i.memories, i.globals))
                            .collect();
                    }
                    "corestack" => {
                        let s = wasmparser::CoreDumpStackSection::new(data).unwrap();
                        dump.thread = s.name.into();
                        dump.frames = s.frames;
                    }
                    other => assert!(
                        !matches!(c.as_known(), KnownCustom::Unknown) || other == "name",
                        "unexpected section {other}"
                    ),
                }
            }
            Payload::MemorySection(r) => {
                dump.memories = r.into_iter().map(|m| m.unwrap().initial).collect();
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.unwrap();
                    dump.globals
                        .push((g.ty.content_type, g.ty.mutable, const_i32(&g.init_expr)));
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.unwrap();
                    let DataKind::Active {
                        memory_index,
                        offset_expr,
                    } = d.kind
                    else {
                        panic!("a passive segment in a core dump");
                    };
                    let offset = const_i32(&offset_expr).expect("an i32 offset") as u64;
                    dump.data.push((memory_index, offset, d.data.to_vec()));
                }
            }
            _ => {}
        }
    }
    dump
}

#[test]
fn a_trap_writes_a_core_dump_in_the_tool_conventions_format_in_both_tiers() {
    use wasmparser::CoreDumpValue as V;
    let wasm = binary_of("offsets.wat");
    let (div, body0) = offset_of(&wasm, 0, |op| matches!(op, Operator::I32DivS));
    let (call, body1) = offset_of(&wasm, 1, |op| matches!(op, Operator::Call { .. }));
    let (indirect, body2) = offset_of(&wasm, 2, |op| matches!(op, Operator::CallIndirect { .. }));
    for tier in TIERS {
        let dir = scratch(&format!("coredump-{tier}"));
        let module = fixture("offsets.wat");
        let module = module.to_str().unwrap();
        let o = run_in(
            tier,
            &dir,
            &["-D", "coredump=crash.core", "--invoke", "run", module, "0"],
        );
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("core dumped at `crash.core`"),
            "{}",
            stderr(&o)
        );
        let dump = read_core_dump(&std::fs::read(dir.join("crash.core")).expect("a core file"));
        assert_eq!(dump.name, module, "{tier}");
        assert_eq!(dump.modules, ["offsets"], "{tier}");
        assert_eq!(dump.instances, [(0, vec![0], vec![0])], "{tier}");
        assert_eq!(dump.thread, "main");
        // The trapping function with the offset of its `i32.div_s`, then
        // the calls, relative to each function's body.
        let frames: Vec<(u32, u32, u32)> = dump
            .frames
            .iter()
            .map(|f| (f.instanceidx, f.funcidx, f.codeoffset))
            .collect();
        assert_eq!(
            frames,
            [
                (0, 0, (div - body0) as u32),
                (0, 1, (call - body1) as u32),
                (0, 2, (indirect - body2) as u32)
            ],
            "{tier}"
        );
        // The interpreter knows each frame's locals (parameters first);
        // the JIT marks them missing. Neither records operand stacks.
        let locals: Vec<String> = dump
            .frames
            .iter()
            .map(|f| format!("{:?}", f.locals))
            .collect();
        let expected = if tier == "interp" {
            vec![
                format!("{:?}", [V::I32(10), V::I32(0), V::I64(42)]),
                format!("{:?}", [V::I32(0)]),
                format!("{:?}", [V::I32(0)]),
            ]
        } else {
            vec![
                format!("{:?}", [V::Missing, V::Missing, V::Missing]),
                format!("{:?}", [V::Missing]),
                format!("{:?}", [V::Missing]),
            ]
        };
        assert_eq!(locals, expected, "{tier}");
        assert!(dump.frames.iter().all(|f| f.stack.is_empty()));
        // The memory as it was at the trap: one page, whose only non-zero
        // bytes are the value stored at 16; the global as set, immutable.
        assert_eq!(dump.memories, [1], "{tier}");
        assert_eq!(dump.data.len(), 1, "{tier}");
        let (memory, offset, bytes) = &dump.data[0];
        assert_eq!((*memory, *offset), (0, 0));
        assert_eq!(&bytes[16..20], &0x11223344_u32.to_le_bytes());
        assert!(bytes[..16].iter().chain(&bytes[20..]).all(|&b| b == 0));
        assert_eq!(
            dump.globals,
            [(wasmparser::ValType::I32, false, Some(99))],
            "{tier}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn no_core_dump_without_a_trap_and_bad_debug_options_are_errors() {
    let dir = scratch("coredump-none");
    let module = fixture("offsets.wat");
    let module = module.to_str().unwrap();
    let o = run_in(
        "interp",
        &dir,
        &["-D", "coredump=c.core", "--invoke", "run", module, "1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!dir.join("c.core").exists());
    let o = run_in("interp", &dir, &["-D", "nonsense=1", module]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown -D option `nonsense=1`"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
