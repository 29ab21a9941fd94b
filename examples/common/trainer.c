/* The training loop shared by the examples: schedules, AdamW, batching,
 * data-parallel steps over the ranks of a communicator, evaluation. */
#include "trainer.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ex_trainer {
    lpc_head *head;
    const lpc_dataset *data;
    lpc_adamw *opt;
    lpc_batcher *batcher;
    lpc_ctx *ctx;
    lpc_protocol protocol;
    int64_t epochs, batch, epochs_done, steps_per_epoch;
    double lr, gamma_max, reach;
    int pad, flip;
    lpc_lr_decay decay;
    unsigned sched_flags;
    int named;          /* 1: `sched` replaces the first-version schedules */
    ex_schedule sched;
    double *mean, *std; /* one per channel */
    double last_loss, last_acc, last_gamma;
    lpc_comm *comm; /* borrowed; NULL: this process alone */
    float *packed;  /* every parameter gradient, for one all-reduce */
    int64_t packed_len;
};

static lpc_status bad(const char *what)
{
    fprintf(stderr, "error: %s\n", what);
    return LPC_E_ARG;
}

lpc_status ex_trainer_new(lpc_head *head, const lpc_dataset *train, lpc_protocol protocol,
                          int64_t epochs, int64_t batch, double lr, double weight_decay,
                          uint64_t seed, ex_trainer **out)
{
    if (!out)
        return bad("ex_trainer_new: out is NULL");
    *out = NULL;
    if (!head || !train || epochs < 1 || batch < 1 || !(lr > 0) || !isfinite(lr) ||
        !(weight_decay >= 0) || !isfinite(weight_decay) || protocol < LPC_PROTOCOL_PAPER ||
        protocol > LPC_PROTOCOL_RAMP)
        return bad("ex_trainer_new: need a head, data, epochs >= 1, batch >= 1, a finite "
                   "lr > 0, a finite weight decay >= 0 and a known protocol");
    int c = lpc_dataset_channels(train);
    ex_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return LPC_E_NOMEM;
    *t = (ex_trainer){.head = head, .data = train, .protocol = protocol, .epochs = epochs,
                      .batch = batch, .lr = lr, .gamma_max = 100.0, .reach = 0.7};
    t->mean = calloc((size_t)c, sizeof *t->mean);
    t->std = calloc((size_t)c, sizeof *t->std);
    lpc_status s = t->mean && t->std ? lpc_dataset_channel_stats(train, t->mean, t->std)
                                     : LPC_E_NOMEM;
    if (s != LPC_OK)
        goto fail;
    for (int i = 0; i < c; i++)
        if (!(t->std[i] > 0)) {
            fprintf(stderr, "error: channel %d of the training set has zero variance\n", i);
            s = LPC_E_NUMERIC;
            goto fail;
        }
    t->opt = lpc_head_adamw_new(head, lr, weight_decay);
    t->batcher = lpc_batcher_new(train, batch, 1, seed, t->mean, t->std);
    t->ctx = lpc_ctx_new();
    if (!t->opt || !t->batcher || !t->ctx) {
        s = LPC_E_NOMEM;
        goto fail;
    }
    t->steps_per_epoch = lpc_batcher_batches_per_epoch(t->batcher);
    *out = t;
    return LPC_OK;
fail:
    ex_trainer_free(t);
    return s;
}

void ex_trainer_free(ex_trainer *t)
{
    if (!t)
        return;
    lpc_adamw_free(t->opt);
    lpc_batcher_free(t->batcher);
    lpc_ctx_free(t->ctx);
    free(t->mean);
    free(t->std);
    free(t->packed);
    free(t);
}

