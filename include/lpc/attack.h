/* liblpc — adversarial attacks beyond DeepFool: the Fast Minimum-Norm
 * attack (FMN, Pintor et al. 2021), projected gradient descent (PGD, Madry
 * et al. 2018), a gradient-free random search in the style of Square Attack
 * (Andriushchenko et al. 2020), and checks for gradient masking built on
 * them. DeepFool itself is declared in robust.h, included here.
 *
 * Common arguments (as DeepFool's, see robust.h):
 *  - model: maps N x C x H x W (or N x C when h = w = 1) to logits N x K,
 *    K >= 2, in evaluation mode (LPC_E_STATE otherwise). Parameter gradients
 *    are zero on return, also on failure.
 *  - samples (lpc_samples, samples.h): n samples x of c*h*w floats as the
 *    model takes them (normalised), row-major, borrowed; finite
 *    (LPC_E_NUMERIC otherwise), and for lpc_fmn non-zero in the domain's
 *    space (its ratios divide by the norm).
 *  - samples->labels: n classes in [0, K), borrowed, or NULL for the
 *    model's own predictions on x. A sample the model already gets wrong is an attack
 *    success at distance 0.
 *  - The domain (lpc_attack_domain, in every options struct) says where the
 *    perturbation lives and how it is measured: the model's normalised input
 *    without bounds (the default, DeepFool's convention), or pixels in [0,1]
 *    before a per-channel normalisation x = (pixel - mean) / std, where the
 *    attack moves pixels, clips them to [0,1], and measures norms and radii
 *    in pixel units. mean and std (c entries each, borrowed, std > 0) are
 *    required for the pixel domain, and every sample's pixels x*std + mean
 *    must lie in [0,1] (within 1e-3, then clipped; LPC_E_ARG otherwise).
 *  - Samples are processed in chunks of 256; perturbations are computed in
 *    double. Per-sample work runs on lpc_set_num_threads threads; results
 *    do not depend on the thread count, and randomised attacks draw from a
 *    generator keyed by (seed, sample index), so they repeat bit for bit
 *    with the same seed.
 *  - Outputs are arrays the caller allocates with the sizes stated; the
 *    library keeps no pointer after a call returns. Where a call fills
 *    several, they come in an lpc_<fn>_outputs struct whose size is
 *    sizeof the struct (LPC_E_ARG when below sizeof(size_t)); a NULL
 *    member is not written.
 *  - Options: NULL means every default; a struct must come from its
 *    _options_init (LPC_E_ARG for a size of 0 or out-of-range fields).
 *  - A non-finite logit or input gradient is LPC_E_NUMERIC naming the
 *    sample; the outputs are then unspecified. */
#ifndef LPC_ATTACK_H
#define LPC_ATTACK_H
#include "module.h"
#include "robust.h"
#include "samples.h"

LPC_BEGIN_DECLS
/* The norm a perturbation is measured and bounded in. */
typedef enum {
    LPC_ATTACK_L2 = 0,
    LPC_ATTACK_LINF = 1
} lpc_attack_norm;
/* "l2", "linf"; NULL for an unknown value. */
LPC_API const char *lpc_attack_norm_name(lpc_attack_norm norm);

/* Where the perturbation lives (see above). */
typedef enum {
    LPC_ATTACK_DOMAIN_NORMALISED = 0, /* model input, unbounded (default) */
    LPC_ATTACK_DOMAIN_PIXEL_BOX = 1   /* pixels in [0,1] before mean/std */
} lpc_attack_domain;
/* "normalised", "pixel-box"; NULL for an unknown value. */
LPC_API const char *lpc_attack_domain_name(lpc_attack_domain domain);

/* The loss PGD ascends. */
typedef enum {
    LPC_ATTACK_LOSS_CROSS_ENTROPY = 0, /* -log softmax(f)_y (default) */
    LPC_ATTACK_LOSS_MARGIN = 1         /* max_{j != y} f_j - f_y */
} lpc_attack_loss;
/* "cross-entropy", "margin"; NULL for an unknown value. */
LPC_API const char *lpc_attack_loss_name(lpc_attack_loss loss);

/* PGD's step-size schedule over the steps of one start. */
typedef enum {
    LPC_ATTACK_STEP_CONSTANT = 0, /* step_fraction * radius throughout (default) */
    LPC_ATTACK_STEP_COSINE = 1    /* cosine-annealed from that to 0 */
} lpc_attack_schedule;
/* "constant", "cosine"; NULL for an unknown value. */
LPC_API const char *lpc_attack_schedule_name(lpc_attack_schedule schedule);

