/* SupCon, ArcFace and CosFace: doc/method.md §8 vectors, gradient checks (also at the
 * clamp and on both sides of the ArcFace threshold) and misuse. */
#include <string.h>
#include "lpct.h"

#define EPS 1e-3
#define ATOL 2e-3
#define RTOL 2e-2

typedef struct {
    const int32_t *labels;
    float a, b; /* tau, or (s, m) */
} loss_args;

static lpc_tensor *g_supcon(lpc_ctx *c, lpc_tensor **in, void *u)
{
    loss_args *a = u;
    return lpc_supcon(c, in[0], a->labels, a->a);
}
static lpc_tensor *g_arcface(lpc_ctx *c, lpc_tensor **in, void *u)
{
    loss_args *a = u;
    return lpc_arcface(c, in[0], in[1], a->labels, a->a, a->b);
}
static lpc_tensor *g_cosface(lpc_ctx *c, lpc_tensor **in, void *u)
{
    loss_args *a = u;
    return lpc_cosface(c, in[0], in[1], a->labels, a->a, a->b);
}

static lpc_tensor *g_arcface_clamp(lpc_ctx *c, lpc_tensor **in, void *u)
{
    loss_args *a = u;
    return lpc_arcface_flags(c, in[0], in[1], a->labels, a->a, a->b, LPC_MARGIN_CLAMP_TARGET);
}
static lpc_tensor *g_cosface_clamp(lpc_ctx *c, lpc_tensor **in, void *u)
{
    loss_args *a = u;
    return lpc_cosface_flags(c, in[0], in[1], a->labels, a->a, a->b, LPC_MARGIN_CLAMP_TARGET);
}

#define CHECK_GRAD(fn, inputs, n, user)                                                  \
    do {                                                                                 \
        double worst = lpct_gradcheck(fn, inputs, n, user, EPS, ATOL, RTOL);             \
        ck_assert_msg(worst <= 1.0, #fn ": worst gradient violation %.3g", worst);       \
    } while (0)

static lpc_tensor *persistent(int64_t r, int64_t c, const float *v)
{
    lpc_tensor *t = lpc_tensor_new(2, (int64_t[]){r, c});
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(lpc_tensor_copy_in(t, v, r * c), LPC_OK);
    lpc_tensor_set_requires_grad(t, 1);
    return t;
}

static double forward(lpct_graph_fn f, lpc_tensor **in, loss_args *a)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *l = f(ctx, in, a);
    ck_assert_msg(lpc_ctx_status(ctx) == LPC_OK, "%s", lpc_ctx_error(ctx));
    double v = lpc_tensor_data(l)[0];
    lpc_ctx_free(ctx);
    return v;
}

static const float supcon_z[8] = {1, 0, 0.8f, 0.6f, 0, 1, -0.6f, 0.8f};

START_TEST(supcon_vector)
{
    int32_t y[4] = {0, 0, 1, 1};
    lpc_tensor *z = persistent(4, 2, supcon_z);
    loss_args a = {y, 0.1f, 0};
    LPCT_ASSERT_CLOSE(forward(g_supcon, &z, &a), 0.0637798398, 1e-6);
    /* Scaling a feature row does not change its normalised direction. */
    lpc_tensor_data(z)[2] *= 3.0f;
    lpc_tensor_data(z)[3] *= 3.0f;
    LPCT_ASSERT_CLOSE(forward(g_supcon, &z, &a), 0.0637798398, 1e-6);
    lpc_tensor_free(z);
}
END_TEST

