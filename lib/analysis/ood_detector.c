/* The OOD detector: Mahalanobis distance to the class means under the shared
 * within-class covariance (Lee et al. 2018, arXiv:1807.03888), NECO (Ben
 * Ammar et al. 2024, arXiv:2310.06823), ViM (Wang et al. 2022,
 * arXiv:2203.10807) and NC5 from labelled ID training features.
 *
 * Every P x P covariance is accumulated in double over blocks of rows with
 * BLIS's GEMM and decomposed with lpci_eigh_rows; the scores then work in
 * the eigenbasis:
 *  - Mahalanobis: d_c(x) = sum_e (v_e . (x - mu_c))^2 / lambda_e over the
 *    eigenpairs with |lambda_e| > P eps max|lambda| (scipy's pinvh cutoff);
 *  - NECO: the top-d eigenvectors of the covariance of the standardised
 *    training features are the first d PCA axes;
 *  - ViM: the eigenvectors past the top D of the covariance around
 *    o = -W^+ b span the residual space. */
#include <blis.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include "ood_internal.h"

#define BLOCK 512 /* rows per covariance block */
#define ROWS 64  /* rows scored together */

struct lpc_ood_detector {
    int p, k;
    double temperature;
    double *means; /* k x p class means */
    float *w, *b;  /* classifier copies (NULL when not given; b NULL without bias) */
    /* Every set of axes is stored transposed (p x count): project() then
     * runs over contiguous rows. */
    /* Mahalanobis: r kept eigenpairs, axes p x r, means projected k x r */
    int maha_rank;
    double *maha_lambda, *maha_axes, *maha_proj;
    /* NECO: x -> (x - shift) / scale, then the top neco_dim axes (p x neco_dim) */
    int neco_dim, neco_max_logit, neco_standardize;
    double *neco_shift, *neco_scale, *neco_axes;
    /* ViM (with w): origin, residual axes p x (p - vim_dim), alpha */
    int vim_dim;
    double *vim_origin, *vim_axes, vim_alpha;
    /* Why Mahalanobis or ViM is undefined on the training data ("" when it
     * is defined): the detector still serves the other scores. */
    char maha_undefined[160], vim_undefined[160];
};

void lpc_ood_detector_options_init(lpc_ood_detector_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->temperature = 1.0;
    o->neco_standardize = 1;
}

void lpc_ood_detector_free(lpc_ood_detector *d)
{
    if (!d)
        return;
    lpci_free(d->means);
    lpci_free(d->w);
    lpci_free(d->b);
    lpci_free(d->maha_lambda);
    lpci_free(d->maha_axes);
    lpci_free(d->maha_proj);
    lpci_free(d->neco_shift);
    lpci_free(d->neco_scale);
    lpci_free(d->neco_axes);
    lpci_free(d->vim_origin);
    lpci_free(d->vim_axes);
    lpci_free(d);
}

int lpc_ood_detector_dim(const lpc_ood_detector *d) { return d ? d->p : 0; }
int lpc_ood_detector_classes(const lpc_ood_detector *d) { return d ? d->k : 0; }

static double dot(const double *x, const double *y, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += x[j] * y[j];
    return s;
}

static void *alloc_doubles(size_t a, size_t b)
{
    size_t n;
    if (lpci_mul_size(a, b, &n) || lpci_mul_size(n, sizeof(double), &n))
        return NULL;
    return lpci_malloc(n ? n : sizeof(double));
}

/* Transformed row i: (z_i - shift) / scale, where shift is the class mean of
 * the row's label (labels non-NULL) or one vector; scale may be NULL. */
static void row_of(const float *z, int64_t i, int p, const double *shift, const int32_t *labels,
                   const double *scale, double *out)
{
    const double *c = labels ? shift + (size_t)labels[i] * p : shift;
    for (int j = 0; j < p; j++)
        out[j] = ((double)z[i * p + j] - c[j]) / (scale ? scale[j] : 1.0);
}

