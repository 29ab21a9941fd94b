/* Shared by the Lipschitz files of lib/analysis/ (never installed). */
#ifndef LPC_LIPSCHITZ_INTERNAL_H
#define LPC_LIPSCHITZ_INTERNAL_H
#include "../core/internal.h"

/* sup_x |d/dx x sigmoid(x)| = 1.0998..., rounded up. */
double lpci_silu_max_slope(void);
/* Spectral norm of the r x c row-major matrix w: exact (up to rounding,
 * allowed for) from the eigenvalues of the smaller Gram matrix when
 * min(r, c) <= dense_limit, else lpci_lanczos_max (at most max_iter
 * products, tolerance tol, start drawn with seed). */
lpc_status lpci_dense_norm(const char *who, const float *w, int64_t r, int64_t c,
                           int dense_limit, int max_iter, double tol, uint64_t seed,
                           double *norm);
/* out = A^T A u for an operator A on d values (u, out: d doubles). */
typedef lpc_status (*lpci_gram_fn)(void *op, const double *u, double *out);
/* Largest eigenvalue of the d x d operator B = A^T A behind gram by
 * restarted Lanczos (lib/analysis/lipschitz_lanczos.c): a Ritz value, so a
 * lower estimate, refined until its residual or its change over a restart
 * is <= tol times it, or after max_products products; start vector drawn
 * from rng. */
lpc_status lpci_lanczos_max(int64_t d, lpci_gram_fn gram, void *op, int max_products,
                            double tol, lpc_rng *rng, double *lambda);
/* Bound of the composition chain[n_chain-1] o ... o chain[0] for inputs
 * c x h x w (c when h = w = 1); errors name `who`. */
lpc_status lpci_lipschitz_walk(const char *who, lpc_module *const *chain, int n_chain, int c,
                               int h, int w, const lpc_lipschitz_bound_options *opt,
                               double *bound);
#endif
