/* Binarity (Appendix D): per-dimension two-component 1-D Gaussian mixtures,
 * fitted by EM the way scikit-learn's GaussianMixture does (same
 * regularisation, 10*eps in the component masses, stopping rule), but
 * initialised from the exact 1-D 2-means split instead of k-means restarts. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include "analysis_internal.h"

#define GMM_TOL 1e-3
#define GMM_REG 1e-6
#define GMM_MAX_ITER 100
#define LN_2PI 1.83787706640934548356

typedef struct {
    double w[2], m[2], v[2], loglik;
} gmm1d;

struct lpc_binarity {
    int p;
    double *l, *sigma, *mu;  /* per dimension */
    double summary[6];       /* indexed by lpc_binarity_metric */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Threshold of the exact 2-means split of sorted s: the largest value of the
 * lower cluster. Splits only between distinct values; -1 if all are equal. */
static int two_means_split(const double *s, int64_t n, double *threshold)
{
    double mean = 0.0, sse_all = 0.0, left = 0.0, best = INFINITY;
    for (int64_t i = 0; i < n; i++)
        mean += s[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        sse_all += (s[i] - mean) * (s[i] - mean);
    int found = 0;
    for (int64_t i = 0; i + 1 < n; i++) {
        left += s[i] - mean; /* centred sum of the lower i + 1 values */
        if (!(s[i] < s[i + 1]))
            continue;
        /* SSE(lower) + SSE(upper) = SSE(all) - nl*nu/n * (mean_l - mean_u)^2,
         * and mean_l - mean_u = left/nl + left/nu (the centred sums cancel). */
        double nl = (double)(i + 1), nu = (double)(n - i - 1);
        double gap = left / nl + left / nu;
        double sse = sse_all - nl * nu / (double)n * gap * gap;
        if (sse < best) {
            best = sse;
            *threshold = s[i];
            found = 1;
        }
    }
    return found ? 0 : -1;
}

/* E-step: fills r0/r1 (if non-NULL) and returns the mean log-likelihood. */
static double e_step(const double *x, int64_t n, const gmm1d *g, double *r0, double *r1)
{
    double c[2];
    for (int t = 0; t < 2; t++)
        c[t] = log(g->w[t]) - 0.5 * (LN_2PI + log(g->v[t]));
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double a = c[0] - 0.5 * (x[i] - g->m[0]) * (x[i] - g->m[0]) / g->v[0];
        double b = c[1] - 0.5 * (x[i] - g->m[1]) * (x[i] - g->m[1]) / g->v[1];
        double hi = a > b ? a : b;
        double norm = hi + log(exp(a - hi) + exp(b - hi));
        total += norm;
        if (r0) {
            r0[i] = exp(a - norm);
            r1[i] = exp(b - norm);
        }
    }
    return total / (double)n;
}

static void m_step(const double *x, int64_t n, const double *r0, const double *r1, gmm1d *g,
                   int initial)
{
    const double *r[2] = {r0, r1};
    double nk[2];
    for (int t = 0; t < 2; t++) {
        double s = 0.0, sx = 0.0, sv = 0.0;
        for (int64_t i = 0; i < n; i++) {
            s += r[t][i];
            sx += r[t][i] * x[i];
        }
        nk[t] = s + 10.0 * DBL_EPSILON;
        g->m[t] = sx / nk[t];
        for (int64_t i = 0; i < n; i++)
            sv += r[t][i] * (x[i] - g->m[t]) * (x[i] - g->m[t]);
        g->v[t] = sv / nk[t] + GMM_REG;
    }
    double denom = initial ? (double)n : nk[0] + nk[1];
    for (int t = 0; t < 2; t++)
        g->w[t] = nk[t] / denom;
}

/* work: 3n doubles. Returns 0, or -1 when x has fewer than two distinct values. */
static int fit(const double *x, int64_t n, double *work, gmm1d *g)
{
    double *sorted = work, *r0 = work + n, *r1 = work + 2 * n, threshold = 0.0;
    for (int64_t i = 0; i < n; i++)
        sorted[i] = x[i];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    if (two_means_split(sorted, n, &threshold) != 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        r0[i] = x[i] <= threshold ? 1.0 : 0.0;
        r1[i] = 1.0 - r0[i];
    }
    m_step(x, n, r0, r1, g, 1);
    double lower = -INFINITY;
    for (int it = 0; it < GMM_MAX_ITER; it++) {
        double prev = lower;
        lower = e_step(x, n, g, r0, r1);
        m_step(x, n, r0, r1, g, 0);
        if (fabs(lower - prev) < GMM_TOL)
            break;
    }
    g->loglik = e_step(x, n, g, NULL, NULL);
    return 0;
}

