/* Kozachenko–Leonenko entropy. The k-nearest-neighbour search is a blocked
 * brute force: squared distances |a|^2 + |b|^2 - 2 a.b from GEMMs (threaded),
 * each row keeping its smallest candidates in a sorted buffer (rows split
 * over threads, one writer per row). The candidates' distances are then
 * recomputed from coordinate differences, so the reported rho does not
 * suffer the cancellation of the GEMM form; see kth_neighbour for when the
 * float GEMM is trusted and when a row is searched again in double. */
#include <blis.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

#define ROW_BLOCK 1024
#define COL_BLOCK 2048
#define SCAN_BLOCK 16 /* columns checked at once for a new neighbour candidate */
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

/* Inserts (d, j) into the ascending buffer of m entries (d < bd[m-1]). */
static inline void insert(double *bd, int64_t *bi, int m, double d, int64_t j)
{
    int t = m - 1;
    while (t > 0 && bd[t - 1] > d) {
        bd[t] = bd[t - 1];
        bi[t] = bi[t - 1];
        t--;
    }
    bd[t] = d;
    bi[t] = j;
}

/* Whether any distance ni + nb[j] - 2 g[j] of a block is below worst: a
 * vectorised pre-check, so that only blocks holding a new candidate are
 * scanned element by element (with the same arithmetic). */
LPCI_VECTOR_BODY int any_below_f_body(const float *g, const double *nb, double ni, double worst,
                                          int64_t len)
{
    int any = 0;
    for (int64_t j = 0; j < len; j++)
        any |= ni + nb[j] - 2.0 * (double)g[j] < worst;
    return any;
}
LPCI_VECTOR_PREDICATE(any_below_f,
                      (const float *g, const double *nb, double ni, double worst, int64_t len),
                      (g, nb, ni, worst, len))

LPCI_VECTOR_BODY int any_below_d_body(const double *g, const double *nb, double ni,
                                          double worst, int64_t len)
{
    int any = 0;
    for (int64_t j = 0; j < len; j++)
        any |= ni + nb[j] - 2.0 * g[j] < worst;
    return any;
}
LPCI_VECTOR_PREDICATE(any_below_d,
                      (const double *g, const double *nb, double ni, double worst, int64_t len),
                      (g, nb, ni, worst, len))

typedef struct {
    const double *xd;   /* n x p, centred (and standardised) */
    const float *xf;    /* the same in float */
    const double *norm; /* squared row norms */
    int64_t n;
    int p;
    void *g;    /* ROW_BLOCK x COL_BLOCK doubles of scratch */
    void *pack; /* ROW_BLOCK x p doubles of scratch */
} space;

/* For each listed row, the m smallest squared distances |a|^2 + |b|^2 - 2 a.b
 * to other rows (bd/bi: m entries per listed row), with the GEMM in float
 * (lpci_sgemm) or double (BLIS). Rows are split over threads, one writer each. */
static void search(const space *s, int dbl, const int64_t *rows, int64_t count, int m,
                   double *bd, int64_t *bi)
{
    int64_t n = s->n;
    int p = s->p;
    for (int64_t i = 0; i < count * m; i++) {
        bd[i] = INFINITY;
        bi[i] = -1;
    }
    for (int64_t r0 = 0; r0 < count; r0 += ROW_BLOCK) {
        int64_t rb = count - r0 < ROW_BLOCK ? count - r0 : ROW_BLOCK;
        for (int64_t r = 0; r < rb; r++) {
            if (dbl)
                memcpy((double *)s->pack + r * p, s->xd + rows[r0 + r] * p, (size_t)p * 8);
            else
                memcpy((float *)s->pack + r * p, s->xf + rows[r0 + r] * p, (size_t)p * 4);
        }
        for (int64_t c0 = 0; c0 < n; c0 += COL_BLOCK) {
            int64_t cb = n - c0 < COL_BLOCK ? n - c0 : COL_BLOCK;
            if (dbl) {
                double one = 1.0, zero = 0.0;
                bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, (dim_t)rb, (dim_t)cb, (dim_t)p, &one,
                          s->pack, (inc_t)p, 1, (double *)s->xd + c0 * p, (inc_t)p, 1, &zero,
                          s->g, (inc_t)cb, 1);
            } else {
                lpci_sgemm(0, 1, rb, cb, p, 1.0f, s->pack, p, s->xf + c0 * p, p, 0.0f, s->g, cb);
            }
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
            for (int64_t r = 0; r < rb; r++) {
                int64_t row = rows[r0 + r];
                double *d_r = bd + (r0 + r) * m, ni = s->norm[row], worst = d_r[m - 1];
                int64_t *j_r = bi + (r0 + r) * m;
                const double *nb = s->norm + c0;
                const double *gd = (const double *)s->g + r * cb;
                const float *gf = (const float *)s->g + r * cb;
                for (int64_t j0 = 0; j0 < cb; j0 += SCAN_BLOCK) {
                    int64_t len = cb - j0 < SCAN_BLOCK ? cb - j0 : SCAN_BLOCK;
                    if (!(dbl ? any_below_d(gd + j0, nb + j0, ni, worst, len)
                              : any_below_f(gf + j0, nb + j0, ni, worst, len)))
                        continue; /* the common case once the candidates are near */
                    for (int64_t j = j0; j < j0 + len; j++) {
                        double d = ni + nb[j] - 2.0 * (dbl ? gd[j] : (double)gf[j]);
                        if (d < worst && c0 + j != row) {
                            insert(d_r, j_r, m, d, c0 + j);
                            worst = d_r[m - 1];
                        }
                    }
                }
            }
        }
    }
}

