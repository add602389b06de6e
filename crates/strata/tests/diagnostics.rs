//! Diagnostics through the embedding API, in every tier: code offsets in
//! backtraces, core dumps, epoch-deadline callbacks and the stack they
//! capture, the guest profiler, and the perf map.

mod common;
use common::tiers;

use anyhow::Result;
use std::sync::{Arc, Mutex};
use strata::*;
use wasmparser::{Operator, Parser, Payload};

fn engine_with(tier: Tier, configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.tier(tier);
    configure(&mut config);
    Engine::new(&config).expect("a valid configuration")
}

/// Every operator of defined function `func` with its module offset, and
/// the offset of the function's body.
fn operators(wasm: &[u8], func: usize) -> (Vec<(usize, String)>, usize) {
    let body = Parser::new(0)
        .parse_all(wasm)
        .filter_map(|p| match p.unwrap() {
            Payload::CodeSectionEntry(body) => Some(body),
            _ => None,
        })
        .nth(func)
        .expect("the function");
    let mut ops = body.get_operators_reader().unwrap();
    let mut all = Vec::new();
    while !ops.eof() {
        let at = ops.original_position();
        let op: Operator<'_> = ops.read().unwrap();
        all.push((at as usize, format!("{op:?}")));
    }
    (all, body.range().start as usize)
}

/// The offset of the first operator of `func` whose debug form starts
/// with `prefix`, and the body's offset.
fn find(wasm: &[u8], func: usize, prefix: &str) -> (usize, usize) {
    let (ops, body) = operators(wasm, func);
    let at = ops
        .iter()
        .find(|(_, op)| op.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in function {func}: {ops:?}"))
        .0;
    (at, body)
}

const TRAPS: &str = r#"(module $m
    (memory 1)
    (func $load (param i32) (result i32) (i32.load offset=4 (local.get 0)))
    (func $via_call (param i32) (result i32)
      (i32.add (i32.const 1) (call $load (local.get 0))))
    (func (export "run") (param i32) (result i32) (call $via_call (local.get 0)))
    (func (export "fuel") (loop (br 0))))"#;

fn offsets_of_each_frame_in(tier: Tier) -> Result<()> {
    let wasm = wat::parse_str(TRAPS)?;
    let engine = engine_with(tier, |_| {});
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let err = run.call(&mut store, -1).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let expected = [
        find(&wasm, 0, "I32Load"),
        find(&wasm, 1, "Call"),
        find(&wasm, 2, "Call"),
    ];
    let got: Vec<_> = bt
        .frames()
        .iter()
        .map(|f| (f.module_offset(), f.func_offset()))
        .collect();
    let want: Vec<_> = expected
        .iter()
        .map(|&(at, body)| (Some(at), Some(at - body)))
        .collect();
    assert_eq!(got, want, "{tier:?}: {bt}");
    assert!(bt
        .to_string()
        .contains(&format!("   0: {:#6x} - m!load\n", expected[0].0)));
    Ok(())
}

#[test]
fn backtraces_give_each_frames_instruction_offset() {
    for tier in tiers() {
        offsets_of_each_frame_in(tier).unwrap();
    }
}

fn running_out_of_fuel_points_at_the_same_instruction_in(tier: Tier) -> Result<Option<usize>> {
    let engine = engine_with(tier, |c| {
        c.consume_fuel(true);
    });
    let module = Module::new(&engine, TRAPS)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let fuel = instance.get_typed_func::<(), ()>(&mut store, "fuel")?;
    let err = fuel.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    Ok(bt.frames()[0].module_offset())
}

#[test]
fn fuel_traps_have_the_same_offset_in_every_tier() {
    let wasm = wat::parse_str(TRAPS).unwrap();
    // The region that runs out is the loop's body: its `br`.
    let (br, _) = find(&wasm, 3, "Br ");
    for tier in tiers() {
        assert_eq!(
            running_out_of_fuel_points_at_the_same_instruction_in(tier).unwrap(),
            Some(br),
            "{tier:?}"
        );
    }
}

