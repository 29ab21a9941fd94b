/* Generalized collapse measures (include/lpc/analysis.h):
 *  - GNC2, hyperspherical uniformity of the normalised centred class means
 *    under the logarithmic and Riesz s-energy kernels: Liu, Yu, Weller &
 *    Schoelkopf 2023, "Generalizing and decoupling neural collapse via
 *    hyperspherical uniformity gap", arXiv:2303.06484; as kernel_stats of
 *    rhubarbwu/neural-collapse (log_kernel with exponent -1, riesz_kernel
 *    with s = P - 2), mean and population variance over the pairs c < c';
 *  - equinorm of the logarithmic norms: Wu & Papyan 2024, "Linguistic
 *    collapse", arXiv:2405.17767 (the variance of log |mu_c - mu_G| that
 *    their analysis reports, torch's default ddof = 1);
 *  - weak NC1, the normalised between- and within-class variances:
 *    Rangamani et al. 2023, ICML, PMLR 202 (nc_toolbox's nc1_weak).
 *
 * The K(K-1)/2 pairs are visited in tiles of TILE x TILE classes: each tile
 * takes its squared distances from a GEMM of the unit means (near pairs
 * recomputed from the differences), keeps its kernel values, reduces them
 * to a count, mean and sum of squared deviations, and the tiles are merged
 * with Chan et al.'s pairwise update, tile rows in a fixed order, so memory
 * stays O(K P + TILE^2 threads) and the result does not depend on the
 * thread count. */
#include <blis.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include "analysis_internal.h"

#define TILE 128
/* Squared distances below this are recomputed from coordinate differences:
 * 2 - 2 cos loses the digits that a near pair's distance has. */
#define NEAR 1e-2

struct lpc_gnc {
    double value[LPC_GNC_METRIC_COUNT];
    int riesz_finite; /* the Riesz statistics fit in double */
};

const char *lpc_gnc_metric_name(lpc_gnc_metric m)
{
    switch (m) {
    case LPC_GNC_LOG_MEAN: return "log_mean";
    case LPC_GNC_LOG_VAR: return "log_var";
    case LPC_GNC_RIESZ_MEAN: return "riesz_mean";
    case LPC_GNC_RIESZ_VAR: return "riesz_var";
    case LPC_GNC_LOG_EQUINORM: return "log_equinorm";
    case LPC_GNC_WEAK_NC1_BETWEEN: return "weak_nc1_between";
    case LPC_GNC_WEAK_NC1_WITHIN: return "weak_nc1_within";
    }
    return NULL;
}

static double dot(const double *x, const double *y, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += x[j] * y[j];
    return s;
}

/* Count, mean and sum of squared deviations of a set of values. */
typedef struct {
    double n, mean, m2;
} moments;

