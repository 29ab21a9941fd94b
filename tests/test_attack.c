/* Attacks (FMN, PGD, random search, gradient-masking checks): closed-form
 * minimal perturbations of linear classifiers, brute force on a small 2-D
 * network, the pixel box, determinism per seed and thread count. */
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

static lpc_module *affine(int in, int out, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *m = lpc_linear_new(in, out, 1, rng);
    lpc_rng_free(rng);
    ck_assert_ptr_nonnull(m);
    lpc_module_set_train(m, 0);
    return m;
}

static lpc_module *mlp(int in, int hidden, int out, uint64_t seed, int relu)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *m = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(m, "flat", lpc_flatten_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "fc1", lpc_linear_new(in, hidden, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "act", relu ? lpc_relu_new() : lpc_silu_new()),
                     LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(m, "fc2", lpc_linear_new(hidden, out, 1, rng)), LPC_OK);
    lpc_rng_free(rng);
    lpc_module_set_train(m, 0);
    return m;
}

static float *uniform(int64_t count, double lo, double hi, uint64_t seed)
{
    float *v = malloc((size_t)count * sizeof *v);
    lpc_rng *rng = lpc_rng_new(seed);
    for (int64_t i = 0; i < count; i++)
        v[i] = (float)(lo + (hi - lo) * lpc_rng_uniform(rng));
    lpc_rng_free(rng);
    return v;
}

/* Logits of n samples of d features (n x k, caller frees). */
static float *logits(lpc_module *m, const float *x, int64_t n, int d, int64_t *k)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_ctx_set_grad(ctx, 0);
    lpc_tensor *y = lpc_module_forward(m, ctx, lpc_tensor_from(ctx, 2, (int64_t[]){n, d}, x,
                                                               n * d));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    *k = lpc_tensor_dim(y, 1);
    float *out = malloc((size_t)(n * *k) * sizeof *out);
    memcpy(out, lpc_tensor_data(y), (size_t)(n * *k) * sizeof *out);
    lpc_ctx_free(ctx);
    return out;
}

static int argmax(const float *row, int64_t k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Closed-form minimal distances of a linear classifier: over j != y,
 * (f_y - f_j) / |w_y - w_j|_dual (dual: 2 for L2, 1 for Linf). */
static void linear_distances(lpc_module *m, const float *x, int n, int d, double *l2,
                             double *linf)
{
    int64_t k;
    float *f = logits(m, x, n, d, &k);
    const float *wt = lpc_tensor_data(lpc_module_param(m, 0)); /* k x d */
    for (int i = 0; i < n; i++) {
        int y = argmax(f + i * k, k);
        l2[i] = linf[i] = INFINITY;
        for (int j = 0; j < k; j++) {
            if (j == y)
                continue;
            double s2 = 0, s1 = 0;
            for (int q = 0; q < d; q++) {
                double dw = (double)wt[y * d + q] - wt[j * d + q];
                s2 += dw * dw;
                s1 += fabs(dw);
            }
            double gap = (double)f[i * k + y] - f[i * k + j];
            l2[i] = fmin(l2[i], gap / sqrt(s2));
            linf[i] = fmin(linf[i], gap / s1);
        }
    }
    free(f);
}

/* Two classes: FMN lands on the closed form (L2 within 0.5%, Linf, whose
 * steps approach the corner of the box gradually, within 3%). More classes: FMN follows the
 * best other class, so it may stop at a farther class's boundary, never
 * nearer than the closed form. */
START_TEST(fmn_linear_closed_form)
{
    enum { N = 20, D = 6 };
    float *x = uniform(N * D, -1, 1, 5);
    double l2[N], linf[N], norms[N], ratios[N];
    unsigned char ok[N];
    lpc_fmn_options o;
    lpc_fmn_options_init(&o);
    o.max_step = 0.2; /* inputs and distances are of order 1 */
    o.min_step = 0.002;
    for (int k = 2; k <= 4; k += 2) {
        lpc_module *m = affine(D, k, 11);
        linear_distances(m, x, N, D, l2, linf);
        for (int norm = 0; norm < 2; norm++) {
            o.norm = norm ? LPC_ATTACK_LINF : LPC_ATTACK_L2;
            ck_assert_int_eq(lpc_fmn(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), &o,
                                     LPCT_FMN_OUT(NULL, norms, ratios, ok)),
                             LPC_OK);
            int close = 0;
            for (int i = 0; i < N; i++) {
                double want = norm ? linf[i] : l2[i];
                ck_assert_msg(ok[i], "sample %d not broken (distance %g)", i, want);
                ck_assert_msg(norms[i] >= want * (1 - 1e-5), "%s sample %d: FMN %g below the "
                              "closed form %g", lpc_attack_norm_name(o.norm), i, norms[i], want);
                close += norms[i] <= want * (norm ? 1.03 : 1.005);
                double xn = 0;
                for (int q = 0; q < D; q++)
                    xn = norm ? fmax(xn, fabs(x[i * D + q]))
                              : xn + (double)x[i * D + q] * x[i * D + q];
                LPCT_ASSERT_CLOSE(ratios[i], norms[i] / (norm ? xn : sqrt(xn)), 1e-12);
            }
            ck_assert_msg(close >= (k == 2 ? N : N * 3 / 4), "%d classes, %s: %d of %d within "
                          "%s of the closed form", k, lpc_attack_norm_name(o.norm), close, N,
                          norm ? "3%" : "0.5%");
        }
        lpc_module_free(m);
    }
    free(x);
}
END_TEST

