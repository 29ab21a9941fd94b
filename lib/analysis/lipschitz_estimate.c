/* Empirical Lipschitz estimate (include/lpc/lipschitz.h): per sample the
 * input-gradient norm of the margin f_y - max_{j != y} f_j. Samples run in
 * chunks: one forward pass with the input as a temporary requiring grad,
 * one backward pass of sum_i (f_{y_i} - f_{j_i}). In evaluation mode the
 * samples are independent, so that sum's input gradient holds every
 * sample's own margin gradient. */
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

#define WHO "lpc_lipschitz_estimate"

void lpc_lipschitz_estimate_options_init(lpc_lipschitz_estimate_options *o)
{
    if (o)
        *o = (lpc_lipschitz_estimate_options){.size = sizeof *o, .chunk = 256, .min_norm = 1e-9};
}

/* The caller's options over the defaults: only the fields within o->size. */
static lpc_status read_options(const lpc_lipschitz_estimate_options *o,
                               lpc_lipschitz_estimate_options *out)
{
    lpc_lipschitz_estimate_options_init(out);
    if (!o)
        return LPC_OK;
    if (o->size < offsetof(lpc_lipschitz_estimate_options, chunk) + sizeof o->chunk)
        return lpci_error(LPC_E_ARG, WHO ": options size %zu is too small (set it with "
                          "lpc_lipschitz_estimate_options_init)", o->size);
    memcpy(out, o, o->size < sizeof *out ? o->size : sizeof *out);
    out->size = sizeof *out;
    if (out->chunk < 1)
        return lpci_error(LPC_E_ARG, WHO ": chunk must be >= 1, got %d", out->chunk);
    if (!(out->min_norm >= 0.0) || !isfinite(out->min_norm))
        return lpci_error(LPC_E_ARG, WHO ": min_norm must be finite and >= 0, got %g",
                          out->min_norm);
    return LPC_OK;
}

static int64_t argmax_except(const float *row, int64_t k, int64_t skip)
{
    int64_t best = -1;
    for (int64_t j = 0; j < k; j++)
        if (j != skip && (best < 0 || row[j] > row[best]))
            best = j;
    return best;
}

/* Forward and backward of one chunk of m samples: norms[0..m) and whether
 * each is correctly classified. */
static lpc_status run_chunk(lpc_module *model, lpc_ctx *ctx, const float *x, int64_t m,
                            int ndim, const int64_t *sample_shape, int64_t d,
                            const int32_t *labels, int64_t base, int32_t *iy, int32_t *ij,
                            double *norms, unsigned char *correct)
{
    lpc_ctx_reset(ctx);
    int64_t shape[4] = {m, sample_shape[1], sample_shape[2], sample_shape[3]};
    lpc_tensor *xt = lpc_tensor_temp(ctx, ndim, shape);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), WHO ": %s", lpc_ctx_error(ctx));
    memcpy(xt->data, x, (size_t)(m * d) * sizeof(float));
    lpc_tensor_set_requires_grad(xt, 1);
    lpc_tensor *y = lpc_module_forward(model, ctx, xt);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), WHO ": model forward failed: %s",
                          lpc_ctx_error(ctx));
    if (y->ndim != 2 || y->shape[0] != m || y->shape[1] < 2) {
        char s[64];
        return lpci_error(LPC_E_SHAPE, WHO ": model output %s is not %lld x K logits with "
                          "K >= 2", lpci_shape_str(y, s, sizeof s), (long long)m);
    }
    int64_t k = y->shape[1];
    for (int64_t i = 0; i < m; i++) {
        const float *row = y->data + i * k;
        if (labels[i] < 0 || labels[i] >= k)
            return lpci_error(LPC_E_ARG, WHO ": label %d of sample %lld is not in [0, %lld)",
                              (int)labels[i], (long long)(base + i), (long long)k);
        for (int64_t j = 0; j < k; j++)
            if (!isfinite(row[j]))
                return lpci_error(LPC_E_NUMERIC, WHO ": the model output for sample %lld is "
                                  "not finite (logit %lld is %g)", (long long)(base + i),
                                  (long long)j, (double)row[j]);
        iy[i] = labels[i];
        ij[i] = (int32_t)argmax_except(row, k, labels[i]);
        correct[i] = row[labels[i]] > row[ij[i]] ||
                     (row[labels[i]] == row[ij[i]] && labels[i] < ij[i]);
    }
    lpc_tensor *margin = lpc_sub(ctx, lpc_sum(ctx, lpc_gather(ctx, y, iy)),
                                 lpc_sum(ctx, lpc_gather(ctx, y, ij)));
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), WHO ": %s", lpc_ctx_error(ctx));
    lpc_status s = lpc_backward(ctx, margin);
    if (s != LPC_OK)
        return lpci_error(s, WHO ": backward through the model failed: %s", lpc_last_error());
    if (!xt->grad)
        return lpci_error(LPC_E_STATE, WHO ": the model output does not depend on its input");
    int64_t bad = -1;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < m; i++) {
        const float *g = xt->grad + i * d;
        double acc = 0.0;
        for (int64_t q = 0; q < d; q++)
            acc += (double)g[q] * g[q];
        norms[i] = sqrt(acc);
        if (!isfinite(acc)) {
#pragma omp critical(lpci_lipschitz_bad)
            if (bad < 0 || i < bad)
                bad = i;
        }
    }
    if (bad >= 0)
        return lpci_error(LPC_E_NUMERIC, WHO ": the margin gradient of sample %lld is not "
                          "finite", (long long)(base + bad));
    return LPC_OK;
}

