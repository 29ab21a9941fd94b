/* Convolutional stack: gradient checks of conv2d, batchnorm2d and whole
 * residual blocks, a direct-loop reference for larger convolutions, batch
 * norm statistics, ResNet parameter counts against PyTorch, determinism and
 * misuse. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "ops/kernels.h"
#include "lpct.h"

#define EPS 1e-3
#define ATOL 2e-3
#define RTOL 2e-2

#define CHECK_GRAD(fn, inputs, n, user)                                                  \
    do {                                                                                 \
        double worst = lpct_gradcheck(fn, inputs, n, user, EPS, ATOL, RTOL);             \
        ck_assert_msg(worst <= 1.0, #fn ": worst gradient violation %.3g", worst);       \
    } while (0)

typedef struct {
    int stride, pad;
} conv_args;

static lpc_tensor *g_conv(lpc_ctx *c, lpc_tensor **in, void *u)
{
    const conv_args *a = u;
    return lpct_project(c, lpc_conv2d(c, in[0], in[1], in[2], a->stride, a->pad), 21);
}

START_TEST(grad_conv2d)
{
    /* kernel, stride, pad, bias, H, W */
    static const int cases[][6] = {{3, 1, 1, 1, 5, 5}, {3, 2, 1, 0, 5, 6}, {1, 1, 0, 1, 4, 3},
                                   {1, 2, 0, 0, 5, 5}, {2, 2, 0, 1, 5, 7}, {5, 1, 2, 0, 4, 5},
                                   {3, 3, 0, 1, 7, 6}, {3, 1, 1, 0, 3, 7}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *k = cases[i];
        lpc_tensor *in[3] = {lpct_rand(4, (int64_t[]){2, 3, k[4], k[5]}, -1, 1, 30 + i),
                             lpct_rand(4, (int64_t[]){4, 3, k[0], k[0]}, -1, 1, 40 + i),
                             k[3] ? lpct_rand(1, (int64_t[]){4}, -1, 1, 50 + i) : NULL};
        conv_args a = {k[1], k[2]};
        CHECK_GRAD(g_conv, in, k[3] ? 3 : 2, &a);
        for (int j = 0; j < 3; j++)
            lpc_tensor_free(in[j]);
    }
}
END_TEST

/* Direct-loop convolution: y, and for loss = sum(y * r) the grads of x, w, b. */
static void conv_reference(const float *x, const float *w, const float *b, const float *r,
                           int n, int ci, int h, int wd, int co, int k, int s, int p, double *y,
                           double *dx, double *dw, double *db)
{
    int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < co; o++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    size_t yi = (((size_t)i * co + o) * ho + oy) * wo + ox;
                    double acc = b ? b[o] : 0.0;
                    for (int c = 0; c < ci; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    continue;
                                size_t xi = (((size_t)i * ci + c) * h + iy) * wd + ix;
                                size_t wi = (((size_t)o * ci + c) * k + ky) * k + kx;
                                acc += (double)x[xi] * w[wi];
                                dx[xi] += (double)r[yi] * w[wi];
                                dw[wi] += (double)r[yi] * x[xi];
                            }
                    y[yi] = acc;
                    db[o] += r[yi];
                }
}

/* Index of the first a[i] off the reference by more than tol (relative to
 * 1 + |ref|), or -1; one assertion per array keeps Check's overhead low. */
static int64_t first_mismatch(const float *a, const double *ref, int64_t n, double tol)
{
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(a[i] - ref[i]) <= tol * (1.0 + fabs(ref[i]))))
            return i;
    return -1;
}

static void assert_close_arrays(const float *a, const double *ref, int64_t n, double tol,
                                const char *what)
{
    int64_t i = first_mismatch(a, ref, n, tol);
    ck_assert_msg(i < 0, "%s[%lld] = %.7g, reference %.7g", what, (long long)i, a[i < 0 ? 0 : i],
                  ref[i < 0 ? 0 : i]);
}

/* Per-sample GEMMs, several sample chunks and the direct 1x1 path match the
 * reference in forward and backward. */
static void check_against_reference(int n, int ci, int h, int wd, int co, int k, int s, int p,
                                    int bias)
{
    int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1;
    int64_t nx = (int64_t)n * ci * h * wd, nw = (int64_t)co * ci * k * k;
    int64_t ny = (int64_t)n * co * ho * wo;
    lpc_tensor *x = lpct_rand(4, (int64_t[]){n, ci, h, wd}, -1, 1, 60);
    lpc_tensor *w = lpct_rand(4, (int64_t[]){co, ci, k, k}, -1, 1, 61);
    lpc_tensor *b = bias ? lpct_rand(1, (int64_t[]){co}, -1, 1, 62) : NULL;
    lpc_tensor *r = lpct_rand(4, (int64_t[]){n, co, ho, wo}, -1, 1, 63);
    double *y = calloc((size_t)ny, sizeof *y), *dx = calloc((size_t)nx, sizeof *dx);
    double *dw = calloc((size_t)nw, sizeof *dw), *db = calloc((size_t)co, sizeof *db);
    conv_reference(lpc_tensor_data(x), lpc_tensor_data(w), b ? lpc_tensor_data(b) : NULL,
                   lpc_tensor_data(r), n, ci, h, wd, co, k, s, p, y, dx, dw, db);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *out = lpc_conv2d(ctx, x, w, b, s, p);
    lpc_tensor_set_requires_grad(r, 0);
    lpc_tensor *loss = lpc_sum(ctx, lpc_mul(ctx, out, r));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    ck_assert_int_eq(lpc_tensor_dim(out, 2), ho);
    ck_assert_int_eq(lpc_tensor_dim(out, 3), wo);
    assert_close_arrays(lpc_tensor_data(out), y, ny, 1e-4, "y");
    assert_close_arrays(lpc_tensor_grad(x), dx, nx, 1e-4, "dx");
    assert_close_arrays(lpc_tensor_grad(w), dw, nw, 1e-4, "dw");
    if (b)
        assert_close_arrays(lpc_tensor_grad(b), db, co, 1e-4, "db");
    lpc_ctx_free(ctx);
    free(y), free(dx), free(dw), free(db);
    lpc_tensor_free(x), lpc_tensor_free(w), lpc_tensor_free(b), lpc_tensor_free(r);
}

