/* liblpc — Lipschitz measures of a classifier: the gradient norm of the
 * classification margin at data points (an empirical, local estimate), and
 * guaranteed upper bounds of the network's L2 Lipschitz constant computed
 * from its weights, with the certified radii they give, and a tighter
 * estimate of that bound that is not a guarantee. Formulas, conventions and how
 * loose the bounds are: doc/robustness.md, "Lipschitz constant".
 *
 * Common arguments:
 *  - model: maps N x C x H x W (or N x C when h = w = 1) to an output; it
 *    must be in evaluation mode (lpc_module_set_train(model, 0)), a model in
 *    training mode is LPC_E_STATE (batch norm is then a fixed per-channel
 *    affine map, which both measures need).
 *  - samples (lpc_samples, samples.h): n samples x of c*h*w floats,
 *    row-major, and their labels, borrowed.
 *  - Options structs: set them with the matching _options_init (which sets
 *    size = sizeof and every default), then change fields; NULL means all
 *    defaults. The library reads only the fields within `size`.
 * Errors: LPC_E_ARG (NULL, sizes, bad options, labels out of range),
 * LPC_E_STATE (training mode, a module that cannot be bounded),
 * LPC_E_SHAPE (an output that is not N x K logits), LPC_E_NUMERIC
 * (non-finite logits, gradients or weights), with lpc_last_error(); nothing
 * is written to the outputs then. Thread count: lpc_set_num_threads; the
 * results do not depend on it. */
#ifndef LPC_LIPSCHITZ_H
#define LPC_LIPSCHITZ_H
#include <stddef.h>
#include "head.h"

/* ---- estimated: gradient norm of the margin at the samples ---- */

typedef struct {
    size_t size;
    int chunk;       /* samples per forward/backward pass, >= 1 (default 256) */
    double min_norm; /* the summaries skip norms <= min_norm, as the LPC authors'
                      * code does (default 1e-9; 0 or more) */
} lpc_lipschitz_estimate_options;

/* Summary of the per-sample norms. The caller sets `size` (sizeof) before
 * the call; the library writes only the fields within it. "correct": samples
 * whose largest logit (lowest index on ties) is their label. max and mean are
 * 0 when no sample is counted. */
typedef struct {
    size_t size;
    int64_t count;         /* samples with a norm > min_norm */
    double max, mean;      /* of their norms */
    int64_t count_correct; /* of them, the correctly classified */
    double max_correct, mean_correct;
} lpc_lipschitz_summary;

/* ---- certified: upper bounds from the weights ---- */

/* A caller's bound for a module the library cannot bound itself (a custom
 * module, lpc_module_new): the L2 Lipschitz constant of m for inputs of
 * shape `in_shape` (in_ndim entries, the batch dimension first and 1) into
 * *bound (finite, >= 0). Any other status stops the bound with that status. */
typedef lpc_status (*lpc_lipschitz_custom_fn)(lpc_module *m, int in_ndim,
                                              const int64_t *in_shape, void *user,
                                              double *bound);

typedef struct {
    size_t size;
    /* tol, max_iter, seed and dense_limit steer lpc_lipschitz_bound_estimate
     * only; the certified bound reads custom and custom_user. */
    double tol;      /* each operator norm (Lanczos on A^T A) is refined until its
                      * residual, or its change over a restart, is <= tol times it;
                      * in (0, 0.1] (default 1e-6) */
    int max_iter;    /* at most this many operator products per norm, >= 1
                      * (default 1000) */
    uint64_t seed;   /* of the start vectors (default 0) */
    int dense_limit; /* linear layers whose smaller side is <= dense_limit get their
                      * exact spectral norm from a symmetric eigensolver, larger
                      * ones Lanczos; 0 .. 4096 (default 256) */
    lpc_lipschitz_custom_fn custom; /* bounds for custom modules (default NULL) */
    void *custom_user;              /* passed to custom */
} lpc_lipschitz_bound_options;

/* Certified radii from a bound of the latent map and a linear classifier. */
typedef struct lpc_lipschitz_cert lpc_lipschitz_cert;

LPC_BEGIN_DECLS
LPC_API void lpc_lipschitz_estimate_options_init(lpc_lipschitz_estimate_options *o);
/* Per sample i with label y = samples->labels[i] (required, in [0, K)):
 * the L2 norm of the input gradient of the margin f_y(x) - max_{j != y}
 * f_j(x) at x_i, with f the model's N x K output (K >= 2; the competing
 * class is the largest other logit, lowest index on ties). norms (n entries) and summary may
 * each be NULL, not both. Parameter gradients of the model are set to zero
 * on return (also on failure): call it between training steps. */
