/* The training loop shared by the examples: schedules, AdamW, batching,
 * and data-parallel steps over the ranks of a communicator. */
#include <math.h>
#include <string.h>
#include "../nn/module_internal.h"

#define MAX_CHANNELS 4

struct lpc_trainer {
    lpc_model *model;
    const lpc_dataset *data;
    lpc_adamw *opt;
    lpc_batcher *batcher;
    lpc_ctx *ctx;
    lpc_protocol protocol;
    int64_t epochs, batch, epochs_done, steps_per_epoch;
    double lr, gamma_max, reach;
    int pad, flip;
    double mean[MAX_CHANNELS], std[MAX_CHANNELS];
    double last_loss, last_acc, last_gamma;
    lpc_comm *comm;        /* borrowed; NULL: this process alone */
    float *packed;         /* every parameter gradient, for one all-reduce */
    int64_t packed_len;
};

lpc_status lpc_trainer_new(lpc_model *m, const lpc_dataset *train, lpc_protocol protocol,
                           int64_t epochs, int64_t batch, double lr, double weight_decay,
                           uint64_t seed, lpc_trainer **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_trainer_new: out is NULL");
    *out = NULL;
    if (!m || !train || epochs < 1 || batch < 1 || !(lr > 0) || !(weight_decay >= 0) ||
        protocol < LPC_PROTOCOL_PAPER || protocol > LPC_PROTOCOL_RAMP)
        return lpci_error(LPC_E_ARG, "lpc_trainer_new: need a model, data, epochs >= 1, batch >= 1, "
                          "lr > 0, weight decay >= 0 and a known protocol");
    int c = lpc_dataset_channels(train);
    if (c < 1 || c > MAX_CHANNELS)
        return lpci_error(LPC_E_ARG, "lpc_trainer_new: %d channels not supported", c);
    lpc_trainer *t = lpci_calloc(1, sizeof *t);
    if (!t)
        return lpci_error(LPC_E_NOMEM, "lpc_trainer_new: out of memory");
    *t = (lpc_trainer){.model = m, .data = train, .protocol = protocol, .epochs = epochs,
                       .batch = batch, .lr = lr, .gamma_max = 100.0, .reach = 0.7};
    lpc_status s = lpc_dataset_channel_stats(train, t->mean, t->std);
    if (s != LPC_OK)
        goto fail;
    for (int i = 0; i < c; i++)
        if (!(t->std[i] > 0)) {
            s = lpci_error(LPC_E_NUMERIC, "lpc_trainer_new: channel %d has zero variance", i);
            goto fail;
        }
    t->opt = lpc_model_adamw_new(m, lr, weight_decay);
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
    lpc_trainer_free(t);
    return s;
}

void lpc_trainer_free(lpc_trainer *t)
{
    if (!t)
        return;
    lpc_adamw_free(t->opt);
    lpc_batcher_free(t->batcher);
    lpc_ctx_free(t->ctx);
    lpci_free(t->packed);
    lpci_free(t);
}

lpc_status lpc_trainer_set(lpc_trainer *t, lpc_train_setting what, double v)
{
    if (!t)
        return lpci_error(LPC_E_ARG, "lpc_trainer_set: trainer is NULL");
    switch (what) {
    case LPC_TRAIN_GAMMA_MAX:
        if (!(v > 0) || !isfinite(v))
            break;
        t->gamma_max = v;
        return LPC_OK;
    case LPC_TRAIN_REACH:
        if (!(v > 0 && v <= 1))
            break;
        t->reach = v;
        return LPC_OK;
    case LPC_TRAIN_AUGMENT_PAD:
        if (!(v >= 0 && v <= 16))
            break;
        t->pad = (int)v;
        return lpc_batcher_set_augment(t->batcher, t->pad, t->flip);
    case LPC_TRAIN_AUGMENT_FLIP:
        t->flip = v != 0;
        return lpc_batcher_set_augment(t->batcher, t->pad, t->flip);
    case LPC_TRAIN_CHECK_FINITE:
        return lpc_ctx_set_check_finite(t->ctx, v != 0);
    }
    return lpci_error(LPC_E_ARG, "lpc_trainer_set: value %g is invalid for setting %d", v, (int)what);
}

