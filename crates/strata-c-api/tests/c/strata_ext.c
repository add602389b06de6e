/* strata_ext.c: the strata.h extensions: .wat input, compile errors with a
 * message, fuel (exhaustion trap, get/set), epoch interruption of an
 * infinite loop, and the wasm stack limit. */
#include "check.h"
#include "strata.h"

/* Compiles WebAssembly text. */
static wasm_module_t* compile(wasm_engine_t* engine, const char* wat) {
  wasm_byte_vec_t binary;
  strata_error_t* error = strata_wat2wasm(wat, strlen(wat), &binary);
  REQUIRE(error == NULL);
  wasm_module_t* module = NULL;
  error = strata_module_new(engine, &binary, &module);
  wasm_byte_vec_delete(&binary);
  REQUIRE(error == NULL && module != NULL);
  return module;
}

static bool error_says(strata_error_t* error, const char* s) {
  if (error == NULL) return false;
  wasm_name_t m;
  strata_error_message(error, &m);
  /* Not NUL-terminated: copy before searching. */
  char* text = calloc(m.size + 1, 1);
  memcpy(text, m.data, m.size);
  bool ok = strstr(text, s) != NULL;
  if (!ok) fprintf(stderr, "error message: %s\n", text);
  free(text);
  wasm_byte_vec_delete(&m);
  strata_error_delete(error);
  return ok;
}

static wasm_func_t* first_export(wasm_instance_t* instance, wasm_extern_vec_t* exports) {
  wasm_instance_exports(instance, exports);
  return export_func(exports, 0);
}

