/* OOD detection (include/lpc/ood.h) and the generalized collapse measures
 * (lpc_gnc_*): every value here is worked out by hand in the comments;
 * tests/test_ood_reference.py checks the same functions against NumPy,
 * SciPy and scikit-learn on random data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/ood_internal.h"
#include "lpct.h"

static double metric(const double *id, int64_t nid, const double *ood, int64_t nood,
                     lpc_ood_metric m)
{
    double v = -1.0;
    ck_assert_int_eq(lpc_ood_metric_compute(id, nid, ood, nood, m, &v), LPC_OK);
    return v;
}

/* ID {3, 2, 2, 1} against OOD {2, 0}. Pairs (id, ood) ranked: 3>2, 3>0, 2=2
 * (half), 2>0, 2=2 (half), 2>0, 1<2, 1>0: AUROC = 6/8. Points by descending
 * score (tp, fp): 3 (1, 0), 2 (3, 1), 1 (4, 1), 0 (4, 2).
 * AUPR-In = 1/4 * 1 + 2/4 * 3/4 + 1/4 * 4/5 = 0.825; FPR95: TPR reaches 1 at
 * score 1 where FPR = 1/2. AUPR-Out (OOD positive, ascending): 0 (1 of 2
 * OOD, precision 1), 2 (2 of 2, precision 2/5): 1/2 + 1/2 * 2/5 = 0.7. */
START_TEST(metrics_hand_vector)
{
    double id[] = {3, 2, 2, 1}, ood[] = {2, 0};
    LPCT_ASSERT_CLOSE(metric(id, 4, ood, 2, LPC_OOD_AUROC), 0.75, 1e-15);
    LPCT_ASSERT_CLOSE(metric(id, 4, ood, 2, LPC_OOD_AUPR_IN), 0.825, 1e-15);
    LPCT_ASSERT_CLOSE(metric(id, 4, ood, 2, LPC_OOD_AUPR_OUT), 0.7, 1e-15);
    LPCT_ASSERT_CLOSE(metric(id, 4, ood, 2, LPC_OOD_FPR95), 0.5, 1e-15);
    /* Perfect separation and its reverse; every score tied. */
    double hi[] = {5, 6}, lo[] = {1, 2, 3};
    LPCT_ASSERT_CLOSE(metric(hi, 2, lo, 3, LPC_OOD_AUROC), 1.0, 0);
    LPCT_ASSERT_CLOSE(metric(hi, 2, lo, 3, LPC_OOD_FPR95), 0.0, 0);
    LPCT_ASSERT_CLOSE(metric(lo, 3, hi, 2, LPC_OOD_AUROC), 0.0, 0);
    LPCT_ASSERT_CLOSE(metric(lo, 3, hi, 2, LPC_OOD_FPR95), 1.0, 0);
    double same[] = {1, 1, 1};
    LPCT_ASSERT_CLOSE(metric(same, 3, same, 2, LPC_OOD_AUROC), 0.5, 0);
    LPCT_ASSERT_CLOSE(metric(same, 3, same, 2, LPC_OOD_AUPR_IN), 0.6, 1e-15);
    LPCT_ASSERT_CLOSE(metric(same, 3, same, 2, LPC_OOD_AUPR_OUT), 0.4, 1e-15);
    /* 20 ID at 1..20, 1 OOD at 1.5: TPR 0.95 = 19/20 at score 2 (FPR 0);
     * the point at score 1 (TPR 1) has FPR 1. */
    double ramp[20], one[] = {1.5};
    for (int i = 0; i < 20; i++)
        ramp[i] = i + 1;
    LPCT_ASSERT_CLOSE(metric(ramp, 20, one, 1, LPC_OOD_FPR95), 0.0, 0);
    LPCT_ASSERT_CLOSE(metric(ramp, 20, one, 1, LPC_OOD_AUROC), 0.95, 1e-15);
    for (int m = 0; m < LPC_OOD_METRIC_COUNT; m++)
        ck_assert_ptr_nonnull(lpc_ood_metric_name((lpc_ood_metric)m));
    ck_assert_str_eq(lpc_ood_metric_name(LPC_OOD_FPR95), "fpr95");
    ck_assert_ptr_null(lpc_ood_metric_name((lpc_ood_metric)LPC_OOD_METRIC_COUNT));
}
END_TEST

