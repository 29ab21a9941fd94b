/* Streaming accumulator of the feature metrics (analysis.h). Pass 1 keeps,
 * per class c, the count N_c, a shift s_c (the class's first sample) and the
 * shifted sums sum (z - s_c) and sum |z - s_c|^2, plus the P x P scatter
 * S = sum_i (z_i - s_{y_i})(z_i - s_{y_i})^T. With delta_c = mean_c - s_c,
 *   N Sigma_W = S - sum_c N_c delta_c delta_c^T,
 *   N_c V_c   = sum_{i in c} |z_i - s_c|^2 - N_c |delta_c|^2,
 * and both subtractions are of the size of the within-class spread (s_c is a
 * member of the class), so nothing is lost to cancellation when the classes
 * have collapsed. The Sigma_W scalar and the norm CoV use shifted sums the
 * same way. Pass 2 measures R and NC4 against the final means. Batches are
 * summed in sample order (BLIS dgemm for S), so results do not depend on the
 * thread count. */
#include <blis.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "nc_internal.h"

#define ROW_CHUNK 256

typedef struct { /* shifted first and second moments of a scalar series */
    double shift, sum, sq;
    int64_t n;
} shifted;

static void shifted_add(shifted *m, double x)
{
    if (m->n == 0)
        m->shift = x;
    m->sum += x - m->shift;
    m->sq += (x - m->shift) * (x - m->shift);
    m->n++;
}

/* Sum of squared deviations from the mean. */
static double shifted_ss(const shifted *m)
{
    double ss = m->sq - m->sum * m->sum / (double)m->n;
    return ss > 0.0 ? ss : 0.0;
}

struct lpc_feature_stream {
    int p, k, pass; /* pass: 0 = first, 1 = second, 2 = done */
    unsigned flags;
    int with_pred;  /* -1 unknown until the first batch, then 0 / 1 */
    float *w, *b;
    int64_t n, n2, *counts, *counts2;
    int *seen;      /* per class: shift set */
    double *shift, *sum, *sq, *scatter, *chunk; /* k x p, k x p, k, p x p, ROW_CHUNK x p */
    shifted norm, *rowsum; /* latent norms; per-membership-class row sums (k) */
    double *means;  /* k x p, after pass 1 */
    lpc_nc nc;
    lpc_status nc_status, sigma_status, cov_status;
    char nc_why[256];       /* lpc_last_error() of a failed NC computation */
    double sigma_w, norm_cov, r_sum;
    int64_t differ;
};

lpc_status lpc_feature_stream_new(int p, int k, const float *w, const float *b, unsigned flags,
                                  lpc_feature_stream **out)
{
    const char *fn = "lpc_feature_stream_new";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    *out = NULL;
    if (p < 1 || k < 2)
        return lpci_error(LPC_E_ARG, "%s: needs p >= 1 and k >= 2, got p = %d, k = %d", fn, p, k);
    if (flags & ~LPC_NC_CUTOFF_P)
        return lpci_error(LPC_E_ARG, "%s: flags 0x%x: only LPC_NC_CUTOFF_P is supported when "
                          "streaming", fn, flags);
    lpc_status s = lpci_nc_check_optional(fn, w, b, k, p, NULL, 0);
    if (s == LPC_OK)
        s = lpci_check_matrix_sizes(fn, k, p, 1);
    if (s != LPC_OK)
        return s;
    size_t kp = (size_t)k * (size_t)p;
    lpc_feature_stream *st = lpci_calloc(1, sizeof *st);
    if (!st)
        return lpci_error(LPC_E_NOMEM, "%s: no memory", fn);
    st->p = p;
    st->k = k;
    st->flags = flags;
    st->with_pred = -1;
    st->counts = lpci_calloc((size_t)k, sizeof *st->counts);
    st->counts2 = lpci_calloc((size_t)k, sizeof *st->counts2);
    st->seen = lpci_calloc((size_t)k, sizeof *st->seen);
    st->shift = lpci_calloc(kp, sizeof *st->shift);
    st->sum = lpci_calloc(kp, sizeof *st->sum);
    st->sq = lpci_calloc((size_t)k, sizeof *st->sq);
    st->scatter = lpci_calloc((size_t)p * (size_t)p, sizeof *st->scatter);
    st->chunk = lpci_malloc((size_t)ROW_CHUNK * (size_t)p * sizeof *st->chunk);
    st->rowsum = lpci_calloc((size_t)k, sizeof *st->rowsum);
    st->means = lpci_calloc(kp, sizeof *st->means);
    int ok = st->counts && st->counts2 && st->seen && st->shift && st->sum && st->sq &&
             st->scatter && st->chunk && st->rowsum && st->means;
    if (ok && w && (ok = (st->w = lpci_malloc(kp * sizeof *st->w)) != NULL))
        memcpy(st->w, w, kp * sizeof *st->w);
    if (ok && b && (ok = (st->b = lpci_malloc((size_t)k * sizeof *st->b)) != NULL))
        memcpy(st->b, b, (size_t)k * sizeof *st->b);
    if (!ok) {
        lpc_feature_stream_free(st);
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d classes x %d features", fn, k, p);
    }
    *out = st;
    return LPC_OK;
}

