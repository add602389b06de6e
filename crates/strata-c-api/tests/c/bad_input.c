/* bad_input.c: null pointers where the C API allows them, absurd sizes,
 * and objects of one store used with another: every call returns an
 * error value (null, false, zero, a trap) instead of crashing. Uses only
 * wasm.h. */
#include "check.h"

/* (module (func (export "id") (param funcref) (result funcref) (local.get 0))) */
static const unsigned char id_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01,
    0x70, 0x01, 0x70, 0x03, 0x02, 0x01, 0x00, 0x07, 0x06, 0x01, 0x02, 0x69, 0x64,
    0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x20, 0x00, 0x0b};

static wasm_trap_t* nothing(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  (void)results;
  return NULL;
}

/* Declares an i64 result but leaves the i32 zero it was given. */
static wasm_trap_t* forgets_result(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  (void)results;
  return NULL;
}

static void nulls(void) {
  /* Constructors and accessors given null. */
  CHECK(wasm_engine_new_with_config(NULL) == NULL);
  CHECK(wasm_store_new(NULL) == NULL);
  CHECK(wasm_module_new(NULL, NULL) == NULL);
  CHECK(!wasm_module_validate(NULL, NULL));
  CHECK(wasm_module_deserialize(NULL, NULL) == NULL);
  CHECK(wasm_module_share(NULL) == NULL);
  CHECK(wasm_module_obtain(NULL, NULL) == NULL);
  CHECK(wasm_func_new(NULL, NULL, NULL) == NULL);
  CHECK(wasm_func_new_with_env(NULL, NULL, NULL, NULL, NULL) == NULL);
  CHECK(wasm_func_type(NULL) == NULL);
  CHECK(wasm_func_param_arity(NULL) == 0 && wasm_func_result_arity(NULL) == 0);
  CHECK(trap_says(wasm_func_call(NULL, NULL, NULL), "null function"));
  CHECK(wasm_global_new(NULL, NULL, NULL) == NULL);
  CHECK(wasm_global_type(NULL) == NULL);
  wasm_global_get(NULL, NULL);
  wasm_global_set(NULL, NULL);
  CHECK(wasm_table_new(NULL, NULL, NULL) == NULL);
  CHECK(wasm_table_get(NULL, 0) == NULL);
  CHECK(!wasm_table_set(NULL, 0, NULL));
  CHECK(wasm_table_size(NULL) == 0);
  CHECK(!wasm_table_grow(NULL, 1, NULL));
  CHECK(wasm_memory_new(NULL, NULL) == NULL);
  CHECK(wasm_memory_data(NULL) == NULL);
  CHECK(wasm_memory_data_size(NULL) == 0 && wasm_memory_size(NULL) == 0);
  CHECK(!wasm_memory_grow(NULL, 1));
  CHECK(wasm_extern_type(NULL) == NULL);
  CHECK(wasm_extern_as_func(NULL) == NULL && wasm_func_as_extern(NULL) == NULL);
  CHECK(wasm_ref_as_func(NULL) == NULL && wasm_func_as_ref(NULL) == NULL);
  CHECK(wasm_foreign_new(NULL) == NULL);
  CHECK(wasm_trap_origin(NULL) == NULL);
  CHECK(wasm_frame_instance(NULL) == NULL && wasm_frame_copy(NULL) == NULL);
  CHECK(wasm_func_get_host_info(NULL) == NULL);
  CHECK(!wasm_func_same(NULL, NULL));
  CHECK(wasm_func_copy(NULL) == NULL);
  wasm_func_set_host_info(NULL, NULL);
  wasm_trap_t* trap = NULL;
  CHECK(wasm_instance_new(NULL, NULL, NULL, &trap) == NULL);
  CHECK(trap_says(trap, "null"));
  CHECK(wasm_instance_new(NULL, NULL, NULL, NULL) == NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(NULL, &exports);
  CHECK(exports.size == 0);
  wasm_extern_vec_delete(&exports);
  wasm_instance_exports(NULL, NULL);

  /* Types. */
  wasm_functype_t* empty = wasm_functype_new(NULL, NULL); /* both empty */
  CHECK(empty != NULL && wasm_functype_params(empty)->size == 0);
  wasm_functype_delete(empty);
  CHECK(wasm_functype_params(NULL) == NULL);
  CHECK(wasm_globaltype_new(NULL, WASM_CONST) == NULL);
  CHECK(wasm_globaltype_new(wasm_valtype_new_i32(), 7) == NULL);
  CHECK(wasm_tabletype_new(wasm_valtype_new_funcref(), NULL) == NULL);
  CHECK(wasm_memorytype_new(NULL) == NULL);
  CHECK(wasm_externtype_as_functype(NULL) == NULL);
  CHECK(wasm_importtype_new(NULL, NULL, NULL) == NULL);
  CHECK(wasm_exporttype_new(NULL, NULL) == NULL);
  CHECK(wasm_importtype_name(NULL) == NULL && wasm_exporttype_type(NULL) == NULL);
  CHECK(wasm_valtype_copy(NULL) == NULL);
  wasm_valtype_delete(NULL);

  /* A vector with a null element makes no function type. */
  wasm_valtype_t* with_null[2] = {wasm_valtype_new_i32(), NULL};
  wasm_valtype_vec_t params;
  wasm_valtype_vec_new(&params, 2, with_null);
  wasm_valtype_vec_t results;
  wasm_valtype_vec_new_empty(&results);
  CHECK(wasm_functype_new(&params, &results) == NULL);
  CHECK(params.size == 0); /* consumed all the same */

  /* Vectors. */
  wasm_byte_vec_t bytes;
  wasm_byte_vec_new(&bytes, 5, NULL);
  CHECK(bytes.size == 0);
  wasm_byte_vec_delete(&bytes);
  wasm_byte_vec_delete(NULL);
  wasm_byte_vec_copy(&bytes, NULL);
  CHECK(bytes.size == 0);
  wasm_byte_vec_new_uninitialized(&bytes, SIZE_MAX / 2); /* cannot be had */
  CHECK(bytes.size == 0);
  wasm_byte_vec_delete(&bytes);
  wasm_val_delete(NULL);
  wasm_val_copy(NULL, NULL);
}

static void bad_values(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_store_t* other = wasm_store_new(engine);

  /* Absurd sizes. */
  wasm_limits_t huge = {UINT32_MAX - 1, wasm_limits_max_default};
  wasm_memorytype_t* mt = wasm_memorytype_new(&huge);
  CHECK(wasm_memory_new(store, mt) == NULL);
  wasm_memorytype_delete(mt);
  wasm_tabletype_t* tt = wasm_tabletype_new(wasm_valtype_new_funcref(), &huge);
  CHECK(wasm_table_new(store, tt, NULL) == NULL);
  wasm_tabletype_delete(tt);
  wasm_limits_t small = {1, wasm_limits_max_default};
  mt = wasm_memorytype_new(&small);
  wasm_memory_t* memory = wasm_memory_new(store, mt);
  wasm_memorytype_delete(mt);
  CHECK(!wasm_memory_grow(memory, UINT32_MAX));
  CHECK(wasm_memory_size(memory) == 1);
  tt = wasm_tabletype_new(wasm_valtype_new_funcref(), &small);
  wasm_table_t* table = wasm_table_new(store, tt, NULL);
  wasm_tabletype_delete(tt);
  CHECK(!wasm_table_grow(table, UINT32_MAX, NULL));
  CHECK(wasm_table_size(table) == 1);

  /* Values of bad kinds. */
  wasm_globaltype_t* gt = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_VAR);
  wasm_val_t bad_kind = {.kind = 77, .of = {.i64 = 0}};
  CHECK(wasm_global_new(store, gt, &bad_kind) == NULL);
  wasm_val_t one = WASM_I32_VAL(1);
  wasm_global_t* global = wasm_global_new(store, gt, &one);
  wasm_global_set(global, &bad_kind);
  wasm_val_t out;
  wasm_global_get(global, &out);
  CHECK(out.kind == WASM_I32 && out.of.i32 == 1);
  wasm_globaltype_delete(gt);

  /* A memory is not a funcref. */
  CHECK(!wasm_table_set(table, 0, wasm_memory_as_ref(memory)));

  /* Objects of another store. */
  wasm_functype_t* ft = wasm_functype_new_0_0();
  wasm_func_t* foreign_func = wasm_func_new(other, ft, nothing);
  wasm_functype_delete(ft);
  CHECK(!wasm_table_set(table, 0, wasm_func_as_ref(foreign_func)));
  wasm_module_t* module = load(store, id_wasm, sizeof(id_wasm));
  REQUIRE(module != NULL);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  wasm_val_t args[1] = {{.kind = WASM_FUNCREF, .of = {.ref = wasm_func_as_ref(foreign_func)}}};
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
  CHECK(trap_says(wasm_func_call(export_func(&exports, 0), &a, &r), "wrong store"));
  /* A memory where a funcref is expected. */
  args[0].of.ref = wasm_memory_as_ref(memory);
  CHECK(trap_says(wasm_func_call(export_func(&exports, 0), &a, &r), "must reference a function"));
  /* Imports from another store. */
  wasm_extern_t* imports_data[] = {wasm_func_as_extern(foreign_func)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);
  /* (module (import "m" "f" (func))) */
  static const unsigned char needs_import[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00};
  wasm_module_t* importing = load(store, needs_import, sizeof(needs_import));
  REQUIRE(importing != NULL);
  wasm_trap_t* trap = NULL;
  CHECK(wasm_instance_new(store, importing, &imports, &trap) == NULL);
  CHECK(trap_says(trap, "belongs to another store"));
  /* A null import. */
  wasm_extern_t* null_data[] = {NULL};
  wasm_extern_vec_t null_imports = WASM_ARRAY_VEC(null_data);
  CHECK(wasm_instance_new(store, importing, &null_imports, &trap) == NULL);
  CHECK(trap_says(trap, "null import"));

  /* A host function that returns a value of the wrong type. */
  wasm_functype_t* i64_type = wasm_functype_new_0_1(wasm_valtype_new_i64());
  wasm_func_t* forgetful = wasm_func_new(store, i64_type, forgets_result);
  wasm_functype_delete(i64_type);
  wasm_val_t i64_result[1] = {WASM_INIT_VAL};
  wasm_val_vec_t no_args = WASM_EMPTY_VEC, i64_results = WASM_ARRAY_VEC(i64_result);
  CHECK(trap_says(wasm_func_call(forgetful, &no_args, &i64_results), "has type i32, expected i64"));
  wasm_func_delete(forgetful);

  wasm_module_delete(importing);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_func_delete(foreign_func);
  wasm_global_delete(global);
  wasm_table_delete(table);
  wasm_memory_delete(memory);
  /* Deleting the store before an object of it is safe. */
  wasm_memorytype_t* late_type = wasm_memorytype_new(&small);
  wasm_memory_t* late = wasm_memory_new(other, late_type);
  wasm_memorytype_delete(late_type);
  wasm_store_delete(other);
  CHECK(wasm_memory_grow(late, 1) && wasm_memory_size(late) == 2);
  wasm_memory_delete(late);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
}

int main(void) {
  nulls();
  bad_values();
  return finish("bad_input");
}
