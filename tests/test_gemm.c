/* The row-major sgemm behind every matmul and convolution: BLIS, the
 * dispatched path and every own kernel this CPU can run (AVX2, AVX-512 or
 * NEON) against a double-precision reference on edge shapes, transposes,
 * alpha/beta and padded leading dimensions; the cache blocking. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "ops/kernels.h"
#include "lpct.h"

typedef void gemm_fn(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                     const float *, int64_t, float, float *, int64_t);

typedef struct {
    lpc_cpu_path path;
    lpci_sgemm_fn *fn;
} kernel;

static const kernel kernels[] = {
#if defined(__x86_64__)
    {LPC_CPU_AVX2, lpci_sgemm_avx2},
    {LPC_CPU_AVX512, lpci_sgemm_avx512},
#elif defined(__aarch64__)
    {LPC_CPU_NEON, lpci_sgemm_neon},
#endif
};
enum { N_KERNELS = sizeof kernels / sizeof *kernels };

static lpci_sgemm_fn *under_test; /* the kernel check_all's callback runs */

static void kernel_or_fail(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                           const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                           float *c, int64_t ldc)
{
    ck_assert(under_test(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}

static float uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) * (1.0 / 16777216.0)) - 0.5f;
}

/* Runs f on one case and compares every element of C, padding included. */
static void check_case(gemm_fn *f, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                       float beta)
{
    const int64_t pad = 3;
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * (size_t)(ar * lda + 1));
    float *b = malloc(sizeof(float) * (size_t)(br * ldb + 1));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    ck_assert(a && b && c && c0);
    uint64_t s = (uint64_t)(m * 1000003 + n * 1009 + k);
    for (int64_t i = 0; i < ar * lda; i++)
        a[i] = i % lda < ac ? uniform(&s) : NAN; /* padding must never be read */
    for (int64_t i = 0; i < br * ldb; i++)
        b[i] = i % ldb < bc ? uniform(&s) : NAN;
    for (int64_t i = 0; i < m * ldc; i++)
        c[i] = c0[i] = i % ldc < n ? (beta == 0.0f ? NAN : uniform(&s)) : 7.0f;
    f(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            if (j >= n) {
                ck_assert_msg(c[i * ldc + j] == 7.0f, "padding of C written at %lld,%lld",
                              (long long)i, (long long)j);
                continue;
            }
            double ref = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j], mag = fabs(ref);
            for (int64_t p = 0; p < k; p++) {
                double x = ta ? a[p * lda + i] : a[i * lda + p];
                double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                ref += (double)alpha * x * y;
                mag += fabs((double)alpha * x * y);
            }
            ck_assert_msg(fabs(c[i * ldc + j] - ref) <= 1e-6 * mag + 1e-7,
                          "ta=%d tb=%d m=%lld n=%lld k=%lld: C[%lld,%lld] = %.9g, expected %.9g",
                          ta, tb, (long long)m, (long long)n, (long long)k, (long long)i,
                          (long long)j, (double)c[i * ldc + j], ref);
        }
    }
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void check_all(gemm_fn *f)
{
    static const int64_t sizes[][3] = {{1, 1, 1},   {12, 32, 8},   {13, 33, 9},  {11, 31, 300},
                                       {5, 100, 7}, {37, 70, 513}, {64, 17, 0},  {130, 65, 257},
                                       {25, 520, 20}, {400, 40, 40}, {30, 50, 1500}};
    static const float ab[][2] = {{1.0f, 0.0f}, {-0.5f, 1.0f}, {2.0f, 0.25f}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int t = 0; t < 4; t++)
            for (size_t j = 0; j < sizeof ab / sizeof *ab; j++)
                check_case(f, t & 1, t >> 1, sizes[i][0], sizes[i][1], sizes[i][2], ab[j][0],
                           ab[j][1]);
}

START_TEST(blis_matches_reference) { check_all(lpci_sgemm_blis); }
END_TEST

START_TEST(dispatch_matches_reference) { check_all(lpci_sgemm); }
END_TEST

START_TEST(kernels_match_reference)
{
    for (int i = 0; i < N_KERNELS; i++) {
        if (!lpc_cpu_path_supported(kernels[i].path)) {
            printf("skipped %s: this CPU cannot run it\n", lpc_cpu_path_name(kernels[i].path));
            continue;
        }
        under_test = kernels[i].fn;
        check_all(kernel_or_fail);
        ck_assert_int_eq(lpc_set_num_threads(2), LPC_OK);
        check_all(kernel_or_fail);
        ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
    }
}
END_TEST

/* Threads split C, never K, so any thread count gives the same bits. */
START_TEST(kernels_threads_bit_identical)
{
    const int64_t m = 200, n = 300, k = 700;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c1 = malloc(sizeof(float) * m * n), *c3 = malloc(sizeof(float) * m * n);
    ck_assert(a && b && c1 && c3);
    uint64_t s = 42;
    for (int64_t i = 0; i < m * k; i++)
        a[i] = uniform(&s);
    for (int64_t i = 0; i < k * n; i++)
        b[i] = uniform(&s);
    for (int i = 0; i < N_KERNELS; i++) {
        if (!lpc_cpu_path_supported(kernels[i].path))
            continue;
        ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
        ck_assert(kernels[i].fn(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c1, n));
        ck_assert_int_eq(lpc_set_num_threads(3), LPC_OK);
        ck_assert(kernels[i].fn(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c3, n));
        ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
        ck_assert_msg(memcmp(c1, c3, sizeof(float) * m * n) == 0, "%s: 1 and 3 threads differ",
                      lpc_cpu_path_name(kernels[i].path));
    }
    free(a);
    free(b);
    free(c1);
    free(c3);
}
END_TEST

/* Block sizes fit the micro-tiles and the caches' sane range. */
START_TEST(blocking_is_sane)
{
    static const int tiles[][2] = {{6, 16}, {8, 12}, {12, 32}};
    for (int i = 0; i < 3; i++) {
        int mr = tiles[i][0], nr = tiles[i][1], kc, mb, nb;
        lpci_gemm_blocking(mr, nr, &kc, &mb, &nb);
        ck_assert_int_ge(kc, 128);
        ck_assert_int_le(kc, 512);
        ck_assert_int_eq(mb % mr, 0);
        ck_assert_int_eq(nb % nr, 0);
        ck_assert_int_ge(mb, 4 * mr);
        ck_assert_int_ge(nb, 4 * nr);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_add_test(tc, blis_matches_reference);
    tcase_add_test(tc, dispatch_matches_reference);
    tcase_add_test(tc, kernels_match_reference);
    tcase_add_test(tc, kernels_threads_bit_identical);
    tcase_add_test(tc, blocking_is_sane);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