/* Class of sample i for the Sigma_W scalar. */
static int member(const lpc_feature_stream *st, const float *zi, const int32_t *labels,
                  const int32_t *predictions, int64_t i)
{
    if (predictions)
        return predictions[i];
    return st->w ? lpci_nc_argmax(zi, st->p, st->k, st->w, st->b) : labels[i];
}

static void first_pass(lpc_feature_stream *st, const float *z, int64_t n, const int32_t *labels,
                       const int32_t *predictions)
{
    int p = st->p;
    for (int64_t r0 = 0; r0 < n; r0 += ROW_CHUNK) {
        int64_t rows = n - r0 < ROW_CHUNK ? n - r0 : ROW_CHUNK;
        for (int64_t i = r0; i < r0 + rows; i++) {
            const float *zi = z + i * p;
            int c = labels[i];
            double *sh = st->shift + (size_t)c * p, *sm = st->sum + (size_t)c * p;
            double *d = st->chunk + (i - r0) * p, d2 = 0.0, n2 = 0.0, row = 0.0;
            if (!st->seen[c]) {
                for (int j = 0; j < p; j++)
                    sh[j] = zi[j];
                st->seen[c] = 1;
            }
            for (int j = 0; j < p; j++) {
                d[j] = zi[j] - sh[j];
                sm[j] += d[j];
                d2 += d[j] * d[j];
                n2 += (double)zi[j] * zi[j];
                row += zi[j];
            }
            st->sq[c] += d2;
            st->counts[c]++;
            shifted_add(&st->norm, sqrt(n2));
            shifted_add(&st->rowsum[member(st, zi, labels, predictions, i)], row);
        }
        double one = 1.0;
        bli_dgemm(BLIS_TRANSPOSE, BLIS_NO_TRANSPOSE, p, p, (dim_t)rows, &one, st->chunk, p, 1,
                  st->chunk, p, 1, &one, st->scatter, p, 1);
    }
    st->n += n;
}

static void second_pass(lpc_feature_stream *st, const float *z, int64_t n, const int32_t *labels,
                        const int32_t *predictions)
{
    int p = st->p, k = st->k;
    for (int64_t i = 0; i < n; i++) {
        const float *zi = z + i * p;
        double own = 0.0, other = INFINITY, best = INFINITY;
        int near = 0;
        for (int c = 0; c < k; c++) {
            double d2 = 0.0;
            for (int j = 0; j < p; j++) {
                double d = zi[j] - st->means[(size_t)c * p + j];
                d2 += d * d;
            }
            if (c == labels[i])
                own = d2;
            else if (d2 < other)
                other = d2;
            if (d2 < best) {
                best = d2;
                near = c;
            }
        }
        st->r_sum += own > 0.0 ? sqrt(other) / sqrt(own) : 0.0;
        if (predictions || st->w) {
            int pred = predictions ? predictions[i] : lpci_nc_argmax(zi, p, k, st->w, st->b);
            st->differ += pred != near;
        }
        st->counts2[labels[i]]++;
    }
    st->n2 += n;
}

