/* liblpc — the computation context: step arena, autograd tape, sticky error.
 *
 * A ctx owns every temporary tensor made by ops during one step. Graph-building
 * errors are sticky: the first failing op records its status and message here,
 * returns a poisoned tensor, and every later op on this ctx does nothing. Check
 * lpc_ctx_status() once after the forward pass and once after backward.
 * lpc_ctx_reset() frees all temporaries in O(1); after the first step a
 * training step makes no heap allocation. */
#ifndef LPC_CTX_H
#define LPC_CTX_H
#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"

typedef struct lpc_ctx lpc_ctx;
typedef struct lpc_tensor lpc_tensor;

LPC_BEGIN_DECLS
/* New context; NULL (and lpc_last_error) when out of memory, or when the
 * environment variable LPC_CPU names a kernel path this CPU cannot run
 * (LPC_E_ARG, see cpu.h). Free with lpc_ctx_free. */
LPC_API lpc_ctx *lpc_ctx_new(void);
LPC_API void lpc_ctx_free(lpc_ctx *ctx); /* NULL is a no-op */
/* Drop all temporaries and the tape; clears the sticky error. */
LPC_API void lpc_ctx_reset(lpc_ctx *ctx);
/* First error recorded since the last reset, LPC_OK if none (LPC_E_ARG for NULL). */
LPC_API lpc_status lpc_ctx_status(const lpc_ctx *ctx);
/* Message of that error ("" if none). Valid until the next reset. */
LPC_API const char *lpc_ctx_error(const lpc_ctx *ctx);
/* Record taping on (1, default) or off (0: inference, no tape entries). */
LPC_API lpc_status lpc_ctx_set_grad(lpc_ctx *ctx, int enabled);
LPC_API int lpc_ctx_grad_enabled(const lpc_ctx *ctx);
/* Debug check (default off): every taped op verifies that its output, and
 * in backward the gradients it produces, are finite; the first offender
 * records LPC_E_NUMERIC naming the op. Costs one pass over each tensor. */
LPC_API lpc_status lpc_ctx_set_check_finite(lpc_ctx *ctx, int enabled);
/* Bytes reserved by the arena (for diagnostics). */
LPC_API size_t lpc_ctx_arena_bytes(const lpc_ctx *ctx);

/* Reverse-mode autograd from a scalar (1-element) tensor of this ctx: walks
 * the tape backwards from the op that produced `loss`. Gradients of
 * persistent tensors (parameters, inputs made with lpc_tensor_new)
 * accumulate until zeroed; those of temporaries marked with
 * lpc_tensor_set_requires_grad are reset on every call. Gradients of op
 * outputs live in memory shared by a plan and are released as soon as
 * backward has consumed them: lpc_tensor_grad returns NULL for them after
 * the call (as PyTorch frees non-leaf gradients). */
LPC_API lpc_status lpc_backward(lpc_ctx *ctx, lpc_tensor *loss);

/* Threads used by liblpc kernels and BLIS (default 1). Process-wide. */
LPC_API lpc_status lpc_set_num_threads(int n);
LPC_API int lpc_get_num_threads(void);
LPC_END_DECLS
#endif
