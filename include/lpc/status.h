/* liblpc — status codes and error messages.
 *
 * Every fallible function returns an lpc_status (or a handle that is NULL on
 * failure) and leaves a human-readable detail in lpc_last_error(), which is
 * thread-local and valid until the next failing call on the same thread. */
#ifndef LPC_STATUS_H
#define LPC_STATUS_H
#include "export.h"

/* X-macro table: the one place where codes, names and descriptions live. */
#define LPC_STATUS_TABLE(X)                                                  \
    X(LPC_OK, 0, "ok")                                                       \
    X(LPC_E_ARG, -1, "invalid argument")                                     \
    X(LPC_E_SHAPE, -2, "shape mismatch")                                     \
    X(LPC_E_NOMEM, -3, "out of memory")                                      \
    X(LPC_E_IO, -4, "input/output error")                                    \
    X(LPC_E_FORMAT, -5, "malformed file")                                    \
    X(LPC_E_NUMERIC, -6, "non-finite or degenerate numbers")                 \
    X(LPC_E_STATE, -7, "call not valid in the current state")

typedef enum {
#define LPC_STATUS_ENUM_(name, value, text) name = value,
    LPC_STATUS_TABLE(LPC_STATUS_ENUM_)
#undef LPC_STATUS_ENUM_
} lpc_status;

LPC_BEGIN_DECLS
/* "LPC_E_SHAPE" etc.; "LPC_E_UNKNOWN" for a value outside the table. Static. */
LPC_API const char *lpc_status_name(lpc_status s);
/* One-line description ("shape mismatch"). Static. */
LPC_API const char *lpc_strerror(lpc_status s);
/* Detail of the last failure on this thread ("" if none). Never NULL. */
LPC_API const char *lpc_last_error(void);
/* Forget the last failure on this thread. */
LPC_API void lpc_clear_error(void);
/* Number of heap allocations the library has made so far (all threads).
 * Lets a program check that a training step allocates nothing. */
LPC_API unsigned long long lpc_alloc_count(void);
LPC_END_DECLS
#endif
