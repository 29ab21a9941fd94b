/* Model recipes: the eleven names, their structure, one epoch of each on a
 * Fashion-MNIST subset without NaN, raw-logit predictions, misuse. */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "lpct.h"

static const int WIDTHS[3] = {64, 128, 16};

START_TEST(names_and_structure)
{
    ck_assert_int_eq(lpc_model_count(), 11);
    lpc_rng *rng = lpc_rng_new(1);
    for (int i = 0; i < lpc_model_count(); i++) {
        lpc_model *m = NULL;
        ck_assert_int_eq(lpc_model_new(lpc_model_name_at(i), LPC_BACKBONE_MLP, 1, 28, 28, 10,
                                       WIDTHS, rng, &m), LPC_OK);
        const char *name = lpc_model_name(m);
        int64_t p = lpc_model_latent_dim(m);
        int penult = lpc_model_has(m, LPC_MODEL_HAS_PENULT);
        ck_assert_int_eq(p, !penult ? 512 : strcmp(name, "LPC-Wide") == 0 ? 128
                                      : strcmp(name, "LPC-Narrow") == 0 ? 16 : 64);
        ck_assert_int_eq(lpc_model_has(m, LPC_MODEL_HAS_L2), strncmp(name, "LPC", 3) == 0);
        ck_assert_int_eq(lpc_model_has(m, LPC_MODEL_HAS_SUPCON), strstr(name, "SCL") != NULL);
        /* Classifier without bias, trained with its own group. */
        lpc_module *net = lpc_model_module(m);
        ck_assert_ptr_nonnull(lpc_module_find_param(net, "classifier.weight"));
        ck_assert_ptr_null(lpc_module_find_param(net, "classifier.bias"));
        lpc_adamw *opt = lpc_model_adamw_new(m, 1e-3, 5e-4);
        ck_assert_int_eq(lpc_adamw_num_params(opt), lpc_module_num_params(net));
        lpc_adamw_free(opt);
        lpc_model_free(m);
    }
    lpc_model *m = NULL;
    ck_assert_int_eq(lpc_model_new("lpc-narrow", LPC_BACKBONE_MLP, 1, 28, 28, 10, WIDTHS, rng, &m),
                     LPC_OK); /* case-insensitive */
    ck_assert_str_eq(lpc_model_name(m), "LPC-Narrow");
    lpc_model_free(m);
    ck_assert_int_eq(lpc_model_new("Bogus", LPC_BACKBONE_MLP, 1, 28, 28, 10, WIDTHS, rng, &m),
                     LPC_E_ARG);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "LPC-NoPen"));
    ck_assert_int_eq(lpc_model_new("LPC", LPC_BACKBONE_MLP, 1, 28, 28, 1, WIDTHS, rng, &m), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_new("LPC", LPC_BACKBONE_MLP, 1, 28, 28, 10, NULL, rng, &m), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_new("LPC", 99, 1, 28, 28, 10, WIDTHS, rng, &m), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_new("LPC", LPC_BACKBONE_MLP, 1, 28, 28, 10, WIDTHS, rng, NULL), LPC_E_ARG);
    ck_assert_ptr_null(lpc_model_name_at(11));
    ck_assert_ptr_null(lpc_model_module(NULL));
    lpc_model_free(NULL);
    lpc_rng_free(rng);
}
END_TEST