/* ---- Fast Minimum-Norm attack --------------------------------------------
 * Per step i of `steps`: the margin f_y - max_{j != y} f_j and its input
 * gradient at x + delta; the smallest adversarial delta seen so far is kept.
 * The radius eps shrinks by (1 - gamma_i) while x + delta is adversarial
 * (and never exceeds the best norm), grows by (1 + gamma_i) once an
 * adversarial point has been seen, and before that is set to |delta| plus
 * the linear estimate of the distance to the boundary |margin| / |grad|_dual.
 * delta then takes a step of length alpha_i along the L2-normalised gradient
 * (for both norms, as the authors' code), is projected onto the eps-ball of
 * the norm and clipped to the domain. gamma_i is cosine-annealed from gamma
 * to 0.001 and alpha_i from max_step to min_step. Defaults are the authors'
 * (foolbox's): 100 steps, max_step 1, min_step max_step / 100, gamma 0.05. */
typedef struct {
    size_t size;
    lpc_attack_norm norm;       /* LPC_ATTACK_L2 */
    int steps;                  /* 100, >= 1 */
    double max_step;            /* 1.0, > 0 (in the domain's units) */
    double min_step;            /* 0.01, in (0, max_step] */
    double gamma;               /* 0.05, in (0.001, 1) */
    lpc_attack_domain domain;   /* LPC_ATTACK_DOMAIN_NORMALISED */
    const float *mean, *std;    /* NULL; c entries each for the pixel domain */
} lpc_fmn_options;
LPC_API void lpc_fmn_options_init(lpc_fmn_options *opt);
/* Outputs, each n entries (r: n x c*h*w floats), each may be NULL but not
 * all (a NULL outputs pointer counts as all NULL): r receives the best
 * perturbation in the model's input space (x + r is the adversarial input;
 * 0 where none was found), norms its norm in the domain's space
 * (INFINITY where none was found), ratios norms / |x| in the same norm and
 * space (DeepFool's robustness ratio for L2), success 1 where an
 * adversarial point was found. */
typedef struct {
    size_t size;
    float *r;
    double *norms;
    double *ratios;
    unsigned char *success;
} lpc_fmn_outputs;
LPC_API lpc_status lpc_fmn(lpc_module *model, const lpc_samples *samples,
                           const lpc_fmn_options *opt, const lpc_fmn_outputs *out);

/* ---- Projected gradient descent ------------------------------------------
 * For each radius eps: `restarts` starts, each uniform in the eps-ball
 * (random_start) or at x, then `steps` steps delta += a * sign(grad) (Linf)
 * or a * grad / |grad|_2 (L2) on the loss, each followed by the projection
 * onto the eps-ball and the clip to the domain, a = step_fraction * eps
 * (0: 2.5 / steps, Madry et al.'s choice). A sample counts as broken at
 * eps as soon as any point visited (the clean input included) is
 * misclassified; later starts run only on the samples still standing. */
typedef struct {
    size_t size;
    lpc_attack_norm norm;           /* LPC_ATTACK_LINF */
    int steps;                      /* 50, >= 1 */
    int restarts;                   /* 1, >= 1 */
    double step_fraction;           /* 0 (= 2.5 / steps), >= 0 */
    lpc_attack_schedule schedule;   /* LPC_ATTACK_STEP_CONSTANT */
    lpc_attack_loss loss;           /* LPC_ATTACK_LOSS_CROSS_ENTROPY */
    int random_start;               /* 1 */
    uint64_t seed;                  /* 0 */
    lpc_attack_domain domain;       /* LPC_ATTACK_DOMAIN_NORMALISED */
    const float *mean, *std;        /* NULL; c entries each for the pixel domain */
} lpc_pgd_options;
LPC_API void lpc_pgd_options_init(lpc_pgd_options *opt);
/* radii: num_radii >= 1 finite values >= 0 in the domain's units.
 * out->robust_accuracy (num_radii entries, required) receives the fraction
 * of samples not broken at each radius; out->success (n x num_radii, row
 * per sample, may be NULL) 1 where sample i is broken at radius j. */
typedef struct {
    size_t size;
    unsigned char *success;
    double *robust_accuracy;
} lpc_pgd_outputs;
LPC_API lpc_status lpc_pgd(lpc_module *model, const lpc_samples *samples, const double *radii,
                           int num_radii, const lpc_pgd_options *opt,
                           const lpc_pgd_outputs *out);