/* cov = (1/n) sum_i x_i x_i^T of the transformed rows (p x p, symmetric),
 * block by block of rows: the rows are transformed in parallel, then BLIS's
 * double GEMM adds X^T X (as the streaming accumulator of nc_stream.c). */
static lpc_status covariance(const float *z, int64_t n, int p, const double *shift,
                             const int32_t *labels, const double *scale, double *cov)
{
    double *xb = alloc_doubles((size_t)p, BLOCK), one = 1.0;
    if (!xb)
        return lpci_error(LPC_E_NOMEM, "lpc_ood_detector_new: no memory for covariance blocks");
    memset(cov, 0, (size_t)p * p * sizeof *cov);
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int nb = n - i0 < BLOCK ? (int)(n - i0) : BLOCK;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int b = 0; b < nb; b++)
            row_of(z, i0 + b, p, shift, labels, scale, xb + (size_t)b * p);
        bli_dgemm(BLIS_TRANSPOSE, BLIS_NO_TRANSPOSE, p, p, nb, &one, xb, p, 1, xb, p, 1, &one, cov,
                  p, 1);
    }
    for (int r = 0; r < p; r++)
        for (int c = r; c < p; c++) {
            double v = 0.5 * (cov[(size_t)r * p + c] + cov[(size_t)c * p + r]) / (double)n;
            cov[(size_t)r * p + c] = cov[(size_t)c * p + r] = v;
        }
    lpci_free(xb);
    return LPC_OK;
}

/* Eigen-decomposition of a p x p covariance: eigenvalues descending into lam,
 * eigenvector j as row j of axes (p x p). */
static lpc_status eigen_rows(const double *cov, int p, double *lam, double *axes)
{
    lpc_status s = lpci_eigh_rows(cov, p, lam, axes);
    return s == LPC_OK ? s : lpci_error_context("lpc_ood_detector_new");
}

/* at (p x cnt) = the transpose of rows [first, first + cnt) of axes (p x p). */
static void transpose_axes(const double *axes, int p, int first, int cnt, double *at)
{
    for (int e = 0; e < cnt; e++)
        for (int j = 0; j < p; j++)
            at[(size_t)j * cnt + e] = axes[(size_t)(first + e) * p + j];
}

/* out (nb x cnt) = x (nb x p) at, at p x cnt (BLIS double GEMM). */
static void project(const double *at, int p, int cnt, const double *x, int nb, double *out)
{
    double one = 1.0, zero = 0.0;
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, nb, cnt, p, &one, (double *)x, p, 1,
              (double *)at, cnt, 1, &zero, out, cnt, 1);
}

static lpc_status fit_mahalanobis(lpc_ood_detector *d, const float *z, int64_t n,
                                  const int32_t *labels, double *cov, double *lam, double *axes)
{
    int p = d->p, k = d->k;
    lpc_status s = covariance(z, n, p, d->means, labels, NULL, cov);
    if (s == LPC_OK)
        s = eigen_rows(cov, p, lam, axes);
    if (s != LPC_OK)
        return s;
    double top = 0.0;
    for (int e = 0; e < p; e++)
        top = fabs(lam[e]) > top ? fabs(lam[e]) : top;
    double cut = p * DBL_EPSILON * top;
    int r = 0;
    for (int e = 0; e < p; e++)
        if (fabs(lam[e]) > cut && top > 0.0) {
            memmove(axes + (size_t)r * p, axes + (size_t)e * p, (size_t)p * sizeof *axes);
            lam[r++] = lam[e];
        }
    if (r == 0) {
        snprintf(d->maha_undefined, sizeof d->maha_undefined,
                 "the within-class covariance is zero (every sample equals its class mean)");
        return LPC_OK;
    }
    d->maha_rank = r;
    d->maha_lambda = alloc_doubles((size_t)r, 1);
    d->maha_axes = alloc_doubles((size_t)r, (size_t)p);
    d->maha_proj = alloc_doubles((size_t)k, (size_t)r);
    if (!d->maha_lambda || !d->maha_axes || !d->maha_proj)
        return lpci_error(LPC_E_NOMEM, "lpc_ood_detector_new: no memory for the precision");
    memcpy(d->maha_lambda, lam, (size_t)r * sizeof *lam);
    transpose_axes(axes, p, 0, r, d->maha_axes);
    for (int c = 0; c < k; c++)
        for (int e = 0; e < r; e++)
            d->maha_proj[(size_t)c * r + e] =
                dot(axes + (size_t)e * p, d->means + (size_t)c * p, p);
    return LPC_OK;
}