START_TEST(conv_matches_reference)
{
    check_against_reference(3, 4, 32, 32, 5, 3, 1, 1, 1);   /* one GEMM per sample */
    check_against_reference(21, 64, 15, 15, 4, 3, 1, 1, 1); /* chunks of 5, the last of 1 */
    check_against_reference(9, 3, 20, 17, 6, 3, 2, 1, 0);
    check_against_reference(2, 2, 1024, 600, 3, 1, 1, 0, 1); /* one sample per GEMM, 1x1 */
    check_against_reference(3, 5, 9, 9, 4, 1, 1, 0, 0);      /* 1x1 through im2col chunks */
    check_against_reference(4, 3, 2, 7, 5, 5, 1, 2, 1);      /* taps reading only padding */
    check_against_reference(2, 3, 17, 1, 4, 3, 1, 1, 0);     /* same-size, one column wide */
    check_against_reference(7, 17, 7, 7, 33, 3, 1, 1, 0);    /* odd planes, 17 -> 33 channels */
    check_against_reference(3, 1, 2, 7, 5, 3, 1, 1, 1);      /* one input channel, 2 rows */
}
END_TEST

/* x (n x ci x h x w), w (co x ci x 3 x 3) and the fixed weights r, r2 of
 * the loss sum(conv(x) * r) + sum(x * r2), under which the conv adds its
 * input gradient to one already there. */
typedef struct {
    lpc_tensor *x, *w, *r, *r2;
} conv_inputs;

typedef struct {
    float *y, *dx, *dw;
} conv_outputs;

static conv_inputs conv_inputs_new(int n, int ci, int h, int wd, int co, unsigned seed)
{
    conv_inputs in = {lpct_rand(4, (int64_t[]){n, ci, h, wd}, -1, 1, seed),
                      lpct_rand(4, (int64_t[]){co, ci, 3, 3}, -1, 1, seed + 1),
                      lpct_rand(4, (int64_t[]){n, co, h, wd}, -1, 1, seed + 2),
                      lpct_rand(4, (int64_t[]){n, ci, h, wd}, -1, 1, seed + 3)};
    lpc_tensor_set_requires_grad(in.r, 0);
    lpc_tensor_set_requires_grad(in.r2, 0);
    return in;
}

static void conv_inputs_free(conv_inputs *in)
{
    lpc_tensor_free(in->x), lpc_tensor_free(in->w), lpc_tensor_free(in->r);
    lpc_tensor_free(in->r2);
}

/* Copies of y, dx and dw of a 3x3 pad-1 conv under that loss. */
static conv_outputs conv_with_grads(const conv_inputs *in)
{
    int64_t ny = lpc_tensor_numel(in->r), nx = lpc_tensor_numel(in->x);
    int64_t nw = lpc_tensor_numel(in->w);
    conv_outputs o = {malloc((size_t)ny * sizeof(float)), malloc((size_t)nx * sizeof(float)),
                      malloc((size_t)nw * sizeof(float))};
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *out = lpc_conv2d(ctx, in->x, in->w, NULL, 1, 1);
    lpc_tensor *loss = lpc_add(ctx, lpc_sum(ctx, lpc_mul(ctx, out, in->r)),
                               lpc_sum(ctx, lpc_mul(ctx, in->x, in->r2)));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    memcpy(o.y, lpc_tensor_data(out), (size_t)ny * sizeof(float));
    memcpy(o.dx, lpc_tensor_grad(in->x), (size_t)nx * sizeof(float));
    memcpy(o.dw, lpc_tensor_grad(in->w), (size_t)nw * sizeof(float));
    lpc_tensor_zero_grad(in->x);
    lpc_tensor_zero_grad(in->w);
    lpc_ctx_free(ctx);
    return o;
}

static void conv_outputs_free(conv_outputs *o) { free(o->y), free(o->dx), free(o->dw); }

/* Equal up to float rounding of sums of a few thousand products of values
 * in [-1, 1] (the tolerance conv_matches_reference allows against double
 * sums: the K blocking of each kernel path rounds differently). */
static void assert_near(const float *a, const float *b, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-4f * (1.0f + fabsf(b[i])), "%s[%lld]: %.8g vs %.8g",
                      what, (long long)i, a[i], b[i]);
}

/* The Winograd path (3x3, stride 1, pad 1) agrees with im2col + GEMM on
 * shapes with partial tiles, chunked samples and channel counts that do
 * not fill a vector, also when the input gradient accumulates. */
START_TEST(winograd_matches_gemm)
{
    /* N, Cin, H, W, Cout */
    static const int cases[][5] = {{2, 32, 28, 28, 32}, {9, 64, 14, 14, 64}, {5, 3, 7, 5, 17},
                                   {33, 5, 4, 4, 2}, {1, 1, 1, 1, 1}, {4, 20, 9, 1, 40},
                                   {2, 8, 64, 64, 60}}; /* one sample > 4 MB of tiles */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        conv_inputs in = conv_inputs_new(c[0], c[1], c[2], c[3], c[4], 80 + 4 * (unsigned)i);
        conv_outputs wino = conv_with_grads(&in);
        lpci_conv2d_set_winograd(0);
        conv_outputs gemm = conv_with_grads(&in);
        lpci_conv2d_set_winograd(1);
        assert_near(wino.y, gemm.y, lpc_tensor_numel(in.r), "y (Winograd vs im2col)");
        assert_near(wino.dx, gemm.dx, lpc_tensor_numel(in.x), "dx (Winograd vs im2col)");
        assert_near(wino.dw, gemm.dw, lpc_tensor_numel(in.w), "dw (Winograd vs im2col)");
        conv_outputs_free(&wino), conv_outputs_free(&gemm), conv_inputs_free(&in);
    }
}
END_TEST

