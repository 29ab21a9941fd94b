/* Shared parts of the attacks (see attack_internal.h): enum names, argument
 * checks, the domain, batched evaluation with input gradients, norms and
 * projections, the per-sample generator. */
#include <math.h>
#include <string.h>
#include "attack_internal.h"

#define LPCA_PIXEL_SLACK 1e-3 /* clean pixels this far outside [0,1] are clipped */

const char *lpc_attack_norm_name(lpc_attack_norm norm)
{
    switch (norm) {
    case LPC_ATTACK_L2: return "l2";
    case LPC_ATTACK_LINF: return "linf";
    }
    return NULL;
}

const char *lpc_attack_domain_name(lpc_attack_domain domain)
{
    switch (domain) {
    case LPC_ATTACK_DOMAIN_NORMALISED: return "normalised";
    case LPC_ATTACK_DOMAIN_PIXEL_BOX: return "pixel-box";
    }
    return NULL;
}

const char *lpc_attack_loss_name(lpc_attack_loss loss)
{
    switch (loss) {
    case LPC_ATTACK_LOSS_CROSS_ENTROPY: return "cross-entropy";
    case LPC_ATTACK_LOSS_MARGIN: return "margin";
    }
    return NULL;
}

const char *lpc_attack_schedule_name(lpc_attack_schedule schedule)
{
    switch (schedule) {
    case LPC_ATTACK_STEP_CONSTANT: return "constant";
    case LPC_ATTACK_STEP_COSINE: return "cosine";
    }
    return NULL;
}

lpc_status lpca_options(const char *who, void *dst, size_t dst_size, const void *src,
                        size_t src_size)
{
    if (src_size < sizeof(size_t))
        return lpci_error(LPC_E_ARG, "%s: options.size is %zu; set the options with their "
                          "_options_init first", who, src_size);
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
    *(size_t *)dst = dst_size;
    return LPC_OK;
}

lpc_status lpca_check_norm(const char *who, lpc_attack_norm norm)
{
    if (!lpc_attack_norm_name(norm))
        return lpci_error(LPC_E_ARG, "%s: unknown norm %d", who, (int)norm);
    return LPC_OK;
}

lpc_status lpca_check_domain(const char *who, lpc_attack_domain domain, int c, const float *mean,
                             const float *std)
{
    if (!lpc_attack_domain_name(domain))
        return lpci_error(LPC_E_ARG, "%s: unknown domain %d", who, (int)domain);
    if (domain != LPC_ATTACK_DOMAIN_PIXEL_BOX)
        return LPC_OK;
    if (!mean || !std)
        return lpci_error(LPC_E_ARG, "%s: the pixel domain needs mean and std (%d entries each)",
                          who, c);
    for (int ch = 0; ch < c; ch++)
        if (!isfinite(mean[ch]) || !isfinite(std[ch]) || !(std[ch] > 0.0f))
            return lpci_error(LPC_E_ARG, "%s: channel %d has mean %g and std %g; need finite "
                              "values and std > 0", who, ch, (double)mean[ch], (double)std[ch]);
    return LPC_OK;
}

lpc_status lpca_radii_args(const char *who, const lpc_samples *samples, const double *radii,
                           int num_radii, const lpc_pgd_outputs *out, lpc_pgd_outputs *ov)
{
    lpc_status s = lpci_samples_check(who, samples, 0);
    if (s == LPC_OK)
        s = lpci_outputs_read(who, ov, sizeof *ov, out);
    if (s != LPC_OK)
        return s;
    if (!ov->robust_accuracy)
        return lpci_error(LPC_E_ARG, "%s: outputs.robust_accuracy is NULL", who);
    if (!radii || num_radii < 1)
        return lpci_error(LPC_E_ARG, "%s: need radii and num_radii >= 1, got %s and %d", who,
                          radii ? "radii" : "NULL", num_radii);
    for (int r = 0; r < num_radii; r++)
        if (!isfinite(radii[r]) || radii[r] < 0.0)
            return lpci_error(LPC_E_ARG, "%s: radius %d is %g; need finite and >= 0", who, r,
                              radii[r]);
    return LPC_OK;
}

