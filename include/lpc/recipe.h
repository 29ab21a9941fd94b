/* liblpc — model recipes: the eleven models of the paper's ablation
 * (SPEC.md §3) assembled from library parts.
 *
 * A model is backbone h(x) -> penultimate z -> classifier logits = W z (no
 * bias) plus a loss recipe: CE, ArcFace or CosFace on z; optionally
 * gamma * mean(z^2) (or on h for LPC-NoPen); optionally SupCon on h.
 * Predictions are the argmax of the raw logits for every model. Adding a
 * model is one row in the table of lib/recipe/recipe.c. */
#ifndef LPC_RECIPE_H
#define LPC_RECIPE_H
#include "data.h"
#include "module.h"
#include "optim.h"

typedef struct lpc_model lpc_model;
typedef struct lpc_trainer lpc_trainer;

/* Trainer settings (lpc_trainer_set). */
typedef enum {
    LPC_TRAIN_GAMMA_MAX = 0,   /* ramp protocol: final gamma (default 100) */
    LPC_TRAIN_REACH = 1,       /* ramp protocol: fraction of steps to reach it (0.7) */
    LPC_TRAIN_AUGMENT_PAD = 2, /* random-crop padding in pixels (0 = off, default) */
    LPC_TRAIN_AUGMENT_FLIP = 3,/* horizontal flips on (1) / off (0, default) */
    LPC_TRAIN_CHECK_FINITE = 4,/* debug: name the first op giving NaN/Inf (0 default) */
    LPC_TRAIN_LR_DECAY = 5,    /* lpc_lr_decay of the non-classifier group (default
                                * LPC_LR_DECAY_PROTOCOL: the protocol's own) */
    LPC_TRAIN_GAMMA_UNCAPPED = 6, /* 1: the authors' gamma, x1.05 while < 1e6 (paper and
                                   * compressed protocols; default 0: capped at 1e6) */
    LPC_TRAIN_MARGIN_CLAMP = 7,/* 1: ArcFace/CosFace clamp the target after the margin
                                * (LPC_MARGIN_CLAMP_TARGET, the authors'); default 0 */
} lpc_train_setting;

/* Trainer read-outs (lpc_trainer_get). */
typedef enum {
    LPC_TRAIN_EPOCH = 0,      /* epochs completed */
    LPC_TRAIN_LOSS = 1,       /* mean training loss of the last epoch */
    LPC_TRAIN_ACCURACY = 2,   /* running training accuracy of the last epoch */
    LPC_TRAIN_GAMMA = 3,      /* gamma used at the last step */
    LPC_TRAIN_STEPS = 4,      /* optimizer steps so far */
} lpc_train_value;

typedef enum {
    LPC_BACKBONE_MLP = 0,          /* flatten -> 512 -> SiLU -> 512 -> SiLU */
    LPC_BACKBONE_RESNET_SMALL = 1, /* see lpc_resnet_small_new */
    LPC_BACKBONE_RESNET18 = 2,
    LPC_BACKBONE_RESNET50 = 3,
} lpc_backbone;

/* Boolean properties of a recipe. */
typedef enum {
    LPC_MODEL_HAS_L2 = 0,      /* gamma * L2 term (on z or h) */
    LPC_MODEL_HAS_SUPCON = 1,  /* SupCon term on h */
    LPC_MODEL_HAS_ARCFACE = 2, /* ArcFace replaces CE */
    LPC_MODEL_HAS_COSFACE = 3, /* CosFace replaces CE */
    LPC_MODEL_HAS_PENULT = 4,  /* a penultimate layer exists (z != h) */
} lpc_model_prop;

LPC_BEGIN_DECLS
/* Number of known recipes and their canonical names ("LPC", "LPC-Wide", ...). */
LPC_API int lpc_model_count(void);
LPC_API const char *lpc_model_name_at(int i); /* NULL when out of range */
/* Builds the named model (case-insensitive). widths = {mid, wide, narrow};
 * input c x h x w; num_classes >= 2. Unknown names give LPC_E_ARG with a
 * message listing the valid ones. *out is owned by the caller. */
LPC_API lpc_status lpc_model_new(const char *name, lpc_backbone backbone, int in_c, int in_h,
                                 int in_w, int num_classes, const int widths[3], lpc_rng *rng,
                                 lpc_model **out);
LPC_API void lpc_model_free(lpc_model *m); /* NULL is a no-op */
LPC_API const char *lpc_model_name(const lpc_model *m);
LPC_API int lpc_model_has(const lpc_model *m, lpc_model_prop p);
/* Width of z (P) and number of classes. */
LPC_API int64_t lpc_model_latent_dim(const lpc_model *m);
LPC_API int lpc_model_num_classes(const lpc_model *m);
/* The whole network x -> raw logits as one module with children "backbone",
 * ["penultimate",] "classifier" (owned by the model). Use it for parameters,
 * train/eval mode, checkpoints and DeepFool. */
