/* hello.c: a module from bytes, its import and export types, a host
 * function without environment, calls with every number type and several
 * results, vectors, serialization and shared modules. Uses only wasm.h.
 *
 * (module
 *   (import "host" "hello" (func $hello (param i32) (result i32)))
 *   (func (export "run") (param i32) (result i32)
 *     (i32.add (call $hello (local.get 0)) (i32.const 1)))
 *   (func (export "add64") (param i64 i64) (result i64)
 *     (i64.add (local.get 0) (local.get 1)))
 *   (func (export "mulf") (param f32 f64) (result f64)
 *     (f64.mul (f64.promote_f32 (local.get 0)) (local.get 1)))
 *   (func (export "swap") (param i32 i32) (result i32 i32)
 *     (local.get 1) (local.get 0))
 *   (memory (export "mem") 1 2)
 *   (global (export "g") (mut i32) (i32.const 7))
 *   (table (export "tab") 2 funcref))
 */
#include "check.h"

static const unsigned char hello_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x19, 0x04, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7e, 0x7e, 0x01, 0x7e, 0x60, 0x02,
    0x7d, 0x7c, 0x01, 0x7c, 0x60, 0x02, 0x7f, 0x7f, 0x02, 0x7f, 0x7f, 0x02,
    0x0e, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x05, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x00, 0x00, 0x03, 0x05, 0x04, 0x00, 0x01, 0x02, 0x03, 0x04, 0x04,
    0x01, 0x70, 0x00, 0x02, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02, 0x06, 0x06,
    0x01, 0x7f, 0x01, 0x41, 0x07, 0x0b, 0x07, 0x2d, 0x07, 0x03, 0x72, 0x75,
    0x6e, 0x00, 0x01, 0x05, 0x61, 0x64, 0x64, 0x36, 0x34, 0x00, 0x02, 0x04,
    0x6d, 0x75, 0x6c, 0x66, 0x00, 0x03, 0x04, 0x73, 0x77, 0x61, 0x70, 0x00,
    0x04, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00, 0x03,
    0x74, 0x61, 0x62, 0x01, 0x00, 0x0a, 0x23, 0x04, 0x09, 0x00, 0x20, 0x00,
    0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01,
    0x7c, 0x0b, 0x08, 0x00, 0x20, 0x00, 0xbb, 0x20, 0x01, 0xa2, 0x0b, 0x06,
    0x00, 0x20, 0x01, 0x20, 0x00, 0x0b, 0x00, 0x0f, 0x04, 0x6e, 0x61, 0x6d,
    0x65, 0x01, 0x08, 0x01, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static int hello_calls = 0;

/* Doubles its argument. */
static wasm_trap_t* hello(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  hello_calls++;
  CHECK(args->size == 1 && args->data[0].kind == WASM_I32);
  CHECK(results->size == 1);
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[0].of.i32 * 2;
  return NULL;
}

static void check_types(const wasm_module_t* module) {
  wasm_importtype_vec_t imports;
  wasm_module_imports(module, &imports);
  REQUIRE(imports.size == 1);
  CHECK(name_is(wasm_importtype_module(imports.data[0]), "host"));
  CHECK(name_is(wasm_importtype_name(imports.data[0]), "hello"));
  const wasm_externtype_t* ty = wasm_importtype_type(imports.data[0]);
  CHECK(wasm_externtype_kind(ty) == WASM_EXTERN_FUNC);
  const wasm_functype_t* fty = wasm_externtype_as_functype_const(ty);
  REQUIRE(fty != NULL);
  CHECK(wasm_externtype_as_memorytype_const(ty) == NULL);
  CHECK(wasm_functype_params(fty)->size == 1);
  CHECK(wasm_valtype_kind(wasm_functype_params(fty)->data[0]) == WASM_I32);
  CHECK(wasm_functype_results(fty)->size == 1);

  /* Copies are deep and independent. */
  wasm_importtype_vec_t copy;
  wasm_importtype_vec_copy(&copy, &imports);
  wasm_importtype_vec_delete(&imports);
  CHECK(copy.size == 1 && name_is(wasm_importtype_name(copy.data[0]), "hello"));
  wasm_importtype_vec_delete(&copy);

  wasm_exporttype_vec_t exports;
  wasm_module_exports(module, &exports);
  const char* names[] = {"run", "add64", "mulf", "swap", "mem", "g", "tab"};
  wasm_externkind_t kinds[] = {WASM_EXTERN_FUNC,   WASM_EXTERN_FUNC, WASM_EXTERN_FUNC,
                               WASM_EXTERN_FUNC,   WASM_EXTERN_MEMORY,
                               WASM_EXTERN_GLOBAL, WASM_EXTERN_TABLE};
  REQUIRE(exports.size == 7);
  for (size_t i = 0; i < exports.size; i++) {
    CHECK(name_is(wasm_exporttype_name(exports.data[i]), names[i]));
    CHECK(wasm_externtype_kind(wasm_exporttype_type(exports.data[i])) == kinds[i]);
  }
  const wasm_functype_t* swap = wasm_externtype_as_functype_const(wasm_exporttype_type(exports.data[3]));
  CHECK(wasm_functype_params(swap)->size == 2 && wasm_functype_results(swap)->size == 2);
  const wasm_memorytype_t* mem = wasm_externtype_as_memorytype_const(wasm_exporttype_type(exports.data[4]));
  REQUIRE(mem != NULL);
  CHECK(wasm_memorytype_limits(mem)->min == 1 && wasm_memorytype_limits(mem)->max == 2);
  const wasm_globaltype_t* g = wasm_externtype_as_globaltype_const(wasm_exporttype_type(exports.data[5]));
  REQUIRE(g != NULL);
  CHECK(wasm_globaltype_mutability(g) == WASM_VAR);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(g)) == WASM_I32);
  const wasm_tabletype_t* tab = wasm_externtype_as_tabletype_const(wasm_exporttype_type(exports.data[6]));
  REQUIRE(tab != NULL);
  CHECK(wasm_valtype_kind(wasm_tabletype_element(tab)) == WASM_FUNCREF);
  CHECK(wasm_tabletype_limits(tab)->min == 2);
  CHECK(wasm_tabletype_limits(tab)->max == wasm_limits_max_default);
  wasm_exporttype_vec_delete(&exports);
}

