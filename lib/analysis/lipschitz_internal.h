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
/* Certified upper bound of the spectral norm of the r x c row-major
 * matrix a (lib/analysis/lipschitz_gram.c): a Cholesky factorisation
 * proves c I - A A^T positive semi-definite for c about (1 + 2 tol) times
 * the Lanczos estimate (tol in [1e-13, 1e-2]: Lanczos' tolerance), with
 * every rounding accounted for; the Frobenius norm when min(r, c) > 4096
 * or no c passes. a is scaled in place by powers of two and restored
 * exactly. */
lpc_status lpci_norm_upper(const char *who, double *a, int64_t r, int64_t c, double tol,
                           double *bound);
/* Certified upper bound of the L2 norm of the zero-padded convolution
 * with kernel w (co x ci x kh x kw), each output channel o scaled by
 * scale[o] (NULL: 1), for any input size and stride: sqrt(kh kw) times
 * the smallest lpci_norm_upper of the kernel's four reshapes. */
lpc_status lpci_conv_norm_upper(const char *who, const float *w, const double *scale,
                                int64_t co, int64_t ci, int64_t kh, int64_t kw, double *bound);
/* Certified upper bound of the same operator's norm for an h x wd input,
 * any stride and padding (lib/analysis/lipschitz_freq.c): the largest
 * frequency block of the circular convolution on (h + kh - 1) x
 * (wd + kw - 1). INFINITY when that costs more than max_cost (in units of
 * (2 min(co, ci))^3 per frequency). */
lpc_status lpci_conv_norm_freq(const char *who, const float *w, const double *scale, int64_t co,
                               int64_t ci, int64_t kh, int64_t kw, int64_t h, int64_t wd,
                               double max_cost, double *bound);
/* Product of the bounds of the composition chain[n_chain-1] o ... o
 * chain[0] for inputs c x h x w (c when h = w = 1); errors name `who`.
 * certified: operator norms from lpci_norm_upper / lpci_conv_norm_upper
 * (a guarantee); otherwise the estimates of lpci_dense_norm and Lanczos. */
lpc_status lpci_lipschitz_walk(const char *who, lpc_module *const *chain, int n_chain, int c,
                               int h, int w, const lpc_lipschitz_bound_options *opt,
                               int certified, double *bound);
#endif