lpc_status ex_trainer_set(ex_trainer *t, ex_train_setting what, double v)
{
    if (!t)
        return bad("ex_trainer_set: trainer is NULL");
    switch (what) {
    case EX_TRAIN_GAMMA_MAX:
        if (!(v > 0) || !isfinite(v))
            break;
        t->gamma_max = v;
        return LPC_OK;
    case EX_TRAIN_REACH:
        if (!(v > 0 && v <= 1))
            break;
        t->reach = v;
        return LPC_OK;
    case EX_TRAIN_AUGMENT_PAD:
        if (!(v >= 0 && v <= 16))
            break;
        t->pad = (int)v;
        return lpc_batcher_set_augment(t->batcher, t->pad, t->flip);
    case EX_TRAIN_AUGMENT_FLIP:
        t->flip = v != 0;
        return lpc_batcher_set_augment(t->batcher, t->pad, t->flip);
    case EX_TRAIN_CHECK_FINITE:
        return lpc_ctx_set_check_finite(t->ctx, v != 0);
    case EX_TRAIN_LR_DECAY:
        if (!(v >= LPC_LR_DECAY_PROTOCOL && v <= LPC_LR_DECAY_COSINE) || v != floor(v))
            break;
        t->decay = (lpc_lr_decay)v;
        return LPC_OK;
    case EX_TRAIN_GAMMA_UNCAPPED:
        t->sched_flags = v != 0 ? LPC_SCHED_GAMMA_UNCAPPED : 0;
        return LPC_OK;
    case EX_TRAIN_MARGIN_CLAMP:
        return lpc_head_set(t->head, LPC_HEAD_MARGIN_CLAMP, v != 0);
    case EX_TRAIN_RESIZED_CROP:
        return v != 0 ? lpc_batcher_set_random_resized_crop(t->batcher, 0.08, 1.0, 3.0 / 4.0,
                                                            4.0 / 3.0)
                      : lpc_batcher_set_random_resized_crop(t->batcher, 0, 0, 0, 0);
    }
    fprintf(stderr, "error: trainer setting %d: value %g is invalid\n", (int)what, v);
    return LPC_E_ARG;
}

double ex_trainer_get(const ex_trainer *t, ex_train_value what)
{
    if (!t)
        return NAN;
    switch (what) {
    case EX_TRAIN_EPOCH: return (double)t->epochs_done;
    case EX_TRAIN_LOSS: return t->last_loss;
    case EX_TRAIN_ACCURACY: return t->last_acc;
    case EX_TRAIN_GAMMA: return t->last_gamma;
    case EX_TRAIN_STEPS: return (double)lpc_adamw_steps(t->opt);
    }
    return NAN;
}

lpc_status ex_trainer_set_schedule(ex_trainer *t, const ex_schedule *s)
{
    if (!t)
        return bad("ex_trainer_set_schedule: trainer is NULL");
    if (s) {
        ex_schedule check = *s;
        check.lr.lr = t->lr;
        if (check.lr.floor > check.lr.lr) {
            fprintf(stderr, "error: schedule %s: its final rate %g is above the base rate %g\n",
                    s->name, check.lr.floor, t->lr);
            return LPC_E_ARG;
        }
        if (!ex_schedule_valid(&check))
            return LPC_E_ARG;
        t->sched = check;
    }
    t->named = s != NULL;
    return LPC_OK;
}

static lpc_status schedule(const ex_trainer *t, lpc_sched_value what, int64_t epoch, int64_t step,
                           double *out)
{
    return lpc_schedule_eval_ex(t->protocol, what, epoch, step, t->steps_per_epoch,
                                t->epochs, t->gamma_max, t->reach, t->decay, t->sched_flags, out);
}

/* The schedules at step `step` of epoch `epoch` (from 0): gamma, the rates
 * of the non-classifier (lr[0]) and classifier (lr[1]) groups, ArcFace's s, m. */