START_TEST(supcon_anchor_without_positives)
{
    /* Anchors 2 and 3 have no positive: they add 0 but count in the mean of 4. */
    int32_t y[4] = {0, 0, 1, 2};
    lpc_tensor *z = persistent(4, 2, supcon_z);
    loss_args a = {y, 0.1f, 0};
    LPCT_ASSERT_CLOSE(forward(g_supcon, &z, &a), 0.0318899199, 1e-6);
    /* No anchor has a positive: loss and gradient are exactly 0. */
    int32_t distinct[4] = {3, 0, 1, 2};
    a.labels = distinct;
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *l = lpc_supcon(ctx, z, distinct, 0.1f);
    ck_assert_int_eq(lpc_backward(ctx, l), LPC_OK);
    ck_assert_float_eq(lpc_tensor_data(l)[0], 0.0f);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(lpc_tensor_grad(z)[i], 0.0f);
    lpc_ctx_free(ctx);
    lpc_tensor_free(z);
}
END_TEST

START_TEST(supcon_gradients)
{
    int32_t y[6] = {0, 1, 0, 1, 2, 0}; /* anchor 4 has no positive */
    lpc_tensor *z = lpct_rand(2, (int64_t[]){6, 5}, -1, 1, 31);
    loss_args a = {y, 0.5f, 0};
    CHECK_GRAD(g_supcon, &z, 1, &a);
    a.a = 0.2f;
    CHECK_GRAD(g_supcon, &z, 1, &a);
    lpc_tensor_free(z);
    /* A zero feature row stays finite (eps-guarded normalisation). */
    lpc_tensor *zz = lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 32);
    memset(lpc_tensor_data(zz), 0, 4 * sizeof(float));
    int32_t y3[3] = {0, 0, 0};
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *l = lpc_supcon(ctx, zz, y3, 0.05f);
    ck_assert_int_eq(lpc_backward(ctx, l), LPC_OK);
    ck_assert(isfinite(lpc_tensor_data(l)[0]));
    for (int i = 0; i < 12; i++)
        ck_assert(isfinite(lpc_tensor_grad(zz)[i]));
    lpc_ctx_free(ctx);
    lpc_tensor_free(zz);
}
END_TEST

/* z with |z| = 10 exactly and W = the first three unit vectors of R^7, so
 * the cosines are z_0..z_2 / 10, correctly rounded in double. */
static void margin_vector(lpct_graph_fn f, const float zv[7], float s, float m, double expect,
                          float wscale)
{
    float wv[21] = {0};
    for (int j = 0; j < 3; j++)
        wv[j * 7 + j] = wscale * (float)(j + 1);
    lpc_tensor *in[2] = {persistent(1, 7, zv), persistent(3, 7, wv)};
    int32_t y[1] = {0};
    loss_args a = {y, s, m};
    LPCT_ASSERT_CLOSE(forward(f, in, &a), expect, 1e-6);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}

START_TEST(margin_vectors)
{
    const float z1[7] = {8, 3, -2, 3, 3, 2, 1};  /* cos = (0.8, 0.3, -0.2) */
    const float z2[7] = {-9, 1, 2, 3, 2, 1, 0};  /* cos = (-0.9, 0.1, 0.2) */
    const float z1s[7] = {0.8f, 0.3f, -0.2f, 0.3f, 0.3f, 0.2f, 0.1f};
    margin_vector(g_arcface, z1, 64, 0.5f, 0.0006604318, 1.0f);
    margin_vector(g_arcface, z1, 64, 0.5f, 0.0006604318, 0.25f); /* W rows not unit */
    /* Threshold branch: target cos - m sin(pi - m) = -1.1397127693. */
    double phi = -1.1397127693, l[3] = {64 * phi, 64 * 0.1, 64 * 0.2};
    double ce = l[2] + log(exp(l[0] - l[2]) + exp(l[1] - l[2]) + 1.0) - l[0];
    LPCT_ASSERT_CLOSE(ce, 85.7432774137, 1e-9);
    margin_vector(g_arcface, z2, 64, 0.5f, 85.7432774137, 1.0f);
    margin_vector(g_cosface, z1, 64, 0.4f, 0.0016601784, 1.0f);
    /* Unnormalised float(0.8) etc. carry ~3e-8 relative error: within 2e-5. */
    float wv[21] = {0};
    for (int j = 0; j < 3; j++)
        wv[j * 7 + j] = 1.0f;
    lpc_tensor *in[2] = {persistent(1, 7, z1s), persistent(3, 7, wv)};
    int32_t y[1] = {0};
    loss_args a = {y, 64, 0.4f};
    LPCT_ASSERT_CLOSE(forward(g_cosface, in, &a), 0.0016601784, 2e-5);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}