/* StandardScaler: training mean and population std; a feature whose variance
 * is within rounding of zero (scikit-learn's bound) keeps scale 1. */
static void standardizer(const float *z, int64_t n, int p, double *mean, double *scale)
{
    /* Row by row (the column sums in row order), so the features are read in
     * memory order; scale holds the variance sums until the end. */
    memset(mean, 0, (size_t)p * sizeof *mean);
    memset(scale, 0, (size_t)p * sizeof *scale);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            mean[j] += z[i * p + j];
    for (int j = 0; j < p; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            scale[j] += (z[i * p + j] - mean[j]) * (z[i * p + j] - mean[j]);
    for (int j = 0; j < p; j++) {
        double v = scale[j] / (double)n, m = mean[j];
        double bound = (double)n * DBL_EPSILON * v + pow((double)n * m * DBL_EPSILON, 2);
        scale[j] = v <= bound ? 1.0 : sqrt(v);
    }
}

static lpc_status fit_neco(lpc_ood_detector *d, const float *z, int64_t n, int standardize,
                           double *cov, double *lam, double *axes)
{
    int p = d->p;
    d->neco_shift = alloc_doubles((size_t)p, 1);
    d->neco_scale = alloc_doubles((size_t)p, 1);
    d->neco_axes = alloc_doubles((size_t)d->neco_dim, (size_t)p);
    if (!d->neco_shift || !d->neco_scale || !d->neco_axes)
        return lpci_error(LPC_E_NOMEM, "lpc_ood_detector_new: no memory for NECO");
    standardizer(z, n, p, d->neco_shift, d->neco_scale);
    if (!standardize)
        for (int j = 0; j < p; j++)
            d->neco_scale[j] = 1.0;
    lpc_status s = covariance(z, n, p, d->neco_shift, NULL, d->neco_scale, cov);
    if (s == LPC_OK)
        s = eigen_rows(cov, p, lam, axes);
    if (s == LPC_OK)
        transpose_axes(axes, p, 0, d->neco_dim, d->neco_axes);
    d->neco_standardize = standardize;
    return s;
}

/* Logits W z + b of row zi in double. */
static void logits_of(const lpc_ood_detector *d, const float *zi, double *out)
{
    for (int c = 0; c < d->k; c++) {
        double s = d->b ? d->b[c] : 0.0;
        const float *wc = d->w + (size_t)c * d->p;
        for (int j = 0; j < d->p; j++)
            s += (double)wc[j] * zi[j];
        out[c] = s;
    }
}

/* o = -W^+ b through the smaller Gram matrix: W^T (W W^T)^+ b when K <= P,
 * (W^T W)^+ W^T b otherwise; eigenvalues <= max(K, P) eps lambda_max dropped. */
static lpc_status vim_origin(lpc_ood_detector *d)
{
    int p = d->p, k = d->k, m = k <= p ? k : p;
    memset(d->vim_origin, 0, (size_t)p * sizeof *d->vim_origin);
    if (!d->b)
        return LPC_OK;
    double *g = alloc_doubles((size_t)m, (size_t)m), *u = alloc_doubles((size_t)m, (size_t)m);
    double *lam = alloc_doubles((size_t)m, 1), *rhs = alloc_doubles((size_t)m, 1);
    double *sol = alloc_doubles((size_t)m, 1);
    lpc_status s = LPC_OK;
    if (!g || !u || !lam || !rhs || !sol) {
        s = lpci_error(LPC_E_NOMEM, "lpc_ood_detector_new: no memory for ViM's origin");
        goto done;
    }
    const float *w = d->w;
    for (int a = 0; a < m; a++) {
        for (int c = 0; c < m; c++) {
            double t = 0.0;
            if (k <= p)
                for (int j = 0; j < p; j++)
                    t += (double)w[(size_t)a * p + j] * w[(size_t)c * p + j];
            else
                for (int i = 0; i < k; i++)
                    t += (double)w[(size_t)i * p + a] * w[(size_t)i * p + c];
            g[(size_t)a * m + c] = t;
        }
        double t = 0.0;
        if (k <= p)
            t = d->b[a];
        else
            for (int i = 0; i < k; i++)
                t += (double)w[(size_t)i * p + a] * d->b[i];
        rhs[a] = t;
    }
    s = lpci_eigh_rows(g, m, lam, u);
    if (s != LPC_OK) {
        s = lpci_error_context("lpc_ood_detector_new: ViM origin");
        goto done;
    }
    double cut = (k > p ? k : p) * DBL_EPSILON * lam[0];
    memset(sol, 0, (size_t)m * sizeof *sol);
    for (int e = 0; e < m; e++) {
        if (!(lam[e] > cut))
            continue;
        double q = 0.0;
        for (int a = 0; a < m; a++)
            q += u[(size_t)e * m + a] * rhs[a];
        for (int a = 0; a < m; a++)
            sol[a] += u[(size_t)e * m + a] * q / lam[e];
    }
    if (k <= p) {
        for (int c = 0; c < k; c++)
            for (int j = 0; j < p; j++)
                d->vim_origin[j] -= (double)w[(size_t)c * p + j] * sol[c];
    } else {
        for (int j = 0; j < p; j++)
            d->vim_origin[j] = -sol[j];
    }
done:
    lpci_free(g);
    lpci_free(u);
    lpci_free(lam);
    lpci_free(rhs);
    lpci_free(sol);
    return s;
}

/* |residual of z_b - o| for the nb rows z (xb: nb x p, pb: nb x (p - D) scratch). */
static void vim_residuals(const lpc_ood_detector *d, const float *z, int nb, double *xb,
                          double *pb, double *res)
{
    int p = d->p, nr = p - d->vim_dim;
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < p; j++)
            xb[(size_t)b * p + j] = z[(size_t)b * p + j] - d->vim_origin[j];
    project(d->vim_axes, p, nr, xb, nb, pb);
    for (int b = 0; b < nb; b++)
        res[b] = sqrt(dot(pb + (size_t)b * nr, pb + (size_t)b * nr, nr));
}