typedef struct {
    int train;
    lpc_tensor *rm, *rv;
} bn_args;

static lpc_tensor *g_bn(lpc_ctx *c, lpc_tensor **in, void *u)
{
    const bn_args *a = u;
    return lpct_project(c, lpc_batchnorm2d(c, in[0], in[1], in[2], a->rm, a->rv, a->train, 0.1f,
                                           1e-5f), 22);
}

/* Winograd's forward pass and input gradient do not depend on how samples
 * are chunked among threads: the same bits on 1 and 3 threads. */
START_TEST(winograd_thread_count_invariant)
{
    conv_inputs in = conv_inputs_new(13, 16, 14, 14, 24, 120);
    ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
    conv_outputs one = conv_with_grads(&in);
    ck_assert_int_eq(lpc_set_num_threads(3), LPC_OK);
    conv_outputs three = conv_with_grads(&in);
    lpc_set_num_threads(1);
    ck_assert_int_eq(memcmp(one.y, three.y, (size_t)lpc_tensor_numel(in.r) * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(one.dx, three.dx, (size_t)lpc_tensor_numel(in.x) * sizeof(float)), 0);
    assert_near(one.dw, three.dw, lpc_tensor_numel(in.w), "dw (1 vs 3 threads)");
    conv_outputs_free(&one), conv_outputs_free(&three), conv_inputs_free(&in);
}
END_TEST

START_TEST(grad_batchnorm2d)
{
    lpc_tensor *in[3] = {lpct_rand(4, (int64_t[]){3, 2, 3, 4}, -2, 3, 70),
                         lpct_rand(1, (int64_t[]){2}, 0.5, 1.5, 71),
                         lpct_rand(1, (int64_t[]){2}, -1, 1, 72)};
    bn_args train = {1, NULL, NULL};
    CHECK_GRAD(g_bn, in, 3, &train);
    bn_args eval = {0, lpct_rand(1, (int64_t[]){2}, -0.5, 0.5, 73),
                    lpct_rand(1, (int64_t[]){2}, 0.5, 2.0, 74)};
    lpc_tensor_set_requires_grad(eval.rm, 0);
    lpc_tensor_set_requires_grad(eval.rv, 0);
    CHECK_GRAD(g_bn, in, 3, &eval);
    for (int j = 0; j < 3; j++)
        lpc_tensor_free(in[j]);
    lpc_tensor_free(eval.rm);
    lpc_tensor_free(eval.rv);
}
END_TEST

static lpc_tensor *g_module(lpc_ctx *c, lpc_tensor **in, void *u)
{
    return lpct_project(c, lpc_module_forward(u, c, in[0]), 23);
}

/* Gradient check of one block of `net` (input x and all its parameters). */
static void check_block(lpc_module *net, const char *path, int64_t channels, int64_t hw)
{
    lpc_module *blk = lpc_module_find(net, path);
    ck_assert_ptr_nonnull(blk);
    int np = lpc_module_num_params(blk);
    lpc_tensor **in = calloc((size_t)np + 1, sizeof *in);
    in[0] = lpct_rand(4, (int64_t[]){2, channels, hw, hw}, -1, 1, 80);
    for (int i = 0; i < np; i++)
        in[i + 1] = lpc_module_param(blk, i);
    double worst = lpct_gradcheck(g_module, in, np + 1, blk, EPS, ATOL, RTOL);
    ck_assert_msg(worst <= 1.0, "%s: worst gradient violation %.3g", path, worst);
    lpc_tensor_free(in[0]);
    free(in);
}

START_TEST(grad_residual_blocks)
{
    lpc_rng *rng = lpc_rng_new(5);
    int widths[2] = {4, 3}, blocks[2] = {2, 1};
    lpc_module *basic = lpc_resnet_new(LPC_RESNET_BASIC, 3, 4, 2, widths, blocks, rng);
    ck_assert_ptr_nonnull(basic);
    check_block(basic, "layer1.1", 4, 5); /* identity shortcut */
    check_block(basic, "layer2.0", 4, 5); /* stride 2, projection shortcut */
    int wb[1] = {2}, bb[1] = {2};
    lpc_module *bottle = lpc_resnet_new(LPC_RESNET_BOTTLENECK, 3, 3, 1, wb, bb, rng);
    ck_assert_ptr_nonnull(bottle);
    check_block(bottle, "layer1.0", 3, 5); /* projection 3 -> 8 */
    check_block(bottle, "layer1.1", 8, 4); /* identity */
    lpc_module *wide = lpc_resnet_new(LPC_RESNET_WIDE_BOTTLENECK, 3, 3, 1, wb, bb, rng);
    ck_assert_ptr_nonnull(wide);
    check_block(wide, "layer1.0", 3, 5); /* 3 -> inner 4 -> 8, projection */
    check_block(wide, "layer1.1", 8, 4); /* identity */
    lpc_module_free(wide);
    lpc_module_free(basic);
    lpc_module_free(bottle);
    lpc_rng_free(rng);
}
END_TEST

static lpc_tensor *child_fwd(lpc_module *net, const char *path, lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_module_forward(lpc_module_find(net, path), ctx, x);
}

/* The blocks fuse batch norm, the residual add and SiLU; the same block
 * spelled out with separate modules and ops gives the same output. */
START_TEST(fused_block_matches_composition)
{
    lpc_rng *rng = lpc_rng_new(8);
    int widths[2] = {4, 6}, blocks[2] = {2, 1};
    lpc_module *net = lpc_resnet_new(LPC_RESNET_BASIC, 3, 4, 2, widths, blocks, rng);
    lpc_tensor *x = lpct_rand(4, (int64_t[]){3, 4, 6, 6}, -3, 3, 82);
    for (int train = 1; train >= 0; train--) {
        lpc_module_set_train(net, train);
        lpc_ctx *ctx = lpc_ctx_new();
        const char *b[2] = {"layer1.1", "layer2.0"};
        for (int k = 0; k < 2; k++) {
            char p[4][64];
            const char *parts[4] = {"conv1", "bn1", "conv2", "bn2"};
            for (int i = 0; i < 4; i++)
                snprintf(p[i], sizeof p[i], "%s.%s", b[k], parts[i]);
            lpc_tensor *y = child_fwd(net, p[1], ctx, child_fwd(net, p[0], ctx, x));
            y = child_fwd(net, p[3], ctx, child_fwd(net, p[2], ctx, lpc_silu(ctx, y)));
            char sc[64];
            snprintf(sc, sizeof sc, "%s.shortcut", b[k]);
            lpc_tensor *s = k ? child_fwd(net, sc, ctx, x) : x;
            const float *want = lpc_tensor_data(lpc_silu(ctx, lpc_add(ctx, y, s)));
            lpc_tensor *got = child_fwd(net, b[k], ctx, x);
            ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
            int64_t n = lpc_tensor_numel(got);
            double *ref = malloc((size_t)n * sizeof *ref);
            for (int64_t i = 0; i < n; i++)
                ref[i] = want[i];
            assert_close_arrays(lpc_tensor_data(got), ref, n, 1e-5, b[k]);
            free(ref);
        }
        lpc_ctx_free(ctx);
    }
    lpc_tensor_free(x);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(grad_whole_network)
{
    lpc_rng *rng = lpc_rng_new(6);
    int widths[2] = {3, 4}, blocks[2] = {1, 1};
    lpc_module *net = lpc_resnet_new(LPC_RESNET_BASIC, 2, 3, 2, widths, blocks, rng);
    ck_assert_ptr_nonnull(net);
    int np = lpc_module_num_params(net);
    lpc_tensor **in = calloc((size_t)np + 1, sizeof *in);
    in[0] = lpct_rand(4, (int64_t[]){3, 2, 4, 4}, -1, 1, 81);
    for (int i = 0; i < np; i++)
        in[i + 1] = lpc_module_param(net, i);
    CHECK_GRAD(g_module, in, np + 1, net);
    lpc_tensor_free(in[0]);
    free(in);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(batchnorm_train_and_eval)
{
    const int n = 4, c = 3, hw = 6, m = n * hw;
    lpc_module *bn = lpc_batchnorm2d_new(c);
    ck_assert_ptr_nonnull(bn);
    ck_assert_str_eq(lpc_module_param_name(bn, 0), "weight");
    ck_assert_str_eq(lpc_module_buffer_name(bn, 1), "running_var");
    float *gamma = lpc_tensor_data(lpc_module_param(bn, 0));
    float *beta = lpc_tensor_data(lpc_module_param(bn, 1));
    ck_assert_float_eq(gamma[0], 1.0f);
    ck_assert_float_eq(beta[2], 0.0f);
    for (int i = 0; i < c; i++) {
        gamma[i] = 0.5f + (float)i;
        beta[i] = -1.0f + (float)i;
    }
    lpc_tensor *x = lpct_rand(4, (int64_t[]){n, c, 2, 3}, -2, 5, 90);
    const float *xd = lpc_tensor_data(x);
    lpc_ctx *ctx = lpc_ctx_new();
    const float *y = lpc_tensor_data(lpc_module_forward(bn, ctx, x));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    const float *rm = lpc_tensor_data(lpc_module_buffer(bn, 0));
    const float *rv = lpc_tensor_data(lpc_module_buffer(bn, 1));
    double mean[3], var[3];
    for (int ch = 0; ch < c; ch++) {
        double s = 0, s2 = 0, ys = 0, ys2 = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < hw; k++) {
                double v = xd[(i * c + ch) * hw + k], o = y[(i * c + ch) * hw + k];
                s += v, s2 += v * v, ys += o, ys2 += o * o;
            }
        mean[ch] = s / m;
        var[ch] = s2 / m - mean[ch] * mean[ch];
        /* Output has mean beta and (biased) variance ~gamma^2. */
        ck_assert_msg(fabs(ys / m - beta[ch]) < 1e-5, "channel %d mean %g", ch, ys / m);
        double ovar = ys2 / m - (ys / m) * (ys / m);
        LPCT_ASSERT_CLOSE(ovar, gamma[ch] * gamma[ch] * var[ch] / (var[ch] + 1e-5), 1e-4);
        /* Running statistics: momentum 0.1, unbiased variance. */
        LPCT_ASSERT_CLOSE(rm[ch], 0.1 * mean[ch], 1e-5);
        LPCT_ASSERT_CLOSE(rv[ch], 0.9 + 0.1 * var[ch] * m / (m - 1), 1e-5);
    }
    /* Eval mode normalises with the running statistics and leaves them alone. */
    lpc_module_set_train(bn, 0);
    float rm0 = rm[1], rv0 = rv[1];
    y = lpc_tensor_data(lpc_module_forward(bn, ctx, x));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    for (int i = 0; i < n * c * hw; i++) {
        int ch = i / hw % c;
        double e = (xd[i] - rm[ch]) / sqrt(rv[ch] + 1e-5) * gamma[ch] + beta[ch];
        ck_assert_msg(fabs(y[i] - e) <= 1e-5 * (1 + fabs(e)), "eval y[%d] = %g, expected %g", i,
                      y[i], e);
    }
    ck_assert_float_eq(rm[1], rm0);
    ck_assert_float_eq(rv[1], rv0);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_module_free(bn);
}
END_TEST

/* Numbers from PyTorch (same architecture, torch.nn modules). */
START_TEST(resnet_parameter_counts)
{
    lpc_rng *rng = lpc_rng_new(1);
    lpc_module *r18 = lpc_resnet18_new(3, rng);
    ck_assert_ptr_nonnull(r18);
    ck_assert_int_eq(lpc_module_num_weights(r18), 11168832);
    ck_assert_int_eq(lpc_module_num_params(r18), 60);
    ck_assert_int_eq(lpc_module_num_buffers(r18), 40);
    ck_assert_int_eq(lpc_resnet_feature_dim(r18), 512);
    ck_assert_str_eq(lpc_module_param_name(r18, 0), "conv1.weight");
    ck_assert_str_eq(lpc_module_param_name(r18, 1), "bn1.weight");
    ck_assert_str_eq(lpc_module_param_name(r18, 3), "layer1.0.conv1.weight");
    ck_assert_str_eq(lpc_module_buffer_name(r18, 2), "layer1.0.bn1.running_mean");
    ck_assert_ptr_nonnull(lpc_module_find_param(r18, "layer2.0.shortcut.0.weight"));
    ck_assert_ptr_nonnull(lpc_module_find_param(r18, "layer2.0.shortcut.1.weight"));
    ck_assert_ptr_nonnull(lpc_module_find_param(r18, "layer4.1.bn2.bias"));
    ck_assert_ptr_null(lpc_module_find_param(r18, "layer1.0.shortcut.0.weight"));
    ck_assert_int_eq(lpc_tensor_dim(lpc_module_find_param(r18, "layer3.0.conv1.weight"), 0), 256);
    /* With a 10-class linear head, as in the usual CIFAR-10 ResNet-18. */
    lpc_module *seq = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(seq, "backbone", r18), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(seq, "fc", lpc_linear_new(512, 10, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_module_num_weights(seq), 11173962);
    lpc_module_free(seq);

    lpc_module *r50 = lpc_resnet50_new(3, rng);
    ck_assert_ptr_nonnull(r50);
    ck_assert_int_eq(lpc_module_num_weights(r50), 23500352);
    ck_assert_int_eq(lpc_module_num_params(r50), 159);
    ck_assert_int_eq(lpc_resnet_feature_dim(r50), 2048);
    ck_assert_ptr_nonnull(lpc_module_find_param(r50, "layer1.0.shortcut.0.weight"));
    ck_assert_ptr_nonnull(lpc_module_find_param(r50, "layer4.2.conv3.weight"));
    lpc_module_free(r50);

    /* WideResNet-50-2: torchvision's wide_resnet50_2 has 68,883,240 weights;
     * without its 1000-class fc (2,049,000) and with a 3x3 stem for its 7x7
     * one (1,728 for 9,408), 66,826,560. Inner widths 2x, outputs 4x. */
    lpc_module *wrn = lpc_wide_resnet50_2_new(3, rng);
    ck_assert_ptr_nonnull(wrn);
    ck_assert_int_eq(lpc_module_num_weights(wrn), 66826560);
    ck_assert_int_eq(lpc_module_num_params(wrn), 159);
    ck_assert_int_eq(lpc_resnet_feature_dim(wrn), 2048);
    lpc_tensor *c2 = lpc_module_find_param(wrn, "layer1.0.conv2.weight");
    ck_assert_int_eq(lpc_tensor_dim(c2, 0), 128);
    ck_assert_int_eq(lpc_tensor_dim(c2, 1), 128);
    lpc_tensor *c3 = lpc_module_find_param(wrn, "layer4.2.conv3.weight");
    ck_assert_int_eq(lpc_tensor_dim(c3, 0), 2048);
    ck_assert_int_eq(lpc_tensor_dim(c3, 1), 1024);
    ck_assert_ptr_nonnull(lpc_module_find_param(wrn, "layer1.0.shortcut.0.weight"));
    lpc_module_free(wrn);
    ck_assert_str_eq(lpc_resnet_block_name(LPC_RESNET_WIDE_BOTTLENECK), "wide_bottleneck");
    ck_assert_str_eq(lpc_resnet_block_name(LPC_RESNET_BASIC), "basic");
    ck_assert_ptr_null(lpc_resnet_block_name((lpc_resnet_block)3));

    lpc_module *small = lpc_resnet_small_new(1, rng);
    ck_assert_int_eq(lpc_module_num_weights(small), 694752);
    ck_assert_int_eq(lpc_resnet_feature_dim(small), 128);
    lpc_module_free(small);
    small = lpc_resnet_small_new(3, rng);
    ck_assert_int_eq(lpc_module_num_weights(small), 695328);
    lpc_module_free(small);

    /* Default initialisation: U(+-1/sqrt(fan_in)), batch norm 1 / 0 / 0 / 1. */
    lpc_module *conv = lpc_conv2d_new(4, 8, 3, 1, 1, 1, rng);
    ck_assert_int_eq(lpc_module_num_params(conv), 2);
    ck_assert_str_eq(lpc_module_param_name(conv, 1), "bias");
    const float *w = lpc_tensor_data(lpc_module_param(conv, 0));
    double bound = 1.0 / 6.0, maxabs = 0;
    for (int i = 0; i < 8 * 4 * 9; i++)
        maxabs = fmax(maxabs, fabs(w[i]));
    ck_assert(maxabs <= bound && maxabs > 0.9 * bound);
    lpc_module_free(conv);
    lpc_rng_free(rng);
}
END_TEST

static void assert_shape(lpc_tensor *t, int64_t a, int64_t b)
{
    ck_assert_int_eq(lpc_tensor_ndim(t), 2);
    ck_assert_int_eq(lpc_tensor_dim(t, 0), a);
    ck_assert_int_eq(lpc_tensor_dim(t, 1), b);
}

START_TEST(output_shapes)
{
    lpc_rng *rng = lpc_rng_new(2);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_ctx_set_grad(ctx, 0);
    lpc_module *small = lpc_resnet_small_new(1, rng);
    lpc_tensor *x = lpc_tensor_temp(ctx, 4, (int64_t[]){2, 1, 28, 28});
    lpc_tensor_fill(x, 0.5f);
    assert_shape(lpc_module_forward(small, ctx, x), 2, 128);
    lpc_module *r18 = lpc_resnet18_new(3, rng);
    lpc_tensor *x3 = lpc_tensor_temp(ctx, 4, (int64_t[]){2, 3, 32, 32});
    lpc_tensor_fill(x3, 0.25f);
    assert_shape(lpc_module_forward(r18, ctx, x3), 2, 512);
    lpc_module *r50 = lpc_resnet50_new(3, rng);
    lpc_module_set_train(r50, 0);
    lpc_tensor *x8 = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 3, 8, 8});
    lpc_tensor_fill(x8, 0.25f);
    assert_shape(lpc_module_forward(r50, ctx, x8), 1, 2048);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    lpc_module *conv = lpc_conv2d_new(3, 5, 3, 2, 1, 0, rng);
    lpc_tensor *y = lpc_module_forward(conv, ctx, lpc_tensor_temp(ctx, 4, (int64_t[]){2, 3, 5, 7}));
    ck_assert_int_eq(lpc_tensor_dim(y, 1), 5);
    ck_assert_int_eq(lpc_tensor_dim(y, 2), 3);
    ck_assert_int_eq(lpc_tensor_dim(y, 3), 4);
    lpc_module_free(small);
    lpc_module_free(r18);
    lpc_module_free(r50);
    lpc_module_free(conv);
    lpc_ctx_free(ctx);
    lpc_rng_free(rng);
}
END_TEST

/* One forward + backward of a small ResNet on a fixed batch; copies the
 * output and all parameter gradients into out (caller frees). */
static float *train_step_snapshot(int threads, int64_t *len)
{
    ck_assert_int_eq(lpc_set_num_threads(threads), LPC_OK);
    lpc_rng *rng = lpc_rng_new(11);
    int widths[2] = {16, 32}, blocks[2] = {1, 1};
    lpc_module *net = lpc_resnet_new(LPC_RESNET_BASIC, 3, 16, 2, widths, blocks, rng);
    lpc_tensor *x = lpct_rand(4, (int64_t[]){16, 3, 16, 16}, -1, 1, 12);
    lpc_tensor_set_requires_grad(x, 0);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *y = lpc_module_forward(net, ctx, x);
    lpc_tensor *loss = lpct_project(ctx, y, 13);
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    int np = lpc_module_num_params(net);
    int64_t total = lpc_tensor_numel(y) + lpc_module_num_weights(net) + 2 * 16;
    float *out = malloc((size_t)total * sizeof *out), *p = out;
    memcpy(p, lpc_tensor_data(y), (size_t)lpc_tensor_numel(y) * sizeof *p);
    p += lpc_tensor_numel(y);
    for (int i = 0; i < np; i++) {
        lpc_tensor *t = lpc_module_param(net, i);
        memcpy(p, lpc_tensor_grad(t), (size_t)lpc_tensor_numel(t) * sizeof *p);
        p += lpc_tensor_numel(t);
    }
    memcpy(p, lpc_tensor_data(lpc_module_buffer(net, 0)), 16 * sizeof *p); /* running stats */
    memcpy(p + 16, lpc_tensor_data(lpc_module_buffer(net, 1)), 16 * sizeof *p);
    *len = total;
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_module_free(net);
    lpc_rng_free(rng);
    return out;
}

START_TEST(deterministic_with_two_threads)
{
    int before = lpc_get_num_threads();
    int64_t n1, n2;
    float *a = train_step_snapshot(2, &n1);
    float *b = train_step_snapshot(2, &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_msg(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "two runs differ");
    /* A different thread count may round differently, but not by much. */
    float *c = train_step_snapshot(1, &n2);
    double *ref = malloc((size_t)n1 * sizeof *ref);
    for (int64_t i = 0; i < n1; i++)
        ref[i] = c[i];
    assert_close_arrays(a, ref, n1, 1e-3, "two threads vs one");
    free(a), free(b), free(c), free(ref);
    lpc_set_num_threads(before);
}
END_TEST

START_TEST(steady_state_allocates_nothing)
{
    lpc_rng *rng = lpc_rng_new(3);
    lpc_module *net = lpc_resnet_small_new(1, rng);
    lpc_tensor *x = lpct_rand(4, (int64_t[]){4, 1, 12, 12}, -1, 1, 14);
    lpc_tensor_set_requires_grad(x, 0);
    lpc_ctx *ctx = lpc_ctx_new();
    unsigned long long before = 0;
    for (int step = 0; step < 3; step++) {
        if (step == 2)
            before = lpc_alloc_count();
        lpc_ctx_reset(ctx);
        lpc_module_zero_grad(net);
        lpc_tensor *loss = lpc_mean(ctx, lpc_module_forward(net, ctx, x));
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    }
    ck_assert_int_eq(lpc_alloc_count(), before);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

static void expect_null_arg(lpc_module *m)
{
    ck_assert_ptr_null(m);
    ck_assert_int_ne(strlen(lpc_last_error()), 0);
}

START_TEST(misuse)
{
    lpc_rng *rng = lpc_rng_new(4);
    /* Builders. */
    expect_null_arg(lpc_conv2d_new(0, 4, 3, 1, 1, 0, rng));
    expect_null_arg(lpc_conv2d_new(3, 4, 0, 1, 1, 0, rng));
    expect_null_arg(lpc_conv2d_new(3, 4, 3, 0, 1, 0, rng));
    expect_null_arg(lpc_conv2d_new(3, 4, 3, 1, -1, 0, rng));
    expect_null_arg(lpc_conv2d_new(3, 4, 3, 1, 1, 0, NULL));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "lpc_conv2d_new"));
    expect_null_arg(lpc_batchnorm2d_new(0));
    int widths[2] = {4, 8}, blocks[2] = {1, 0};
    expect_null_arg(lpc_resnet_new((lpc_resnet_block)7, 3, 4, 1, widths, blocks, rng));
    expect_null_arg(lpc_resnet_new(LPC_RESNET_BASIC, 3, 4, 2, widths, blocks, rng));
    expect_null_arg(lpc_resnet_new(LPC_RESNET_BASIC, 3, 4, 0, widths, blocks, rng));
    expect_null_arg(lpc_resnet_new(LPC_RESNET_BASIC, 3, 4, 1, NULL, blocks, rng));
    expect_null_arg(lpc_resnet_new(LPC_RESNET_BASIC, 0, 4, 1, widths, blocks, rng));
    expect_null_arg(lpc_resnet18_new(3, NULL));
    ck_assert_int_eq(lpc_resnet_feature_dim(NULL), -1);
    lpc_module *conv = lpc_conv2d_new(1, 4, 3, 1, 1, 0, rng);
    ck_assert_int_eq(lpc_resnet_feature_dim(conv), -1);

    /* Wrong channel count: sticky shape error naming both counts. */
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x3 = lpc_tensor_temp(ctx, 4, (int64_t[]){2, 3, 5, 5});
    lpc_tensor *y = lpc_module_forward(conv, ctx, x3);
    ck_assert_ptr_null(lpc_tensor_data(y));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_str_eq(lpc_ctx_error(ctx), "conv2d: input has 3 channels, layer expects 1");
    ck_assert_ptr_null(lpc_tensor_data(lpc_conv2d(ctx, x3, x3, NULL, 1, 0))); /* still poisoned */
    lpc_module *r18 = lpc_resnet18_new(1, rng);
    lpc_ctx_reset(ctx);
    lpc_module_forward(r18, ctx, lpc_tensor_temp(ctx, 4, (int64_t[]){1, 3, 8, 8}));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "has 3 channels, layer expects 1"));

    /* Op arguments (persistent inputs: they outlive the ctx resets). */
    lpc_tensor *w = lpc_module_param(conv, 0);
    lpc_tensor *x1 = lpc_tensor_new(4, (int64_t[]){2, 1, 5, 5});
    lpc_tensor *flat = lpc_tensor_new(2, (int64_t[]){2, 1});
    lpc_tensor *tiny = lpc_tensor_new(4, (int64_t[]){2, 1, 1, 1});
    lpc_tensor *b3 = lpc_tensor_new(1, (int64_t[]){3});
    lpc_tensor *x4 = lpc_tensor_new(4, (int64_t[]){2, 4, 3, 3});
    lpc_tensor *one = lpc_tensor_new(4, (int64_t[]){1, 4, 1, 1});
    ck_assert_ptr_null(lpc_conv2d(NULL, x1, w, NULL, 1, 1));
    struct {
        lpc_tensor *x, *b;
        int stride, pad;
        lpc_status want;
    } bad[] = {
        {NULL, NULL, 1, 1, LPC_E_ARG},  {x1, NULL, 0, 1, LPC_E_ARG},
        {x1, NULL, 1, -1, LPC_E_ARG},   {flat, NULL, 1, 1, LPC_E_SHAPE},
        {tiny, NULL, 1, 0, LPC_E_SHAPE}, /* kernel larger than the input */
        {x1, b3, 1, 1, LPC_E_SHAPE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lpc_ctx_reset(ctx);
        lpc_conv2d(ctx, bad[i].x, w, bad[i].b, bad[i].stride, bad[i].pad);
        ck_assert_msg(lpc_ctx_status(ctx) == bad[i].want, "case %zu: got %s", i,
                      lpc_status_name(lpc_ctx_status(ctx)));
        ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "conv2d"));
    }

    lpc_module *bn = lpc_batchnorm2d_new(4);
    lpc_tensor *g = lpc_module_param(bn, 0), *be = lpc_module_param(bn, 1);
    lpc_tensor *rm = lpc_module_buffer(bn, 0), *rv = lpc_module_buffer(bn, 1);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x4, g, NULL, rm, rv, 1, 0.1f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x1, g, be, rm, rv, 1, 0.1f, 1e-5f); /* 1 channel vs 4 */
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x4, g, be, NULL, NULL, 0, 0.1f, 1e-5f); /* eval needs running stats */
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x4, g, be, rm, rv, 1, 1.5f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x4, g, be, rm, rv, 1, 0.1f, 0.0f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, one, g, be, rm, rv, 1, 0.1f, 1e-5f); /* one value per channel */
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "batchnorm2d"));
    ck_assert_ptr_null(lpc_batchnorm2d(NULL, x4, g, be, rm, rv, 1, 0.1f, 1e-5f));
    lpc_tensor *tensors[6] = {x1, flat, tiny, b3, x4, one};
    for (int i = 0; i < 6; i++)
        lpc_tensor_free(tensors[i]);
    lpc_ctx_free(ctx);
    lpc_module_free(bn);
    lpc_module_free(conv);
    lpc_module_free(r18);
    lpc_rng_free(rng);
}
END_TEST

