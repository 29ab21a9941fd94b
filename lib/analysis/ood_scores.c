/* Logit-only OOD scores: maximum softmax probability, maximum logit and
 * energy, each row shifted by its maximum so that no exponential overflows. */
#include <math.h>
#include "ood_internal.h"

const char *lpc_ood_score_name(lpc_ood_score s)
{
    switch (s) {
    case LPC_OOD_MSP: return "msp";
    case LPC_OOD_MAX_LOGIT: return "max_logit";
    case LPC_OOD_ENERGY: return "energy";
    case LPC_OOD_MAHALANOBIS: return "mahalanobis";
    case LPC_OOD_NECO: return "neco";
    case LPC_OOD_VIM: return "vim";
    }
    return NULL;
}

double lpci_ood_max(const double *l, int k)
{
    double mx = l[0];
    for (int c = 1; c < k; c++)
        mx = l[c] > mx ? l[c] : mx;
    return mx;
}

double lpci_ood_logsumexp(const double *l, int k, double t)
{
    double mx = lpci_ood_max(l, k), sum = 0.0;
    for (int c = 0; c < k; c++)
        sum += exp((l[c] - mx) / t);
    return mx / t + log(sum);
}

double lpci_ood_logit_row(const double *l, int k, lpc_ood_score s, double t)
{
    if (s == LPC_OOD_MAX_LOGIT)
        return lpci_ood_max(l, k);
    if (s == LPC_OOD_ENERGY)
        return t * lpci_ood_logsumexp(l, k, t);
    /* MSP: exp(max/T - logsumexp(l/T)) */
    return exp(lpci_ood_max(l, k) / t - lpci_ood_logsumexp(l, k, t));
}

lpc_status lpci_ood_check_logit_score(const char *fn, lpc_ood_score s, double t)
{
    if (s != LPC_OOD_MSP && s != LPC_OOD_MAX_LOGIT && s != LPC_OOD_ENERGY)
        return lpci_error(LPC_E_ARG, "%s: score %d (%s) is not a logit score", fn, (int)s,
                          lpc_ood_score_name(s) ? lpc_ood_score_name(s) : "unknown");
    if (!(t > 0.0) || !isfinite(t))
        return lpci_error(LPC_E_ARG, "%s: temperature %g must be finite and > 0", fn, t);
    return LPC_OK;
}

lpc_status lpci_ood_check_matrix(const char *fn, const char *what, const float *x, int64_t n,
                                 int cols)
{
    if (!x)
        return lpci_error(LPC_E_ARG, "%s: %s are NULL", fn, what);
    size_t total;
    if (n < 1 || cols < 1 || lpci_mul_size((size_t)n, (size_t)cols, &total) ||
        lpci_mul_size(total, sizeof(double), &total))
        return lpci_error(LPC_E_ARG, "%s: %s must be N x %d with N >= 1 and a size that "
                          "fits, got N = %lld", fn, what, cols, (long long)n);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < cols; j++)
            if (!isfinite(x[i * cols + j]))
                return lpci_error(LPC_E_NUMERIC, "%s: %s [%lld, %d] is not finite", fn, what,
                                  (long long)i, j);
    return LPC_OK;
}

lpc_status lpc_ood_logit_score(const float *logits, int64_t n, int k, lpc_ood_score s,
                               double temperature, double *scores)
{
    const char *fn = "lpc_ood_logit_score";
    lpc_status st = lpci_ood_check_logit_score(fn, s, temperature);
    if (st != LPC_OK)
        return st;
    if (!scores)
        return lpci_error(LPC_E_ARG, "%s: scores are NULL", fn);
    st = lpci_ood_check_matrix(fn, "logits", logits, n, k);
    if (st != LPC_OK)
        return st;
    double *row = lpci_malloc((size_t)k * sizeof *row);
    if (!row)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d logits", fn, k);
    for (int64_t i = 0; i < n; i++) {
        for (int c = 0; c < k; c++)
            row[c] = logits[i * k + c];
        scores[i] = lpci_ood_logit_row(row, k, s, temperature);
    }
    lpci_free(row);
    return LPC_OK;
}
