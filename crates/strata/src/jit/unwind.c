/*
 * Unwinding for the JIT tier. A trap in compiled code raises a signal; the
 * handler (signals.rs) jumps back to the innermost `strata_jit_catch` on the
 * thread, discarding the compiled frames in between. Only compiled frames
 * and the trivial Rust trampoline `body` lie between the two, and none of
 * them owns anything that needs dropping.
 */
#include <setjmp.h>
#include <stddef.h>

/* Runs body(data) with *slot pointing at a jump buffer for the duration.
 * Returns 0 when body returned normally, 1 when strata_jit_unwind jumped
 * back. The previous value of *slot is restored either way, so catches
 * nest. */
int strata_jit_catch(void **slot, void (*body)(void *), void *data) {
    sigjmp_buf buf;
    void *volatile prev = *slot;
    /* The signal mask is not saved: handlers run with SA_NODEFER, so a
     * jump out of one leaves no signal blocked. */
    if (sigsetjmp(buf, 0) == 0) {
        *slot = &buf;
        body(data);
        *slot = prev;
        return 0;
    }
    *slot = prev;
    return 1;
}

/* Jumps back to the strata_jit_catch that published `buf`. */
void strata_jit_unwind(void *buf) {
    siglongjmp(*(sigjmp_buf *)buf, 1);
}