/* A pad near INT_MAX is refused with a message (2 * pad overflowed an int),
 * and so is a layer whose fan-in in_channels * kernel^2 would overflow. */
START_TEST(huge_padding)
{
    lpc_rng *rng = lpc_rng_new(1);
    expect_null_arg(lpc_conv2d_new((int64_t)1 << 40, 1, 1 << 20, 1, 0, 0, rng));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "more than 2^40"));
    expect_null_arg(lpc_conv2d_new(INT64_MAX, INT64_MAX, 3, 1, 0, 0, rng));
    lpc_rng_free(rng);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 4, 4});
    lpc_tensor *w = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 3, 3});
    const int pads[3] = {INT_MAX, INT_MAX - 1, INT_MAX / 2 + 1};
    for (int i = 0; i < 3; i++) {
        lpc_ctx_reset(ctx);
        x = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 4, 4});
        w = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 3, 3});
        lpc_conv2d(ctx, x, w, NULL, 1, pads[i]);
        ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
        ck_assert_msg(strstr(lpc_ctx_error(ctx), "more than 2^40 elements"), "%s",
                      lpc_ctx_error(ctx));
    }
    /* An output under 2^40 elements whose column matrix (2^24 kernel
     * elements x ~2^40 pixels) would overflow its size: refused, no UB. */
    lpc_ctx_reset(ctx);
    x = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1 << 20, 1, 1});
    w = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1 << 20, 4, 4});
    lpc_conv2d(ctx, x, w, NULL, 1, 1 << 19);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_ctx_error(ctx), "column matrix of more than 2^50"), "%s",
                  lpc_ctx_error(ctx));
    /* A large pad with a large stride stays a small output: accepted. */
    lpc_ctx_reset(ctx);
    x = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 4, 4});
    w = lpc_tensor_temp(ctx, 4, (int64_t[]){1, 1, 3, 3});
    memset(lpc_tensor_data(x), 0, 16 * sizeof(float));
    memset(lpc_tensor_data(w), 0, 9 * sizeof(float));
    lpc_tensor *y = lpc_conv2d(ctx, x, w, NULL, INT_MAX, INT_MAX / 2);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert_int_eq(lpc_tensor_dim(y, 2), 2);
    lpc_ctx_free(ctx);
}
END_TEST