/* Rows [0, 0]: MSP 1/2, max logit 0, energy ln 2. [2, 0]: MSP e^2/(e^2 + 1).
 * [1, 1, 1, 1] at T = 2: MSP 1/4, energy 2 ln(4 e^(1/2)) = 1 + 2 ln 4. */
START_TEST(logit_scores_hand_vector)
{
    float two[] = {0, 0, 2, 0};
    double s[2];
    ck_assert_int_eq(lpc_ood_logit_score(two, 2, 2, LPC_OOD_MSP, 1.0, s), LPC_OK);
    LPCT_ASSERT_CLOSE(s[0], 0.5, 1e-15);
    LPCT_ASSERT_CLOSE(s[1], exp(2.0) / (exp(2.0) + 1.0), 1e-15);
    ck_assert_int_eq(lpc_ood_logit_score(two, 2, 2, LPC_OOD_MAX_LOGIT, 1.0, s), LPC_OK);
    ck_assert(s[0] == 0.0 && s[1] == 2.0);
    ck_assert_int_eq(lpc_ood_logit_score(two, 2, 2, LPC_OOD_ENERGY, 1.0, s), LPC_OK);
    LPCT_ASSERT_CLOSE(s[0], log(2.0), 1e-15);
    float four[] = {1, 1, 1, 1};
    ck_assert_int_eq(lpc_ood_logit_score(four, 1, 4, LPC_OOD_ENERGY, 2.0, s), LPC_OK);
    LPCT_ASSERT_CLOSE(s[0], 1.0 + 2.0 * log(4.0), 1e-15);
    ck_assert_int_eq(lpc_ood_logit_score(four, 1, 4, LPC_OOD_MSP, 2.0, s), LPC_OK);
    LPCT_ASSERT_CLOSE(s[0], 0.25, 1e-15);
    /* Huge logits do not overflow: energy ~ max logit. */
    float big[] = {1e30f, 0};
    ck_assert_int_eq(lpc_ood_logit_score(big, 1, 2, LPC_OOD_ENERGY, 1.0, s), LPC_OK);
    LPCT_ASSERT_CLOSE(s[0], 1e30, 1e-7);
    for (int m = 0; m < LPC_OOD_SCORE_COUNT; m++)
        ck_assert_ptr_nonnull(lpc_ood_score_name((lpc_ood_score)m));
    ck_assert_str_eq(lpc_ood_score_name(LPC_OOD_MAHALANOBIS), "mahalanobis");
    ck_assert_ptr_null(lpc_ood_score_name((lpc_ood_score)-1));
}
END_TEST

/* Fit and every score give the same bits with 1 and 2 threads (300 rows,
 * P = 20, K = 4, with a classifier). */
