/* Analysis functions: every doc/method.md §8 analysis test vector, hand-computed
 * small cases, the eigensolver on known spectra, and misuse. */
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lpct.h"
#include "analysis/analysis_internal.h"

#define TIGHT 1e-9

#define ASSERT_FAILS(call, code)                                                          \
    do {                                                                                  \
        lpc_clear_error();                                                                \
        ck_assert_int_eq((call), (code));                                                 \
        ck_assert_msg(lpc_last_error()[0] != '\0', #call ": no error message");           \
    } while (0)

/* Brute-force k-th neighbour entropy, the formula of doc/method.md §6 verbatim. */
static double naive_kl(const float *z, int n, int p, int k)
{
    double *d = malloc((size_t)n * sizeof *d), sum = 0.0, psi_n = 0.0, psi_k = 0.0;
    for (int i = 0; i < n; i++) {
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            double s = 0.0;
            for (int t = 0; t < p; t++)
                s += ((double)z[i * p + t] - z[j * p + t]) * ((double)z[i * p + t] - z[j * p + t]);
            d[m++] = s;
        }
        for (int a = 0; a < k; a++) /* partial selection sort: k-th smallest */
            for (int b = a + 1; b < m; b++)
                if (d[b] < d[a]) {
                    double t = d[a];
                    d[a] = d[b];
                    d[b] = t;
                }
        sum += log(sqrt(d[k - 1]) + 1e-10);
    }
    free(d);
    for (int i = 1; i < n; i++)
        psi_n += 1.0 / i;
    for (int i = 1; i < k; i++)
        psi_k += 1.0 / i;
    return psi_n - psi_k + lpc_ln_unit_ball_volume(p) + (double)p / n * sum;
}

START_TEST(unit_ball_volume)
{
    LPCT_ASSERT_CLOSE(lpc_ln_unit_ball_volume(1), 0.6931471806, 1e-10);
    LPCT_ASSERT_CLOSE(lpc_ln_unit_ball_volume(2), 1.1447298858, 1e-10);
    LPCT_ASSERT_CLOSE(lpc_ln_unit_ball_volume(3), 1.4324119583, 1e-10);
    ck_assert(lpc_ln_unit_ball_volume(0) == 0.0);
    ck_assert(isnan(lpc_ln_unit_ball_volume(-1)));
}
END_TEST

START_TEST(kl_entropy_vectors)
{
    const float x1[5] = {0, 1, 3, 6, 10};
    const float x2[12] = {0, 0, 1, 0, 0, 1, 1, 1, 0.5f, 0.5f, 2, 2};
    double h, hp;
    ck_assert_int_eq(lpc_kl_entropy(x1, 5, 1, 1, 0, &h, &hp), LPC_OK);
    LPCT_ASSERT_CLOSE(h, 3.4120912800, TIGHT);
    LPCT_ASSERT_CLOSE(hp, 3.4120912800, TIGHT);
    ck_assert_int_eq(lpc_kl_entropy(x1, 5, 1, 2, 0, &h, NULL), LPC_OK);
    LPCT_ASSERT_CLOSE(h, 3.0209957675, TIGHT);
    ck_assert_int_eq(lpc_kl_entropy(x2, 6, 2, 1, 0, &h, &hp), LPC_OK);
    LPCT_ASSERT_CLOSE(h, 2.9659650988, TIGHT);
    LPCT_ASSERT_CLOSE(hp, 2.9659650988 / 2, TIGHT);
    ck_assert_int_eq(lpc_kl_entropy(x2, 6, 2, 3, 0, &h, NULL), LPC_OK);
    LPCT_ASSERT_CLOSE(h, 2.0807783412, TIGHT);
}
END_TEST

/* The estimator's spread at N = 5000 is about 0.02 nats (2-D), so a fixed
 * seed keeps this check deterministic rather than flaky. */
START_TEST(kl_entropy_standard_normal)
{
    lpc_rng *r = lpc_rng_new(1);
    float *z = malloc(5000 * 2 * sizeof *z);
    for (int d = 1; d <= 2; d++) {
        for (int i = 0; i < 5000 * d; i++)
            z[i] = (float)lpc_rng_normal(r);
        double h;
        ck_assert_int_eq(lpc_kl_entropy(z, 5000, d, 3, 0, &h, NULL), LPC_OK);
        ck_assert_msg(fabs(h - 1.4189385332 * d) < 0.05, "d=%d: H = %.6f", d, h);
    }
    free(z);
    lpc_rng_free(r);
}
END_TEST

/* Larger than one GEMM block in both directions, with duplicates, against
 * brute force; the result must not depend on the thread count. */
START_TEST(kl_entropy_blocks_and_threads)
{
    /* An odd and an even number of 256-row tiles, both with a partial last
     * tile; a width that is no multiple of 16 with k = 21; blocks of two
     * tiles with a partial last block. */
    const int shapes[3][3] = {{2600, 5, 4}, {1100, 37, 21}, {8300, 3, 2}};
    for (int c = 0; c < 3; c++) {
        int n = shapes[c][0], p = shapes[c][1], k = shapes[c][2];
        lpc_rng *r = lpc_rng_new(11);
        float *z = malloc((size_t)n * p * sizeof *z);
        for (int i = 0; i < n * p; i++)
            z[i] = (float)(lpc_rng_normal(r) * (1 + i % p));
        memcpy(z + 100 * p, z + 7 * p, p * sizeof *z); /* a duplicate pair */
        double ref = naive_kl(z, n, p, k), h1, h2;
        lpc_set_num_threads(1);
        ck_assert_int_eq(lpc_kl_entropy(z, n, p, k, 0, &h1, NULL), LPC_OK);
        lpc_set_num_threads(2);
        ck_assert_int_eq(lpc_kl_entropy(z, n, p, k, 0, &h2, NULL), LPC_OK);
        lpc_set_num_threads(1);
        LPCT_ASSERT_CLOSE(h1, ref, 1e-12);
        ck_assert(h1 == h2);
        free(z);
        lpc_rng_free(r);
    }
}
END_TEST

/* Tight clusters far from the origin: the float GEMM cannot resolve the
 * neighbours, so rows go through the double pass; still exact. */
START_TEST(kl_entropy_collapsed_clusters)
{
    int n = 700, p = 4, k = 5;
    lpc_rng *r = lpc_rng_new(13);
    float *z = malloc((size_t)n * p * sizeof *z);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            z[i * p + j] = (float)(((i % 3) == j ? 300.0 : -200.0) + 1e-2 * lpc_rng_normal(r));
    double h, ref = naive_kl(z, n, p, k);
    ck_assert_int_eq(lpc_kl_entropy(z, n, p, k, 0, &h, NULL), LPC_OK);
    LPCT_ASSERT_CLOSE(h, ref, 1e-9);
    free(z);
    lpc_rng_free(r);
}
END_TEST

/* Standardising removes per-dimension scales and shifts; without it, an
 * isotropic scale s shifts the entropy by P ln(s). */
