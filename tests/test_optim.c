/* AdamW: hand-evaluated updates, groups, step counter, skipped parameters,
 * moments, refusal of non-finite gradients, no allocation per step, misuse. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

#define B1 0.9
#define B2 0.99
#define EPS 1e-8

/* Gives persistent p the gradient g (a backward pass creates the storage). */
static void set_grad(lpc_tensor *p, const float *g)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor_set_requires_grad(p, 1);
    ck_assert_int_eq(lpc_backward(ctx, lpc_sum(ctx, p)), LPC_OK);
    memcpy(lpc_tensor_grad(p), g, (size_t)lpc_tensor_numel(p) * sizeof(float));
    lpc_ctx_free(ctx);
}

static lpc_tensor *vec(int64_t n, const float *v)
{
    lpc_tensor *t = lpc_tensor_new(1, &n);
    ck_assert_ptr_nonnull(t);
    if (v)
        lpc_tensor_copy_in(t, v, n);
    return t;
}

static const float G[3][3] = {{0.1f, -0.2f, 0.3f}, {-0.5f, 0.4f, 0.0f}, {1.0f, 1.0f, -1.0f}};

START_TEST(hand_computed_steps)
{
    const double lr = 0.01, wd = 0.1;
    lpc_tensor *p = vec(3, (float[]){1.0f, -2.0f, 0.5f});
    lpc_adamw *opt = lpc_adamw_new(B1, B2, EPS);
    ck_assert_int_eq(lpc_adamw_add_group(opt, lr, wd), 0);
    ck_assert_int_eq(lpc_adamw_add_param(opt, 0, p), LPC_OK);
    double x[3] = {1.0, -2.0, 0.5}, m[3] = {0}, v[3] = {0};
    for (int t = 1; t <= 3; t++) {
        set_grad(p, G[t - 1]);
        ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
        for (int i = 0; i < 3; i++) {
            double g = G[t - 1][i];
            x[i] -= lr * wd * x[i]; /* decoupled decay first */
            m[i] = B1 * m[i] + (1 - B1) * g;
            v[i] = B2 * v[i] + (1 - B2) * g * g;
            double mhat = m[i] / (1 - pow(B1, t)), vhat = v[i] / (1 - pow(B2, t));
            x[i] -= lr * mhat / (sqrt(vhat) + EPS);
            ck_assert_msg(fabs(lpc_tensor_data(p)[i] - x[i]) < 1e-6, "step %d elem %d: %.9g vs %.9g",
                          t, i, lpc_tensor_data(p)[i], x[i]);
        }
    }
    /* torch.optim.AdamW (float64) gives the same three values after step 3. */
    const double torch[3] = {0.989409403699, -1.994640127601, 0.486427237171};
    for (int i = 0; i < 3; i++) {
        ck_assert(fabs(lpc_tensor_data(p)[i] - torch[i]) < 1e-6);
        ck_assert(fabs(lpc_tensor_data(lpc_adamw_moment(opt, 0, 1))[i] - m[i]) < 1e-7);
        ck_assert(fabs(lpc_tensor_data(lpc_adamw_moment(opt, 0, 2))[i] - v[i]) < 1e-8);
    }
    ck_assert_int_eq(lpc_adamw_steps(opt), 3);
    lpc_adamw_free(opt);
    lpc_tensor_free(p);
}
END_TEST