/* PGD against a two-class linear model: not one sample breaks just below
 * its closed-form distance, every one just above. */
START_TEST(pgd_linear_threshold)
{
    enum { N = 12, D = 5 };
    lpc_module *m = affine(D, 2, 21); /* two classes: the margin is linear */
    float *x = uniform(N * D, -1, 1, 9);
    double l2[N], linf[N];
    linear_distances(m, x, N, D, l2, linf);
    lpc_pgd_options o;
    lpc_pgd_options_init(&o);
    o.loss = LPC_ATTACK_LOSS_MARGIN;
    o.steps = 100;
    for (int norm = 0; norm < 2; norm++) {
        o.norm = norm ? LPC_ATTACK_LINF : LPC_ATTACK_L2;
        for (int i = 0; i < N; i++) {
            double dist = norm ? linf[i] : l2[i], radii[2] = {0.97 * dist, 1.03 * dist}, ra[2];
            unsigned char ok[2];
            ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(x + i * D, 1, D, 1, 1, NULL), radii, 2, &o,
                                     LPCT_PGD_OUT(ok, ra)),
                             LPC_OK);
            ck_assert_msg(!ok[0] && ok[1], "%s sample %d (distance %g): %d below, %d above",
                          lpc_attack_norm_name(o.norm), i, dist, ok[0], ok[1]);
            ck_assert_double_eq(ra[0], 1.0);
            ck_assert_double_eq(ra[1], 0.0);
        }
    }
    /* Cross-entropy loss, cosine steps, all samples at once: no sample breaks
     * below its distance, and at twice the largest distance every one does. */
    o.loss = LPC_ATTACK_LOSS_CROSS_ENTROPY;
    o.schedule = LPC_ATTACK_STEP_COSINE;
    o.norm = LPC_ATTACK_L2;
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < N; i++) {
        lo = fmin(lo, l2[i]);
        hi = fmax(hi, l2[i]);
    }
    double radii[2] = {0.97 * lo, 2 * hi}, ra[2];
    ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), radii, 2, &o,
                             LPCT_PGD_OUT(NULL, ra)), LPC_OK);
    ck_assert_double_eq(ra[0], 1.0);
    ck_assert_double_eq(ra[1], 0.0);
    /* An all-zero sample is a valid input (only FMN's ratios divide by |x|). */
    const float zero[D] = {0};
    ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(zero, 1, D, 1, 1, NULL), radii, 2, &o,
                             LPCT_PGD_OUT(NULL, ra)), LPC_OK);
    ck_assert_int_eq(lpc_random_search(m, LPCT_SAMPLES(zero, 1, D, 1, 1, NULL), radii, 2, NULL,
                                       LPCT_PGD_OUT(NULL, ra)),
                     LPC_OK);
    free(x);
    lpc_module_free(m);
}
END_TEST

/* Brute force on 2-D inputs: along each of 720 directions, the first
 * change of prediction (a scan, then bisection of every direction at once);
 * the smallest over the directions in L2 and in Linf. */
