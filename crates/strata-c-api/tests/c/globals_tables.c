/* globals_tables.c: imported and exported globals (get, set, types),
 * funcref tables (get, set, grow, call_indirect through host-set
 * elements), and externref values made from foreign objects. Uses only
 * wasm.h.
 *
 * (module
 *   (import "host" "g_const" (global $gc f32))
 *   (import "host" "g_var" (global $gv (mut i64)))
 *   (global $mine (export "mine") (mut i32) (i32.const 5))
 *   (global (export "fixed") i64 (i64.const 42))
 *   (func (export "get_gc") (result f32) (global.get $gc))
 *   (func (export "get_gv") (result i64) (global.get $gv))
 *   (func (export "set_gv") (param i64) (global.set $gv (local.get 0)))
 *   (func (export "get_mine") (result i32) (global.get $mine))
 *   (table $funcs (export "table") 2 10 funcref)
 *   (table $ext (export "externs") 1 externref)
 *   (func $f (export "f") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
 *   (func $g (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
 *   (elem (table $funcs) (i32.const 1) func $g)
 *   (func (export "call_indirect") (param i32 i32) (result i32)
 *     (call_indirect $funcs (param i32) (result i32) (local.get 0) (local.get 1)))
 *   (func (export "ext_get") (param i32) (result externref) (table.get $ext (local.get 0))))
 */
#include "check.h"

static const unsigned char globals_tables_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x21, 0x07, 0x60,
    0x00, 0x01, 0x7d, 0x60, 0x00, 0x01, 0x7e, 0x60, 0x01, 0x7e, 0x00, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f,
    0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x6f, 0x02, 0x1f, 0x02, 0x04, 0x68,
    0x6f, 0x73, 0x74, 0x07, 0x67, 0x5f, 0x63, 0x6f, 0x6e, 0x73, 0x74, 0x03,
    0x7d, 0x00, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x05, 0x67, 0x5f, 0x76, 0x61,
    0x72, 0x03, 0x7e, 0x01, 0x03, 0x09, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04,
    0x05, 0x04, 0x06, 0x04, 0x08, 0x02, 0x70, 0x01, 0x02, 0x0a, 0x6f, 0x00,
    0x01, 0x06, 0x0b, 0x02, 0x7f, 0x01, 0x41, 0x05, 0x0b, 0x7e, 0x00, 0x42,
    0x2a, 0x0b, 0x07, 0x66, 0x0b, 0x04, 0x6d, 0x69, 0x6e, 0x65, 0x03, 0x02,
    0x05, 0x66, 0x69, 0x78, 0x65, 0x64, 0x03, 0x03, 0x06, 0x67, 0x65, 0x74,
    0x5f, 0x67, 0x63, 0x00, 0x00, 0x06, 0x67, 0x65, 0x74, 0x5f, 0x67, 0x76,
    0x00, 0x01, 0x06, 0x73, 0x65, 0x74, 0x5f, 0x67, 0x76, 0x00, 0x02, 0x08,
    0x67, 0x65, 0x74, 0x5f, 0x6d, 0x69, 0x6e, 0x65, 0x00, 0x03, 0x05, 0x74,
    0x61, 0x62, 0x6c, 0x65, 0x01, 0x00, 0x07, 0x65, 0x78, 0x74, 0x65, 0x72,
    0x6e, 0x73, 0x01, 0x01, 0x01, 0x66, 0x00, 0x04, 0x0d, 0x63, 0x61, 0x6c,
    0x6c, 0x5f, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x00, 0x06,
    0x07, 0x65, 0x78, 0x74, 0x5f, 0x67, 0x65, 0x74, 0x00, 0x07, 0x09, 0x09,
    0x01, 0x02, 0x00, 0x41, 0x01, 0x0b, 0x00, 0x01, 0x05, 0x0a, 0x38, 0x08,
    0x04, 0x00, 0x23, 0x00, 0x0b, 0x04, 0x00, 0x23, 0x01, 0x0b, 0x06, 0x00,
    0x20, 0x00, 0x24, 0x01, 0x0b, 0x04, 0x00, 0x23, 0x02, 0x0b, 0x07, 0x00,
    0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01,
    0x6a, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x11, 0x05, 0x00, 0x0b,
    0x06, 0x00, 0x20, 0x00, 0x25, 0x01, 0x0b, 0x00, 0x2e, 0x04, 0x6e, 0x61,
    0x6d, 0x65, 0x01, 0x07, 0x02, 0x04, 0x01, 0x66, 0x05, 0x01, 0x67, 0x05,
    0x0d, 0x02, 0x00, 0x05, 0x66, 0x75, 0x6e, 0x63, 0x73, 0x01, 0x03, 0x65,
    0x78, 0x74, 0x07, 0x0f, 0x03, 0x00, 0x02, 0x67, 0x63, 0x01, 0x02, 0x67,
    0x76, 0x02, 0x04, 0x6d, 0x69, 0x6e, 0x65,
};

static wasm_exporttype_vec_t export_types;
static wasm_extern_vec_t exports;

