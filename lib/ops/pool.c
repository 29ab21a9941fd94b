/* Global average pooling N x C x H x W -> N x C. */
#include "../core/internal.h"

lpc_tensor *lpc_global_avgpool(lpc_ctx *ctx, lpc_tensor *x)
{
    if (!lpci_op_check(ctx, "global_avgpool", 1, &x))
        return ctx ? &ctx->poison : NULL;
    char sx[64];
    if (x->ndim != 4)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "global_avgpool: input must be N x C x H x W, got %s",
                             lpci_shape_str(x, sx, sizeof sx));
    int64_t rows = x->shape[0] * x->shape[1], hw = x->shape[2] * x->shape[3];
    lpc_tensor *y = lpci_temp(ctx, 2, (int64_t[]){x->shape[0], x->shape[1]});
    if (ctx->status != LPC_OK)
        return y;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > 65536)
    for (int64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (int64_t k = 0; k < hw; k++)
            s += x->data[r * hw + k];
        y->data[r] = (float)(s / (double)hw);
    }
    if (lpci_needs_tape(ctx, 1, &x))
        lpci_tape_push(ctx, LPCI_OP_AVGPOOL, y, 1, &x);
    return y;
}

void lpci_backward_AVGPOOL(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    int64_t rows = x->shape[0] * x->shape[1], hw = x->shape[2] * x->shape[3];
    float inv = 1.0f / (float)hw;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > 65536)
    for (int64_t r = 0; r < rows; r++) {
        float g = node->out->grad[r] * inv;
        for (int64_t k = 0; k < hw; k++)
            x->grad[r * hw + k] += g;
    }
}
