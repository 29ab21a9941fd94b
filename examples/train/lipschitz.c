/* lpc-train --lipschitz (see lipschitz.h). */
#include "lipschitz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *v, int64_t n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median over the samples with a non-zero gradient norm of bound / norm,
 * the bound of f_y - f_j for the largest other logit j (tmp: n doubles). */
static lpc_status looseness(const lpc_lipschitz_cert *cert, const float *logits, int64_t n,
                            int64_t k, const int32_t *y, const double *norms, double *tmp,
                            double *median)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *f = logits + i * k;
        int64_t js = -1;
        for (int64_t j = 0; j < k; j++)
            if (j != y[i] && (js < 0 || f[j] > f[js]))
                js = j;
        double bound;
        lpc_status s = lpc_lipschitz_cert_pair(cert, y[i], (int)js, &bound);
        if (s != LPC_OK)
            return s;
        if (norms[i] > 0)
            tmp[m++] = bound / norms[i];
    }
    qsort(tmp, (size_t)m, sizeof *tmp, cmp_double);
    *median = m ? median_sorted(tmp, m) : 0.0;
    return LPC_OK;
}

/* Logits of the n inputs x (in chunks) into logits (n x k). */
static lpc_status forward_logits(lpc_head *head, const float *x, int64_t n, int c, int h, int w,
                                 float *logits)
{
    enum { CHUNK = 500 };
    int64_t d = (int64_t)c * h * w, k = lpc_head_num_classes(head);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_status s = ctx ? LPC_OK : LPC_E_NOMEM;
    lpc_ctx_set_grad(ctx, 0);
    for (int64_t i = 0; s == LPC_OK && i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        lpc_ctx_reset(ctx);
        lpc_tensor *xt = lpc_tensor_from(ctx, 4, (int64_t[]){m, c, h, w}, x + i * d, m * d), *lg;
        if ((s = lpc_head_forward(head, ctx, xt, NULL, NULL, &lg)) == LPC_OK)
            memcpy(logits + i * k, lpc_tensor_cdata(lg), (size_t)(m * k) * sizeof *logits);
    }
    lpc_ctx_free(ctx);
    return s;
}

lpc_status ex_lipschitz_measure(lpc_head *head, const lpc_dataset *test, const double *mean,
                                const double *std, ex_lipschitz *out)
{
    static const double radii[EX_CERT_RADII] = {0.01, 0.05, 0.1, 0.25};
    lpc_module *net = lpc_head_module(head);
    int64_t n = lpc_dataset_size(test), k = lpc_head_num_classes(head);
    int c = lpc_dataset_channels(test), h = lpc_dataset_height(test),
        w = lpc_dataset_width(test);
    int was_train = lpc_module_is_train(net);
    lpc_batcher *b = lpc_batcher_new(test, n, 0, 0, mean, std);
    lpc_ctx *ctx = lpc_ctx_new();
    float *logits = malloc((size_t)(n * k) * sizeof *logits);
    double *r = malloc((size_t)n * sizeof *r), *norms = malloc((size_t)n * sizeof *norms);
    lpc_lipschitz_cert *cert = NULL;
    lpc_tensor *x = NULL;
    const int32_t *y = NULL;
    lpc_status s = b && ctx && logits && r && norms ? LPC_OK : LPC_E_NOMEM;
    if (s == LPC_OK && lpc_batcher_next(b, ctx, &x, &y) != n)
        s = LPC_E_STATE;
    if (s == LPC_OK)
        s = lpc_module_set_train(net, 0);
    *out = (ex_lipschitz){.grad.size = sizeof out->grad};
    double t0 = now();
    lpc_samples sm = lpc_samples_make(lpc_tensor_cdata(x), n, c, h, w, y);
    if (s == LPC_OK)
        s = lpc_lipschitz_estimate(net, &sm, NULL, norms, &out->grad);
    double t1 = now();
    if (s == LPC_OK)
        s = lpc_lipschitz_cert_head(head, c, h, w, NULL, &cert);
    out->seconds_estimate = t1 - t0;
    out->seconds_bound = now() - t1;
    if (s == LPC_OK)
        s = lpc_lipschitz_cert_latent(cert, &out->latent_bound);
    if (s == LPC_OK)
        s = forward_logits(head, lpc_tensor_cdata(x), n, c, h, w, logits);
    if (s == LPC_OK)
        s = lpc_lipschitz_cert_radii(cert, logits, n, y, r);
    memcpy(out->radii, radii, sizeof radii);
    if (s == LPC_OK)
        s = lpc_certified_accuracy(r, n, radii, EX_CERT_RADII, out->cert_acc);
    if (s == LPC_OK) {
        qsort(r, (size_t)n, sizeof *r, cmp_double);
        out->median_radius = median_sorted(r, n);
        s = looseness(cert, logits, n, k, y, norms, r, &out->median_looseness);
    }
    if (s != LPC_OK)
        fprintf(stderr, "error: Lipschitz measures: %s (%s)\n", lpc_last_error(),
                lpc_status_name(s));
    lpc_module_set_train(net, was_train);
    lpc_lipschitz_cert_free(cert);
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
    free(logits);
    free(r);
    free(norms);
    return s;
}