fn core_dump_in(tier: Tier) -> Result<()> {
    // Without the compile cache, so tiered execution interprets this
    // little code whatever ran before.
    let engine = engine_with(tier, |c| {
        c.coredump_on_trap(true).cache(None);
    });
    let module = Module::new(&engine, TRAPS)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let err = run.call(&mut store, -1).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let dump = err.downcast_ref::<WasmCoreDump>().expect("a core dump");
    let frames: Vec<_> = dump.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(frames, [Some("load"), Some("via_call"), None]);
    assert_eq!(dump.modules().len(), 1);
    assert_eq!(dump.modules()[0].name(), Some("m"));
    assert_eq!(dump.instances(), &[instance]);
    assert_eq!(dump.store_memories().len(), 1);
    assert!(dump.store_globals().is_empty());
    assert!(dump.to_string().contains("m!load"), "{dump}");
    let bytes = dump.serialize(&mut store, "traps");
    wasmparser::Validator::new().validate_all(&bytes)?;
    let mut sections = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        if let Payload::CustomSection(c) = payload? {
            sections.push(c.name().to_string());
            if c.name() == "corestack" {
                let reader = wasmparser::BinaryReader::new(c.data(), c.data_offset());
                let stack = wasmparser::CoreDumpStackSection::new(reader)?;
                let funcs: Vec<u32> = stack.frames.iter().map(|f| f.funcidx).collect();
                assert_eq!(funcs, [0, 1, 2]);
                // The interpreter knows the locals (each frame's i32
                // parameter, -1 throughout); tiered execution has not
                // compiled code run this little.
                let expected = if tier != Tier::Jit {
                    wasmparser::CoreDumpValue::I32(-1)
                } else {
                    wasmparser::CoreDumpValue::Missing
                };
                for f in &stack.frames {
                    assert_eq!(f.locals.len(), 1);
                    assert_eq!(format!("{:?}", f.locals[0]), format!("{expected:?}"));
                }
            }
        }
    }
    assert_eq!(
        sections,
        ["core", "coremodules", "coreinstances", "corestack"]
    );

    // Without the option, no core dump.
    let engine = engine_with(tier, |_| {});
    let module = Module::new(&engine, TRAPS)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let err = run.call(&mut store, -1).unwrap_err();
    assert!(err.downcast_ref::<WasmCoreDump>().is_none());
    Ok(())
}

#[test]
fn traps_carry_a_core_dump_when_asked() {
    for tier in tiers() {
        core_dump_in(tier).unwrap();
    }
}

const LOOP: &str = r#"(module $l
    (func $leaf)
    (func $outer (export "run") (param $n i32)
      (local $i i32)
      (loop $again
        (call $leaf)
        (br_if $again (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                (local.get $n))))))"#;

/// The stacks an epoch callback sees when every check reaches the
/// deadline: (function, offset) pairs, innermost first, per check.
fn stacks_seen_in(tier: Tier, stop_after: usize) -> (Vec<Vec<(String, usize)>>, Result<()>) {
    let engine = engine_with(tier, |c| {
        c.epoch_interruption(true);
    });
    let module = Module::new(&engine, LOOP).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut store = Store::new(&engine, ());
    // A deadline of 0 ticks has passed already: every check calls back.
    store.set_epoch_deadline(0);
    let record = Arc::clone(&seen);
    store.epoch_deadline_callback(move |store| {
        let stack: Vec<(String, usize)> = WasmBacktrace::capture(&*store)
            .frames()
            .iter()
            .map(|f| {
                (
                    f.func_name().unwrap_or("?").to_string(),
                    f.module_offset().expect("an offset"),
                )
            })
            .collect();
        let mut seen = record.lock().unwrap();
        seen.push(stack);
        if seen.len() == stop_after {
            return Err(Trap::Interrupt.into());
        }
        Ok(UpdateDeadline::Continue(0))
    });
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<i32, ()>(&mut store, "run")
        .unwrap();
    let result = run.call(&mut store, 3);
    // Outside a callback there is nothing to capture.
    assert!(WasmBacktrace::capture(&store).frames().is_empty());
    let seen = seen.lock().unwrap().clone();
    (seen, result)
}

