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

/* ---- generic schedule building blocks (epochs counted from 1) ---- */
/* A geometric ramp in two phases: `initial`
 * before epoch `start`; from `start`, x factor_1 every step_1 epochs, capped
 * at max_1; from the epoch after the one that reached max_1, x factor_2
 * every step_2 epochs, capped at max_2; then constant. Each update is one
 * multiplication of the previous value, min(value * factor, max), so the
 * values are bit-for-bit those of an epoch-by-epoch recurrence. */
typedef struct {
    size_t size;     /* sizeof the struct, set by lpc_gamma_two_phase_options_init */
    double initial;  /* > 0 (default 1e-4) */
    int64_t start;   /* first epoch of growth, >= 1 (default 1) */
    double factor_1; /* > 1 (default 2) */
    int64_t step_1;  /* >= 1 (default 5) */
    double max_1;    /* >= initial (default 1e3) */
    double factor_2; /* > 1 (default 1.25) */
    int64_t step_2;  /* >= 1 (default 5) */
    double max_2;    /* >= max_1, finite (default 1e6) */
} lpc_gamma_two_phase_options;

/* Learning rate held at `lr`, then cosine-annealed to `floor`, with an
 * optional linear warmup. At epoch e:
 *   e <= warmup_begin:             lr * warmup_factor
 *   warmup_begin < e <= warmup_end: lr * (warmup_factor + (1 - warmup_factor)
 *                                   * (e - warmup_begin) / (warmup_end - warmup_begin))
 *   otherwise, with t = clamp(e - hold, 0, T) and T = max(1, total - hold):
 *                                   floor + (lr - floor) (1 + cos(pi t / T)) / 2
 * so the rate is `lr` through epoch `hold` and `floor` at epoch `total`.
 * warmup_end = 0 is no warmup; hold >= total is no decay (lr after the warmup). */
typedef struct {
    size_t size;          /* sizeof the struct, set by lpc_lr_cosine_options_init */
    double lr;            /* base rate, finite > 0 (default 1e-3) */
    double floor;         /* rate at the end, finite, 0 <= floor <= lr (default 0) */
    int64_t hold;         /* last epoch at the base rate, >= 0 (default 0) */
    int64_t total;        /* epoch at which the floor is reached, >= 1 (default 100) */
    double warmup_factor; /* first fraction of lr, in (0, 1] (default 1) */
    int64_t warmup_begin; /* >= 0 (default 0) */
    int64_t warmup_end;   /* 0 (no warmup) or > warmup_begin (default 0) */
} lpc_lr_cosine_options;

LPC_BEGIN_DECLS
/* Sets o->size = sizeof *o and the defaults above; NULL is a no-op. */
LPC_API void lpc_gamma_two_phase_options_init(lpc_gamma_two_phase_options *o);
LPC_API void lpc_lr_cosine_options_init(lpc_lr_cosine_options *o);
/* Value of the two-phase ramp at `epoch` (0 and epochs before `start`:
 * `initial`) into *out. o NULL means the defaults; fields past o->size take
 * their defaults. LPC_E_ARG (out unchanged) for a NULL out, epoch < 0 or
 * >= 2^31, o->size smaller than the size field or larger than this
 * library's struct, or options outside the ranges above. Pure: no state. */
LPC_API lpc_status lpc_gamma_two_phase(const lpc_gamma_two_phase_options *o, int64_t epoch,
                                       double *out);
/* Learning rate at `epoch` into *out (epoch 0 counts as 1); options and
 * errors as lpc_gamma_two_phase. */
LPC_API lpc_status lpc_lr_cosine(const lpc_lr_cosine_options *o, int64_t epoch, double *out);
LPC_END_DECLS
#endif
