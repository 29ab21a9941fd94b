/* DeepFool: the doc/method.md §8 affine vectors, a small MLP whose predictions the
 * perturbations flip (2-D and 4-D inputs, more than one chunk), misuse. */
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

/* Linear model (in -> out) with the given weights and bias, in eval mode. */
static lpc_module *affine(int in, int out, const float *wv, const float *bv)
{
    lpc_rng *rng = lpc_rng_new(1);
    lpc_module *m = lpc_linear_new(in, out, 1, rng);
    lpc_rng_free(rng);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(lpc_tensor_copy_in(lpc_module_param(m, 0), wv, in * out), LPC_OK);
    ck_assert_int_eq(lpc_tensor_copy_in(lpc_module_param(m, 1), bv, out), LPC_OK);
    lpc_module_set_train(m, 0);
    return m;
}

START_TEST(two_class_vector)
{
    const float wv[4] = {1, 0, 0, 1}, bv[2] = {0, 0}, x[2] = {2, 1};
    lpc_module *m = affine(2, 2, wv, bv);
    float r[2];
    int iters = -1;
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, 1, 2, 1, 1, 10, 0.02, 50, r, &iters), LPC_OK);
    ck_assert_int_eq(iters, 1);
    LPCT_ASSERT_CLOSE(hypot(r[0], r[1]), 0.7213509168, 1e-6);
    LPCT_ASSERT_CLOSE(r[0], -0.7213509168 / sqrt(2.0), 1e-6);
    LPCT_ASSERT_CLOSE(r[1], 0.7213509168 / sqrt(2.0), 1e-6);
    double ratio = -1, mean = -1;
    ck_assert_int_eq(lpc_deepfool(m, x, 1, 2, 1, 1, 10, 0.02, 50, &ratio, &mean), LPC_OK);
    LPCT_ASSERT_CLOSE(ratio, 0.7213509168 / sqrt(5.0), 1e-6);
    LPCT_ASSERT_CLOSE(mean, ratio, 1e-12);
    /* Parameter gradients the attack produced are cleared. */
    for (int i = 0; i < 2; i++) {
        lpc_tensor *p = lpc_module_param(m, i);
        const float *g = lpc_tensor_grad(p);
        for (int64_t k = 0; g && k < lpc_tensor_numel(p); k++)
            ck_assert_float_eq(g[k], 0.0f);
    }
    lpc_module_free(m);
}
END_TEST

START_TEST(three_class_vector)
{
    const float wv[6] = {2, 0, 0, 1, 1, 1}, bv[3] = {0, 0, -0.7f}, x[2] = {1, 1};
    lpc_module *m = affine(2, 3, wv, bv);
    float r[2];
    int iters = -1;
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, 1, 2, 1, 1, 10, 0.02, 50, r, &iters), LPC_OK);
    ck_assert_int_eq(iters, 1);
    LPCT_ASSERT_CLOSE(r[0], -0.4080912316, 1e-6);
    LPCT_ASSERT_CLOSE(r[1], 0.2040456158, 1e-6);
    /* With only the top two candidates (classes 0 and 2) the step goes to class 2's
     * boundary: |f'| = 0.7, w = (-1, 1); one step then lands on class 1 anyway. */
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, 1, 2, 1, 1, 2, 0.02, 50, r, &iters), LPC_OK);
    double step = 1.02 * (0.7 / sqrt(2.0) + 1e-4) / sqrt(2.0);
    LPCT_ASSERT_CLOSE(r[0], -step, 1e-6);
    LPCT_ASSERT_CLOSE(r[1], step, 1e-6);
    lpc_module_free(m);
}
END_TEST