static lpc_status fit_vim(lpc_ood_detector *d, const float *z, int64_t n, double *cov,
                          double *lam, double *axes)
{
    int p = d->p, nr = p - d->vim_dim;
    d->vim_origin = alloc_doubles((size_t)p, 1);
    d->vim_axes = alloc_doubles((size_t)nr, (size_t)p);
    double *row = alloc_doubles((size_t)(p > d->k ? p : d->k), 1);
    double *xb = alloc_doubles(ROWS, (size_t)p), *pb = alloc_doubles(ROWS, (size_t)p);
    lpc_status s = LPC_OK;
    if (!d->vim_origin || !d->vim_axes || !row || !xb || !pb) {
        s = lpci_error(LPC_E_NOMEM, "lpc_ood_detector_new: no memory for ViM");
        goto done;
    }
    s = vim_origin(d);
    if (s == LPC_OK)
        s = covariance(z, n, p, d->vim_origin, NULL, NULL, cov);
    if (s == LPC_OK)
        s = eigen_rows(cov, p, lam, axes);
    if (s != LPC_OK)
        goto done;
    transpose_axes(axes, p, d->vim_dim, nr, d->vim_axes);
    double sum_logit = 0.0, sum_res = 0.0, res[ROWS];
    for (int64_t i0 = 0; i0 < n; i0 += ROWS) {
        int nb = n - i0 < ROWS ? (int)(n - i0) : ROWS;
        vim_residuals(d, z + i0 * p, nb, xb, pb, res);
        for (int b = 0; b < nb; b++) {
            logits_of(d, z + (i0 + b) * p, row);
            sum_logit += lpci_ood_max(row, d->k);
            sum_res += res[b];
        }
    }
    if (!(sum_res > 0.0)) {
        snprintf(d->vim_undefined, sizeof d->vim_undefined, "the training residuals are all 0 "
                 "(the features span at most D = %d dimensions)", d->vim_dim);
        goto done;
    }
    d->vim_alpha = sum_logit / sum_res;
done:
    lpci_free(row);
    lpci_free(xb);
    lpci_free(pb);
    return s;
}