/* The export called `name`. */
static wasm_extern_t* get(const char* name) {
  for (size_t i = 0; i < export_types.size; i++) {
    if (name_is(wasm_exporttype_name(export_types.data[i]), name)) return exports.data[i];
  }
  fprintf(stderr, "no export %s\n", name);
  exit(1);
}

static wasm_trap_t* call(const char* name, wasm_val_t* args, size_t nargs, wasm_val_t* results,
                         size_t nresults) {
  wasm_val_vec_t a = {nargs, args}, r = {nresults, results};
  return wasm_func_call(wasm_extern_as_func(get(name)), &a, &r);
}

static wasm_trap_t* plus_hundred(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[0].of.i32 + 100;
  return NULL;
}

static int finalized = 0;
static void finalize(void* p) {
  CHECK(p == &finalized);
  finalized++;
}

static void check_globals(void) {
  wasm_val_t r[1] = {WASM_INIT_VAL};
  CHECK(call("get_gc", NULL, 0, r, 1) == NULL);
  CHECK(r[0].kind == WASM_F32 && r[0].of.f32 == 3.5f);
  CHECK(call("get_gv", NULL, 0, r, 1) == NULL);
  CHECK(r[0].kind == WASM_I64 && r[0].of.i64 == 100);

  /* wasm writes the imported global; C sees it, and the other way round. */
  wasm_val_t v[1] = {WASM_I64_VAL(200)};
  CHECK(call("set_gv", v, 1, NULL, 0) == NULL);
  wasm_global_t* mine = wasm_extern_as_global(get("mine"));
  REQUIRE(mine != NULL);
  wasm_val_t out;
  wasm_global_get(mine, &out);
  CHECK(out.kind == WASM_I32 && out.of.i32 == 5);
  wasm_val_t six = WASM_I32_VAL(6);
  wasm_global_set(mine, &six);
  CHECK(call("get_mine", NULL, 0, r, 1) == NULL);
  CHECK(r[0].of.i32 == 6);

  /* An immutable global, or a value of the wrong type, is not written. */
  wasm_global_t* fixed = wasm_extern_as_global(get("fixed"));
  wasm_val_t big = WASM_I64_VAL(1);
  wasm_global_set(fixed, &big);
  wasm_global_get(fixed, &out);
  CHECK(out.kind == WASM_I64 && out.of.i64 == 42);
  wasm_val_t wrong = WASM_F64_VAL(1.0);
  wasm_global_set(mine, &wrong);
  wasm_global_get(mine, &out);
  CHECK(out.kind == WASM_I32 && out.of.i32 == 6);

  wasm_globaltype_t* ty = wasm_global_type(fixed);
  CHECK(wasm_globaltype_mutability(ty) == WASM_CONST);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(ty)) == WASM_I64);
  wasm_globaltype_delete(ty);
}

