/* gc.c: GC references from C (strata.h, the "gc" proposal): anyref
 * values of kind STRATA_ANYREF from calls, globals and host functions;
 * struct fields and array elements read and written (packed ones as
 * zero-extended i32s, references as anyref values); i31s both ways; handles
 * that keep their objects alive until deleted, across collections; errors
 * for bad indices, types and kinds. Expected values follow the GC
 * proposal: i8 300 reads back as 44, i16 -1 as 65535, ref.i31 keeps the low
 * 31 bits. */
#include "check.h"
#include "strata.h"

static const char* WAT =
    "(module"
    "  (type $pt (struct (field $x (mut i32)) (field $b (mut i8))"
    "                    (field $next (mut (ref null $pt)))))"
    "  (type $arr (array (mut i16)))"
    "  (type $refs (array (mut anyref)))"
    "  (import \"host\" \"read_x\" (func $read_x (param anyref) (result i32)))"
    "  (import \"host\" \"mk_i31\" (func $mk_i31 (result anyref)))"
    "  (func (export \"make\") (param i32) (result (ref $pt))"
    "    (struct.new $pt (local.get 0) (i32.const 300) (ref.null $pt)))"
    "  (func (export \"make_arr\") (param i32) (result (ref $arr))"
    "    (array.new $arr (i32.const -1) (local.get 0)))"
    "  (func (export \"make_refs\") (param i32) (result (ref $refs))"
    "    (array.new_default $refs (local.get 0)))"
    "  (func (export \"x_of\") (param anyref) (result i32)"
    "    (struct.get $pt $x (ref.cast (ref $pt) (local.get 0))))"
    "  (func (export \"i31_of\") (param anyref) (result i32)"
    "    (i31.get_s (ref.cast (ref i31) (local.get 0))))"
    "  (func (export \"churn\") (param $n i32)"
    "    (loop $l"
    "      (drop (struct.new $pt (i32.const 99) (i32.const 99) (ref.null $pt)))"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))"
    "  (func (export \"via_host\") (param i32) (result i32)"
    "    (call $read_x (struct.new $pt (local.get 0) (i32.const 0) (ref.null $pt))))"
    "  (func (export \"from_host\") (result i32)"
    "    (i31.get_s (ref.cast (ref i31) (call $mk_i31))))"
    "  (global (export \"g\") (mut anyref) (ref.null any)))";

enum { MAKE, MAKE_ARR, MAKE_REFS, X_OF, I31_OF, CHURN, VIA_HOST, FROM_HOST, G };

static wasm_store_t* the_store;

/* Whether `e` is an error (deleted here). */
static bool failed(strata_error_t* e) {
  if (e == NULL) return false;
  strata_error_delete(e);
  return true;
}

static wasm_val_t i32_val(int32_t v) {
  wasm_val_t val;
  val.kind = WASM_I32;
  val.of.i32 = v;
  return val;
}

/* An anyref value owning `r`. */
static wasm_val_t any_val(wasm_ref_t* r) {
  wasm_val_t val;
  val.kind = STRATA_ANYREF;
  val.of.ref = r;
  return val;
}

/* Calls `f` with at most one argument (borrowed) and returns its result
 * (owned), or an i32 0 when it has none. */
static wasm_val_t call1(wasm_func_t* f, const wasm_val_t* arg) {
  wasm_val_t args[1];
  wasm_val_vec_t arg_vec = {0, NULL};
  if (arg != NULL) {
    args[0] = *arg;
    arg_vec.size = 1;
    arg_vec.data = args;
  }
  wasm_val_t results[1] = {i32_val(0)};
  wasm_val_vec_t result_vec = {wasm_func_result_arity(f), results};
  wasm_trap_t* trap = wasm_func_call(f, &arg_vec, &result_vec);
  REQUIRE(trap == NULL);
  return results[0];
}

/* A new struct of `make`, as an owned handle. */
static wasm_ref_t* make(wasm_func_t* f, int32_t x) {
  wasm_val_t arg = i32_val(x);
  wasm_val_t r = call1(f, &arg);
  REQUIRE(r.kind == STRATA_ANYREF && r.of.ref != NULL);
  return r.of.ref;
}

static int32_t field_i32(const wasm_ref_t* s, size_t i) {
  wasm_val_t v;
  REQUIRE(strata_structref_field_get(s, i, &v) == NULL);
  REQUIRE(v.kind == WASM_I32);
  return v.of.i32;
}

/* The host function `read_x`: field 0 of the struct it is given. */
static wasm_trap_t* read_x(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  CHECK(args->size == 1 && args->data[0].kind == STRATA_ANYREF);
  const wasm_ref_t* s = args->data[0].of.ref;
  CHECK(strata_anyref_is_struct(s));
  results->data[0] = i32_val(field_i32(s, 0));
  return NULL;
}