START_TEST(kl_entropy_standardize)
{
    int n = 300, p = 3;
    lpc_rng *r = lpc_rng_new(5);
    float *z = malloc((size_t)n * p * sizeof *z), *y = malloc((size_t)n * p * sizeof *y);
    const float scale[3] = {4.0f, 0.5f, 2.0f};
    for (int i = 0; i < n * p; i++) {
        z[i] = (float)lpc_rng_normal(r);
        y[i] = z[i] * scale[i % p] + 3.0f;
    }
    double hz, hy, hz_std, hy_std, hy_per;
    float *iso = malloc((size_t)n * p * sizeof *iso);
    for (int i = 0; i < n * p; i++)
        iso[i] = z[i] * 4.0f - 1.0f;
    ck_assert_int_eq(lpc_kl_entropy(z, n, p, 0, 0, &hz, NULL), LPC_OK);
    ck_assert_int_eq(lpc_kl_entropy(iso, n, p, 0, 0, &hy, NULL), LPC_OK);
    LPCT_ASSERT_CLOSE(hy, hz + p * log(4.0), 1e-6);
    free(iso);
    ck_assert_int_eq(lpc_kl_entropy(z, n, p, 20, LPC_KL_STANDARDIZE, &hz_std, NULL), LPC_OK);
    ck_assert_int_eq(lpc_kl_entropy(y, n, p, 20, LPC_KL_STANDARDIZE, &hy_std, &hy_per), LPC_OK);
    LPCT_ASSERT_CLOSE(hy_std, hz_std, 1e-5);
    LPCT_ASSERT_CLOSE(hy_per, hy_std / p, 1e-12);
    free(z);
    free(y);
    lpc_rng_free(r);
}
END_TEST

START_TEST(gmm_vector)
{
    const double x[18] = {-2.1, -1.7, -1.5, -1.2, -0.9, -0.8, -0.3, 0.4, 1.0,
                          1.4,  1.9,  2.2,  2.5,  2.9,  3.3,  3.6,  4.0, 5.2};
    double w[2], m[2], v[2], l;
    ck_assert_int_eq(lpc_gmm1d_fit(x, 18, w, m, v, &l), LPC_OK);
    LPCT_ASSERT_CLOSE(w[0], 0.3677747778, 1e-8);
    LPCT_ASSERT_CLOSE(w[1], 0.6322252222, 1e-8);
    LPCT_ASSERT_CLOSE(m[0], -1.2367289922, 1e-8);
    LPCT_ASSERT_CLOSE(m[1], 2.4680971765, 1e-8);
    LPCT_ASSERT_CLOSE(v[0], 0.3236824919, 1e-8);
    LPCT_ASSERT_CLOSE(v[1], 2.1142622439, 1e-8);
    LPCT_ASSERT_CLOSE(l, -2.0150263853, 1e-9);
}
END_TEST

START_TEST(binarity)
{
    int n = 400, p = 2;
    lpc_rng *r = lpc_rng_new(3);
    float *z = malloc((size_t)n * p * sizeof *z);
    for (int i = 0; i < n; i++) {
        z[i * p] = (float)((i % 3 ? 1.0 : -1.0) + 0.01 * lpc_rng_normal(r)); /* binary */
        z[i * p + 1] = (float)lpc_rng_normal(r);                             /* Gaussian */
    }
    lpc_binarity *b = NULL;
    ck_assert_int_eq(lpc_binarity_compute(z, n, p, &b), LPC_OK);
    double l[2], s[2], mu[2], v;
    for (int j = 0; j < p; j++) {
        ck_assert_int_eq(lpc_binarity_dim(b, j, &l[j], &s[j], &mu[j]), LPC_OK);
        /* Same as fitting the standardised column directly. */
        double *x = malloc((size_t)n * sizeof *x), mean = 0, var = 0, w[2], m[2], vv[2], ll;
        for (int i = 0; i < n; i++)
            mean += z[i * p + j];
        mean /= n;
        for (int i = 0; i < n; i++)
            var += (z[i * p + j] - mean) * (z[i * p + j] - mean);
        for (int i = 0; i < n; i++)
            x[i] = (z[i * p + j] - mean) / sqrt(var / n);
        ck_assert_int_eq(lpc_gmm1d_fit(x, n, w, m, vv, &ll), LPC_OK);
        LPCT_ASSERT_CLOSE(l[j], ll, 1e-12);
        LPCT_ASSERT_CLOSE(s[j], (sqrt(vv[0]) + sqrt(vv[1])) / 2, 1e-12);
        LPCT_ASSERT_CLOSE(mu[j], fabs(m[0] - m[1]) / ((sqrt(vv[0]) + sqrt(vv[1])) / 2), 1e-12);
        free(x);
    }
    ck_assert_msg(mu[0] > 50 && mu[1] < 3, "mu = %g, %g", mu[0], mu[1]);
    ck_assert_msg(l[0] > l[1], "binary dimension should fit better");
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_L, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, (l[0] + l[1]) / 2, 1e-12);
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_SIGMA, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, (s[0] + s[1]) / 2, 1e-12);
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_MU, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, (mu[0] + mu[1]) / 2, 1e-12);
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_L_MIN, &v), LPC_OK);
    ck_assert(v == fmin(l[0], l[1]));
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_SIGMA_MIN, &v), LPC_OK);
    ck_assert(v == fmin(s[0], s[1]));
    ck_assert_int_eq(lpc_binarity_get(b, LPC_BINARITY_MU_MIN, &v), LPC_OK);
    ck_assert(v == fmin(mu[0], mu[1]));
    ASSERT_FAILS(lpc_binarity_get(b, (lpc_binarity_metric)99, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_dim(b, 2, NULL, NULL, NULL), LPC_E_ARG);
    lpc_binarity_free(b);
    lpc_binarity_free(NULL);
    free(z);
    lpc_rng_free(r);
}
END_TEST

static const float ex2_z[12] = {2, 0, 3, 1, 0, 2, -1, 3, -2, -1, -1, -2};
static const int32_t ex2_y[6] = {0, 0, 1, 1, 2, 2};
static const float ex2_w[6] = {1, 0, 0, 1, -1, -1};

static double nc_value(const lpc_nc *nc, lpc_nc_metric m)
{
    double v = NAN;
    ck_assert_int_eq(lpc_nc_get(nc, m, &v), LPC_OK);
    return v;
}

