/* Kozachenko–Leonenko entropy. The k-nearest-neighbour search is a blocked
 * brute force: squared distances |a|^2 + |b|^2 - 2 a.b from double GEMMs
 * (BLIS, threaded), each row keeping its k smallest in a sorted buffer (rows
 * split over threads, one writer per row). The distances of the k survivors
 * are then recomputed from coordinate differences, so the reported rho does
 * not suffer the cancellation of the GEMM form. Double precision (rather
 * than lpci_sgemm) keeps the neighbour selection right for tightly collapsed
 * classes, where float32 cancellation would swamp the distances. */
#include <blis.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

#define ROW_BLOCK 1024
#define COL_BLOCK 2048
#define EULER_GAMMA 0.57721566490153286061

double lpc_ln_unit_ball_volume(int d)
{
    if (d < 0)
        return NAN;
    return 0.5 * d * log(M_PI) - lgamma(0.5 * d + 1.0);
}

/* psi(n) for a positive integer: -gamma + sum_{i<n} 1/i (summed small terms first). */
static double digamma_int(int64_t n)
{
    double s = 0.0;
    for (int64_t i = n - 1; i >= 1; i--)
        s += 1.0 / (double)i;
    return s - EULER_GAMMA;
}

/* Copies z to double, centred (distances are translation invariant and the
 * GEMM form loses less to cancellation near the origin) and optionally
 * scaled to unit population std. Fails when all samples are identical. */
static lpc_status prepare(const float *z, int64_t n, int p, int standardize, double *x)
{
    double *mean = lpci_calloc((size_t)p, sizeof *mean);
    double *var = lpci_calloc((size_t)p, sizeof *var);
    lpc_status s = LPC_OK;
    if (!mean || !var) {
        s = lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for %d dimensions", p);
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            mean[j] += z[i * p + j];
    for (int j = 0; j < p; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++) {
            double d = z[i * p + j] - mean[j];
            x[i * p + j] = d;
            var[j] += d * d;
        }
    int varying = 0;
    for (int j = 0; j < p; j++)
        varying += var[j] > 0.0;
    if (!varying) {
        s = lpci_error(LPC_E_NUMERIC, "lpc_kl_entropy: all %lld samples are identical",
                       (long long)n);
        goto done;
    }
    if (standardize)
        for (int j = 0; j < p; j++) {
            double scale = var[j] > 0.0 ? 1.0 / sqrt(var[j] / (double)n) : 1.0;
            for (int64_t i = 0; i < n; i++)
                x[i * p + j] *= scale;
        }
done:
    lpci_free(mean);
    lpci_free(var);
    return s;
}

/* Inserts (d, j) into the ascending buffer of k entries (d < bd[k-1]). */
static inline void insert(double *bd, int64_t *bi, int k, double d, int64_t j)
{
    int t = k - 1;
    while (t > 0 && bd[t - 1] > d) {
        bd[t] = bd[t - 1];
        bi[t] = bi[t - 1];
        t--;
    }
    bd[t] = d;
    bi[t] = j;
}

/* rho[i] = exact distance from row i to its k-th nearest other row. */
static lpc_status kth_neighbour(const double *x, int64_t n, int p, int k, double *rho)
{
    double *norm = lpci_malloc((size_t)n * sizeof *norm);
    double *g = lpci_malloc((size_t)ROW_BLOCK * COL_BLOCK * sizeof *g);
    double *bd = lpci_malloc((size_t)n * (size_t)k * sizeof *bd);
    int64_t *bi = lpci_malloc((size_t)n * (size_t)k * sizeof *bi);
    if (!norm || !g || !bd || !bi) {
        lpci_free(norm);
        lpci_free(g);
        lpci_free(bd);
        lpci_free(bi);
        return lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for the neighbour search of "
                          "%lld samples", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < p; j++)
            t += x[i * p + j] * x[i * p + j];
        norm[i] = t;
    }
    for (int64_t i = 0; i < n * k; i++) {
        bd[i] = INFINITY;
        bi[i] = -1;
    }
    double one = 1.0, zero = 0.0;
    for (int64_t r0 = 0; r0 < n; r0 += ROW_BLOCK) {
        int64_t rb = n - r0 < ROW_BLOCK ? n - r0 : ROW_BLOCK;
        for (int64_t c0 = 0; c0 < n; c0 += COL_BLOCK) {
            int64_t cb = n - c0 < COL_BLOCK ? n - c0 : COL_BLOCK;
            bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, (dim_t)rb, (dim_t)cb, (dim_t)p, &one,
                      (double *)x + r0 * p, (inc_t)p, 1, (double *)x + c0 * p, (inc_t)p, 1,
                      &zero, g, (inc_t)cb, 1);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
            for (int64_t i = 0; i < rb; i++) {
                double *d_i = bd + (r0 + i) * k;
                int64_t *j_i = bi + (r0 + i) * k;
                const double *gi = g + i * cb, *nb = norm + c0;
                double ni = norm[r0 + i], worst = d_i[k - 1];
                for (int64_t j = 0; j < cb; j++) {
                    double d = ni + nb[j] - 2.0 * gi[j];
                    if (d < worst && c0 + j != r0 + i) {
                        insert(d_i, j_i, k, d, c0 + j);
                        worst = d_i[k - 1];
                    }
                }
            }
        }
    }
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double far = 0.0;
        for (int t = 0; t < k; t++) {
            const double *a = x + i * p, *b = x + bi[i * k + t] * p;
            double d2 = 0.0;
            for (int j = 0; j < p; j++)
                d2 += (a[j] - b[j]) * (a[j] - b[j]);
            if (d2 > far)
                far = d2;
        }
        rho[i] = sqrt(far);
    }
    lpci_free(norm);
    lpci_free(g);
    lpci_free(bd);
    lpci_free(bi);
    return LPC_OK;
}

lpc_status lpc_kl_entropy(const float *z, int64_t n, int p, int k, unsigned flags, double *h,
                          double *h_per_dim)
{
    const char *fn = "lpc_kl_entropy";
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (k == 0)
        k = LPC_KL_DEFAULT_K;
    if (k < 1)
        return lpci_error(LPC_E_ARG, "%s: k = %d must be >= 1", fn, k);
    if (n < (int64_t)k + 1)
        return lpci_error(LPC_E_ARG, "%s: needs N >= k + 1 = %d samples, got %lld", fn, k + 1,
                          (long long)n);
    if (flags & ~LPC_KL_STANDARDIZE)
        return lpci_error(LPC_E_ARG, "%s: unknown flags 0x%x", fn, flags);
    size_t np;
    if (lpci_mul_size((size_t)n, (size_t)p * sizeof(double), &np))
        return lpci_error(LPC_E_ARG, "%s: %lld x %d is too large", fn, (long long)n, p);
    double *x = lpci_malloc(np);
    double *rho = lpci_malloc((size_t)n * sizeof *rho);
    if (!x || !rho) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %lld x %d doubles", fn, (long long)n, p);
        goto done;
    }
    s = prepare(z, n, p, (flags & LPC_KL_STANDARDIZE) != 0, x);
    if (s == LPC_OK)
        s = kth_neighbour(x, n, p, k, rho);
    if (s != LPC_OK)
        goto done;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += log(rho[i] + 1e-10);
    double value = digamma_int(n) - digamma_int(k) + lpc_ln_unit_ball_volume(p) +
                   (double)p / (double)n * sum;
    if (h)
        *h = value;
    if (h_per_dim)
        *h_per_dim = value / p;
done:
    lpci_free(x);
    lpci_free(rho);
    return s;
}