double lpc_trainer_get(const lpc_trainer *t, lpc_train_value what)
{
    if (!t)
        return NAN;
    switch (what) {
    case LPC_TRAIN_EPOCH: return (double)t->epochs_done;
    case LPC_TRAIN_LOSS: return t->last_loss;
    case LPC_TRAIN_ACCURACY: return t->last_acc;
    case LPC_TRAIN_GAMMA: return t->last_gamma;
    case LPC_TRAIN_STEPS: return (double)lpc_adamw_steps(t->opt);
    }
    return NAN;
}

static lpc_status schedule(const lpc_trainer *t, lpc_sched_value what, int64_t step, double *out)
{
    return lpc_schedule_eval(t->protocol, what, t->epochs_done, step, t->steps_per_epoch,
                             t->epochs, t->gamma_max, t->reach, out);
}

lpc_status lpc_trainer_set_comm(lpc_trainer *t, lpc_comm *comm)
{
    if (!t)
        return lpci_error(LPC_E_ARG, "lpc_trainer_set_comm: trainer is NULL");
    int ranks = comm ? lpc_comm_size(comm) : 1;
    /* SupCon's loss couples every pair of the batch: it is not a sum of
     * per-rank terms, and gathering the features of all ranks is not done. */
    if (ranks > 1 && lpc_model_has(t->model, LPC_MODEL_HAS_SUPCON))
        return lpci_error(LPC_E_ARG, "lpc_trainer_set_comm: model %s has a SupCon term, which "
                          "couples all pairs of a batch; data-parallel training over %d ranks "
                          "is not supported for it (train it in one process)",
                          lpc_model_name(t->model), ranks);
    int64_t last = lpc_dataset_size(t->data) % t->batch; /* the epoch's last batch, if partial */
    if (ranks > t->batch || (last > 0 && last < ranks))
        return lpci_error(LPC_E_ARG, "lpc_trainer_set_comm: %d ranks for batches of %lld (the "
                          "last of an epoch: %lld): every rank needs at least one sample", ranks,
                          (long long)t->batch, (long long)(last ? last : t->batch));
    lpc_module *net = lpc_model_module(t->model);
    int64_t len = 0;
    for (int i = 0; i < lpc_module_num_params(net); i++)
        len += lpc_tensor_numel(lpc_module_param(net, i));
    float *packed = ranks > 1 ? lpci_calloc((size_t)len, sizeof *packed) : NULL;
    if (ranks > 1 && !packed)
        return lpci_error(LPC_E_NOMEM, "lpc_trainer_set_comm: out of memory");
    lpci_free(t->packed);
    t->packed = packed;
    t->packed_len = ranks > 1 ? len : 0;
    t->comm = ranks > 1 ? comm : NULL;
    return lpc_ctx_set_comm(t->ctx, t->comm);
}

/* Sums every parameter gradient over the ranks (one all-reduce of all of
 * them packed, in the communicator's fixed order). */
