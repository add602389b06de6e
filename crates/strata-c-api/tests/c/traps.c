/* traps.c: traps with their message, origin and trace; a trapping start
 * function and a missing import at instantiation; traps made by the host;
 * references, identity and host info of traps and modules. Uses only
 * wasm.h.
 *
 * traps_wasm:
 * (module
 *   (func $inner (unreachable))
 *   (func $middle (call $inner))
 *   (func (export "run") (call $middle))
 *   (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))
 *
 * start_trap_wasm:
 * (module (func $start (unreachable)) (start $start))
 */
#include "check.h"

static const unsigned char traps_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60,
    0x00, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x05, 0x04, 0x00,
    0x00, 0x00, 0x01, 0x07, 0x0d, 0x02, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x02,
    0x03, 0x64, 0x69, 0x76, 0x00, 0x03, 0x0a, 0x17, 0x04, 0x03, 0x00, 0x00,
    0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b, 0x04, 0x00, 0x10, 0x01, 0x0b, 0x07,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b, 0x00, 0x17, 0x04, 0x6e, 0x61,
    0x6d, 0x65, 0x01, 0x10, 0x02, 0x00, 0x05, 0x69, 0x6e, 0x6e, 0x65, 0x72,
    0x01, 0x06, 0x6d, 0x69, 0x64, 0x64, 0x6c, 0x65,
};
static const unsigned char start_trap_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x00, 0x0a, 0x05, 0x01,
    0x03, 0x00, 0x00, 0x0b, 0x00, 0x0f, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01,
    0x08, 0x01, 0x00, 0x05, 0x73, 0x74, 0x61, 0x72, 0x74,
};

