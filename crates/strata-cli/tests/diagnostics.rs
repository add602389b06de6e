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

/// The leaf function of each sample of a Firefox processed profile, and
/// each sample's whole stack (outermost first), by name.
fn profile_stacks(json: &serde_json::Value) -> Vec<Vec<String>> {
    let thread = &json["threads"][0];
    let strings = thread["stringArray"].as_array().expect("stringArray");
    let stack_table = &thread["stackTable"];
    let name_of_stack = |stack: usize| -> String {
        let frame = stack_table["frame"][stack].as_u64().expect("a frame") as usize;
        let func = thread["frameTable"]["func"][frame]
            .as_u64()
            .expect("a func") as usize;
        let name = thread["funcTable"]["name"][func].as_u64().expect("a name") as usize;
        strings[name].as_str().expect("a string").to_string()
    };
    let samples = thread["samples"]["stack"].as_array().expect("samples");
    assert_eq!(
        thread["samples"]["length"].as_u64(),
        Some(samples.len() as u64)
    );
    samples
        .iter()
        .filter_map(|s| s.as_u64())
        .map(|leaf| {
            let mut stack = Vec::new();
            let mut at = Some(leaf as usize);
            while let Some(s) = at {
                stack.push(name_of_stack(s));
                at = stack_table["prefix"][s].as_u64().map(|p| p as usize);
            }
            stack.reverse();
            stack
        })
        .collect()
}

/// Checks the top-level structure of a processed profile.
fn check_processed_profile(json: &serde_json::Value) {
    for key in [
        "meta",
        "libs",
        "threads",
        "pages",
        "profilerOverhead",
        "counters",
    ] {
        assert!(json.get(key).is_some(), "no `{key}` in the profile");
    }
    let meta = &json["meta"];
    assert!(meta["version"].as_u64().is_some(), "meta.version");
    assert!(meta["preprocessedProfileVersion"].as_u64().is_some());
    assert!(meta["interval"].as_f64().is_some_and(|i| i > 0.0));
    let thread = &json["threads"][0];
    for key in [
        "samples",
        "stackTable",
        "frameTable",
        "funcTable",
        "stringArray",
        "nativeSymbols",
        "resourceTable",
    ] {
        assert!(thread.get(key).is_some(), "no `{key}` in the thread");
    }
}

