/* The Goto/BLIS GEMM loops around one instruction set's micro-kernel,
 * included by each kernel file (x86/gemm_avx2.c, x86/gemm_avx512.c,
 * arm/gemm_neon.c) so that they compile with its flags. Before including
 * it, a file defines MR and NR (the micro-tile) and:
 *   pack_a_panel(a, i0, mr, p0, kc, dst): dst[p*MR + r] = A(i0+r, p0+p),
 *       zero for r >= mr;
 *   pack_b_panel(b, p0, kc, j0, nr, dst): dst[p*NR + c] = B(p0+p, j0+c),
 *       zero for c >= nr (dst 64-byte aligned);
 *   micro_kernel(kc, a, b, c, ldc, mr, nr, alpha, beta): the mr x nr tile
 *       of C = beta C + alpha a b from packed micro-panels; beta == 0 never
 *       reads C;
 * and GOTO_ENTRY, the name of the lpci_sgemm_fn to define.
 *
 * Loops: K in blocks of kc, then rows of A in blocks of mb (packed once),
 * then columns of B in blocks of nb (packed into L2), then MR-row A
 * micro-panels (kept in L1) against NR-column B micro-panels streamed from
 * L2 (lpci_gemm_blocking sizes them). Threads split C into column (or row)
 * ranges; every element of C is computed by one thread in one order. */
#include <omp.h>
#include "kernels.h"

typedef struct {
    int kc, mb, nb;
} gemm_goto_blocks;

static int64_t goto_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* One thread's C[m x n] = alpha op(A) op(B) + beta C through `work`. */
static void goto_serial(const gemm_goto_blocks *bl, lpci_gemm_matrix a, lpci_gemm_matrix b, int64_t m, int64_t n,
                        int64_t k, float alpha, float beta, float *c, int64_t ldc, float *work)
{
    float *apack = work, *bpack = work + (int64_t)bl->mb * bl->kc;
    if (k == 0) { /* no products: C = beta C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    /* equal K blocks of at most kc: 784 runs as 4 x 196, not 3 x 256 + 16 */
    int64_t k_blocks = (k + bl->kc - 1) / bl->kc, kc_even = (k + k_blocks - 1) / k_blocks;
    for (int64_t p0 = 0; p0 < k; p0 += kc_even) {
        int kc = (int)goto_min(kc_even, k - p0);
        float beta_k = p0 == 0 ? beta : 1.0f;
        for (int64_t i0 = 0; i0 < m; i0 += bl->mb) {
            int64_t mb = goto_min(bl->mb, m - i0);
            for (int64_t r = 0; r < mb; r += MR)
                pack_a_panel(a, i0 + r, (int)goto_min(MR, mb - r), p0, kc, apack + r * kc);
            for (int64_t j0 = 0; j0 < n; j0 += bl->nb) {
                int64_t nb = goto_min(bl->nb, n - j0);
                for (int64_t q = 0; q < nb; q += NR)
                    pack_b_panel(b, p0, kc, j0 + q, (int)goto_min(NR, nb - q), bpack + q * kc);
                for (int64_t r = 0; r < mb; r += MR)
                    for (int64_t q = 0; q < nb; q += NR)
                        micro_kernel(kc, apack + r * kc, bpack + q * kc,
                                     c + (i0 + r) * ldc + j0 + q, ldc, (int)goto_min(MR, mb - r),
                                     (int)goto_min(NR, nb - q), alpha, beta_k);
            }
        }
    }
}

int GOTO_ENTRY(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
               int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    gemm_goto_blocks bl;
    lpci_gemm_blocking(MR, NR, &bl.kc, &bl.mb, &bl.nb);
    /* packed A block, packed B block (rounded up to whole micro-panels) */
    size_t floats = (size_t)(bl.mb + MR) * bl.kc + (size_t)(bl.nb + NR) * bl.kc;
    int nt = omp_in_parallel() ? 1 : lpci_threads();
    if (m * n * k < (int64_t)1 << 18)
        nt = 1; /* too small to pay for waking threads */
    if (nt == 1) { /* no parallel region: callers inside one run many small GEMMs */
        float *work = lpci_gemm_workspace(floats);
        if (!work)
            return 0;
        lpci_gemm_matrix av = {a, lda, ta}, bv = {b, ldb, tb};
        goto_serial(&bl, av, bv, m, n, k, alpha, beta, c, ldc, work);
        return 1;
    }
    int ok = 1;
#pragma omp parallel num_threads(nt)
    {
        float *work = lpci_gemm_workspace(floats);
        if (!work) {
#pragma omp atomic write
            ok = 0;
        }
#pragma omp barrier
        int64_t i0, mi, j0, nj;
        int all_ok;
#pragma omp atomic read
        all_ok = ok;
        int t = omp_get_thread_num();
        if (all_ok && lpci_gemm_split(m, n, MR, NR, omp_get_num_threads(), t, &i0, &mi, &j0, &nj)) {
            lpci_gemm_matrix av = {ta ? a + i0 : a + i0 * lda, lda, ta};
            lpci_gemm_matrix bv = {tb ? b + j0 * ldb : b + j0, ldb, tb};
            goto_serial(&bl, av, bv, mi, nj, k, alpha, beta, c + i0 * ldc + j0, ldc, work);
        }
    }
    return ok;
}
