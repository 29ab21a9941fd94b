/* Row-major single-precision GEMM: the AVX-512 kernel (gemm_avx512.c) where
 * the CPU has AVX-512F, BLIS's typed API otherwise. BLIS threads split the
 * output into blocks, each written by one thread, so both paths are
 * deterministic for a given thread count. */
#include <blis.h>
#include "../core/internal.h"

void lpci_sgemm_blis(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
              (dim_t)m, (dim_t)n, (dim_t)k, &alpha, (float *)a, (inc_t)lda, 1, (float *)b,
              (inc_t)ldb, 1, &beta, c, (inc_t)ldc, 1);
}

void lpci_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (lpci_sgemm_avx512_usable() &&
        lpci_sgemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
        return;
    lpci_sgemm_blis(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
