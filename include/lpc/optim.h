/* liblpc — AdamW with decoupled weight decay and parameter groups, and the
 * paper's training schedules as pure functions (doc/method.md §5). */
#ifndef LPC_OPTIM_H
#define LPC_OPTIM_H
#include "tensor.h"
#include "module.h"

typedef struct lpc_adamw lpc_adamw;

/* Schedule protocols (doc/method.md §5). */
typedef enum {
    LPC_PROTOCOL_PAPER = 0,      /* 800 epochs, gamma per epoch */
    LPC_PROTOCOL_COMPRESSED = 1, /* E epochs mapped onto the paper's 800, per step */
    LPC_PROTOCOL_RAMP = 2,       /* gamma per step 0.01 -> gamma_max at `reach`, constant LR */
} lpc_protocol;

/* Quantities a schedule gives at a point of training. */
typedef enum {
    LPC_SCHED_GAMMA = 0,     /* L2-latent weight */
    LPC_SCHED_LR_FACTOR = 1, /* multiplier of the non-classifier learning rate */
    LPC_SCHED_ARC_S = 2,     /* ArcFace scale s */
    LPC_SCHED_ARC_M = 3,     /* ArcFace margin m */
} lpc_sched_value;

/* Learning-rate decay of the non-classifier group (lpc_schedule_eval_ex).
 * The classifier keeps the base rate in every case, as in the paper. */
typedef enum {
    LPC_LR_DECAY_PROTOCOL = 0, /* the protocol's own: halvings (PAPER, COMPRESSED), constant (RAMP) */
    LPC_LR_DECAY_CONSTANT = 1, /* factor 1 throughout */
    LPC_LR_DECAY_HALVINGS = 2, /* the paper's halvings at paper epochs 301, 351, ..., 751 on the
                                * compressed clock t (lpc_paper_epoch), whatever the protocol */
    LPC_LR_DECAY_COSINE = 3,   /* 0.5 (1 + cos(pi g / G)) at global step g of G (the authors'
                                * newer code; lpc_lr_factor_cosine) */
} lpc_lr_decay;

/* Flag of lpc_schedule_eval_ex: gamma as the authors' code computes it,
 * x1.05 per epoch while gamma < 1e6, so it ends at the first value above,
 * 0.01 * 1.05^378 = 1.0218e6 (lpc_gamma_paper_uncapped), instead of
 * min(., 1e6). PAPER and COMPRESSED protocols only. */
#define LPC_SCHED_GAMMA_UNCAPPED 1u

LPC_BEGIN_DECLS
/* ---- AdamW ---- */
/* betas (beta1, beta2) and eps as PyTorch (0.9, 0.999, 1e-8 are the defaults). */
LPC_API lpc_adamw *lpc_adamw_new(double beta1, double beta2, double eps);
LPC_API void lpc_adamw_free(lpc_adamw *opt); /* NULL is a no-op; never frees params */
/* New group with its own learning rate and decoupled weight decay; returns
 * its index (0, 1, ...) or a negative lpc_status. */
LPC_API int lpc_adamw_add_group(lpc_adamw *opt, double lr, double weight_decay);
/* Adds a persistent parameter (borrowed: must outlive the optimizer) to a group
 * and allocates its zeroed moments here, so that steps allocate nothing. A
 * tensor can be added once. */
LPC_API lpc_status lpc_adamw_add_param(lpc_adamw *opt, int group, lpc_tensor *param);
LPC_API lpc_status lpc_adamw_set_lr(lpc_adamw *opt, int group, double lr);
LPC_API double lpc_adamw_get_lr(const lpc_adamw *opt, int group); /* NAN on error */
/* One update of every parameter that has a gradient (others are skipped):
 * p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps). Does not zero grads.
 * A non-finite gradient returns LPC_E_NUMERIC naming the parameter, before
 * anything is changed. */
LPC_API lpc_status lpc_adamw_step(lpc_adamw *opt);
/* Step counter t, shared by all parameters (for checkpoints); -1 for NULL. */
LPC_API int64_t lpc_adamw_steps(const lpc_adamw *opt);
LPC_API lpc_status lpc_adamw_set_steps(lpc_adamw *opt, int64_t t);
/* Parameters in insertion order and their moment tensors (which = 1: m, 2: v),
 * owned by the optimizer, for checkpoints. */