void lpca_close(lpca_attack *a)
{
    if (a->model)
        lpc_module_zero_grad(a->model);
    lpc_ctx_free(a->ctx);
    lpci_free(a->scale);
    lpci_free(a->offset);
    lpci_free(a->logits);
    lpci_free(a->grad);
    lpci_free(a->idx);
    lpci_free(a->p0);
    lpci_free(a->y);
    memset(a, 0, sizeof *a);
}

lpc_status lpca_open(lpca_attack *a, const char *who, lpc_module *model, const float *x,
                     int64_t n, int c, int h, int w, lpc_attack_domain domain, const float *mean,
                     const float *std, int nonzero)
{
    memset(a, 0, sizeof *a);
    if (!model || !x)
        return lpci_error(LPC_E_ARG, "%s: model or x is NULL", who);
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return lpci_error(LPC_E_ARG, "%s: need n, c, h, w >= 1, got %lld, %d, %d, %d", who,
                          (long long)n, c, h, w);
    size_t bytes;
    if (lpci_mul_size((size_t)c * (size_t)h, (size_t)w, &bytes) ||
        lpci_mul_size(bytes, LPCA_CHUNK * sizeof(double), &bytes) ||
        lpci_mul_size((size_t)n, (size_t)c * (size_t)h * (size_t)w, &(size_t){0}))
        return lpci_error(LPC_E_ARG, "%s: %lld samples of %d x %d x %d floats are more than "
                          "memory can address", who, (long long)n, c, h, w);
    lpc_status s = lpca_check_domain(who, domain, c, mean, std);
    if (s != LPC_OK)
        return s;
    if (lpc_module_is_train(model))
        return lpci_error(LPC_E_STATE, "%s: the model is in training mode; call "
                          "lpc_module_set_train(model, 0) first", who);
    a->who = who;
    a->model = model;
    a->c = c;
    a->hw = (int64_t)h * w;
    a->d = c * a->hw;
    a->box = domain == LPC_ATTACK_DOMAIN_PIXEL_BOX;
    a->ndim = h == 1 && w == 1 ? 2 : 4;
    a->shape[1] = c;
    a->shape[2] = h;
    a->shape[3] = w;
    a->ctx = lpc_ctx_new();
    a->scale = lpci_malloc((size_t)c * sizeof *a->scale);
    a->offset = lpci_malloc((size_t)c * sizeof *a->offset);
    a->grad = lpci_malloc(bytes);
    a->p0 = lpci_malloc(bytes);
    a->idx = lpci_malloc(2 * LPCA_CHUNK * sizeof *a->idx);
    a->y = lpci_malloc(LPCA_CHUNK * sizeof *a->y);
    if (!a->ctx || !a->scale || !a->offset || !a->grad || !a->p0 || !a->idx || !a->y) {
        lpca_close(a);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    }
    for (int ch = 0; ch < c; ch++) {
        a->scale[ch] = a->box ? std[ch] : 1.0;
        a->offset[ch] = a->box ? mean[ch] : 0.0;
    }
    /* Every sample must be finite, (pixel domain) in the box and, where
     * ratios are asked for, non-zero. */
    for (int64_t i = 0; i < n; i++) {
        double sq = 0.0;
        for (int64_t q = 0; q < a->d; q++) {
            int ch = (int)(q / a->hw);
            double p = x[i * a->d + q] * a->scale[ch] + a->offset[ch];
            if (a->box && isfinite(p) && (p < -LPCA_PIXEL_SLACK || p > 1.0 + LPCA_PIXEL_SLACK)) {
                lpca_close(a);
                return lpci_error(LPC_E_ARG, "%s: sample %lld feature %lld is pixel %g, outside "
                                  "[0,1]: mean and std do not match the data", who, (long long)i,
                                  (long long)q, p);
            }
            sq += p * p;
        }
        if (!isfinite(sq) || (nonzero && sq == 0.0)) {
            lpca_close(a);
            return lpci_error(LPC_E_NUMERIC, "%s: sample %lld is %s", who, (long long)i,
                              sq == 0.0 ? "all zero (its ratio is undefined)" : "not finite");
        }
    }
    return LPC_OK;
}

