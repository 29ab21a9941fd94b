/* Helpers shared by lib/analysis/ (never installed). */
#ifndef LPC_ANALYSIS_INTERNAL_H
#define LPC_ANALYSIS_INTERNAL_H
#include "../core/internal.h"

/* The sample view s: non-NULL, size >= sizeof(lpc_samples), x non-NULL,
 * n, c, h, w >= 1, n x c x h x w floats addressable, and with k >= 1 every
 * label (when labels is non-NULL) in [0, k); LPC_E_ARG naming `fn`. */
lpc_status lpci_samples_check(const char *fn, const lpc_samples *s, int k);
/* Copies an outputs struct (leading size_t size) into dst of dst_size
 * bytes: the members within src->size, the rest NULL; src NULL gives all
 * NULL. LPC_E_ARG naming `fn` when src->size < sizeof(size_t). */
lpc_status lpci_outputs_read(const char *fn, void *dst, size_t dst_size, const void *src);

/* z non-NULL, n >= 1, p >= 1 and every value finite; errors name `fn`. */
lpc_status lpci_check_features(const char *fn, const float *z, int64_t n, int p);
/* labels non-NULL, k >= 1, each label in [0, k); counts (k entries, may be
 * NULL) receives the class sizes. With need_all, an empty class is an error. */
/* Labels in [0, k) (LPC_E_ARG naming the sample otherwise); *used = largest
 * label + 1. need_all: every class needs a sample, so k <= n and *used == k
 * (LPC_E_NUMERIC otherwise). Run before sizing anything by k, which may be
 * as large as INT_MAX while the data hold a handful of classes. */
lpc_status lpci_label_span(const char *fn, const int32_t *labels, int64_t n, int k, int need_all,
                           int *used);
lpc_status lpci_check_classes(const char *fn, const int32_t *labels, int64_t n, int k,
                              int need_all, int64_t *counts);
/* LPC_E_ARG naming `fn` unless the k x k and k x p double matrices (and the
 * p x p one with square_p) of a class count and a width fit in size_t: run
 * before allocating them, since k and p are the caller's. */
lpc_status lpci_check_matrix_sizes(const char *fn, int k, int p, int square_p);
/* Class centroids in double (k x p, row-major) from labels with known counts
 * (every class non-empty). */
void lpci_class_means(const float *z, int64_t n, int p, const int32_t *labels, int k,
                      const int64_t *counts, double *means);

/* Symmetric eigendecomposition of the n x n row-major matrix a (only read):
 * eigenvalues in descending order into w (n), eigenvectors as the columns of
 * v (n x n, row-major; v[r*n + j] is component r of vector j). Cyclic Jacobi
 * in double. LPC_E_NUMERIC for non-finite input or no convergence. */
lpc_status lpci_eigh(const double *a, int n, double *w, double *v);
#endif