static void brute_force(lpc_module *m, const float *x0, double *l2, double *linf)
{
    enum { DIRS = 720, SCAN = 400 };
    const double tmax = 4.0;
    int64_t k;
    float *f0 = logits(m, x0, 1, 2, &k);
    int y = argmax(f0, k);
    free(f0);
    float *pts = malloc(SCAN * 2 * sizeof *pts);
    double lo[DIRS], hi[DIRS], u[DIRS][2];
    for (int dir = 0; dir < DIRS; dir++) {
        double th = 2 * M_PI * dir / DIRS;
        u[dir][0] = cos(th);
        u[dir][1] = sin(th);
        for (int s = 0; s < SCAN; s++)
            for (int q = 0; q < 2; q++)
                pts[s * 2 + q] = (float)(x0[q] + tmax * (s + 1) / SCAN * u[dir][q]);
        float *f = logits(m, pts, SCAN, 2, &k);
        int s = 0;
        while (s < SCAN && argmax(f + s * k, k) == y)
            s++;
        free(f);
        lo[dir] = tmax * s / SCAN;
        hi[dir] = s == SCAN ? INFINITY : tmax * (s + 1) / SCAN;
    }
    float bis[DIRS * 2];
    for (int it = 0; it < 30; it++) {
        for (int dir = 0; dir < DIRS; dir++) {
            double mid = isfinite(hi[dir]) ? 0.5 * (lo[dir] + hi[dir]) : 0.0;
            for (int q = 0; q < 2; q++)
                bis[dir * 2 + q] = (float)(x0[q] + mid * u[dir][q]);
        }
        float *f = logits(m, bis, DIRS, 2, &k);
        for (int dir = 0; dir < DIRS; dir++) {
            if (!isfinite(hi[dir]))
                continue;
            if (argmax(f + dir * k, k) == y)
                lo[dir] = 0.5 * (lo[dir] + hi[dir]);
            else
                hi[dir] = 0.5 * (lo[dir] + hi[dir]);
        }
        free(f);
    }
    *l2 = *linf = INFINITY;
    for (int dir = 0; dir < DIRS; dir++) {
        *l2 = fmin(*l2, hi[dir]);
        *linf = fmin(*linf, hi[dir] * fmax(fabs(u[dir][0]), fabs(u[dir][1])));
    }
    free(pts);
}

START_TEST(fmn_small_network_brute_force)
{
    enum { N = 8 };
    for (int relu = 0; relu < 2; relu++) {
        lpc_module *m = mlp(2, 12, 3, 31 + relu, relu);
        float *x = uniform(N * 2, -1, 1, 13);
        double norms[2][N];
        unsigned char ok[N];
        lpc_fmn_options o;
        lpc_fmn_options_init(&o);
        o.max_step = 0.2;
        o.min_step = 0.002;
        o.steps = 200;
        for (int norm = 0; norm < 2; norm++) {
            o.norm = norm ? LPC_ATTACK_LINF : LPC_ATTACK_L2;
            ck_assert_int_eq(lpc_fmn(m, LPCT_SAMPLES(x, N, 2, 1, 1, NULL), &o,
                                     LPCT_FMN_OUT(NULL, norms[norm], NULL, ok)),
                             LPC_OK);
        }
        int close = 0, total = 0;
        for (int i = 0; i < N; i++) {
            double bl2, blinf;
            brute_force(m, x + 2 * i, &bl2, &blinf);
            if (!isfinite(bl2))
                continue;
            double got[2] = {norms[0][i], norms[1][i]}, want[2] = {bl2, blinf};
            for (int norm = 0; norm < 2; norm++) {
                /* An adversarial point is never closer than the boundary. */
                ck_assert_msg(got[norm] >= want[norm] * (1 - 2e-3), "%s sample %d: FMN %g below "
                              "brute force %g", relu ? "relu" : "silu", i, got[norm], want[norm]);
                close += got[norm] <= want[norm] * 1.01;
                total++;
            }
        }
        /* FMN is a local search: where it finds the nearest boundary it lands
         * on it; allow one sample in four a farther boundary. */
        ck_assert_msg(total >= 8 && close >= total * 3 / 4, "%s: %d of %d within 1%%",
                      relu ? "relu" : "silu", close, total);
        free(x);
        lpc_module_free(m);
    }
}
END_TEST

/* Pixel domain: inputs normalised per channel from pixels in [0,1]; the
 * adversarial inputs x + r map back to pixels in [0,1]. */
