/* liblpc — out-of-distribution (OOD) detection from penultimate features and
 * logits: the scores (maximum softmax probability, maximum logit, energy,
 * Mahalanobis distance, NECO, ViM), the ID/OOD orthogonality of neural
 * collapse (NC5) and the detection metrics (AUROC, AUPR, FPR at 95% TPR).
 * doc/analysis.md "Out-of-distribution detection" gives every formula and
 * its reference.
 *
 * Conventions:
 *  - Every score is larger for in-distribution (ID) inputs; the metrics take
 *    ID as the positive class.
 *  - Features are N x P row-major float32 and logits N x K row-major float32,
 *    borrowed for the call. Every value must be finite.
 *  - The detector and the generalized collapse measures use
 *    lpc_get_num_threads() threads; their results do not depend on it.
 *  - Everything is computed in double. Results come back through the last
 *    parameter; on failure nothing is written there and lpc_last_error() says
 *    what and where: LPC_E_ARG for NULL pointers, sizes and values out of
 *    range, LPC_E_NUMERIC for non-finite input or data the measure is
 *    undefined on (an empty class, a zero mean for NC5), LPC_E_NOMEM. */
#ifndef LPC_OOD_H
#define LPC_OOD_H
#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "samples.h"
#include "status.h"

LPC_BEGIN_DECLS

/* ---- detection metrics (lib/analysis/ood_metrics.c) ---- */

typedef enum {
    LPC_OOD_AUROC,    /* area under the ROC curve, ties counted one half */
    LPC_OOD_AUPR_IN,  /* average precision with ID positive */
    LPC_OOD_AUPR_OUT, /* average precision with OOD positive (scores negated) */
    LPC_OOD_FPR95     /* smallest false-positive rate at a true-positive rate >= 0.95 */
} lpc_ood_metric;
#define LPC_OOD_METRIC_COUNT 4
/* "auroc", "aupr_in", "aupr_out", "fpr95"; NULL for an unknown value. */
LPC_API const char *lpc_ood_metric_name(lpc_ood_metric m);
/* One detection metric of ID scores (n_id >= 1) against OOD scores
 * (n_ood >= 1), exactly as scikit-learn computes it: the ROC and
 * precision-recall points are taken at every distinct score (tied scores
 * form one point), AUROC is the trapezoid area under them (roc_auc_score),
 * AUPR is average_precision_score (sum over points of the recall step times
 * the precision, not a trapezoid), FPR95 is the smallest FPR among the points
 * of roc_curve(drop_intermediate=False) with TPR >= 0.95. O((n_id + n_ood)
 * log(n_id + n_ood)) time, one sort. */
LPC_API lpc_status lpc_ood_metric_compute(const double *id_scores, int64_t n_id,
                                          const double *ood_scores, int64_t n_ood,
                                          lpc_ood_metric m, double *value);

/* ---- scores (lib/analysis/ood_scores.c, lib/analysis/ood_detector.c) ---- */

typedef enum {
    LPC_OOD_MSP,         /* max_c softmax(l / T)_c (Hendrycks & Gimpel 2017) */
    LPC_OOD_MAX_LOGIT,   /* max_c l_c (Hendrycks et al. 2022) */
    LPC_OOD_ENERGY,      /* T log sum_c exp(l_c / T), the negative free energy (Liu et al. 2020) */
    LPC_OOD_MAHALANOBIS, /* -min_c (z - mu_c)^T Sigma^+ (z - mu_c) (Lee et al. 2018) */
    LPC_OOD_NECO,        /* |P_d s(z)| / |s(z)| (Ben Ammar et al. 2024) */
    LPC_OOD_VIM          /* energy - alpha |residual of z - o| (Wang et al. 2022) */
} lpc_ood_score;
#define LPC_OOD_SCORE_COUNT 6
/* "msp", "max_logit", "energy", "mahalanobis", "neco", "vim"; NULL for an
 * unknown value. */
LPC_API const char *lpc_ood_score_name(lpc_ood_score s);

/* A logit-only score (LPC_OOD_MSP, LPC_OOD_MAX_LOGIT or LPC_OOD_ENERGY;
 * the others are LPC_E_ARG) of n >= 1 rows of k >= 1 logits, at temperature
 * T > 0 (T = 1 is the usual choice; the maximum logit ignores it). Writes n
 * scores. Softmax and log-sum-exp are shifted by the row maximum, so any
 * finite logits work. */
LPC_API lpc_status lpc_ood_logit_score(const float *logits, int64_t n, int k, lpc_ood_score s,
                                       double temperature, double *scores);

