/* Winograd F(2x2, 3x3) convolution for conv2d's 3x3 stride-1 pad-1 case. */
#ifndef LPC_OPS_WINOGRAD_H
#define LPC_OPS_WINOGRAD_H
#include "kernels.h"

/* Whether the Winograd path can run for n samples (offsets within a chunk
 * of samples fit 32 bits). */
int lpci_winograd_usable(int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w);

/* y (n x cout x h x w) = or += (accumulate) the 3x3 stride-1 pad-1
 * convolution of x (n x cin x h x w) with weight (cout x cin x 3 x 3), or,
 * with flip, with the filters of weight stored as (cin x cout x 3 x 3)
 * rotated by 180 degrees (the input gradient of a conv: x is then dY).
 * Threads take chunks of samples. 0 when scratch memory cannot be
 * had (the error is set on ctx). */
int lpci_winograd_conv3x3(lpc_ctx *ctx, int64_t n, int64_t cin, int64_t cout, int64_t h,
                          int64_t w, const float *x, const float *weight, int flip, float *y,
                          int accumulate);

/* dw (cout x cin x 3 x 3) = or += (!fresh) the weight gradient of that
 * convolution of x (n x cin x h x w) for output gradient dy (n x cout x h x
 * w), per-thread partials summed in thread order. 0 when scratch memory
 * cannot be had (the error is set on ctx). */
int lpci_winograd_weight_grad(lpc_ctx *ctx, int64_t n, int64_t cin, int64_t cout, int64_t h,
                              int64_t w, const float *x, const float *dy, float *dw, int fresh);

#endif