END_TEST

START_TEST(margin_gradients)
{
    lpc_tensor *in[2] = {lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 41),
                         lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 42)};
    int32_t y[5] = {0, 2, 1, 1, 0};
    loss_args a = {y, 8.0f, 0.5f};
    CHECK_GRAD(g_arcface, in, 2, &a);
    a.b = 0.3f;
    CHECK_GRAD(g_cosface, in, 2, &a);
    a.a = 64.0f;
    a.b = 0.25f;
    CHECK_GRAD(g_cosface, in, 2, &a);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}
END_TEST

/* One sample whose target cosine is `c` against W_0 = (1,0,0); other rows
 * fixed. Gradient-checks ArcFace there (s = 4, m = 0.5). */
static void arcface_grad_at(double c, const float w_extra[6])
{
    float zv[3] = {(float)c, (float)sqrt(1.0 - c * c), 0.0f};
    float wv[9] = {1, 0, 0};
    memcpy(wv + 3, w_extra, 6 * sizeof(float));
    lpc_tensor *in[2] = {persistent(1, 3, zv), persistent(3, 3, wv)};
    int32_t y[1] = {0};
    loss_args a = {y, 4.0f, 0.5f};
    CHECK_GRAD(g_arcface, in, 2, &a);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}

START_TEST(arcface_threshold_and_clamp)
{
    const float w_extra[6] = {0.2f, -0.7f, 0.4f, -0.5f, 0.1f, 0.9f};
    /* cos(pi - 0.5) = -0.87758: just above (phi branch) and just below (linear). */
    arcface_grad_at(-0.86, w_extra);
    arcface_grad_at(-0.895, w_extra);
    /* Near the upper clamp: dphi/dcos = cos m + cos sin m / sin is large. */
    arcface_grad_at(0.995, w_extra);
    /* At the clamp: z parallel to W_0 (cos = 1) and antiparallel to W_1. */
    float zv[3] = {2, 0, 0}, wv[9] = {3, 0, 0, -1, 0, 0, 0.3f, 0.8f, -0.1f};
    lpc_tensor *in[2] = {persistent(1, 3, zv), persistent(3, 3, wv)};
    int32_t y[1] = {0};
    loss_args a = {y, 4.0f, 0.5f};
    CHECK_GRAD(g_arcface, in, 2, &a);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
    /* Clamped entries pass no gradient. Angles of 1e-4 and 3e-4 rad keep
     * |cos| within 1e-7 of 1 without being exactly (anti)parallel, where the
     * normalisation would project the gradient away anyway. */
    float zc[3] = {1, 1e-4f, 0}, wc[9] = {1, 0, 0, 0.3f, 0.8f, -0.1f, -1, -2e-4f, 0};
    in[0] = persistent(1, 3, zc);
    in[1] = persistent(3, 3, wc);
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_backward(ctx, lpc_arcface(ctx, in[0], in[1], y, 4.0f, 0.5f)), LPC_OK);
    const float *gw = lpc_tensor_grad(in[1]);
    for (int q = 0; q < 3; q++) {
        ck_assert_float_eq(gw[q], 0.0f);     /* target, clamped at +1 */
        ck_assert_float_eq(gw[6 + q], 0.0f); /* other class, clamped at -1 */
    }
    ck_assert(gw[4] != 0.0f);
    lpc_ctx_free(ctx);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}
END_TEST

/* The authors' clamp of the target after the margin: on z2 (target cosine
 * -0.9) ArcFace's linear branch gives -1.1397 and CosFace's cos - m = -1.3;
 * both become -(1 - 1e-7). Where the clamp is inactive nothing changes. */
