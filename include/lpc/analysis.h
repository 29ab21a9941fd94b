/* liblpc — analysis of penultimate features (doc/method.md §6): class separation,
 * within-class covariance, latent-norm spread, Kozachenko–Leonenko entropy,
 * binarity (per-dimension Gaussian mixtures) and neural collapse.
 *
 * Common arguments:
 *  - z: N x P features, row-major float32 (`z[i*p + j]`), borrowed (never
 *    kept after the call). Every value must be finite.
 *  - labels / membership: N int32 class indices in [0, k).
 * Everything is accumulated in double. Results come back through out-pointers
 * or opaque result handles (owned by the caller, freed with *_free; NULL is a
 * no-op). Bad or degenerate input returns LPC_E_ARG (NULL, sizes, labels out of
 * range) or LPC_E_NUMERIC (non-finite values, constant data, empty classes)
 * with a message in lpc_last_error(); nothing is written to the outputs then.
 *
 * Standard-deviation conventions: every "std" below is the population std
 * (ddof = 0) except where "unbiased" is written (ddof = 1). */
#ifndef LPC_ANALYSIS_H
#define LPC_ANALYSIS_H
#include <stdint.h>
#include "export.h"
#include "status.h"

LPC_BEGIN_DECLS

/* ---- separation (lib/analysis/separation.c) ---- */

/* Class-separation ratio R = mean over samples of
 * min_{c != y_i} |z_i - mu_c| / |z_i - mu_{y_i}| (0 where the denominator is
 * 0), with mu_c the centroid of the samples labelled c. Needs k >= 2 and every
 * class present. */
LPC_API lpc_status lpc_separation_ratio(const float *z, int64_t n, int p, const int32_t *labels,
                                        int k, double *r);
/* Sigma_W scalar: per class (by `membership`, normally the predicted labels)
 * the unbiased covariance (ddof = 1), averaged over the classes that have at
 * least two members; reported as the mean of the P^2 entries (not the trace).
 * Classes with fewer than two members are skipped; LPC_E_NUMERIC if none
 * has two. */
LPC_API lpc_status lpc_sigma_w(const float *z, int64_t n, int p, const int32_t *membership, int k,
                               double *sigma_w);
/* Coefficient of variation of the latent norms: std(|z_i|) / mean(|z_i|),
 * population std. LPC_E_NUMERIC when every z_i is 0. */
LPC_API lpc_status lpc_norm_cov(const float *z, int64_t n, int p, double *cov);
/* Pearson correlation of two double series (n >= 2, finite, neither
 * constant). Exact scaling by powers of two: any finite magnitude works. */
LPC_API lpc_status lpc_pearson(const double *x, const double *y, int64_t n, double *r);

/* ---- entropy (lib/analysis/entropy.c) ---- */

#define LPC_KL_DEFAULT_K 20
/* Flag for lpc_kl_entropy: standardise each dimension first, (x - mean)/std
 * with the population std; a constant dimension is only centred (as
 * scikit-learn's StandardScaler does). */
#define LPC_KL_STANDARDIZE 1u

/* ln of the volume of the d-dimensional unit ball, (d/2) ln(pi) - lnGamma(d/2 + 1);
 * d >= 0 (NaN for d < 0). */
LPC_API double lpc_ln_unit_ball_volume(int d);
/* Kozachenko–Leonenko entropy estimate, Euclidean, in nats:
 *   H = psi(N) - psi(k) + ln V_P + (P/N) sum_i ln(rho_i + 1e-10),
 * rho_i = distance from z_i to its k-th nearest other sample (duplicates count
 * with distance 0). k = 0 selects LPC_KL_DEFAULT_K; k <= INT_MAX / 2 and N >= k + 1.
 * Any finite magnitude works (up to FLT_MAX: the neighbour search runs on the
 * features scaled by a power of two, which scales the distances back exactly).
 * Writes H to *h and H/P to *h_per_dim (either may be NULL).
 * LPC_E_NUMERIC when all samples are identical. Uses lpc_get_num_threads(). */
LPC_API lpc_status lpc_kl_entropy(const float *z, int64_t n, int p, int k, unsigned flags,
                                  double *h, double *h_per_dim);

/* ---- binarity (lib/analysis/gmm.c) ---- */