START_TEST(detector_threads)
{
    enum { N = 300, P = 20, K = 4 };
    static float z[N * P], w[K * P], b[K];
    static int32_t y[N];
    static double got[2][LPC_OOD_SCORE_COUNT][N];
    uint64_t state = 11;
    for (int i = 0; i < N * P; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        z[i] = (float)((double)(state >> 11) / 9007199254740992.0 - 0.5) + (float)((i / P) % K);
    }
    for (int i = 0; i < K * P; i++)
        w[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
    for (int c = 0; c < K; c++)
        b[c] = 0.1f * (float)c;
    for (int i = 0; i < N; i++)
        y[i] = i % K;
    int threads = lpc_get_num_threads();
    for (int t = 0; t < 2; t++) {
        ck_assert_int_eq(lpc_set_num_threads(t + 1), LPC_OK);
        lpc_ood_detector_options o;
        lpc_ood_detector_options_init(&o);
        o.w = w;
        o.b = b;
        lpc_ood_detector *d = NULL;
        ck_assert_int_eq(lpc_ood_detector_new(LPCT_SAMPLES(z, N, P, 1, 1, y), K, &o, &d), LPC_OK);
        for (int s = 0; s < LPC_OOD_SCORE_COUNT; s++)
            ck_assert_int_eq(lpc_ood_detector_score(d, (lpc_ood_score)s, z, NULL, N, got[t][s]),
                             LPC_OK);
        lpc_ood_detector_free(d);
    }
    ck_assert_int_eq(lpc_set_num_threads(threads), LPC_OK);
    for (int s = 0; s < LPC_OOD_SCORE_COUNT; s++)
        for (int i = 0; i < N; i++)
            ck_assert_msg(got[0][s][i] == got[1][s][i], "%s row %d differs between 1 and 2 threads",
                          lpc_ood_score_name((lpc_ood_score)s), i);
}
END_TEST

/* Two classes in P = 2 around (3, 0) and (0, 4), each with the offsets
 * (+-1, 0), (0, +-1). */
static const float train[] = {4, 0, 2, 0, 3, 1, 3, -1, 1, 4, -1, 4, 0, 5, 0, 3};
static const int32_t train_y[] = {0, 0, 0, 0, 1, 1, 1, 1};

static lpc_ood_detector *fit(const float *w, int neco_max_logit, int vim_dim)
{
    lpc_ood_detector_options o;
    lpc_ood_detector_options_init(&o);
    o.w = w;
    o.neco_max_logit = neco_max_logit;
    o.vim_dim = vim_dim;
    lpc_ood_detector *d = NULL;
    ck_assert_int_eq(lpc_ood_detector_new(LPCT_SAMPLES(train, 8, 2, 1, 1, train_y), 2, &o, &d),
                     LPC_OK);
    ck_assert_int_eq(lpc_ood_detector_dim(d), 2);
    ck_assert_int_eq(lpc_ood_detector_classes(d), 2);
    return d;
}

/* Mahalanobis: Sigma_W = (1/8) sum of the offsets' outer products = I/2, so
 * d_c(x) = 2 |x - mu_c|^2; at (3, 2): d_0 = 8, d_1 = 26, score -8.
 * NECO (d = K - 1 = 1): the standardised features have a negative
 * correlation (x: mean 1.5, var 2.75; y: mean 2, var 4.5; cov -3), so the
 * first axis is (1, -1)/sqrt 2; (3, 2) standardises to (a, 0): score
 * 1/sqrt 2, times the maximum logit 5 with neco_max_logit.
 * NC5 against OOD mean (1, 1): |cos| = 1/sqrt 2 for both class means; against
 * (1, 0): 1 and 0, mean 1/2. */
START_TEST(detector_hand_vector)
{
    lpc_ood_detector *d = fit(NULL, 0, 0);
    float x[] = {3, 2};
    double s;
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_MAHALANOBIS, x, NULL, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, -8.0, 1e-13);
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_NECO, x, NULL, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, 1.0 / sqrt(2.0), 1e-13);
    float ood[] = {1, 1, 1, 1}, axis[] = {1, 0};
    ck_assert_int_eq(lpc_ood_detector_nc5(d, ood, 2, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, 1.0 / sqrt(2.0), 1e-15);
    ck_assert_int_eq(lpc_ood_detector_nc5(d, axis, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, 0.5, 1e-15);
    lpc_ood_detector_free(d);
    d = fit(NULL, 1, 0);
    float logits[] = {2, 5};
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_NECO, x, logits, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, 5.0 / sqrt(2.0), 1e-13);
    lpc_ood_detector_free(d);
}
END_TEST

/* ViM with W = I, no bias (origin 0), D = 1: the training second moments are
 * diag(5, 8.5), so the principal axis is y and the residual |x|. alpha =
 * mean max logit / mean |x| = 3.5 / 1.75 = 2. At (3, 2): logsumexp(3, 2) - 6. */
