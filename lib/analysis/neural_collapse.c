/* Neural-collapse metrics (Appendix E). Sigma_B = (1/K) M M^T has rank <= K,
 * so NC1 works in the K-dimensional space spanned by the centred class means:
 * with G = (1/K) M^T M = U diag(lambda) U^T, the eigenvectors of Sigma_B are
 * M u / sqrt(K lambda) with the same nonzero eigenvalues, and
 *   Tr(Sigma_W Sigma_B^+) = sum_kept u^T A u / (K lambda^2),
 *   A = M^T Sigma_W M = (1/N) sum_i t_i t_i^T,  t_i = M^T (z_i - mu_{y_i}).
 * This costs O(N P K) instead of the O(N P^2) of forming Sigma_W, and the
 * differences z_i - mu_{y_i} are taken directly, without cancellation. */
#include <blis.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

#define NC_COUNT 7
#define ROW_CHUNK 4096

struct lpc_nc {
    double value[NC_COUNT]; /* indexed by lpc_nc_metric */
    unsigned have;          /* bit m set when value[m] was computed */
};

/* A = (1/N) sum_i t_i t_i^T (k x k), t_i = M^T (z_i - mu_{y_i}); mc is k x p. */
static lpc_status within_in_mean_space(const float *z, int64_t n, int p, const int32_t *labels,
                                       int k, const double *means, const double *mc, double *a)
{
    double *t = lpci_malloc((size_t)ROW_CHUNK * (size_t)k * sizeof *t);
    if (!t)
        return lpci_error(LPC_E_NOMEM, "lpc_nc_compute: no memory for %d x %d", ROW_CHUNK, k);
    memset(a, 0, (size_t)k * (size_t)k * sizeof *a);
    for (int64_t r0 = 0; r0 < n; r0 += ROW_CHUNK) {
        int64_t rows = n - r0 < ROW_CHUNK ? n - r0 : ROW_CHUNK;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t i = 0; i < rows; i++) {
            const float *zi = z + (r0 + i) * p;
            const double *mu = means + (size_t)labels[r0 + i] * (size_t)p;
            for (int c = 0; c < k; c++) {
                const double *m = mc + (size_t)c * (size_t)p;
                double s = 0.0;
                for (int j = 0; j < p; j++)
                    s += m[j] * (zi[j] - mu[j]);
                t[i * k + c] = s;
            }
        }
        double one = 1.0;
        bli_dgemm(BLIS_TRANSPOSE, BLIS_NO_TRANSPOSE, k, k, (dim_t)rows, &one, t, k, 1, t, k, 1,
                  &one, a, k, 1);
    }
    for (size_t i = 0; i < (size_t)k * (size_t)k; i++)
        a[i] /= (double)n;
    lpci_free(t);
    return LPC_OK;
}

static lpc_status nc1(const float *z, int64_t n, int p, const int32_t *labels, int k,
                      const double *means, const double *mc, double *out)
{
    size_t kk = (size_t)k * (size_t)k;
    double *g = lpci_malloc(kk * sizeof *g), *u = lpci_malloc(kk * sizeof *u);
    double *lam = lpci_malloc((size_t)k * sizeof *lam), *a = lpci_malloc(kk * sizeof *a);
    lpc_status s = LPC_OK;
    if (!g || !u || !lam || !a) {
        s = lpci_error(LPC_E_NOMEM, "lpc_nc_compute: no memory for %d classes", k);
        goto done;
    }
    for (int c = 0; c < k; c++)
        for (int d = 0; d < k; d++) {
            double t = 0.0;
            for (int j = 0; j < p; j++)
                t += mc[(size_t)c * p + j] * mc[(size_t)d * p + j];
            g[(size_t)c * k + d] = t / k;
        }
    s = lpci_eigh(g, k, lam, u);
    if (s == LPC_OK && !(lam[0] > 0.0))
        s = lpci_error(LPC_E_NUMERIC, "lpc_nc_compute: all class means coincide");
    if (s == LPC_OK)
        s = within_in_mean_space(z, n, p, labels, k, means, mc, a);
    if (s != LPC_OK)
        goto done;
    double cut = (p > k ? p : k) * DBL_EPSILON * lam[0], trace = 0.0;
    for (int e = 0; e < k && lam[e] > cut; e++) {
        double q = 0.0; /* u_e^T A u_e */
        for (int c = 0; c < k; c++) {
            double row = 0.0;
            for (int d = 0; d < k; d++)
                row += a[(size_t)c * k + d] * u[(size_t)d * k + e];
            q += u[(size_t)c * k + e] * row;
        }
        trace += q / (k * lam[e] * lam[e]);
    }
    *out = trace / k;
done:
    lpci_free(g);
    lpci_free(u);
    lpci_free(lam);
    lpci_free(a);
    return s;
}