START_TEST(pixel_box_respected)
{
    enum { N = 10, C = 2, H = 3, W = 3, D = C * H * W };
    const float mean[C] = {0.4f, 0.6f}, std[C] = {0.2f, 0.3f};
    float *pix = uniform(N * D, 0, 1, 17), *x = malloc(N * D * sizeof *x);
    float *r = malloc(N * D * sizeof *r);
    for (int i = 0; i < N * D; i++)
        x[i] = (pix[i] - mean[i % D / (H * W)]) / std[i % D / (H * W)];
    lpc_module *m = mlp(D, 16, 4, 41, 0);
    lpc_fmn_options o;
    lpc_fmn_options_init(&o);
    o.domain = LPC_ATTACK_DOMAIN_PIXEL_BOX;
    o.mean = mean;
    o.std = std;
    o.max_step = 0.3;
    o.min_step = 0.003;
    double norms[N];
    unsigned char ok[N];
    for (int norm = 0; norm < 2; norm++) {
        o.norm = norm ? LPC_ATTACK_LINF : LPC_ATTACK_L2;
        ck_assert_int_eq(lpc_fmn(m, LPCT_SAMPLES(x, N, C, H, W, NULL), &o,
                                 LPCT_FMN_OUT(r, norms, NULL, ok)), LPC_OK);
        int broken = 0;
        for (int i = 0; i < N; i++) {
            double nr = 0;
            for (int q = 0; q < D; q++) {
                int ch = q / (H * W);
                double p = (x[i * D + q] + r[i * D + q]) * std[ch] + mean[ch];
                ck_assert_msg(p >= -1e-5 && p <= 1 + 1e-5, "pixel %g outside [0,1]", p);
                double dp = r[i * D + q] * std[ch]; /* norms are in pixel units */
                nr = norm ? fmax(nr, fabs(dp)) : nr + dp * dp;
            }
            if (ok[i]) {
                broken++;
                LPCT_ASSERT_CLOSE(norm ? nr : sqrt(nr), norms[i], 1e-5);
            }
        }
        ck_assert_int_gt(broken, 0);
    }
    /* PGD and random search in the box: the whole box (Linf radius 1) breaks
     * at least as many samples as radius 0.05. */
    lpc_pgd_options po;
    lpc_pgd_options_init(&po);
    po.domain = LPC_ATTACK_DOMAIN_PIXEL_BOX;
    po.mean = mean;
    po.std = std;
    double radii[2] = {0.05, 1.0}, ra[2];
    ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(x, N, C, H, W, NULL), radii, 2, &po,
                             LPCT_PGD_OUT(NULL, ra)), LPC_OK);
    ck_assert(ra[1] <= ra[0]);
    lpc_random_search_options ro;
    lpc_random_search_options_init(&ro);
    ro.domain = LPC_ATTACK_DOMAIN_PIXEL_BOX;
    ro.mean = mean;
    ro.std = std;
    ro.queries = 200;
    ck_assert_int_eq(lpc_random_search(m, LPCT_SAMPLES(x, N, C, H, W, NULL), radii, 2, &ro,
                                       LPCT_PGD_OUT(NULL, ra)), LPC_OK);
    ck_assert(ra[1] <= ra[0]);
    free(pix);
    free(x);
    free(r);
    lpc_module_free(m);
}
END_TEST

/* Same seed: bit-identical results, with 1 and 2 threads. */
START_TEST(deterministic)
{
    enum { N = 300, D = 8 }; /* more than one chunk */
    lpc_module *m = mlp(D, 16, 5, 51, 1);
    float *x = uniform(N * D, -1, 1, 19);
    float *r[2] = {malloc(N * D * sizeof(float)), malloc(N * D * sizeof(float))};
    unsigned char pok[2][N * 2], rok[2][N * 2];
    double radii[2] = {0.1, 0.3}, pra[2][2], rra[2][2];
    int threads = lpc_get_num_threads();
    for (int run = 0; run < 2; run++) {
        lpc_set_num_threads(run ? 2 : 1);
        ck_assert_int_eq(lpc_fmn(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), NULL,
                                 LPCT_FMN_OUT(r[run], NULL, NULL, NULL)), LPC_OK);
        lpc_pgd_options po;
        lpc_pgd_options_init(&po);
        po.seed = 99;
        po.restarts = 2;
        po.steps = 10;
        ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), radii, 2, &po,
                                 LPCT_PGD_OUT(pok[run], pra[run])),
                         LPC_OK);
        lpc_random_search_options ro;
        lpc_random_search_options_init(&ro);
        ro.seed = 99;
        ro.queries = 50;
        ro.norm = LPC_ATTACK_L2;
        ck_assert_int_eq(lpc_random_search(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), radii, 2, &ro,
                                           LPCT_PGD_OUT(rok[run], rra[run])), LPC_OK);
    }
    lpc_set_num_threads(threads);
    ck_assert_mem_eq(r[0], r[1], N * D * sizeof(float));
    ck_assert_mem_eq(pok[0], pok[1], sizeof pok[0]);
    ck_assert_mem_eq(rok[0], rok[1], sizeof rok[0]);
    ck_assert_mem_eq(pra[0], pra[1], sizeof pra[0]);
    ck_assert_mem_eq(rra[0], rra[1], sizeof rra[0]);
    free(r[0]);
    free(r[1]);
    free(x);
    lpc_module_free(m);
}
END_TEST