lpc_status lpc_feature_stream_add(lpc_feature_stream *st, const float *z, int64_t n,
                                  const int32_t *labels, const int32_t *predictions)
{
    const char *fn = "lpc_feature_stream_add";
    if (!st)
        return lpci_error(LPC_E_ARG, "%s: stream is NULL", fn);
    if (st->pass == 2)
        return lpci_error(LPC_E_STATE, "%s: both passes have ended", fn);
    lpc_status s = lpci_check_features(fn, z, n, st->p);
    if (s == LPC_OK)
        s = lpci_check_classes(fn, labels, n, st->k, 0, NULL);
    if (s == LPC_OK)
        s = lpci_nc_check_optional(fn, NULL, NULL, st->k, st->p, predictions, n);
    if (s != LPC_OK)
        return s;
    if (st->with_pred >= 0 && st->with_pred != (predictions != NULL))
        return lpci_error(LPC_E_STATE, "%s: predictions must come with every batch or with "
                          "none", fn);
    st->with_pred = predictions != NULL;
    if (st->pass == 0)
        first_pass(st, z, n, labels, predictions);
    else
        second_pass(st, z, n, labels, predictions);
    return LPC_OK;
}

/* Means, the moments of lpci_nc_moments and every metric of pass 1. */
static lpc_status end_first_pass(lpc_feature_stream *st)
{
    const char *fn = "lpc_feature_stream_end_pass";
    int p = st->p, k = st->k;
    size_t kp = (size_t)k * (size_t)p;
    for (int c = 0; c < k; c++)
        if (st->counts[c] == 0)
            return lpci_error(LPC_E_NUMERIC, "%s: class %d has no samples", fn, c);
    double *mc = lpci_malloc(kp * sizeof *mc), *global = lpci_calloc((size_t)p, sizeof *global);
    double *t = lpci_malloc(kp * sizeof *t), *a = lpci_malloc((size_t)k * k * sizeof *a);
    double *v = lpci_malloc((size_t)k * sizeof *v);
    lpc_status s = LPC_OK;
    if (!mc || !global || !t || !a || !v) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d x %d means", fn, k, p);
        goto done;
    }
    double nn = (double)st->n, trace_w = 0.0;
    for (int c = 0; c < k; c++) {
        double nc = (double)st->counts[c], dd = 0.0;
        for (int j = 0; j < p; j++) {
            double delta = st->sum[(size_t)c * p + j] / nc;
            st->means[(size_t)c * p + j] = st->shift[(size_t)c * p + j] + delta;
            global[j] += st->means[(size_t)c * p + j] * nc;
            dd += delta * delta;
            /* Sigma_W = (S - sum_c N_c delta_c delta_c^T) / N, in place. */
            for (int l = 0; l < p; l++)
                st->scatter[(size_t)j * p + l] -= delta * st->sum[(size_t)c * p + l];
        }
        v[c] = (st->sq[c] - nc * dd) / nc;
        if (v[c] < 0.0)
            v[c] = 0.0;
    }
    for (int j = 0; j < p; j++)
        trace_w += st->scatter[(size_t)j * p + j] / nn;
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            mc[(size_t)c * p + j] = st->means[(size_t)c * p + j] - global[j] / nn;
    /* A = mc Sigma_W mc^T = (1/N) mc S' mc^T. */
    double one = 1.0, zero = 0.0, inv_n = 1.0 / nn;
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, k, p, p, &inv_n, mc, p, 1, st->scatter, p, 1,
              &zero, t, p, 1);
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, k, k, p, &one, t, p, 1, mc, p, 1, &zero, a, k, 1);
    lpci_nc_moments m = {.k = k, .p = p, .flags = st->flags, .mc = mc, .a = a,
                         .trace_w = trace_w, .class_v = v, .means = st->means, .w = st->w};
    st->nc_status = lpci_nc_from_moments(fn, &m, &st->nc);
    if (st->nc_status != LPC_OK)
        snprintf(st->nc_why, sizeof st->nc_why, "%s", lpc_last_error());
    /* Sigma_W scalar: mean over classes with >= 2 members of var(row sums) / P^2. */
    double total = 0.0;
    int used = 0;
    for (int c = 0; c < k; c++)
        if (st->rowsum[c].n >= 2) {
            total += shifted_ss(&st->rowsum[c]) / (double)(st->rowsum[c].n - 1);
            used++;
        }
    st->sigma_status = used ? LPC_OK : LPC_E_NUMERIC;
    st->sigma_w = used ? total / used / ((double)p * (double)p) : 0.0;
    double mean = st->norm.shift + st->norm.sum / nn;
    st->cov_status = mean > 0.0 ? LPC_OK : LPC_E_NUMERIC;
    st->norm_cov = mean > 0.0 ? sqrt(shifted_ss(&st->norm) / nn) / mean : 0.0;