/* Types built by hand, and the ownership they take. */
static void check_type_construction(void) {
  wasm_functype_t* f = wasm_functype_new_2_1(wasm_valtype_new_i64(), wasm_valtype_new_f32(),
                                             wasm_valtype_new_funcref());
  CHECK(wasm_valtype_kind(wasm_functype_params(f)->data[1]) == WASM_F32);
  CHECK(wasm_valtype_is_ref(wasm_functype_results(f)->data[0]));
  wasm_externtype_t* e = wasm_functype_as_externtype(f);
  CHECK(wasm_externtype_as_functype(e) == f);
  wasm_externtype_t* e2 = wasm_externtype_copy(e);
  CHECK(wasm_externtype_kind(e2) == WASM_EXTERN_FUNC);
  wasm_externtype_delete(e2);
  wasm_functype_delete(f);

  /* Tag types: a function type inside an extern type. */
  wasm_tagtype_t* tag = wasm_tagtype_new(wasm_functype_new_1_0(wasm_valtype_new_i32()));
  CHECK(wasm_functype_params(wasm_tagtype_functype(tag))->size == 1);
  const wasm_externtype_t* tag_ext = wasm_tagtype_as_externtype_const(tag);
  CHECK(wasm_externtype_kind(tag_ext) == WASM_EXTERN_TAG);
  CHECK(wasm_externtype_as_tagtype_const(tag_ext) == tag);
  CHECK(wasm_externtype_as_functype_const(tag_ext) == NULL);
  wasm_tagtype_vec_t tags;
  wasm_tagtype_vec_new(&tags, 1, &tag);
  wasm_tagtype_vec_t tags_copy;
  wasm_tagtype_vec_copy(&tags_copy, &tags);
  wasm_tagtype_vec_delete(&tags);
  CHECK(wasm_externtype_kind(wasm_tagtype_as_externtype(tags_copy.data[0])) == WASM_EXTERN_TAG);
  wasm_tagtype_t* tag2 = wasm_tagtype_copy(wasm_externtype_as_tagtype(wasm_tagtype_as_externtype(tags_copy.data[0])));
  wasm_tagtype_vec_delete(&tags_copy);
  CHECK(wasm_externtype_kind(wasm_tagtype_as_externtype(tag2)) == WASM_EXTERN_TAG);
  wasm_tagtype_delete(tag2);

  wasm_limits_t limits = {3, wasm_limits_max_default};
  wasm_memorytype_t* m = wasm_memorytype_new(&limits);
  CHECK(wasm_memorytype_limits(m)->min == 3);
  CHECK(wasm_memorytype_limits(m)->max == wasm_limits_max_default);
  wasm_memorytype_delete(m);

  wasm_tabletype_t* bad = wasm_tabletype_new(wasm_valtype_new_i32(), &limits);
  CHECK(bad == NULL); /* elements must be references */
  CHECK(wasm_valtype_new(42) == NULL);

  wasm_name_t module_name, name;
  wasm_name_new_from_string(&module_name, "m");
  wasm_name_new_from_string(&name, "x");
  wasm_importtype_t* it = wasm_importtype_new(
      &module_name, &name,
      wasm_globaltype_as_externtype(wasm_globaltype_new(wasm_valtype_new_f64(), WASM_CONST)));
  CHECK(name_is(wasm_importtype_module(it), "m") && name_is(wasm_importtype_name(it), "x"));
  CHECK(wasm_externtype_kind(wasm_importtype_type(it)) == WASM_EXTERN_GLOBAL);
  wasm_importtype_delete(it);

  wasm_name_new_from_string(&name, "e");
  wasm_exporttype_t* et = wasm_exporttype_new(&name, wasm_memorytype_as_externtype(wasm_memorytype_new(&limits)));
  wasm_exporttype_t* et2 = wasm_exporttype_copy(et);
  wasm_exporttype_delete(et);
  CHECK(name_is(wasm_exporttype_name(et2), "e"));
  wasm_exporttype_delete(et2);

  wasm_byte_vec_t bytes, copy;
  wasm_byte_vec_new_uninitialized(&bytes, 4);
  CHECK(bytes.size == 4);
  memcpy(bytes.data, "abcd", 4);
  wasm_byte_vec_copy(&copy, &bytes);
  wasm_byte_vec_delete(&bytes);
  CHECK(copy.size == 4 && memcmp(copy.data, "abcd", 4) == 0);
  wasm_byte_vec_delete(&copy);
  wasm_byte_vec_new_empty(&bytes);
  CHECK(bytes.size == 0);
  wasm_byte_vec_delete(&bytes);

  wasm_val_t vals[2] = {WASM_I32_VAL(1), WASM_F64_VAL(2.5)};
  wasm_val_vec_t vv, vv2;
  wasm_val_vec_new(&vv, 2, vals);
  wasm_val_vec_copy(&vv2, &vv);
  wasm_val_vec_delete(&vv);
  CHECK(vv2.size == 2 && vv2.data[1].kind == WASM_F64 && vv2.data[1].of.f64 == 2.5);
  wasm_val_vec_delete(&vv2);
}

