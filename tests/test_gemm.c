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

typedef struct {
    const char *name;
    lpc_cpu_path path; /* LPC_CPU_AUTO: every CPU */
    lpci_sgemm_fn *fn; /* NULL: BLIS */
} impl;

/* BLIS, then each own kernel (lpci_sgemm_kernels). */
static const impl impls[] = {{"blis", LPC_CPU_AUTO, NULL}};
enum { N_IMPLS = sizeof impls / sizeof *impls };

static float uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) * (1.0 / 16777216.0)) - 0.5f;
}

/* Runs every implementation on one case, the own kernels on 1 and 2
 * threads (BLIS on 1: it is not ours to test), and compares
 * every element of C, padding included, with one double-precision
 * reference (computed once: under emulation it is the slow part). */
static void check_case(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta)
{
    const int64_t pad = 3;
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * (size_t)(ar * lda + 1));
    float *b = malloc(sizeof(float) * (size_t)(br * ldb + 1));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    double *ref = malloc(sizeof(double) * (size_t)(m * n + 1));
    double *mag = malloc(sizeof(double) * (size_t)(m * n + 1));
    ck_assert(a && b && c && c0 && ref && mag);
    uint64_t s = (uint64_t)(m * 1000003 + n * 1009 + k);
    for (int64_t i = 0; i < ar * lda; i++)
        a[i] = i % lda < ac ? uniform(&s) : NAN; /* padding must never be read */
    for (int64_t i = 0; i < br * ldb; i++)
        b[i] = i % ldb < bc ? uniform(&s) : NAN;
    for (int64_t i = 0; i < m * ldc; i++)
        c0[i] = i % ldc < n ? (beta == 0.0f ? NAN : uniform(&s)) : 7.0f;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double r = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j], g = fabs(r);
            for (int64_t p = 0; p < k; p++) {
                double x = ta ? a[p * lda + i] : a[i * lda + p];
                double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                r += (double)alpha * x * y;
                g += fabs((double)alpha * x * y);
            }
            ref[i * n + j] = r;
            mag[i * n + j] = g;
        }
    for (int f = 0; f < N_IMPLS + lpci_sgemm_kernel_count; f++) {
        impl it = f < N_IMPLS ? impls[f]
                              : (impl){lpc_cpu_path_name(lpci_sgemm_kernels[f - N_IMPLS].path),
                                       lpci_sgemm_kernels[f - N_IMPLS].path,
                                       lpci_sgemm_kernels[f - N_IMPLS].fn};
        if (!lpc_cpu_path_supported(it.path))
            continue;
        for (int threads = 1; threads <= (it.fn ? 2 : 1); threads++) {
            ck_assert_int_eq(lpc_set_num_threads(threads), LPC_OK);
            memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));
            if (it.fn)
                ck_assert(it.fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
            else
                lpci_sgemm_blis(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < ldc; j++) {
                    float got = c[i * ldc + j];
                    if (j >= n) {
                        ck_assert_msg(got == 7.0f, "%s: padding of C written at %lld,%lld",
                                      it.name, (long long)i, (long long)j);
                        continue;
                    }
                    double want = ref[i * n + j];
                    ck_assert_msg(fabs(got - want) <= 1e-6 * mag[i * n + j] + 1e-7,
                                  "%s, %d threads, ta=%d tb=%d m=%lld n=%lld k=%lld: C[%lld,%lld] "
                                  "= %.9g, expected %.9g",
                                  it.name, threads, ta, tb, (long long)m, (long long)n,
                                  (long long)k, (long long)i, (long long)j, (double)got, want);
                }
        }
    }
    ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
    free(a), free(b), free(c), free(c0), free(ref), free(mag);
}

START_TEST(all_match_reference)
{
    static const int64_t sizes[][3] = {{1, 1, 1},   {12, 32, 8},   {13, 33, 9},  {11, 31, 300},
                                       {5, 100, 7}, {37, 70, 513}, {64, 17, 0},  {130, 65, 257},
                                       {25, 520, 20}, {400, 40, 40}, {30, 50, 1500}};
    static const float ab[][2] = {{1.0f, 0.0f}, {-0.5f, 1.0f}, {2.0f, 0.25f}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int t = 0; t < 4; t++)
            for (size_t j = 0; j < sizeof ab / sizeof *ab; j++)
                check_case(t & 1, t >> 1, sizes[i][0], sizes[i][1], sizes[i][2], ab[j][0],
                           ab[j][1]);
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
    for (int i = 0; i < lpci_sgemm_kernel_count; i++) {
        const lpci_sgemm_kernel *it = &lpci_sgemm_kernels[i];
        if (!lpc_cpu_path_supported(it->path))
            continue;
        ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
        ck_assert(it->fn(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c1, n));
        ck_assert_int_eq(lpc_set_num_threads(3), LPC_OK);
        ck_assert(it->fn(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c3, n));
        ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
        ck_assert_msg(memcmp(c1, c3, sizeof(float) * m * n) == 0, "%s: 1 and 3 threads differ",
                      lpc_cpu_path_name(it->path));
    }
    free(a);
    free(b);
    free(c1);
    free(c3);
}
END_TEST

/* lpci_sgemm runs the kernel of the path in use (BLIS on generic). */
START_TEST(dispatch_follows_path)
{
    const int64_t m = 50, n = 70, k = 90;
    float a[50 * 90], b[90 * 70], want[50 * 70], got[50 * 70];
    uint64_t s = 7;
    for (int64_t i = 0; i < m * k; i++)
        a[i] = uniform(&s);
    for (int64_t i = 0; i < k * n; i++)
        b[i] = uniform(&s);
    lpc_cpu_path start = lpc_get_cpu_path();
    for (int i = -1; i < lpci_sgemm_kernel_count; i++) {
        lpc_cpu_path path = i < 0 ? LPC_CPU_GENERIC : lpci_sgemm_kernels[i].path;
        if (!lpc_cpu_path_supported(path))
            continue;
        ck_assert_int_eq(lpc_set_cpu_path(path), LPC_OK);
        if (i < 0)
            lpci_sgemm_blis(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, want, n);
        else
            ck_assert(lpci_sgemm_kernels[i].fn(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, want, n));
        lpci_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, got, n);
        ck_assert_msg(memcmp(want, got, sizeof got) == 0, "%s", lpc_cpu_path_name(path));
    }
    ck_assert_int_eq(lpc_set_cpu_path(start), LPC_OK);
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
    tcase_add_test(tc, all_match_reference);
    tcase_add_test(tc, dispatch_follows_path);
    tcase_add_test(tc, kernels_threads_bit_identical);
    tcase_add_test(tc, blocking_is_sane);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
