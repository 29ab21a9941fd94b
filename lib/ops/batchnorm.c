/* Batch normalisation over N, H, W per channel. Each channel is owned by one
 * thread; its sums are accumulated in double. The tape keeps the per-channel
 * mean and 1/std used by the forward pass, and the normalised input is
 * recomputed from x in the backward pass rather than stored. */
#include <math.h>
#include "../core/internal.h"

#define PAR_MIN 32768 /* elements below which threads cost more than they save */

/* Sums of p and p*p over channel c of x (N x C x hw). */
static void channel_sums(const float *x, int64_t n, int64_t c_all, int64_t hw, int64_t c,
                         double *s1, double *s2)
{
    double a = 0.0, b = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *p = x + (i * c_all + c) * hw;
        for (int64_t k = 0; k < hw; k++) {
            a += p[k];
            b += (double)p[k] * p[k];
        }
    }
    *s1 = a;
    *s2 = b;
}

static lpc_tensor *check_args(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                              lpc_tensor *rm, lpc_tensor *rv, int train, float momentum,
                              float eps)
{
    char sx[64], sg[64];
    if (x->ndim != 4)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: input must be N x C x H x W, got %s",
                             lpci_shape_str(x, sx, sizeof sx));
    int64_t c = x->shape[1];
    lpc_tensor *per_channel[4] = {gamma, beta, rm, rv};
    for (int i = 0; i < 4; i++)
        if (per_channel[i] && (per_channel[i]->ndim != 1 || per_channel[i]->shape[0] != c))
            return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: parameter %s does not match "
                                 "input %s (expects %lld channels)",
                                 lpci_shape_str(per_channel[i], sg, sizeof sg),
                                 lpci_shape_str(x, sx, sizeof sx), (long long)c);
    if (!(eps > 0.0f) || !isfinite(eps) || !(momentum >= 0.0f && momentum <= 1.0f))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: need eps > 0 (got %g) and momentum "
                             "in [0, 1] (got %g)", (double)eps, (double)momentum);
    if (!train && (!rm || !rv))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: eval mode needs running_mean and "
                             "running_var");
    if ((rm == NULL) != (rv == NULL))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: give both running statistics or "
                             "neither");
    if (train && x->numel / c < 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: training needs more than one value "
                             "per channel, input is %s", lpci_shape_str(x, sx, sizeof sx));
    return NULL;
}

lpc_tensor *lpc_batchnorm2d(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                            lpc_tensor *running_mean, lpc_tensor *running_var, int train,
                            float momentum, float eps)
{
    lpc_tensor *in[3] = {x, gamma, beta};
    if (!lpci_op_check(ctx, "batchnorm2d", 3, in))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *bad = check_args(ctx, x, gamma, beta, running_mean, running_var, train,
                                 momentum, eps);
    if (bad)
        return bad;
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    lpc_tensor *y = lpci_temp_like(ctx, x);
    float *mean = lpci_ctx_alloc(ctx, (size_t)c * 2 * sizeof(float));
    if (ctx->status != LPC_OK)
        return &ctx->poison;
    float *invstd = mean + c;
    const float *xd = x->data;
    float *yd = y->data;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double mu, var;
        if (train) {
            double s1, s2;
            channel_sums(xd, n, c, hw, ch, &s1, &s2);
            mu = s1 / (double)m;
            var = s2 / (double)m - mu * mu;
            if (var < 0.0)
                var = 0.0;
            if (running_mean) {
                double rm = running_mean->data[ch], rv = running_var->data[ch];
                running_mean->data[ch] = (float)((1.0 - momentum) * rm + momentum * mu);
                running_var->data[ch] = (float)((1.0 - momentum) * rv +
                                                momentum * var * (double)m / (double)(m - 1));
            }
        } else {
            mu = running_mean->data[ch];
            var = running_var->data[ch];
        }
        double is = 1.0 / sqrt(var + (double)eps);
        mean[ch] = (float)mu;
        invstd[ch] = (float)is;
        float scale = (float)(gamma->data[ch] * is);
        float shift = (float)(beta->data[ch] - mu * gamma->data[ch] * is);
        for (int64_t i = 0; i < n; i++) {
            const float *p = xd + (i * c + ch) * hw;
            float *q = yd + (i * c + ch) * hw;
            for (int64_t k = 0; k < hw; k++)
                q[k] = p[k] * scale + shift;
        }
    }
    if (lpci_needs_tape(ctx, 3, in)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_BATCHNORM2D, y, 3, in);
        if (node) {
            node->aux = mean;
            node->i[0] = train != 0;
        }
    }
    return y;
}

void lpci_backward_BATCHNORM2D(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2];
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    const float *mean = node->aux, *invstd = mean + c, *dy = node->out->grad, *xd = x->data;
    int train = (int)node->i[0];
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double sdy = 0.0, sdyx = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *g = dy + (i * c + ch) * hw, *p = xd + (i * c + ch) * hw;
            for (int64_t k = 0; k < hw; k++) {
                sdy += g[k];
                sdyx += (double)g[k] * p[k];
            }
        }
        double is = invstd[ch], mu = mean[ch];
        double sdyxhat = is * (sdyx - mu * sdy); /* sum of dy * xhat */
        if (gamma->grad)
            gamma->grad[ch] += (float)sdyxhat;
        if (beta->grad)
            beta->grad[ch] += (float)sdy;
        if (!x->grad)
            continue;
        /* dx = gamma is (dy - [train] (mean(dy) + xhat mean(dy xhat))) with
         * xhat = (x - mu) is. */
        float k = (float)(gamma->data[ch] * is), fmu = (float)mu;
        float a = train ? (float)(sdyxhat * is / (double)m) : 0.0f;
        float b = train ? (float)(sdy / (double)m) : 0.0f;
        for (int64_t i = 0; i < n; i++) {
            const float *g = dy + (i * c + ch) * hw, *p = xd + (i * c + ch) * hw;
            float *dx = x->grad + (i * c + ch) * hw;
            for (int64_t q = 0; q < hw; q++)
                dx[q] += k * (g[q] - b - a * (p[q] - fmu));
        }
    }
}