static lpc_status schedules(const ex_trainer *t, int64_t epoch, int64_t step, double *gamma,
                            double lr[2], double *arc_s, double *arc_m)
{
    lpc_status s;
    if (!t->named) {
        double factor;
        if ((s = schedule(t, LPC_SCHED_GAMMA, epoch, step, gamma)) != LPC_OK ||
            (s = schedule(t, LPC_SCHED_LR_FACTOR, epoch, step, &factor)) != LPC_OK ||
            (s = schedule(t, LPC_SCHED_ARC_S, epoch, step, arc_s)) != LPC_OK ||
            (s = schedule(t, LPC_SCHED_ARC_M, epoch, step, arc_m)) != LPC_OK)
            return s;
        lr[0] = t->lr * factor;
        lr[1] = t->lr;
        return LPC_OK;
    }
    int64_t ge, le;
    lpc_lr_cosine_options classifier = t->sched.lr;
    classifier.hold = classifier.total; /* the classifier's rate never decays */
    if ((s = ex_schedule_clock(&t->sched, t->protocol, epoch, step, t->steps_per_epoch, t->epochs,
                               t->reach, &ge, &le)) != LPC_OK ||
        (s = lpc_gamma_two_phase(&t->sched.gamma, ge, gamma)) != LPC_OK ||
        (s = lpc_lr_cosine(&t->sched.lr, le, &lr[0])) != LPC_OK ||
        (s = lpc_lr_cosine(&classifier, le, &lr[1])) != LPC_OK)
        return s;
    *arc_s = lpc_arcface_scale((double)le);
    *arc_m = lpc_arcface_margin((double)le);
    return LPC_OK;
}

lpc_status ex_trainer_schedule_at(const ex_trainer *t, int64_t epoch, int64_t step,
                                  double *gamma, double lr[2])
{
    double arc_s, arc_m;
    if (!t || !gamma || !lr || epoch < 0 || epoch >= t->epochs || step < 0 ||
        step >= t->steps_per_epoch)
        return bad("ex_trainer_schedule_at: no trainer, no outputs, or epoch or step out of range");
    return schedules(t, epoch, step, gamma, lr, &arc_s, &arc_m);
}

lpc_status ex_trainer_set_comm(ex_trainer *t, lpc_comm *comm)
{
    if (!t)
        return bad("ex_trainer_set_comm: trainer is NULL");
    int ranks = comm ? lpc_comm_size(comm) : 1;
    /* SupCon's loss couples every pair of the batch: it is not a sum of
     * per-rank terms, and gathering the features of all ranks is not done. */
    if (ranks > 1 && lpc_head_get(t->head, LPC_HEAD_SUPCON) != 0) {
        fprintf(stderr, "error: the model has a SupCon term, which couples all pairs of a batch; "
                        "data-parallel training over %d ranks is not supported for it (train it "
                        "in one process)\n", ranks);
        return LPC_E_ARG;
    }
    int64_t last = lpc_dataset_size(t->data) % t->batch; /* the epoch's last batch, if partial */
    if (ranks > t->batch || (last > 0 && last < ranks)) {
        fprintf(stderr, "error: %d ranks for batches of %lld (the last of an epoch: %lld): every "
                        "rank needs at least one sample\n", ranks, (long long)t->batch,
                (long long)(last ? last : t->batch));
        return LPC_E_ARG;
    }
    lpc_module *net = lpc_head_module(t->head);
    int64_t len = 0;
    for (int i = 0; i < lpc_module_num_params(net); i++)
        len += lpc_tensor_numel(lpc_module_param(net, i));
    float *packed = ranks > 1 ? calloc((size_t)len, sizeof *packed) : NULL;
    if (ranks > 1 && !packed)
        return bad("ex_trainer_set_comm: out of memory");
    free(t->packed);
    t->packed = packed;
    t->packed_len = ranks > 1 ? len : 0;
    t->comm = ranks > 1 ? comm : NULL;
    return lpc_ctx_set_comm(t->ctx, t->comm);
}

/* Sums every parameter gradient over the ranks (one all-reduce of all of
 * them packed, in the communicator's fixed order). */