static void check_calls(wasm_store_t* store, wasm_module_t* module) {
  wasm_functype_t* hello_type = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_func_t* hello_func = wasm_func_new(store, hello_type, hello);
  wasm_functype_delete(hello_type);
  REQUIRE(hello_func != NULL);
  CHECK(wasm_func_param_arity(hello_func) == 1 && wasm_func_result_arity(hello_func) == 1);

  wasm_extern_t* imports_data[] = {wasm_func_as_extern(hello_func)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);
  wasm_trap_t* trap = NULL;
  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, &trap);
  REQUIRE(instance != NULL);
  CHECK(trap == NULL);

  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 7);
  CHECK(wasm_extern_kind(exports.data[4]) == WASM_EXTERN_MEMORY);
  CHECK(wasm_extern_as_func(exports.data[4]) == NULL);
  CHECK(wasm_extern_as_memory(exports.data[4]) != NULL);
  wasm_externtype_t* gty = wasm_extern_type(exports.data[5]);
  CHECK(wasm_externtype_kind(gty) == WASM_EXTERN_GLOBAL);
  wasm_externtype_delete(gty);

  /* run(20) = hello(20) + 1 = 41 */
  wasm_val_t args1[1] = {WASM_I32_VAL(20)};
  wasm_val_t res1[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args1), r = WASM_ARRAY_VEC(res1);
  trap = wasm_func_call(export_func(&exports, 0), &a, &r);
  CHECK(trap == NULL);
  CHECK(res1[0].kind == WASM_I32 && res1[0].of.i32 == 41);
  CHECK(hello_calls == 1);

  wasm_val_t args2[2] = {WASM_I64_VAL(1LL << 40), WASM_I64_VAL(-3)};
  wasm_val_t res2[1] = {WASM_INIT_VAL};
  a = (wasm_val_vec_t)WASM_ARRAY_VEC(args2);
  r = (wasm_val_vec_t)WASM_ARRAY_VEC(res2);
  CHECK(wasm_func_call(export_func(&exports, 1), &a, &r) == NULL);
  CHECK(res2[0].kind == WASM_I64 && res2[0].of.i64 == (1LL << 40) - 3);

  wasm_val_t args3[2] = {WASM_F32_VAL(1.5f), WASM_F64_VAL(4.0)};
  wasm_val_t res3[1] = {WASM_INIT_VAL};
  a = (wasm_val_vec_t)WASM_ARRAY_VEC(args3);
  r = (wasm_val_vec_t)WASM_ARRAY_VEC(res3);
  CHECK(wasm_func_call(export_func(&exports, 2), &a, &r) == NULL);
  CHECK(res3[0].kind == WASM_F64 && res3[0].of.f64 == 6.0);

  wasm_val_t args4[2] = {WASM_I32_VAL(1), WASM_I32_VAL(2)};
  wasm_val_vec_t res4;
  wasm_val_vec_new_uninitialized(&res4, 2);
  a = (wasm_val_vec_t)WASM_ARRAY_VEC(args4);
  CHECK(wasm_func_call(export_func(&exports, 3), &a, &res4) == NULL);
  CHECK(res4.data[0].of.i32 == 2 && res4.data[1].of.i32 == 1);
  wasm_val_vec_delete(&res4);

  /* Wrong argument count or type: a trap, not a crash. */
  a = (wasm_val_vec_t)WASM_ARRAY_VEC(args4);
  r = (wasm_val_vec_t)WASM_ARRAY_VEC(res1);
  CHECK(trap_says(wasm_func_call(export_func(&exports, 0), &a, &r), "expected 1 arguments"));
  wasm_val_t wrong[1] = {WASM_F32_VAL(1.0f)};
  a = (wasm_val_vec_t)WASM_ARRAY_VEC(wrong);
  CHECK(trap_says(wasm_func_call(export_func(&exports, 0), &a, &r), "argument 0 has type f32"));

  /* Function types of instances' functions. */
  wasm_functype_t* fty = wasm_func_type(export_func(&exports, 3));
  CHECK(wasm_functype_params(fty)->size == 2 && wasm_functype_results(fty)->size == 2);
  wasm_functype_delete(fty);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(hello_func);
}

