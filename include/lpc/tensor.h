/* liblpc — float32 tensors (opaque), up to 4-D, row-major (NCHW), contiguous.
 *
 * Two kinds:
 *  - persistent tensors (lpc_tensor_new): heap objects owned by the caller or
 *    by a module/optimizer; free with lpc_tensor_free.
 *  - temporaries: returned by ops and lpc_tensor_temp; owned by their lpc_ctx
 *    and invalid after lpc_ctx_reset / lpc_ctx_free. Never free them. An op
 *    given another ctx's temporary fails with LPC_E_ARG (naming the op and
 *    the input); persistent tensors work with every ctx. */
#ifndef LPC_TENSOR_H
#define LPC_TENSOR_H
#include <stddef.h>
#include <stdint.h>
#include "ctx.h"

#define LPC_MAX_DIMS 4

LPC_BEGIN_DECLS
/* Zero-filled persistent tensor; NULL on bad shape (LPC_E_ARG) or no memory. */
LPC_API lpc_tensor *lpc_tensor_new(int ndim, const int64_t *shape);
LPC_API void lpc_tensor_free(lpc_tensor *t); /* NULL is a no-op; temporaries are refused */
/* Uninitialised temporary in ctx's arena (poisoned tensor on error). */
LPC_API lpc_tensor *lpc_tensor_temp(lpc_ctx *ctx, int ndim, const int64_t *shape);
/* Temporary copy of n floats with the given shape (n must equal the numel). */
LPC_API lpc_tensor *lpc_tensor_from(lpc_ctx *ctx, int ndim, const int64_t *shape,
                                    const float *data, int64_t n);

LPC_API int lpc_tensor_ndim(const lpc_tensor *t);          /* -1 for NULL */
LPC_API int64_t lpc_tensor_dim(const lpc_tensor *t, int i); /* -1 when out of range */
LPC_API int64_t lpc_tensor_numel(const lpc_tensor *t);      /* -1 for NULL */
/* Element storage (numel floats), NULL for NULL/poisoned tensors. */
LPC_API float *lpc_tensor_data(lpc_tensor *t);
LPC_API const float *lpc_tensor_cdata(const lpc_tensor *t);
/* Gradient storage, NULL until a backward pass has reached the tensor, and
 * NULL again after it for op outputs (see lpc_backward). */
LPC_API float *lpc_tensor_grad(lpc_tensor *t);
/* Mark a tensor as a leaf whose gradient backward should compute. */
LPC_API lpc_status lpc_tensor_set_requires_grad(lpc_tensor *t, int on);
LPC_API int lpc_tensor_requires_grad(const lpc_tensor *t);
/* Set the gradient of a persistent tensor to zero (no-op if it has none). */
LPC_API lpc_status lpc_tensor_zero_grad(lpc_tensor *t);
/* Copy n floats into / out of t (n must equal the numel). */
LPC_API lpc_status lpc_tensor_copy_in(lpc_tensor *t, const float *src, int64_t n);
LPC_API lpc_status lpc_tensor_copy_out(const lpc_tensor *t, float *dst, int64_t n);
/* Fill with a constant. */
LPC_API lpc_status lpc_tensor_fill(lpc_tensor *t, float value);
LPC_END_DECLS
#endif