START_TEST(ties_pick_the_first_candidate)
{
    /* f = (1, x1, x2) at x0 = (0.5, 0.5): classes 1 and 2 tie both in the
     * candidate order and in the distance 0.5; the lower class comes first
     * and the first candidate wins, so the step is along x1. */
    const float wv[6] = {0, 0, 1, 0, 0, 1}, bv[3] = {1, 0, 0}, x[2] = {0.5f, 0.5f};
    lpc_module *m = affine(2, 3, wv, bv);
    float r[2];
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, 1, 2, 1, 1, 3, 0.02, 50, r, NULL), LPC_OK);
    LPCT_ASSERT_CLOSE(r[0], 1.02 * (0.5 + 1e-4), 1e-6);
    ck_assert_float_eq(r[1], 0.0f);
    lpc_module_free(m);
}
END_TEST

static lpc_module *mlp(int in, int hidden, int out, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *m = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(m, "flat", lpc_flatten_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "fc1", lpc_linear_new(in, hidden, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "act", lpc_silu_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "fc2", lpc_linear_new(hidden, out, 1, rng)), LPC_OK);
    lpc_rng_free(rng);
    lpc_module_set_train(m, 0);
    return m;
}

static int64_t predict(lpc_module *m, const float *x, int d)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_ctx_set_grad(ctx, 0);
    lpc_tensor *y = lpc_module_forward(m, ctx, lpc_tensor_from(ctx, 2, (int64_t[]){1, d}, x, d));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    const float *p = lpc_tensor_data(y);
    int64_t k = lpc_tensor_dim(y, 1), best = 0;
    for (int64_t j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    lpc_ctx_free(ctx);
    return best;
}

START_TEST(mlp_flips_predictions)
{
    enum { N = 300, D = 4 }; /* more than one chunk of 256 */
    lpc_module *m = mlp(D, 16, 5, 7);
    float *x = malloc(N * D * sizeof *x), *r = malloc(N * D * sizeof *r);
    float *r4 = malloc(N * D * sizeof *r4);
    int *iters = malloc(N * sizeof *iters);
    double *ratios = malloc(N * sizeof *ratios), mean = 0;
    lpc_rng *rng = lpc_rng_new(3);
    for (int i = 0; i < N * D; i++)
        x[i] = (float)(2.0 * lpc_rng_uniform(rng) - 1.0);
    lpc_rng_free(rng);
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, N, D, 1, 1, 10, 0.02, 50, r, iters), LPC_OK);
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        float xp[D];
        double rn = 0.0, xn = 0.0;
        for (int q = 0; q < D; q++) {
            xp[q] = x[i * D + q] + r[i * D + q];
            rn += (double)r[i * D + q] * r[i * D + q];
            xn += (double)x[i * D + q] * x[i * D + q];
        }
        ck_assert_int_ge(iters[i], 1);
        ck_assert_int_le(iters[i], 50);
        ck_assert_msg(predict(m, xp, D) != predict(m, x + i * D, D),
                      "sample %d not flipped after %d iterations", i, iters[i]);
        total += sqrt(rn / xn);
    }
    ck_assert_int_eq(lpc_deepfool(m, x, N, D, 1, 1, 10, 0.02, 50, ratios, &mean), LPC_OK);
    LPCT_ASSERT_CLOSE(mean, total / N, 1e-5);
    for (int i = 0; i < N; i++)
        ck_assert(ratios[i] > 0.0 && isfinite(ratios[i]));
    /* The same data as 1 x 2 x 2 images (4-D input, flattened by the model). */
    ck_assert_int_eq(lpc_deepfool_perturb(m, x, N, 1, 2, 2, 10, 0.02, 50, r4, NULL), LPC_OK);
    for (int i = 0; i < N * D; i++)
        ck_assert_float_eq(r4[i], r[i]);
    const float *g = lpc_tensor_grad(lpc_module_param(m, 0));
    ck_assert_ptr_nonnull(g);
    for (int k = 0; k < 16 * D; k++)
        ck_assert_float_eq(g[k], 0.0f);
    free(x);
    free(r);
    free(r4);
    free(iters);
    free(ratios);
    lpc_module_free(m);
}
END_TEST