START_TEST(groups_and_lr)
{
    lpc_tensor *a = vec(3, (float[]){1, 1, 1}), *b = vec(3, (float[]){1, 1, 1});
    lpc_adamw *opt = lpc_adamw_new(B1, B2, EPS);
    ck_assert_int_eq(lpc_adamw_add_group(opt, 0.1, 0.0), 0);
    ck_assert_int_eq(lpc_adamw_add_group(opt, 0.01, 0.0), 1);
    ck_assert_int_eq(lpc_adamw_add_param(opt, 0, a), LPC_OK);
    ck_assert_int_eq(lpc_adamw_add_param(opt, 1, b), LPC_OK);
    set_grad(a, G[0]);
    set_grad(b, G[0]);
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    /* First step moves every element by lr * sign(g) (up to eps). */
    for (int i = 0; i < 3; i++) {
        double s = G[0][i] > 0 ? 1 : -1;
        ck_assert(fabs(lpc_tensor_data(a)[i] - (1 - 0.1 * s)) < 1e-6);
        ck_assert(fabs(lpc_tensor_data(b)[i] - (1 - 0.01 * s)) < 1e-6);
    }
    ck_assert_int_eq(lpc_adamw_set_lr(opt, 1, 0.0), LPC_OK);
    ck_assert(lpc_adamw_get_lr(opt, 1) == 0.0);
    ck_assert(lpc_adamw_get_lr(opt, 0) == 0.1);
    float before[3];
    lpc_tensor_copy_out(b, before, 3);
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    ck_assert_mem_eq(lpc_tensor_data(b), before, sizeof before); /* lr 0: no move */
    ck_assert_int_eq(lpc_adamw_num_params(opt), 2);
    ck_assert_ptr_eq(lpc_adamw_param(opt, 1), b);
    lpc_adamw_free(opt);
    lpc_tensor_free(a);
    lpc_tensor_free(b);
}
END_TEST

START_TEST(step_counter_drives_bias_correction)
{
    lpc_tensor *p = vec(3, (float[]){0, 0, 0});
    lpc_adamw *opt = lpc_adamw_new(B1, B2, EPS);
    lpc_adamw_add_group(opt, 0.01, 0.0);
    lpc_adamw_add_param(opt, 0, p);
    ck_assert_int_eq(lpc_adamw_steps(opt), 0);
    ck_assert_int_eq(lpc_adamw_set_steps(opt, 9), LPC_OK);
    set_grad(p, G[0]);
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    ck_assert_int_eq(lpc_adamw_steps(opt), 10);
    for (int i = 0; i < 3; i++) {
        double g = G[0][i];
        double mhat = (1 - B1) * g / (1 - pow(B1, 10)), vhat = (1 - B2) * g * g / (1 - pow(B2, 10));
        ck_assert(fabs(lpc_tensor_data(p)[i] + 0.01 * mhat / (sqrt(vhat) + EPS)) < 1e-7);
    }
    lpc_adamw_free(opt);
    lpc_tensor_free(p);
}
END_TEST

START_TEST(params_without_grad_are_skipped)
{
    lpc_tensor *a = vec(3, (float[]){1, 2, 3}), *b = vec(3, (float[]){4, 5, 6});
    lpc_adamw *opt = lpc_adamw_new(B1, B2, EPS);
    lpc_adamw_add_group(opt, 0.1, 0.5);
    lpc_adamw_add_param(opt, 0, a);
    lpc_adamw_add_param(opt, 0, b);
    set_grad(a, G[1]);
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    ck_assert(lpc_tensor_data(b)[0] == 4 && lpc_tensor_data(b)[2] == 6); /* not even decayed */
    ck_assert(lpc_tensor_data(lpc_adamw_moment(opt, 1, 2))[1] == 0.0f);
    /* moments after one step: m = (1-b1) g, v = (1-b2) g^2 */
    for (int i = 0; i < 3; i++) {
        ck_assert(fabs(lpc_tensor_data(lpc_adamw_moment(opt, 0, 1))[i] - 0.1 * G[1][i]) < 1e-7);
        ck_assert(fabs(lpc_tensor_data(lpc_adamw_moment(opt, 0, 2))[i] -
                       0.01 * G[1][i] * G[1][i]) < 1e-8);
    }
    lpc_adamw_free(opt);
    lpc_tensor_free(a);
    lpc_tensor_free(b);
}
END_TEST

