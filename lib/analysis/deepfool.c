/* DeepFool, LTS4 multi-class variant (doc/method.md §6; see include/lpc/robust.h),
 * batched over samples: per iteration one forward pass of the samples still
 * running, with the input as a temporary requiring grad, then one backward
 * pass per candidate rank j of sum_i logits[i, cand_i[j]]. Samples are
 * independent in evaluation mode, so that sum's input gradient holds every
 * sample's own grad f_{cand_i[j]}. */
#include <math.h>
#include <string.h>
#include "../core/internal.h"

#define DF_CHUNK 256
#define DF_STEP_EPS 1e-4 /* added to every step, as in the LTS4 code */

typedef struct {
    const char *who;
    lpc_module *model;
    int ndim;           /* 2 (N x C) or 4 (N x C x H x W) */
    int64_t shape[4];   /* per-iteration input shape; shape[0] is set per call */
    int64_t d;          /* floats per sample */
    int nc_req, max_iter;
    double os;
    lpc_ctx *ctx;
    int64_t k;          /* logits per sample (0 until the first forward) */
    int nc;             /* candidates per sample */
    double *rtot;       /* DF_CHUNK x d */
    float *grads;       /* nc x DF_CHUNK x d: input gradients per candidate rank */
    int32_t *cand, *idx;
    int64_t *act;
    unsigned char *done;
    int *iters;
} df_state;

/* Allocates the buffers sized by K once the first forward has shown it. */
static lpc_status df_setup(df_state *st, int64_t k)
{
    if (k < 2)
        return lpci_error(LPC_E_SHAPE, "%s: the model gives %lld logit(s) per sample, needs >= 2",
                          st->who, (long long)k);
    st->k = k;
    st->nc = (int)(st->nc_req < k ? st->nc_req : k);
    size_t g;
    if (lpci_mul_size((size_t)st->nc * DF_CHUNK, (size_t)st->d * sizeof(float), &g))
        return lpci_error(LPC_E_ARG, "%s: %d candidate gradients of %lld floats are more than "
                          "memory can address", st->who, st->nc, (long long)st->d);
    st->grads = lpci_malloc(g);
    st->cand = lpci_malloc((size_t)st->nc * DF_CHUNK * sizeof *st->cand);
    if (!st->grads || !st->cand)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for %d candidate gradients", st->who,
                          st->nc);
    return LPC_OK;
}

/* Forward of the `na` running samples at x0 + (1+overshoot) r_tot. */
static lpc_status df_forward(df_state *st, const float *x0, int64_t na, lpc_tensor **xt,
                             lpc_tensor **logits)
{
    lpc_ctx *ctx = st->ctx;
    lpc_ctx_reset(ctx);
    st->shape[0] = na;
    lpc_tensor *x = lpc_tensor_temp(ctx, st->ndim, st->shape);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s: %s", st->who, lpc_ctx_error(ctx));
    int64_t d = st->d;
    double step = 1.0 + st->os;
    for (int64_t b = 0; b < na; b++) {
        int64_t a = st->act[b];
        for (int64_t q = 0; q < d; q++)
            x->data[b * d + q] = (float)(x0[a * d + q] + step * st->rtot[a * d + q]);
    }
    lpc_tensor_set_requires_grad(x, 1);
    lpc_tensor *y = lpc_module_forward(st->model, ctx, x);
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s: model forward failed: %s", st->who,
                          lpc_ctx_error(ctx));
    if (y->ndim != 2 || y->shape[0] != na || (st->k && y->shape[1] != st->k)) {
        char s[64];
        return lpci_error(LPC_E_SHAPE, "%s: model output %s is not %lld x K logits", st->who,
                          lpci_shape_str(y, s, sizeof s), (long long)na);
    }
    *xt = x;
    *logits = y;
    return LPC_OK;
}