static lpc_status read_options(const lpc_ood_detector_options *o, int p, int k,
                               lpc_ood_detector_options *opt)
{
    const char *fn = "lpc_ood_detector_new";
    lpc_ood_detector_options_init(opt);
    if (o) {
        if (o->size < sizeof(size_t) || o->size > sizeof *opt)
            return lpci_error(LPC_E_ARG, "%s: options size %zu is not in [%zu, %zu] (initialise "
                              "them with lpc_ood_detector_options_init)", fn, o->size,
                              sizeof(size_t), sizeof *opt);
        memcpy(opt, o, o->size);
    }
    if (!(opt->temperature > 0.0) || !isfinite(opt->temperature))
        return lpci_error(LPC_E_ARG, "%s: temperature %g must be finite and > 0", fn,
                          opt->temperature);
    if (opt->neco_dim == 0 && k < 2)
        return lpci_error(LPC_E_ARG, "%s: the default NECO dimension K - 1 needs K >= 2 "
                          "(set neco_dim)", fn);
    if (opt->neco_dim == 0)
        opt->neco_dim = k - 1 < p ? k - 1 : p;
    if (opt->neco_dim < 1 || opt->neco_dim > p)
        return lpci_error(LPC_E_ARG, "%s: neco_dim %d is not in [1, %d]", fn, opt->neco_dim, p);
    if (opt->b && !opt->w)
        return lpci_error(LPC_E_ARG, "%s: a bias b without the weights w", fn);
    if (opt->w) {
        int chosen = opt->vim_dim == 0;
        if (chosen)
            opt->vim_dim = p >= 2048 ? 1000 : p >= 768 ? 512 : p / 2;
        if (!(chosen && p < 2) && (opt->vim_dim < 1 || opt->vim_dim >= p))
            return lpci_error(LPC_E_ARG, "%s: vim_dim %d is not in [1, %d) (ViM needs P >= 2)",
                              fn, opt->vim_dim, p);
        lpc_status s = lpci_ood_check_matrix(fn, "classifier weights w", opt->w, k, p);
        if (s == LPC_OK && opt->b)
            s = lpci_ood_check_matrix(fn, "classifier bias b", opt->b, 1, k);
        return s;
    }
    if (opt->vim_dim != 0)
        return lpci_error(LPC_E_ARG, "%s: vim_dim without the classifier w", fn);
    return LPC_OK;
}

static float *copy_floats(const float *x, size_t n)
{
    float *y = lpci_malloc(n * sizeof *y);
    if (y)
        memcpy(y, x, n * sizeof *y);
    return y;
}

