/* Helpers shared by the OOD scores (ood_scores.c) and the detector
 * (ood_detector.c). Never installed. */
#ifndef LPC_OOD_INTERNAL_H
#define LPC_OOD_INTERNAL_H
#include "lpc/ood.h"
#include "analysis_internal.h"

/* max_c l_c over k >= 1 values. */
double lpci_ood_max(const double *l, int k);
/* log sum_c exp(l_c / t), shifted by the maximum. */
double lpci_ood_logsumexp(const double *l, int k, double t);
/* MSP, maximum logit or energy of one row of logits at temperature t. */
double lpci_ood_logit_row(const double *l, int k, lpc_ood_score s, double t);
/* LPC_E_ARG unless s is a logit score and t is finite and > 0. */
lpc_status lpci_ood_check_logit_score(const char *fn, lpc_ood_score s, double t);
/* x non-NULL, n >= 1 rows of cols >= 1 finite values, n * cols within size_t;
 * `what` names the matrix in the message. */
lpc_status lpci_ood_check_matrix(const char *fn, const char *what, const float *x, int64_t n,
                                 int cols);
/* Symmetric eigendecomposition of the n x n row-major a (only read; it is
 * symmetrised first): eigenvalues descending into w (n), eigenvector j as
 * row j of rows (n x n). Householder + implicit QL (symeig.c), O(n^3).
 * LPC_E_NUMERIC for non-finite input or no convergence. */
lpc_status lpci_eigh_rows(const double *a, int n, double *w, double *rows);
#endif