static lpc_status reduce_grads(ex_trainer *t)
{
    lpc_module *net = lpc_head_module(t->head);
    int n = lpc_module_num_params(net);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        lpc_tensor *p = lpc_module_param(net, i);
        size_t bytes = (size_t)lpc_tensor_numel(p) * sizeof(float);
        if (lpc_tensor_grad(p)) /* a parameter the loss did not reach contributes zeros */
            memcpy(t->packed + at, lpc_tensor_grad(p), bytes);
        else
            memset(t->packed + at, 0, bytes);
        at += lpc_tensor_numel(p);
    }
    lpc_status s = lpc_comm_allreduce(t->comm, t->packed, t->packed_len, LPC_COMM_F32);
    if (s != LPC_OK) {
        fprintf(stderr, "error: summing gradients over the ranks: %s\n", lpc_last_error());
        return s;
    }
    at = 0;
    for (int i = 0; i < n; i++) {
        lpc_tensor *p = lpc_module_param(net, i);
        if (lpc_tensor_grad(p))
            memcpy(lpc_tensor_grad(p), t->packed + at,
                   (size_t)lpc_tensor_numel(p) * sizeof(float));
        at += lpc_tensor_numel(p);
    }
    return LPC_OK;
}

/* This rank's rows [lo, hi) of a global batch of `got`: contiguous slices
 * in rank order, sizes differing by at most one. */
static void rank_slice(const ex_trainer *t, int64_t got, int64_t *lo, int64_t *hi)
{
    int r = t->comm ? lpc_comm_rank(t->comm) : 0, size = t->comm ? lpc_comm_size(t->comm) : 1;
    *lo = got * r / size;
    *hi = got * (r + 1) / size;
}

/* This rank's part of the batch x of `got` samples as a tensor of ctx:
 * x itself for one process. */
static lpc_tensor *take_slice(ex_trainer *t, lpc_tensor *x, int64_t got, int64_t lo, int64_t hi)
{
    if (!t->comm)
        return x;
    int64_t shape[4] = {hi - lo, lpc_tensor_dim(x, 1), lpc_tensor_dim(x, 2), lpc_tensor_dim(x, 3)};
    int64_t per = lpc_tensor_numel(x) / got;
    return lpc_tensor_from(t->ctx, 4, shape, lpc_tensor_cdata(x) + lo * per, (hi - lo) * per);
}

static int32_t argmax_row(const float *row, int64_t k)
{
    int32_t best = 0;
    for (int64_t j = 1; j < k; j++)
        if (row[j] > row[best])
            best = (int32_t)j;
    return best;
}

/* One optimizer step on this rank's slice (x, y) of a global batch of
 * `got` samples, step `step` of the current epoch: schedules, forward and
 * loss, backward, gradients summed over the ranks, parameter update, zeroed
 * gradients. *loss and *logits receive the slice's loss and raw logits;
 * *gamma the L2 weight used. */
static lpc_status train_step(ex_trainer *t, lpc_tensor *x, const int32_t *y, int64_t got,
                             int64_t step, float *loss, lpc_tensor **logits, double *gamma)
{
    double lr[2], arc_s, arc_m;
    lpc_status s;
    if ((s = schedules(t, t->epochs_done, step, gamma, lr, &arc_s, &arc_m)) != LPC_OK ||
        (s = lpc_adamw_set_lr(t->opt, 0, lr[0])) != LPC_OK ||
        (s = lpc_adamw_set_lr(t->opt, 1, lr[1])) != LPC_OK) {
        fprintf(stderr, "error: epoch %lld step %lld: schedules: %s\n",
                (long long)t->epochs_done + 1, (long long)step, lpc_last_error());
        return s;
    }
    lpc_tensor *l = lpc_head_loss(t->head, t->ctx, x, y, *gamma, arc_s, arc_m, logits);
    /* The loss is a mean over this rank's samples: weighted by their share,
     * the gradients summed over ranks are the global batch's. */
    lpc_tensor *objective = t->comm ? lpc_scale(t->ctx, l, (float)lpc_tensor_dim(x, 0) / (float)got)
                                    : l;
    if ((s = lpc_ctx_status(t->ctx)) != LPC_OK) {
        fprintf(stderr, "error: epoch %lld step %lld: %s\n", (long long)t->epochs_done + 1,
                (long long)step, lpc_ctx_error(t->ctx));
        return s;
    }
    *loss = lpc_tensor_data(l)[0];
    if (!isfinite(*loss)) {
        fprintf(stderr, "error: non-finite loss at epoch %lld step %lld (gamma %g)\n",
                (long long)t->epochs_done + 1, (long long)step, *gamma);
        return LPC_E_NUMERIC;
    }
    if ((s = lpc_backward(t->ctx, objective)) != LPC_OK) {
        fprintf(stderr, "error: epoch %lld step %lld: %s\n", (long long)t->epochs_done + 1,
                (long long)step, lpc_last_error());
        return s;
    }
    if (t->comm && (s = reduce_grads(t)) != LPC_OK)
        return s;
    if ((s = lpc_adamw_step(t->opt)) != LPC_OK) {
        fprintf(stderr, "error: epoch %lld step %lld: %s\n", (long long)t->epochs_done + 1,
                (long long)step, lpc_last_error());
        return s;
    }
    return lpc_module_zero_grad(lpc_head_module(t->head));
}

