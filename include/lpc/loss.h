/* liblpc — losses: ops returning a scalar temporary (see ops.h for error rules).
 * Labels are int32 class indices, one per row, in [0, K). */
#ifndef LPC_LOSS_H
#define LPC_LOSS_H
#include "tensor.h"

LPC_BEGIN_DECLS
/* mean_i -log softmax(logits_i)[y_i] for logits (N x K). */
LPC_API lpc_tensor *lpc_cross_entropy(lpc_ctx *ctx, lpc_tensor *logits, const int32_t *labels);
/* gamma * sum_ij z_ij^2 / numel(z): the LPC penalty (MSE of z against 0). */
LPC_API lpc_tensor *lpc_l2_latent(lpc_ctx *ctx, lpc_tensor *z, float gamma);
/* Supervised contrastive loss on features (N x D), temperature tau (doc/method.md §4). */
LPC_API lpc_tensor *lpc_supcon(lpc_ctx *ctx, lpc_tensor *features, const int32_t *labels,
                               float tau);
/* ArcFace CE with scale s and additive angular margin m; z (N x P), W (K x P). */
LPC_API lpc_tensor *lpc_arcface(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w,
                                const int32_t *labels, float s, float m);
/* CosFace CE with scale s and additive cosine margin m; z (N x P), W (K x P). */
LPC_API lpc_tensor *lpc_cosface(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w,
                                const int32_t *labels, float s, float m);
/* Flag of lpc_arcface_flags / lpc_cosface_flags: the authors' clamp of the
 * target value after the margin (ArcFace's phi, CosFace's cos - m) to
 * +-(1 - 1e-7), with no gradient where it is active (doc/fidelity.md). */
#define LPC_MARGIN_CLAMP_TARGET 1u
/* lpc_arcface / lpc_cosface with flags (0 = the plain functions; unknown
 * bits poison the ctx with LPC_E_ARG). */
LPC_API lpc_tensor *lpc_arcface_flags(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w,
                                      const int32_t *labels, float s, float m, unsigned flags);
LPC_API lpc_tensor *lpc_cosface_flags(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w,
                                      const int32_t *labels, float s, float m, unsigned flags);
LPC_END_DECLS
#endif