static moments merge(moments a, moments b)
{
    if (a.n == 0.0)
        return b;
    if (b.n == 0.0)
        return a;
    double n = a.n + b.n, delta = b.mean - a.mean;
    return (moments){n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
}

static moments of_values(const double *x, int n)
{
    moments m = {n, 0.0, 0.0};
    for (int i = 0; i < n; i++)
        m.mean += x[i];
    m.mean /= n;
    for (int i = 0; i < n; i++)
        m.m2 += (x[i] - m.mean) * (x[i] - m.mean);
    return m;
}

/* Both kernels over the pairs of tile row ti (with every tile column tj >= ti)
 * of the k x p unit vectors u (sq: their squared norms). The squared
 * distances come from a GEMM of the two tiles, sq_i + sq_j - 2 u_i . u_j,
 * and near pairs from the differences. gram: TILE x TILE scratch. Returns 0
 * when two vectors coincide. */
static int tile_row(const double *u, const double *sq, int k, int p, int ti, double s,
                    double *gram, double *lg, double *rz, moments *log_m, moments *riesz_m)
{
    int i0 = ti * TILE, i1 = i0 + TILE < k ? i0 + TILE : k;
    double sign = s < 0.0 ? -1.0 : 1.0, one = 1.0, zero = 0.0;
    moments lm = {0, 0, 0}, rm = {0, 0, 0};
    for (int j0 = i0; j0 < k; j0 += TILE) {
        int j1 = j0 + TILE < k ? j0 + TILE : k, cnt = 0;
        bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, i1 - i0, j1 - j0, p, &one,
                  (double *)u + (size_t)i0 * p, p, 1, (double *)u + (size_t)j0 * p, p, 1, &zero,
                  gram, TILE, 1);
        for (int i = i0; i < i1; i++)
            for (int j = (j0 > i + 1 ? j0 : i + 1); j < j1; j++) {
                double d2 = sq[i] + sq[j] - 2.0 * gram[(size_t)(i - i0) * TILE + (j - j0)];
                if (d2 < NEAR) {
                    const double *a = u + (size_t)i * p, *b = u + (size_t)j * p;
                    d2 = 0.0;
                    for (int e = 0; e < p; e++)
                        d2 += (a[e] - b[e]) * (a[e] - b[e]);
                }
                if (!(d2 > 0.0))
                    return 0;
                double dist = sqrt(d2);
                lg[cnt] = -log(dist);
                rz[cnt++] = sign * pow(dist, -s);
            }
        if (cnt > 0) {
            lm = merge(lm, of_values(lg, cnt));
            rm = merge(rm, of_values(rz, cnt));
        }
    }
    *log_m = lm;
    *riesz_m = rm;
    return 1;
}

/* Kernel statistics of the unit vectors u (k x p, k >= 2). */
static lpc_status kernels(const char *fn, const double *u, int k, int p, lpc_gnc *g)
{
    int tiles = (k + TILE - 1) / TILE, threads = lpci_threads();
    moments *rows = lpci_malloc((size_t)tiles * 2 * sizeof *rows);
    double *buf = lpci_malloc((size_t)threads * 3 * TILE * TILE * sizeof *buf);
    double *sq = lpci_malloc((size_t)k * sizeof *sq);
    if (!rows || !buf || !sq) {
        lpci_free(rows);
        lpci_free(buf);
        lpci_free(sq);
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d tile rows", fn, tiles);
    }
    for (int c = 0; c < k; c++)
        sq[c] = dot(u + (size_t)c * p, u + (size_t)c * p, p);
    int ok = 1;
    double s = (double)p - 2.0;
#pragma omp parallel num_threads(threads)
    {
        double *gram = buf + (size_t)omp_get_thread_num() * 3 * TILE * TILE;
        double *lg = gram + TILE * TILE, *rz = lg + TILE * TILE;
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tiles; t++)
            if (!tile_row(u, sq, k, p, t, s, gram, lg, rz, rows + 2 * (size_t)t,
                          rows + 2 * (size_t)t + 1)) {
#pragma omp atomic write
                ok = 0;
            }
    }
    lpci_free(buf);
    lpci_free(sq);
    if (!ok) {
        lpci_free(rows);
        return lpci_error(LPC_E_NUMERIC, "%s: two normalised class means coincide (the log and "
                          "Riesz kernels are infinite)", fn);
    }
    moments lm = {0, 0, 0}, rm = {0, 0, 0};
    for (int t = 0; t < tiles; t++) {
        lm = merge(lm, rows[2 * (size_t)t]);
        rm = merge(rm, rows[2 * (size_t)t + 1]);
    }
    lpci_free(rows);
    g->value[LPC_GNC_LOG_MEAN] = lm.mean;
    g->value[LPC_GNC_LOG_VAR] = lm.m2 / lm.n;
    g->value[LPC_GNC_RIESZ_MEAN] = rm.mean;
    g->value[LPC_GNC_RIESZ_VAR] = rm.m2 / rm.n;
    g->riesz_finite = isfinite(rm.mean) && isfinite(g->value[LPC_GNC_RIESZ_VAR]);
    return LPC_OK;
}

