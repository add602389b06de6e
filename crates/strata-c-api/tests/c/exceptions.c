/* exceptions.c: exceptions from C (strata.h): an uncaught exception's trap
 * names the tag and payload and leaves the exception pending; exceptions
 * made in C carry their payload, are thrown by wasm (throw_ref) and by a
 * host function (strata_trap_throw) and caught by wasm; exnref values come
 * back from wasm; exception handles keep their exceptions alive until
 * deleted, then a collection frees them. */
#include "check.h"
#include "strata.h"

static const char* WAT =
    "(module"
    "  (tag $e (export \"e\") (param i32 i64))"
    "  (import \"host\" \"thrower\" (func $thrower (param i32)))"
    "  (func (export \"throw\") (param i32) (throw $e (local.get 0) (i64.const 7)))"
    "  (func (export \"catch_host\") (param i32) (result i32)"
    "    (block $h (result i32 i64)"
    "      (try_table (catch $e $h) (call $thrower (local.get 0)))"
    "      (return (i32.const -1)))"
    "    (drop))"
    "  (func (export \"rethrow\") (param exnref) (throw_ref (local.get 0)))"
    "  (func (export \"catch_ref\") (param i32) (result exnref)"
    "    (block $h (result exnref)"
    "      (try_table (catch_all_ref $h) (throw $e (local.get 0) (i64.const 8)))"
    "      (unreachable))))";

enum { E, THROW, CATCH_HOST, RETHROW, CATCH_REF };

static wasm_store_t* the_store;
static wasm_tag_t* the_tag;

static wasm_val_t i32_val(int32_t v) {
  wasm_val_t val;
  val.kind = WASM_I32;
  val.of.i32 = v;
  return val;
}

static wasm_val_t i64_val(int64_t v) {
  wasm_val_t val;
  val.kind = WASM_I64;
  val.of.i64 = v;
  return val;
}

/* A new exception of the tag carrying (a, b); owned. */
static wasm_ref_t* make_exn(int32_t a, int64_t b) {
  wasm_val_t fields[2] = {i32_val(a), i64_val(b)};
  wasm_val_vec_t vec = WASM_ARRAY_VEC(fields);
  wasm_ref_t* exn = NULL;
  REQUIRE(strata_exn_new(the_store, the_tag, &vec, &exn) == NULL);
  REQUIRE(exn != NULL);
  return exn;
}

/* Whether exception `exn` carries (a, b). */
static bool carries(const wasm_ref_t* exn, int32_t a, int64_t b) {
  wasm_val_vec_t fields;
  if (strata_exn_fields(exn, &fields) != NULL) return false;
  bool ok = fields.size == 2 && fields.data[0].kind == WASM_I32 && fields.data[0].of.i32 == a &&
            fields.data[1].kind == WASM_I64 && fields.data[1].of.i64 == b;
  wasm_val_vec_delete(&fields);
  return ok;
}

/* The host function `thrower`: throws (2 * arg, 0). */
static wasm_trap_t* thrower(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)results;
  wasm_ref_t* exn = make_exn(args->data[0].of.i32 * 2, 0);
  wasm_trap_t* trap = strata_trap_throw(exn);
  wasm_ref_delete(exn);
  return trap;
}

/* Calls `f` with `arg`; returns its trap, the result in `out` if any. */
static wasm_trap_t* call(wasm_func_t* f, wasm_val_t arg, wasm_val_t* out) {
  wasm_val_t args[1] = {arg};
  wasm_val_vec_t arg_vec = WASM_ARRAY_VEC(args);
  wasm_val_t results[1] = {i32_val(0)};
  wasm_val_vec_t result_vec = {wasm_func_result_arity(f), results};
  wasm_trap_t* trap = wasm_func_call(f, &arg_vec, &result_vec);
  if (out != NULL) *out = results[0];
  return trap;
}