/* The Winograd transforms of every kernel path this CPU runs give the
 * generic path's values bit for bit (the same operations in the same
 * order), on random tables: padding and dead lanes, short channel groups,
 * and the plane values the stores must leave alone. */
enum { WT_PLANE = 4096, WT_HW = 97, WT_STEP = 40 };

typedef struct {
    float in[LPCI_WINO_TAPS * WT_STEP];  /* input transform's V */
    float out[WT_PLANE];                 /* output transform's planes */
    float grad[LPCI_WINO_TAPS * WT_STEP]; /* gradient transform's Z */
} wino_results;

static void wino_run(const lpci_kernels *k, const lpci_wino_tables *t, const lpci_wino_geom *g,
                     const float *plane, const float *m, uint16_t live, int lanes, wino_results *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->out, plane, sizeof r->out);
    k->wino_input(t, plane, 0, live, r->in, WT_STEP);
    k->wino_output(g, t, m, WT_STEP, 0, lanes, r->out);
    k->wino_grad(g, t, plane, 0, lanes, r->grad, WT_STEP);
}

START_TEST(winograd_paths_bit_identical)
{
    static float plane[WT_PLANE], m[LPCI_WINO_TAPS * WT_STEP];
    int32_t in_idx[LPCI_WINO_TAPS * LPCI_WINO_LANES], out_off[LPCI_WINO_OUTS];
    uint16_t in_mask[LPCI_WINO_TAPS], out_valid[1];
    lpci_wino_tables t = {in_idx, out_off, in_mask, out_valid};
    lpci_wino_geom g = {0};
    g.hw = WT_HW;
    lpc_rng *rng = lpc_rng_new(11);
    lpc_cpu_path start = lpc_get_cpu_path();
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < WT_PLANE; i++)
            plane[i] = (float)(4.0 * lpc_rng_uniform(rng) - 2.0);
        for (int i = 0; i < LPCI_WINO_TAPS * WT_STEP; i++)
            m[i] = (float)(4.0 * lpc_rng_uniform(rng) - 2.0);
        for (int i = 0; i < LPCI_WINO_TAPS * LPCI_WINO_LANES; i++)
            in_idx[i] = (int32_t)lpc_rng_below(rng, WT_PLANE);
        for (int i = 0; i < LPCI_WINO_TAPS; i++)
            in_mask[i] = (uint16_t)lpc_rng_below(rng, 65536);
        /* four distinct pixels of the 16 channels' planes, as in an image */
        int32_t base = (int32_t)lpc_rng_below(rng, WT_PLANE - 16 * WT_HW);
        for (int i = 0; i < LPCI_WINO_OUTS; i++)
            out_off[i] = base + 20 * i + (int32_t)lpc_rng_below(rng, 20);
        out_valid[0] = (uint16_t)lpc_rng_below(rng, 16);
        uint16_t live = trial % 3 ? 0xFFFF : (uint16_t)lpc_rng_below(rng, 65536);
        int lanes = trial % 2 ? 16 : 1 + (int)lpc_rng_below(rng, 16);
        static wino_results want, got;
        ck_assert_int_eq(lpc_set_cpu_path(LPC_CPU_GENERIC), LPC_OK);
        wino_run(lpci_kernels_now(), &t, &g, plane, m, live, lanes, &want);
        for (int p = LPC_CPU_AVX2; p <= LPC_CPU_NEON; p++) {
            if (!lpc_cpu_path_supported((lpc_cpu_path)p))
                continue;
            ck_assert_int_eq(lpc_set_cpu_path((lpc_cpu_path)p), LPC_OK);
            wino_run(lpci_kernels_now(), &t, &g, plane, m, live, lanes, &got);
            ck_assert_msg(memcmp(&want, &got, sizeof want) == 0, "%s differs from generic (trial %d)",
                          lpc_cpu_path_name((lpc_cpu_path)p), trial);
        }
    }
    ck_assert_int_eq(lpc_set_cpu_path(start), LPC_OK);
    lpc_rng_free(rng);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("conv");
    tcase_add_test(tc, grad_conv2d);
    tcase_add_test(tc, winograd_matches_gemm);
    tcase_add_test(tc, winograd_paths_bit_identical);
    tcase_add_test(tc, winograd_thread_count_invariant);
    tcase_add_test(tc, conv_matches_reference);
    tcase_add_test(tc, grad_batchnorm2d);
    tcase_add_test(tc, grad_residual_blocks);
    tcase_add_test(tc, grad_whole_network);
    tcase_add_test(tc, fused_block_matches_composition);
    tcase_add_test(tc, batchnorm_train_and_eval);
    tcase_add_test(tc, resnet_parameter_counts);
    tcase_add_test(tc, output_shapes);
    tcase_add_test(tc, deterministic_with_two_threads);
    tcase_add_test(tc, steady_state_allocates_nothing);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, huge_padding);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
