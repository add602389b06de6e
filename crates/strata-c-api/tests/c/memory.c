/* memory.c: reading, writing and growing an exported memory from C and
 * from wasm, out-of-bounds traps, and a memory created by the host.
 * Uses only wasm.h.
 *
 * (module
 *   (memory (export "memory") 2 3)
 *   (func (export "size") (result i32) (memory.size))
 *   (func (export "load") (param i32) (result i32) (i32.load8_s (local.get 0)))
 *   (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (data (i32.const 0x1000) "\01\02\03\04"))
 *
 * memimport_wasm: a memory and a table the host provides.
 * (module
 *   (import "host" "mem" (memory 1))
 *   (import "host" "tab" (table 1 funcref))
 *   (type $t (func (result i32)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (func (export "call0") (result i32) (call_indirect (type $t) (i32.const 0))))
 */
#include "check.h"

static const unsigned char memory_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f,
    0x00, 0x03, 0x05, 0x04, 0x00, 0x01, 0x02, 0x01, 0x05, 0x04, 0x01, 0x01,
    0x02, 0x03, 0x07, 0x27, 0x05, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
    0x02, 0x00, 0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x04, 0x6c, 0x6f,
    0x61, 0x64, 0x00, 0x01, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x02,
    0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x03, 0x0a, 0x1f, 0x04, 0x04, 0x00,
    0x3f, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2c, 0x00, 0x00, 0x0b, 0x09,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x06, 0x00, 0x20,
    0x00, 0x40, 0x00, 0x0b, 0x0b, 0x0b, 0x01, 0x00, 0x41, 0x80, 0x20, 0x0b,
    0x04, 0x01, 0x02, 0x03, 0x04,
};

static const unsigned char memimport_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x1a, 0x02, 0x04,
    0x68, 0x6f, 0x73, 0x74, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x04,
    0x68, 0x6f, 0x73, 0x74, 0x03, 0x74, 0x61, 0x62, 0x01, 0x70, 0x00, 0x01,
    0x03, 0x03, 0x02, 0x01, 0x00, 0x07, 0x10, 0x02, 0x04, 0x70, 0x65, 0x65,
    0x6b, 0x00, 0x00, 0x05, 0x63, 0x61, 0x6c, 0x6c, 0x30, 0x00, 0x01, 0x0a,
    0x11, 0x02, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x07, 0x00,
    0x41, 0x00, 0x11, 0x00, 0x00, 0x0b, 0x00, 0x0b, 0x04, 0x6e, 0x61, 0x6d,
    0x65, 0x04, 0x04, 0x01, 0x00, 0x01, 0x74,
};

static wasm_trap_t* forty_two(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = 42;
  return NULL;
}

static wasm_trap_t* call(const wasm_func_t* f, wasm_val_t* args, size_t nargs,
                         wasm_val_t* results, size_t nresults) {
  wasm_val_vec_t a = {nargs, args}, r = {nresults, results};
  return wasm_func_call(f, &a, &r);
}