static int64_t argmax(const float *row, int64_t k)
{
    int64_t best = 0;
    for (int64_t j = 1; j < k; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Top-nc classes of a row in descending order (lower index first on ties). */
static void top_candidates(const float *row, int64_t k, int nc, int32_t *out)
{
    for (int j = 0; j < nc; j++) {
        int64_t best = -1;
        for (int64_t c = 0; c < k; c++) {
            int taken = 0;
            for (int t = 0; t < j && !taken; t++)
                taken = out[t] == c;
            if (!taken && (best < 0 || row[c] > row[best]))
                best = c;
        }
        out[j] = (int32_t)best;
    }
}

/* One DeepFool step of running sample b (chunk index a): picks the closest
 * candidate boundary and moves r_tot across it. Returns 0 when no candidate
 * gives a direction (all gradients equal the reference's), -1 when a
 * gradient is not finite. */
static int df_step(df_state *st, const float *row, int64_t na, int64_t b, int64_t a)
{
    int64_t d = st->d;
    const int32_t *cd = st->cand + a * st->nc;
    const float *g0 = st->grads + b * d;
    double f0 = row[cd[0]], best = INFINITY, best_norm = 0.0;
    int l = -1;
    for (int j = 1; j < st->nc; j++) {
        const float *gj = st->grads + ((int64_t)j * na + b) * d;
        double s = 0.0;
        for (int64_t q = 0; q < d; q++) {
            double wq = (double)gj[q] - g0[q];
            s += wq * wq;
        }
        if (!isfinite(s))
            return -1;
        double norm = sqrt(s), pert = fabs((double)row[cd[j]] - f0) / norm;
        if (norm > 0.0 && pert < best) {
            best = pert;
            best_norm = norm;
            l = j;
        }
    }
    if (l < 0)
        return 0;
    const float *gl = st->grads + ((int64_t)l * na + b) * d;
    double scale = (best + DF_STEP_EPS) / best_norm;
    for (int64_t q = 0; q < d; q++)
        st->rtot[a * d + q] += scale * ((double)gl[q] - g0[q]);
    return 1;
}

/* The first non-finite logit of the running samples, as an LPC_E_NUMERIC
 * error naming the sample (base: index of the chunk's first sample). */
static lpc_status check_logits(const df_state *st, const float *lg, int64_t na, int64_t base)
{
    for (int64_t b = 0; b < na; b++)
        for (int64_t j = 0; j < st->k; j++)
            if (!isfinite(lg[b * st->k + j]))
                return lpci_error(LPC_E_NUMERIC, "%s: the model output for sample %lld is not "
                                  "finite (logit %lld is %g)", st->who,
                                  (long long)(base + st->act[b]), (long long)j,
                                  (double)lg[b * st->k + j]);
    return LPC_OK;
}

/* Runs the attack on m samples x0 (m <= DF_CHUNK) until each one stops. */
static lpc_status df_chunk(df_state *st, const float *x0, int64_t m, int64_t base)
{
    int64_t d = st->d;
    memset(st->rtot, 0, (size_t)(m * d) * sizeof *st->rtot);
    memset(st->done, 0, (size_t)m);
    memset(st->iters, 0, (size_t)m * sizeof *st->iters);
    for (int it = 0;; it++) {
        int64_t na = 0;
        for (int64_t a = 0; a < m; a++)
            if (!st->done[a])
                st->act[na++] = a;
        if (na == 0)
            return LPC_OK;
        lpc_tensor *xt = NULL, *logits = NULL;
        lpc_status s = df_forward(st, x0, na, &xt, &logits);
        if (s == LPC_OK && st->k == 0)
            s = df_setup(st, logits->shape[1]);
        if (s == LPC_OK)
            s = check_logits(st, logits->data, na, base);
        if (s != LPC_OK)
            return s;
        int64_t k = st->k, pending = 0;
        const float *lg = logits->data;
        for (int64_t b = 0; b < na; b++) {
            int64_t a = st->act[b];
            if (it == 0)
                top_candidates(lg + b * k, k, st->nc, st->cand + a * st->nc);
            else if (argmax(lg + b * k, k) != st->cand[a * st->nc])
                st->done[a] = 1; /* the prediction changed */
            if (!st->done[a] && st->iters[a] >= st->max_iter)
                st->done[a] = 1;
            pending += !st->done[a];
        }
        if (pending == 0)
            continue;
        for (int j = 0; j < st->nc; j++) {
            for (int64_t b = 0; b < na; b++)
                st->idx[b] = st->cand[st->act[b] * st->nc + j];
            lpc_tensor *loss = lpc_sum(st->ctx, lpc_gather(st->ctx, logits, st->idx));
            if (lpc_ctx_status(st->ctx) != LPC_OK)
                return lpci_error(lpc_ctx_status(st->ctx), "%s: %s", st->who,
                                  lpc_ctx_error(st->ctx));
            s = lpc_backward(st->ctx, loss);
            if (s != LPC_OK)
                return lpci_error(s, "%s: backward through the model failed: %s", st->who,
                                  lpc_last_error());
            if (!xt->grad)
                return lpci_error(LPC_E_STATE, "%s: the model output does not depend on its "
                                  "input", st->who);
            memcpy(st->grads + (int64_t)j * na * d, xt->grad, (size_t)(na * d) * sizeof(float));
        }
        int64_t bad = -1; /* a sample whose gradient is not finite */
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t b = 0; b < na; b++) {
            int64_t a = st->act[b];
            if (st->done[a])
                continue;
            int r = df_step(st, lg + b * k, na, b, a);
            if (r > 0)
                st->iters[a]++;
            else
                st->done[a] = 1;
            if (r < 0) {
#pragma omp critical(lpci_deepfool_bad)
                if (bad < 0 || a < bad)
                    bad = a;
            }
        }
        if (bad >= 0)
            return lpci_error(LPC_E_NUMERIC, "%s: the gradient of the model output for sample "
                              "%lld is not finite", st->who, (long long)(base + bad));
    }
}

static lpc_status check_args(const char *who, lpc_module *model, const float *x, int64_t n,
                             int c, int h, int w, int num_candidates, double overshoot,
                             int max_iter)
{
    if (!model || !x)
        return lpci_error(LPC_E_ARG, "%s: model or x is NULL", who);
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return lpci_error(LPC_E_ARG, "%s: need n, c, h, w >= 1, got %lld, %d, %d, %d", who,
                          (long long)n, c, h, w);
    /* A sample is a tensor (at most 2^40 elements); x holds n of them. */
    const int64_t limit = (int64_t)1 << 40;
    if ((int64_t)c * h > limit / w)
        return lpci_error(LPC_E_ARG, "%s: samples of %d x %d x %d have more than 2^40 elements",
                          who, c, h, w);
    if (n > (INT64_MAX / (int64_t)sizeof(float)) / ((int64_t)c * h * w))
        return lpci_error(LPC_E_ARG, "%s: %lld samples of %d x %d x %d exceed the address space",
                          who, (long long)n, c, h, w);
    if (num_candidates < 2)
        return lpci_error(LPC_E_ARG, "%s: num_candidates must be >= 2, got %d", who,
                          num_candidates);
    if (!isfinite(overshoot) || overshoot < 0.0)
        return lpci_error(LPC_E_ARG, "%s: overshoot must be finite and >= 0, got %g", who,
                          overshoot);
    if (max_iter < 1)
        return lpci_error(LPC_E_ARG, "%s: max_iter must be >= 1, got %d", who, max_iter);
    if (lpc_module_is_train(model))
        return lpci_error(LPC_E_STATE, "%s: the model is in training mode; call "
                          "lpc_module_set_train(model, 0) first", who);
    int64_t d = (int64_t)c * h * w;
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t q = 0; q < d; q++)
            s += (double)x[i * d + q] * x[i * d + q];
        if (!isfinite(s) || s == 0.0)
            return lpci_error(LPC_E_NUMERIC, "%s: sample %lld is %s", who, (long long)i,
                              s == 0.0 ? "all zero (its ratio is undefined)" : "not finite");
    }
    return LPC_OK;
}

