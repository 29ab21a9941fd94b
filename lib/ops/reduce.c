/* Reductions, log-softmax, gather and reshape. Sums accumulate in double in
 * a fixed order, so they do not depend on the thread count. */
#include <math.h>
#include <string.h>
#include "../core/internal.h"

static lpc_tensor *reduce(lpc_ctx *ctx, int op, const char *name, lpc_tensor *x)
{
    if (!lpci_op_check(ctx, name, 1, &x))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *y = lpci_temp(ctx, 1, (int64_t[]){1});
    if (ctx->status != LPC_OK)
        return y;
    double s = 0.0;
    for (int64_t i = 0; i < x->numel; i++)
        s += x->data[i];
    y->data[0] = (float)(op == LPCI_OP_MEAN ? s / (double)x->numel : s);
    if (lpci_needs_tape(ctx, 1, &x))
        lpci_tape_push(ctx, op, y, 1, &x);
    return y;
}

lpc_tensor *lpc_sum(lpc_ctx *ctx, lpc_tensor *x) { return reduce(ctx, LPCI_OP_SUM, "sum", x); }
lpc_tensor *lpc_mean(lpc_ctx *ctx, lpc_tensor *x) { return reduce(ctx, LPCI_OP_MEAN, "mean", x); }

static void reduce_backward(const lpci_node *node, float scale)
{
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    float g = node->out->grad[0] * scale;
    for (int64_t i = 0; i < x->numel; i++)
        x->grad[i] += g;
}

void lpci_backward_SUM(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    reduce_backward(node, 1.0f);
}

void lpci_backward_MEAN(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    reduce_backward(node, (float)(1.0 / (double)node->in[0]->numel));
}

lpc_tensor *lpc_log_softmax(lpc_ctx *ctx, lpc_tensor *x)
{
    if (!lpci_op_check(ctx, "log_softmax", 1, &x))
        return ctx ? &ctx->poison : NULL;
    char sx[64];
    if (x->ndim != 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "log_softmax: input must be N x K, got %s",
                             lpci_shape_str(x, sx, sizeof sx));
    lpc_tensor *y = lpci_temp_like(ctx, x);
    if (ctx->status != LPC_OK)
        return y;
    int64_t n = x->shape[0], k = x->shape[1];
    for (int64_t i = 0; i < n; i++) {
        const float *row = x->data + i * k;
        float mx = row[0];
        for (int64_t j = 1; j < k; j++)
            mx = row[j] > mx ? row[j] : mx;
        double s = 0.0;
        for (int64_t j = 0; j < k; j++)
            s += exp((double)row[j] - mx);
        double lse = mx + log(s);
        for (int64_t j = 0; j < k; j++)
            y->data[i * k + j] = (float)(row[j] - lse);
    }
    if (lpci_needs_tape(ctx, 1, &x))
        lpci_tape_push(ctx, LPCI_OP_LOG_SOFTMAX, y, 1, &x);
    return y;
}

void lpci_backward_LOG_SOFTMAX(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0], *y = node->out;
    if (!x->grad)
        return;
    int64_t n = x->shape[0], k = x->shape[1];
    for (int64_t i = 0; i < n; i++) {
        const float *dy = y->grad + i * k, *ly = y->data + i * k;
        double s = 0.0;
        for (int64_t j = 0; j < k; j++)
            s += dy[j];
        for (int64_t j = 0; j < k; j++)
            x->grad[i * k + j] += (float)(dy[j] - exp((double)ly[j]) * s);
    }
}

lpc_tensor *lpc_gather(lpc_ctx *ctx, lpc_tensor *x, const int32_t *idx)
{
    if (!lpci_op_check(ctx, "gather", 1, &x))
        return ctx ? &ctx->poison : NULL;
    char sx[64];
    if (x->ndim != 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "gather: input must be N x K, got %s",
                             lpci_shape_str(x, sx, sizeof sx));
    if (!idx)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "gather: index array is NULL");
    int64_t n = x->shape[0], k = x->shape[1];
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= k)
            return lpci_ctx_fail(ctx, LPC_E_ARG, "gather: index %d at row %lld is not in [0, %lld)",
                                 idx[i], (long long)i, (long long)k);
    lpc_tensor *y = lpci_temp(ctx, 1, (int64_t[]){n});
    if (ctx->status != LPC_OK)
        return y;
    for (int64_t i = 0; i < n; i++)
        y->data[i] = x->data[i * k + idx[i]];
    if (lpci_needs_tape(ctx, 1, &x)) {
        int32_t *saved = lpci_ctx_alloc(ctx, (size_t)n * sizeof *saved);
        if (!saved)
            return &ctx->poison;
        memcpy(saved, idx, (size_t)n * sizeof *saved);
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_GATHER, y, 1, &x);
        if (node)
            node->aux = saved;
    }
    return y;
}

void lpci_backward_GATHER(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    const int32_t *idx = node->aux;
    int64_t n = x->shape[0], k = x->shape[1];
    for (int64_t i = 0; i < n; i++)
        x->grad[i * k + idx[i]] += node->out->grad[i];
}

lpc_tensor *lpc_reshape(lpc_ctx *ctx, lpc_tensor *x, int ndim, const int64_t *shape)
{
    if (!lpci_op_check(ctx, "reshape", 1, &x))
        return ctx ? &ctx->poison : NULL;
    if (ndim < 1 || ndim > LPC_MAX_DIMS || !shape)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "reshape: ndim %d is not in 1..%d", ndim, LPC_MAX_DIMS);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return lpci_ctx_fail(ctx, LPC_E_ARG, "reshape: dimension %d is %lld", i,
                                 (long long)shape[i]);
        numel *= shape[i];
    }
    char sx[64];
    if (numel != x->numel)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "reshape: %s has %lld elements, new shape %lld",
                             lpci_shape_str(x, sx, sizeof sx), (long long)x->numel,
                             (long long)numel);
    lpc_tensor *y = lpci_ctx_alloc(ctx, sizeof *y);
    if (!y)
        return &ctx->poison;
    memset(y, 0, sizeof *y);
    y->ndim = ndim;
    memcpy(y->shape, shape, (size_t)ndim * sizeof *shape);
    y->numel = numel;
    y->data = x->data;
    y->flags = LPCI_T_VIEW;
    y->ctx = ctx;
    if (lpci_needs_tape(ctx, 1, &x))
        lpci_tape_push(ctx, LPCI_OP_RESHAPE, y, 1, &x);
    return y;
}

void lpci_backward_RESHAPE(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    for (int64_t i = 0; i < x->numel; i++)
        x->grad[i] += node->out->grad[i];
}