/* Replaces the m candidates of `row` by their exact squared distances from
 * coordinate differences, sorted ascending. */
static void exact_sorted(const space *s, int64_t row, double *d, const int64_t *idx, int m)
{
    const double *a = s->xd + row * s->p;
    for (int t = 0; t < m; t++) {
        const double *b = s->xd + idx[t] * s->p;
        double d2 = 0.0;
        for (int j = 0; j < s->p; j++)
            d2 += (a[j] - b[j]) * (a[j] - b[j]);
        int u = t;
        while (u > 0 && d[u - 1] > d2) {
            d[u] = d[u - 1];
            u--;
        }
        d[u] = d2;
    }
}

/* rho[i] = exact distance from row i to its k-th nearest other row.
 * A float pass keeps m = 2k candidates per row; their exact distances give
 * rho unless float rounding (bounded by delta) could have hidden a closer
 * row: then that row is searched again in double. Tightly collapsed data
 * (distances near float resolution) thus cost a double pass, others not. */
static lpc_status kth_neighbour(const double *x, int64_t n, int p, int k, double *rho)
{
    int m = (int64_t)2 * k < n - 1 ? 2 * k : (int)(n - 1);
    space s = {x, NULL, NULL, n, p, NULL, NULL};
    float *xf = lpci_malloc((size_t)n * (size_t)p * sizeof *xf);
    double *norm = lpci_malloc((size_t)n * sizeof *norm);
    s.g = lpci_malloc((size_t)ROW_BLOCK * COL_BLOCK * sizeof(double));
    s.pack = lpci_malloc((size_t)ROW_BLOCK * (size_t)p * sizeof(double));
    double *bd = lpci_malloc((size_t)n * (size_t)m * sizeof *bd);
    int64_t *bi = lpci_malloc((size_t)n * (size_t)m * sizeof *bi);
    int64_t *rows = lpci_malloc((size_t)n * sizeof *rows);
    lpc_status st = LPC_OK;
    if (!xf || !norm || !s.g || !s.pack || !bd || !bi || !rows) {
        st = lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for the neighbour search of "
                        "%lld samples", (long long)n);
        goto done;
    }
    double norm_max = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < p; j++) {
            xf[i * p + j] = (float)x[i * p + j];
            t += (double)xf[i * p + j] * xf[i * p + j];
        }
        norm[i] = t;
        norm_max = t > norm_max ? t : norm_max;
        rows[i] = i;
    }
    s.xf = xf;
    s.norm = norm;
    search(&s, 0, rows, n, m, bd, bi);
    int64_t flagged = 0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double float_worst = bd[i * m + m - 1];
        double delta = p * FLT_EPSILON * (norm[i] + norm_max);
        exact_sorted(&s, i, bd + i * m, bi + i * m, m);
        rho[i] = sqrt(bd[i * m + k - 1]);
        /* Every row outside the candidates is at float distance >= float_worst. */
        if (m < n - 1 && !(float_worst > bd[i * m + k - 1] + 2.0 * delta))
            rho[i] = -1.0;
    }
    for (int64_t i = 0; i < n; i++)
        if (rho[i] < 0.0)
            rows[flagged++] = i;
    if (flagged > 0) {
        /* Norms in double for the double pass (the float ones were of xf). */
        for (int64_t i = 0; i < n; i++) {
            double t = 0.0;
            for (int j = 0; j < p; j++)
                t += x[i * p + j] * x[i * p + j];
            norm[i] = t;
        }
        search(&s, 1, rows, flagged, m, bd, bi);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t r = 0; r < flagged; r++) {
            exact_sorted(&s, rows[r], bd + r * m, bi + r * m, m);
            rho[rows[r]] = sqrt(bd[r * m + k - 1]);
        }
    }
done:
    lpci_free(xf);
    lpci_free(norm);
    lpci_free(s.g);
    lpci_free(s.pack);
    lpci_free(bd);
    lpci_free(bi);
    lpci_free(rows);
    return st;
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