/* Shared driver: r, iterations, ratios and mean may each be NULL. */
static lpc_status deepfool_run(const char *who, lpc_module *model, const float *x, int64_t n,
                               int c, int h, int w, int num_candidates, double overshoot,
                               int max_iter, float *r, int *iterations, double *ratios,
                               double *mean)
{
    lpc_status s = check_args(who, model, x, n, c, h, w, num_candidates, overshoot, max_iter);
    if (s != LPC_OK)
        return s;
    df_state st = {.who = who, .model = model, .d = (int64_t)c * h * w,
                   .nc_req = num_candidates, .max_iter = max_iter, .os = overshoot};
    if (h == 1 && w == 1) {
        st.ndim = 2;
        st.shape[1] = c;
    } else {
        st.ndim = 4;
        st.shape[1] = c;
        st.shape[2] = h;
        st.shape[3] = w;
    }
    st.ctx = lpc_ctx_new();
    st.rtot = lpci_malloc((size_t)(DF_CHUNK * st.d) * sizeof *st.rtot);
    st.idx = lpci_malloc(DF_CHUNK * sizeof *st.idx);
    st.act = lpci_malloc(DF_CHUNK * sizeof *st.act);
    st.done = lpci_malloc(DF_CHUNK);
    st.iters = lpci_malloc(DF_CHUNK * sizeof *st.iters);
    if (!st.ctx || !st.rtot || !st.idx || !st.act || !st.done || !st.iters)
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    double total = 0.0, step = 1.0 + overshoot;
    for (int64_t s0 = 0; s == LPC_OK && s0 < n; s0 += DF_CHUNK) {
        int64_t m = n - s0 < DF_CHUNK ? n - s0 : DF_CHUNK, d = st.d;
        s = df_chunk(&st, x + s0 * d, m, s0);
        for (int64_t a = 0; s == LPC_OK && a < m; a++) {
            const double *ra = st.rtot + a * d;
            const float *xa = x + (s0 + a) * d;
            double rn = 0.0, xn = 0.0;
            for (int64_t q = 0; q < d; q++) {
                rn += ra[q] * ra[q];
                xn += (double)xa[q] * xa[q];
                if (r)
                    r[(s0 + a) * d + q] = (float)(step * ra[q]);
            }
            double ratio = step * sqrt(rn) / sqrt(xn);
            total += ratio;
            if (ratios)
                ratios[s0 + a] = ratio;
            if (iterations)
                iterations[s0 + a] = st.iters[a];
        }
    }
    if (s == LPC_OK && mean)
        *mean = total / (double)n;
    lpc_module_zero_grad(model);
    lpc_ctx_free(st.ctx);
    lpci_free(st.rtot);
    lpci_free(st.grads);
    lpci_free(st.cand);
    lpci_free(st.idx);
    lpci_free(st.act);
    lpci_free(st.done);
    lpci_free(st.iters);
    return s;
}

lpc_status lpc_deepfool(lpc_module *model, const float *x, int64_t n, int c, int h, int w,
                        int num_candidates, double overshoot, int max_iter, double *ratios,
                        double *mean_ratio)
{
    if (!mean_ratio)
        return lpci_error(LPC_E_ARG, "lpc_deepfool: mean_ratio is NULL");
    return deepfool_run("lpc_deepfool", model, x, n, c, h, w, num_candidates, overshoot,
                        max_iter, NULL, NULL, ratios, mean_ratio);
}

lpc_status lpc_deepfool_perturb(lpc_module *model, const float *x, int64_t n, int c, int h,
                                int w, int num_candidates, double overshoot, int max_iter,
                                float *r, int *iterations)
{
    if (!r)
        return lpci_error(LPC_E_ARG, "lpc_deepfool_perturb: r is NULL");
    return deepfool_run("lpc_deepfool_perturb", model, x, n, c, h, w, num_candidates, overshoot,
                        max_iter, r, iterations, NULL, NULL);
}