/* Two-component 1-D Gaussian mixture fitted by EM as scikit-learn's
 * GaussianMixture(2, tol=1e-3, reg_covar=1e-6, max_iter=100), initialised from
 * the exact 1-D 2-means split (lower cluster = component 0). Writes the
 * weights, means and variances (reg_covar included) of the last M-step and
 * the mean per-sample log-likelihood under them (scikit-learn's score()).
 * Needs n >= 2 and at least two distinct finite values; LPC_E_NUMERIC (with
 * the reason) otherwise, or when their span is too wide for finite variances. */
LPC_API lpc_status lpc_gmm1d_fit(const double *x, int64_t n, double weights[2], double means[2],
                                 double variances[2], double *mean_loglik);

typedef struct lpc_binarity lpc_binarity;
typedef enum {
    LPC_BINARITY_L,         /* mean over dims of the mean log-likelihood */
    LPC_BINARITY_SIGMA,     /* mean over dims and both components of the component std */
    LPC_BINARITY_MU,        /* mean over dims of |m1 - m2| / ((s1 + s2)/2) */
    LPC_BINARITY_L_MIN,     /* minima over dims of the three above */
    LPC_BINARITY_SIGMA_MIN,
    LPC_BINARITY_MU_MIN
} lpc_binarity_metric;
/* Appendix D: each dimension standardised (population std), then
 * lpc_gmm1d_fit. LPC_E_NUMERIC for a constant dimension. On success *out is a
 * new handle owned by the caller. */
LPC_API lpc_status lpc_binarity_compute(const float *z, int64_t n, int p, lpc_binarity **out);
LPC_API lpc_status lpc_binarity_get(const lpc_binarity *b, lpc_binarity_metric m, double *value);
/* Per-dimension values (dim in [0, P)); any out-pointer may be NULL. */
LPC_API lpc_status lpc_binarity_dim(const lpc_binarity *b, int dim, double *l, double *sigma,
                                    double *mu);
LPC_API void lpc_binarity_free(lpc_binarity *b);

/* ---- neural collapse (lib/analysis/neural_collapse.c) ---- */

typedef struct lpc_nc lpc_nc;
typedef enum {
    LPC_NC_NC1,            /* Tr(Sigma_W Sigma_B^+) / K */
    LPC_NC_NC1_WEIGHTED,   /* NC1 / P */
    LPC_NC_EQUINORM,       /* std / mean of |mu_c - mu_G| (population std) */
    LPC_NC_EQUIANGULARITY, /* population std of the cosines between centred means, pairs c < c' */
    LPC_NC_MAX_ANGLE,      /* mean over pairs c < c' of |cos + 1/(K-1)| */
    LPC_NC_NC3,            /* || W^T/|W|_F - M/|M|_F ||_F^2, M = [mu_c - mu_G] (P x K) */
    LPC_NC_NC4,            /* fraction of samples whose prediction differs from the nearest class mean */
    /* The measures of the neural-collapse libraries in use (rhubarbwu/neural-collapse,
     * felixsh/nc-toolbox), lib/analysis/nc_metrics.c: */
    LPC_NC_NC1_SVD,        /* Han et al. 2022 (arXiv:2106.02073): Tr(Sigma_W Sigma_B^-1)/K with the
                            * inverse from the top K-1 eigenpairs of Sigma_B (those above the cutoff) */
    LPC_NC_NC1_QUOTIENT,   /* Tirer et al. 2023 (ICML, PMLR 202): Tr(Sigma_W) / Tr(Sigma_B) */
    LPC_NC_CDNV,           /* Galanti et al. 2022 (arXiv:2112.15121): mean over pairs c < c' of
                            * (V_c + V_c') / (2 |mu_c - mu_c'|^2), V_c = (1/N_c) sum |z_i - mu_c|^2 */
    LPC_NC_ETF_ERROR,      /* Kothapalli 2023 (arXiv:2206.04041): | S/|S|_F - E |_F with
                            * S = M^T M (K x K Gram of the centred means) and
                            * E = (I - 11^T/K)/sqrt(K-1), the normalised simplex-ETF Gram */
    LPC_NC_SELF_DUALITY,   /* Kothapalli 2023, NC3: the same with S = W M (S_cd = w_c . (mu_d - mu_G)) */
    LPC_NC_UNIFORM_DUALITY /* Wu & Papyan 2024 (arXiv:2405.17767, UNC3): std / mean (population)
                            * over classes of cos(w_c, mu_c - mu_G) */
} lpc_nc_metric;
#define LPC_NC_METRIC_COUNT 13