lpc_status lpc_gmm1d_fit(const double *x, int64_t n, double weights[2], double means[2],
                         double variances[2], double *mean_loglik)
{
    if (!x || !weights || !means || !variances || !mean_loglik)
        return lpci_error(LPC_E_ARG, "lpc_gmm1d_fit: NULL argument");
    if (n < 2)
        return lpci_error(LPC_E_ARG, "lpc_gmm1d_fit: needs n >= 2 values, got %lld", (long long)n);
    double lo = x[0], hi = x[0];
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return lpci_error(LPC_E_NUMERIC, "lpc_gmm1d_fit: value %lld is not finite",
                              (long long)i);
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    /* The sums of squared deviations must stay finite (or the fit is garbage). */
    if (!isfinite((hi - lo) * (hi - lo) * (double)n))
        return lpci_error(LPC_E_NUMERIC, "lpc_gmm1d_fit: the values span [%g, %g], too wide "
                          "for finite variances in double precision", lo, hi);
    size_t bytes;
    if (lpci_mul_size((size_t)n, 3 * sizeof(double), &bytes))
        return lpci_error(LPC_E_ARG, "lpc_gmm1d_fit: n = %lld is too large", (long long)n);
    double *work = lpci_malloc(bytes);
    if (!work)
        return lpci_error(LPC_E_NOMEM, "lpc_gmm1d_fit: no memory for %lld values", (long long)n);
    gmm1d g;
    int rc = fit(x, n, work, &g);
    lpci_free(work);
    if (rc != 0)
        return lpci_error(LPC_E_NUMERIC, "lpc_gmm1d_fit: all values are equal");
    for (int t = 0; t < 2; t++) {
        weights[t] = g.w[t];
        means[t] = g.m[t];
        variances[t] = g.v[t];
    }
    *mean_loglik = g.loglik;
    return LPC_OK;
}

/* One dimension: standardise (population std) and fit. 0, -1 constant, -2 no memory. */
static int binarity_dim(const float *z, int64_t n, int p, int j, double *l, double *sigma,
                        double *mu)
{
    double *x = lpci_malloc((size_t)n * 4 * sizeof *x);
    if (!x)
        return -2;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++)
        mean += z[i * p + j];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        x[i] = z[i * p + j] - mean;
        var += x[i] * x[i];
    }
    int rc = -1;
    gmm1d g;
    if (var > 0.0) {
        double inv = 1.0 / sqrt(var / (double)n);
        for (int64_t i = 0; i < n; i++)
            x[i] *= inv;
        rc = fit(x, n, x + n, &g);
    }
    lpci_free(x);
    if (rc != 0)
        return rc;
    double s0 = sqrt(g.v[0]), s1 = sqrt(g.v[1]);
    *l = g.loglik;
    *sigma = 0.5 * (s0 + s1);
    *mu = fabs(g.m[0] - g.m[1]) / (0.5 * (s0 + s1));
    return 0;
}

void lpc_binarity_free(lpc_binarity *b)
{
    if (!b)
        return;
    lpci_free(b->l);
    lpci_free(b->sigma);
    lpci_free(b->mu);
    lpci_free(b);
}

lpc_status lpc_binarity_compute(const float *z, int64_t n, int p, lpc_binarity **out)
{
    const char *fn = "lpc_binarity_compute";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    *out = NULL;
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (n < 2)
        return lpci_error(LPC_E_ARG, "%s: needs N >= 2 samples, got %lld", fn, (long long)n);
    lpc_binarity *b = lpci_calloc(1, sizeof *b);
    int *rc = lpci_calloc((size_t)p, sizeof *rc);
    if (b) {
        b->p = p;
        b->l = lpci_malloc((size_t)p * sizeof *b->l);
        b->sigma = lpci_malloc((size_t)p * sizeof *b->sigma);
        b->mu = lpci_malloc((size_t)p * sizeof *b->mu);
    }
    if (!b || !rc || !b->l || !b->sigma || !b->mu) {
        lpci_free(rc);
        lpc_binarity_free(b);
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d dimensions", fn, p);
    }
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int j = 0; j < p; j++)
        rc[j] = binarity_dim(z, n, p, j, &b->l[j], &b->sigma[j], &b->mu[j]);
    for (int j = 0; j < p; j++)
        if (rc[j] != 0) {
            s = rc[j] == -2 ? lpci_error(LPC_E_NOMEM, "%s: no memory for dimension %d", fn, j)
                            : lpci_error(LPC_E_NUMERIC, "%s: dimension %d is constant", fn, j);
            lpci_free(rc);
            lpc_binarity_free(b);
            return s;
        }
    lpci_free(rc);
    double *sum = b->summary, *min = b->summary + 3;
    const double *per[3] = {b->l, b->sigma, b->mu};
    for (int m = 0; m < 3; m++) {
        sum[m] = 0.0;
        min[m] = INFINITY;
        for (int j = 0; j < p; j++) {
            sum[m] += per[m][j];
            if (per[m][j] < min[m])
                min[m] = per[m][j];
        }
        sum[m] /= p;
    }
    *out = b;
    return LPC_OK;
}

lpc_status lpc_binarity_get(const lpc_binarity *b, lpc_binarity_metric m, double *value)
{
    if (!b || !value)
        return lpci_error(LPC_E_ARG, "lpc_binarity_get: NULL argument");
    if ((int)m < 0 || (int)m > LPC_BINARITY_MU_MIN)
        return lpci_error(LPC_E_ARG, "lpc_binarity_get: unknown metric %d", (int)m);
    *value = b->summary[m];
    return LPC_OK;
}

lpc_status lpc_binarity_dim(const lpc_binarity *b, int dim, double *l, double *sigma, double *mu)
{
    if (!b)
        return lpci_error(LPC_E_ARG, "lpc_binarity_dim: result is NULL");
    if (dim < 0 || dim >= b->p)
        return lpci_error(LPC_E_ARG, "lpc_binarity_dim: dimension %d is not in [0, %d)", dim,
                          b->p);
    if (l)
        *l = b->l[dim];
    if (sigma)
        *sigma = b->sigma[dim];
    if (mu)
        *mu = b->mu[dim];
    return LPC_OK;
}
