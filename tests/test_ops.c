/* Finite-difference gradient checks for every core op, plus forward values. */
#include <string.h>
#include "core/internal.h"
#include "lpct.h"

#define EPS 1e-3
#define ATOL 2e-3
#define RTOL 2e-2

static lpc_tensor *g_matmul(lpc_ctx *c, lpc_tensor **in, void *u)
{
    int *t = u;
    return lpct_project(c, lpc_matmul(c, in[0], in[1], t[0], t[1]), 1);
}
static lpc_tensor *g_linear(lpc_ctx *c, lpc_tensor **in, void *u)
{
    return lpct_project(c, lpc_linear(c, in[0], in[1], u ? in[2] : NULL), 2);
}
static lpc_tensor *g_add(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_add(c, in[0], in[1]), 3); }
static lpc_tensor *g_sub(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_sub(c, in[0], in[1]), 4); }
static lpc_tensor *g_mul(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_mul(c, in[0], in[1]), 5); }
static lpc_tensor *g_scale(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_scale(c, in[0], -2.5f), 6); }
static lpc_tensor *g_bias(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_bias_add(c, in[0], in[1]), 7); }
static lpc_tensor *g_silu(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_silu(c, in[0]), 8); }
static lpc_tensor *g_relu(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_relu(c, in[0]), 9); }
static lpc_tensor *g_sum(lpc_ctx *c, lpc_tensor **in, void *u) { return lpc_sum(c, lpc_mul(c, in[0], in[0])); }
static lpc_tensor *g_mean(lpc_ctx *c, lpc_tensor **in, void *u) { return lpc_mean(c, lpc_mul(c, in[0], in[0])); }
static lpc_tensor *g_logsm(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_log_softmax(c, in[0]), 10); }
static lpc_tensor *g_gather(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_gather(c, in[0], u), 11); }
static lpc_tensor *g_reshape(lpc_ctx *c, lpc_tensor **in, void *u)
{
    return lpct_project(c, lpc_reshape(c, in[0], 2, (int64_t[]){4, 6}), 12);
}
static lpc_tensor *g_ce(lpc_ctx *c, lpc_tensor **in, void *u) { return lpc_cross_entropy(c, in[0], u); }
static lpc_tensor *g_l2(lpc_ctx *c, lpc_tensor **in, void *u) { return lpc_l2_latent(c, in[0], 3.0f); }
static lpc_tensor *g_pool(lpc_ctx *c, lpc_tensor **in, void *u) { return lpct_project(c, lpc_global_avgpool(c, in[0]), 13); }

/* A temporary with two consumers, one that stores into gradients nobody has
 * written yet (linear) and one that accumulates (silu): both orders. */
static lpc_tensor *g_shared(lpc_ctx *c, lpc_tensor **in, void *u)
{
    lpc_tensor *h = lpc_linear(c, in[0], in[1], NULL);
    lpc_tensor *first = u ? lpc_silu(c, h) : lpc_linear(c, h, in[2], NULL);
    lpc_tensor *second = u ? lpc_linear(c, h, in[2], NULL) : lpc_silu(c, h);
    return lpc_add(c, lpct_project(c, first, 14), lpct_project(c, second, 15));
}

#define CHECK_GRAD(fn, inputs, n, user)                                                  \
    do {                                                                                 \
        double worst = lpct_gradcheck(fn, inputs, n, user, EPS, ATOL, RTOL);             \
        ck_assert_msg(worst <= 1.0, #fn ": worst gradient violation %.3g", worst);       \
    } while (0)

START_TEST(grad_matmul)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            lpc_tensor *in[2] = {lpct_rand(2, ta ? (int64_t[]){4, 3} : (int64_t[]){3, 4}, -1, 1, 1),
                                 lpct_rand(2, tb ? (int64_t[]){5, 4} : (int64_t[]){4, 5}, -1, 1, 2)};
            int t[2] = {ta, tb};
            CHECK_GRAD(g_matmul, in, 2, t);
            lpc_tensor_free(in[0]);
            lpc_tensor_free(in[1]);
        }
}
END_TEST