static void check_text_and_errors(void) {
  wasm_byte_vec_t out;
  const char* good = "(module (func (export \"f\")))";
  CHECK(strata_wat2wasm(good, strlen(good), &out) == NULL);
  CHECK(out.size > 8 && memcmp(out.data, "\0asm", 4) == 0);
  wasm_byte_vec_delete(&out);
  const char* bad = "(module (fnuc))";
  CHECK(error_says(strata_wat2wasm(bad, strlen(bad), &out), "expected valid module field"));
  CHECK(out.size == 0);

  wasm_engine_t* engine = wasm_engine_new();
  wasm_byte_vec_t garbage;
  wasm_byte_vec_new(&garbage, 4, "\0asm");
  wasm_module_t* module = NULL;
  CHECK(error_says(strata_module_new(engine, &garbage, &module), "unexpected end"));
  CHECK(module == NULL);
  wasm_byte_vec_delete(&garbage);

  /* Fuel is refused when the engine does not meter it. */
  wasm_store_t* store = wasm_store_new(engine);
  CHECK(error_says(strata_store_set_fuel(store, 10), "fuel is not enabled"));
  uint64_t fuel = 0;
  CHECK(error_says(strata_store_get_fuel(store, &fuel), "fuel is not enabled"));
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

static void check_tiers(void) {
  wasm_config_t* config = wasm_config_new();
  CHECK(strata_config_tier(config, STRATA_TIER_INTERP));
  CHECK(!strata_config_tier(config, 7));
  CHECK(!strata_config_tier(NULL, STRATA_TIER_INTERP));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasm_engine_delete(engine);
}

static void check_fuel(void) {
  wasm_config_t* config = wasm_config_new();
  strata_config_consume_fuel(config, true);
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile(engine,
                                  "(module"
                                  "  (func (export \"spin\") (loop (br 0)))"
                                  "  (func (export \"add\") (param i32 i32) (result i32)"
                                  "    (i32.add (local.get 0) (local.get 1))))");
  CHECK(strata_store_set_fuel(store, 10000) == NULL);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_func_t* spin = first_export(instance, &exports);

  /* add costs the same fuel every time. */
  wasm_val_t args[2] = {WASM_I32_VAL(1), WASM_I32_VAL(2)};
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
  uint64_t before = 0, middle = 0, after = 0;
  CHECK(strata_store_get_fuel(store, &before) == NULL && before == 10000);
  CHECK(wasm_func_call(export_func(&exports, 1), &a, &r) == NULL && results[0].of.i32 == 3);
  CHECK(strata_store_get_fuel(store, &middle) == NULL);
  CHECK(wasm_func_call(export_func(&exports, 1), &a, &r) == NULL);
  CHECK(strata_store_get_fuel(store, &after) == NULL);
  CHECK(middle < before && before - middle == middle - after);

  /* An infinite loop runs out. */
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  CHECK(trap_says(wasm_func_call(spin, &none, &none), "all fuel consumed by WebAssembly"));
  CHECK(strata_store_get_fuel(store, &after) == NULL && after == 0);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

/* Advances the epoch each time wasm calls it. */
static wasm_trap_t* tick(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  (void)results;
  strata_engine_increment_epoch((wasm_engine_t*)env);
  return NULL;
}

static void check_epochs(void) {
  wasm_config_t* config = wasm_config_new();
  strata_config_epoch_interruption(config, true);
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile(engine,
                                  "(module (import \"\" \"tick\" (func $tick))"
                                  "  (func (export \"run\") (loop (call $tick) (br 0))))");
  wasm_functype_t* ty = wasm_functype_new_0_0();
  wasm_func_t* tick_func = wasm_func_new_with_env(store, ty, tick, engine, NULL);
  wasm_functype_delete(ty);
  wasm_extern_t* imports_data[] = {wasm_func_as_extern(tick_func)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);
  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_func_t* run = first_export(instance, &exports);

  strata_store_set_epoch_deadline(store, 3);
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  CHECK(trap_says(wasm_func_call(run, &none, &none), "interrupt"));

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(tick_func);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

static void check_stack_limit(void) {
  wasm_config_t* config = wasm_config_new();
  strata_config_max_wasm_stack(config, 64 * 1024);
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile(engine, "(module (func $f (export \"f\") (call $f)))");
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_func_t* f = first_export(instance, &exports);
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  wasm_trap_t* trap = wasm_func_call(f, &none, &none);
  REQUIRE(trap != NULL);
  wasm_frame_vec_t trace;
  wasm_trap_trace(trap, &trace);
  CHECK(trace.size > 0 && wasm_frame_func_index(trace.data[0]) == 0);
  wasm_frame_vec_delete(&trace);
  CHECK(trap_says(trap, "call stack exhausted"));

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

/* A module with two memories, the second 64-bit, grown past 4 GiB from C
 * and from wasm; a host memory of 1-byte pages. */
static void check_memories(void) {
  wasm_config_t* config = wasm_config_new();
  CHECK(strata_config_wasm_feature(config, "multi-memory", true));
  CHECK(strata_config_wasm_feature(config, "memory64", true));
  CHECK(strata_config_wasm_feature(config, "custom-page-sizes", true));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile(engine,
      "(module (memory 1) (memory (export \"m64\") i64 1)"
      " (func (export \"grow\") (param i64) (result i64) (memory.grow 1 (local.get 0)))"
      " (func (export \"load\") (param i64) (result i64) (i64.load 1 (local.get 0))))");
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 3);
  wasm_memory_t* m64 = wasm_extern_as_memory(exports.data[0]);
  REQUIRE(m64 != NULL);
  wasm_memorytype_t* ty = wasm_memory_type(m64);
  CHECK(strata_memorytype_is64(ty) && strata_memorytype_minimum(ty) == 1);
  uint64_t max = 0;
  CHECK(!strata_memorytype_maximum(ty, &max));
  CHECK(strata_memorytype_page_size_log2(ty) == 16);
  wasm_memorytype_delete(ty);

  uint64_t prev = 0;
  CHECK(strata_memory_grow(m64, 65536, &prev) == NULL && prev == 1);
  CHECK(strata_memory_size(m64) == 65537);
  CHECK(wasm_memory_data_size(m64) == (size_t)65537 * 65536);
  /* Bytes above 4 GiB, written by the host, read by wasm. */
  uint64_t far = ((uint64_t)1 << 32) + 8;
  wasm_memory_data(m64)[far] = 0x5a;
  wasm_val_t args[1] = {WASM_I64_VAL((int64_t)far)};
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
  CHECK(wasm_func_call(wasm_extern_as_func(exports.data[2]), &a, &r) == NULL);
  CHECK(results[0].of.i64 == 0x5a);
  /* A failed grow is -1, never a size. */
  args[0].of.i64 = (int64_t)1 << 40;
  CHECK(wasm_func_call(wasm_extern_as_func(exports.data[1]), &a, &r) == NULL);
  CHECK(results[0].of.i64 == -1);
  CHECK(error_says(strata_memory_grow(m64, (uint64_t)1 << 40, &prev), "failed to grow"));

  /* A host memory of 1-byte pages. */
  wasm_memorytype_t* bytes = strata_memorytype_new(3, true, 10, false, 0);
  REQUIRE(bytes != NULL);
  CHECK(strata_memorytype_new(1, false, 0, false, 12) == NULL);
  wasm_memory_t* small = wasm_memory_new(store, bytes);
  REQUIRE(small != NULL);
  CHECK(wasm_memory_data_size(small) == 3 && strata_memory_size(small) == 3);
  CHECK(strata_memory_grow(small, 7, &prev) == NULL && prev == 3);
  CHECK(wasm_memory_data_size(small) == 10);
  CHECK(error_says(strata_memory_grow(small, 1, NULL), "failed to grow"));
  wasm_memory_delete(small);
  wasm_memorytype_delete(bytes);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

int main(void) {
  check_memories();
  check_tiers();
  check_text_and_errors();
  check_fuel();
  check_epochs();
  check_stack_limit();
  return finish("strata_ext");
}