/* Labels: a sample given a wrong label is broken at distance 0. */
START_TEST(wrong_labels_break_at_zero)
{
    enum { N = 4, D = 3 };
    lpc_module *m = affine(D, 3, 61);
    float *x = uniform(N * D, -1, 1, 23);
    int64_t k;
    float *f = logits(m, x, N, D, &k);
    int32_t y[N];
    for (int i = 0; i < N; i++)
        y[i] = (argmax(f + i * k, k) + (i % 2)) % 3; /* odd samples get a wrong label */
    double norms[N], radius = 1e-6, ra;
    unsigned char ok[N];
    ck_assert_int_eq(lpc_fmn(m, LPCT_SAMPLES(x, N, D, 1, 1, y), NULL,
                             LPCT_FMN_OUT(NULL, norms, NULL, ok)), LPC_OK);
    for (int i = 1; i < N; i += 2) {
        ck_assert(ok[i]);
        ck_assert_double_eq(norms[i], 0.0);
    }
    ck_assert_int_eq(lpc_pgd(m, LPCT_SAMPLES(x, N, D, 1, 1, y), &radius, 1, NULL,
                             LPCT_PGD_OUT(NULL, &ra)), LPC_OK);
    ck_assert_double_eq(ra, 0.5);
    ck_assert_int_eq(lpc_random_search(m, LPCT_SAMPLES(x, N, D, 1, 1, y), &radius, 1, NULL,
                                       LPCT_PGD_OUT(NULL, &ra)), LPC_OK);
    ck_assert_double_eq(ra, 0.5);
    free(f);
    free(x);
    lpc_module_free(m);
}
END_TEST

/* Random search finds the Linf corner of a linear classifier in 2-D and
 * stays weaker than PGD's reach on a small network. */
START_TEST(random_search_linear)
{
    enum { N = 10, D = 2 };
    lpc_module *m = affine(D, 3, 71);
    float *x = uniform(N * D, -1, 1, 29);
    double l2[N], linf[N];
    linear_distances(m, x, N, D, l2, linf);
    lpc_random_search_options o;
    lpc_random_search_options_init(&o);
    o.queries = 100;
    for (int norm = 0; norm < 2; norm++) {
        o.norm = norm ? LPC_ATTACK_LINF : LPC_ATTACK_L2;
        for (int i = 0; i < N; i++) {
            double dist = norm ? linf[i] : l2[i], radii[2] = {0.97 * dist, 1.2 * dist}, ra[2];
            unsigned char ok[2];
            ck_assert_int_eq(lpc_random_search(m, LPCT_SAMPLES(x + i * D, 1, D, 1, 1, NULL), radii,
                                               2, &o, LPCT_PGD_OUT(ok, ra)), LPC_OK);
            ck_assert_msg(!ok[0] && ok[1], "%s sample %d: %d below, %d above",
                          lpc_attack_norm_name(o.norm), i, ok[0], ok[1]);
        }
    }
    free(x);
    lpc_module_free(m);
}
END_TEST

/* The gradient-masking checks pass on a plain network and name themselves. */
START_TEST(checks_plain_network)
{
    enum { N = 40, D = 6 };
    lpc_module *m = mlp(D, 24, 4, 81, 1);
    float *x = uniform(N * D, -1, 1, 37);
    lpc_attack_checks_options o;
    lpc_attack_checks_options_init(&o);
    o.radius = 0.05;
    o.queries = 300;
    unsigned passed = 0;
    double v[LPC_ATTACK_CHECK_COUNT];
    ck_assert_int_eq(lpc_attack_checks(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), &o, &passed, v),
                     LPC_OK);
    for (int c = 0; c < LPC_ATTACK_CHECK_COUNT; c++) {
        ck_assert_ptr_nonnull(lpc_attack_check_name((lpc_attack_check)c));
        ck_assert_msg(passed & (1u << c), "check %s failed: value %g",
                      lpc_attack_check_name((lpc_attack_check)c), v[c]);
    }
    ck_assert_double_eq(v[LPC_ATTACK_CHECK_UNBOUNDED_PGD], 0.0);
    ck_assert(v[LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL] > 0.5);
    ck_assert_ptr_null(lpc_attack_check_name(LPC_ATTACK_CHECK_COUNT));
    free(x);
    lpc_module_free(m);
}
END_TEST