START_TEST(grad_linear)
{
    lpc_tensor *in[3] = {lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 3),
                         lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 4),
                         lpct_rand(1, (int64_t[]){3}, -1, 1, 5)};
    CHECK_GRAD(g_linear, in, 3, (void *)1);
    CHECK_GRAD(g_linear, in, 2, NULL);
    for (int i = 0; i < 3; i++)
        lpc_tensor_free(in[i]);
}
END_TEST

START_TEST(grad_elementwise)
{
    int64_t s[3] = {2, 3, 4};
    lpc_tensor *a = lpct_rand(3, s, -2, 2, 6), *b = lpct_rand(3, s, -2, 2, 7);
    lpc_tensor *in[2] = {a, b};
    CHECK_GRAD(g_add, in, 2, NULL);
    CHECK_GRAD(g_sub, in, 2, NULL);
    CHECK_GRAD(g_mul, in, 2, NULL);
    CHECK_GRAD(g_scale, in, 1, NULL);
    CHECK_GRAD(g_silu, in, 1, NULL);
    CHECK_GRAD(g_sum, in, 1, NULL);
    CHECK_GRAD(g_mean, in, 1, NULL);
    CHECK_GRAD(g_reshape, in, 1, NULL);
    /* ReLU: keep values away from the kink at 0. */
    float *d = lpc_tensor_data(a);
    for (int i = 0; i < 24; i++)
        if (fabsf(d[i]) < 0.05f)
            d[i] = 0.3f;
    CHECK_GRAD(g_relu, in, 1, NULL);
    lpc_tensor_free(a);
    lpc_tensor_free(b);
}
END_TEST

START_TEST(grad_bias_add)
{
    lpc_tensor *in[2] = {lpct_rand(4, (int64_t[]){2, 3, 2, 2}, -1, 1, 8),
                         lpct_rand(1, (int64_t[]){3}, -1, 1, 9)};
    CHECK_GRAD(g_bias, in, 2, NULL);
    lpc_tensor *in2[2] = {lpct_rand(2, (int64_t[]){4, 3}, -1, 1, 10), in[1]};
    CHECK_GRAD(g_bias, in2, 2, NULL);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
    lpc_tensor_free(in2[0]);
}
END_TEST

START_TEST(grad_softmax_family)
{
    lpc_tensor *x = lpct_rand(2, (int64_t[]){4, 5}, -3, 3, 11);
    int32_t labels[4] = {0, 4, 2, 2};
    CHECK_GRAD(g_logsm, &x, 1, NULL);
    CHECK_GRAD(g_gather, &x, 1, labels);
    CHECK_GRAD(g_ce, &x, 1, labels);
    CHECK_GRAD(g_l2, &x, 1, NULL);
    lpc_tensor_free(x);
    lpc_tensor *p = lpct_rand(4, (int64_t[]){2, 3, 3, 2}, -1, 1, 12);
    CHECK_GRAD(g_pool, &p, 1, NULL);
    lpc_tensor_free(p);
}
END_TEST