#[test]
fn epoch_callbacks_see_the_interrupted_stack_in_every_tier() {
    let wasm = wat::parse_str(LOOP).unwrap();
    let (leaf_ops, _) = operators(&wasm, 0);
    let (outer_ops, _) = operators(&wasm, 1);
    let leaf_entry = leaf_ops[0].0;
    let outer_entry = outer_ops[0].0;
    let (loop_at, _) = find(&wasm, 1, "Loop");
    let (call_at, _) = find(&wasm, 1, "Call");
    // Function entries check at their first operator, loops at `loop`.
    let outer = |at| vec![("outer".to_string(), at)];
    let leaf = vec![
        ("leaf".to_string(), leaf_entry),
        ("outer".to_string(), call_at),
    ];
    let expected = vec![
        outer(outer_entry),
        outer(loop_at),
        leaf.clone(),
        outer(loop_at),
        leaf.clone(),
        outer(loop_at),
        leaf,
    ];
    for tier in tiers() {
        let (seen, result) = stacks_seen_in(tier, usize::MAX);
        result.unwrap();
        assert_eq!(seen, expected, "{tier:?}");
        // A callback's error ends the call; a trap gets its backtrace.
        let (seen, result) = stacks_seen_in(tier, 3);
        assert_eq!(seen.len(), 3);
        let err = result.unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
        let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
        let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
        assert_eq!(names, [Some("leaf"), Some("outer")], "{tier:?}");
        assert_eq!(bt.frames()[0].module_offset(), Some(leaf_entry));
    }
}

#[test]
fn without_a_callback_the_deadline_traps_and_a_callback_can_switch_back() {
    for tier in tiers() {
        let engine = engine_with(tier, |c| {
            c.epoch_interruption(true);
        });
        let module = Module::new(&engine, LOOP).unwrap();
        let mut store = Store::new(&engine, 0_u32);
        store.set_epoch_deadline(0);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<i32, ()>(&mut store, "run")
            .unwrap();
        let err = run.call(&mut store, 3).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
        // A callback that goes back to traps on its second call.
        store.epoch_deadline_callback(|store| {
            *store.data_mut() += 1;
            if *store.data() == 2 {
                store.epoch_deadline_trap();
            }
            Ok(UpdateDeadline::Continue(0))
        });
        let err = run.call(&mut store, 3).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
        assert_eq!(*store.data(), 2, "{tier:?}");
    }
}

#[cfg(feature = "profiling")]
#[test]
fn the_guest_profiler_records_the_sampled_stacks() {
    use std::time::Duration;
    for tier in tiers() {
        let engine = engine_with(tier, |c| {
            c.epoch_interruption(true);
        });
        let module = Module::new(&engine, LOOP).unwrap();
        let profiler = Arc::new(Mutex::new(GuestProfiler::new(
            "loop",
            Duration::from_millis(1),
            [("loop.wat".to_string(), module.clone())],
        )));
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(0);
        let sampler = Arc::clone(&profiler);
        store.epoch_deadline_callback(move |store| {
            sampler.lock().unwrap().sample(&*store, Duration::ZERO);
            Ok(UpdateDeadline::Continue(0))
        });
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<i32, ()>(&mut store, "run")
            .unwrap();
        run.call(&mut store, 3).unwrap();
        store.epoch_deadline_trap();
        let profiler = Arc::try_unwrap(profiler).unwrap().into_inner().unwrap();
        let mut json = Vec::new();
        profiler.finish(&mut json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["libs"][0]["name"], "loop.wat");
        let thread = &json["threads"][0];
        let strings: Vec<&str> = thread["stringArray"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        // Seven samples (see the callback test), with leaf frames in
        // `outer` and `leaf`, named through the module's symbol table.
        assert_eq!(thread["samples"]["length"], 7, "{tier:?}");
        assert!(
            strings.contains(&"outer") && strings.contains(&"leaf"),
            "{strings:?}"
        );
        // The frames' addresses are module offsets.
        let wasm = wat::parse_str(LOOP).unwrap();
        let (call_at, _) = find(&wasm, 1, "Call");
        let addresses = thread["frameTable"]["address"].as_array().unwrap();
        assert!(addresses.iter().any(|a| a.as_u64() == Some(call_at as u64)));
    }
}

#[test]
fn the_perf_map_names_every_compiled_function() {
    if !Tier::Jit.is_available() {
        return;
    }
    let engine = engine_with(Tier::Jit, |c| {
        c.profiler(ProfilingStrategy::PerfMap);
    });
    let module = Module::new(
        &engine,
        r#"(module (func $named_for_perf) (func) (export "f" (func 1)))"#,
    )
    .unwrap();
    drop(module);
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let map = std::fs::read_to_string(&path).expect("the perf map");
    let _ = std::fs::remove_file(&path);
    assert!(map.lines().any(|l| l.ends_with(" named_for_perf")), "{map}");
    assert!(
        map.lines().any(|l| l.ends_with(" wasm-function[1]")),
        "{map}"
    );
}
