/*
 * strata.h: Strata extensions to the standard WebAssembly C API (wasm.h).
 *
 * Errors, `.wat` input, compile errors, fuel, epoch interruption, the
 * wasm stack limit, 64-bit memories and page sizes, GC references and
 * exceptions. Functions that can fail return an owned
 * `strata_error_t*` (null on success).
 *
 * There is no WASI configuration yet: Strata's WASI crate (strata-wasi) is
 * reachable from Rust only.
 */

#ifndef STRATA_H
#define STRATA_H

#include "wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors. */

typedef struct strata_error_t strata_error_t;

/* The message, not NUL-terminated; `out` is owned by the caller. */
WASM_API_EXTERN void strata_error_message(const strata_error_t*, wasm_name_t* out);
WASM_API_EXTERN void strata_error_delete(strata_error_t*);

/* Text input. */

/* Translates WebAssembly text (`wat`, `len` bytes) to a binary in `out`,
 * which the caller owns (empty on error). */
WASM_API_EXTERN strata_error_t* strata_wat2wasm(const char* wat, size_t len,
                                                wasm_byte_vec_t* out);

/* Compiles a binary module like wasm_module_new, saying why on failure.
 * On success `*out` is an owned module. */
WASM_API_EXTERN strata_error_t* strata_module_new(wasm_engine_t*,
                                                  const wasm_byte_vec_t* binary,
                                                  wasm_module_t** out);

/* Configuration. */

/* Meter execution with fuel: every store starts with none (see
 * strata_store_set_fuel); running out traps with "all fuel consumed by
 * WebAssembly". One unit per executed instruction, some free (see the
 * Rust docs of strata::Config::consume_fuel). */
WASM_API_EXTERN void strata_config_consume_fuel(wasm_config_t*, bool enable);

/* Let strata_engine_increment_epoch interrupt running wasm once a store's
 * epoch deadline has passed; interrupted wasm traps with "interrupt". */
WASM_API_EXTERN void strata_config_epoch_interruption(wasm_config_t*, bool enable);

/* The most stack, in bytes, wasm may use before it traps with
 * "call stack exhausted". wasm_engine_new_with_config returns NULL for 0
 * or a size beyond what the host can address. */
WASM_API_EXTERN void strata_config_max_wasm_stack(wasm_config_t*, size_t bytes);

/* Execution tiers. The default is tiered execution where this build and
 * host support the JIT (functions start interpreted, hot ones are
 * compiled), else the interpreter; the STRATA_TIER environment variable
 * (`tiered`, `jit` or `interp`) overrides the default of wasm_config_new
 * and wasm_engine_new. */
typedef uint32_t strata_tier_t;
enum strata_tier_enum {
  STRATA_TIER_INTERP = 0, /* the interpreter: no executable memory */
  STRATA_TIER_JIT = 1,    /* Cranelift-compiled native code */
  STRATA_TIER_TIERED = 2, /* interpreter first, hot code compiled */
};

/* Chooses the tier; false (configuration unchanged) when the tier is
 * unknown or not available in this build or on this host. */
WASM_API_EXTERN bool strata_config_tier(wasm_config_t*, strata_tier_t tier);

/* Switches the WebAssembly proposal `name` ("simd", "gc", "tail-call",
 * ..., as `strata run -W NAME=y` spells it), together with the proposals
 * it needs; false (configuration unchanged) for an unknown name. */
WASM_API_EXTERN bool strata_config_wasm_feature(wasm_config_t*, const char* name,
                                                bool enable);

/* Engines. */

/* Advances the epoch by one; safe to call from any thread. */
WASM_API_EXTERN void strata_engine_increment_epoch(wasm_engine_t*);

/* Stores. */

/* Fuel left for wasm; fails when the engine does not consume fuel. */
WASM_API_EXTERN strata_error_t* strata_store_set_fuel(wasm_store_t*, uint64_t fuel);
WASM_API_EXTERN strata_error_t* strata_store_get_fuel(const wasm_store_t*, uint64_t* out);

/* Interrupt wasm once the engine's epoch is `ticks` beyond its current
 * value. A new store's deadline is the epoch at its creation. */
WASM_API_EXTERN void strata_store_set_epoch_deadline(wasm_store_t*, uint64_t ticks);

/* Memories beyond wasm.h's 32-bit page counts: 64-bit memories (the
 * "memory64" proposal) and 1-byte pages ("custom-page-sizes"). Any
 * memory of an instance is reached through its export, as in wasm.h. */

/* A memory type with limits in pages, 64-bit addresses when `is_64`, and
 * pages of 2^page_size_log2 bytes (16 for 64 KiB, 0 for 1 byte). NULL for
 * another page size, or a 32-bit type whose limits exceed 32 bits.
 * wasm_memory_new refuses it unless the engine's proposals allow it. */
WASM_API_EXTERN wasm_memorytype_t* strata_memorytype_new(uint64_t min, bool max_present,
                                                         uint64_t max, bool is_64,
                                                         uint8_t page_size_log2);
WASM_API_EXTERN bool strata_memorytype_is64(const wasm_memorytype_t*);
WASM_API_EXTERN uint64_t strata_memorytype_minimum(const wasm_memorytype_t*);
/* The maximum in `max`; false when the type has none. */
WASM_API_EXTERN bool strata_memorytype_maximum(const wasm_memorytype_t*, uint64_t* max);
WASM_API_EXTERN uint8_t strata_memorytype_page_size_log2(const wasm_memorytype_t*);