START_TEST(nonfinite_gradient_changes_nothing)
{
    lpc_tensor *a = vec(3, (float[]){1, 2, 3});
    lpc_tensor *b = lpc_tensor_new(2, (int64_t[]){2, 2});
    lpc_adamw *opt = lpc_adamw_new(B1, B2, EPS);
    lpc_adamw_add_group(opt, 0.1, 0.1);
    lpc_adamw_add_param(opt, 0, a);
    lpc_adamw_add_param(opt, 0, b);
    set_grad(a, G[0]);
    set_grad(b, (float[]){1, 2, 3, 4});
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    float pa[3], pb[4], ma[3], vb[4];
    lpc_tensor_copy_out(a, pa, 3);
    lpc_tensor_copy_out(b, pb, 4);
    lpc_tensor_copy_out(lpc_adamw_moment(opt, 0, 1), ma, 3);
    lpc_tensor_copy_out(lpc_adamw_moment(opt, 1, 2), vb, 4);
    const float bad[2] = {NAN, INFINITY};
    for (int k = 0; k < 2; k++) {
        lpc_tensor_grad(b)[2] = bad[k];
        ck_assert_int_eq(lpc_adamw_step(opt), LPC_E_NUMERIC);
        ck_assert_ptr_nonnull(strstr(lpc_last_error(), "parameter 1"));
        ck_assert_ptr_nonnull(strstr(lpc_last_error(), "2x2"));
        ck_assert_mem_eq(lpc_tensor_data(a), pa, sizeof pa);
        ck_assert_mem_eq(lpc_tensor_data(b), pb, sizeof pb);
        ck_assert_mem_eq(lpc_tensor_data(lpc_adamw_moment(opt, 0, 1)), ma, sizeof ma);
        ck_assert_mem_eq(lpc_tensor_data(lpc_adamw_moment(opt, 1, 2)), vb, sizeof vb);
        ck_assert_int_eq(lpc_adamw_steps(opt), 1);
    }
    lpc_adamw_free(opt);
    lpc_tensor_free(a);
    lpc_tensor_free(b);
}
END_TEST

/* A large parameter takes the threaded path: same result for 1 and 2 threads,
 * no allocation in a step, and agreement with the double reference. */
