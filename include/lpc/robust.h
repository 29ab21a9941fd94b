/* liblpc — robustness to input perturbations: the DeepFool attack
 * (Moosavi-Dezfooli et al. 2016), LTS4 multi-class variant (doc/method.md §6).
 *
 * Candidates are the top nc = min(num_candidates, K) classes of the clean
 * logits (fixed); the reference is the predicted class. Each iteration at
 * x = x0 + (1+overshoot) r_tot picks, over the candidates k, the smallest
 * |f_k - f_0| / |grad f_k - grad f_0| and adds that step plus 1e-4 along
 * (grad f_l - grad f_0) / |.| to r_tot. A sample stops when the argmax over
 * all logits changes or after max_iter steps (or, degenerate, when every
 * candidate has the same gradient as the reference); its perturbation is
 * (1+overshoot) r_tot. No clipping: inputs live in the model's (normalised)
 * space. The paper's settings: num_candidates 10, overshoot 0.02, max_iter 50.
 *
 * Common arguments:
 *  - model: maps N x C x H x W (or N x C when h = w = 1) to logits N x K. It
 *    must be in evaluation mode (lpc_module_set_train(model, 0)); a model in
 *    training mode is refused with LPC_E_STATE. The attack runs backward
 *    passes through the model, so parameter gradients are set to zero on
 *    return (also on failure): call it between training steps, never between
 *    a backward pass and the optimizer step.
 *  - x: n samples of c*h*w floats, row-major, borrowed. Each sample must be
 *    finite with a non-zero norm (LPC_E_NUMERIC otherwise).
 *  - A logit or input gradient of the model that is NaN or infinite (e.g.
 *    non-finite weights) is LPC_E_NUMERIC naming the sample; no result then.
 * Samples are processed in chunks of 256; all arithmetic on the
 * perturbation is in double. Thread count: lpc_set_num_threads. */
#ifndef LPC_ROBUST_H
#define LPC_ROBUST_H
#include "module.h"

#define LPC_DEEPFOOL_CANDIDATES 10
#define LPC_DEEPFOOL_OVERSHOOT 0.02
#define LPC_DEEPFOOL_MAX_ITER 50

LPC_BEGIN_DECLS
/* Robustness ratios |r_i|_2 / |x_i|_2: written to ratios (n entries, may be
 * NULL) and their mean to *mean_ratio (required). Misclassified samples are
 * included, as in the paper. */
LPC_API lpc_status lpc_deepfool(lpc_module *model, const float *x, int64_t n, int c, int h,
                                int w, int num_candidates, double overshoot, int max_iter,
                                double *ratios, double *mean_ratio);
/* The perturbations themselves: r (n x c*h*w floats, required) receives
 * (1+overshoot) r_tot per sample, iterations (n entries, may be NULL) the
 * number of steps taken. */
LPC_API lpc_status lpc_deepfool_perturb(lpc_module *model, const float *x, int64_t n, int c,
                                        int h, int w, int num_candidates, double overshoot,
                                        int max_iter, float *r, int *iterations);
/* Which test samples DeepFool measures (flags of lpc_deepfool_pick):
 * 0 is liblpc's default, the first `count` samples; the authors draw 1,000
 * random test images (LPC_PICK_RANDOM), and their newer code measures
 * correctly classified samples only (LPC_PICK_CORRECT). Both together draw
 * at random among the correctly classified. */
#define LPC_PICK_RANDOM 1u
#define LPC_PICK_CORRECT 2u
/* Writes up to `count` distinct sample indices in [0, n), ascending, to idx
 * (count entries) and their number to *picked (less than count only when
 * fewer samples qualify). LPC_PICK_CORRECT needs labels and predictions (n
 * each); LPC_PICK_RANDOM draws uniformly without replacement from a generator
 * seeded with `seed` (same seed, same picks). LPC_E_ARG for NULL outputs,
 * n < 0, count < 1, unknown flags or missing labels. */
LPC_API lpc_status lpc_deepfool_pick(int64_t n, int64_t count, unsigned flags, uint64_t seed,
                                     const int32_t *labels, const int32_t *predictions,
                                     int64_t *idx, int64_t *picked);
LPC_END_DECLS
#endif
