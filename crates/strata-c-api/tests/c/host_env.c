/* host_env.c: host functions with an environment and its finalizer, a host
 * function that returns a trap, a funcref argument called from the host,
 * and a host function that calls back into wasm. Uses only wasm.h.
 *
 * (module
 *   (import "env" "counter" (func $counter (param i32) (result i32)))
 *   (import "env" "fail" (func $fail))
 *   (import "env" "apply" (func $apply (param funcref i32) (result i32)))
 *   (import "env" "reenter" (func $reenter (param i32) (result i32)))
 *   (func $double (export "double") (param i32) (result i32)
 *     (i32.mul (local.get 0) (i32.const 2)))
 *   (elem declare func $double)
 *   (func (export "count") (param i32) (result i32) (call $counter (local.get 0)))
 *   (func (export "call_fail") (call $fail))
 *   (func (export "apply_double") (param i32) (result i32)
 *     (call $apply (ref.func $double) (local.get 0)))
 *   (func (export "reenter") (param i32) (result i32) (call $reenter (local.get 0))))
 */
#include "check.h"

static const unsigned char host_env_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x02, 0x70, 0x7f, 0x01,
    0x7f, 0x02, 0x34, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x07, 0x63, 0x6f, 0x75,
    0x6e, 0x74, 0x65, 0x72, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x66,
    0x61, 0x69, 0x6c, 0x00, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x61, 0x70,
    0x70, 0x6c, 0x79, 0x00, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x07, 0x72, 0x65,
    0x65, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x00, 0x03, 0x06, 0x05, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x07, 0x37, 0x05, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c,
    0x65, 0x00, 0x04, 0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x05, 0x09,
    0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x66, 0x61, 0x69, 0x6c, 0x00, 0x06, 0x0c,
    0x61, 0x70, 0x70, 0x6c, 0x79, 0x5f, 0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65,
    0x00, 0x07, 0x07, 0x72, 0x65, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x08,
    0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x04, 0x0a, 0x25, 0x05, 0x07, 0x00,
    0x20, 0x00, 0x41, 0x02, 0x6c, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00,
    0x0b, 0x04, 0x00, 0x10, 0x01, 0x0b, 0x08, 0x00, 0xd2, 0x04, 0x20, 0x00,
    0x10, 0x02, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x03, 0x0b, 0x00, 0x2f,
    0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x28, 0x05, 0x00, 0x07, 0x63, 0x6f,
    0x75, 0x6e, 0x74, 0x65, 0x72, 0x01, 0x04, 0x66, 0x61, 0x69, 0x6c, 0x02,
    0x05, 0x61, 0x70, 0x70, 0x6c, 0x79, 0x03, 0x07, 0x72, 0x65, 0x65, 0x6e,
    0x74, 0x65, 0x72, 0x04, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65,
};

typedef struct {
  int total;
  int finalized;
} counter_env;

static int finalizer_calls = 0;

/* Adds its argument to the environment's total and returns the total. */
static wasm_trap_t* counter(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  counter_env* c = env;
  c->total += args->data[0].of.i32;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = c->total;
  return NULL;
}

static void counter_finalize(void* env) {
  ((counter_env*)env)->finalized++;
  finalizer_calls++;
}

/* Fails with a trap that carries a message. */
static wasm_trap_t* fail(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  (void)results;
  wasm_message_t message;
  wasm_name_new_from_string_nt(&message, "host says no");
  wasm_trap_t* trap = wasm_trap_new((wasm_store_t*)env, &message);
  wasm_byte_vec_delete(&message);
  return trap;
}

/* Calls the function it is given with the i32 it is given. */
static wasm_trap_t* apply(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  CHECK(args->data[0].kind == WASM_FUNCREF);
  wasm_ref_t* ref = args->data[0].of.ref;
  REQUIRE(ref != NULL);
  const wasm_func_t* f = wasm_ref_as_func_const(ref);
  REQUIRE(f != NULL);
  CHECK(wasm_func_param_arity(f) == 1);
  wasm_val_t call_args[1] = {WASM_I32_VAL(args->data[1].of.i32)};
  wasm_val_vec_t a = WASM_ARRAY_VEC(call_args);
  return wasm_func_call(f, &a, results);
}

/* Calls the export `double` (its environment) and adds one. */
static wasm_trap_t* reenter(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  wasm_func_t** doubler = env;
  REQUIRE(*doubler != NULL);
  wasm_val_t call_args[1] = {WASM_I32_VAL(args->data[0].of.i32)};
  wasm_val_t call_results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(call_args), r = WASM_ARRAY_VEC(call_results);
  wasm_trap_t* trap = wasm_func_call(*doubler, &a, &r);
  if (trap) return trap;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = call_results[0].of.i32 + 1;
  return NULL;
}