/* Masked gradients: logits scaled by 1e6 saturate the softmax, so the
 * cross-entropy gradient is exactly 0 and PGD never moves from its start,
 * while random search on the margin breaks every sample: black-box-weaker
 * fails. */
START_TEST(checks_flag_masked_gradients)
{
    enum { N = 10, D = 2 };
    lpc_module *m = affine(D, 3, 91);
    for (int i = 0; i < 2; i++) {
        lpc_tensor *t = lpc_module_param(m, i);
        for (int64_t q = 0; q < lpc_tensor_numel(t); q++)
            lpc_tensor_data(t)[q] *= 1e6f;
    }
    float *x = uniform(N * D, -1, 1, 43);
    double l2[N], linf[N], far = 0;
    linear_distances(m, x, N, D, l2, linf);
    for (int i = 0; i < N; i++)
        far = fmax(far, linf[i]);
    lpc_attack_checks_options o;
    lpc_attack_checks_options_init(&o);
    o.radius = 1.5 * far;
    o.queries = 300;
    unsigned passed = 0;
    double v[LPC_ATTACK_CHECK_COUNT];
    ck_assert_int_eq(lpc_attack_checks(m, LPCT_SAMPLES(x, N, D, 1, 1, NULL), &o, &passed, v),
                     LPC_OK);
    ck_assert_msg(!(passed & (1u << LPC_ATTACK_CHECK_BLACK_BOX_WEAKER)), "value %g",
                  v[LPC_ATTACK_CHECK_BLACK_BOX_WEAKER]);
    /* (PGD's random starts alone break the samples nearest the boundary.) */
    ck_assert(v[LPC_ATTACK_CHECK_BLACK_BOX_WEAKER] <= -0.3);
    /* The margin-based checks see through it. */
    ck_assert(passed & (1u << LPC_ATTACK_CHECK_UNBOUNDED_PGD));
    ck_assert(passed & (1u << LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL));
    free(x);
    lpc_module_free(m);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(lpc_attack_norm_name(LPC_ATTACK_L2), "l2");
    ck_assert_str_eq(lpc_attack_norm_name(LPC_ATTACK_LINF), "linf");
    ck_assert_ptr_null(lpc_attack_norm_name((lpc_attack_norm)2));
    ck_assert_str_eq(lpc_attack_domain_name(LPC_ATTACK_DOMAIN_PIXEL_BOX), "pixel-box");
    ck_assert_str_eq(lpc_attack_domain_name(LPC_ATTACK_DOMAIN_NORMALISED), "normalised");
    ck_assert_ptr_null(lpc_attack_domain_name((lpc_attack_domain)-1));
    ck_assert_str_eq(lpc_attack_loss_name(LPC_ATTACK_LOSS_MARGIN), "margin");
    ck_assert_str_eq(lpc_attack_loss_name(LPC_ATTACK_LOSS_CROSS_ENTROPY), "cross-entropy");
    ck_assert_ptr_null(lpc_attack_loss_name((lpc_attack_loss)7));
    ck_assert_str_eq(lpc_attack_schedule_name(LPC_ATTACK_STEP_COSINE), "cosine");
    ck_assert_str_eq(lpc_attack_schedule_name(LPC_ATTACK_STEP_CONSTANT), "constant");
    ck_assert_ptr_null(lpc_attack_schedule_name((lpc_attack_schedule)2));
    ck_assert_str_eq(lpc_attack_check_name(LPC_ATTACK_CHECK_BLACK_BOX_WEAKER), "black-box-weaker");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attack");
    TCase *tc = tcase_create("attack");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fmn_linear_closed_form);
    tcase_add_test(tc, pgd_linear_threshold);
    tcase_add_test(tc, fmn_small_network_brute_force);
    tcase_add_test(tc, pixel_box_respected);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, wrong_labels_break_at_zero);
    tcase_add_test(tc, random_search_linear);
    tcase_add_test(tc, checks_plain_network);
    tcase_add_test(tc, checks_flag_masked_gradients);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