START_TEST(vim_hand_vector)
{
    const float w[] = {1, 0, 0, 1};
    lpc_ood_detector *d = fit(w, 0, 1);
    float x[] = {3, 2};
    double s, want = 3.0 + log1p(exp(-1.0)) - 6.0;
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_VIM, x, NULL, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, want, 1e-13);
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_VIM, x, x, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, want, 1e-13);
    /* Logit scores from W z + b through the detector. */
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_ENERGY, x, NULL, 1, &s), LPC_OK);
    LPCT_ASSERT_CLOSE(s, 3.0 + log1p(exp(-1.0)), 1e-15);
    lpc_ood_detector_free(d);
}
END_TEST

/* Four classes in P = 3 at (2,0,0), (0,2,0), (-2,0,0), (0,-2,0), two samples
 * each at +-(0,0,1). Unit means: 4 adjacent pairs at distance sqrt 2, 2
 * opposite at 2. Log kernel -ln d: mean -(2/3) ln 2, variance (ln 2)^2 / 18.
 * Riesz (s = 1, d^-1): values 1/sqrt 2 (x4), 1/2 (x2). Tr(Sigma_W) = 1,
 * Tr(Sigma_B) = 4: weak NC1 4/5 and 1/5. Equal norms: log equinorm 0. */
START_TEST(gnc_hand_vector)
{
    const float c[4][2] = {{2, 0}, {0, 2}, {-2, 0}, {0, -2}};
    float z[8 * 3];
    int32_t y[8];
    for (int i = 0; i < 8; i++) {
        z[3 * i] = c[i / 2][0];
        z[3 * i + 1] = c[i / 2][1];
        z[3 * i + 2] = i % 2 ? 1.0f : -1.0f;
        y[i] = i / 2;
    }
    lpc_gnc *g = NULL;
    ck_assert_int_eq(lpc_gnc_compute(z, 8, 3, y, 4, &g), LPC_OK);
    double v, l2 = log(2.0), r[6] = {M_SQRT1_2, M_SQRT1_2, M_SQRT1_2, M_SQRT1_2, 0.5, 0.5};
    double rm = 0.0, rv = 0.0;
    for (int i = 0; i < 6; i++)
        rm += r[i] / 6.0;
    for (int i = 0; i < 6; i++)
        rv += (r[i] - rm) * (r[i] - rm) / 6.0;
    const double want[LPC_GNC_METRIC_COUNT] = {-2.0 / 3.0 * l2, l2 * l2 / 18.0, rm, rv, 0.0, 0.8,
                                               0.2};
    for (int m = 0; m < LPC_GNC_METRIC_COUNT; m++) {
        ck_assert_int_eq(lpc_gnc_get(g, (lpc_gnc_metric)m, &v), LPC_OK);
        ck_assert_msg(fabs(v - want[m]) <= 1e-14 * (1.0 + fabs(want[m])), "%s = %.17g, want %.17g",
                      lpc_gnc_metric_name((lpc_gnc_metric)m), v, want[m]);
    }
    lpc_gnc_free(g);
    ck_assert_str_eq(lpc_gnc_metric_name(LPC_GNC_LOG_VAR), "log_var");
    ck_assert_ptr_null(lpc_gnc_metric_name((lpc_gnc_metric)LPC_GNC_METRIC_COUNT));
}
END_TEST

/* K = 300 classes (10 tiles of 32, the last partial) against a direct double
 * loop over every pair, and the same bits with 1 and 2 threads. */
