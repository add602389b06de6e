/* threads.c: one engine and one module shared by several threads, each
 * with its own store (wasm_module_share / wasm_module_obtain), and an
 * infinite loop interrupted by an epoch tick from another thread
 * (strata.h).
 *
 * (module
 *   (func (export "fib") (param i32) (result i32)
 *     (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
 *       (then (local.get 0))
 *       (else (i32.add
 *         (call 0 (i32.sub (local.get 0) (i32.const 1)))
 *         (call 0 (i32.sub (local.get 0) (i32.const 2))))))))
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "strata.h"

static const unsigned char fib_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03,
    0x66, 0x69, 0x62, 0x00, 0x00, 0x0a, 0x1e, 0x01, 0x1c, 0x00, 0x20, 0x00,
    0x41, 0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01,
    0x6b, 0x10, 0x00, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x00, 0x6a, 0x0b,
    0x0b,
};

#define THREADS 4

typedef struct {
  wasm_engine_t* engine;
  const wasm_shared_module_t* shared;
  int32_t input;
  int32_t result;
  bool ok;
} job;

static void* run_job(void* arg) {
  job* j = arg;
  wasm_store_t* store = wasm_store_new(j->engine);
  wasm_module_t* module = wasm_module_obtain(store, j->shared);
  if (module == NULL) return NULL;
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  if (instance != NULL) {
    wasm_extern_vec_t exports;
    wasm_instance_exports(instance, &exports);
    wasm_val_t args[1] = {WASM_I32_VAL(j->input)};
    wasm_val_t results[1] = {WASM_INIT_VAL};
    wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
    wasm_trap_t* trap = wasm_func_call(wasm_extern_as_func(exports.data[0]), &a, &r);
    j->ok = trap == NULL;
    if (trap) wasm_trap_delete(trap);
    j->result = results[0].of.i32;
    wasm_extern_vec_delete(&exports);
    wasm_instance_delete(instance);
  }
  wasm_module_delete(module);
  wasm_store_delete(store);
  return NULL;
}

static void shared_module(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = load(store, fib_wasm, sizeof(fib_wasm));
  REQUIRE(module != NULL);
  wasm_shared_module_t* shared = wasm_module_share(module);
  wasm_module_delete(module);
  wasm_store_delete(store);

  pthread_t threads[THREADS];
  job jobs[THREADS];
  static const int32_t expected[THREADS] = {0, 1, 55, 6765};
  static const int32_t inputs[THREADS] = {0, 1, 10, 20};
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){engine, shared, inputs[i], -1, false};
    REQUIRE(pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    CHECK(jobs[i].ok && jobs[i].result == expected[i]);
  }
  wasm_shared_module_delete(shared);
  wasm_engine_delete(engine);
}

static void* ticker(void* engine) {
  struct timespec ms = {0, 20 * 1000 * 1000};
  nanosleep(&ms, NULL);
  strata_engine_increment_epoch(engine);
  return NULL;
}

static void epoch_from_another_thread(void) {
  wasm_config_t* config = wasm_config_new();
  strata_config_epoch_interruption(config, true);
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  const char* wat = "(module (func (export \"spin\") (loop (br 0))))";
  wasm_byte_vec_t binary;
  REQUIRE(strata_wat2wasm(wat, strlen(wat), &binary) == NULL);
  wasm_module_t* module = wasm_module_new(store, &binary);
  wasm_byte_vec_delete(&binary);
  REQUIRE(module != NULL);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);

  strata_store_set_epoch_deadline(store, 1);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, ticker, engine) == 0);
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  CHECK(trap_says(wasm_func_call(export_func(&exports, 0), &none, &none), "interrupt"));
  pthread_join(thread, NULL);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

int main(void) {
  shared_module();
  epoch_from_another_thread();
  return finish("threads");
}
