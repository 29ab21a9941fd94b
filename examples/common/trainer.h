/* The training loop the example programs share: any LPC head (any backbone)
 * on any lpc_dataset, with AdamW in the paper's two groups, seeded
 * shuffling, the schedules of lpc/optim.h, and an evaluation pass.
 * See doc/design.md for why this loop lives here and not in the library. */
#ifndef LPC_EXAMPLES_TRAINER_H
#define LPC_EXAMPLES_TRAINER_H
#include <lpc/lpc.h>
#include "schedules.h"

typedef struct ex_trainer ex_trainer;

/* Settings (ex_trainer_set); change them before the first epoch. */
typedef enum {
    EX_TRAIN_GAMMA_MAX = 0,    /* ramp protocol: final gamma (default 100) */
    EX_TRAIN_REACH = 1,        /* ramp protocol: fraction of steps to reach it (0.7) */
    EX_TRAIN_AUGMENT_PAD = 2,  /* random-crop padding in pixels (0 = off, default) */
    EX_TRAIN_AUGMENT_FLIP = 3, /* horizontal flips on (1) / off (0, default) */
    EX_TRAIN_CHECK_FINITE = 4, /* debug: name the first op giving NaN/Inf (0 default) */
    EX_TRAIN_LR_DECAY = 5,     /* lpc_lr_decay of the non-classifier group (default
                                * LPC_LR_DECAY_PROTOCOL: the protocol's own) */
    EX_TRAIN_GAMMA_UNCAPPED = 6, /* 1: the authors' gamma, x1.05 while < 1e6 (paper and
                                  * compressed protocols; default 0: capped at 1e6) */
    EX_TRAIN_MARGIN_CLAMP = 7, /* 1: ArcFace/CosFace clamp the target after the margin
                                * (the head's LPC_HEAD_MARGIN_CLAMP); default 0 */
    EX_TRAIN_RESIZED_CROP = 8, /* 1: torchvision's RandomResizedCrop (scale 0.08-1, ratio
                                * 3/4-4/3) instead of the padded crop; default 0 */
} ex_train_setting;

/* Read-outs (ex_trainer_get). */
typedef enum {
    EX_TRAIN_EPOCH = 0,    /* epochs completed */
    EX_TRAIN_LOSS = 1,     /* mean training loss of the last epoch */
    EX_TRAIN_ACCURACY = 2, /* running training accuracy of the last epoch */
    EX_TRAIN_GAMMA = 3,    /* gamma used at the last step */
    EX_TRAIN_STEPS = 4,    /* optimizer steps so far */
} ex_train_value;

/* Trains head (its whole network) on a borrowed data set (both must outlive
 * the trainer) over `epochs` epochs of `batch` samples, with lr and weight
 * decay (finite; lr > 0), seeded shuffling and the schedules of `protocol`.
 * Inputs are normalised with the training set's per-channel statistics.
 * Bad arguments print a message and give LPC_E_ARG. */
lpc_status ex_trainer_new(lpc_head *head, const lpc_dataset *train, lpc_protocol protocol,
                          int64_t epochs, int64_t batch, double lr, double weight_decay,
                          uint64_t seed, ex_trainer **out);
void ex_trainer_free(ex_trainer *t); /* NULL is a no-op */
lpc_status ex_trainer_set(ex_trainer *t, ex_train_setting what, double value);
double ex_trainer_get(const ex_trainer *t, ex_train_value what); /* NAN on error */
/* One epoch. A non-finite loss stops it with LPC_E_NUMERIC naming the epoch
 * and step, before the optimizer touches the weights. */
lpc_status ex_trainer_epoch(ex_trainer *t);
/* Normalisation in use (arrays of the data set's channel count). */
const double *ex_trainer_mean(const ex_trainer *t);
const double *ex_trainer_std(const ex_trainer *t);
/* Optimizer and batcher (owned by the trainer), for checkpoints. */
lpc_adamw *ex_trainer_adamw(ex_trainer *t);
lpc_batcher *ex_trainer_batcher(ex_trainer *t);
/* Data-parallel training: this process is rank r of the communicator's R
 * (borrowed; NULL or R = 1: alone). Every rank must build the same head
 * and trainer (same seed) and call ex_trainer_epoch together: each draws
 * the same global batch of `batch` samples and trains on its slice
 * [got r / R, got (r + 1) / R); batch-norm statistics are those of the
 * global batch, the loss is weighted by the slice's share and the
 * gradients are summed over ranks before every AdamW step, so all ranks
 * keep identical weights (equal to one process's up to rounding), and the
 * reported loss and accuracy are the global batch's. Refused (LPC_E_ARG,
 * with a message) for heads with a SupCon term (it couples all pairs of a
 * batch) and when a batch, the epoch's last included, has fewer samples
 * than ranks. Set it before the first epoch. */
lpc_status ex_trainer_set_comm(ex_trainer *t, lpc_comm *comm);
/* Replaces the first-version schedules of the protocol by a named schedule
 * (copied; NULL restores them): gamma from s->gamma, the non-classifier rate
 * from s->lr with the trainer's lr as base, the classifier's the same with no
 * decay (its warmup only), ArcFace's s and m from the learning-rate clock;
 * the protocol picks the clock (ex_schedule_clock; EX_TRAIN_REACH for the
 * ramp). EX_TRAIN_LR_DECAY, EX_TRAIN_GAMMA_UNCAPPED and EX_TRAIN_GAMMA_MAX
 * do not apply to it. LPC_E_ARG with a message for invalid fields. */
lpc_status ex_trainer_set_schedule(ex_trainer *t, const ex_schedule *s);
/* gamma and the rates of the non-classifier (lr[0]) and classifier (lr[1])
 * groups that step `step` of epoch `epoch` (both from 0) trains with. */
lpc_status ex_trainer_schedule_at(const ex_trainer *t, int64_t epoch, int64_t step,
                                  double *gamma, double lr[2]);
/* Marks `epochs` epochs as done (after restoring a checkpoint). */
lpc_status ex_trainer_set_epoch(ex_trainer *t, int64_t epochs);

/* Evaluation pass over ds in eval mode without augmentation (restores the
 * previous mode), normalised with mean/std (finite, std > 0, one per
 * channel): any output may be NULL; z_out gets N x P floats, logits_out
 * N x K, pred_out N argmax predictions. */
lpc_status ex_evaluate(lpc_head *head, const lpc_dataset *ds, const double *mean,
                       const double *std, int64_t batch, float *z_out, float *logits_out,
                       int32_t *pred_out, double *accuracy);
/* ex_evaluate through the training augmentation (random crop with `pad`
 * pixels of padding, horizontal flips when `flip`; generator seeded with
 * `seed`), in data-set order: what the authors' code measures on the
 * training set. pad = flip = 0 is ex_evaluate. */
lpc_status ex_evaluate_augmented(lpc_head *head, const lpc_dataset *ds, const double *mean,
                                 const double *std, int64_t batch, int pad, int flip,
                                 uint64_t seed, float *z_out, float *logits_out,
                                 int32_t *pred_out, double *accuracy);
/* Checks before training that a data set fits a network: same image shape
 * and class count as the training set (prints the difference). */
int ex_same_shape(const lpc_dataset *train, const lpc_dataset *test);
#endif