static int32_t call_i32(const wasm_func_t* f, wasm_val_t* args, size_t nargs) {
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_trap_t* trap = call(f, args, nargs, results, 1);
  CHECK(trap == NULL);
  if (trap) wasm_trap_delete(trap);
  return results[0].of.i32;
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = load(store, memory_wasm, sizeof(memory_wasm));
  REQUIRE(module != NULL);
  wasm_extern_vec_t imports = WASM_EMPTY_VEC;
  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 5);
  wasm_memory_t* memory = wasm_extern_as_memory(exports.data[0]);
  REQUIRE(memory != NULL);
  const wasm_func_t* size = export_func(&exports, 1);
  const wasm_func_t* load_fn = export_func(&exports, 2);
  const wasm_func_t* store_fn = export_func(&exports, 3);
  const wasm_func_t* grow = export_func(&exports, 4);

  /* Initial state. */
  CHECK(wasm_memory_size(memory) == 2);
  CHECK(wasm_memory_data_size(memory) == 2 * MEMORY_PAGE_SIZE);
  byte_t* data = wasm_memory_data(memory);
  CHECK(data[0] == 0 && data[0x1000] == 1 && data[0x1003] == 4);
  CHECK(call_i32(size, NULL, 0) == 2);
  wasm_val_t at[1] = {WASM_I32_VAL(0x1002)};
  CHECK(call_i32(load_fn, at, 1) == 3);

  /* Writes from either side are seen by the other. */
  data[0x1002] = 99;
  CHECK(call_i32(load_fn, at, 1) == 99);
  wasm_val_t st[2] = {WASM_I32_VAL(0x1003), WASM_I32_VAL(-5)};
  CHECK(call(store_fn, st, 2, NULL, 0) == NULL);
  CHECK(data[0x1003] == -5);

  /* Out of bounds. */
  wasm_val_t past[1] = {WASM_I32_VAL(0x20000)};
  wasm_val_t result[1] = {WASM_INIT_VAL};
  CHECK(trap_says(call(load_fn, past, 1, result, 1), "out of bounds memory access"));
  wasm_val_t past_store[2] = {WASM_I32_VAL(0x20000), WASM_I32_VAL(0)};
  CHECK(trap_says(call(store_fn, past_store, 2, NULL, 0), "out of bounds memory access"));

  /* Growing from C, up to the maximum of 3 pages. */
  CHECK(wasm_memory_grow(memory, 1));
  CHECK(wasm_memory_size(memory) == 3);
  CHECK(wasm_memory_data_size(memory) == 3 * MEMORY_PAGE_SIZE);
  CHECK(call_i32(size, NULL, 0) == 3);
  CHECK(call_i32(load_fn, past, 1) == 0);
  CHECK(wasm_memory_data(memory) == data); /* the memory does not move */
  CHECK(!wasm_memory_grow(memory, 1));
  CHECK(wasm_memory_grow(memory, 0));
  wasm_val_t one[1] = {WASM_I32_VAL(1)};
  CHECK(call_i32(grow, one, 1) == -1);
  CHECK(wasm_memory_size(memory) == 3);

  wasm_memorytype_t* ty = wasm_memory_type(memory);
  CHECK(wasm_memorytype_limits(ty)->min == 3 && wasm_memorytype_limits(ty)->max == 3);
  wasm_memorytype_delete(ty);

  /* A memory created by the host. */
  wasm_limits_t limits = {1, 4};
  wasm_memorytype_t* host_ty = wasm_memorytype_new(&limits);
  wasm_memory_t* host_mem = wasm_memory_new(store, host_ty);
  wasm_memorytype_delete(host_ty);
  REQUIRE(host_mem != NULL);
  CHECK(wasm_memory_size(host_mem) == 1);
  CHECK(wasm_memory_grow(host_mem, 3));
  CHECK(!wasm_memory_grow(host_mem, 1));
  CHECK(wasm_memory_data_size(host_mem) == 4 * MEMORY_PAGE_SIZE);
  wasm_memory_data(host_mem)[4 * MEMORY_PAGE_SIZE - 1] = 7;
  CHECK(!wasm_memory_same(host_mem, memory));

  /* The host's memory and table imported by a module. */
  wasm_functype_t* ft = wasm_functype_new_0_1(wasm_valtype_new_i32());
  wasm_func_t* answer = wasm_func_new(store, ft, forty_two);
  wasm_functype_delete(ft);
  wasm_limits_t one_elem = {1, 1};
  wasm_tabletype_t* tt = wasm_tabletype_new(wasm_valtype_new_funcref(), &one_elem);
  wasm_table_t* host_table = wasm_table_new(store, tt, wasm_func_as_ref(answer));
  wasm_tabletype_delete(tt);
  REQUIRE(host_table != NULL);
  wasm_module_t* importer = load(store, memimport_wasm, sizeof(memimport_wasm));
  REQUIRE(importer != NULL);
  wasm_extern_t* imported[] = {wasm_memory_as_extern(host_mem), wasm_table_as_extern(host_table)};
  wasm_extern_vec_t imported_vec = WASM_ARRAY_VEC(imported);
  wasm_instance_t* importer_instance = wasm_instance_new(store, importer, &imported_vec, NULL);
  REQUIRE(importer_instance != NULL);
  wasm_extern_vec_t importer_exports;
  wasm_instance_exports(importer_instance, &importer_exports);
  wasm_val_t last[1] = {WASM_I32_VAL(4 * MEMORY_PAGE_SIZE - 1)};
  CHECK(call_i32(export_func(&importer_exports, 0), last, 1) == 7);
  CHECK(call_i32(export_func(&importer_exports, 1), NULL, 0) == 42);
  wasm_extern_vec_delete(&importer_exports);
  wasm_instance_delete(importer_instance);
  wasm_module_delete(importer);
  wasm_table_delete(host_table);
  wasm_func_delete(answer);
  wasm_extern_t* as_extern = wasm_memory_as_extern(host_mem);
  CHECK(wasm_extern_kind(as_extern) == WASM_EXTERN_MEMORY);
  CHECK(wasm_extern_as_memory(as_extern) == host_mem);
  wasm_memory_delete(host_mem);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("memory");
}