START_TEST(gnc_tiles_and_threads)
{
    int k = 300, p = 5, n = 2 * k;
    float *z = malloc((size_t)n * p * sizeof *z);
    int32_t *y = malloc((size_t)n * sizeof *y);
    double *u = malloc((size_t)k * p * sizeof *u), mu[5] = {0};
    uint64_t state = 26;
    for (int i = 0; i < n * p; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        z[i] = (float)((double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    for (int i = 0; i < n; i++)
        y[i] = i % k;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            mu[j] += z[i * p + j] / (double)n;
    for (int c = 0; c < k; c++) {
        double sq = 0.0;
        for (int j = 0; j < p; j++) {
            u[c * p + j] = ((double)z[c * p + j] + z[(c + k) * p + j]) / 2.0 - mu[j];
            sq += u[c * p + j] * u[c * p + j];
        }
        for (int j = 0; j < p; j++)
            u[c * p + j] /= sqrt(sq);
    }
    double sum = 0.0, sum2 = 0.0, cnt = 0.0;
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++) {
            double d2 = 0.0;
            for (int j = 0; j < p; j++)
                d2 += (u[a * p + j] - u[b * p + j]) * (u[a * p + j] - u[b * p + j]);
            sum += -0.5 * log(d2);
            cnt += 1.0;
        }
    double mean = sum / cnt;
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++) {
            double d2 = 0.0;
            for (int j = 0; j < p; j++)
                d2 += (u[a * p + j] - u[b * p + j]) * (u[a * p + j] - u[b * p + j]);
            sum2 += (-0.5 * log(d2) - mean) * (-0.5 * log(d2) - mean);
        }
    int threads = lpc_get_num_threads();
    double v1[LPC_GNC_METRIC_COUNT], v2[LPC_GNC_METRIC_COUNT];
    for (int t = 1; t <= 2; t++) {
        ck_assert_int_eq(lpc_set_num_threads(t), LPC_OK);
        lpc_gnc *g = NULL;
        ck_assert_int_eq(lpc_gnc_compute(z, n, p, y, k, &g), LPC_OK);
        for (int m = 0; m < LPC_GNC_METRIC_COUNT; m++)
            ck_assert_int_eq(lpc_gnc_get(g, (lpc_gnc_metric)m, (t == 1 ? v1 : v2) + m), LPC_OK);
        lpc_gnc_free(g);
    }
    ck_assert_int_eq(lpc_set_num_threads(threads), LPC_OK);
    LPCT_ASSERT_CLOSE(v1[LPC_GNC_LOG_MEAN], mean, 1e-12);
    LPCT_ASSERT_CLOSE(v1[LPC_GNC_LOG_VAR], sum2 / cnt, 1e-10);
    for (int m = 0; m < LPC_GNC_METRIC_COUNT; m++)
        ck_assert_msg(v1[m] == v2[m], "%s differs between 1 and 2 threads",
                      lpc_gnc_metric_name((lpc_gnc_metric)m));
    free(z);
    free(y);
    free(u);
}
END_TEST

/* Degenerate data: coincident normalised means, zero covariance, a row at
 * the training mean for NECO; failures leave the outputs untouched. */
START_TEST(degenerate)
{
    /* Classes 0 and 1 both at +x from the global mean: the same unit vector. */
    float z[] = {1, 0, 2, 0, -3, 0};
    int32_t y[] = {0, 1, 2};
    lpc_gnc *g = (lpc_gnc *)&g;
    LPCT_EXPECT_ERR(lpc_gnc_compute(z, 3, 2, y, 3, &g), LPC_E_NUMERIC);
    ck_assert_ptr_null(g);
    /* Every sample at its class mean: Sigma_W = 0, so Mahalanobis is
     * undefined, and with W = [1 0] the ViM residual (the y axis) is 0;
     * NECO still works. */
    lpc_ood_detector *d = NULL;
    lpc_ood_detector_options o;
    lpc_ood_detector_options_init(&o);
    const float w[] = {1, 0, 1, 0, 1, 0};
    o.w = w;
    ck_assert_int_eq(lpc_ood_detector_new(LPCT_SAMPLES(z, 3, 2, 1, 1, y), 3, &o, &d), LPC_OK);
    double one = 7;
    LPCT_EXPECT_ERR(lpc_ood_detector_score(d, LPC_OOD_MAHALANOBIS, z, NULL, 1, &one),
                    LPC_E_NUMERIC);
    ck_assert_msg(strstr(lpc_last_error(), "covariance is zero"), "%s", lpc_last_error());
    LPCT_EXPECT_ERR(lpc_ood_detector_score(d, LPC_OOD_VIM, z, NULL, 1, &one), LPC_E_NUMERIC);
    ck_assert(one == 7);
    ck_assert_int_eq(lpc_ood_detector_score(d, LPC_OOD_NECO, z, NULL, 1, &one), LPC_OK);
    lpc_ood_detector_free(d);
    d = fit(NULL, 0, 0);
    float at_mean[] = {1.5f, 2.0f, 3, 2};
    double s[2] = {7, 7};
    LPCT_EXPECT_ERR(lpc_ood_detector_score(d, LPC_OOD_NECO, at_mean, NULL, 2, s), LPC_E_NUMERIC);
    ck_assert(s[0] == 7 && s[1] == 7);
    lpc_ood_detector_free(d);
}
END_TEST

/* The Householder + QL eigensolver of the detector: A v_j = lambda_j v_j,
 * orthonormal rows, descending eigenvalues, on a random symmetric matrix, a
 * matrix with a repeated eigenvalue (I + 2 u u^T: eigenvalues 3, 1, ..., 1)
 * and a diagonal one. */
START_TEST(eigensolver)
{
    enum { N = 40 };
    static double a[N * N], w[N], v[N * N];
    uint64_t state = 7;
    for (int kind = 0; kind < 3; kind++) {
        double u[N], un = 0.0;
        for (int i = 0; i < N; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            u[i] = (double)(state >> 11) / 9007199254740992.0 - 0.5;
            un += u[i] * u[i];
        }
        for (int r = 0; r < N; r++)
            for (int c = 0; c <= r; c++) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                double x = kind == 0   ? (double)(state >> 11) / 9007199254740992.0 - 0.5
                           : kind == 1 ? (r == c) + 2.0 * u[r] * u[c] / un
                                       : (r == c) * (double)((r * 7) % N);
                a[r * N + c] = a[c * N + r] = x;
            }
        ck_assert_int_eq(lpci_eigh_rows(a, N, w, v), LPC_OK);
        for (int j = 0; j < N; j++) {
            if (j > 0)
                ck_assert(w[j] <= w[j - 1]);
            for (int r = 0; r < N; r++) {
                double av = 0.0;
                for (int c = 0; c < N; c++)
                    av += a[r * N + c] * v[j * N + c];
                ck_assert_msg(fabs(av - w[j] * v[j * N + r]) < 1e-13, "kind %d pair %d", kind, j);
            }
            for (int i = 0; i <= j; i++) {
                double d = 0.0;
                for (int c = 0; c < N; c++)
                    d += v[i * N + c] * v[j * N + c];
                ck_assert(fabs(d - (i == j)) < 1e-13);
            }
        }
        if (kind == 1) {
            LPCT_ASSERT_CLOSE(w[0], 3.0, 1e-14);
            LPCT_ASSERT_CLOSE(w[N - 1], 1.0, 1e-14);
        }
        if (kind == 2)
            ck_assert(w[0] == N - 1 && w[N - 1] == 0.0);
    }
    double one = 5.0, w1, v1;
    ck_assert_int_eq(lpci_eigh_rows(&one, 1, &w1, &v1), LPC_OK);
    ck_assert(w1 == 5.0 && fabs(v1) == 1.0);
    a[3] = NAN;
    ck_assert_int_eq(lpci_eigh_rows(a, N, w, v), LPC_E_NUMERIC);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ood");
    TCase *tc = tcase_create("ood");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, metrics_hand_vector);
    tcase_add_test(tc, logit_scores_hand_vector);
    tcase_add_test(tc, detector_hand_vector);
    tcase_add_test(tc, vim_hand_vector);
    tcase_add_test(tc, detector_threads);
    tcase_add_test(tc, gnc_hand_vector);
    tcase_add_test(tc, gnc_tiles_and_threads);
    tcase_add_test(tc, degenerate);
    tcase_add_test(tc, eigensolver);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
