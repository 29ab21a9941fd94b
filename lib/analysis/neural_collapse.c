/* Neural-collapse metrics of features held in memory (Appendix E; the
 * metrics themselves are in nc_metrics.c). NC1 needs A = M^T Sigma_W M
 * (K x K) only: A = sum_i w_{y_i} t_i t_i^T with t_i = M^T (z_i - mu_{y_i}),
 * which costs O(N P K) instead of the O(N P^2) of forming Sigma_W, and the
 * differences z_i - mu_{y_i} are taken directly, without cancellation. The
 * weight w_c is 1/N (pooled Sigma_W) or 1/(K (N_c - 1)) (LPC_NC_CLASS_COVARIANCE,
 * the mean of the per-class unbiased covariances). */
#include <blis.h>
#include <math.h>
#include <string.h>
#include "nc_internal.h"

#define ROW_CHUNK 4096
#define KNOWN_FLAGS (LPC_NC_BY_PREDICTION | LPC_NC_CLASS_COVARIANCE | LPC_NC_CUTOFF_P)

/* A = sum_i cw[y_i] t_i t_i^T (k x k); mc is k x p. */
static lpc_status within_in_mean_space(const char *fn, const float *z, int64_t n, int p,
                                       const int32_t *labels, int k, const double *means,
                                       const double *mc, const double *cw, double *a)
{
    double *t = lpci_malloc((size_t)ROW_CHUNK * (size_t)k * sizeof *t);
    if (!t)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d x %d", fn, ROW_CHUNK, k);
    memset(a, 0, (size_t)k * (size_t)k * sizeof *a);
    for (int64_t r0 = 0; r0 < n; r0 += ROW_CHUNK) {
        int64_t rows = n - r0 < ROW_CHUNK ? n - r0 : ROW_CHUNK;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t i = 0; i < rows; i++) {
            const float *zi = z + (r0 + i) * p;
            int y = labels[r0 + i];
            const double *mu = means + (size_t)y * (size_t)p;
            double root = sqrt(cw[y]);
            for (int c = 0; c < k; c++) {
                const double *m = mc + (size_t)c * (size_t)p;
                double s = 0.0;
                for (int j = 0; j < p; j++)
                    s += m[j] * (zi[j] - mu[j]);
                t[i * k + c] = root * s;
            }
        }
        double one = 1.0;
        bli_dgemm(BLIS_TRANSPOSE, BLIS_NO_TRANSPOSE, k, k, (dim_t)rows, &one, t, k, 1, t, k, 1,
                  &one, a, k, 1);
    }
    lpci_free(t);
    return LPC_OK;
}

int lpci_nc_argmax(const float *zi, int p, int k, const float *w, const float *b)
{
    int best = 0;
    double best_logit = -INFINITY;
    for (int c = 0; c < k; c++) {
        double logit = b ? b[c] : 0.0;
        for (int j = 0; j < p; j++)
            logit += (double)w[(size_t)c * p + j] * zi[j];
        if (logit > best_logit) {
            best_logit = logit;
            best = c;
        }
    }
    return best;
}

int lpci_nc_nearest(const float *zi, int p, int k, const double *means)
{
    int near = 0;
    double best_d = INFINITY;
    for (int c = 0; c < k; c++) {
        double d2 = 0.0;
        for (int j = 0; j < p; j++) {
            double d = zi[j] - means[(size_t)c * p + j];
            d2 += d * d;
        }
        if (d2 < best_d) {
            best_d = d2;
            near = c;
        }
    }
    return near;
}

/* Fraction of samples whose prediction differs from the nearest class mean. */
static double nc4(const float *z, int64_t n, int p, int k, const double *means, const float *w,
                  const float *b, const int32_t *predictions)
{
    int64_t differ = 0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) reduction(+ : differ)
    for (int64_t i = 0; i < n; i++) {
        const float *zi = z + i * p;
        int pred = predictions ? predictions[i] : lpci_nc_argmax(zi, p, k, w, b);
        differ += pred != lpci_nc_nearest(zi, p, k, means);
    }
    return (double)differ / (double)n;
}

