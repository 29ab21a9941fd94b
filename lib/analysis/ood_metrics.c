/* OOD detection metrics as scikit-learn computes them (roc_auc_score,
 * average_precision_score, roc_curve): one sort of all scores, then a walk
 * over the distinct score values, each value one ROC / precision-recall
 * point. ID is the positive class. */
#include <math.h>
#include <stdlib.h>
#include "analysis_internal.h"
#include "lpc/ood.h"

typedef struct {
    double s;
    int id; /* 1 for an ID sample */
} scored;

/* Descending score; the order within a tie does not matter (ties are one point). */
static int by_score_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

const char *lpc_ood_metric_name(lpc_ood_metric m)
{
    switch (m) {
    case LPC_OOD_AUROC: return "auroc";
    case LPC_OOD_AUPR_IN: return "aupr_in";
    case LPC_OOD_AUPR_OUT: return "aupr_out";
    case LPC_OOD_FPR95: return "fpr95";
    }
    return NULL;
}

static lpc_status check_scores(const char *what, const double *x, int64_t n)
{
    const char *fn = "lpc_ood_metric_compute";
    if (!x)
        return lpci_error(LPC_E_ARG, "%s: %s scores are NULL", fn, what);
    if (n < 1)
        return lpci_error(LPC_E_ARG, "%s: %lld %s scores (need >= 1)", fn, (long long)n, what);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return lpci_error(LPC_E_NUMERIC, "%s: %s score %lld is not finite", fn, what,
                              (long long)i);
    return LPC_OK;
}

/* Walks the points in descending score (positives = ID) or, for AUPR-Out,
 * ascending score (positives = OOD, the negated scores descending). */
static double walk(const scored *v, int64_t n, int64_t n_id, int64_t n_ood, lpc_ood_metric m)
{
    int reverse = m == LPC_OOD_AUPR_OUT;
    int64_t n_pos = reverse ? n_ood : n_id, n_neg = reverse ? n_id : n_ood;
    int64_t tp = 0, fp = 0;
    double area = 0.0;
    for (int64_t a = 0; a < n;) {
        int64_t b = a, dtp = 0, dfp = 0;
        double s = v[reverse ? n - 1 - a : a].s;
        for (; b < n && v[reverse ? n - 1 - b : b].s == s; b++) {
            int pos = v[reverse ? n - 1 - b : b].id != reverse;
            dtp += pos;
            dfp += !pos;
        }
        int64_t tp0 = tp, fp0 = fp;
        tp += dtp;
        fp += dfp;
        if (m == LPC_OOD_AUROC) {
            area += (double)(fp - fp0) * (double)(tp + tp0);
        } else if (m == LPC_OOD_FPR95) {
            if ((double)tp / (double)n_pos >= 0.95)
                return (double)fp / (double)n_neg;
        } else if (dtp > 0) {
            /* recall step times the precision at this point */
            area += ((double)dtp / (double)n_pos) * ((double)tp / (double)(tp + fp));
        }
        a = b;
    }
    if (m == LPC_OOD_AUROC)
        return area / (2.0 * (double)n_pos * (double)n_neg);
    return m == LPC_OOD_FPR95 ? 1.0 : area;
}

lpc_status lpc_ood_metric_compute(const double *id_scores, int64_t n_id,
                                  const double *ood_scores, int64_t n_ood, lpc_ood_metric m,
                                  double *value)
{
    const char *fn = "lpc_ood_metric_compute";
    if (!lpc_ood_metric_name(m))
        return lpci_error(LPC_E_ARG, "%s: unknown metric %d", fn, (int)m);
    if (!value)
        return lpci_error(LPC_E_ARG, "%s: value is NULL", fn);
    lpc_status s = check_scores("ID", id_scores, n_id);
    if (s == LPC_OK)
        s = check_scores("OOD", ood_scores, n_ood);
    if (s != LPC_OK)
        return s;
    size_t bytes;
    if (n_id > INT64_MAX - n_ood || lpci_mul_size((size_t)(n_id + n_ood), sizeof(scored), &bytes))
        return lpci_error(LPC_E_ARG, "%s: %lld + %lld scores overflow the size", fn,
                          (long long)n_id, (long long)n_ood);
    int64_t n = n_id + n_ood;
    scored *v = lpci_malloc(bytes);
    if (!v)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %lld scores", fn, (long long)n);
    for (int64_t i = 0; i < n_id; i++)
        v[i] = (scored){id_scores[i], 1};
    for (int64_t i = 0; i < n_ood; i++)
        v[n_id + i] = (scored){ood_scores[i], 0};
    qsort(v, (size_t)n, sizeof *v, by_score_desc);
    *value = walk(v, n, n_id, n_ood, m);
    lpci_free(v);
    return LPC_OK;
}