/* ---- Random search (gradient-free) ---------------------------------------
 * Square Attack's scheme on the margin loss f_y - max_{j != y} f_j: start
 * at a random point of the eps-sphere (Linf: vertical stripes of +-eps per
 * channel; L2: Gaussian scaled to eps), then per query redraw one square
 * window of side sqrt(p h w) (a segment of p h w features for vector
 * inputs) and keep the proposal if it lowers the margin. Linf windows take
 * +-eps per channel; L2 windows get Gaussian noise of norm eps sqrt(share of
 * the features in the window), and the perturbation is scaled back to norm
 * eps. Both are then clipped to the domain. p starts at p_init and
 * halves on Square Attack's schedule (at 10, 50, 200, 500, 1000, 2000, 4000,
 * 6000 and 8000 of 10000 queries, scaled to `queries`). A sample stops once
 * broken; the clean input counts as one query. */
typedef struct {
    size_t size;
    lpc_attack_norm norm;       /* LPC_ATTACK_LINF */
    int queries;                /* 1000, >= 1 model evaluations per sample and radius */
    double p_init;              /* 0 (= 0.05 for Linf, 0.1 for L2), in [0, 1] */
    uint64_t seed;              /* 0 */
    lpc_attack_domain domain;   /* LPC_ATTACK_DOMAIN_NORMALISED */
    const float *mean, *std;    /* NULL; c entries each for the pixel domain */
} lpc_random_search_options;
LPC_API void lpc_random_search_options_init(lpc_random_search_options *opt);
/* Arguments and outputs as lpc_pgd's. */
typedef lpc_pgd_outputs lpc_random_search_outputs;
LPC_API lpc_status lpc_random_search(lpc_module *model, const lpc_samples *samples,
                                     const double *radii, int num_radii,
                                     const lpc_random_search_options *opt,
                                     const lpc_random_search_outputs *out);

/* ---- Gradient-masking checks ----------------------------------------------
 * Signs that white-box figures overstate robustness (Athalye et al. 2018,
 * Carlini et al. 2019), each a pass/fail flag with its measured value:
 *  UNBOUNDED_PGD   PGD on the margin loss with a radius 1000 times the
 *                  largest sample norm (the whole box in the pixel domain)
 *                  and at least 10 random starts breaks every sample;
 *                  value: its robust accuracy (pass: 0).
 *  PGD_CONVERGED   doubling PGD's steps and restarts at `radius` changes
 *                  robust accuracy by at most acc_tolerance; value: the
 *                  change.
 *  FMN_VS_DEEPFOOL median FMN L2 norm <= (1 + norm_tolerance) median
 *                  DeepFool norm, both in the normalised domain on the
 *                  model's predictions; value: the ratio of the medians.
 *  BLACK_BOX_WEAKER random search's robust accuracy at `radius` is at least
 *                  PGD's minus acc_tolerance; value: the difference. */
typedef enum {
    LPC_ATTACK_CHECK_UNBOUNDED_PGD = 0,
    LPC_ATTACK_CHECK_PGD_CONVERGED = 1,
    LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL = 2,
    LPC_ATTACK_CHECK_BLACK_BOX_WEAKER = 3,
    LPC_ATTACK_CHECK_COUNT = 4
} lpc_attack_check;
/* "unbounded-pgd", "pgd-converged", "fmn-vs-deepfool",
 * "black-box-weaker"; NULL for an unknown value (LPC_ATTACK_CHECK_COUNT
 * included). */
LPC_API const char *lpc_attack_check_name(lpc_attack_check check);

typedef struct {
    size_t size;
    lpc_attack_norm norm;       /* LPC_ATTACK_LINF: PGD's and random search's norm */
    double radius;              /* 0.03, > 0, in the domain's units */
    int steps;                  /* 50: PGD's steps (doubled for the second run) */
    int restarts;               /* 1: PGD's starts (doubled for the second run) */
    int queries;                /* 1000: random search's queries */
    double acc_tolerance;       /* 0.02 */
    double norm_tolerance;      /* 0.05 */
    uint64_t seed;              /* 0 */
    lpc_attack_domain domain;   /* LPC_ATTACK_DOMAIN_NORMALISED (not FMN_VS_DEEPFOOL's) */
    const float *mean, *std;    /* NULL; c entries each for the pixel domain */
} lpc_attack_checks_options;
LPC_API void lpc_attack_checks_options_init(lpc_attack_checks_options *opt);
/* passed (required) receives bit (1u << check) set for each check that
 * passes; values (LPC_ATTACK_CHECK_COUNT entries, may be NULL) the measured
 * value of each check. */
LPC_API lpc_status lpc_attack_checks(lpc_module *model, const lpc_samples *samples,
                                     const lpc_attack_checks_options *opt, unsigned *passed,
                                     double *values);
LPC_END_DECLS
#endif