lpc_status lpc_ood_detector_new(const lpc_samples *features, int k,
                                const lpc_ood_detector_options *o, lpc_ood_detector **out)
{
    const char *fn = "lpc_ood_detector_new";
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: out is NULL", fn);
    *out = NULL;
    lpc_status s = lpci_samples_check(fn, features, 0);
    if (s != LPC_OK)
        return s;
    int64_t width = (int64_t)features->c * features->h * features->w;
    if (width > INT_MAX)
        return lpci_error(LPC_E_ARG, "%s: features of %d x %d x %d are wider than INT_MAX", fn,
                          features->c, features->h, features->w);
    const float *z = features->x;
    const int32_t *labels = features->labels;
    int64_t n = features->n;
    int p = (int)width;
    lpc_ood_detector_options opt;
    s = lpci_ood_check_matrix(fn, "features", z, n, p);
    int used;
    if (s == LPC_OK)
        s = lpci_label_span(fn, labels, n, k, 1, &used);
    if (s == LPC_OK)
        s = read_options(o, p, k, &opt);
    if (s != LPC_OK)
        return s;
    size_t pp;
    if (lpci_mul_size((size_t)p, (size_t)p, &pp) || lpci_mul_size(pp, sizeof(double), &pp))
        return lpci_error(LPC_E_ARG, "%s: P = %d is too large for a P x P covariance", fn, p);
    lpc_ood_detector *d = lpci_calloc(1, sizeof *d);
    int64_t *counts = lpci_malloc((size_t)k * sizeof *counts);
    double *cov = alloc_doubles((size_t)p, (size_t)p), *axes = alloc_doubles((size_t)p, (size_t)p);
    double *lam = alloc_doubles((size_t)p, 1);
    if (!d || !counts || !cov || !axes || !lam) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for P = %d, K = %d", fn, p, k);
        goto done;
    }
    d->p = p;
    d->k = k;
    d->temperature = opt.temperature;
    d->neco_dim = opt.neco_dim;
    d->neco_max_logit = opt.neco_max_logit != 0;
    d->vim_dim = opt.vim_dim;
    d->means = alloc_doubles((size_t)k, (size_t)p);
    if (opt.w) {
        d->w = copy_floats(opt.w, (size_t)k * p);
        d->b = opt.b ? copy_floats(opt.b, (size_t)k) : NULL;
    }
    if (!d->means || (opt.w && !d->w) || (opt.b && !d->b)) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d class means", fn, k);
        goto done;
    }
    s = lpci_check_classes(fn, labels, n, k, 1, counts);
    if (s == LPC_OK) {
        lpci_class_means(z, n, p, labels, k, counts, d->means);
        s = fit_mahalanobis(d, z, n, labels, cov, lam, axes);
    }
    if (s == LPC_OK)
        s = fit_neco(d, z, n, opt.neco_standardize != 0, cov, lam, axes);
    if (s == LPC_OK && d->w && p < 2)
        snprintf(d->vim_undefined, sizeof d->vim_undefined, "ViM needs P >= 2 features");
    else if (s == LPC_OK && d->w)
        s = fit_vim(d, z, n, cov, lam, axes);
done:
    lpci_free(counts);
    lpci_free(cov);
    lpci_free(axes);
    lpci_free(lam);
    if (s != LPC_OK) {
        lpc_ood_detector_free(d);
        return s;
    }
    *out = d;
    return LPC_OK;
}

/* -min_c d_c of the nb rows z (xb: nb x p, pb: nb x r scratch). */
static void mahalanobis(const lpc_ood_detector *d, const float *z, int nb, double *xb,
                        double *pb, double *out)
{
    int p = d->p, r = d->maha_rank;
    for (size_t i = 0; i < (size_t)nb * p; i++)
        xb[i] = z[i];
    project(d->maha_axes, p, r, xb, nb, pb);
    for (int b = 0; b < nb; b++) {
        const double *proj = pb + (size_t)b * r;
        double best = INFINITY;
        for (int c = 0; c < d->k; c++) {
            const double *mc = d->maha_proj + (size_t)c * r;
            double dist = 0.0;
            for (int e = 0; e < r; e++)
                dist += (proj[e] - mc[e]) * (proj[e] - mc[e]) / d->maha_lambda[e];
            best = dist < best ? dist : best;
        }
        out[b] = -best;
    }
}

