/* Evaluation pass: latent features, logits, predictions and accuracy, with
 * or without the training augmentation. */
#include <string.h>
#include "../nn/module_internal.h"

lpc_status lpc_model_evaluate(lpc_model *m, const lpc_dataset *ds, const double *mean,
                              const double *std, int64_t batch, float *z_out, float *logits_out,
                              int32_t *pred_out, double *accuracy)
{
    return lpc_model_evaluate_augmented(m, ds, mean, std, batch, 0, 0, 0, z_out, logits_out,
                                        pred_out, accuracy);
}

lpc_status lpc_model_evaluate_augmented(lpc_model *m, const lpc_dataset *ds, const double *mean,
                                        const double *std, int64_t batch, int pad, int flip,
                                        uint64_t seed, float *z_out, float *logits_out,
                                        int32_t *pred_out, double *accuracy)
{
    if (!m || !ds || !mean || !std || batch < 1)
        return lpci_error(LPC_E_ARG, "lpc_model_evaluate: NULL argument or batch < 1");
    lpc_module *net = lpc_model_module(m);
    int was_train = lpc_module_is_train(net);
    int64_t p = lpc_model_latent_dim(m), k = lpc_model_num_classes(m);
    lpc_batcher *b = lpc_batcher_new(ds, batch, 0, seed, mean, std);
    lpc_ctx *ctx = lpc_ctx_new();
    if (!b || !ctx) {
        lpc_batcher_free(b);
        lpc_ctx_free(ctx);
        return lpci_error(LPC_E_NOMEM, "lpc_model_evaluate: out of memory");
    }
    lpc_status s = (pad || flip) ? lpc_batcher_set_augment(b, pad, flip) : LPC_OK;
    if (s != LPC_OK) {
        lpc_batcher_free(b);
        lpc_ctx_free(ctx);
        return s;
    }
    lpc_module_set_train(net, 0);
    lpc_ctx_set_grad(ctx, 0);
    const int32_t *labels_ds = lpc_dataset_labels(ds);
    int64_t done = 0, correct = 0, got;
    lpc_tensor *x;
    const int32_t *y;
    while ((got = lpc_batcher_next(b, ctx, &x, &y)) > 0) {
        lpc_tensor *z, *logits;
        s = lpc_model_forward(m, ctx, x, &z, &logits);
        if (s != LPC_OK) {
            lpci_error(s, "lpc_model_evaluate: %s", lpc_ctx_error(ctx));
            break;
        }
        const float *lg = lpc_tensor_cdata(logits);
        for (int64_t i = 0; i < got; i++) {
            int32_t best = 0;
            for (int64_t j = 1; j < k; j++)
                if (lg[i * k + j] > lg[i * k + best])
                    best = (int32_t)j;
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