static double ce3(double t0, double c1, double c2, double s)
{
    double l[3] = {s * t0, s * c1, s * c2}, mx = fmax(l[0], fmax(l[1], l[2]));
    return mx + log(exp(l[0] - mx) + exp(l[1] - mx) + exp(l[2] - mx)) - l[0];
}

START_TEST(margin_clamp_target)
{
    const float z1[7] = {8, 3, -2, 3, 3, 2, 1}, z2[7] = {-9, 1, 2, 3, 2, 1, 0};
    margin_vector(g_arcface_clamp, z1, 64, 0.5f, 0.0006604318, 1.0f);
    margin_vector(g_cosface_clamp, z1, 64, 0.4f, 0.0016601784, 1.0f);
    margin_vector(g_arcface_clamp, z2, 64, 0.5f, ce3(-(1 - 1e-7), 0.1, 0.2, 64), 1.0f);
    margin_vector(g_cosface_clamp, z2, 64, 0.4f, ce3(-(1 - 1e-7), 0.1, 0.2, 64), 1.0f);
    margin_vector(g_cosface, z2, 64, 0.4f, ce3(-1.3, 0.1, 0.2, 64), 1.0f); /* default: no clamp */
    /* Gradients away from the clamp equal the unclamped ones' checks. */
    lpc_tensor *in[2] = {lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 41),
                         lpct_rand(2, (int64_t[]){3, 4}, -1, 1, 42)};
    int32_t y[5] = {0, 2, 1, 1, 0};
    loss_args a = {y, 8.0f, 0.3f};
    CHECK_GRAD(g_arcface_clamp, in, 2, &a);
    CHECK_GRAD(g_cosface_clamp, in, 2, &a);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
    /* Clamped target: no gradient reaches W_0 through the target logit. */
    float zc[3] = {-1, 0.05f, 0}, wc[9] = {1, 0, 0, 0.3f, 0.8f, -0.1f, 0, 0.2f, 0.9f};
    in[0] = persistent(1, 3, zc);
    in[1] = persistent(3, 3, wc);
    int32_t y0[1] = {0};
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_backward(ctx, lpc_cosface_flags(ctx, in[0], in[1], y0, 4.0f, 0.5f,
                                                         LPC_MARGIN_CLAMP_TARGET)), LPC_OK);
    for (int q = 0; q < 3; q++)
        ck_assert_float_eq(lpc_tensor_grad(in[1])[q], 0.0f);
    ck_assert(lpc_tensor_grad(in[1])[4] != 0.0f);
    /* Unknown flags poison the ctx. */
    lpc_ctx_reset(ctx);
    lpc_arcface_flags(ctx, in[0], in[1], y0, 4.0f, 0.5f, 2u);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_ptr_null(lpc_cosface_flags(NULL, in[0], in[1], y0, 4.0f, 0.5f, 0));
    lpc_ctx_free(ctx);
    lpc_tensor_free(in[0]);
    lpc_tensor_free(in[1]);
}
END_TEST

START_TEST(misuse)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *f = lpc_tensor_temp(ctx, 2, (int64_t[]){4, 3});
    lpc_tensor *w = lpc_tensor_temp(ctx, 2, (int64_t[]){5, 3});
    lpc_tensor_fill(f, 1.0f);
    lpc_tensor_fill(w, 1.0f);
    int32_t y[4] = {0, 1, 2, 4}, bad[4] = {0, 1, 5, 0}, neg[4] = {0, -1, 0, 0};
    ck_assert_ptr_null(lpc_supcon(NULL, f, y, 0.1f));
    ck_assert_ptr_null(lpc_arcface(NULL, f, w, y, 1, 0.1f));
    ck_assert_str_ne(lpc_last_error(), "");