done:
    lpci_free(mc);
    lpci_free(global);
    lpci_free(t);
    lpci_free(a);
    lpci_free(v);
    return s;
}

lpc_status lpc_feature_stream_end_pass(lpc_feature_stream *st)
{
    const char *fn = "lpc_feature_stream_end_pass";
    if (!st)
        return lpci_error(LPC_E_ARG, "%s: stream is NULL", fn);
    if (st->pass == 2)
        return lpci_error(LPC_E_STATE, "%s: both passes have already ended", fn);
    if (st->pass == 0) {
        if (st->n == 0)
            return lpci_error(LPC_E_STATE, "%s: no batch was added", fn);
        lpc_status s = end_first_pass(st);
        if (s == LPC_OK)
            st->pass = 1;
        return s;
    }
    for (int c = 0; c < st->k; c++)
        if (st->counts2[c] != st->counts[c])
            return lpci_error(LPC_E_STATE, "%s: pass 2 saw %lld samples of class %d, pass 1 %lld",
                              fn, (long long)st->counts2[c], c, (long long)st->counts[c]);
    st->pass = 2;
    if (st->with_pred || st->w) {
        st->nc.value[LPC_NC_NC4] = (double)st->differ / (double)st->n;
        st->nc.have |= 1u << LPC_NC_NC4;
    }
    return LPC_OK;
}

lpc_status lpc_feature_stream_nc(const lpc_feature_stream *st, lpc_nc **out)
{
    const char *fn = "lpc_feature_stream_nc";
    if (!st || !out)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    *out = NULL;
    if (st->pass == 0)
        return lpci_error(LPC_E_STATE, "%s: pass 1 has not ended", fn);
    if (st->nc_status != LPC_OK)
        return lpci_error(st->nc_status, "%s: pass 1: %s", fn, st->nc_why);
    lpc_nc *nc = lpci_malloc(sizeof *nc);
    if (!nc)
        return lpci_error(LPC_E_NOMEM, "%s: no memory", fn);
    *nc = st->nc;
    *out = nc;
    return LPC_OK;
}

lpc_status lpc_feature_stream_get(const lpc_feature_stream *st, lpc_stream_metric m,
                                  double *value)
{
    const char *fn = "lpc_feature_stream_get";
    if (!st || !value)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    switch (m) {
    case LPC_STREAM_R:
        if (st->pass < 2)
            return lpci_error(LPC_E_STATE, "%s: R needs pass 2", fn);
        *value = st->r_sum / (double)st->n;
        return LPC_OK;
    case LPC_STREAM_SIGMA_W:
    case LPC_STREAM_NORM_COV:
        if (st->pass < 1)
            return lpci_error(LPC_E_STATE, "%s: pass 1 has not ended", fn);
        if (m == LPC_STREAM_SIGMA_W && st->sigma_status != LPC_OK)
            return lpci_error(LPC_E_STATE, "%s: Sigma_W is undefined: no class has two members",
                              fn);
        if (m == LPC_STREAM_NORM_COV && st->cov_status != LPC_OK)
            return lpci_error(LPC_E_STATE, "%s: the norm CoV is undefined: every feature "
                              "vector is zero", fn);
        *value = m == LPC_STREAM_SIGMA_W ? st->sigma_w : st->norm_cov;
        return LPC_OK;
    }
    return lpci_error(LPC_E_ARG, "%s: unknown metric %d", fn, (int)m);
}

void lpc_feature_stream_free(lpc_feature_stream *st)
{
    if (!st)
        return;
    lpci_free(st->w);
    lpci_free(st->b);
    lpci_free(st->counts);
    lpci_free(st->counts2);
    lpci_free(st->seen);
    lpci_free(st->shift);
    lpci_free(st->sum);
    lpci_free(st->sq);
    lpci_free(st->scatter);
    lpci_free(st->chunk);
    lpci_free(st->rowsum);
    lpci_free(st->means);
    lpci_free(st);
}