/* Flags of lpc_nc_compute_flags: the conventions of the Latent Point Collapse
 * authors' code (doc/fidelity.md); 0 is liblpc's (doc/method.md §6). */
#define LPC_NC_BY_PREDICTION 1u   /* classes by the predictions (or argmax(W z + b)), not labels */
#define LPC_NC_CLASS_COVARIANCE 2u /* Sigma_W = mean over classes of the per-class unbiased
                                    * covariances (every class needs >= 2 members) */
#define LPC_NC_CUTOFF_P 4u        /* pseudo-inverse keeps eigenvalues > P * eps * lambda_max */
/* Neural-collapse metrics (Papyan et al. 2020) with classes by the true
 * `labels` (k >= 2, every class present). mu_G is the global sample mean,
 * Sigma_W = (1/N) sum_i (z_i - mu_{y_i})(z_i - mu_{y_i})^T,
 * Sigma_B = (1/K) sum_c (mu_c - mu_G)(mu_c - mu_G)^T; the pseudo-inverse keeps
 * eigenvalues > max(P, K) * DBL_EPSILON * lambda_max.
 * Optional inputs (NULL when absent):
 *  - w: the classifier, K x P row-major; enables NC3 and NC4;
 *  - b: its bias (K), used by NC4's prediction argmax(W z + b);
 *  - predictions: N class indices that replace argmax(W z + b) in NC4 (NC4
 *    is then available without w).
 * Ties in argmax / nearest mean go to the lowest class index.
 * LPC_E_NUMERIC when all class means coincide. On success *out is a new
 * handle owned by the caller. */
LPC_API lpc_status lpc_nc_compute(const float *z, int64_t n, int p, const int32_t *labels, int k,
                                  const float *w, const float *b, const int32_t *predictions,
                                  lpc_nc **out);
/* lpc_nc_compute with conventions (LPC_NC_* flags above; unknown bits are
 * LPC_E_ARG). LPC_NC_BY_PREDICTION needs `predictions` or `w`; every
 * predicted class must then be present. CDNV, the NC1 variants and the ETF
 * error follow the same class membership and Sigma_W convention (CDNV always
 * uses the population V_c of Galanti et al.). */
LPC_API lpc_status lpc_nc_compute_flags(const float *z, int64_t n, int p, const int32_t *labels,
                                        int k, const float *w, const float *b,
                                        const int32_t *predictions, unsigned flags, lpc_nc **out);
/* LPC_E_STATE when the metric was not computed (NC3, NC4, self- and uniform
 * duality without their inputs). */
LPC_API lpc_status lpc_nc_get(const lpc_nc *nc, lpc_nc_metric m, double *value);
LPC_API void lpc_nc_free(lpc_nc *nc);

/* ---- streaming (lib/analysis/nc_stream.c) ---- */

/* Features that do not fit in memory, measured batch by batch in O(K P + P^2)
 * memory (ImageNet-scale sets, or straight from a training run):
 *   pass 1 (lpc_feature_stream_add, then lpc_feature_stream_end_pass): class
 *     means, Sigma_W, Sigma_B and every lpc_nc metric except NC4, the Sigma_W
 *     scalar and the CoV of the latent norms;
 *   pass 2 (the same batches again, then lpc_feature_stream_end_pass): R and NC4,
 *     which need the final class means.
 * Results equal the in-memory functions' up to rounding (the test asks 1e-10
 * relative). Sigma_W is accumulated around a per-class shift (each class's
 * first sample), so collapsed features lose no precision to cancellation.
 * Conventions: NC metrics and R by the true labels; the Sigma_W scalar by the
 * predictions, else argmax(W z + b) when W is given, else the labels (as
 * lpc_sigma_w's `membership`). */
typedef struct lpc_feature_stream lpc_feature_stream;
typedef enum {
    LPC_STREAM_R,        /* lpc_separation_ratio (after pass 2) */
    LPC_STREAM_SIGMA_W,  /* lpc_sigma_w (after pass 1) */
    LPC_STREAM_NORM_COV  /* lpc_norm_cov (after pass 1) */
} lpc_stream_metric;
/* p >= 1 features, k >= 2 classes; w (k x p) and b (k) are optional and
 * copied; flags: 0 or LPC_NC_CUTOFF_P (the other LPC_NC_* flags are LPC_E_ARG).
 * On success *out is a new handle owned by the caller. */