lpc_status lpci_nc_check_optional(const char *fn, const float *w, const float *b, int k, int p,
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

/* Per-class weights of Sigma_W and V_c = (1/N_c) sum |z_i - mu_c|^2; *trace_w = Tr(Sigma_W). */
static lpc_status class_spread(const char *fn, const float *z, int64_t n, int p,
                               const int32_t *cls, int k, const int64_t *counts,
                               const double *means, unsigned flags, double *cw, double *v,
                               double *trace_w)
{
    memset(v, 0, (size_t)k * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        const double *mu = means + (size_t)cls[i] * (size_t)p;
        double d2 = 0.0;
        for (int j = 0; j < p; j++)
            d2 += (z[i * p + j] - mu[j]) * (z[i * p + j] - mu[j]);
        v[cls[i]] += d2;
    }
    *trace_w = 0.0;
    for (int c = 0; c < k; c++) {
        if ((flags & LPC_NC_CLASS_COVARIANCE) && counts[c] < 2)
            return lpci_error(LPC_E_NUMERIC, "%s: class %d has %lld member(s); the per-class "
                              "unbiased covariance needs two", fn, c, (long long)counts[c]);
        cw[c] = flags & LPC_NC_CLASS_COVARIANCE ? 1.0 / (k * (double)(counts[c] - 1))
                                                : 1.0 / (double)n;
        *trace_w += cw[c] * v[c];
        v[c] /= (double)counts[c];
    }
    return LPC_OK;
}

lpc_status lpc_nc_compute_flags(const float *z, int64_t n, int p, const int32_t *labels, int k,
                                const float *w, const float *b, const int32_t *predictions,
                                unsigned flags, lpc_nc **out)
{
    const char *fn = "lpc_nc_compute";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: output is NULL", fn);
    *out = NULL;
    if (flags & ~KNOWN_FLAGS)
        return lpci_error(LPC_E_ARG, "%s: unknown flags 0x%x", fn, flags & ~KNOWN_FLAGS);
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (k < 2)
        return lpci_error(LPC_E_ARG, "%s: needs k >= 2 classes, got %d", fn, k);
    int used; /* classes follow the labels unless LPC_NC_BY_PREDICTION: then all must occur */
    if ((s = lpci_label_span(fn, labels, n, k, !(flags & LPC_NC_BY_PREDICTION), &used)) != LPC_OK)
        return s;
    if ((flags & LPC_NC_BY_PREDICTION) && !w && !predictions)
        return lpci_error(LPC_E_ARG, "%s: LPC_NC_BY_PREDICTION needs predictions or W", fn);
    s = lpci_nc_check_optional(fn, w, b, k, p, predictions, n);
    if (s != LPC_OK)
        return s;
    if ((flags & LPC_NC_BY_PREDICTION) && (int64_t)k > n) /* sized by k below */
        return lpci_error(LPC_E_NUMERIC, "%s: %d predicted classes but %lld samples: some class "
                          "has no samples", fn, k, (long long)n);
    if ((s = lpci_check_matrix_sizes(fn, k, p, 0)) != LPC_OK)
        return s;
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *means = lpci_malloc((size_t)k * (size_t)p * sizeof *means);
    double *mc = lpci_malloc((size_t)k * (size_t)p * sizeof *mc);
    double *global = lpci_calloc((size_t)p, sizeof *global);
    double *a = lpci_malloc((size_t)k * (size_t)k * sizeof *a);
    double *cw = lpci_malloc((size_t)k * sizeof *cw), *v = lpci_malloc((size_t)k * sizeof *v);
    int32_t *own = NULL; /* argmax(W z + b) when classes follow the classifier */
    lpc_nc *nc = lpci_calloc(1, sizeof *nc);
    if (!counts || !means || !mc || !global || !a || !cw || !v || !nc) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d x %d means", fn, k, p);
        goto done;
    }
    const int32_t *cls = labels;
    if (flags & LPC_NC_BY_PREDICTION) {
        cls = predictions;
        if (!predictions) {
            if (!(own = lpci_malloc((size_t)n * sizeof *own))) {
                s = lpci_error(LPC_E_NOMEM, "%s: no memory for %lld predictions", fn,
                               (long long)n);
                goto done;
            }
            for (int64_t i = 0; i < n; i++)
                own[i] = lpci_nc_argmax(z + i * p, p, k, w, b);
            cls = own;
        }
    }
    s = lpci_check_classes(fn, cls, n, k, 1, counts);
    if (s != LPC_OK)
        goto done;
    lpci_class_means(z, n, p, cls, k, counts, means);
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            global[j] += means[(size_t)c * p + j] * (double)counts[c];
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            mc[(size_t)c * p + j] = means[(size_t)c * p + j] - global[j] / (double)n;
    lpci_nc_moments m = {.k = k, .p = p, .flags = flags, .mc = mc, .a = a, .class_v = v,
                         .means = means, .w = w};
    s = class_spread(fn, z, n, p, cls, k, counts, means, flags, cw, v, &m.trace_w);
    if (s == LPC_OK)
        s = within_in_mean_space(fn, z, n, p, cls, k, means, mc, cw, a);
    if (s == LPC_OK)
        s = lpci_nc_from_moments(fn, &m, nc);
    if (s != LPC_OK)
        goto done;
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
    lpci_free(a);
    lpci_free(cw);
    lpci_free(v);
    lpci_free(own);
    lpci_free(nc);
    return s;
}

lpc_status lpc_nc_compute(const float *z, int64_t n, int p, const int32_t *labels, int k,
                          const float *w, const float *b, const int32_t *predictions,
                          lpc_nc **out)
{
    return lpc_nc_compute_flags(z, n, p, labels, k, w, b, predictions, 0, out);
}

lpc_status lpc_nc_get(const lpc_nc *nc, lpc_nc_metric m, double *value)
{
    if (!nc || !value)
        return lpci_error(LPC_E_ARG, "lpc_nc_get: NULL argument");
    if ((int)m < 0 || (int)m >= LPC_NC_METRIC_COUNT)
        return lpci_error(LPC_E_ARG, "lpc_nc_get: unknown metric %d", (int)m);
    if (!(nc->have & (1u << m)))
        return lpci_error(LPC_E_STATE, "lpc_nc_get: metric %d needs the classifier W or "
                          "predictions", (int)m);
    *value = nc->value[m];
    return LPC_OK;
}

void lpc_nc_free(lpc_nc *nc) { lpci_free(nc); }