/* The size in pages (wasm_memory_size saturates at UINT32_MAX). */
WASM_API_EXTERN uint64_t strata_memory_size(const wasm_memory_t*);
/* Grows by `delta` pages; the old size in `prev` (may be NULL). */
WASM_API_EXTERN strata_error_t* strata_memory_grow(wasm_memory_t*, uint64_t delta,
                                                   uint64_t* prev);

/* GC references (the "gc" proposal; strata_config_wasm_feature(config,
 * "gc", true)).
 *
 * A reference of the `any` hierarchy (anyref, eqref, structref, arrayref,
 * i31ref and concrete struct and array types) is a wasm_ref_t, passed in a
 * wasm_val_t of kind STRATA_ANYREF (`of.ref`, NULL for null); every type of
 * that hierarchy has this kind (wasm_valtype_new(STRATA_ANYREF) is
 * anyref). Each handle roots its object until it is deleted
 * (wasm_ref_delete, or wasm_val_delete / a vector's delete for the value
 * owning it); wasm_ref_copy and wasm_val_copy root it again. A handle is
 * never left dangling: what C holds stays alive, and what it deleted may
 * be collected. wasm_ref_same says whether two handles name the same
 * reference (wasm's ref.eq for eqrefs). */
enum strata_valkind_enum {
  STRATA_ANYREF = 130,
  STRATA_EXNREF = 131, /* see "Exceptions" below */
};

/* The anyref of the low 31 bits of `value` (wasm's ref.i31). */
/* Owned by the caller. */
WASM_API_EXTERN wasm_ref_t* strata_i31_new(wasm_store_t*, int32_t value);
/* What an anyref is; false for NULL and for other references. */
WASM_API_EXTERN bool strata_anyref_is_i31(const wasm_ref_t*);
WASM_API_EXTERN bool strata_anyref_is_struct(const wasm_ref_t*);
WASM_API_EXTERN bool strata_anyref_is_array(const wasm_ref_t*);
/* An i31, a struct or an array: not an internalized externref. */
WASM_API_EXTERN bool strata_anyref_is_eq(const wasm_ref_t*);
/* An i31's value, sign- or zero-extended; false when it is no i31. */
WASM_API_EXTERN bool strata_i31_get_s(const wasm_ref_t*, int32_t* out);
WASM_API_EXTERN bool strata_i31_get_u(const wasm_ref_t*, uint32_t* out);

/* Struct fields and array elements, as wasm_val_t: a packed (i8, i16)
 * one reads as a zero-extended WASM_I32 and is written from one (its low
 * bits). `out` is owned by the caller. Errors: not a struct or array, an
 * index out of bounds, an immutable field, a value of the wrong type. */
WASM_API_EXTERN strata_error_t* strata_structref_field_get(const wasm_ref_t*, size_t index,
                                                           wasm_val_t* out);
WASM_API_EXTERN strata_error_t* strata_structref_field_set(wasm_ref_t*, size_t index,
                                                           const wasm_val_t* value);
WASM_API_EXTERN strata_error_t* strata_arrayref_len(const wasm_ref_t*, uint32_t* out);
WASM_API_EXTERN strata_error_t* strata_arrayref_get(const wasm_ref_t*, uint32_t index,
                                                    wasm_val_t* out);
WASM_API_EXTERN strata_error_t* strata_arrayref_set(wasm_ref_t*, uint32_t index,
                                                    const wasm_val_t* value);

/* Collects the store's GC heap now: frees what neither wasm nor a handle
 * reaches. False when it cannot (from a host function called by compiled
 * code). */
WASM_API_EXTERN bool strata_store_gc(wasm_store_t*);
/* Objects in the store's GC heap (after strata_store_gc, the reachable
 * ones). */
WASM_API_EXTERN uint64_t strata_store_gc_objects(const wasm_store_t*);

/* Exceptions (the "exceptions" proposal).
 *
 * An exception is a wasm_ref_t, passed in a wasm_val_t of kind
 * STRATA_EXNREF (NULL for null); like an anyref handle it keeps its
 * exception alive until deleted. A call that ends with an exception no
 * wasm frame caught fails with a trap whose message names the tag and the
 * payload ("uncaught WebAssembly exception: ..."), and leaves the
 * exception pending in the store. */

/* A new exception of `tag` carrying `fields` (borrowed; one per parameter
 * of the tag's type, of its type); `*out` is owned by the caller. */
WASM_API_EXTERN strata_error_t* strata_exn_new(wasm_store_t*, const wasm_tag_t* tag,
                                               const wasm_val_vec_t* fields,
                                               wasm_ref_t** out);
/* The exception's tag (owned); NULL when the reference is no exception. */
WASM_API_EXTERN wasm_tag_t* strata_exn_tag(const wasm_ref_t*);
/* The exception's payload values in `out`, owned by the caller. */
WASM_API_EXTERN strata_error_t* strata_exn_fields(const wasm_ref_t*, wasm_val_vec_t* out);
/* The exception the last failed call left uncaught, taken out of the
 * store (owned); NULL when none is pending. */
WASM_API_EXTERN wasm_ref_t* strata_store_take_pending_exception(wasm_store_t*);
/* A trap (owned) that a host function's callback returns to throw a copy
 * of `exn` to the wasm that called it; NULL when `exn` is no exception. */
WASM_API_EXTERN wasm_trap_t* strata_trap_throw(const wasm_ref_t* exn);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_H */