/* The host function `mk_i31`: an i31 made in C, collected under it. */
static wasm_trap_t* mk_i31(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  results->data[0] = any_val(strata_i31_new(the_store, 123));
  return NULL;
}

static wasm_func_t* host_func(wasm_store_t* store, bool takes, wasm_func_callback_t cb) {
  wasm_valtype_vec_t params, results;
  if (takes) {
    wasm_valtype_t* ps[1] = {wasm_valtype_new(STRATA_ANYREF)};
    wasm_valtype_vec_new(&params, 1, ps);
    wasm_valtype_t* rs[1] = {wasm_valtype_new(WASM_I32)};
    wasm_valtype_vec_new(&results, 1, rs);
  } else {
    wasm_valtype_vec_new_empty(&params);
    wasm_valtype_t* rs[1] = {wasm_valtype_new(STRATA_ANYREF)};
    wasm_valtype_vec_new(&results, 1, rs);
  }
  wasm_functype_t* ty = wasm_functype_new(&params, &results);
  wasm_func_t* f = wasm_func_new(store, ty, cb);
  wasm_functype_delete(ty);
  return f;
}

int main(void) {
  wasm_config_t* config = wasm_config_new();
  REQUIRE(strata_config_wasm_feature(config, "gc", true));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);
  the_store = store;

  wasm_byte_vec_t binary;
  REQUIRE(strata_wat2wasm(WAT, strlen(WAT), &binary) == NULL);
  wasm_module_t* module = NULL;
  REQUIRE(strata_module_new(engine, &binary, &module) == NULL);
  wasm_byte_vec_delete(&binary);

  wasm_func_t* read_x_f = host_func(store, true, read_x);
  wasm_func_t* mk_i31_f = host_func(store, false, mk_i31);
  wasm_extern_t* imports[2] = {wasm_func_as_extern(read_x_f), wasm_func_as_extern(mk_i31_f)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  REQUIRE(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  REQUIRE(exports.size == 9);
  wasm_func_t* make_f = export_func(&exports, MAKE);

  /* A struct from wasm: its kind and fields. */
  wasm_ref_t* p = make(make_f, 5);
  CHECK(strata_anyref_is_struct(p) && strata_anyref_is_eq(p));
  CHECK(!strata_anyref_is_array(p) && !strata_anyref_is_i31(p));
  CHECK(field_i32(p, 0) == 5);
  CHECK(field_i32(p, 1) == 44); /* i8 300, zero-extended */
  wasm_val_t next;
  REQUIRE(strata_structref_field_get(p, 2, &next) == NULL);
  CHECK(next.kind == STRATA_ANYREF && next.of.ref == NULL);

  /* Writing fields; wasm sees them. */
  wasm_val_t seven = i32_val(7);
  CHECK(strata_structref_field_set(p, 0, &seven) == NULL);
  wasm_val_t pv = any_val(p);
  wasm_val_t x = call1(export_func(&exports, X_OF), &pv);
  CHECK(x.kind == WASM_I32 && x.of.i32 == 7);
  wasm_val_t big = i32_val(0x1ff);
  CHECK(strata_structref_field_set(p, 1, &big) == NULL);
  CHECK(field_i32(p, 1) == 0xff);
  /* Bad index, bad type, not a struct. */
  CHECK(failed(strata_structref_field_set(p, 3, &seven)));
  wasm_val_t f64v;
  f64v.kind = WASM_F64;
  f64v.of.f64 = 1.0;
  CHECK(failed(strata_structref_field_set(p, 0, &f64v)));
  CHECK(failed(strata_structref_field_get(p, 3, &next)));
  CHECK(failed(strata_arrayref_len(p, NULL)));

  /* A struct kept only by another's field survives its handle's delete,
   * a collection and garbage reusing the heap. */
  wasm_ref_t* q = make(make_f, 100);
  wasm_val_t qv = any_val(q);
  CHECK(strata_structref_field_set(p, 2, &qv) == NULL);
  wasm_ref_delete(q);
  CHECK(strata_store_gc(store));
  wasm_val_t n1000 = i32_val(1000);
  call1(export_func(&exports, CHURN), &n1000);
  REQUIRE(strata_structref_field_get(p, 2, &next) == NULL);
  REQUIRE(next.kind == STRATA_ANYREF && next.of.ref != NULL);
  CHECK(field_i32(next.of.ref, 0) == 100);
  wasm_val_delete(&next);

  /* Handles root their objects until deleted; a copy roots again. */
  CHECK(strata_store_gc(store));
  uint64_t live = strata_store_gc_objects(store);
  CHECK(live == 2); /* p and the struct in its field */
  wasm_ref_t* r = make(make_f, 42);
  wasm_ref_t* r2 = wasm_ref_copy(r);
  CHECK(wasm_ref_same(r, r2));
  CHECK(!wasm_ref_same(r, p));
  wasm_ref_delete(r);
  CHECK(strata_store_gc(store));
  call1(export_func(&exports, CHURN), &n1000);
  CHECK(field_i32(r2, 0) == 42);
  CHECK(strata_store_gc(store));
  CHECK(strata_store_gc_objects(store) == live + 1);
  wasm_ref_delete(r2);
  CHECK(strata_store_gc(store));
  CHECK(strata_store_gc_objects(store) == live);

  /* Arrays of packed elements. */
  wasm_val_t three = i32_val(3);
  wasm_val_t av = call1(export_func(&exports, MAKE_ARR), &three);
  REQUIRE(av.kind == STRATA_ANYREF && av.of.ref != NULL);
  wasm_ref_t* a = av.of.ref;
  CHECK(strata_anyref_is_array(a) && !strata_anyref_is_struct(a));
  uint32_t len = 0;
  CHECK(strata_arrayref_len(a, &len) == NULL && len == 3);
  wasm_val_t e;
  REQUIRE(strata_arrayref_get(a, 0, &e) == NULL);
  CHECK(e.kind == WASM_I32 && e.of.i32 == 0xffff); /* i16 -1 */
  wasm_val_t v70000 = i32_val(70000);
  CHECK(strata_arrayref_set(a, 1, &v70000) == NULL);
  REQUIRE(strata_arrayref_get(a, 1, &e) == NULL);
  CHECK(e.kind == WASM_I32 && e.of.i32 == (70000 & 0xffff));
  CHECK(failed(strata_arrayref_get(a, 3, &e)));
  CHECK(failed(strata_arrayref_set(a, 3, &v70000)));
  CHECK(failed(strata_structref_field_get(a, 0, &e)));

  /* Arrays of references, and i31s both ways. */
  wasm_val_t two = i32_val(2);
  wasm_val_t rv = call1(export_func(&exports, MAKE_REFS), &two);
  REQUIRE(rv.kind == STRATA_ANYREF && rv.of.ref != NULL);
  wasm_val_t i31v = any_val(strata_i31_new(store, -7));
  CHECK(strata_anyref_is_i31(i31v.of.ref) && strata_anyref_is_eq(i31v.of.ref));
  CHECK(strata_arrayref_set(rv.of.ref, 0, &i31v) == NULL);
  CHECK(failed(strata_arrayref_set(rv.of.ref, 1, &seven))); /* an i32 */
  REQUIRE(strata_arrayref_get(rv.of.ref, 0, &e) == NULL);
  REQUIRE(e.kind == STRATA_ANYREF && e.of.ref != NULL);
  int32_t s = 0;
  uint32_t u = 0;
  CHECK(strata_i31_get_s(e.of.ref, &s) && s == -7);
  CHECK(strata_i31_get_u(e.of.ref, &u) && u == 0x7ffffff9u);
  CHECK(wasm_ref_same(e.of.ref, i31v.of.ref)); /* i31s of one value */
  CHECK(!strata_i31_get_s(p, &s));
  wasm_val_delete(&e);
  REQUIRE(strata_arrayref_get(rv.of.ref, 1, &e) == NULL);
  CHECK(e.kind == STRATA_ANYREF && e.of.ref == NULL);
  wasm_val_t got = call1(export_func(&exports, I31_OF), &i31v);
  CHECK(got.kind == WASM_I32 && got.of.i32 == -7);
  wasm_val_delete(&i31v);
  wasm_val_delete(&rv);
  wasm_val_delete(&av);

  /* Host functions receive and return anyrefs. */
  wasm_val_t n9 = i32_val(9);
  got = call1(export_func(&exports, VIA_HOST), &n9);
  CHECK(got.kind == WASM_I32 && got.of.i32 == 9);
  got = call1(export_func(&exports, FROM_HOST), NULL);
  CHECK(got.kind == WASM_I32 && got.of.i32 == 123);

  /* An anyref global. */
  wasm_global_t* g = wasm_extern_as_global(exports.data[G]);
  REQUIRE(g != NULL);
  wasm_globaltype_t* gt = wasm_global_type(g);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(gt)) == STRATA_ANYREF);
  wasm_globaltype_delete(gt);
  wasm_global_set(g, &pv);
  wasm_val_t gv;
  wasm_global_get(g, &gv);
  CHECK(gv.kind == STRATA_ANYREF && gv.of.ref != NULL && wasm_ref_same(gv.of.ref, p));
  wasm_val_delete(&gv);

  wasm_ref_delete(p);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_func_delete(read_x_f);
  wasm_func_delete(mk_i31_f);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return finish("gc");
}