/* Loss recipe: LPC = CE + gamma * mean(z^2), computed by hand from z and logits. */
START_TEST(loss_composition)
{
    lpc_rng *rng = lpc_rng_new(2);
    lpc_model *m = NULL;
    ck_assert_int_eq(lpc_model_new("LPC", LPC_BACKBONE_MLP, 1, 2, 2, 3, WIDTHS, rng, &m), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    float xv[8] = {0.1f, -0.3f, 0.5f, 0.2f, 1, 0, -1, 0.5f};
    int32_t y[2] = {2, 0};
    lpc_tensor *x = lpc_tensor_from(ctx, 4, (int64_t[]){2, 1, 2, 2}, xv, 8);
    lpc_tensor *z, *logits;
    ck_assert_int_eq(lpc_model_forward(m, ctx, x, &z, &logits), LPC_OK);
    double expect = lpc_tensor_data(lpc_cross_entropy(ctx, logits, y))[0] +
                    lpc_tensor_data(lpc_l2_latent(ctx, z, 7.0f))[0];
    lpc_tensor *loss = lpc_model_loss(m, ctx, x, y, 7.0, 0, 0, NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    LPCT_ASSERT_CLOSE(lpc_tensor_data(loss)[0], expect, 1e-6);
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    lpc_ctx_free(ctx);
    lpc_model_free(m);
    lpc_rng_free(rng);
}
END_TEST

/* Each model trains one epoch on 5,000 Fashion-MNIST images without NaN, and
 * ArcFace/CosFace models predict with the raw logits W z. */
START_TEST(every_model_trains_one_epoch)
{
    lpc_dataset *train = NULL;
    if (lpc_dataset_load_mnist_dir(NULL, 1, &train) != LPC_OK) {
        fprintf(stderr, "skipping: Fashion-MNIST not installed (%s)\n", lpc_last_error());
        return;
    }
    ck_assert_int_eq(lpc_dataset_truncate(train, 5000), LPC_OK);
    /* Predictions are checked on the first 500 images (keeps the suite fast). */
    lpc_dataset *few = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(lpc_dataset_images(train), lpc_dataset_labels(train),
                                             500, 1, 28, 28, 10, &few), LPC_OK);
    for (int i = 0; i < lpc_model_count(); i++) {
        lpc_rng *rng = lpc_rng_new(3);
        lpc_model *m = NULL;
        lpc_trainer *tr = NULL;
        ck_assert_int_eq(lpc_model_new(lpc_model_name_at(i), LPC_BACKBONE_MLP, 1, 28, 28, 10,
                                       WIDTHS, rng, &m), LPC_OK);
        ck_assert_int_eq(lpc_trainer_new(m, train, LPC_PROTOCOL_RAMP, 1, 128, 1e-3, 5e-4, 3, &tr),
                         LPC_OK);
        ck_assert_msg(lpc_trainer_epoch(tr) == LPC_OK, "%s: %s", lpc_model_name(m), lpc_last_error());
        double loss = lpc_trainer_get(tr, LPC_TRAIN_LOSS), acc = lpc_trainer_get(tr, LPC_TRAIN_ACCURACY);
        ck_assert_msg(isfinite(loss) && acc > 0.4, "%s: loss %g acc %g", lpc_model_name(m), loss, acc);
        /* Evaluation predictions equal argmax of W z (raw logits, no margin). */
        int64_t p = lpc_model_latent_dim(m), n = 500;
        float *z = malloc((size_t)(n * p) * sizeof *z);
        int32_t *pred = malloc((size_t)n * sizeof *pred);
        double acc_eval;
        ck_assert_int_eq(lpc_model_evaluate(m, few, lpc_trainer_mean(tr), lpc_trainer_std(tr), 512,
                                            z, NULL, pred, &acc_eval), LPC_OK);
        const float *w = lpc_tensor_cdata(lpc_module_find_param(lpc_model_module(m), "classifier.weight"));
        for (int64_t s = 0; s < n; s++) {
            int best = 0;
            double bestv = -INFINITY;
            for (int c = 0; c < 10; c++) {
                double v = 0;
                for (int64_t j = 0; j < p; j++)
                    v += (double)w[c * p + j] * z[s * p + j];
                if (v > bestv)
                    bestv = v, best = c;
            }
            ck_assert_int_eq(pred[s], best);
        }
        free(z);
        free(pred);
        lpc_trainer_free(tr);
        lpc_model_free(m);
        lpc_rng_free(rng);
    }
    lpc_dataset_free(few);
    lpc_dataset_free(train);
}
END_TEST

START_TEST(trainer_misuse)
{
    lpc_trainer *tr = (lpc_trainer *)1;
    ck_assert_int_eq(lpc_trainer_new(NULL, NULL, LPC_PROTOCOL_RAMP, 1, 1, 1e-3, 0, 0, &tr), LPC_E_ARG);
    ck_assert_ptr_null(tr);
    ck_assert_int_eq(lpc_trainer_epoch(NULL), LPC_E_ARG);
    ck_assert(isnan(lpc_trainer_get(NULL, LPC_TRAIN_LOSS)));
    ck_assert_int_eq(lpc_trainer_set(NULL, LPC_TRAIN_REACH, 0.5), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_evaluate(NULL, NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL), LPC_E_ARG);
    uint8_t img[2 * 4] = {0, 255, 3, 9, 200, 100, 50, 25};
    int32_t lab[2] = {0, 1};
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(img, lab, 2, 1, 2, 2, 2, &ds), LPC_OK);
    lpc_rng *rng = lpc_rng_new(4);
    lpc_model *m = NULL;
    ck_assert_int_eq(lpc_model_new("NoPen", LPC_BACKBONE_MLP, 1, 2, 2, 2, WIDTHS, rng, &m), LPC_OK);
    ck_assert_int_eq(lpc_trainer_new(m, ds, LPC_PROTOCOL_RAMP, 0, 1, 1e-3, 0, 0, &tr), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_new(m, ds, LPC_PROTOCOL_RAMP, 2, 1, 1e-3, 0, 0, &tr), LPC_OK);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_REACH, 1.5), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_GAMMA_MAX, -1), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_set_epoch(tr, 3), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_epoch(tr), LPC_OK);
    ck_assert_int_eq((int)lpc_trainer_get(tr, LPC_TRAIN_EPOCH), 1);
    ck_assert_int_eq((int)lpc_trainer_get(tr, LPC_TRAIN_STEPS), 2);
    /* After the first step nothing is allocated: a whole second epoch of
     * forward, backward and AdamW steps leaves the counter unchanged. */
    unsigned long long before = lpc_alloc_count();
    ck_assert_int_eq(lpc_trainer_epoch(tr), LPC_OK);
    ck_assert_uint_eq(lpc_alloc_count(), before);
    lpc_trainer_free(tr);
    lpc_model_free(m);
    lpc_rng_free(rng);
    lpc_dataset_free(ds);
}
END_TEST