/* A detector fitted on labelled ID training features: the state of the
 * feature scores (Mahalanobis, NECO, ViM) and NC5. */
typedef struct lpc_ood_detector lpc_ood_detector;

/* Options of lpc_ood_detector_new; lpc_ood_detector_options_init sets
 * size = sizeof and every default below. The library reads only the fields
 * that lie within `size`. */
typedef struct {
    size_t size;
    /* The classifier z -> W z + b: w K x P row-major, b K (NULL: no bias).
     * Optional (NULL, the default); copied. It supplies the logits of
     * lpc_ood_detector_score when none are given, and ViM needs it. */
    const float *w;
    const float *b;
    /* Logit temperature T > 0 of MSP and energy. Default 1. */
    double temperature;
    /* NECO: number d of principal components kept, in [1, P]; 0 (default)
     * selects min(K - 1, P) when K >= 2. */
    int neco_dim;
    /* NECO: standardise every feature with the training mean and population
     * std first (a constant feature is only centred), as the authors' code
     * does: score |P_d x| / |x| of the standardised x. 0: the PCA of the raw
     * features, score |P_d (z - mean)| / |z|. Default 1. */
    int neco_standardize;
    /* NECO: multiply the score by the maximum logit (the authors' variant for
     * vision transformers). Default 0. */
    int neco_max_logit;
    /* ViM: dimension D of the principal space, in [1, P); 0 (default) selects
     * the authors' choice: 1000 for P >= 2048, 512 for P >= 768, else P / 2. */
    int vim_dim;
} lpc_ood_detector_options;
LPC_API void lpc_ood_detector_options_init(lpc_ood_detector_options *o);

/* Fits a detector on the n ID training rows of `features` (lpc_samples,
 * samples.h): z = features->x, n x P with P = c*h*w (c = P, h = w = 1 for
 * feature vectors; P <= INT_MAX), and features->labels (required) in
 * [0, k) (k >= 1, every class present). It stores the class means mu_c, the pseudo-
 * inverse of the shared within-class covariance
 * Sigma = (1/n) sum_i (z_i - mu_{y_i})(z_i - mu_{y_i})^T (eigenvalues
 * <= P eps lambda_max dropped, as scikit-learn's EmpiricalCovariance), the
 * NECO principal axes and, with w, ViM's origin o = -W^+ b, residual space
 * and scale alpha. o (NULL: defaults) is read for this call only. A score
 * that is undefined on the training data (Mahalanobis when Sigma is zero,
 * ViM when the residuals are all zero or P < 2) does not fail the fit:
 * lpc_ood_detector_score then says why with LPC_E_NUMERIC.
 * O(n P^2 + P^3) time; P x P memory.
 * On success *out is a new detector owned by the caller. */
LPC_API lpc_status lpc_ood_detector_new(const lpc_samples *features, int k,
                                        const lpc_ood_detector_options *o,
                                        lpc_ood_detector **out);
/* Scores n >= 1 rows: z (n x P features of the fitted width) and logits
 * (n x K; NULL computes them as W z + b when the detector has w). The logit
 * scores need logits or w; Mahalanobis needs neither; NECO needs logits only
 * with neco_max_logit; ViM needs w (and its logits, if given, should be
 * W z + b). LPC_E_STATE when what the score needs is missing,
 * LPC_E_NUMERIC when the score is undefined (see lpc_ood_detector_new, and
 * NECO on a row equal to the training mean). Writes n scores. */
LPC_API lpc_status lpc_ood_detector_score(const lpc_ood_detector *d, lpc_ood_score s,
                                          const float *z, const float *logits, int64_t n,
                                          double *scores);
/* NC5, the ID/OOD orthogonality of Ben Ammar et al. 2024: the mean over classes
 * of |cos(mu_c, mu_OOD)|, mu_c the (uncentred) training class means and
 * mu_OOD the mean of the n >= 1 OOD rows z_ood (n x P); 0 when they are
 * orthogonal. LPC_E_NUMERIC when mu_OOD or a class mean is zero. */
LPC_API lpc_status lpc_ood_detector_nc5(const lpc_ood_detector *d, const float *z_ood, int64_t n,
                                        double *value);
/* Feature width P and class count K of a fitted detector (0 for NULL). */
LPC_API int lpc_ood_detector_dim(const lpc_ood_detector *d);
LPC_API int lpc_ood_detector_classes(const lpc_ood_detector *d);
/* NULL is a no-op. */
LPC_API void lpc_ood_detector_free(lpc_ood_detector *d);

LPC_END_DECLS
#endif