/* NECO of the nb rows z (lg: their logits, nb x K): |P_d x| / |x| with x the
 * standardised row, or without standardisation |P_d (z - mean)| / |z| (the
 * PCA transform over the raw norm). NaN for a zero denominator (the caller
 * reports it). */
static void neco(const lpc_ood_detector *d, const float *z, const double *lg, int nb, double *xb,
                 double *pb, double *out)
{
    int p = d->p, dim = d->neco_dim;
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < p; j++)
            xb[(size_t)b * p + j] = (z[(size_t)b * p + j] - d->neco_shift[j]) / d->neco_scale[j];
    project(d->neco_axes, p, dim, xb, nb, pb);
    for (int b = 0; b < nb; b++) {
        double num = dot(pb + (size_t)b * dim, pb + (size_t)b * dim, dim);
        double den = 0.0;
        if (d->neco_standardize)
            den = dot(xb + (size_t)b * p, xb + (size_t)b * p, p);
        else
            for (int j = 0; j < p; j++)
                den += (double)z[(size_t)b * p + j] * z[(size_t)b * p + j];
        double score = den > 0.0 ? sqrt(num / den) : NAN;
        out[b] = d->neco_max_logit ? score * lpci_ood_max(lg + (size_t)b * d->k, d->k) : score;
    }
}

/* LPC_E_STATE when score s needs logits or the classifier and has neither;
 * LPC_E_NUMERIC when it is undefined on the training data. */
static lpc_status check_needs(const char *fn, const lpc_ood_detector *d, lpc_ood_score s,
                              const float *logits)
{
    int need_logits = s == LPC_OOD_MSP || s == LPC_OOD_MAX_LOGIT || s == LPC_OOD_ENERGY ||
                      s == LPC_OOD_VIM || (s == LPC_OOD_NECO && d->neco_max_logit);
    if (s == LPC_OOD_VIM && !d->w)
        return lpci_error(LPC_E_STATE, "%s: ViM needs the classifier (options w)", fn);
    if (s == LPC_OOD_VIM && d->vim_undefined[0])
        return lpci_error(LPC_E_NUMERIC, "%s: ViM is undefined: %s", fn, d->vim_undefined);
    if (s == LPC_OOD_MAHALANOBIS && d->maha_undefined[0])
        return lpci_error(LPC_E_NUMERIC, "%s: Mahalanobis is undefined: %s", fn,
                          d->maha_undefined);
    if (need_logits && !logits && !d->w)
        return lpci_error(LPC_E_STATE, "%s: %s needs logits or the classifier (options w)", fn,
                          lpc_ood_score_name(s));
    return LPC_OK;
}