#define EXPECT(call, code, word)                                                       \
    do {                                                                               \
        lpc_ctx_reset(ctx);                                                            \
        f = lpc_tensor_temp(ctx, 2, (int64_t[]){4, 3});                                \
        w = lpc_tensor_temp(ctx, 2, (int64_t[]){5, 3});                                \
        lpc_tensor_fill(f, 1.0f);                                                      \
        lpc_tensor_fill(w, 1.0f);                                                      \
        lpc_tensor *r_ = (call);                                                       \
        ck_assert_ptr_null(lpc_tensor_data(r_));                                       \
        ck_assert_int_eq(lpc_ctx_status(ctx), code);                                   \
        ck_assert_msg(strstr(lpc_ctx_error(ctx), word), "message: %s", lpc_ctx_error(ctx)); \
        ck_assert_str_ne(lpc_last_error(), "");                                        \
    } while (0)

    EXPECT(lpc_supcon(ctx, NULL, y, 0.1f), LPC_E_ARG, "supcon");
    EXPECT(lpc_supcon(ctx, f, NULL, 0.1f), LPC_E_ARG, "labels");
    EXPECT(lpc_supcon(ctx, f, neg, 0.1f), LPC_E_ARG, "label -1");
    EXPECT(lpc_supcon(ctx, f, y, 0.0f), LPC_E_ARG, "tau");
    EXPECT(lpc_supcon(ctx, f, y, -1.0f), LPC_E_ARG, "tau");
    EXPECT(lpc_supcon(ctx, f, y, NAN), LPC_E_ARG, "tau");
    EXPECT(lpc_supcon(ctx, lpc_tensor_temp(ctx, 1, (int64_t[]){4}), y, 0.1f), LPC_E_SHAPE,
           "N x D");
    EXPECT(lpc_arcface(ctx, f, NULL, y, 1, 0.1f), LPC_E_ARG, "arcface");
    EXPECT(lpc_cosface(ctx, NULL, w, y, 1, 0.1f), LPC_E_ARG, "cosface");
    EXPECT(lpc_arcface(ctx, f, lpc_tensor_temp(ctx, 2, (int64_t[]){5, 2}), y, 1, 0.1f),
           LPC_E_SHAPE, "K x P");
    EXPECT(lpc_cosface(ctx, lpc_tensor_temp(ctx, 1, (int64_t[]){3}), w, y, 1, 0.1f),
           LPC_E_SHAPE, "cosface");
    EXPECT(lpc_arcface(ctx, f, w, bad, 1, 0.1f), LPC_E_ARG, "label 5");
    EXPECT(lpc_cosface(ctx, f, w, NULL, 1, 0.1f), LPC_E_ARG, "labels");
    EXPECT(lpc_arcface(ctx, f, w, y, 0.0f, 0.1f), LPC_E_ARG, "scale");
    EXPECT(lpc_cosface(ctx, f, w, y, -2.0f, 0.1f), LPC_E_ARG, "scale");
    EXPECT(lpc_arcface(ctx, f, w, y, INFINITY, 0.1f), LPC_E_ARG, "scale");
    EXPECT(lpc_arcface(ctx, f, w, y, 1, -0.1f), LPC_E_ARG, "margin");
    EXPECT(lpc_arcface(ctx, f, w, y, 1, 4.0f), LPC_E_ARG, "margin");
    EXPECT(lpc_cosface(ctx, f, w, y, 1, NAN), LPC_E_ARG, "margin");
#undef EXPECT
    /* A poisoned ctx stays poisoned: later valid calls do nothing. */
    ck_assert_ptr_null(lpc_tensor_data(lpc_supcon(ctx, f, y, 0.1f)));
    ck_assert_int_ne(lpc_ctx_status(ctx), LPC_OK);
    lpc_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, supcon_vector);
    tcase_add_test(tc, supcon_anchor_without_positives);
    tcase_add_test(tc, supcon_gradients);
    tcase_add_test(tc, margin_vectors);
    tcase_add_test(tc, margin_gradients);
    tcase_add_test(tc, arcface_threshold_and_clamp);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, margin_clamp_target);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
