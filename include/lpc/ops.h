/* liblpc — differentiable operations.
 *
 * Every op takes the ctx, returns a new temporary tensor of that ctx and, when
 * the ctx records gradients and an input requires grad, appends a tape entry.
 * On bad input an op records a sticky error in ctx (LPC_E_ARG/LPC_E_SHAPE with
 * a message naming the op and the shapes) and returns a poisoned tensor; once
 * a ctx is poisoned every op returns immediately. */
#ifndef LPC_OPS_H
#define LPC_OPS_H
#include "tensor.h"

LPC_BEGIN_DECLS
/* ---- linear algebra ---- */
/* C = A B for A (m x k), B (k x n); transposes selected by ta/tb (0/1). */
LPC_API lpc_tensor *lpc_matmul(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b, int ta, int tb);
/* y = x W^T + b for x (N x in), W (out x in), b (out) or NULL (PyTorch layout). */
LPC_API lpc_tensor *lpc_linear(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *w, lpc_tensor *b);

/* ---- elementwise ---- */
LPC_API lpc_tensor *lpc_add(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b); /* same shape */
LPC_API lpc_tensor *lpc_sub(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b); /* same shape */
LPC_API lpc_tensor *lpc_mul(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b); /* same shape */
LPC_API lpc_tensor *lpc_scale(lpc_ctx *ctx, lpc_tensor *a, float s);
/* x (N x C [x H x W]) + b (C), broadcast over N and the spatial dims. */
LPC_API lpc_tensor *lpc_bias_add(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *b);
LPC_API lpc_tensor *lpc_silu(lpc_ctx *ctx, lpc_tensor *x);
LPC_API lpc_tensor *lpc_relu(lpc_ctx *ctx, lpc_tensor *x);

/* ---- reductions and indexing ---- */
LPC_API lpc_tensor *lpc_sum(lpc_ctx *ctx, lpc_tensor *x);  /* scalar */
LPC_API lpc_tensor *lpc_mean(lpc_ctx *ctx, lpc_tensor *x); /* scalar */
/* Row-wise log-softmax of x (N x K), log-sum-exp stabilised. */
LPC_API lpc_tensor *lpc_log_softmax(lpc_ctx *ctx, lpc_tensor *x);
/* out[i] = x[i, idx[i]] for x (N x K); idx has N entries in [0, K). */
LPC_API lpc_tensor *lpc_gather(lpc_ctx *ctx, lpc_tensor *x, const int32_t *idx);
/* View with a new shape of the same numel (shares storage; grads flow through). */
LPC_API lpc_tensor *lpc_reshape(lpc_ctx *ctx, lpc_tensor *x, int ndim, const int64_t *shape);

/* ---- convolutional stack (N x C x H x W) ---- */
/* Convolution with weight (Cout x Cin x kh x kw), optional bias (Cout) or NULL. */
LPC_API lpc_tensor *lpc_conv2d(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *w, lpc_tensor *b,
                               int stride, int pad);
/* Batch norm over N,H,W per channel with affine gamma/beta (C). In training
 * mode (train = 1) uses batch statistics (biased variance) and updates
 * running_mean/running_var (unbiased variance) with `momentum`; in eval mode
 * uses the running statistics. running_* may be NULL in training mode; they
 * change only when the op succeeds. */
LPC_API lpc_tensor *lpc_batchnorm2d(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma,
                                    lpc_tensor *beta, lpc_tensor *running_mean,
                                    lpc_tensor *running_var, int train, float momentum,
                                    float eps);
/* Global average pool: N x C x H x W -> N x C. */
LPC_API lpc_tensor *lpc_global_avgpool(lpc_ctx *ctx, lpc_tensor *x);
LPC_END_DECLS
#endif