lpc_status ex_trainer_epoch(ex_trainer *t)
{
    if (!t)
        return bad("ex_trainer_epoch: trainer is NULL");
    lpc_module_set_train(lpc_head_module(t->head), 1);
    int64_t k = lpc_head_num_classes(t->head), got, lo, hi;
    /* this rank's loss sum, correct predictions and samples, summed over ranks at the end */
    double totals[3] = {0.0, 0.0, 0.0};
    lpc_tensor *x, *logits;
    const int32_t *y;
    for (int64_t step = 0;; step++) {
        lpc_ctx_reset(t->ctx);
        got = lpc_batcher_next(t->batcher, t->ctx, &x, &y);
        if (got <= 0)
            break;
        /* Every rank draws the same global batch and trains on its slice. */
        rank_slice(t, got, &lo, &hi);
        x = take_slice(t, x, got, lo, hi);
        y += lo;
        float lv;
        double gamma;
        lpc_status s = train_step(t, x, y, got, step, &lv, &logits, &gamma);
        if (s != LPC_OK)
            return s;
        const float *lg = lpc_tensor_cdata(logits);
        for (int64_t i = 0; i < hi - lo; i++)
            totals[1] += argmax_row(lg + i * k, k) == y[i];
        totals[2] += (double)(hi - lo);
        totals[0] += (double)lv * (double)(hi - lo);
        t->last_gamma = gamma;
    }
    if (got < 0) {
        fprintf(stderr, "error: reading a batch: %s\n", lpc_last_error());
        return (lpc_status)got;
    }
    lpc_status s;
    if (t->comm && (s = lpc_comm_allreduce(t->comm, totals, 3, LPC_COMM_F64)) != LPC_OK) {
        fprintf(stderr, "error: summing the epoch's totals over the ranks: %s\n",
                lpc_last_error());
        return s;
    }
    t->epochs_done++;
    t->last_loss = totals[2] > 0 ? totals[0] / totals[2] : 0.0;
    t->last_acc = totals[2] > 0 ? totals[1] / totals[2] : 0.0;
    return LPC_OK;
}

const double *ex_trainer_mean(const ex_trainer *t) { return t ? t->mean : NULL; }
const double *ex_trainer_std(const ex_trainer *t) { return t ? t->std : NULL; }
lpc_adamw *ex_trainer_adamw(ex_trainer *t) { return t ? t->opt : NULL; }
lpc_batcher *ex_trainer_batcher(ex_trainer *t) { return t ? t->batcher : NULL; }

lpc_status ex_trainer_set_epoch(ex_trainer *t, int64_t epochs)
{
    if (!t || epochs < 0 || epochs > t->epochs)
        return bad("ex_trainer_set_epoch: epochs must be in [0, total]");
    t->epochs_done = epochs;
    return LPC_OK;
}

lpc_status ex_evaluate(lpc_head *head, const lpc_dataset *ds, const double *mean,
                       const double *std, int64_t batch, float *z_out, float *logits_out,
                       int32_t *pred_out, double *accuracy)
{
    return ex_evaluate_augmented(head, ds, mean, std, batch, 0, 0, 0, z_out, logits_out, pred_out,
                                 accuracy);
}