lpc_status lpca_chunk(lpca_attack *a, const float *x, const int32_t *labels, int64_t base,
                      int64_t m)
{
    int64_t d = a->d;
    for (int64_t b = 0; b < m; b++)
        for (int64_t q = 0; q < d; q++) {
            int ch = (int)(q / a->hw);
            double p = x[(base + b) * d + q] * a->scale[ch] + a->offset[ch];
            a->p0[b * d + q] = a->box ? fmin(fmax(p, 0.0), 1.0) : p;
        }
    int64_t act[LPCA_CHUNK];
    for (int64_t b = 0; b < m; b++) {
        act[b] = b;
        a->y[b] = 0;
    }
    lpc_status s = lpca_eval(a, a->p0, act, m, LPCA_LOSS_NONE, base);
    if (s != LPC_OK)
        return s;
    for (int64_t b = 0; b < m; b++) {
        const float *row = a->logits + b * a->k;
        if (!labels) {
            int64_t best = 0;
            for (int64_t j = 1; j < a->k; j++)
                if (row[j] > row[best])
                    best = j;
            a->y[b] = (int32_t)best;
        } else if (labels[base + b] < 0 || labels[base + b] >= a->k) {
            return lpci_error(LPC_E_ARG, "%s: label %lld is %d, outside [0, %lld)", a->who,
                              (long long)(base + b), (int)labels[base + b], (long long)a->k);
        } else {
            a->y[b] = labels[base + b];
        }
    }
    return LPC_OK;
}

/* The forward pass at p; sets *xt (the model input) and *out (logits). */
static lpc_status forward(lpca_attack *a, const double *p, int64_t na, int grad,
                          lpc_tensor **xt, lpc_tensor **out)
{
    lpc_ctx *ctx = a->ctx;
    lpc_ctx_reset(ctx);
    lpc_ctx_set_grad(ctx, grad);
    a->shape[0] = na;
    lpc_tensor *x = lpc_tensor_temp(ctx, a->ndim, a->shape);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s: %s", a->who, lpc_ctx_error(ctx));
    int64_t d = a->d;
    for (int64_t b = 0; b < na; b++)
        for (int64_t q = 0; q < d; q++) {
            int ch = (int)(q / a->hw);
            x->data[b * d + q] = (float)((p[b * d + q] - a->offset[ch]) / a->scale[ch]);
        }
    if (grad)
        lpc_tensor_set_requires_grad(x, 1);
    lpc_tensor *y = lpc_module_forward(a->model, ctx, x);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s: model forward failed: %s", a->who,
                          lpc_ctx_error(ctx));
    if (y->ndim != 2 || y->shape[0] != na || (a->k && y->shape[1] != a->k)) {
        char s[64];
        return lpci_error(LPC_E_SHAPE, "%s: model output %s is not %lld x K logits", a->who,
                          lpci_shape_str(y, s, sizeof s), (long long)na);
    }
    if (!a->k) {
        if (y->shape[1] < 2)
            return lpci_error(LPC_E_SHAPE, "%s: the model gives %lld logit(s) per sample, "
                              "needs >= 2", a->who, (long long)y->shape[1]);
        a->logits = lpci_malloc((size_t)(LPCA_CHUNK * y->shape[1]) * sizeof *a->logits);
        if (!a->logits)
            return lpci_error(LPC_E_NOMEM, "%s: out of memory for logits", a->who);
        a->k = y->shape[1];
    }
    *xt = x;
    *out = y;
    return LPC_OK;
}