START_TEST(neural_collapse_ex2)
{
    lpc_nc *nc = NULL;
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, ex2_w, NULL, NULL, &nc), LPC_OK);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1), 0.0688775510, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1_WEIGHTED), 0.0688775510 / 2, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_EQUIANGULARITY), 0.1341882645, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_MAX_ANGLE), 0.1167704161, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC3), 0.0404082058, 1e-9);
    /* mu_G = (1/6, 1/2); centred means (7/3, 0), (-2/3, 2), (-5/3, -2). */
    double nr[3] = {7.0 / 3, sqrt(40.0 / 9), sqrt(61.0 / 9)}, mean = (nr[0] + nr[1] + nr[2]) / 3;
    double sd = sqrt(((nr[0] - mean) * (nr[0] - mean) + (nr[1] - mean) * (nr[1] - mean) +
                      (nr[2] - mean) * (nr[2] - mean)) / 3);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_EQUINORM), sd / mean, 1e-12);
    ck_assert(nc_value(nc, LPC_NC_NC4) == 0.0);
    lpc_nc_free(nc);

    const float bias[3] = {2.5f, 0, 0};
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, ex2_w, bias, NULL, &nc), LPC_OK);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC4), 1.0 / 6, 1e-15);
    lpc_nc_free(nc);

    /* Given predictions replace argmax(Wz + b); no W: NC3 unavailable. */
    const int32_t pred[6] = {0, 0, 0, 1, 2, 2};
    double v;
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, pred, &nc), LPC_OK);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC4), 1.0 / 6, 1e-15);
    ASSERT_FAILS(lpc_nc_get(nc, LPC_NC_NC3, &v), LPC_E_STATE);
    ASSERT_FAILS(lpc_nc_get(nc, (lpc_nc_metric)-1, &v), LPC_E_ARG);
    lpc_nc_free(nc);
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, NULL, &nc), LPC_OK);
    ASSERT_FAILS(lpc_nc_get(nc, LPC_NC_NC4, &v), LPC_E_STATE);
    lpc_nc_free(nc);
    lpc_nc_free(NULL);
}
END_TEST

/* The measures of rhubarbwu/neural-collapse and nc-toolbox on EX2, by hand:
 * centred means (7/3, 0), (-2/3, 2), (-5/3, -2), so M M^T = (1/9) [[49, -14, -35],
 * [-14, 40, -26], [-35, -26, 61]] and Tr(Sigma_B) = (1/3)(150/9) = 50/9; every
 * sample is 1/sqrt(2) from its class mean: V_c = 1/2, Tr(Sigma_W) = 1/2. */
START_TEST(neural_collapse_library_metrics)
{
    lpc_nc *nc = NULL;
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, ex2_w, NULL, NULL, &nc), LPC_OK);
    /* Sigma_B has rank K - 1 = 2: the top-(K-1) inverse is the pseudo-inverse. */
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1_SVD), 0.0688775510, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1_QUOTIENT), 0.5 / (50.0 / 9), 1e-14);
    /* |mu_c - mu_c'|^2 = 13, 20, 17: CDNV = mean of 0.5/13, 0.5/20, 0.5/17. */
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_CDNV), (1.0 / 26 + 1.0 / 40 + 1.0 / 34) / 3, 1e-14);
    /* | G/|G|_F - (I - 11^T/3)/sqrt(2) |_F with |9 G|_F = sqrt(11916). */
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_ETF_ERROR), 0.2381067285038805, 1e-12);
    /* W M: rows (7/3, -2/3, -5/3), (0, 2, -2), (-7/3, -4/3, 11/3). */
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_SELF_DUALITY), 0.3851750257414116, 1e-12);
    /* cos(w_c, mu_c - mu_G) = 1, 6/sqrt(40), 11/sqrt(122): CoV. */
    double cs[3] = {1.0, 6.0 / sqrt(40.0), 11.0 / sqrt(122.0)}, mean = (cs[0] + cs[1] + cs[2]) / 3;
    double var = ((cs[0] - mean) * (cs[0] - mean) + (cs[1] - mean) * (cs[1] - mean) +
                  (cs[2] - mean) * (cs[2] - mean)) / 3;
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_UNIFORM_DUALITY), sqrt(var) / mean, 1e-13);
    LPCT_ASSERT_CLOSE(sqrt(var) / mean, 0.0237216325344491, 1e-12);
    lpc_nc_free(nc);
    /* Without W: the duality measures are unavailable, the rest are there. */
    double v;
    ck_assert_int_eq(lpc_nc_compute(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, NULL, &nc), LPC_OK);
    ASSERT_FAILS(lpc_nc_get(nc, LPC_NC_SELF_DUALITY, &v), LPC_E_STATE);
    ASSERT_FAILS(lpc_nc_get(nc, LPC_NC_UNIFORM_DUALITY, &v), LPC_E_STATE);
    ASSERT_FAILS(lpc_nc_get(nc, (lpc_nc_metric)LPC_NC_METRIC_COUNT, &v), LPC_E_ARG);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_CDNV), (1.0 / 26 + 1.0 / 40 + 1.0 / 34) / 3, 1e-14);
    lpc_nc_free(nc);
}
END_TEST

/* The authors' conventions on EX2: each class has two members, so the
 * per-class unbiased covariance is twice the pooled 1/N one (1/(K (N_c - 1))
 * = 1/3 against 1/N = 1/6): NC1 and the quotient double. Predicted classes
 * equal to the labels change nothing; the cutoff P * eps keeps both
 * eigenvalues. */
START_TEST(neural_collapse_conventions)
{
    lpc_nc *nc = NULL;
    unsigned all = LPC_NC_BY_PREDICTION | LPC_NC_CLASS_COVARIANCE | LPC_NC_CUTOFF_P;
    ck_assert_int_eq(lpc_nc_compute_flags(ex2_z, 6, 2, ex2_y, 3, ex2_w, NULL, NULL, all, &nc),
                     LPC_OK);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1), 2 * 0.0688775510, 1e-9);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1_QUOTIENT), 2 * 0.5 / (50.0 / 9), 1e-14);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC3), 0.0404082058, 1e-9);
    lpc_nc_free(nc);
    /* Classes by given predictions: sample 3 joins class 1 -> class 1 = {(0,2)}. */
    const int32_t pred[6] = {0, 0, 1, 2, 2, 2};
    ck_assert_int_eq(lpc_nc_compute_flags(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, pred,
                                          LPC_NC_BY_PREDICTION, &nc), LPC_OK);
    /* mu = (5/2, 1/2), (0, 2), (-4/3, 0); V = 1/2, 0, 44/9; squared distances
     * 17/2, 269/18, 52/9. (-1, 3), predicted 2, is nearest to mu_1: NC4 = 1/6. */
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_CDNV), (1.0 / 34 + 97.0 / 538 + 11.0 / 26) / 3, 1e-14);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC4), 1.0 / 6, 1e-15);
    lpc_nc_free(nc);
    /* Misuse: unknown flags, no source of predictions, singleton classes. */
    ASSERT_FAILS(lpc_nc_compute_flags(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, NULL, 8u, &nc), LPC_E_ARG);
    ck_assert_ptr_null(nc);
    ASSERT_FAILS(lpc_nc_compute_flags(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, NULL,
                                      LPC_NC_BY_PREDICTION, &nc), LPC_E_ARG);
    const int32_t single[6] = {0, 0, 1, 2, 2, 2};
    ASSERT_FAILS(lpc_nc_compute_flags(ex2_z, 6, 2, single, 3, NULL, NULL, NULL,
                                      LPC_NC_CLASS_COVARIANCE, &nc), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_nc_compute_flags(NULL, 6, 2, ex2_y, 3, NULL, NULL, NULL, 0, &nc), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute_flags(ex2_z, 6, 2, ex2_y, 3, NULL, NULL, NULL, 0, NULL), LPC_E_ARG);
    /* Two classes with one mean: CDNV undefined; a zero classifier row: UNC3 undefined. */
    const float z1[6] = {0, 2, 0, 2, 10, 12};
    const int32_t y1[6] = {0, 0, 1, 1, 2, 2};
    ASSERT_FAILS(lpc_nc_compute(z1, 6, 1, y1, 3, NULL, NULL, NULL, &nc), LPC_E_NUMERIC);
    const float z2[4] = {0, 2, 10, 12}, w2[2] = {1, 0};
    const int32_t y2[4] = {0, 0, 1, 1};
    ASSERT_FAILS(lpc_nc_compute(z2, 4, 1, y2, 2, w2, NULL, NULL, &nc), LPC_E_NUMERIC);
}
END_TEST