lpc_status ex_evaluate_augmented(lpc_head *head, const lpc_dataset *ds, const double *mean,
                                 const double *std, int64_t batch, int pad, int flip,
                                 uint64_t seed, float *z_out, float *logits_out,
                                 int32_t *pred_out, double *accuracy)
{
    if (!head || !ds || !mean || !std || batch < 1)
        return bad("ex_evaluate: NULL argument or batch < 1");
    for (int i = 0; i < lpc_dataset_channels(ds); i++)
        if (!(std[i] > 0) || !isfinite(std[i]) || !isfinite(mean[i])) {
            fprintf(stderr, "error: ex_evaluate: channel %d: mean %g and std %g must be finite "
                            "and std > 0\n", i, mean[i], std[i]);
            return LPC_E_ARG;
        }
    lpc_module *net = lpc_head_module(head);
    int was_train = lpc_module_is_train(net);
    int64_t p = lpc_head_latent_dim(head), k = lpc_head_num_classes(head);
    lpc_batcher *b = lpc_batcher_new(ds, batch, 0, seed, mean, std);
    lpc_ctx *ctx = lpc_ctx_new();
    if (!b || !ctx) {
        fprintf(stderr, "error: ex_evaluate: %s\n", lpc_last_error());
        lpc_batcher_free(b);
        lpc_ctx_free(ctx);
        return LPC_E_NOMEM;
    }
    if ((pad || flip) && lpc_batcher_set_augment(b, pad, flip) != LPC_OK) {
        fprintf(stderr, "error: ex_evaluate: %s\n", lpc_last_error());
        lpc_batcher_free(b);
        lpc_ctx_free(ctx);
        return LPC_E_ARG;
    }
    lpc_module_set_train(net, 0);
    lpc_ctx_set_grad(ctx, 0);
    const int32_t *labels_ds = lpc_dataset_labels(ds);
    int64_t done = 0, correct = 0, got;
    lpc_status s = LPC_OK;
    lpc_tensor *x;
    const int32_t *y;
    while ((got = lpc_batcher_next(b, ctx, &x, &y)) > 0) {
        lpc_tensor *z, *logits;
        if ((s = lpc_head_forward(head, ctx, x, NULL, &z, &logits)) != LPC_OK) {
            fprintf(stderr, "error: evaluating: %s\n", lpc_ctx_error(ctx));
            break;
        }
        const float *lg = lpc_tensor_cdata(logits);
        for (int64_t i = 0; i < got; i++) {
            int32_t best = argmax_row(lg + i * k, k);
            correct += best == labels_ds[done + i];
            if (pred_out)
                pred_out[done + i] = best;
        }
        if (z_out)
            memcpy(z_out + done * p, lpc_tensor_cdata(z), (size_t)(got * p) * sizeof(float));
        if (logits_out)
            memcpy(logits_out + done * k, lg, (size_t)(got * k) * sizeof(float));
        done += got;
        lpc_ctx_reset(ctx);
    }
    if (got < 0)
        s = (lpc_status)got;
    lpc_module_set_train(net, was_train);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    if (s == LPC_OK && accuracy)
        *accuracy = done ? (double)correct / (double)done : 0.0;
    return s;
}

int ex_same_shape(const lpc_dataset *train, const lpc_dataset *test)
{
    int c = lpc_dataset_channels(train), h = lpc_dataset_height(train),
        w = lpc_dataset_width(train), k = lpc_dataset_num_classes(train);
    int tc = lpc_dataset_channels(test), th = lpc_dataset_height(test),
        tw = lpc_dataset_width(test), tk = lpc_dataset_num_classes(test);
    if (c == tc && h == th && w == tw && tk <= k)
        return 1;
    fprintf(stderr, "error: the test set (%dx%dx%d images, %d classes) does not fit the training "
                    "set (%dx%dx%d, %d classes)\n", tc, th, tw, tk, c, h, w, k);
    return 0;
}