static void check_serialize_and_share(wasm_engine_t* engine, wasm_store_t* store,
                                      wasm_module_t* module) {
  wasm_byte_vec_t serialized;
  wasm_module_serialize(module, &serialized);
  CHECK(serialized.size > sizeof(hello_wasm));
  wasm_module_t* again = wasm_module_deserialize(store, &serialized);
  REQUIRE(again != NULL);
  wasm_exporttype_vec_t exports;
  wasm_module_exports(again, &exports);
  CHECK(exports.size == 7);
  wasm_exporttype_vec_delete(&exports);
  wasm_module_delete(again);
  /* With the JIT tier it is an artifact with compiled code: damaged or
     truncated, it is refused. */
  if (memcmp(serialized.data, "\x7fSTRATA", 7) == 0) {
    wasm_byte_vec_t damaged;
    wasm_byte_vec_copy(&damaged, &serialized);
    damaged.data[damaged.size - 40] ^= 1;
    CHECK(wasm_module_deserialize(store, &damaged) == NULL);
    wasm_byte_vec_delete(&damaged);
    wasm_byte_vec_t truncated;
    wasm_byte_vec_new(&truncated, serialized.size / 2, serialized.data);
    CHECK(wasm_module_deserialize(store, &truncated) == NULL);
    wasm_byte_vec_delete(&truncated);
  }
  /* Plain wasm is not a serialized module. */
  wasm_byte_vec_t plain;
  wasm_byte_vec_new(&plain, sizeof(hello_wasm), (const wasm_byte_t*)hello_wasm);
  CHECK(wasm_module_deserialize(store, &plain) == NULL);
  wasm_byte_vec_delete(&plain);
  wasm_byte_vec_delete(&serialized);

  wasm_shared_module_t* shared = wasm_module_share(module);
  REQUIRE(shared != NULL);
  wasm_store_t* other = wasm_store_new(engine);
  wasm_module_t* obtained = wasm_module_obtain(other, shared);
  REQUIRE(obtained != NULL);
  CHECK(wasm_module_same(obtained, module));
  wasm_module_delete(obtained);
  wasm_store_delete(other);
  /* A store of another engine cannot obtain it. */
  wasm_engine_t* engine2 = wasm_engine_new();
  wasm_store_t* foreign_store = wasm_store_new(engine2);
  CHECK(wasm_module_obtain(foreign_store, shared) == NULL);
  wasm_store_delete(foreign_store);
  wasm_engine_delete(engine2);
  wasm_shared_module_delete(shared);
}

int main(void) {
  wasm_config_t* config = wasm_config_new();
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  REQUIRE(engine != NULL);
  wasm_store_t* store = wasm_store_new(engine);
  REQUIRE(store != NULL);

  wasm_byte_vec_t binary;
  wasm_byte_vec_new(&binary, sizeof(hello_wasm), (const wasm_byte_t*)hello_wasm);
  CHECK(wasm_module_validate(store, &binary));
  binary.data[0] = 'X';
  CHECK(!wasm_module_validate(store, &binary));
  CHECK(wasm_module_new(store, &binary) == NULL);
  wasm_byte_vec_delete(&binary);

  wasm_module_t* module = load(store, hello_wasm, sizeof(hello_wasm));
  REQUIRE(module != NULL);
  check_types(module);
  check_type_construction();
  check_calls(store, module);
  check_serialize_and_share(engine, store, module);

  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("hello");
}