LPC_API lpc_status lpc_lipschitz_estimate(lpc_module *model, const lpc_samples *samples,
                                          const lpc_lipschitz_estimate_options *opt,
                                          double *norms, lpc_lipschitz_summary *summary);

LPC_API void lpc_lipschitz_bound_options_init(lpc_lipschitz_bound_options *o);
/* A guaranteed upper bound of the L2 Lipschitz constant of the model's map
 * for inputs of shape c x h x w (or c when h = w = 1), into *bound: the
 * product of its parts' bounds, each operator norm bounded from above with
 * floating-point rounding accounted for (see doc/robustness.md on how
 * loose it is). Linear layers by their spectral norm, convs by the
 * smaller of the largest frequency block of the circular convolution that
 * contains them (for their input size, when affordable) and sqrt(kh kw)
 * times the smallest spectral norm of four reshapes of the kernel (a conv
 * followed by a batch norm as one operator, any stride, zero padding),
 * batch norm by max |gamma| / sqrt(var + eps), ReLU by 1, SiLU by its
 * largest slope 1.0998..., residual blocks by slope * (branch + shortcut),
 * global average pooling by 1 / sqrt(H W); composition multiplies. A
 * custom module needs opt->custom (LPC_E_STATE naming the module
 * otherwise); its bound is taken as given. The other options are checked
 * but do not change the bound. Parameters are only read. */
LPC_API lpc_status lpc_lipschitz_bound(lpc_module *model, int c, int h, int w,
                                       const lpc_lipschitz_bound_options *opt, double *bound);
/* The same product with each linear operator's norm estimated instead:
 * exact (eigensolver) for linear layers whose smaller side is <=
 * opt->dense_limit, otherwise restarted Lanczos on A^T A, whose values
 * converge to the operator norm from below (convs on the c x h x w input
 * they receive). An estimate of the product of the exact operator norms,
 * tighter than lpc_lipschitz_bound but not a guarantee: do not certify
 * with it. Arguments and errors as lpc_lipschitz_bound. */
LPC_API lpc_status lpc_lipschitz_bound_estimate(lpc_module *model, int c, int h, int w,
                                                const lpc_lipschitz_bound_options *opt,
                                                double *estimate);
/* Certificate for the head's classifier: L_z bounds x -> z (backbone and
 * penultimate layer, the guarantee of lpc_lipschitz_bound), the classifier weight W
 * (K x P) is copied. *out is the caller's: lpc_lipschitz_cert_free. */
LPC_API lpc_status lpc_lipschitz_cert_head(lpc_head *head, int c, int h, int w,
                                           const lpc_lipschitz_bound_options *opt,
                                           lpc_lipschitz_cert **out);
/* The same from a known bound latent_bound (finite, >= 0) of x -> z and a
 * classifier w (k x p row-major, copied; k >= 2, p >= 1). */
LPC_API lpc_status lpc_lipschitz_cert_new(double latent_bound, const float *w, int k, int64_t p,
                                          lpc_lipschitz_cert **out);
/* L_z into *bound. */
LPC_API lpc_status lpc_lipschitz_cert_latent(const lpc_lipschitz_cert *cert, double *bound);
/* The bound L_z * |W_y - W_j|_2 of the logit difference f_y - f_j (y, j in
 * [0, K)) into *bound. */
LPC_API lpc_status lpc_lipschitz_cert_pair(const lpc_lipschitz_cert *cert, int y, int j,
                                           double *bound);
/* Certified radius per sample from its logits (n x K, those of the model the
 * certificate bounds; a bias of the classifier is in them) and label:
 * min over j != y of (f_y - f_j) / (L_z |W_y - W_j|), 0 when that is not
 * positive (misclassified or tied); a pair with W_y = W_j counts only when
 * f_y <= f_j. No input within that L2 distance changes the prediction from
 * y. radii: n entries. */
LPC_API lpc_status lpc_lipschitz_cert_radii(const lpc_lipschitz_cert *cert, const float *logits,
                                            int64_t n, const int32_t *labels, double *radii);
LPC_API void lpc_lipschitz_cert_free(lpc_lipschitz_cert *cert); /* NULL is a no-op */
/* Certified accuracy at each radius eps[r] (finite, >= 0): the fraction of
 * the n radii that are > eps[r] (n_eps entries into accuracy). */
LPC_API lpc_status lpc_certified_accuracy(const double *radii, int64_t n, const double *eps,
                                          int n_eps, double *accuracy);
LPC_END_DECLS
#endif