LPC_API lpc_status lpc_feature_stream_new(int p, int k, const float *w, const float *b,
                                          unsigned flags, lpc_feature_stream **out);
/* Adds a batch of n >= 1 rows (z: n x p, labels: n; predictions: n or NULL,
 * borrowed). Give predictions with every batch or with none (LPC_E_STATE
 * otherwise). In pass 2 the batches must be the same samples again. */
LPC_API lpc_status lpc_feature_stream_add(lpc_feature_stream *s, const float *z, int64_t n,
                                          const int32_t *labels, const int32_t *predictions);
/* Ends pass 1 or pass 2. Pass 1 needs every class present (LPC_E_NUMERIC);
 * pass 2 must have seen as many samples per class as pass 1 (LPC_E_STATE).
 * A third call is LPC_E_STATE. */
LPC_API lpc_status lpc_feature_stream_end_pass(lpc_feature_stream *s);
/* After pass 1: a new lpc_nc handle (caller frees) with the metrics so far;
 * NC4 is there after pass 2 when W or predictions were given. */
LPC_API lpc_status lpc_feature_stream_nc(const lpc_feature_stream *s, lpc_nc **out);
/* LPC_E_STATE before the pass that computes the metric has ended, or when it
 * is undefined for the data (the message says why). */
LPC_API lpc_status lpc_feature_stream_get(const lpc_feature_stream *s, lpc_stream_metric m,
                                          double *value);
LPC_API void lpc_feature_stream_free(lpc_feature_stream *s);

/* ---- generalized collapse (lib/analysis/gnc.c) ---- */

/* Measures beyond Papyan et al.'s, as rhubarbwu/neural-collapse and
 * felixsh/nc-toolbox compute them (doc/analysis.md "Generalized collapse
 * metrics"). u_c = (mu_c - mu_G) / |mu_c - mu_G| are the normalised centred
 * class means; kernel statistics run over the K(K-1)/2 pairs c < c'. */
typedef struct lpc_gnc lpc_gnc;
typedef enum {
    LPC_GNC_LOG_MEAN,        /* GNC2 (Liu et al. 2023): mean over pairs of log(1 / |u_c - u_c'|) */
    LPC_GNC_LOG_VAR,         /* ... their population variance (0 for a simplex ETF) */
    LPC_GNC_RIESZ_MEAN,      /* mean over pairs of sign(s) |u_c - u_c'|^-s, s = P - 2 */
    LPC_GNC_RIESZ_VAR,       /* ... their population variance */
    LPC_GNC_LOG_EQUINORM,    /* Wu & Papyan 2024: variance (ddof = 1) of log |mu_c - mu_G| */
    LPC_GNC_WEAK_NC1_BETWEEN, /* Rangamani et al. 2023: Tr(Sigma_B) / (Tr(Sigma_B) + Tr(Sigma_W)) */
    LPC_GNC_WEAK_NC1_WITHIN  /* Tr(Sigma_W) / (Tr(Sigma_B) + Tr(Sigma_W)) */
} lpc_gnc_metric;
#define LPC_GNC_METRIC_COUNT 7
/* "log_mean", "log_var", "riesz_mean", "riesz_var", "log_equinorm",
 * "weak_nc1_between", "weak_nc1_within"; NULL for an unknown value. */
LPC_API const char *lpc_gnc_metric_name(lpc_gnc_metric m);
/* The measures above with classes by `labels` (k >= 2, every class present),
 * Sigma_W and Sigma_B as lpc_nc_compute. The pairwise kernels run in tiles
 * of class pairs (O(K P) memory, threaded, the result independent of the
 * thread count), so K = 10,000 classes need no K x K matrix.
 * LPC_E_NUMERIC when a class mean equals the global mean or two normalised
 * means coincide. On success *out is a new handle owned by the caller. */
LPC_API lpc_status lpc_gnc_compute(const float *z, int64_t n, int p, const int32_t *labels, int k,
                                   lpc_gnc **out);
LPC_API lpc_status lpc_gnc_get(const lpc_gnc *g, lpc_gnc_metric m, double *value);
/* NULL is a no-op. */
LPC_API void lpc_gnc_free(lpc_gnc *g);

LPC_END_DECLS
#endif
