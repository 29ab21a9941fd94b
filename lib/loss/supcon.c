/* Supervised contrastive loss (Khosla et al. 2020) on L2-normalised features,
 * as in doc/method.md §4: self excluded from the denominator and the positives; an
 * anchor without positives contributes 0 but counts in the batch mean. */
#include <math.h>
#include <string.h>
#include "../core/internal.h"

/* Norm guard as torch.nn.functional.normalize: f = x / max(|x|, eps). */
#define SUPCON_EPS 1e-12

/* What the backward pass needs (arena memory of the step). */
typedef struct {
    const float *f;      /* normalised features, N x D */
    const double *norm;  /* |x_i| before the eps guard */
    const float *dlogit; /* dloss/dlogits, N x N, already divided by N */
} supcon_saved;

lpc_tensor *lpc_supcon(lpc_ctx *ctx, lpc_tensor *features, const int32_t *labels, float tau)
{
    if (!lpci_op_check(ctx, "supcon", 1, &features))
        return ctx ? &ctx->poison : NULL;
    char sf[64];
    if (features->ndim != 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "supcon: features must be N x D, got %s",
                             lpci_shape_str(features, sf, sizeof sf));
    if (!isfinite(tau) || tau <= 0.0f)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "supcon: tau must be finite and > 0, got %g",
                             (double)tau);
    int64_t n = features->shape[0], d = features->shape[1];
    if (!lpci_check_labels(ctx, "supcon", labels, n, INT32_MAX))
        return &ctx->poison;
    lpc_tensor *loss = lpci_temp(ctx, 1, (int64_t[]){1});
    float *f = lpci_ctx_alloc(ctx, (size_t)(n * d) * sizeof *f);
    double *norm = lpci_ctx_alloc(ctx, (size_t)n * sizeof *norm);
    float *gram = lpci_ctx_alloc(ctx, (size_t)(n * n) * sizeof *gram);
    double *row_loss = lpci_ctx_alloc(ctx, (size_t)n * sizeof *row_loss);
    if (ctx->status != LPC_OK)
        return &ctx->poison;
    const float *x = features->data;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t k = 0; k < d; k++)
            s += (double)x[i * d + k] * x[i * d + k];
        norm[i] = sqrt(s);
        double inv = 1.0 / fmax(norm[i], SUPCON_EPS);
        for (int64_t k = 0; k < d; k++)
            f[i * d + k] = (float)(x[i * d + k] * inv);
    }
    lpci_sgemm(0, 1, n, n, d, 1.0f, f, d, f, d, 0.0f, gram, n);
    /* The gram buffer is overwritten row by row with dloss/dlogits (scaled by
     * 1/N), which is all the backward pass needs. */
    double inv_tau = 1.0 / (double)tau;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        float *g = gram + i * n;
        double mx = -INFINITY, pos_sum = 0.0;
        int64_t pos = 0;
        for (int64_t a = 0; a < n; a++) {
            if (a == i)
                continue;
            double l = g[a] * inv_tau;
            mx = l > mx ? l : mx;
            if (labels[a] == labels[i]) {
                pos_sum += l;
                pos++;
            }
        }
        if (pos == 0) {
            row_loss[i] = 0.0;
            memset(g, 0, (size_t)n * sizeof *g);
            continue;
        }
        double z = 0.0;
        for (int64_t a = 0; a < n; a++)
            if (a != i)
                z += exp(g[a] * inv_tau - mx);
        double lse = mx + log(z);
        row_loss[i] = lse - pos_sum / (double)pos;
        for (int64_t a = 0; a < n; a++) {
            double p = a == i ? 0.0 : exp(g[a] * inv_tau - lse);
            double t = a != i && labels[a] == labels[i] ? 1.0 / (double)pos : 0.0;
            g[a] = (float)((p - t) / (double)n);
        }
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++)
        total += row_loss[i];
    loss->data[0] = (float)(total / (double)n);
    if (lpci_needs_tape(ctx, 1, &features)) {
        supcon_saved *sv = lpci_ctx_alloc(ctx, sizeof *sv);
        lpci_node *node = sv ? lpci_tape_push(ctx, LPCI_OP_SUPCON, loss, 1, &features) : NULL;
        if (!node)
            return &ctx->poison;
        *sv = (supcon_saved){f, norm, gram};
        node->aux = sv;
        node->f[0] = tau;
    }
    return loss;
}

void lpci_backward_SUPCON(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    const supcon_saved *sv = node->aux;
    int64_t n = x->shape[0], d = x->shape[1];
    float *sym = lpci_ctx_alloc(ctx, (size_t)(n * n) * sizeof *sym);
    float *df = lpci_ctx_alloc(ctx, (size_t)(n * d) * sizeof *df);
    if (!sym || !df)
        return;
    /* logits = F F^T / tau, so dF = (M + M^T) F / tau for M = dloss/dlogits. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            sym[i * n + j] = sv->dlogit[i * n + j] + sv->dlogit[j * n + i];
    float scale = (float)(node->out->grad[0] / node->f[0]);
    lpci_sgemm(0, 0, n, d, n, scale, sym, n, sv->f, d, 0.0f, df, d);
    /* Through f = x / max(|x|, eps): (I - f f^T) / |x| above eps, I / eps below. */
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        const float *fi = sv->f + i * d, *gi = df + i * d;
        float *dx = x->grad + i * d;
        if (sv->norm[i] <= SUPCON_EPS) {
            for (int64_t k = 0; k < d; k++)
                dx[k] += (float)(gi[k] / SUPCON_EPS);
            continue;
        }
        double dot = 0.0;
        for (int64_t k = 0; k < d; k++)
            dot += (double)fi[k] * gi[k];
        for (int64_t k = 0; k < d; k++)
            dx[k] += (float)((gi[k] - fi[k] * dot) / sv->norm[i]);
    }
}