#[test]
fn guest_profiles_name_the_hottest_functions_in_both_tiers() {
    for tier in TIERS {
        let dir = scratch(&format!("guest-{tier}"));
        let module = fixture("hot.wat");
        let o = run_in(
            tier,
            &dir,
            &[
                "--profile=guest,hot.json,1ms",
                "--invoke",
                "run",
                module.to_str().unwrap(),
                "100000000",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{tier}: {}", stderr(&o));
        let text = std::fs::read_to_string(dir.join("hot.json")).expect("the profile");
        let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        check_processed_profile(&json);
        assert_eq!(json["libs"][0]["name"], "hot.wat", "{tier}");
        let stacks = profile_stacks(&json);
        assert!(stacks.len() >= 10, "{tier}: only {} samples", stacks.len());
        // The loop is where the time goes, under its two callers.
        let in_spin = stacks
            .iter()
            .filter(|s| s.as_slice() == ["main", "work", "spin"])
            .count();
        assert!(
            in_spin * 10 >= stacks.len() * 9,
            "{tier}: {in_spin} of {} samples in main > work > spin: {stacks:?}",
            stacks.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_guest_profile_of_a_real_program_names_its_hottest_function() {
    // quicksort.wasm (benches/corpus) has no name section: its functions
    // are `wasm-function[N]`. The hot one is the recursive sort, the one
    // function that calls itself.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/corpus");
    let wasm = std::fs::read(corpus.join("quicksort.wasm")).expect("the corpus");
    let mut imported = 0;
    let mut recursive = None;
    let mut defined = 0;
    for payload in Parser::new(0).parse_all(&wasm) {
        match payload.expect("a valid module") {
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    if matches!(import.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = imported + defined;
                defined += 1;
                let mut ops = body.get_operators_reader().unwrap();
                while !ops.eof() {
                    if let Ok(Operator::Call { function_index }) = ops.read() {
                        if function_index == index {
                            recursive = Some(index);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let sort = format!(
        "wasm-function[{}]",
        recursive.expect("a recursive function")
    );
    for tier in TIERS {
        let dir = scratch(&format!("quicksort-{tier}"));
        let module = corpus.join("quicksort.wasm");
        let o = run_in(
            tier,
            &dir,
            &[
                "--profile=guest,,1ms",
                "--invoke",
                "run",
                module.to_str().unwrap(),
                "3",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{tier}: {}", stderr(&o));
        // An empty PATH is the default file.
        let text = std::fs::read_to_string(dir.join("strata-guest-profile.json"))
            .expect("the default profile file");
        let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        check_processed_profile(&json);
        let stacks = profile_stacks(&json);
        assert!(stacks.len() >= 5, "{tier}: {} samples", stacks.len());
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        for s in &stacks {
            *counts.entry(s.last().unwrap().as_str()).or_default() += 1;
        }
        let hottest = counts.iter().max_by_key(|(_, n)| **n).map(|(f, _)| *f);
        assert_eq!(hottest, Some(sort.as_str()), "{tier}: {counts:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_guest_profile_is_written_when_the_guest_traps_and_a_timeout_still_applies() {
    for tier in TIERS {
        let dir = scratch(&format!("guest-trap-{tier}"));
        let module = fixture("offsets.wat");
        let o = run_in(
            tier,
            &dir,
            &[
                "--profile=guest,p.json",
                "--invoke",
                "run",
                module.to_str().unwrap(),
                "0",
            ],
        );
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        let text = std::fs::read_to_string(dir.join("p.json")).expect("the profile");
        check_processed_profile(&serde_json::from_str(&text).expect("valid JSON"));

        // An endless loop is still interrupted by -W timeout while sampled.
        let spin = fixture("hot.wat");
        let o = run_in(
            tier,
            &dir,
            &[
                "--profile=guest,spin.json,1ms",
                "-W",
                "timeout=200ms",
                "--invoke",
                "run",
                spin.to_str().unwrap(),
                "-1",
            ],
        );
        assert_eq!(o.status.code(), Some(134), "{tier}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("wasm trap: interrupt"),
            "{}",
            stderr(&o)
        );
        let text = std::fs::read_to_string(dir.join("spin.json")).expect("the profile");
        let stacks = profile_stacks(&serde_json::from_str(&text).expect("valid JSON"));
        assert!(!stacks.is_empty(), "{tier}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Runs `strata run ARGS...` in `dir` and returns its output and its
/// process id (which names the profiling files).
fn run_with_pid(dir: &Path, args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the strata binary runs");
    let pid = child.id();
    (child.wait_with_output().expect("it finishes"), pid)
}

/// The functions of offsets.wat as profiles name them.
const OFFSETS_FUNCTIONS: [&str; 4] = ["divide", "middle", "entry", "abort"];

#[test]
fn perfmap_lists_every_compiled_function_by_name() {
    let dir = scratch("perfmap");
    let module = fixture("offsets.wat");
    let (o, pid) = run_with_pid(
        &dir,
        &[
            "--tier",
            "jit",
            "--profile=perfmap",
            "--invoke",
            "run",
            module.to_str().unwrap(),
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let path = PathBuf::from(format!("/tmp/perf-{pid}.map"));
    let map = std::fs::read_to_string(&path).expect("the perf map");
    let _ = std::fs::remove_file(&path);
    // `START SIZE NAME`, hexadecimal without a prefix, as perf reads it.
    let mut entries: Vec<(u64, u64, String)> = map
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let start = u64::from_str_radix(parts.next().unwrap(), 16).expect("a hex start");
            let size = u64::from_str_radix(parts.next().unwrap(), 16).expect("a hex size");
            (start, size, parts.next().expect("a name").to_string())
        })
        .collect();
    for name in OFFSETS_FUNCTIONS {
        let count = entries.iter().filter(|(_, _, n)| n == name).count();
        assert_eq!(count, 1, "{name} in {map}");
    }
    // A trampoline per function, and nothing else.
    assert_eq!(entries.len(), 2 * OFFSETS_FUNCTIONS.len(), "{map}");
    entries.sort();
    for pair in entries.windows(2) {
        assert!(pair[0].1 > 0 && pair[0].0 + pair[0].1 <= pair[1].0, "{map}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jitdump_writes_a_header_and_a_code_load_record_per_function() {
    let dir = scratch("jitdump");
    let module = fixture("offsets.wat");
    let (o, pid) = run_with_pid(
        &dir,
        &[
            "--tier",
            "jit",
            "--profile=jitdump",
            "--invoke",
            "run",
            module.to_str().unwrap(),
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dump = std::fs::read(dir.join(format!("jit-{pid}.dump"))).expect("the jitdump file");
    let u32_at = |at: usize| u32::from_le_bytes(dump[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(dump[at..at + 8].try_into().unwrap());
    // The header (tools/perf/Documentation/jitdump-specification.txt).
    assert_eq!(u32_at(0), 0x4A69_5444, "magic");
    assert_eq!(u32_at(4), 1, "version");
    let header = u32_at(8) as usize;
    assert_eq!(header, 40, "header size");
    let machine = if cfg!(target_arch = "x86_64") {
        62
    } else {
        183
    };
    assert_eq!(u32_at(12), machine, "ELF machine");
    assert_eq!(u32_at(20), pid, "pid");
    assert!(u64_at(24) > 0, "timestamp");
    // JIT_CODE_LOAD records: prefix (id, size, timestamp), pid, tid, vma,
    // code address, code size, code index, name, code.
    let mut at = header;
    let mut names = Vec::new();
    while at < dump.len() {
        let (id, size) = (u32_at(at), u32_at(at + 4) as usize);
        assert_eq!(id, 0, "only JIT_CODE_LOAD records");
        assert!(at + size <= dump.len(), "a record runs past the end");
        assert_eq!(u32_at(at + 16), pid);
        let (vma, addr, code_size, index) = (
            u64_at(at + 24),
            u64_at(at + 32),
            u64_at(at + 40),
            u64_at(at + 48),
        );
        assert_eq!(vma, addr);
        assert!(addr > 0 && code_size > 0);
        assert_eq!(index, names.len() as u64, "code indices count up");
        let name_start = at + 56;
        let nul = dump[name_start..]
            .iter()
            .position(|&b| b == 0)
            .expect("a NUL");
        let name = String::from_utf8(dump[name_start..name_start + nul].to_vec()).unwrap();
        let code_start = name_start + nul + 1;
        assert_eq!(code_start + code_size as usize, at + size, "{name}: size");
        names.push(name);
        at += size;
    }
    assert_eq!(at, dump.len());
    for name in OFFSETS_FUNCTIONS {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert_eq!(names.len(), 2 * OFFSETS_FUNCTIONS.len(), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn perfmap_and_jitdump_say_the_interpreter_has_no_compiled_code() {
    for profile in ["perfmap", "jitdump"] {
        let dir = scratch(&format!("interp-{profile}"));
        let module = fixture("offsets.wat");
        let flag = format!("--profile={profile}");
        let (o, pid) = run_with_pid(
            &dir,
            &[
                "--tier",
                "interp",
                &flag,
                "--invoke",
                "run",
                module.to_str().unwrap(),
                "1",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("the interpreter tier compiles none"),
            "{}",
            stderr(&o)
        );
        assert!(!Path::new(&format!("/tmp/perf-{pid}.map")).exists());
        assert!(!dir.join(format!("jit-{pid}.dump")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
    // An unknown strategy is an error.
    let o = run_in("interp", &fixture(""), &["--profile=vtune", "offsets.wat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown profiling strategy `vtune`"),
        "{}",
        stderr(&o)
    );
}