static void check_tables(wasm_store_t* store) {
  wasm_table_t* table = wasm_extern_as_table(get("table"));
  REQUIRE(table != NULL);
  CHECK(wasm_table_size(table) == 2);
  CHECK(wasm_table_get(table, 0) == NULL); /* null element */
  CHECK(wasm_table_get(table, 2) == NULL); /* out of bounds */

  /* Element 1 is $g: call it through the reference. */
  wasm_ref_t* g = wasm_table_get(table, 1);
  REQUIRE(g != NULL);
  wasm_func_t* gf = wasm_ref_as_func(g);
  REQUIRE(gf != NULL);
  wasm_val_t args[1] = {WASM_I32_VAL(5)};
  wasm_val_t r[1] = {WASM_INIT_VAL};
  wasm_val_vec_t a = WASM_ARRAY_VEC(args), rv = WASM_ARRAY_VEC(r);
  CHECK(wasm_func_call(gf, &a, &rv) == NULL && r[0].of.i32 == 6);
  wasm_val_t ci[2] = {WASM_I32_VAL(5), WASM_I32_VAL(1)};
  CHECK(call("call_indirect", ci, 2, r, 1) == NULL && r[0].of.i32 == 6);

  /* A function of the wrong type in the table. */
  wasm_func_t* f = wasm_extern_as_func(get("f"));
  CHECK(wasm_table_set(table, 0, wasm_func_as_ref(f)));
  wasm_val_t ci0[2] = {WASM_I32_VAL(5), WASM_I32_VAL(0)};
  CHECK(trap_says(call("call_indirect", ci0, 2, r, 1), "indirect call type mismatch"));

  /* A host function in the table, called from wasm. */
  wasm_functype_t* ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_func_t* host = wasm_func_new(store, ty, plus_hundred);
  wasm_functype_delete(ty);
  CHECK(wasm_table_set(table, 0, wasm_func_as_ref(host)));
  CHECK(call("call_indirect", ci0, 2, r, 1) == NULL && r[0].of.i32 == 105);
  wasm_ref_t* back = wasm_table_get(table, 0);
  CHECK(back != NULL && wasm_ref_same(back, wasm_func_as_ref(host)));
  wasm_ref_delete(back);

  /* Null, out of bounds, grow. */
  CHECK(wasm_table_set(table, 0, NULL));
  CHECK(trap_says(call("call_indirect", ci0, 2, r, 1), "uninitialized element"));
  CHECK(!wasm_table_set(table, 2, NULL));
  CHECK(wasm_table_grow(table, 3, wasm_func_as_ref(host)));
  CHECK(wasm_table_size(table) == 5);
  wasm_val_t ci4[2] = {WASM_I32_VAL(1), WASM_I32_VAL(4)};
  CHECK(call("call_indirect", ci4, 2, r, 1) == NULL && r[0].of.i32 == 101);
  CHECK(!wasm_table_grow(table, 6, NULL)); /* maximum is 10 */
  CHECK(wasm_table_size(table) == 5);
  wasm_tabletype_t* tt = wasm_table_type(table);
  CHECK(wasm_tabletype_limits(tt)->min == 5 && wasm_tabletype_limits(tt)->max == 10);
  wasm_tabletype_delete(tt);

  /* A table made by the host, filled with a function. */
  wasm_limits_t limits = {2, wasm_limits_max_default};
  wasm_tabletype_t* htt = wasm_tabletype_new(wasm_valtype_new_funcref(), &limits);
  wasm_table_t* htable = wasm_table_new(store, htt, wasm_func_as_ref(host));
  wasm_tabletype_delete(htt);
  REQUIRE(htable != NULL);
  wasm_ref_t* e = wasm_table_get(htable, 1);
  CHECK(e != NULL && wasm_func_same(wasm_ref_as_func(e), host));
  wasm_ref_delete(e);
  wasm_table_delete(htable);

  /* Externref: a foreign object stored by C, returned by wasm. */
  wasm_table_t* externs = wasm_extern_as_table(get("externs"));
  wasm_foreign_t* foreign = wasm_foreign_new(store);
  wasm_foreign_set_host_info_with_finalizer(foreign, &finalized, finalize);
  CHECK(!wasm_table_set(externs, 0, wasm_func_as_ref(host))); /* wrong kind */
  CHECK(wasm_table_set(externs, 0, wasm_foreign_as_ref(foreign)));
  wasm_val_t idx[1] = {WASM_I32_VAL(0)};
  wasm_val_t er[1] = {WASM_INIT_VAL};
  CHECK(call("ext_get", idx, 1, er, 1) == NULL);
  CHECK(er[0].kind == WASM_EXTERNREF && er[0].of.ref != NULL);
  const wasm_foreign_t* same = wasm_ref_as_foreign_const(er[0].of.ref);
  CHECK(same != NULL && wasm_foreign_same(same, foreign));
  CHECK(wasm_foreign_get_host_info(same) == &finalized);
  wasm_val_delete(&er[0]);
  wasm_foreign_delete(foreign);

  gf = NULL;
  wasm_ref_delete(g);
  wasm_func_delete(host);
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = load(store, globals_tables_wasm, sizeof(globals_tables_wasm));
  REQUIRE(module != NULL);

  wasm_globaltype_t* cty = wasm_globaltype_new(wasm_valtype_new_f32(), WASM_CONST);
  wasm_globaltype_t* vty = wasm_globaltype_new(wasm_valtype_new_i64(), WASM_VAR);
  wasm_val_t c = WASM_F32_VAL(3.5f), v = WASM_I64_VAL(100), bad = WASM_I32_VAL(1);
  CHECK(wasm_global_new(store, cty, &bad) == NULL); /* wrong type */
  wasm_global_t* g_const = wasm_global_new(store, cty, &c);
  wasm_global_t* g_var = wasm_global_new(store, vty, &v);
  REQUIRE(g_const != NULL && g_var != NULL);

  wasm_extern_t* imports_data[] = {wasm_global_as_extern(g_const), wasm_global_as_extern(g_var)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);

  /* Imports of the wrong type are refused with a message. */
  wasm_extern_t* swapped_data[] = {wasm_global_as_extern(g_var), wasm_global_as_extern(g_const)};
  wasm_extern_vec_t swapped = WASM_ARRAY_VEC(swapped_data);
  wasm_trap_t* trap = NULL;
  CHECK(wasm_instance_new(store, module, &swapped, &trap) == NULL);
  CHECK(trap_says(trap, "incompatible import type"));

  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, NULL);
  REQUIRE(instance != NULL);
  wasm_module_exports(module, &export_types);
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == export_types.size);

  check_globals();
  wasm_val_t out;
  wasm_global_get(g_var, &out);
  CHECK(out.of.i64 == 200);
  wasm_val_t w = WASM_I64_VAL(300);
  wasm_global_set(g_var, &w);
  wasm_val_t r[1] = {WASM_INIT_VAL};
  CHECK(call("get_gv", NULL, 0, r, 1) == NULL && r[0].of.i64 == 300);

  check_tables(store);

  wasm_exporttype_vec_delete(&export_types);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_global_delete(g_const);
  wasm_global_delete(g_var);
  wasm_globaltype_delete(cty);
  wasm_globaltype_delete(vty);
  wasm_module_delete(module);
  /* Host info of a store object is finalized with the store. */
  CHECK(finalized == 0);
  wasm_store_delete(store);
  CHECK(finalized == 1);
  wasm_engine_delete(engine);
  return finish("globals_tables");
}