static lpc_status check_args(lpc_module *model, const float *x, int64_t n, int c, int h, int w,
                             const int32_t *labels, const double *norms,
                             const lpc_lipschitz_summary *summary)
{
    if (!model || !x || !labels)
        return lpci_error(LPC_E_ARG, WHO ": model, x or labels is NULL");
    if (!norms && !summary)
        return lpci_error(LPC_E_ARG, WHO ": norms and summary are both NULL (nothing to "
                          "compute)");
    if (summary && summary->size < sizeof(size_t) + sizeof(int64_t))
        return lpci_error(LPC_E_ARG, WHO ": summary size %zu is too small (set it to sizeof)",
                          summary->size);
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return lpci_error(LPC_E_ARG, WHO ": need n, c, h, w >= 1, got %lld, %d, %d, %d",
                          (long long)n, c, h, w);
    if ((int64_t)c * h > INT64_MAX / w || (int64_t)c * h * w > INT64_MAX / 4 / n)
        return lpci_error(LPC_E_ARG, WHO ": %lld samples of %d x %d x %d are more than "
                          "memory can address", (long long)n, c, h, w);
    if (lpc_module_is_train(model))
        return lpci_error(LPC_E_STATE, WHO ": the model is in training mode; call "
                          "lpc_module_set_train(model, 0) first");
    return LPC_OK;
}

/* Writes the fields of *out that lie within out->size. */
static void write_summary(lpc_lipschitz_summary *out, const lpc_lipschitz_summary *s)
{
    size_t n = out->size < sizeof *s ? out->size : sizeof *s;
    memcpy((char *)out + sizeof out->size, (const char *)s + sizeof s->size,
           n - sizeof out->size);
}

lpc_status lpc_lipschitz_estimate(lpc_module *model, const lpc_samples *samples,
                                  const lpc_lipschitz_estimate_options *opt, double *norms,
                                  lpc_lipschitz_summary *summary)
{
    lpc_status s = lpci_samples_check(WHO, samples, 0);
    if (s != LPC_OK)
        return s;
    const float *x = samples->x;
    const int32_t *labels = samples->labels;
    int64_t n = samples->n;
    int c = samples->c, h = samples->h, w = samples->w;
    lpc_lipschitz_estimate_options o;
    s = check_args(model, x, n, c, h, w, labels, norms, summary);
    if (s == LPC_OK)
        s = read_options(opt, &o);
    if (s != LPC_OK)
        return s;
    int ndim = h == 1 && w == 1 ? 2 : 4;
    int64_t sample_shape[4] = {1, c, h, w}, d = (int64_t)c * h * w;
    int64_t chunk = o.chunk < n ? o.chunk : n;
    lpc_ctx *ctx = lpc_ctx_new();
    double *buf = lpci_malloc((size_t)n * sizeof *buf); /* outputs only on success */
    int32_t *iy = lpci_malloc((size_t)chunk * sizeof *iy);
    int32_t *ij = lpci_malloc((size_t)chunk * sizeof *ij);
    unsigned char *correct = lpci_malloc((size_t)chunk);
    if (!ctx || !buf || !iy || !ij || !correct)
        s = lpci_error(LPC_E_NOMEM, WHO ": out of memory");
    /* Sums in sample order: the result does not depend on the thread count. */
    lpc_lipschitz_summary sum = {.size = sizeof sum};
    for (int64_t s0 = 0; s == LPC_OK && s0 < n; s0 += chunk) {
        int64_t m = n - s0 < chunk ? n - s0 : chunk;
        s = run_chunk(model, ctx, x + s0 * d, m, ndim, sample_shape, d, labels + s0, s0, iy,
                      ij, buf + s0, correct);
        for (int64_t i = 0; s == LPC_OK && i < m; i++) {
            double g = buf[s0 + i];
            if (!(g > o.min_norm))
                continue;
            sum.count++;
            sum.mean += g;
            sum.max = g > sum.max ? g : sum.max;
            if (correct[i]) {
                sum.count_correct++;
                sum.mean_correct += g;
                sum.max_correct = g > sum.max_correct ? g : sum.max_correct;
            }
        }
    }
    if (s == LPC_OK && norms)
        memcpy(norms, buf, (size_t)n * sizeof *norms);
    if (s == LPC_OK && summary) {
        sum.mean = sum.count ? sum.mean / (double)sum.count : 0.0;
        sum.mean_correct = sum.count_correct ? sum.mean_correct / (double)sum.count_correct : 0.0;
        write_summary(summary, &sum);
    }
    lpc_module_zero_grad(model);
    lpc_ctx_free(ctx);
    lpci_free(buf);
    lpci_free(iy);
    lpci_free(ij);
    lpci_free(correct);
    return s;
}
