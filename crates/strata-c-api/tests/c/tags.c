/* tags.c: exception tags (the exceptions proposal, switched on through
 * strata_config_wasm_feature): a host tag imported and re-exported keeps
 * its identity, a module's own tag is new at each instantiation, tag types
 * read back, and an import of the wrong tag type fails to link. */
#include "check.h"
#include "strata.h"

static const char* WAT =
    "(module"
    "  (import \"host\" \"t\" (tag $imp (param i32)))"
    "  (tag $own (export \"own\") (param i64 f32))"
    "  (export \"imp\" (tag $imp)))";

static wasm_tagtype_t* tagtype(wasm_valkind_t kind) {
  wasm_valtype_vec_t params, results;
  wasm_valtype_t* ps[1] = {wasm_valtype_new(kind)};
  wasm_valtype_vec_new(&params, 1, ps);
  wasm_valtype_vec_new_empty(&results);
  return wasm_tagtype_new(wasm_functype_new(&params, &results));
}

static wasm_instance_t* instantiate(wasm_store_t* store, wasm_module_t* module, wasm_tag_t* tag,
                                    wasm_trap_t** trap) {
  wasm_extern_t* imports[1] = {wasm_tag_as_extern(tag)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  return wasm_instance_new(store, module, &import_vec, trap);
}

int main(void) {
  wasm_config_t* config = wasm_config_new();
  REQUIRE(strata_config_wasm_feature(config, "exceptions", true));
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  wasm_store_t* store = wasm_store_new(engine);

  wasm_byte_vec_t binary;
  REQUIRE(strata_wat2wasm(WAT, strlen(WAT), &binary) == NULL);
  wasm_module_t* module = NULL;
  REQUIRE(strata_module_new(engine, &binary, &module) == NULL);
  wasm_byte_vec_delete(&binary);

  /* The module's import and export types name tags. */
  wasm_importtype_vec_t imports;
  wasm_module_imports(module, &imports);
  REQUIRE(imports.size == 1);
  const wasm_externtype_t* it = wasm_importtype_type(imports.data[0]);
  CHECK(wasm_externtype_kind(it) == WASM_EXTERN_TAG);
  const wasm_functype_t* ift = wasm_tagtype_functype(wasm_externtype_as_tagtype_const(it));
  REQUIRE(ift != NULL);
  CHECK(wasm_functype_params(ift)->size == 1);
  CHECK(wasm_valtype_kind(wasm_functype_params(ift)->data[0]) == WASM_I32);
  wasm_importtype_vec_delete(&imports);

  /* A tag type with results is not a tag type. */
  wasm_valtype_vec_t none, one;
  wasm_valtype_vec_new_empty(&none);
  wasm_valtype_t* rs[1] = {wasm_valtype_new(WASM_I32)};
  wasm_valtype_vec_new(&one, 1, rs);
  wasm_tagtype_t* bad_type = wasm_tagtype_new(wasm_functype_new(&none, &one));
  CHECK(wasm_tag_new(store, bad_type) == NULL);
  wasm_tagtype_delete(bad_type);

  wasm_tagtype_t* i32_type = tagtype(WASM_I32);
  wasm_tag_t* host = wasm_tag_new(store, i32_type);
  REQUIRE(host != NULL);
  wasm_tagtype_delete(i32_type);
  CHECK(wasm_extern_kind(wasm_tag_as_extern(host)) == WASM_EXTERN_TAG);
  CHECK(wasm_extern_as_func(wasm_tag_as_extern(host)) == NULL);
  CHECK(wasm_extern_as_tag(wasm_tag_as_extern(host)) == host);

  wasm_instance_t* a = instantiate(store, module, host, NULL);
  wasm_instance_t* b = instantiate(store, module, host, NULL);
  REQUIRE(a != NULL && b != NULL);
  wasm_extern_vec_t ea, eb;
  wasm_instance_exports(a, &ea);
  wasm_instance_exports(b, &eb);
  REQUIRE(ea.size == 2 && eb.size == 2);
  wasm_tag_t* own_a = wasm_extern_as_tag(ea.data[0]);
  wasm_tag_t* own_b = wasm_extern_as_tag(eb.data[0]);
  REQUIRE(own_a != NULL && own_b != NULL);
  /* Tags are generative; importing shares one. */
  CHECK(!wasm_tag_same(own_a, own_b));
  CHECK(wasm_tag_same(own_a, own_a));
  CHECK(wasm_tag_same(wasm_extern_as_tag(ea.data[1]), host));
  CHECK(wasm_tag_same(wasm_extern_as_tag(eb.data[1]), host));

  wasm_tagtype_t* own_type = wasm_tag_type(own_a);
  const wasm_valtype_vec_t* ps = wasm_functype_params(wasm_tagtype_functype(own_type));
  CHECK(ps->size == 2 && wasm_valtype_kind(ps->data[0]) == WASM_I64 &&
        wasm_valtype_kind(ps->data[1]) == WASM_F32);
  CHECK(wasm_functype_results(wasm_tagtype_functype(own_type))->size == 0);
  wasm_tagtype_delete(own_type);

  /* A tag of another type does not link. */
  wasm_tagtype_t* i64_type = tagtype(WASM_I64);
  wasm_tag_t* wrong = wasm_tag_new(store, i64_type);
  wasm_tagtype_delete(i64_type);
  wasm_trap_t* trap = NULL;
  CHECK(instantiate(store, module, wrong, &trap) == NULL);
  CHECK(trap_says(trap, "incompatible import type"));

  wasm_tag_delete(wrong);
  wasm_extern_vec_delete(&ea);
  wasm_extern_vec_delete(&eb);
  wasm_instance_delete(a);
  wasm_instance_delete(b);
  wasm_tag_delete(host);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  if (failures == 0) printf("tags: ok\n");
  return failures != 0;
}
