/* The training loop shared by the examples: schedules, AdamW, batching. */
#include <math.h>
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
    lpc_lr_decay decay;
    unsigned sched_flags;
    double mean[MAX_CHANNELS], std[MAX_CHANNELS];
    double last_loss, last_acc, last_gamma;
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
    case LPC_TRAIN_LR_DECAY:
        if (!(v >= LPC_LR_DECAY_PROTOCOL && v <= LPC_LR_DECAY_COSINE) || v != floor(v))
            break;
        t->decay = (lpc_lr_decay)v;
        return LPC_OK;
    case LPC_TRAIN_GAMMA_UNCAPPED:
        t->sched_flags = v != 0 ? LPC_SCHED_GAMMA_UNCAPPED : 0;
        return LPC_OK;
    case LPC_TRAIN_MARGIN_CLAMP:
        return lpc_model_set_margin_flags(t->model, v != 0 ? LPC_MARGIN_CLAMP_TARGET : 0);
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
    return lpc_schedule_eval_ex(t->protocol, what, t->epochs_done, step, t->steps_per_epoch,
                                t->epochs, t->gamma_max, t->reach, t->decay, t->sched_flags, out);
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
    int64_t k = lpc_model_num_classes(t->model), seen = 0, correct = 0, got;
    double loss_sum = 0.0;
    lpc_tensor *x, *logits;
    const int32_t *y;
    for (int64_t step = 0;; step++) {
        lpc_ctx_reset(t->ctx);
        got = lpc_batcher_next(t->batcher, t->ctx, &x, &y);
        if (got <= 0)
            break;
        double gamma, factor, arc_s, arc_m;
        if (schedule(t, LPC_SCHED_GAMMA, step, &gamma) != LPC_OK ||
            schedule(t, LPC_SCHED_LR_FACTOR, step, &factor) != LPC_OK ||
            schedule(t, LPC_SCHED_ARC_S, step, &arc_s) != LPC_OK ||
            schedule(t, LPC_SCHED_ARC_M, step, &arc_m) != LPC_OK)
            return LPC_E_ARG;
        lpc_adamw_set_lr(t->opt, 0, t->lr * factor);
        lpc_tensor *loss = lpc_model_loss(t->model, t->ctx, x, y, gamma, arc_s, arc_m, &logits);
        lpc_status s = lpc_ctx_status(t->ctx);
        if (s != LPC_OK)
            return lpci_error(s, "lpc_trainer_epoch: epoch %lld step %lld: %s",
                              (long long)t->epochs_done + 1, (long long)step, lpc_ctx_error(t->ctx));
        float lv = lpc_tensor_data(loss)[0];
        if (!isfinite(lv))
            return lpci_error(LPC_E_NUMERIC, "lpc_trainer_epoch: non-finite loss at epoch %lld "
                              "step %lld (gamma %g)", (long long)t->epochs_done + 1,
                              (long long)step, gamma);
        if ((s = lpc_backward(t->ctx, loss)) != LPC_OK || (s = lpc_adamw_step(t->opt)) != LPC_OK)
            return s;
        lpc_module_zero_grad(net);
        const float *lg = lpc_tensor_cdata(logits);
        for (int64_t i = 0; i < got; i++)
            correct += argmax_row(lg + i * k, k) == y[i];
        seen += got;
        loss_sum += (double)lv * (double)got;
        t->last_gamma = gamma;
    }
    if (got < 0)
        return (lpc_status)got;
    t->epochs_done++;
    t->last_loss = seen ? loss_sum / (double)seen : 0.0;
    t->last_acc = seen ? (double)correct / (double)seen : 0.0;
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