lpc_status lpca_eval(lpca_attack *a, const double *p, const int64_t *act, int64_t na,
                     lpca_loss loss, int64_t base)
{
    lpc_tensor *xt, *y;
    lpc_status s = forward(a, p, na, loss != LPCA_LOSS_NONE, &xt, &y);
    if (s != LPC_OK)
        return s;
    int64_t k = a->k, d = a->d;
    for (int64_t b = 0; b < na; b++)
        for (int64_t j = 0; j < k; j++)
            if (!isfinite(y->data[b * k + j]))
                return lpci_error(LPC_E_NUMERIC, "%s: the model output for sample %lld is not "
                                  "finite (logit %lld is %g)", a->who,
                                  (long long)(base + act[b]), (long long)j,
                                  (double)y->data[b * k + j]);
    memcpy(a->logits, y->data, (size_t)(na * k) * sizeof *a->logits);
    if (loss == LPCA_LOSS_NONE)
        return LPC_OK;
    lpc_ctx *ctx = a->ctx;
    int32_t *ys = a->idx, *js = a->idx + LPCA_CHUNK;
    for (int64_t b = 0; b < na; b++) {
        ys[b] = a->y[act[b]];
        lpca_margin(a->logits + b * k, k, ys[b], &js[b]);
    }
    lpc_tensor *l;
    if (loss == LPCA_LOSS_MARGIN)
        l = lpc_sub(ctx, lpc_sum(ctx, lpc_gather(ctx, y, js)), lpc_sum(ctx, lpc_gather(ctx, y, ys)));
    else /* the mean over samples times their number: each sample's own loss */
        l = lpc_scale(ctx, lpc_cross_entropy(ctx, y, ys), (float)na);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s: %s", a->who, lpc_ctx_error(ctx));
    s = lpc_backward(ctx, l);
    if (s != LPC_OK)
        return lpci_error(s, "%s: backward through the model failed: %s", a->who,
                          lpc_last_error());
    if (!xt->grad)
        return lpci_error(LPC_E_STATE, "%s: the model output does not depend on its input",
                          a->who);
    int64_t bad = -1;
    for (int64_t b = 0; b < na; b++)
        for (int64_t q = 0; q < d; q++) {
            double g = xt->grad[b * d + q] / a->scale[q / a->hw];
            if (!isfinite(g) && bad < 0)
                bad = act[b];
            a->grad[b * d + q] = g;
        }
    if (bad >= 0)
        return lpci_error(LPC_E_NUMERIC, "%s: the gradient of the model output for sample "
                          "%lld is not finite", a->who, (long long)(base + bad));
    return LPC_OK;
}

int lpca_wrong(const float *row, int64_t k, int32_t y)
{
    int64_t best = 0;
    for (int64_t j = 1; j < k; j++)
        if (row[j] > row[best])
            best = j;
    return best != y;
}

double lpca_margin(const float *row, int64_t k, int32_t y, int32_t *j)
{
    int64_t best = -1;
    for (int64_t c = 0; c < k; c++)
        if (c != y && (best < 0 || row[c] > row[best]))
            best = c;
    if (j)
        *j = (int32_t)best;
    return (double)row[y] - row[best];
}

double lpca_norm(const double *v, int64_t d, lpc_attack_norm norm)
{
    double s = 0.0;
    if (norm == LPC_ATTACK_LINF) {
        for (int64_t q = 0; q < d; q++)
            s = fmax(s, fabs(v[q]));
        return s;
    }
    for (int64_t q = 0; q < d; q++)
        s += v[q] * v[q];
    return sqrt(s);
}

void lpca_project(const lpca_attack *a, const double *p0, double *delta, double eps,
                  lpc_attack_norm norm)
{
    int64_t d = a->d;
    if (norm == LPC_ATTACK_LINF) {
        for (int64_t q = 0; q < d; q++)
            delta[q] = fmin(fmax(delta[q], -eps), eps);
    } else {
        double n2 = lpca_norm(delta, d, LPC_ATTACK_L2);
        if (n2 > eps) {
            double f = eps / n2;
            for (int64_t q = 0; q < d; q++)
                delta[q] *= f;
        }
    }
    if (a->box)
        for (int64_t q = 0; q < d; q++)
            delta[q] = fmin(fmax(p0[q] + delta[q], 0.0), 1.0) - p0[q];
}

/* splitmix64 (Steele et al. 2014). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lpca_rng_init(lpca_rng *r, uint64_t seed, int64_t sample, uint64_t stream)
{
    r->s = mix64(mix64(mix64(seed) ^ (uint64_t)sample) ^ stream);
}

static uint64_t next64(lpca_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return mix64(r->s);
}

double lpca_uniform(lpca_rng *r)
{
    return (double)(next64(r) >> 11) * 0x1.0p-53;
}

double lpca_normal(lpca_rng *r)
{
    double u = 1.0 - lpca_uniform(r), v = lpca_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

uint64_t lpca_below(lpca_rng *r, uint64_t n)
{
    return (uint64_t)(lpca_uniform(r) * (double)n) % n;
}