LPC_API lpc_module *lpc_model_module(lpc_model *m);
/* Forward pass giving the latent z (N x P) and the raw logits (N x K);
 * either output pointer may be NULL. Returns the sticky ctx status. */
LPC_API lpc_status lpc_model_forward(lpc_model *m, lpc_ctx *ctx, lpc_tensor *x,
                                     lpc_tensor **z, lpc_tensor **logits);
/* Training loss of the recipe for a batch: scalar temporary. gamma weighs the
 * L2 term, (arc_s, arc_m) are ArcFace's scale and margin (CosFace uses its
 * fixed s = 32, m = 0.25). logits (optional) receives the raw logits. */
LPC_API lpc_tensor *lpc_model_loss(lpc_model *m, lpc_ctx *ctx, lpc_tensor *x,
                                   const int32_t *labels, double gamma, double arc_s,
                                   double arc_m, lpc_tensor **logits);
/* Flags (LPC_MARGIN_*) passed to ArcFace/CosFace by lpc_model_loss (default 0). */
LPC_API lpc_status lpc_model_set_margin_flags(lpc_model *m, unsigned flags);
/* AdamW with the paper's two groups: group 0 = everything but the
 * classifier, group 1 = the classifier; both with lr and weight_decay. */
LPC_API lpc_adamw *lpc_model_adamw_new(lpc_model *m, double lr, double weight_decay);
/* Evaluation pass over a data set in eval mode without augmentation
 * (restores the previous mode): any output may be NULL; z_out holds N x P
 * floats, logits_out N x K, pred_out N argmax predictions. */
LPC_API lpc_status lpc_model_evaluate(lpc_model *m, const lpc_dataset *ds, const double *mean,
                                      const double *std, int64_t batch, float *z_out,
                                      float *logits_out, int32_t *pred_out, double *accuracy);

/* lpc_model_evaluate through the training augmentation (random crop with
 * `pad` pixels of padding, horizontal flips when `flip`; generator seeded
 * with `seed`), in data-set order: what the authors' code measures on the
 * training set. pad = flip = 0 is lpc_model_evaluate. */
LPC_API lpc_status lpc_model_evaluate_augmented(lpc_model *m, const lpc_dataset *ds,
                                                const double *mean, const double *std,
                                                int64_t batch, int pad, int flip, uint64_t seed,
                                                float *z_out, float *logits_out,
                                                int32_t *pred_out, double *accuracy);

/* ---- training loop ----
 * Trains a model on a borrowed data set (both must outlive the trainer)
 * with AdamW (two groups, see lpc_model_adamw_new), batch size, seeded
 * shuffling and the schedules of `protocol` over `epochs` epochs.
 * Normalisation uses the training set's per-channel statistics. */
LPC_API lpc_status lpc_trainer_new(lpc_model *m, const lpc_dataset *train, lpc_protocol protocol,
                                   int64_t epochs, int64_t batch, double lr, double weight_decay,
                                   uint64_t seed, lpc_trainer **out);
LPC_API void lpc_trainer_free(lpc_trainer *t); /* NULL is a no-op */
/* Settings; change them before the first epoch. */
LPC_API lpc_status lpc_trainer_set(lpc_trainer *t, lpc_train_setting what, double value);
LPC_API double lpc_trainer_get(const lpc_trainer *t, lpc_train_value what); /* NAN on error */
/* Runs one epoch. A non-finite loss stops it with LPC_E_NUMERIC naming the
 * epoch and step (and, with LPC_TRAIN_CHECK_FINITE on, the first op that
 * produced a non-finite value) before the optimizer touches the weights. */
LPC_API lpc_status lpc_trainer_epoch(lpc_trainer *t);
/* Normalisation statistics in use (arrays of `channels`). */
LPC_API const double *lpc_trainer_mean(const lpc_trainer *t);
LPC_API const double *lpc_trainer_std(const lpc_trainer *t);
/* The optimizer and batcher (owned by the trainer), for checkpoints. */
LPC_API lpc_adamw *lpc_trainer_adamw(lpc_trainer *t);
LPC_API lpc_batcher *lpc_trainer_batcher(lpc_trainer *t);
/* Marks `epochs` epochs as done (after restoring a checkpoint). */
LPC_API lpc_status lpc_trainer_set_epoch(lpc_trainer *t, int64_t epochs);
LPC_END_DECLS
#endif