START_TEST(large_tensor_threads_no_alloc)
{
    const int64_t n = 200000;
    lpc_tensor *p[2];
    lpc_adamw *opt[2];
    float *g = malloc((size_t)n * sizeof *g);
    for (int64_t i = 0; i < n; i++)
        g[i] = (float)sin(0.001 * (double)i);
    for (int r = 0; r < 2; r++) {
        lpc_set_num_threads(r + 1);
        p[r] = lpc_tensor_new(1, &n);
        lpc_tensor_fill(p[r], 0.5f);
        set_grad(p[r], g);
        opt[r] = lpc_adamw_new(B1, B2, EPS);
        lpc_adamw_add_group(opt[r], 1e-3, 5e-4);
        lpc_adamw_add_param(opt[r], 0, p[r]);
        unsigned long long before = lpc_alloc_count();
        for (int t = 0; t < 3; t++)
            ck_assert_int_eq(lpc_adamw_step(opt[r]), LPC_OK);
        ck_assert_int_eq(lpc_alloc_count(), before);
    }
    lpc_set_num_threads(1);
    ck_assert_mem_eq(lpc_tensor_data(p[0]), lpc_tensor_data(p[1]), (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i += 9973) {
        double x = 0.5, m = 0, v = 0, gi = g[i];
        for (int t = 1; t <= 3; t++) {
            x -= 1e-3 * 5e-4 * x;
            m = B1 * m + (1 - B1) * gi;
            v = B2 * v + (1 - B2) * gi * gi;
            x -= 1e-3 * (m / (1 - pow(B1, t))) / (sqrt(v / (1 - pow(B2, t))) + EPS);
        }
        ck_assert(fabs(lpc_tensor_data(p[0])[i] - x) < 1e-6);
    }
    for (int r = 0; r < 2; r++) {
        lpc_adamw_free(opt[r]);
        lpc_tensor_free(p[r]);
    }
    free(g);
}
END_TEST

START_TEST(misuse)
{
    ck_assert_ptr_null(lpc_adamw_new(1.0, 0.999, 1e-8));
    ck_assert_ptr_null(lpc_adamw_new(0.9, -0.1, 1e-8));
    ck_assert_ptr_null(lpc_adamw_new(0.9, 0.999, NAN));
    ck_assert_str_ne(lpc_last_error(), "");
    lpc_adamw_free(NULL);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_tensor *p = vec(3, NULL);
    LPCT_EXPECT_ERR(lpc_adamw_add_group(NULL, 0.1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_add_group(opt, -0.1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_add_group(opt, 0.1, NAN), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_add_param(opt, 0, p), LPC_E_ARG); /* no group yet */
    ck_assert_int_eq(lpc_adamw_add_group(opt, 0.1, 0), 0);
    LPCT_EXPECT_ERR(lpc_adamw_add_param(opt, 0, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_add_param(NULL, 0, p), LPC_E_ARG);
    ck_assert_int_eq(lpc_adamw_add_param(opt, 0, p), LPC_OK);
    LPCT_EXPECT_ERR(lpc_adamw_add_param(opt, 0, p), LPC_E_ARG); /* twice */
    lpc_ctx *ctx = lpc_ctx_new();
    LPCT_EXPECT_ERR(lpc_adamw_add_param(opt, 0, lpc_tensor_temp(ctx, 1, (int64_t[]){2})), LPC_E_ARG);
    lpc_ctx_free(ctx);
    LPCT_EXPECT_ERR(lpc_adamw_set_lr(opt, 1, 0.1), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_set_lr(opt, 0, INFINITY), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_set_lr(NULL, 0, 0.1), LPC_E_ARG);
    ck_assert(isnan(lpc_adamw_get_lr(opt, 5)));
    ck_assert(isnan(lpc_adamw_get_lr(NULL, 0)));
    LPCT_EXPECT_ERR(lpc_adamw_step(NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_set_steps(opt, -1), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_adamw_set_steps(NULL, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_adamw_steps(NULL), -1);
    ck_assert_int_lt(lpc_adamw_num_params(NULL), 0);
    ck_assert_ptr_null(lpc_adamw_param(opt, 1));
    ck_assert_ptr_null(lpc_adamw_param(NULL, 0));
    ck_assert_ptr_null(lpc_adamw_moment(opt, 0, 3));
    ck_assert_ptr_null(lpc_adamw_moment(opt, -1, 1));
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK); /* no grads at all: only t advances */
    ck_assert_int_eq(lpc_adamw_steps(opt), 1);
    lpc_adamw_free(opt);
    lpc_tensor_free(p);
}
END_TEST

/* A step after set_steps(INT64_MAX) is refused instead of overflowing t + 1. */
START_TEST(step_count_overflow)
{
    lpc_tensor *p = lpc_tensor_new(1, (int64_t[]){2});
    lpc_tensor_set_requires_grad(p, 1);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    ck_assert_int_eq(lpc_adamw_add_group(opt, 0.1, 0.0), 0);
    ck_assert_int_eq(lpc_adamw_add_param(opt, 0, p), LPC_OK);
    ck_assert_int_eq(lpc_adamw_set_steps(opt, INT64_MAX), LPC_OK);
    LPCT_EXPECT_ERR(lpc_adamw_step(opt), LPC_E_STATE);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "cannot grow"));
    ck_assert_int_eq(lpc_adamw_steps(opt), INT64_MAX);
    lpc_adamw_free(opt);
    lpc_tensor_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, hand_computed_steps);
    tcase_add_test(tc, groups_and_lr);
    tcase_add_test(tc, step_counter_drives_bias_correction);
    tcase_add_test(tc, params_without_grad_are_skipped);
    tcase_add_test(tc, nonfinite_gradient_changes_nothing);
    tcase_add_test(tc, large_tensor_threads_no_alloc);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, step_count_overflow);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