static int finalized = 0;
static void finalize(void* p) {
  (void)p;
  finalized++;
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = load(store, traps_wasm, sizeof(traps_wasm));
  REQUIRE(module != NULL);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 2);

  /* unreachable, three frames deep. */
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  wasm_trap_t* trap = wasm_func_call(export_func(&exports, 0), &none, &none);
  REQUIRE(trap != NULL);
  wasm_message_t message;
  wasm_trap_message(trap, &message);
  CHECK(message.size == strlen("unreachable") + 1);
  CHECK(strcmp(message.data, "unreachable") == 0);
  wasm_byte_vec_delete(&message);

  wasm_frame_t* origin = wasm_trap_origin(trap);
  REQUIRE(origin != NULL);
  CHECK(wasm_frame_func_index(origin) == 0);
  /* The `unreachable` at byte 0x2f of traps_wasm, one byte into its
     function's body (after the local declarations' count). */
  CHECK(wasm_frame_func_offset(origin) == 1);
  CHECK(wasm_frame_module_offset(origin) == 0x2f);
  CHECK(wasm_instance_same(wasm_frame_instance(origin), instance));
  wasm_frame_t* origin_copy = wasm_frame_copy(origin);
  wasm_frame_delete(origin);
  CHECK(wasm_frame_func_index(origin_copy) == 0);
  CHECK(wasm_instance_same(wasm_frame_instance(origin_copy), instance));
  wasm_frame_delete(origin_copy);

  wasm_frame_vec_t trace;
  wasm_trap_trace(trap, &trace);
  REQUIRE(trace.size == 3);
  CHECK(wasm_frame_func_index(trace.data[0]) == 0); /* $inner */
  CHECK(wasm_frame_func_index(trace.data[1]) == 1); /* $middle */
  CHECK(wasm_frame_module_offset(trace.data[1]) == 0x33); /* its call */
  CHECK(wasm_frame_func_offset(trace.data[1]) == 1);
  CHECK(wasm_frame_func_index(trace.data[2]) == 2); /* run */
  wasm_frame_vec_t trace_copy;
  wasm_frame_vec_copy(&trace_copy, &trace);
  wasm_frame_vec_delete(&trace);
  CHECK(trace_copy.size == 3 && wasm_frame_func_index(trace_copy.data[2]) == 2);
  wasm_frame_vec_delete(&trace_copy);

  /* Traps are references with identity and host info. */
  wasm_trap_t* trap_copy = wasm_trap_copy(trap);
  CHECK(wasm_trap_same(trap, trap_copy));
  wasm_trap_set_host_info_with_finalizer(trap_copy, &finalized, finalize);
  CHECK(wasm_trap_get_host_info(trap_copy) == &finalized);
  wasm_ref_t* ref = wasm_trap_as_ref(trap_copy);
  CHECK(wasm_ref_as_trap(ref) == trap_copy);
  CHECK(wasm_ref_as_func(ref) == NULL && wasm_ref_as_module_const(ref) == NULL);
  wasm_trap_delete(trap_copy);
  CHECK(finalized == 1);
  wasm_trap_delete(trap);

  /* Integer division by zero and overflow. */
  wasm_val_t args[2] = {WASM_I32_VAL(7), WASM_I32_VAL(0)};
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
  CHECK(trap_says(wasm_func_call(export_func(&exports, 1), &a, &r), "integer divide by zero"));
  args[0].of.i32 = INT32_MIN;
  args[1].of.i32 = -1;
  CHECK(trap_says(wasm_func_call(export_func(&exports, 1), &a, &r), "integer overflow"));
  args[0].of.i32 = -7;
  args[1].of.i32 = 2;
  CHECK(wasm_func_call(export_func(&exports, 1), &a, &r) == NULL && results[0].of.i32 == -3);
  /* Too few result slots. */
  wasm_val_vec_t no_results = WASM_EMPTY_VEC;
  CHECK(trap_says(wasm_func_call(export_func(&exports, 1), &a, &no_results), "expected 1 results"));

  /* A trap made by the host. */
  wasm_message_t text;
  wasm_name_new_from_string_nt(&text, "custom");
  wasm_trap_t* custom = wasm_trap_new(store, &text);
  wasm_byte_vec_delete(&text);
  CHECK(wasm_trap_origin(custom) == NULL);
  wasm_frame_vec_t empty_trace;
  wasm_trap_trace(custom, &empty_trace);
  CHECK(empty_trace.size == 0);
  wasm_frame_vec_delete(&empty_trace);
  CHECK(trap_says(custom, "custom"));

  /* A start function that traps fails the instantiation. */
  wasm_module_t* start_module = load(store, start_trap_wasm, sizeof(start_trap_wasm));
  REQUIRE(start_module != NULL);
  trap = NULL;
  CHECK(wasm_instance_new(store, start_module, NULL, &trap) == NULL);
  CHECK(trap_says(trap, "unreachable"));
  wasm_module_delete(start_module);

  /* A module instantiated with too few imports. */
  wasm_functype_t* ty = wasm_functype_new_0_0();
  wasm_importtype_vec_t want;
  wasm_name_t mod_name, field;
  wasm_name_new_from_string(&mod_name, "m");
  wasm_name_new_from_string(&field, "f");
  wasm_importtype_t* it[1] = {wasm_importtype_new(&mod_name, &field, wasm_functype_as_externtype(ty))};
  wasm_importtype_vec_new(&want, 1, it);
  CHECK(want.size == 1);
  wasm_importtype_vec_delete(&want);
  trap = NULL;
  wasm_extern_vec_t one_short = WASM_EMPTY_VEC;
  wasm_byte_vec_t host_env_like;
  /* (module (import "m" "f" (func))) */
  static const unsigned char needs_import[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00};
  wasm_byte_vec_new(&host_env_like, sizeof(needs_import), (const wasm_byte_t*)needs_import);
  wasm_module_t* importing = wasm_module_new(store, &host_env_like);
  wasm_byte_vec_delete(&host_env_like);
  REQUIRE(importing != NULL);
  CHECK(wasm_instance_new(store, importing, &one_short, &trap) == NULL);
  CHECK(trap_says(trap, "expected 1 imports, found 0"));

  /* Modules are references too. */
  wasm_module_t* module_copy = wasm_module_copy(module);
  CHECK(wasm_module_same(module, module_copy));
  CHECK(!wasm_module_same(module, importing));
  wasm_module_set_host_info(module_copy, &finalized);
  CHECK(wasm_module_get_host_info(module_copy) == &finalized);
  CHECK(wasm_ref_as_module(wasm_module_as_ref(module_copy)) == module_copy);
  wasm_module_delete(module_copy);
  wasm_module_delete(importing);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("traps");
}