static lpc_status reduce_grads(lpc_trainer *t)
{
    lpc_module *net = lpc_model_module(t->model);
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
    if (s != LPC_OK)
        return s;
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
static void rank_slice(const lpc_trainer *t, int64_t got, int64_t *lo, int64_t *hi)
{
    int r = t->comm ? lpc_comm_rank(t->comm) : 0, size = t->comm ? lpc_comm_size(t->comm) : 1;
    *lo = got * r / size;
    *hi = got * (r + 1) / size;
}

/* This rank's part of the batch (x, y) of `got` samples as a tensor of ctx:
 * x itself for one process. */
static lpc_tensor *take_slice(lpc_trainer *t, lpc_tensor *x, int64_t got, int64_t lo, int64_t hi)
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

lpc_status lpc_trainer_epoch(lpc_trainer *t)
{
    if (!t)
        return lpci_error(LPC_E_ARG, "lpc_trainer_epoch: trainer is NULL");
    lpc_module *net = lpc_model_module(t->model);
    lpc_module_set_train(net, 1);
    int64_t k = lpc_model_num_classes(t->model), got, lo, hi;
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
        double gamma, factor, arc_s, arc_m;
        if (schedule(t, LPC_SCHED_GAMMA, step, &gamma) != LPC_OK ||
            schedule(t, LPC_SCHED_LR_FACTOR, step, &factor) != LPC_OK ||
            schedule(t, LPC_SCHED_ARC_S, step, &arc_s) != LPC_OK ||
            schedule(t, LPC_SCHED_ARC_M, step, &arc_m) != LPC_OK)
            return LPC_E_ARG;
        lpc_adamw_set_lr(t->opt, 0, t->lr * factor);
        lpc_tensor *loss = lpc_model_loss(t->model, t->ctx, x, y, gamma, arc_s, arc_m, &logits);
        /* The loss is a mean over this rank's samples: weighted by their
         * share, the gradients summed over ranks are the global batch's. */
        lpc_tensor *objective = t->comm ? lpc_scale(t->ctx, loss, (float)(hi - lo) / (float)got)
                                        : loss;
        lpc_status s = lpc_ctx_status(t->ctx);
        if (s != LPC_OK)
            return lpci_error(s, "lpc_trainer_epoch: epoch %lld step %lld: %s",
                              (long long)t->epochs_done + 1, (long long)step, lpc_ctx_error(t->ctx));
        float lv = lpc_tensor_data(loss)[0];
        if (!isfinite(lv))
            return lpci_error(LPC_E_NUMERIC, "lpc_trainer_epoch: non-finite loss at epoch %lld "
                              "step %lld (gamma %g)", (long long)t->epochs_done + 1,
                              (long long)step, gamma);
        if ((s = lpc_backward(t->ctx, objective)) != LPC_OK ||
            (t->comm && (s = reduce_grads(t)) != LPC_OK) || (s = lpc_adamw_step(t->opt)) != LPC_OK)
            return s;
        lpc_module_zero_grad(net);
        const float *lg = lpc_tensor_cdata(logits);
        for (int64_t i = 0; i < hi - lo; i++)
            totals[1] += argmax_row(lg + i * k, k) == y[i];
        totals[2] += (double)(hi - lo);
        totals[0] += (double)lv * (double)(hi - lo);
        t->last_gamma = gamma;
    }
    if (got < 0)
        return (lpc_status)got;
    lpc_status s;
    if (t->comm && (s = lpc_comm_allreduce(t->comm, totals, 3, LPC_COMM_F64)) != LPC_OK)
        return s;
    t->epochs_done++;
    t->last_loss = totals[2] > 0 ? totals[0] / totals[2] : 0.0;
    t->last_acc = totals[2] > 0 ? totals[1] / totals[2] : 0.0;
    return LPC_OK;
}

const double *lpc_trainer_mean(const lpc_trainer *t) { return t ? t->mean : NULL; }
const double *lpc_trainer_std(const lpc_trainer *t) { return t ? t->std : NULL; }
lpc_adamw *lpc_trainer_adamw(lpc_trainer *t) { return t ? t->opt : NULL; }
lpc_batcher *lpc_trainer_batcher(lpc_trainer *t) { return t ? t->batcher : NULL; }

lpc_status lpc_trainer_set_epoch(lpc_trainer *t, int64_t epochs)
{
    if (!t || epochs < 0 || epochs > t->epochs)
        return lpci_error(LPC_E_ARG, "lpc_trainer_set_epoch: epochs must be in [0, total]");
    t->epochs_done = epochs;
    return LPC_OK;
}
