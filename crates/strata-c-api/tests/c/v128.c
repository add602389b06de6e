/* v128.c: 128-bit vector values (WASM_V128, an extension of the standard
 * header) through host functions, wasm calls and globals, with the simd
 * proposal switched on through strata_config_wasm_feature. */
#include "check.h"
#include "strata.h"

static const char* WAT =
    "(module"
    "  (import \"host\" \"flip\" (func $flip (param v128 i32) (result i32 v128)))"
    "  (global (export \"g\") (mut v128) (v128.const i64x2 7 8))"
    "  (func (export \"through\") (param v128) (result i32 v128)"
    "    (call $flip (local.get 0) (i32.const 3)))"
    "  (func (export \"store\") (param v128) (global.set 0 (local.get 0))))";

static void set_bytes(wasm_val_t* v, unsigned char first) {
  v->kind = WASM_V128;
  for (int i = 0; i < 16; i++) v->of.v128[i] = (uint8_t)(first + i);
}

/* Returns its i32 argument doubled and its vector with every byte
 * inverted. */
static wasm_trap_t* flip(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  CHECK(args->data[0].kind == WASM_V128 && args->data[1].kind == WASM_I32);
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[1].of.i32 * 2;
  results->data[1].kind = WASM_V128;
  for (int i = 0; i < 16; i++) results->data[1].of.v128[i] = (uint8_t)~args->data[0].of.v128[i];
  return NULL;
}

int main(void) {
  wasm_config_t* config = wasm_config_new();
  CHECK(!strata_config_wasm_feature(config, "frobnicate", true));
  CHECK(!strata_config_wasm_feature(config, NULL, true));
  REQUIRE(strata_config_wasm_feature(config, "simd", true));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);

  wasm_byte_vec_t binary;
  REQUIRE(strata_wat2wasm(WAT, strlen(WAT), &binary) == NULL);
  wasm_module_t* module = NULL;
  REQUIRE(strata_module_new(engine, &binary, &module) == NULL);
  wasm_byte_vec_delete(&binary);

  wasm_valtype_t* ps[2] = {wasm_valtype_new(WASM_V128), wasm_valtype_new(WASM_I32)};
  wasm_valtype_t* rs[2] = {wasm_valtype_new(WASM_I32), wasm_valtype_new(WASM_V128)};
  CHECK(wasm_valtype_kind(ps[0]) == WASM_V128);
  wasm_valtype_vec_t params, results;
  wasm_valtype_vec_new(&params, 2, ps);
  wasm_valtype_vec_new(&results, 2, rs);
  wasm_functype_t* ty = wasm_functype_new(&params, &results);
  wasm_func_t* host = wasm_func_new(store, ty, flip);
  wasm_functype_delete(ty);
  wasm_extern_t* imports[1] = {wasm_func_as_extern(host)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  wasm_global_t* g = wasm_extern_as_global(exports.data[0]);
  wasm_func_t* through = wasm_extern_as_func(exports.data[1]);
  wasm_func_t* store_fn = wasm_extern_as_func(exports.data[2]);

  /* The global's initial value: i64x2 7 8, little-endian lanes. */
  wasm_val_t v;
  wasm_global_get(g, &v);
  CHECK(v.kind == WASM_V128 && v.of.v128[0] == 7 && v.of.v128[8] == 8 && v.of.v128[15] == 0);

  /* Through wasm to the host and back: both halves survive. */
  wasm_val_t args_data[1];
  set_bytes(&args_data[0], 0x10);
  wasm_val_t out_data[2] = {WASM_INIT_VAL, WASM_INIT_VAL};
  wasm_val_vec_t args = WASM_ARRAY_VEC(args_data);
  wasm_val_vec_t outs = WASM_ARRAY_VEC(out_data);
  CHECK(wasm_func_call(through, &args, &outs) == NULL);
  CHECK(out_data[0].kind == WASM_I32 && out_data[0].of.i32 == 6);
  CHECK(out_data[1].kind == WASM_V128);
  for (int i = 0; i < 16; i++) CHECK(out_data[1].of.v128[i] == (uint8_t)~(0x10 + i));

  /* Globals: set from C, written by wasm, read back. */
  wasm_val_t w;
  set_bytes(&w, 0xa0);
  wasm_global_set(g, &w);
  wasm_global_get(g, &v);
  CHECK(memcmp(v.of.v128, w.of.v128, 16) == 0);
  set_bytes(&args_data[0], 0x40);
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  CHECK(wasm_func_call(store_fn, &args, &none) == NULL);
  wasm_global_get(g, &v);
  CHECK(v.kind == WASM_V128 && v.of.v128[0] == 0x40 && v.of.v128[15] == 0x4f);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(host);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("v128");
}