lpc_status lpc_ood_detector_score(const lpc_ood_detector *d, lpc_ood_score s, const float *z,
                                  const float *logits, int64_t n, double *scores)
{
    const char *fn = "lpc_ood_detector_score";
    if (!d)
        return lpci_error(LPC_E_ARG, "%s: detector is NULL", fn);
    if (!lpc_ood_score_name(s))
        return lpci_error(LPC_E_ARG, "%s: unknown score %d", fn, (int)s);
    if (!scores)
        return lpci_error(LPC_E_ARG, "%s: scores are NULL", fn);
    lpc_status st = lpci_ood_check_matrix(fn, "features", z, n, d->p);
    if (st == LPC_OK && logits)
        st = lpci_ood_check_matrix(fn, "logits", logits, n, d->k);
    if (st == LPC_OK)
        st = check_needs(fn, d, s, logits);
    if (st != LPC_OK)
        return st;
    int p = d->p, k = d->k, threads = lpci_threads();
    size_t per_thread = (size_t)ROWS * (2 * (size_t)p + (size_t)k);
    /* Results go to `out` first: on failure `scores` stays untouched. */
    double *buf = alloc_doubles((size_t)threads, per_thread);
    double *out = alloc_doubles((size_t)n, 1);
    if (!buf || !out) {
        lpci_free(buf);
        lpci_free(out);
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %lld scores", fn, (long long)n);
    }
    int64_t bad = -1, blocks = (n + ROWS - 1) / ROWS;
#pragma omp parallel num_threads(threads)
    {
        double *xb = buf + (size_t)omp_get_thread_num() * per_thread;
        double *pb = xb + (size_t)ROWS * p, *lg = pb + (size_t)ROWS * p;
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < blocks; blk++) {
            int64_t i0 = blk * ROWS;
            int nb = n - i0 < ROWS ? (int)(n - i0) : ROWS;
            const float *zb = z + i0 * p;
            for (int b = 0; b < nb; b++) {
                double *l = lg + (size_t)b * k;
                if (logits)
                    for (int c = 0; c < k; c++)
                        l[c] = logits[(i0 + b) * k + c];
                else if (d->w)
                    logits_of(d, zb + (size_t)b * p, l);
            }
            double *o = out + i0;
            if (s == LPC_OOD_MAHALANOBIS) {
                mahalanobis(d, zb, nb, xb, pb, o);
            } else if (s == LPC_OOD_NECO) {
                neco(d, zb, lg, nb, xb, pb, o);
            } else if (s == LPC_OOD_VIM) {
                vim_residuals(d, zb, nb, xb, pb, o);
                for (int b = 0; b < nb; b++)
                    o[b] = lpci_ood_logsumexp(lg + (size_t)b * k, k, 1.0) - d->vim_alpha * o[b];
            } else {
                for (int b = 0; b < nb; b++)
                    o[b] = lpci_ood_logit_row(lg + (size_t)b * k, k, s, d->temperature);
            }
            for (int b = 0; b < nb; b++)
                if (isnan(o[b])) {
#pragma omp critical(lpc_ood_bad_row)
                    bad = bad < 0 || i0 + b < bad ? i0 + b : bad;
                }
        }
    }
    lpci_free(buf);
    if (bad >= 0) {
        lpci_free(out);
        return lpci_error(LPC_E_NUMERIC, "%s: NECO of row %lld is 0 / 0 (the row is the "
                          "training mean, or 0 without standardisation)", fn, (long long)bad);
    }
    memcpy(scores, out, (size_t)n * sizeof *scores);
    lpci_free(out);
    return LPC_OK;
}

lpc_status lpc_ood_detector_nc5(const lpc_ood_detector *d, const float *z_ood, int64_t n,
                                double *value)
{
    const char *fn = "lpc_ood_detector_nc5";
    if (!d)
        return lpci_error(LPC_E_ARG, "%s: detector is NULL", fn);
    if (!value)
        return lpci_error(LPC_E_ARG, "%s: value is NULL", fn);
    lpc_status s = lpci_ood_check_matrix(fn, "OOD features", z_ood, n, d->p);
    if (s != LPC_OK)
        return s;
    int p = d->p;
    double *g = alloc_doubles((size_t)p, 1);
    if (!g)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for the OOD mean", fn);
    memset(g, 0, (size_t)p * sizeof *g);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            g[j] += z_ood[i * p + j];
    for (int j = 0; j < p; j++)
        g[j] /= (double)n;
    double gn = sqrt(dot(g, g, p)), sum = 0.0;
    for (int c = 0; c < d->k && gn > 0.0; c++) {
        const double *mc = d->means + (size_t)c * p;
        double mn = sqrt(dot(mc, mc, p));
        if (!(mn > 0.0)) {
            lpci_free(g);
            return lpci_error(LPC_E_NUMERIC, "%s: the mean of class %d is zero", fn, c);
        }
        sum += fabs(dot(mc, g, p)) / (mn * gn);
    }
    lpci_free(g);
    if (!(gn > 0.0))
        return lpci_error(LPC_E_NUMERIC, "%s: the mean of the OOD features is zero", fn);
    *value = sum / d->k;
    return LPC_OK;
}