/* A model whose output is NaN or infinite is an error naming the sample
 * (it used to give LPC_OK with robustness 0). */
START_TEST(non_finite_outputs_refused)
{
    const float nan_w[4] = {1, 0, 0, NAN}, inf_w[4] = {INFINITY, 0, 0, 1}, bv[2] = {0, 0};
    const float x[6] = {2, 1, 1, 2, 3, 1};
    const float *ws[2] = {nan_w, inf_w};
    for (int i = 0; i < 2; i++) {
        lpc_module *m = affine(2, 2, ws[i], bv);
        double mean = -1, ratios[3];
        float r[6];
        lpc_clear_error();
        ck_assert_int_eq(lpc_deepfool(m, x, 3, 2, 1, 1, 10, 0.02, 50, ratios, &mean),
                         LPC_E_NUMERIC);
        ck_assert_msg(strstr(lpc_last_error(), "model output for sample 0 is not finite"),
                      "message: %s", lpc_last_error());
        ck_assert_double_eq(mean, -1);
        ck_assert_int_eq(lpc_deepfool_perturb(m, x, 3, 2, 1, 1, 10, 0.02, 50, r, NULL),
                         LPC_E_NUMERIC);
        lpc_module_free(m);
    }
}
END_TEST

/* Sample choice: first, correct only, random (distinct, ascending, seeded). */
START_TEST(pick_samples)
{
    const int32_t y[8] = {0, 1, 2, 0, 1, 2, 0, 1}, pred[8] = {0, 2, 2, 0, 0, 2, 1, 1};
    int64_t idx[8], got;
    ck_assert_int_eq(lpc_deepfool_pick(8, 3, 0, 0, NULL, NULL, idx, &got), LPC_OK);
    ck_assert_int_eq(got, 3);
    ck_assert(idx[0] == 0 && idx[1] == 1 && idx[2] == 2);
    ck_assert_int_eq(lpc_deepfool_pick(8, 8, LPC_PICK_CORRECT, 0, y, pred, idx, &got), LPC_OK);
    ck_assert_int_eq(got, 5); /* correct: 0, 2, 3, 5, 7 */
    const int64_t want[5] = {0, 2, 3, 5, 7};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(idx[i], want[i]);
    /* Random: distinct, ascending, reproducible, and over many seeds every
     * index is drawn about equally often (4 of 8: expected 0.5 each). */
    int64_t again[4], hits[8] = {0};
    ck_assert_int_eq(lpc_deepfool_pick(8, 4, LPC_PICK_RANDOM, 7, NULL, NULL, idx, &got), LPC_OK);
    ck_assert_int_eq(lpc_deepfool_pick(8, 4, LPC_PICK_RANDOM, 7, NULL, NULL, again, &got), LPC_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(idx[i], again[i]);
        if (i)
            ck_assert(idx[i] > idx[i - 1]);
    }
    for (uint64_t seed = 0; seed < 2000; seed++) {
        ck_assert_int_eq(lpc_deepfool_pick(8, 4, LPC_PICK_RANDOM, seed, NULL, NULL, idx, &got),
                         LPC_OK);
        for (int i = 0; i < 4; i++)
            hits[idx[i]]++;
    }
    for (int i = 0; i < 8; i++)
        ck_assert_msg(hits[i] > 900 && hits[i] < 1100, "index %d drawn %lld times of 2000", i,
                      (long long)hits[i]);
    /* Random among the correct: only correct indices. */
    ck_assert_int_eq(lpc_deepfool_pick(8, 2, LPC_PICK_RANDOM | LPC_PICK_CORRECT, 3, y, pred, idx,
                                       &got), LPC_OK);
    ck_assert_int_eq(got, 2);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(y[idx[i]], pred[idx[i]]);
    /* Misuse. */
    lpc_clear_error();
    ck_assert_int_eq(lpc_deepfool_pick(8, 2, 0, 0, NULL, NULL, NULL, &got), LPC_E_ARG);
    ck_assert_int_eq(lpc_deepfool_pick(8, 2, 0, 0, NULL, NULL, idx, NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_deepfool_pick(-1, 2, 0, 0, NULL, NULL, idx, &got), LPC_E_ARG);
    ck_assert_int_eq(lpc_deepfool_pick(8, 0, 0, 0, NULL, NULL, idx, &got), LPC_E_ARG);
    ck_assert_int_eq(lpc_deepfool_pick(8, 2, 4u, 0, NULL, NULL, idx, &got), LPC_E_ARG);
    ck_assert_int_eq(lpc_deepfool_pick(8, 2, LPC_PICK_CORRECT, 0, y, NULL, idx, &got), LPC_E_ARG);
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_int_eq(lpc_deepfool_pick(0, 2, LPC_PICK_RANDOM, 0, NULL, NULL, idx, &got), LPC_OK);
    ck_assert_int_eq(got, 0);
}
END_TEST

START_TEST(misuse)
{
    const float wv[4] = {1, 0, 0, 1}, bv[2] = {0, 0}, x[2] = {2, 1}, zero[2] = {0, 0};
    lpc_module *m = affine(2, 2, wv, bv);
    double mean, ratio;
    float r[2];
#define EXPECT(call, code, word)                                                        \
    do {                                                                                \
        lpc_clear_error();                                                              \
        ck_assert_int_eq((call), code);                                                 \
        ck_assert_msg(strstr(lpc_last_error(), word), "message: %s", lpc_last_error()); \
    } while (0)
    EXPECT(lpc_deepfool(NULL, x, 1, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_ARG, "NULL");
    EXPECT(lpc_deepfool(m, NULL, 1, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_ARG, "NULL");
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, 0.02, 50, &ratio, NULL), LPC_E_ARG, "mean_ratio");
    EXPECT(lpc_deepfool_perturb(m, x, 1, 2, 1, 1, 10, 0.02, 50, NULL, NULL), LPC_E_ARG, "r is");
    EXPECT(lpc_deepfool(m, x, 0, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_ARG, "n, c, h, w");
    EXPECT(lpc_deepfool(m, x, 1, 2, 0, 1, 10, 0.02, 50, NULL, &mean), LPC_E_ARG, "n, c, h, w");
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 1, 0.02, 50, NULL, &mean), LPC_E_ARG,
           "num_candidates");
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, -0.1, 50, NULL, &mean), LPC_E_ARG, "overshoot");
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, NAN, 50, NULL, &mean), LPC_E_ARG, "overshoot");
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, 0.02, 0, NULL, &mean), LPC_E_ARG, "max_iter");
    EXPECT(lpc_deepfool(m, zero, 1, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_NUMERIC,
           "sample 0");
    /* Input width does not fit the model: the forward pass fails. */
    EXPECT(lpc_deepfool_perturb(m, x, 1, 1, 1, 2, 10, 0.02, 50, r, NULL), LPC_E_SHAPE,
           "forward");
    EXPECT(lpc_deepfool(m, x, 2, 1, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_SHAPE, "forward");
    lpc_module_set_train(m, 1);
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_STATE,
           "training mode");
    lpc_module_free(m);
    /* A model with a single output has no boundary to cross. */
    const float w1[2] = {1, 1}, b1[1] = {0};
    m = affine(2, 1, w1, b1);
    EXPECT(lpc_deepfool(m, x, 1, 2, 1, 1, 10, 0.02, 50, NULL, &mean), LPC_E_SHAPE, ">= 2");
    lpc_module_free(m);
#undef EXPECT
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deepfool");
    TCase *tc = tcase_create("deepfool");
    tcase_add_test(tc, two_class_vector);
    tcase_add_test(tc, three_class_vector);
    tcase_add_test(tc, ties_pick_the_first_candidate);
    tcase_add_test(tc, mlp_flips_predictions);
    tcase_add_test(tc, non_finite_outputs_refused);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, pick_samples);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