/* Equinorm, equiangularity and max-angle from the centred means mc (k x p);
 * norm is k doubles of scratch. */
static lpc_status geometry(const double *mc, int k, int p, double *norm, double *v)
{
    double mean = 0.0, var = 0.0;
    for (int c = 0; c < k; c++) {
        double t = 0.0;
        for (int j = 0; j < p; j++)
            t += mc[(size_t)c * p + j] * mc[(size_t)c * p + j];
        norm[c] = sqrt(t);
        if (!(norm[c] > 0.0))
            return lpci_error(LPC_E_NUMERIC,
                              "lpc_nc_compute: the mean of class %d equals the global mean", c);
        mean += norm[c];
    }
    mean /= k;
    for (int c = 0; c < k; c++)
        var += (norm[c] - mean) * (norm[c] - mean);
    v[LPC_NC_EQUINORM] = sqrt(var / k) / mean;
    /* Two passes over the pairs: mean of the cosines, then their spread. */
    double pairs = 0.5 * k * (k - 1), cos_mean = 0.0, cos_sq = 0.0, angle = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (int c = 0; c < k; c++)
            for (int d = c + 1; d < k; d++) {
                double t = 0.0;
                for (int j = 0; j < p; j++)
                    t += mc[(size_t)c * p + j] * mc[(size_t)d * p + j];
                double cs = t / (norm[c] * norm[d]);
                if (pass == 0) {
                    cos_mean += cs / pairs;
                    angle += fabs(cs + 1.0 / (k - 1));
                } else {
                    cos_sq += (cs - cos_mean) * (cs - cos_mean);
                }
            }
    v[LPC_NC_EQUIANGULARITY] = sqrt(cos_sq / pairs);
    v[LPC_NC_MAX_ANGLE] = angle / pairs;
    return LPC_OK;
}

static lpc_status nc3(const float *w, const double *mc, int k, int p, double *out)
{
    double wf = 0.0, mf = 0.0, s = 0.0;
    for (size_t i = 0; i < (size_t)k * (size_t)p; i++) {
        wf += (double)w[i] * w[i];
        mf += mc[i] * mc[i];
    }
    if (!(wf > 0.0))
        return lpci_error(LPC_E_NUMERIC, "lpc_nc_compute: the classifier W is zero");
    wf = sqrt(wf);
    mf = sqrt(mf);
    for (size_t i = 0; i < (size_t)k * (size_t)p; i++) {
        double d = w[i] / wf - mc[i] / mf;
        s += d * d;
    }
    *out = s;
    return LPC_OK;
}

/* Fraction of samples whose prediction differs from the nearest class mean. */
static double nc4(const float *z, int64_t n, int p, int k, const double *means, const float *w,
                  const float *b, const int32_t *predictions)
{
    int64_t differ = 0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) reduction(+ : differ)
    for (int64_t i = 0; i < n; i++) {
        const float *zi = z + i * p;
        int pred = 0, near = 0;
        double best_logit = -INFINITY, best_d = INFINITY;
        for (int c = 0; c < k; c++) {
            double d2 = 0.0, logit = b && !predictions ? b[c] : 0.0;
            for (int j = 0; j < p; j++) {
                double d = zi[j] - means[(size_t)c * p + j];
                d2 += d * d;
                if (!predictions)
                    logit += (double)w[(size_t)c * p + j] * zi[j];
            }
            if (d2 < best_d) {
                best_d = d2;
                near = c;
            }
            if (!predictions && logit > best_logit) {
                best_logit = logit;
                pred = c;
            }
        }
        if (predictions)
            pred = predictions[i];
        differ += pred != near;
    }
    return (double)differ / (double)n;
}