static int32_t call_i32(const wasm_func_t* f, int32_t x) {
  wasm_val_t args[1] = {WASM_I32_VAL(x)};
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
  wasm_trap_t* trap = wasm_func_call(f, &a, &r);
  if (trap) {
    wasm_message_t m;
    wasm_trap_message(trap, &m);
    fprintf(stderr, "unexpected trap: %s\n", m.data);
    wasm_byte_vec_delete(&m);
    wasm_trap_delete(trap);
    failures++;
    return -1;
  }
  CHECK(results[0].kind == WASM_I32);
  return results[0].of.i32;
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = load(store, host_env_wasm, sizeof(host_env_wasm));
  REQUIRE(module != NULL);

  counter_env* env = calloc(1, sizeof(counter_env));
  wasm_func_t* doubler = NULL;

  wasm_functype_t* i32_i32 = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_functype_t* void_void = wasm_functype_new_0_0();
  wasm_functype_t* apply_type = wasm_functype_new_2_1(wasm_valtype_new_funcref(), wasm_valtype_new_i32(),
                                                      wasm_valtype_new_i32());
  wasm_func_t* counter_func = wasm_func_new_with_env(store, i32_i32, counter, env, counter_finalize);
  wasm_func_t* fail_func = wasm_func_new_with_env(store, void_void, fail, store, NULL);
  wasm_func_t* apply_func = wasm_func_new(store, apply_type, apply);
  wasm_func_t* reenter_func = wasm_func_new_with_env(store, i32_i32, reenter, &doubler, NULL);
  wasm_functype_delete(i32_i32);
  wasm_functype_delete(void_void);
  wasm_functype_delete(apply_type);

  wasm_extern_t* imports_data[] = {
      wasm_func_as_extern(counter_func), wasm_func_as_extern(fail_func),
      wasm_func_as_extern(apply_func), wasm_func_as_extern(reenter_func)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);
  wasm_trap_t* trap = NULL;
  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, &trap);
  REQUIRE(instance != NULL);

  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 5);
  doubler = export_func(&exports, 0);

  /* With environment: state persists across calls. */
  CHECK(call_i32(export_func(&exports, 1), 5) == 5);
  CHECK(call_i32(export_func(&exports, 1), 10) == 15);
  CHECK(env->total == 15);
  /* The host function called directly from C. */
  CHECK(call_i32(counter_func, 1) == 16);

  /* A host trap reaches the caller with its message. */
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  wasm_val_vec_t no_results = WASM_EMPTY_VEC;
  CHECK(trap_says(wasm_func_call(export_func(&exports, 2), &none, &no_results), "host says no"));

  /* A funcref passed to the host, which calls it. */
  CHECK(call_i32(export_func(&exports, 3), 21) == 42);

  /* Re-entry: wasm -> host -> wasm. */
  CHECK(call_i32(export_func(&exports, 4), 8) == 17);

  /* Function references: identity and host info across handles. */
  wasm_func_t* doubler_copy = wasm_func_copy(doubler);
  CHECK(wasm_func_same(doubler, doubler_copy));
  CHECK(!wasm_func_same(doubler, counter_func));
  static int info;
  wasm_func_set_host_info(doubler, &info);
  CHECK(wasm_func_get_host_info(doubler_copy) == &info);
  wasm_ref_t* as_ref = wasm_func_as_ref(doubler_copy);
  CHECK(wasm_ref_get_host_info(as_ref) == &info);
  CHECK(wasm_ref_as_func(as_ref) == doubler_copy);
  CHECK(wasm_ref_as_global(as_ref) == NULL);
  CHECK(wasm_ref_as_extern(as_ref) != NULL);
  wasm_ref_t* ref_copy = wasm_ref_copy(as_ref);
  CHECK(wasm_ref_same(ref_copy, as_ref));
  wasm_ref_delete(ref_copy);
  wasm_func_delete(doubler_copy);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(counter_func);
  wasm_func_delete(fail_func);
  wasm_func_delete(apply_func);
  wasm_func_delete(reenter_func);
  wasm_module_delete(module);

  /* The finalizer runs when the store goes away, once. */
  CHECK(env->finalized == 0);
  wasm_store_delete(store);
  CHECK(env->finalized == 1 && finalizer_calls == 1);
  free(env);
  wasm_engine_delete(engine);
  return finish("host_env");
}
