/* Argument checks and class centroids shared by the analysis functions. */
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

lpc_status lpci_check_features(const char *fn, const float *z, int64_t n, int p)
{
    if (!z)
        return lpci_error(LPC_E_ARG, "%s: features are NULL", fn);
    if (n < 1 || p < 1)
        return lpci_error(LPC_E_ARG, "%s: features must be N x P with N, P >= 1, got %lld x %d",
                          fn, (long long)n, p);
    if (n > (INT64_MAX / (int64_t)sizeof(double)) / p) /* copied to double by some metrics */
        return lpci_error(LPC_E_ARG, "%s: features of %lld x %d exceed the address space", fn,
                          (long long)n, p);
    int64_t total = n * (int64_t)p;
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(z[i]))
            return lpci_error(LPC_E_NUMERIC, "%s: feature [%lld, %lld] is not finite", fn,
                              (long long)(i / p), (long long)(i % p));
    return LPC_OK;
}

lpc_status lpci_label_span(const char *fn, const int32_t *labels, int64_t n, int k, int need_all,
                           int *used)
{
    if (!labels)
        return lpci_error(LPC_E_ARG, "%s: labels are NULL", fn);
    if (k < 1)
        return lpci_error(LPC_E_ARG, "%s: number of classes %d must be >= 1", fn, k);
    int top = -1;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return lpci_error(LPC_E_ARG, "%s: label %d of sample %lld is not in [0, %d)", fn,
                              (int)labels[i], (long long)i, k);
        top = labels[i] > top ? labels[i] : top;
    }
    if (need_all && (int64_t)k > n)
        return lpci_error(LPC_E_NUMERIC, "%s: %d classes but %lld samples: some class has no "
                          "samples", fn, k, (long long)n);
    if (need_all && top + 1 < k)
        return lpci_error(LPC_E_NUMERIC, "%s: class %d has no samples", fn, top + 1);
    *used = top + 1;
    return LPC_OK;
}

lpc_status lpci_check_classes(const char *fn, const int32_t *labels, int64_t n, int k,
                              int need_all, int64_t *counts)
{
    if (!labels)
        return lpci_error(LPC_E_ARG, "%s: labels are NULL", fn);
    if (k < 1)
        return lpci_error(LPC_E_ARG, "%s: number of classes %d must be >= 1", fn, k);
    if (counts)
        memset(counts, 0, (size_t)k * sizeof *counts);
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return lpci_error(LPC_E_ARG, "%s: label %d of sample %lld is not in [0, %d)", fn,
                              (int)labels[i], (long long)i, k);
        if (counts)
            counts[labels[i]]++;
    }
    if (need_all && counts)
        for (int c = 0; c < k; c++)
            if (counts[c] == 0)
                return lpci_error(LPC_E_NUMERIC, "%s: class %d has no samples", fn, c);
    return LPC_OK;
}

lpc_status lpci_check_matrix_sizes(const char *fn, int k, int p, int square_p)
{
    size_t kk, kp, pp = 0;
    if (lpci_mul_size((size_t)k, (size_t)k * sizeof(double), &kk) ||
        lpci_mul_size((size_t)k, (size_t)p * sizeof(double), &kp) ||
        (square_p && lpci_mul_size((size_t)p, (size_t)p * sizeof(double), &pp)))
        return lpci_error(LPC_E_ARG, "%s: %d classes x %d features: the class matrices (k x k, "
                          "k x p%s doubles) exceed the address space", fn, k, p,
                          square_p ? ", p x p" : "");
    return LPC_OK;
}

void lpci_class_means(const float *z, int64_t n, int p, const int32_t *labels, int k,
                      const int64_t *counts, double *means)
{
    memset(means, 0, (size_t)k * (size_t)p * sizeof *means);
    for (int64_t i = 0; i < n; i++) {
        double *m = means + (size_t)labels[i] * (size_t)p;
        const float *zi = z + i * p;
        for (int j = 0; j < p; j++)
            m[j] += zi[j];
    }
    for (int c = 0; c < k; c++)
        for (int j = 0; j < p; j++)
            means[(size_t)c * (size_t)p + j] /= (double)counts[c];
}
