/* Batch norm fused with the residual add and SiLU of a ResNet block, for
 * lib/nn (the plain op is lpc_batchnorm2d in ops.h). */
#ifndef LPC_OPS_BATCHNORM_H
#define LPC_OPS_BATCHNORM_H
#include "../core/internal.h"

/* PyTorch's BatchNorm2d defaults. */
#define LPCI_BN_MOMENTUM 0.1f
#define LPCI_BN_EPS 1e-5f

/* silu(batchnorm2d(x) + res): arguments as lpc_batchnorm2d, plus res (the
 * shape of x) or NULL for silu(batchnorm2d(x)). */
lpc_tensor *lpci_batchnorm2d_silu(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                                  lpc_tensor *running_mean, lpc_tensor *running_var, int train,
                                  float momentum, float eps, lpc_tensor *res);
#endif