START_TEST(forward_values)
{
    lpc_ctx *ctx = lpc_ctx_new();
    /* Cross-entropy stays finite and exact for huge logits. */
    float big[6] = {1000.f, 0.f, -1000.f, 5e4f, 5e4f, 0.f};
    int32_t y[2] = {0, 1};
    lpc_tensor *l = lpc_tensor_from(ctx, 2, (int64_t[]){2, 3}, big, 6);
    lpc_tensor *ce = lpc_cross_entropy(ctx, l, y);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    LPCT_ASSERT_CLOSE(lpc_tensor_data(ce)[0], 0.5 * log(2.0), 1e-6);
    /* linear: [1 2] . W^T + b */
    float xv[2] = {1, 2}, wv[4] = {1, 0, 3, -1}, bv[2] = {0.5f, -1};
    lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){1, 2}, xv, 2);
    lpc_tensor *w = lpc_tensor_from(ctx, 2, (int64_t[]){2, 2}, wv, 4);
    lpc_tensor *b = lpc_tensor_from(ctx, 1, (int64_t[]){2}, bv, 2);
    float *o = lpc_tensor_data(lpc_linear(ctx, x, w, b));
    ck_assert_float_eq(o[0], 1.5f);
    ck_assert_float_eq(o[1], 0.0f);
    /* L2 latent: gamma * mean(z^2) */
    float *pen = lpc_tensor_data(lpc_l2_latent(ctx, w, 2.0f));
    LPCT_ASSERT_CLOSE(pen[0], 2.0 * (1 + 9 + 1) / 4.0, 1e-7);
    float sv[2] = {-1.f, 2.f};
    float *si = lpc_tensor_data(lpc_silu(ctx, lpc_tensor_from(ctx, 1, (int64_t[]){2}, sv, 2)));
    LPCT_ASSERT_CLOSE(si[0], -1.0 / (1.0 + exp(1.0)), 1e-6);
    LPCT_ASSERT_CLOSE(si[1], 2.0 / (1.0 + exp(-2.0)), 1e-6);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    lpc_ctx_free(ctx);
}
END_TEST

START_TEST(shape_errors_are_sticky)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *a = lpc_tensor_temp(ctx, 2, (int64_t[]){2, 3});
    lpc_tensor *b = lpc_tensor_temp(ctx, 2, (int64_t[]){4, 5});
    lpc_tensor *c = lpc_matmul(ctx, a, b, 0, 0);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "matmul"));
    ck_assert_ptr_null(lpc_tensor_data(c));
    lpc_tensor *d = lpc_add(ctx, a, a); /* valid, but the ctx is poisoned */
    ck_assert_ptr_null(lpc_tensor_data(d));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_int_ne(lpc_backward(ctx, d), LPC_OK);
    lpc_ctx_reset(ctx);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    int32_t bad[2] = {0, 7};
    lpc_cross_entropy(ctx, lpc_tensor_temp(ctx, 2, (int64_t[]){2, 3}), bad);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "label 7"));
    lpc_ctx_reset(ctx);
    lpc_linear(ctx, lpc_tensor_temp(ctx, 2, (int64_t[]){2, 3}), lpc_tensor_temp(ctx, 2, (int64_t[]){4, 2}), NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    lpc_ctx_reset(ctx);
    lpc_bias_add(ctx, lpc_tensor_temp(ctx, 2, (int64_t[]){2, 3}), lpc_tensor_temp(ctx, 1, (int64_t[]){2}));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    lpc_ctx_reset(ctx);
    lpc_reshape(ctx, a = lpc_tensor_temp(ctx, 2, (int64_t[]){2, 3}), 1, (int64_t[]){5});
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    lpc_ctx_reset(ctx);
    lpc_l2_latent(ctx, lpc_tensor_temp(ctx, 1, (int64_t[]){2}), NAN);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_ptr_null(lpc_add(NULL, a, a));
    lpc_ctx_free(ctx);
}
END_TEST

START_TEST(backward_twice_resets_temporaries)
{
    /* Two losses from one graph: temporaries' grads restart, leaves accumulate. */
    lpc_tensor *x = lpct_rand(2, (int64_t[]){2, 3}, -1, 1, 20);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *y = lpc_scale(ctx, x, 2.0f);
    int32_t i0[2] = {0, 0}, i2[2] = {2, 2};
    lpc_tensor *s0 = lpc_sum(ctx, lpc_gather(ctx, y, i0));
    lpc_tensor *s2 = lpc_sum(ctx, lpc_gather(ctx, y, i2));
    ck_assert_int_eq(lpc_backward(ctx, s0), LPC_OK);
    ck_assert_float_eq(lpc_tensor_grad(x)[0], 2.0f);
    ck_assert_int_eq(lpc_backward(ctx, s2), LPC_OK);
    float *g = lpc_tensor_grad(x);
    ck_assert_float_eq(g[0], 2.0f); /* accumulated, not doubled by a stale temp grad */
    ck_assert_float_eq(g[2], 2.0f);
    ck_assert_float_eq(g[1], 0.0f);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
}
END_TEST