static lpc_status check_optional(const char *fn, const float *w, const float *b, int k, int p,
                                 const int32_t *predictions, int64_t n)
{
    if (b && !w && !predictions)
        return lpci_error(LPC_E_ARG, "%s: a bias b needs the classifier W", fn);
    for (size_t i = 0; w && i < (size_t)k * (size_t)p; i++)
        if (!isfinite(w[i]))
            return lpci_error(LPC_E_NUMERIC, "%s: W entry %zu is not finite", fn, i);
    for (int c = 0; b && c < k; c++)
        if (!isfinite(b[c]))
            return lpci_error(LPC_E_NUMERIC, "%s: bias %d is not finite", fn, c);
    for (int64_t i = 0; predictions && i < n; i++)
        if (predictions[i] < 0 || predictions[i] >= k)
            return lpci_error(LPC_E_ARG, "%s: prediction %d of sample %lld is not in [0, %d)", fn,
                              (int)predictions[i], (long long)i, k);
    return LPC_OK;
}

lpc_status lpc_nc_compute(const float *z, int64_t n, int p, const int32_t *labels, int k,
                          const float *w, const float *b, const int32_t *predictions,
                          lpc_nc **out)
{
    const char *fn = "lpc_nc_compute";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    *out = NULL;
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (k < 2)
        return lpci_error(LPC_E_ARG, "%s: needs k >= 2 classes, got %d", fn, k);
    int used;
    if ((s = lpci_label_span(fn, labels, n, k, 1, &used)) != LPC_OK)
        return s;
    s = check_optional(fn, w, b, k, p, predictions, n);
    if (s != LPC_OK)
        return s;
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *means = lpci_malloc((size_t)k * (size_t)p * sizeof *means);
    double *mc = lpci_malloc((size_t)k * (size_t)p * sizeof *mc);
    double *global = lpci_calloc((size_t)p, sizeof *global);
    double *norm = lpci_malloc((size_t)k * sizeof *norm);
    lpc_nc *nc = lpci_calloc(1, sizeof *nc);
    if (!counts || !means || !mc || !global || !norm || !nc) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d x %d means", fn, k, p);
        goto done;
    }
    s = lpci_check_classes(fn, labels, n, k, 1, counts);
    if (s != LPC_OK)
        goto done;
    lpci_class_means(z, n, p, labels, k, counts, means);
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            global[j] += means[(size_t)c * p + j] * (double)counts[c];
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            mc[(size_t)c * p + j] = means[(size_t)c * p + j] - global[j] / (double)n;
    s = nc1(z, n, p, labels, k, means, mc, &nc->value[LPC_NC_NC1]);
    if (s == LPC_OK)
        s = geometry(mc, k, p, norm, nc->value);
    if (s == LPC_OK && w)
        s = nc3(w, mc, k, p, &nc->value[LPC_NC_NC3]);
    if (s != LPC_OK)
        goto done;
    nc->value[LPC_NC_NC1_WEIGHTED] = nc->value[LPC_NC_NC1] / p;
    nc->have = (1u << LPC_NC_NC1) | (1u << LPC_NC_NC1_WEIGHTED) | (1u << LPC_NC_EQUINORM) |
               (1u << LPC_NC_EQUIANGULARITY) | (1u << LPC_NC_MAX_ANGLE);
    if (w)
        nc->have |= 1u << LPC_NC_NC3;
    if (w || predictions) {
        nc->value[LPC_NC_NC4] = nc4(z, n, p, k, means, w, b, predictions);
        nc->have |= 1u << LPC_NC_NC4;
    }
    *out = nc;
    nc = NULL;
done:
    lpci_free(counts);
    lpci_free(means);
    lpci_free(mc);
    lpci_free(global);
    lpci_free(norm);
    lpci_free(nc);
    return s;
}

lpc_status lpc_nc_get(const lpc_nc *nc, lpc_nc_metric m, double *value)
{
    if (!nc || !value)
        return lpci_error(LPC_E_ARG, "lpc_nc_get: NULL argument");
    if ((int)m < 0 || (int)m >= NC_COUNT)
        return lpci_error(LPC_E_ARG, "lpc_nc_get: unknown metric %d", (int)m);
    if (!(nc->have & (1u << m)))
        return lpci_error(LPC_E_STATE, "lpc_nc_get: metric %d needs the classifier W or "
                          "predictions", (int)m);
    *value = nc->value[m];
    return LPC_OK;
}

void lpc_nc_free(lpc_nc *nc) { lpci_free(nc); }