/* Streaming equals in-memory to 1e-10 relative, for several batch sizes, on
 * spread, unbalanced and collapsed (spread 1e-5 around means of size 3) data. */
static void stream_case(int n, int p, int k, double spread, int balanced, int batch)
{
    lpc_rng *r = lpc_rng_new((uint64_t)(n * 31 + p * 7 + k));
    float *z = malloc((size_t)n * p * sizeof *z), *w = malloc((size_t)k * p * sizeof *w);
    float *b = malloc((size_t)k * sizeof *b), *centre = malloc((size_t)k * p * sizeof *centre);
    int32_t *y = malloc((size_t)n * sizeof *y), *member = malloc((size_t)n * sizeof *member);
    for (int i = 0; i < k * p; i++) {
        centre[i] = (float)(3.0 * lpc_rng_normal(r));
        w[i] = centre[i] + (float)(0.5 * lpc_rng_normal(r));
    }
    for (int c = 0; c < k; c++)
        b[c] = (float)(0.1 * lpc_rng_normal(r));
    for (int i = 0; i < n; i++) {
        y[i] = i < k || balanced ? i % k : (int32_t)(lpc_rng_normal(r) * lpc_rng_normal(r) * k * 10) % k;
        if (y[i] < 0)
            y[i] += k;
        for (int j = 0; j < p; j++)
            z[i * p + j] = centre[y[i] * p + j] + (float)(spread * lpc_rng_normal(r));
    }
    for (int i = 0; i < n; i++) { /* argmax(W z + b): the Sigma_W membership */
        int best = 0;
        double top = -INFINITY;
        for (int c = 0; c < k; c++) {
            double t = b[c];
            for (int j = 0; j < p; j++)
                t += (double)w[c * p + j] * z[i * p + j];
            if (t > top) {
                top = t;
                best = c;
            }
        }
        member[i] = best;
    }
    lpc_nc *ref = NULL, *got = NULL;
    double r_ref, sw_ref, cov_ref, v;
    ck_assert_int_eq(lpc_nc_compute(z, n, p, y, k, w, b, NULL, &ref), LPC_OK);
    ck_assert_int_eq(lpc_separation_ratio(z, n, p, y, k, &r_ref), LPC_OK);
    ck_assert_int_eq(lpc_sigma_w(z, n, p, member, k, &sw_ref), LPC_OK);
    ck_assert_int_eq(lpc_norm_cov(z, n, p, &cov_ref), LPC_OK);
    lpc_feature_stream *st = NULL;
    ck_assert_int_eq(lpc_feature_stream_new(p, k, w, b, 0, &st), LPC_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (int i0 = 0; i0 < n; i0 += batch) {
            int rows = n - i0 < batch ? n - i0 : batch;
            ck_assert_int_eq(lpc_feature_stream_add(st, z + (size_t)i0 * p, rows, y + i0, NULL),
                             LPC_OK);
        }
        if (pass == 0) { /* R and NC4 are not there before pass 2 */
            ck_assert_int_eq(lpc_feature_stream_end_pass(st), LPC_OK);
            ASSERT_FAILS(lpc_feature_stream_get(st, LPC_STREAM_R, &v), LPC_E_STATE);
            ck_assert_int_eq(lpc_feature_stream_nc(st, &got), LPC_OK);
            ASSERT_FAILS(lpc_nc_get(got, LPC_NC_NC4, &v), LPC_E_STATE);
            lpc_nc_free(got);
        }
    }
    ck_assert_int_eq(lpc_feature_stream_end_pass(st), LPC_OK);
    ck_assert_int_eq(lpc_feature_stream_nc(st, &got), LPC_OK);
    for (int m = 0; m < LPC_NC_METRIC_COUNT; m++) {
        double want = nc_value(ref, (lpc_nc_metric)m), have = nc_value(got, (lpc_nc_metric)m);
        ck_assert_msg(fabs(have - want) <= 1e-10 * fabs(want) + 1e-300,
                      "metric %d: stream %.17g, in memory %.17g (n %d, batch %d, spread %g)", m,
                      have, want, n, batch, spread);
    }
    ck_assert_int_eq(lpc_feature_stream_get(st, LPC_STREAM_R, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, r_ref, 1e-10);
    ck_assert_int_eq(lpc_feature_stream_get(st, LPC_STREAM_SIGMA_W, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, sw_ref, 1e-10);
    ck_assert_int_eq(lpc_feature_stream_get(st, LPC_STREAM_NORM_COV, &v), LPC_OK);
    LPCT_ASSERT_CLOSE(v, cov_ref, 1e-10);
    ASSERT_FAILS(lpc_feature_stream_end_pass(st), LPC_E_STATE);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 1, y, NULL), LPC_E_STATE);
    lpc_nc_free(ref);
    lpc_nc_free(got);
    lpc_feature_stream_free(st);
    lpc_rng_free(r);
    free(z);
    free(w);
    free(b);
    free(centre);
    free(y);
    free(member);
}

START_TEST(stream_matches_memory)
{
    stream_case(600, 8, 5, 1.0, 1, 64);
    stream_case(600, 8, 5, 1.0, 1, 1);
    stream_case(600, 8, 5, 1.0, 1, 600);
    stream_case(700, 6, 4, 0.8, 0, 97);
    stream_case(500, 3, 7, 0.5, 1, 33);  /* P < K: Sigma_B rank-deficient */
    stream_case(400, 10, 4, 1e-5, 1, 50); /* collapsed */
    stream_case(5000, 64, 10, 0.3, 0, 1000);
}
END_TEST