int main(void) {
  wasm_config_t* config = wasm_config_new();
  REQUIRE(strata_config_wasm_feature(config, "exceptions", true));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  the_store = store;

  wasm_byte_vec_t binary;
  REQUIRE(strata_wat2wasm(WAT, strlen(WAT), &binary) == NULL);
  wasm_module_t* module = NULL;
  REQUIRE(strata_module_new(engine, &binary, &module) == NULL);
  wasm_byte_vec_delete(&binary);

  wasm_valtype_vec_t params, results;
  wasm_valtype_t* ps[1] = {wasm_valtype_new(WASM_I32)};
  wasm_valtype_vec_new(&params, 1, ps);
  wasm_valtype_vec_new_empty(&results);
  wasm_functype_t* thrower_type = wasm_functype_new(&params, &results);
  wasm_func_t* thrower_f = wasm_func_new(store, thrower_type, thrower);
  wasm_functype_delete(thrower_type);
  wasm_extern_t* imports[1] = {wasm_func_as_extern(thrower_f)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 5);
  the_tag = wasm_extern_as_tag(exports.data[E]);
  REQUIRE(the_tag != NULL);

  /* The rethrow function takes an exnref. */
  wasm_functype_t* rt = wasm_func_type(export_func(&exports, RETHROW));
  CHECK(wasm_valtype_kind(wasm_functype_params(rt)->data[0]) == STRATA_EXNREF);
  wasm_functype_delete(rt);

  /* Uncaught: the trap names it, and it is pending. */
  CHECK(strata_store_take_pending_exception(store) == NULL);
  CHECK(trap_says(call(export_func(&exports, THROW), i32_val(5), NULL),
                  "uncaught WebAssembly exception: tag `e` with payload (i32 5, i64 7)"));
  wasm_ref_t* pending = strata_store_take_pending_exception(store);
  REQUIRE(pending != NULL);
  CHECK(strata_store_take_pending_exception(store) == NULL);
  CHECK(carries(pending, 5, 7));
  wasm_tag_t* tag = strata_exn_tag(pending);
  CHECK(tag != NULL && wasm_tag_same(tag, the_tag));
  wasm_tag_delete(tag);

  /* Made in C, thrown by wasm. */
  wasm_ref_t* mine = make_exn(11, 12);
  CHECK(carries(mine, 11, 12));
  wasm_val_t exn_val;
  exn_val.kind = STRATA_EXNREF;
  exn_val.of.ref = mine;
  CHECK(trap_says(call(export_func(&exports, RETHROW), exn_val, NULL), "i32 11, i64 12"));
  wasm_ref_t* again = strata_store_take_pending_exception(store);
  CHECK(again != NULL && wasm_ref_same(again, mine) && !wasm_ref_same(again, pending));
  wasm_ref_delete(again);
  /* A null exnref traps. */
  wasm_val_t null_exn;
  null_exn.kind = STRATA_EXNREF;
  null_exn.of.ref = NULL;
  CHECK(trap_says(call(export_func(&exports, RETHROW), null_exn, NULL), "null"));

  /* Thrown by a host function, caught by wasm. */
  wasm_val_t got;
  CHECK(call(export_func(&exports, CATCH_HOST), i32_val(21), &got) == NULL);
  CHECK(got.kind == WASM_I32 && got.of.i32 == 42);

  /* An exnref from wasm. */
  CHECK(call(export_func(&exports, CATCH_REF), i32_val(9), &got) == NULL);
  REQUIRE(got.kind == STRATA_EXNREF && got.of.ref != NULL);
  CHECK(carries(got.of.ref, 9, 8));

  /* Bad input: a wrong payload, no exception. */
  wasm_val_t one[1] = {i32_val(1)};
  wasm_val_vec_t short_vec = WASM_ARRAY_VEC(one);
  wasm_ref_t* bad = NULL;
  strata_error_t* err = strata_exn_new(store, the_tag, &short_vec, &bad);
  CHECK(err != NULL && bad == NULL);
  strata_error_delete(err);
  CHECK(strata_exn_tag(NULL) == NULL);
  CHECK(strata_trap_throw(NULL) == NULL);
  wasm_val_vec_t none;
  err = strata_exn_fields(NULL, &none);
  CHECK(err != NULL && none.size == 0);
  strata_error_delete(err);

  /* Handles keep their exceptions; deleted, they are collected. */
  CHECK(strata_store_gc(store));
  CHECK(strata_store_gc_objects(store) == 3); /* pending, mine, got */
  CHECK(carries(pending, 5, 7) && carries(mine, 11, 12));
  wasm_ref_delete(pending);
  wasm_ref_delete(mine);
  wasm_val_delete(&got);
  CHECK(strata_store_gc(store));
  CHECK(strata_store_gc_objects(store) == 0);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(thrower_f);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("exceptions");
}
