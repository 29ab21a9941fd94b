/* Cross-entropy on raw logits and the LPC latent penalty gamma * mean(z^2). */
#include <math.h>
#include "../core/internal.h"

/* Validates labels against K classes; records a sticky error if one is off. */
int lpci_check_labels(lpc_ctx *ctx, const char *op, const int32_t *labels, int64_t n, int64_t k)
{
    if (!labels) {
        lpci_ctx_fail(ctx, LPC_E_ARG, "%s: labels are NULL", op);
        return 0;
    }
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k) {
            lpci_ctx_fail(ctx, LPC_E_ARG, "%s: label %d of sample %lld is not in [0, %lld)", op,
                          labels[i], (long long)i, (long long)k);
            return 0;
        }
    return 1;
}

lpc_tensor *lpc_cross_entropy(lpc_ctx *ctx, lpc_tensor *logits, const int32_t *labels)
{
    if (!lpci_op_check(ctx, "cross_entropy", 1, &logits))
        return ctx ? &ctx->poison : NULL;
    char s[64];
    if (logits->ndim != 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "cross_entropy: logits must be N x K, got %s",
                             lpci_shape_str(logits, s, sizeof s));
    int64_t n = logits->shape[0], k = logits->shape[1];
    if (!lpci_check_labels(ctx, "cross_entropy", labels, n, k))
        return &ctx->poison;
    lpc_tensor *loss = lpci_temp(ctx, 1, (int64_t[]){1});
    /* Saved softmax probabilities for the backward pass. */
    float *prob = lpci_ctx_alloc(ctx, (size_t)(n * k) * sizeof *prob);
    if (ctx->status != LPC_OK)
        return &ctx->poison;
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits->data + i * k;
        float mx = row[0];
        for (int64_t j = 1; j < k; j++)
            mx = row[j] > mx ? row[j] : mx;
        double sum = 0.0;
        for (int64_t j = 0; j < k; j++)
            sum += exp((double)row[j] - mx);
        double lse = mx + log(sum);
        for (int64_t j = 0; j < k; j++)
            prob[i * k + j] = (float)exp((double)row[j] - lse);
        total += lse - row[labels[i]];
    }
    loss->data[0] = (float)(total / (double)n);
    if (lpci_needs_tape(ctx, 1, &logits)) {
        int32_t *saved = lpci_ctx_alloc(ctx, (size_t)n * sizeof *saved);
        lpci_node *node = saved ? lpci_tape_push(ctx, LPCI_OP_CROSS_ENTROPY, loss, 1, &logits) : NULL;
        if (!node)
            return &ctx->poison;
        for (int64_t i = 0; i < n; i++)
            saved[i] = labels[i];
        node->aux = prob;
        node->aux2 = saved;
    }
    return loss;
}

void lpci_backward_CROSS_ENTROPY(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    const float *prob = node->aux;
    const int32_t *labels = node->aux2;
    int64_t n = x->shape[0], k = x->shape[1];
    float g = node->out->grad[0] / (float)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++)
            x->grad[i * k + j] += g * (prob[i * k + j] - (j == labels[i] ? 1.0f : 0.0f));
}

lpc_tensor *lpc_l2_latent(lpc_ctx *ctx, lpc_tensor *z, float gamma)
{
    if (!lpci_op_check(ctx, "l2_latent", 1, &z))
        return ctx ? &ctx->poison : NULL;
    if (!isfinite(gamma) || gamma < 0.0f)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "l2_latent: gamma must be finite and >= 0, got %g",
                             (double)gamma);
    lpc_tensor *loss = lpci_temp(ctx, 1, (int64_t[]){1});
    if (ctx->status != LPC_OK)
        return loss;
    double s = 0.0;
    for (int64_t i = 0; i < z->numel; i++)
        s += (double)z->data[i] * z->data[i];
    loss->data[0] = (float)(gamma * s / (double)z->numel);
    if (lpci_needs_tape(ctx, 1, &z)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_L2_LATENT, loss, 1, &z);
        if (node)
            node->f[0] = gamma;
    }
    return loss;
}

void lpci_backward_L2_LATENT(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *z = node->in[0];
    if (!z->grad)
        return;
    float g = (float)(node->out->grad[0] * 2.0 * node->f[0] / (double)z->numel);
    for (int64_t i = 0; i < z->numel; i++)
        z->grad[i] += g * z->data[i];
}