START_TEST(check_finite_names_the_op)
{
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_ctx_set_check_finite(ctx, 1), LPC_OK);
    lpc_tensor *x = lpct_rand(1, (int64_t[]){4}, 1, 2, 30);
    lpc_tensor *y = lpc_scale(ctx, x, 1e38f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    lpc_mul(ctx, y, y); /* overflows to +inf */
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "MUL"));
    ck_assert_int_eq(lpc_ctx_set_check_finite(NULL, 1), LPC_E_ARG);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
}
END_TEST

START_TEST(grad_shared_temporaries)
{
    lpc_tensor *in[3] = {lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 90),
                         lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 91),
                         lpct_rand(2, (int64_t[]){5, 5}, -1, 1, 92)};
    CHECK_GRAD(g_shared, in, 3, NULL);
    CHECK_GRAD(g_shared, in, 3, (void *)1);
    for (int i = 0; i < 3; i++)
        lpc_tensor_free(in[i]);
}
END_TEST

/* A temporary that does not reach the loss has a zero gradient, although
 * gradient buffers are not zeroed up front: the input's gradient gets
 * nothing from it. With the gradient memory plan (the default), op outputs'
 * gradients are released once consumed; without it they read as the true
 * ones after backward. */
START_TEST(unreached_gradient_is_zero)
{
    lpc_tensor *x = lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 93);
    lpc_tensor *w = lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 94);
    lpc_tensor_set_requires_grad(x, 1);
    lpc_ctx *ctx = lpc_ctx_new();
    for (int round = 0; round < 4; round++) { /* later rounds reuse dirty arena memory */
        int plan = round % 2;
        lpci_grad_plan_set(plan);
        lpc_ctx_reset(ctx);
        lpc_tensor_zero_grad(x);
        lpc_tensor *h = lpc_linear(ctx, x, w, NULL);
        lpc_tensor *unused = lpc_silu(ctx, h);
        lpc_tensor *loss = lpc_sum(ctx, lpc_scale(ctx, h, 2.0f));
        lpc_tensor *after = lpc_scale(ctx, unused, 3.0f);
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
        /* d loss / d x[i][j] = 2 sum_o w[o][j] */
        const float *gx = lpc_tensor_grad(x), *wd = lpc_tensor_data(w);
        for (int i = 0; i < 12; i++) {
            float want = 0.0f;
            for (int o = 0; o < 5; o++)
                want += 2.0f * wd[o * 4 + i % 4];
            ck_assert_float_eq_tol(gx[i], want, 1e-5f);
        }
        const float *gu = lpc_tensor_grad(unused), *gh = lpc_tensor_grad(h);
        if (plan) {
            ck_assert_ptr_null(gu);
            ck_assert_ptr_null(gh);
        } else {
            ck_assert_ptr_nonnull(gu);
            for (int i = 0; i < 15; i++) {
                ck_assert_float_eq(gu[i], 0.0f);
                ck_assert_float_eq(gh[i], 2.0f);
            }
        }
        ck_assert_ptr_null(lpc_tensor_grad(after));
    }
    lpci_grad_plan_set(1);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_tensor_free(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, grad_matmul);
    tcase_add_test(tc, grad_linear);
    tcase_add_test(tc, grad_elementwise);
    tcase_add_test(tc, grad_bias_add);
    tcase_add_test(tc, grad_shared_temporaries);
    tcase_add_test(tc, unreached_gradient_is_zero);
    tcase_add_test(tc, grad_softmax_family);
    tcase_add_test(tc, forward_values);
    tcase_add_test(tc, shape_errors_are_sticky);
    tcase_add_test(tc, backward_twice_resets_temporaries);
    tcase_add_test(tc, check_finite_names_the_op);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