/* The conventions' settings: LR decays reach AdamW's non-classifier group,
 * the margin clamp and the uncapped gamma are accepted, and the augmented
 * evaluation equals the plain one without augmentation and is seeded. */
START_TEST(conventions_settings)
{
    uint8_t img[8 * 16];
    int32_t lab[8];
    for (int i = 0; i < 8 * 16; i++)
        img[i] = (uint8_t)((i * 37 + i / 16 * 11) % 251);
    for (int i = 0; i < 8; i++)
        lab[i] = i % 2;
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(img, lab, 8, 1, 4, 4, 2, &ds), LPC_OK);
    lpc_rng *rng = lpc_rng_new(5);
    lpc_model *m = NULL;
    lpc_trainer *tr = NULL;
    ck_assert_int_eq(lpc_model_new("ArcFace", LPC_BACKBONE_MLP, 1, 4, 4, 2, WIDTHS, rng, &m), LPC_OK);
    ck_assert_int_eq(lpc_trainer_new(m, ds, LPC_PROTOCOL_RAMP, 2, 4, 1e-3, 0, 0, &tr), LPC_OK);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_LR_DECAY, LPC_LR_DECAY_COSINE), LPC_OK);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_GAMMA_UNCAPPED, 1), LPC_OK);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_MARGIN_CLAMP, 1), LPC_OK);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_LR_DECAY, 7), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_LR_DECAY, 1.5), LPC_E_ARG);
    ck_assert_int_eq(lpc_trainer_epoch(tr), LPC_OK);
    /* Last step of epoch 1: global step 1 of 4. */
    LPCT_ASSERT_CLOSE(lpc_adamw_get_lr(lpc_trainer_adamw(tr), 0),
                      1e-3 * 0.5 * (1 + cos(M_PI / 4)), 1e-12);
    LPCT_ASSERT_CLOSE(lpc_adamw_get_lr(lpc_trainer_adamw(tr), 1), 1e-3, 1e-12);
    ck_assert_int_eq(lpc_model_set_margin_flags(NULL, 0), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_set_margin_flags(m, 4u), LPC_E_ARG);
    /* Evaluation with and without augmentation. */
    const double *mean = lpc_trainer_mean(tr), *std = lpc_trainer_std(tr);
    int64_t p = lpc_model_latent_dim(m);
    float *z0 = malloc((size_t)(8 * p) * sizeof *z0), *z1 = malloc((size_t)(8 * p) * sizeof *z1);
    float *z2 = malloc((size_t)(8 * p) * sizeof *z2);
    double a0, a1;
    ck_assert_int_eq(lpc_model_evaluate(m, ds, mean, std, 3, z0, NULL, NULL, &a0), LPC_OK);
    ck_assert_int_eq(lpc_model_evaluate_augmented(m, ds, mean, std, 3, 0, 0, 9, z1, NULL, NULL,
                                                  &a1), LPC_OK);
    ck_assert(memcmp(z0, z1, (size_t)(8 * p) * sizeof *z0) == 0 && a0 == a1);
    ck_assert_int_eq(lpc_model_evaluate_augmented(m, ds, mean, std, 3, 1, 1, 9, z1, NULL, NULL,
                                                  NULL), LPC_OK);
    ck_assert_int_eq(lpc_model_evaluate_augmented(m, ds, mean, std, 3, 1, 1, 9, z2, NULL, NULL,
                                                  NULL), LPC_OK);
    ck_assert(memcmp(z1, z2, (size_t)(8 * p) * sizeof *z1) == 0); /* seeded */
    ck_assert(memcmp(z0, z1, (size_t)(8 * p) * sizeof *z0) != 0); /* augmented */
    ck_assert_int_eq(lpc_model_evaluate_augmented(m, ds, mean, std, 3, 99, 0, 9, z1, NULL, NULL,
                                                  NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_model_evaluate_augmented(NULL, ds, mean, std, 3, 0, 0, 9, z1, NULL, NULL,
                                                  NULL), LPC_E_ARG);
    free(z0);
    free(z1);
    free(z2);
    lpc_trainer_free(tr);
    lpc_model_free(m);
    lpc_rng_free(rng);
    lpc_dataset_free(ds);
}
END_TEST