lpc_status lpc_gnc_compute(const float *z, int64_t n, int p, const int32_t *labels, int k,
                           lpc_gnc **out)
{
    const char *fn = "lpc_gnc_compute";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (k < 2)
        return lpci_error(LPC_E_ARG, "%s: %d classes (need >= 2)", fn, k);
    int used;
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s == LPC_OK)
        s = lpci_label_span(fn, labels, n, k, 1, &used);
    if (s != LPC_OK)
        return s;
    size_t kp;
    if (lpci_mul_size((size_t)k, (size_t)p, &kp) || lpci_mul_size(kp, sizeof(double), &kp))
        return lpci_error(LPC_E_ARG, "%s: K x P = %d x %d is too large", fn, k, p);
    lpc_gnc *g = lpci_calloc(1, sizeof *g);
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *means = lpci_malloc(kp), *mu = lpci_calloc((size_t)p, sizeof *mu);
    double *norms = lpci_malloc((size_t)k * sizeof *norms);
    if (!g || !counts || !means || !mu || !norms) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d x %d class means", fn, k, p);
        goto done;
    }
    s = lpci_check_classes(fn, labels, n, k, 1, counts);
    if (s != LPC_OK)
        goto done;
    lpci_class_means(z, n, p, labels, k, counts, means);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            mu[j] += z[i * p + j];
    for (int j = 0; j < p; j++)
        mu[j] /= (double)n;
    double trace_w = 0.0, trace_b = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double *m = means + (size_t)labels[i] * p;
        for (int j = 0; j < p; j++)
            trace_w += (z[i * p + j] - m[j]) * (z[i * p + j] - m[j]);
    }
    trace_w /= (double)n;
    /* Centre and normalise the means in place; keep the log norms. */
    for (int c = 0; c < k; c++) {
        double *m = means + (size_t)c * p, sq = 0.0;
        for (int j = 0; j < p; j++) {
            m[j] -= mu[j];
            sq += m[j] * m[j];
        }
        if (!(sq > 0.0)) {
            s = lpci_error(LPC_E_NUMERIC, "%s: the mean of class %d equals the global mean", fn, c);
            goto done;
        }
        trace_b += sq;
        double nm = sqrt(sq);
        norms[c] = log(nm);
        for (int j = 0; j < p; j++)
            m[j] /= nm;
    }
    trace_b /= k;
    moments eq = of_values(norms, k);
    g->value[LPC_GNC_LOG_EQUINORM] = eq.m2 / (k - 1);
    g->value[LPC_GNC_WEAK_NC1_BETWEEN] = trace_b / (trace_b + trace_w);
    g->value[LPC_GNC_WEAK_NC1_WITHIN] = trace_w / (trace_b + trace_w);
    s = kernels(fn, means, k, p, g);
done:
    lpci_free(counts);
    lpci_free(means);
    lpci_free(mu);
    lpci_free(norms);
    if (s != LPC_OK) {
        lpci_free(g);
        return s;
    }
    *out = g;
    return LPC_OK;
}

lpc_status lpc_gnc_get(const lpc_gnc *g, lpc_gnc_metric m, double *value)
{
    const char *fn = "lpc_gnc_get";
    if (!g || !value)
        return lpci_error(LPC_E_ARG, "%s: NULL %s", fn, g ? "value" : "handle");
    if (!lpc_gnc_metric_name(m))
        return lpci_error(LPC_E_ARG, "%s: unknown metric %d", fn, (int)m);
    if ((m == LPC_GNC_RIESZ_MEAN || m == LPC_GNC_RIESZ_VAR) && !g->riesz_finite)
        return lpci_error(LPC_E_NUMERIC, "%s: the Riesz s-energy overflows double for this "
                          "feature dimension", fn);
    *value = g->value[m];
    return LPC_OK;
}

void lpc_gnc_free(lpc_gnc *g)
{
    lpci_free(g);
}
