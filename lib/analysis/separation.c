/* Class-separation ratio R, the Sigma_W scalar, the spread of latent norms
 * and Pearson correlation (doc/method.md §6). Per-sample work is parallel with one
 * writer per sample; sums then run in sample order, so results do not depend
 * on the thread count. */
#include <math.h>
#include "analysis_internal.h"

lpc_status lpc_separation_ratio(const float *z, int64_t n, int p, const int32_t *labels, int k,
                                double *r)
{
    const char *fn = "lpc_separation_ratio";
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (!r)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    if (k < 2)
        return lpci_error(LPC_E_ARG, "%s: needs k >= 2 classes, got %d", fn, k);
    int used;
    if ((s = lpci_label_span(fn, labels, n, k, 1, &used)) != LPC_OK)
        return s;
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *means = lpci_malloc((size_t)k * (size_t)p * sizeof *means);
    double *ratio = lpci_malloc((size_t)n * sizeof *ratio);
    if (!counts || !means || !ratio) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %lld samples", fn, (long long)n);
        goto done;
    }
    s = lpci_check_classes(fn, labels, n, k, 1, counts);
    if (s != LPC_OK)
        goto done;
    lpci_class_means(z, n, p, labels, k, counts, means);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        const float *zi = z + i * p;
        double own = 0.0, other = INFINITY;
        for (int c = 0; c < k; c++) {
            const double *m = means + (size_t)c * (size_t)p;
            double d2 = 0.0;
            for (int j = 0; j < p; j++) {
                double d = zi[j] - m[j];
                d2 += d * d;
            }
            if (c == labels[i])
                own = d2;
            else if (d2 < other)
                other = d2;
        }
        ratio[i] = own > 0.0 ? sqrt(other) / sqrt(own) : 0.0;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += ratio[i];
    *r = sum / (double)n;
done:
    lpci_free(counts);
    lpci_free(means);
    lpci_free(ratio);
    return s;
}

/* The mean of the P^2 entries of a covariance matrix equals the variance of
 * the row sums s_i = sum_j z_ij divided by P^2, so no P x P matrix is built. */
lpc_status lpc_sigma_w(const float *z, int64_t n, int p, const int32_t *membership, int k,
                       double *sigma_w)
{
    const char *fn = "lpc_sigma_w";
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (!sigma_w)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    /* Classes above the largest label are empty and add nothing: size by the data. */
    if ((s = lpci_label_span(fn, membership, n, k, 0, &k)) != LPC_OK)
        return s;
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *mean = lpci_calloc((size_t)k, sizeof *mean);
    double *ss = lpci_calloc((size_t)k, sizeof *ss);
    double *rows = lpci_malloc((size_t)n * sizeof *rows);
    if (!counts || !mean || !ss || !rows) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %lld samples", fn, (long long)n);
        goto done;
    }
    s = lpci_check_classes(fn, membership, n, k, 0, counts);
    if (s != LPC_OK)
        goto done;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < p; j++)
            t += z[i * p + j];
        rows[i] = t;
    }
    for (int64_t i = 0; i < n; i++)
        mean[membership[i]] += rows[i];
    for (int c = 0; c < k; c++)
        if (counts[c] > 0)
            mean[c] /= (double)counts[c];
    for (int64_t i = 0; i < n; i++) {
        double d = rows[i] - mean[membership[i]];
        ss[membership[i]] += d * d;
    }
    double total = 0.0;
    int used = 0;
    for (int c = 0; c < k; c++)
        if (counts[c] >= 2) {
            total += ss[c] / (double)(counts[c] - 1);
            used++;
        }
    if (used == 0) {
        s = lpci_error(LPC_E_NUMERIC, "%s: no class has two members", fn);
        goto done;
    }
    *sigma_w = total / used / ((double)p * (double)p);
done:
    lpci_free(counts);
    lpci_free(mean);
    lpci_free(ss);
    lpci_free(rows);
    return s;
}

lpc_status lpc_norm_cov(const float *z, int64_t n, int p, double *cov)
{
    const char *fn = "lpc_norm_cov";
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (!cov)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    double *norm = lpci_malloc((size_t)n * sizeof *norm);
    if (!norm)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %lld norms", fn, (long long)n);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < p; j++)
            t += (double)z[i * p + j] * z[i * p + j];
        norm[i] = sqrt(t);
    }
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++)
        mean += norm[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        var += (norm[i] - mean) * (norm[i] - mean);
    lpci_free(norm);
    if (!(mean > 0.0))
        return lpci_error(LPC_E_NUMERIC, "%s: every feature vector is zero", fn);
    *cov = sqrt(var / (double)n) / mean;
    return LPC_OK;
}

/* An exponent e with |v - shift| < 2^e for all v (0 if all are equal), so
 * that ldexp(v, -e) is exact and the scaled deviations are below 1. */
static int pow2_exponent(const double *v, int64_t n, double shift)
{
    double big = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double a = fabs(v[i] / 2 - shift / 2); /* halves: v - shift may overflow */
        big = a > big ? a : big;
    }
    int e = 0;
    frexp(big, &e); /* big < 2^e */
    return big > 0.0 ? e + 1 : 0;
}

/* Mean of v, summed on v / 2^e so that the sum cannot overflow. */
static double safe_mean(const double *v, int64_t n)
{
    int e = pow2_exponent(v, n, 0.0);
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m += ldexp(v[i], -e);
    return ldexp(m / (double)n, e);
}

lpc_status lpc_pearson(const double *x, const double *y, int64_t n, double *r)
{
    if (!x || !y || !r)
        return lpci_error(LPC_E_ARG, "lpc_pearson: NULL argument");
    if (n < 2)
        return lpci_error(LPC_E_ARG, "lpc_pearson: needs n >= 2, got %lld", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return lpci_error(LPC_E_NUMERIC, "lpc_pearson: value %lld is not finite", (long long)i);
    /* r does not change when a series is scaled, so deviations are taken
     * on values scaled by powers of two to at most 1: no overflow for any
     * finite input (values near 1e200 used to give r = 0), and the same
     * bits as the unscaled formula wherever that one does not overflow. */
    double mx = safe_mean(x, n), my = safe_mean(y, n);
    int ex = pow2_exponent(x, n, mx), ey = pow2_exponent(y, n, my);
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double dx = ldexp(x[i], -ex) - ldexp(mx, -ex), dy = ldexp(y[i], -ey) - ldexp(my, -ey);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (!(sxx > 0.0) || !(syy > 0.0))
        return lpci_error(LPC_E_NUMERIC, "lpc_pearson: a series is constant");
    *r = sxy / sqrt(sxx * syy);
    return LPC_OK;
}