LPC_API int lpc_adamw_num_params(const lpc_adamw *opt);
LPC_API lpc_tensor *lpc_adamw_param(lpc_adamw *opt, int i);
LPC_API lpc_tensor *lpc_adamw_moment(lpc_adamw *opt, int i, int which);

/* ---- schedules: pure functions ---- */
/* Paper's gamma at (fractional) paper epoch t >= 1: 0.01 for epochs 1-2, then
 * x1.05 per epoch (evaluated at floor(t)), capped at 1e6. Like the functions
 * below, t < 1 counts as epoch 1 and NaN gives NaN. */
LPC_API double lpc_gamma_paper(double t);
/* Non-classifier LR multiplier: halves at 301, 351, ..., 751. */
LPC_API double lpc_lr_factor_paper(double t);
/* ArcFace ramps at paper epoch e = floor(t): s = min(16 + (e-1), 64),
 * m = min(0.1 + 0.01 (e-1), 0.5). */
LPC_API double lpc_arcface_scale(double t);
LPC_API double lpc_arcface_margin(double t);
/* Compressed mapping: t = (epoch + step/steps_per_epoch) * 800/total_epochs + 1,
 * with epoch counted from 0. NaN when steps_per_epoch or total_epochs <= 0. */
LPC_API double lpc_paper_epoch(int64_t epoch, int64_t step, int64_t steps_per_epoch,
                               int64_t total_epochs);
/* Ramp protocol gamma at global step g of `total` steps:
 * 0.01 (gamma_max/0.01)^min(g/(reach*total), 1). NaN when total <= 0,
 * gamma_max <= 0 or reach is not in (0, 1]. */
LPC_API double lpc_gamma_ramp(int64_t g, int64_t total, double gamma_max, double reach);
/* lpc_gamma_paper without the cap: 0.01 * 1.05^min(floor(t) - 2, 378) from epoch 3. */
LPC_API double lpc_gamma_paper_uncapped(double t);
/* Cosine decay factor 0.5 (1 + cos(pi g / total)) for 0 <= g <= total (g is
 * clamped to that range); NaN when total <= 0. */
LPC_API double lpc_lr_factor_cosine(int64_t g, int64_t total);
/* One schedule value for a protocol at (epoch from 0, step within the epoch).
 * PAPER: the compressed mapping with 800 epochs (total_epochs ignored).
 * COMPRESSED: the mapping above. RAMP: gamma from lpc_gamma_ramp at global step
 * epoch*steps_per_epoch + step of total_epochs*steps_per_epoch, LR factor 1,
 * ArcFace s/m from the compressed mapping. gamma_max and reach are used (and
 * checked) by the ramp protocol only. LPC_E_ARG for a NULL out, an unknown
 * enum, epoch < 0, step outside [0, steps_per_epoch), steps_per_epoch or
 * total_epochs (where used) <= 0 or >= 2^31, gamma_max <= 0 or reach outside (0, 1]. */
LPC_API lpc_status lpc_schedule_eval(lpc_protocol p, lpc_sched_value what, int64_t epoch,
                                     int64_t step, int64_t steps_per_epoch,
                                     int64_t total_epochs, double gamma_max, double reach,
                                     double *out);
/* lpc_schedule_eval with a learning-rate decay (used for LPC_SCHED_LR_FACTOR)
 * and LPC_SCHED_* flags; lpc_schedule_eval is this with
 * (LPC_LR_DECAY_PROTOCOL, 0). LPC_E_ARG also for an unknown decay or flag. */
LPC_API lpc_status lpc_schedule_eval_ex(lpc_protocol p, lpc_sched_value what, int64_t epoch,
                                        int64_t step, int64_t steps_per_epoch,
                                        int64_t total_epochs, double gamma_max, double reach,
                                        lpc_lr_decay decay, unsigned flags, double *out);
LPC_END_DECLS
#endif