START_TEST(stream_misuse)
{
    const float z[8] = {0, 0, 2, 1, 10, 10, 12, 11}, w[4] = {1, 0, 0, 1}, nanw[4] = {NAN, 0, 0, 1};
    const int32_t y[4] = {0, 0, 1, 1}, y0[4] = {0, 0, 0, 0}, bad[4] = {0, 0, 1, 2};
    lpc_feature_stream *st = (lpc_feature_stream *)1;
    lpc_nc *nc = (lpc_nc *)1;
    double v;
    ASSERT_FAILS(lpc_feature_stream_new(2, 2, NULL, NULL, 0, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_new(0, 2, NULL, NULL, 0, &st), LPC_E_ARG);
    ck_assert_ptr_null(st);
    ASSERT_FAILS(lpc_feature_stream_new(2, 1, NULL, NULL, 0, &st), LPC_E_ARG);
    /* P x P and K x P doubles beyond size_t: refused before allocating. */
    ASSERT_FAILS(lpc_feature_stream_new(INT_MAX, INT_MAX, NULL, NULL, 0, &st), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), "2147483647 classes x 2147483647 features"), "%s",
                  lpc_last_error());
    ASSERT_FAILS(lpc_feature_stream_new(2, 2, NULL, NULL, LPC_NC_CLASS_COVARIANCE, &st), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_new(2, 2, nanw, NULL, 0, &st), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_feature_stream_new(2, 2, NULL, w, 0, &st), LPC_E_ARG); /* bias without W */
    ASSERT_FAILS(lpc_feature_stream_add(NULL, z, 4, y, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_end_pass(NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_nc(NULL, &nc), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_get(NULL, LPC_STREAM_R, &v), LPC_E_ARG);
    lpc_feature_stream_free(NULL);
    ck_assert_int_eq(lpc_feature_stream_new(2, 2, w, NULL, LPC_NC_CUTOFF_P, &st), LPC_OK);
    ASSERT_FAILS(lpc_feature_stream_end_pass(st), LPC_E_STATE); /* nothing added */
    ASSERT_FAILS(lpc_feature_stream_nc(st, &nc), LPC_E_STATE);
    ASSERT_FAILS(lpc_feature_stream_get(st, LPC_STREAM_SIGMA_W, &v), LPC_E_STATE);
    ASSERT_FAILS(lpc_feature_stream_add(st, NULL, 4, y, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 4, NULL, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 4, bad, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 4, y, bad), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 0, y, NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_feature_stream_add(st, z, 4, y0, NULL), LPC_OK);
    ASSERT_FAILS(lpc_feature_stream_add(st, z, 4, y, y), LPC_E_STATE); /* predictions now */
    ASSERT_FAILS(lpc_feature_stream_end_pass(st), LPC_E_NUMERIC);      /* class 1 empty */
    ck_assert_int_eq(lpc_feature_stream_add(st, z, 4, y, NULL), LPC_OK);
    ck_assert_int_eq(lpc_feature_stream_end_pass(st), LPC_OK);
    ASSERT_FAILS(lpc_feature_stream_get(st, (lpc_stream_metric)7, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_get(st, LPC_STREAM_R, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_feature_stream_nc(st, NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_feature_stream_add(st, z, 4, y, NULL), LPC_OK);
    ASSERT_FAILS(lpc_feature_stream_end_pass(st), LPC_E_STATE); /* pass 2 saw fewer samples */
    lpc_feature_stream_free(st);
}
END_TEST

/* NC1 via the K x K reduction equals the P x P pseudo-inverse formula. */
START_TEST(neural_collapse_matches_pinv)
{
    int n = 90, p = 6, k = 4;
    lpc_rng *r = lpc_rng_new(9);
    float *z = malloc((size_t)n * p * sizeof *z);
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) {
        y[i] = i % k;
        for (int j = 0; j < p; j++)
            z[i * p + j] = (float)(lpc_rng_normal(r) + (j == y[i] ? 3.0 : 0.0));
    }
    double mu[4][6] = {{0}}, mg[6] = {0}, sw[36] = {0}, sb[36] = {0}, w[6], v[36];
    int count[4] = {0};
    for (int i = 0; i < n; i++)
        count[y[i]]++;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) {
            mu[y[i]][j] += (double)z[i * p + j] / count[y[i]];
            mg[j] += (double)z[i * p + j] / n;
        }
    for (int i = 0; i < n; i++)
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                sw[a * p + b] += (z[i * p + a] - mu[y[i]][a]) * (z[i * p + b] - mu[y[i]][b]) / n;
    for (int c = 0; c < k; c++)
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                sb[a * p + b] += (mu[c][a] - mg[a]) * (mu[c][b] - mg[b]) / k;
    ck_assert_int_eq(lpci_eigh(sb, p, w, v), LPC_OK);
    double trace = 0.0;
    for (int e = 0; e < p; e++) {
        if (!(w[e] > p * DBL_EPSILON * w[0]))
            continue;
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                trace += sw[a * p + b] * v[a * p + e] * v[b * p + e] / w[e];
    }
    lpc_nc *nc = NULL;
    ck_assert_int_eq(lpc_nc_compute(z, n, p, y, k, NULL, NULL, NULL, &nc), LPC_OK);
    LPCT_ASSERT_CLOSE(nc_value(nc, LPC_NC_NC1), trace / k, 1e-10);
    lpc_nc_free(nc);
    free(z);
    free(y);
    lpc_rng_free(r);
}
END_TEST

/* A = Q diag(lambda) Q^T with a random orthogonal Q (Gram-Schmidt). */
static void check_spectrum(const double *lambda, int n, uint64_t seed)
{
    lpc_rng *r = lpc_rng_new(seed);
    double *q = malloc((size_t)n * n * sizeof *q), *a = calloc((size_t)n * n, sizeof *a);
    double *w = malloc((size_t)n * sizeof *w), *v = malloc((size_t)n * n * sizeof *v);
    for (int i = 0; i < n * n; i++)
        q[i] = lpc_rng_normal(r);
    for (int c = 0; c < n; c++) { /* orthonormalise column c against 0..c-1 */
        for (int pass = 0; pass < 2; pass++)
            for (int d = 0; d < c; d++) {
                double dot = 0;
                for (int i = 0; i < n; i++)
                    dot += q[i * n + c] * q[i * n + d];
                for (int i = 0; i < n; i++)
                    q[i * n + c] -= dot * q[i * n + d];
            }
        double nr = 0;
        for (int i = 0; i < n; i++)
            nr += q[i * n + c] * q[i * n + c];
        for (int i = 0; i < n; i++)
            q[i * n + c] /= sqrt(nr);
    }
    double lmax = 0;
    for (int e = 0; e < n; e++) {
        lmax = fmax(lmax, fabs(lambda[e]));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i * n + j] += q[i * n + e] * lambda[e] * q[j * n + e];
    }
    ck_assert_int_eq(lpci_eigh(a, n, w, v), LPC_OK);
    double *sorted = malloc((size_t)n * sizeof *sorted);
    memcpy(sorted, lambda, (size_t)n * sizeof *sorted);
    for (int i = 0; i < n; i++) /* descending */
        for (int j = i + 1; j < n; j++)
            if (sorted[j] > sorted[i]) {
                double t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    for (int e = 0; e < n; e++) {
        ck_assert_msg(fabs(w[e] - sorted[e]) <= 1e-12 * lmax * n, "eigenvalue %d: %.17g vs %.17g",
                      e, w[e], sorted[e]);
        double res = 0, nv = 0; /* |A v - w v| and |v| */
        for (int i = 0; i < n; i++) {
            double av = 0;
            for (int j = 0; j < n; j++)
                av += a[i * n + j] * v[j * n + e];
            res += (av - w[e] * v[i * n + e]) * (av - w[e] * v[i * n + e]);
            nv += v[i * n + e] * v[i * n + e];
        }
        ck_assert_msg(sqrt(res) <= 1e-12 * lmax * n, "residual %d: %g", e, sqrt(res));
        LPCT_ASSERT_CLOSE(nv, 1.0, 1e-12);
    }
    free(sorted);
    free(q);
    free(a);
    free(w);
    free(v);
    lpc_rng_free(r);
}

START_TEST(eigensolver)
{
    const double two[2] = {3, 1};
    check_spectrum(two, 2, 1);
    const double full[6] = {5, -2, 0.5, 1e-3, 7, 3};
    check_spectrum(full, 6, 2);
    const double rank2[7] = {4, 0, 0, 1, 0, 0, 0}; /* rank-deficient */
    check_spectrum(rank2, 7, 3);
    const double repeated[5] = {2, 2, 2, 0, 0};
    check_spectrum(repeated, 5, 4);
    double big[40];
    for (int i = 0; i < 40; i++)
        big[i] = i < 30 ? (double)(i + 1) : 0.0;
    check_spectrum(big, 40, 5);
    double zero[9] = {0}, w[3], v[9];
    ck_assert_int_eq(lpci_eigh(zero, 3, w, v), LPC_OK);
    ck_assert(w[0] == 0 && w[2] == 0 && v[0] == 1 && v[4] == 1);
    const double m2[4] = {2, 1, 1, 2};
    ck_assert_int_eq(lpci_eigh(m2, 2, w, v), LPC_OK);
    LPCT_ASSERT_CLOSE(w[0], 3.0, 1e-15);
    LPCT_ASSERT_CLOSE(w[1], 1.0, 1e-15);
    double bad[4] = {1, NAN, NAN, 1};
    ASSERT_FAILS(lpci_eigh(bad, 2, w, v), LPC_E_NUMERIC);
    ASSERT_FAILS(lpci_eigh(NULL, 2, w, v), LPC_E_ARG);
}
END_TEST

START_TEST(separation_hand_cases)
{
    /* 1-D: classes {0, 2} and {10, 12}: ratios 11, 9, 9, 11. */
    const float z1[4] = {0, 2, 10, 12};
    const int32_t y1[4] = {0, 0, 1, 1};
    double r;
    ck_assert_int_eq(lpc_separation_ratio(z1, 4, 1, y1, 2, &r), LPC_OK);
    LPCT_ASSERT_CLOSE(r, 10.0, 1e-15);
    /* A sample on its own centroid contributes 0. */
    const float z2[3] = {5, 0, 4};
    const int32_t y2[3] = {0, 1, 1};
    ck_assert_int_eq(lpc_separation_ratio(z2, 3, 1, y2, 2, &r), LPC_OK);
    LPCT_ASSERT_CLOSE(r, (0.0 + 5.0 / 2 + 1.0 / 2) / 3, 1e-15);

    /* Sigma_W: class 0 {(0,0),(2,2)} -> [[2,2],[2,2]], mean 2; class 1
     * {(0,0),(2,0),(4,0)} -> [[4,0],[0,0]], mean 1; class 2 has one member
     * and is skipped. */
    const float zs[12] = {0, 0, 2, 2, 0, 0, 2, 0, 4, 0, 5, 5};
    const int32_t ys[6] = {0, 0, 1, 1, 1, 2};
    double sw;
    ck_assert_int_eq(lpc_sigma_w(zs, 6, 2, ys, 3, &sw), LPC_OK);
    LPCT_ASSERT_CLOSE(sw, 1.5, 1e-15);

    /* Norms 5, 1, 3: std sqrt(8/3) / mean 3. */
    const float zn[6] = {3, 4, 0, 1, 0, -3};
    double cv;
    ck_assert_int_eq(lpc_norm_cov(zn, 3, 2, &cv), LPC_OK);
    LPCT_ASSERT_CLOSE(cv, sqrt(8.0 / 3) / 3, 1e-15);

    const double px[3] = {1, 2, 3}, py[3] = {2, 4, 7};
    double pr;
    ck_assert_int_eq(lpc_pearson(px, py, 3, &pr), LPC_OK);
    LPCT_ASSERT_CLOSE(pr, 5.0 / sqrt(2.0 * 114.0 / 9.0), 1e-15);
}
END_TEST

START_TEST(degenerate_inputs)
{
    const float z[4] = {0, 2, 10, 12}, same[4] = {1, 1, 1, 1};
    const int32_t y[4] = {0, 0, 1, 1}, y_missing[4] = {0, 0, 2, 2}, y_bad[4] = {0, 0, 1, 5};
    const float inf_z[4] = {0, INFINITY, 1, 2};
    double v;
    lpc_nc *nc = (lpc_nc *)1;
    lpc_binarity *b = (lpc_binarity *)1;
    /* Empty classes where every class is needed. */
    ASSERT_FAILS(lpc_separation_ratio(z, 4, 1, y_missing, 3, &v), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y_missing, 3, NULL, NULL, NULL, &nc), LPC_E_NUMERIC);
    ck_assert_ptr_null(nc);
    /* Labels out of range, too few classes. */
    ASSERT_FAILS(lpc_separation_ratio(z, 4, 1, y_bad, 2, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_sigma_w(z, 4, 1, y_bad, 2, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_separation_ratio(z, 4, 1, y, 1, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 1, NULL, NULL, NULL, &nc), LPC_E_ARG);
    /* P = 0, N = 0. */
    ASSERT_FAILS(lpc_norm_cov(z, 4, 0, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_kl_entropy(z, 0, 1, 1, 0, &v, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_compute(z, 4, 0, &b), LPC_E_ARG);
    /* N < k + 1, bad k and flags. */
    ASSERT_FAILS(lpc_kl_entropy(z, 4, 1, 4, 0, &v, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_kl_entropy(z, 4, 1, 0, 0, &v, NULL), LPC_E_ARG); /* default k = 20 */
    ASSERT_FAILS(lpc_kl_entropy(z, 4, 1, -1, 0, &v, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_kl_entropy(z, 4, 1, 1, 8u, &v, NULL), LPC_E_ARG);
    /* Non-finite values. */
    ASSERT_FAILS(lpc_kl_entropy(inf_z, 4, 1, 1, 0, &v, NULL), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_norm_cov(inf_z, 2, 2, &v), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_binarity_compute(inf_z, 4, 1, &b), LPC_E_NUMERIC);
    const double xd[3] = {1, NAN, 2}, yd[3] = {1, 2, 3};
    ASSERT_FAILS(lpc_pearson(xd, yd, 3, &v), LPC_E_NUMERIC);
    /* All-identical samples. */
    ASSERT_FAILS(lpc_kl_entropy(same, 4, 1, 1, LPC_KL_STANDARDIZE, &v, NULL), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_kl_entropy(same, 2, 2, 1, 0, &v, NULL), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_binarity_compute(same, 4, 1, &b), LPC_E_NUMERIC);
    ck_assert_ptr_null(b);
    ASSERT_FAILS(lpc_nc_compute(same, 4, 1, y, 2, NULL, NULL, NULL, &nc), LPC_E_NUMERIC);
    const float zero[4] = {0, 0, 0, 0};
    ASSERT_FAILS(lpc_norm_cov(zero, 2, 2, &v), LPC_E_NUMERIC);
    const int32_t singletons[4] = {0, 1, 2, 3};
    ASSERT_FAILS(lpc_sigma_w(z, 4, 1, singletons, 4, &v), LPC_E_NUMERIC);
    const double flat_y[3] = {4, 4, 4};
    ASSERT_FAILS(lpc_pearson(yd, flat_y, 3, &v), LPC_E_NUMERIC);
    double w[2], m[2], var[2], l;
    const double flat[3] = {2, 2, 2};
    ASSERT_FAILS(lpc_gmm1d_fit(flat, 3, w, m, var, &l), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_gmm1d_fit(flat, 1, w, m, var, &l), LPC_E_ARG);
    /* Classifier problems. */
    const float wz[2] = {0, 0}, wnan[2] = {NAN, 1};
    const int32_t badpred[4] = {0, 1, 1, 7};
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 2, wz, NULL, NULL, &nc), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 2, wnan, NULL, NULL, &nc), LPC_E_NUMERIC);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 2, NULL, wz, NULL, &nc), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 2, NULL, NULL, badpred, &nc), LPC_E_ARG);
}
END_TEST

START_TEST(null_misuse)
{
    const float z[4] = {0, 2, 10, 12};
    const int32_t y[4] = {0, 0, 1, 1};
    const double x[3] = {1, 2, 3};
    double v, w[2], m[2], var[2];
    lpc_nc *nc;
    lpc_binarity *b;
    ASSERT_FAILS(lpc_separation_ratio(NULL, 4, 1, y, 2, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_separation_ratio(z, 4, 1, NULL, 2, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_separation_ratio(z, 4, 1, y, 2, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_sigma_w(z, 4, 1, NULL, 2, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_sigma_w(z, 4, 1, y, 2, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_norm_cov(NULL, 4, 1, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_norm_cov(z, 4, 1, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_pearson(NULL, x, 3, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_pearson(x, x, 1, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_kl_entropy(NULL, 4, 1, 1, 0, &v, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_gmm1d_fit(NULL, 3, w, m, var, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_gmm1d_fit(x, 3, w, m, var, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_compute(NULL, 4, 1, &b), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_compute(z, 4, 1, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_get(NULL, LPC_BINARITY_L, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_binarity_dim(NULL, 0, &v, &v, &v), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute(NULL, 4, 1, y, 2, NULL, NULL, NULL, &nc), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, NULL, 2, NULL, NULL, NULL, &nc), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_compute(z, 4, 1, y, 2, NULL, NULL, NULL, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_nc_get(NULL, LPC_NC_NC1, &v), LPC_E_ARG);
}
END_TEST

/* Values at the edge of double range get a true result or a true message
 * (issue 12): Pearson near 1e200 used to overflow to r = 0, the GMM said
 * "all values are equal" for {1, 1e308, -1e308}, and k = INT_MAX in the
 * entropy overflowed k + 1 in its message. */
START_TEST(extreme_values)
{
    const double x[4] = {1e200, 2e200, 3e200, 5e200}, y[4] = {-1, -2, -3, -5};
    const double xs[4] = {1, 2, 3, 5};
    double r = 0, ref = 0;
    ck_assert_int_eq(lpc_pearson(xs, y, 4, &ref), LPC_OK);
    ck_assert_int_eq(lpc_pearson(x, y, 4, &r), LPC_OK);
    ck_assert_double_eq(r, ref); /* scale-free, bit for bit */
    LPCT_ASSERT_CLOSE(r, -1.0, 1e-12);
    const double big[3] = {1e308, -1e308, 1e308}, yb[3] = {1, 0, 1};
    ck_assert_int_eq(lpc_pearson(big, yb, 3, &r), LPC_OK);
    LPCT_ASSERT_CLOSE(r, 1.0, 1e-12);
    const double tiny[3] = {1e-310, 2e-310, 4e-310};
    ck_assert_int_eq(lpc_pearson(tiny, xs, 3, &r), LPC_OK);
    ck_assert(r > 0.9 && r <= 1.0);

    const double g[3] = {1, 1e308, -1e308};
    double w[2], m[2], v[2], l;
    lpc_clear_error();
    ck_assert_int_eq(lpc_gmm1d_fit(g, 3, w, m, v, &l), LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "too wide"), "%s", lpc_last_error());
    const double eq[3] = {2, 2, 2};
    ck_assert_int_eq(lpc_gmm1d_fit(eq, 3, w, m, v, &l), LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "all values are equal"), "%s", lpc_last_error());

    float z[20];
    for (int i = 0; i < 20; i++)
        z[i] = (float)i;
    double h;
    lpc_clear_error();
    ck_assert_int_eq(lpc_kl_entropy(z, 10, 2, INT_MAX, 0, &h, NULL), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), "k = 2147483647 must be in [1, 1073741823]"), "%s",
                  lpc_last_error());
    ck_assert_int_eq(lpc_kl_entropy(z, 10, 2, INT_MAX / 2, 0, &h, NULL), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), "N >= k + 1 = 1073741824 samples"), "%s",
                  lpc_last_error());

    /* N x P beyond the address space: refused before it is multiplied out. */
    ck_assert_int_eq(lpc_norm_cov(z, INT64_MAX / 4, 4, &r), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), "exceed the address space"), "%s", lpc_last_error());
    ck_assert_int_eq(lpc_kl_entropy(z, INT64_MAX / 2, INT_MAX, 5, 0, &h, NULL), LPC_E_ARG);

    /* A class count of INT_MAX with two classes in the data: refused or
     * sized by the data before anything is allocated by k (it used to ask
     * for k x P doubles). */
    const int32_t lab[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    double sw2 = 0, swk = 0;
    lpc_nc *nc = NULL;
    ck_assert_int_eq(lpc_separation_ratio(z, 10, 2, lab, INT_MAX, &r), LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "2147483647 classes but 10 samples"), "%s",
                  lpc_last_error());
    ck_assert_int_eq(lpc_nc_compute(z, 10, 2, lab, INT_MAX, NULL, NULL, NULL, &nc),
                     LPC_E_NUMERIC);
    /* By the predictions, too (it allocated k x k doubles first). */
    ck_assert_int_eq(lpc_nc_compute_flags(z, 10, 2, lab, INT_MAX, NULL, NULL, lab,
                                          LPC_NC_BY_PREDICTION, &nc), LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "2147483647 predicted classes but 10 samples"), "%s",
                  lpc_last_error());
    ck_assert_int_eq(lpc_separation_ratio(z, 10, 2, lab, 3, &r), LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "class 2 has no samples"), "%s", lpc_last_error());
    ck_assert_int_eq(lpc_sigma_w(z, 10, 2, lab, 2, &sw2), LPC_OK);
    ck_assert_int_eq(lpc_sigma_w(z, 10, 2, lab, INT_MAX, &swk), LPC_OK);
    ck_assert_double_eq(sw2, swk);
}
END_TEST

/* Every metric of features x 2^e against the same features unscaled. */
enum { HUGE_N = 300, HUGE_P = 6, HUGE_K = 3, HUGE_VALUES = 79 };
static void all_metrics(const float *z, const float *w, const int32_t *lab, double *out)
{
    int o = 0;
    ck_assert_int_eq(lpc_kl_entropy(z, HUGE_N, HUGE_P, 5, 0, &out[o++], NULL), LPC_OK);
    ck_assert_int_eq(lpc_kl_entropy(z, HUGE_N, HUGE_P, 5, LPC_KL_STANDARDIZE, &out[o++], NULL),
                     LPC_OK);
    ck_assert_int_eq(lpc_sigma_w(z, HUGE_N, HUGE_P, lab, HUGE_K, &out[o++]), LPC_OK);
    ck_assert_int_eq(lpc_separation_ratio(z, HUGE_N, HUGE_P, lab, HUGE_K, &out[o++]), LPC_OK);
    ck_assert_int_eq(lpc_norm_cov(z, HUGE_N, HUGE_P, &out[o++]), LPC_OK);
    lpc_binarity *b = NULL;
    ck_assert_int_eq(lpc_binarity_compute(z, HUGE_N, HUGE_P, &b), LPC_OK);
    for (int m = LPC_BINARITY_L; m <= LPC_BINARITY_MU_MIN; m++)
        ck_assert_int_eq(lpc_binarity_get(b, (lpc_binarity_metric)m, &out[o++]), LPC_OK);
    lpc_binarity_free(b);
    for (unsigned flags = 0; flags <= LPC_NC_CLASS_COVARIANCE + LPC_NC_CUTOFF_P; flags += 2) {
        lpc_nc *nc = NULL;
        ck_assert_int_eq(lpc_nc_compute_flags(z, HUGE_N, HUGE_P, lab, HUGE_K, w, NULL, NULL,
                                              flags, &nc), LPC_OK);
        for (int m = 0; m < LPC_NC_METRIC_COUNT; m++)
            ck_assert_int_eq(lpc_nc_get(nc, (lpc_nc_metric)m, &out[o++]), LPC_OK);
        lpc_nc_free(nc);
    }
    lpc_feature_stream *st = NULL;
    ck_assert_int_eq(lpc_feature_stream_new(HUGE_P, HUGE_K, w, NULL, 0, &st), LPC_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < HUGE_N; i += 50)
            ck_assert_int_eq(lpc_feature_stream_add(st, z + i * HUGE_P, 50, lab + i, NULL),
                             LPC_OK);
        ck_assert_int_eq(lpc_feature_stream_end_pass(st), LPC_OK);
    }
    for (int m = LPC_STREAM_R; m <= LPC_STREAM_NORM_COV; m++)
        ck_assert_int_eq(lpc_feature_stream_get(st, (lpc_stream_metric)m, &out[o++]), LPC_OK);
    lpc_nc *nc = NULL;
    ck_assert_int_eq(lpc_feature_stream_nc(st, &nc), LPC_OK);
    for (int m = 0; m < LPC_NC_METRIC_COUNT; m++)
        ck_assert_int_eq(lpc_nc_get(nc, (lpc_nc_metric)m, &out[o++]), LPC_OK);
    lpc_nc_free(nc);
    lpc_feature_stream_free(st);
    ck_assert_int_eq(o, HUGE_VALUES);
}

/* Features up to FLT_MAX (squared norms far beyond it) give every metric
 * what the same features at unit scale give, transformed exactly: the
 * entropy grows by P e ln 2, Sigma_W (and the streamed one) by 4^e, the
 * rest is scale-free. The entropy's float neighbour search used to square
 * them to inf, keep no candidate and read before its buffer. */
START_TEST(huge_features)
{
    static float z[HUGE_N * HUGE_P], zs[HUGE_N * HUGE_P];
    float w[HUGE_K * HUGE_P], ws[HUGE_K * HUGE_P];
    int32_t lab[HUGE_N];
    uint64_t state = 12345;
    for (int i = 0; i < HUGE_N; i++) {
        lab[i] = i % HUGE_K;
        for (int j = 0; j < HUGE_P; j++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            z[i * HUGE_P + j] = (float)((double)(state >> 40) / (1 << 24) - 0.5) +
                                (j == lab[i] ? 2.0f : 0.0f);
        }
    }
    for (int i = 0; i < HUGE_K * HUGE_P; i++)
        w[i] = (float)(0.1 * (i % 7) - 0.3);
    double ref[HUGE_VALUES], got[HUGE_VALUES];
    all_metrics(z, w, lab, ref);
    const int exps[] = {126, 64, 20};
    for (size_t t = 0; t < sizeof exps / sizeof *exps; t++) {
        int e = exps[t];
        float top = 0.0f;
        for (int i = 0; i < HUGE_N * HUGE_P; i++) {
            zs[i] = ldexpf(z[i], e);
            top = fabsf(zs[i]) > top ? fabsf(zs[i]) : top;
        }
        for (int i = 0; i < HUGE_K * HUGE_P; i++)
            ws[i] = ldexpf(w[i], e);
        if (e == 126)
            ck_assert(top > 1e38f); /* near FLT_MAX: every squared norm overflows float */
        all_metrics(zs, ws, lab, got);
        for (int i = 0; i < HUGE_VALUES; i++) {
            double expect = ref[i];
            if (i == 0)
                expect += HUGE_P * e * log(2.0);
            else if (i == 2 || i == 11 + 4 * LPC_NC_METRIC_COUNT + LPC_STREAM_SIGMA_W)
                expect = ldexp(expect, 2 * e);
            ck_assert_msg(lpct_close(got[i], expect, 1e-9, 1e-12),
                          "scale 2^%d, value %d: %.15g, expected %.15g", e, i, got[i], expect);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("analysis");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unit_ball_volume);
    tcase_add_test(tc, kl_entropy_vectors);
    tcase_add_test(tc, kl_entropy_standard_normal);
    tcase_add_test(tc, kl_entropy_blocks_and_threads);
    tcase_add_test(tc, kl_entropy_collapsed_clusters);
    tcase_add_test(tc, kl_entropy_standardize);
    tcase_add_test(tc, gmm_vector);
    tcase_add_test(tc, binarity);
    tcase_add_test(tc, neural_collapse_ex2);
    tcase_add_test(tc, neural_collapse_matches_pinv);
    tcase_add_test(tc, neural_collapse_library_metrics);
    tcase_add_test(tc, neural_collapse_conventions);
    tcase_add_test(tc, stream_matches_memory);
    tcase_add_test(tc, stream_misuse);
    tcase_add_test(tc, eigensolver);
    tcase_add_test(tc, separation_hand_cases);
    tcase_add_test(tc, degenerate_inputs);
    tcase_add_test(tc, null_misuse);
    tcase_add_test(tc, extreme_values);
    tcase_add_test(tc, huge_features);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