/* A diverging run (absurd learning rate: the second step overflows) stops
 * with LPC_E_NUMERIC naming the step, and with the debug check the op,
 * before the optimizer writes non-finite weights. */
START_TEST(non_finite_loss_stops_training)
{
    uint8_t img[4 * 4];
    int32_t lab[4] = {0, 1, 0, 1};
    for (int i = 0; i < 16; i++)
        img[i] = (uint8_t)(i * 37);
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(img, lab, 4, 1, 2, 2, 2, &ds), LPC_OK);
    for (int check = 0; check < 2; check++) {
        lpc_rng *rng = lpc_rng_new(5);
        lpc_model *m = NULL;
        lpc_trainer *tr = NULL;
        ck_assert_int_eq(lpc_model_new("LPC", LPC_BACKBONE_MLP, 1, 2, 2, 2, WIDTHS, rng, &m), LPC_OK);
        ck_assert_int_eq(lpc_trainer_new(m, ds, LPC_PROTOCOL_RAMP, 1, 2, 1e30, 0, 0, &tr), LPC_OK);
        ck_assert_int_eq(lpc_trainer_set(tr, LPC_TRAIN_CHECK_FINITE, check), LPC_OK);
        ck_assert_int_eq(lpc_trainer_epoch(tr), LPC_E_NUMERIC);
        ck_assert_ptr_nonnull(strstr(lpc_last_error(), "step 1"));
        if (check)
            ck_assert_ptr_nonnull(strstr(lpc_last_error(), "produced a non-finite value"));
        ck_assert_int_eq((int)lpc_trainer_get(tr, LPC_TRAIN_EPOCH), 0);
        lpc_module *net = lpc_model_module(m);
        for (int i = 0; i < lpc_module_num_params(net); i++) {
            lpc_tensor *t = lpc_module_param(net, i);
            for (int64_t j = 0; j < lpc_tensor_numel(t); j++)
                ck_assert(isfinite(lpc_tensor_data(t)[j]));
        }
        lpc_trainer_free(tr);
        lpc_model_free(m);
        lpc_rng_free(rng);
    }
    lpc_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("recipe");
    TCase *tc = tcase_create("recipe");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, names_and_structure);
    tcase_add_test(tc, loss_composition);
    tcase_add_test(tc, every_model_trains_one_epoch);
    tcase_add_test(tc, trainer_misuse);
    tcase_add_test(tc, conventions_settings);
    tcase_add_test(tc, non_finite_loss_stops_training);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
