/* Helpers shared by the C test programs: checks that count failures, and
 * small conveniences over wasm.h. Each program exits non-zero when a check
 * fails. */
#ifndef STRATA_TEST_CHECK_H
#define STRATA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm.h"

static int failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
      failures++;                                                          \
    }                                                                      \
  } while (0)

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

/* Whether a name (not NUL-terminated) equals `s`. */
static inline bool name_is(const wasm_name_t* n, const char* s) {
  return n != NULL && n->size == strlen(s) &&
         (n->size == 0 || memcmp(n->data, s, n->size) == 0);
}

/* Whether the trap's message contains `s`; deletes the trap. A null trap
 * never matches. */
static inline bool trap_says(wasm_trap_t* trap, const char* s) {
  if (trap == NULL) return false;
  wasm_message_t m;
  wasm_trap_message(trap, &m);
  bool ok = m.size > 0 && m.data[m.size - 1] == '\0' && strstr(m.data, s) != NULL;
  if (!ok) fprintf(stderr, "trap message: %.*s\n", (int)m.size, m.data);
  wasm_byte_vec_delete(&m);
  wasm_trap_delete(trap);
  return ok;
}

/* Compiles a module from bytes. */
static inline wasm_module_t* load(wasm_store_t* store, const unsigned char* bytes,
                                  size_t len) {
  wasm_byte_vec_t binary;
  wasm_byte_vec_new(&binary, len, (const wasm_byte_t*)bytes);
  wasm_module_t* module = wasm_module_new(store, &binary);
  wasm_byte_vec_delete(&binary);
  return module;
}

/* The export at `index`, which must be a function. */
static inline wasm_func_t* export_func(const wasm_extern_vec_t* exports, size_t index) {
  REQUIRE(index < exports->size);
  wasm_func_t* f = wasm_extern_as_func(exports->data[index]);
  REQUIRE(f != NULL);
  return f;
}

static inline int finish(const char* program) {
  if (failures > 0) {
    fprintf(stderr, "%s: %d check(s) failed\n", program, failures);
    return 1;
  }
  printf("%s: ok\n", program);
  return 0;
}

#endif
