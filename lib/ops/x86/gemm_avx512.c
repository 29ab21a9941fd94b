/* AVX-512F sgemm micro-kernel and packing (compiled with -mavx512f -mfma),
 * inside the loops of gemm_goto.h. Debian's BLIS 0.9 runs its AVX2 kernels
 * on AVX-512 CPUs (its skx context cannot be selected), which reach about
 * half of such a CPU's FMA throughput.
 *
 * C is computed in 12 x 32 tiles: 12 rows broadcast from a packed panel of
 * A against two 16-float vectors of a packed panel of B, accumulated in 24
 * of the 32 zmm registers. */
#include <immintrin.h>
#include "transpose.h"
#include "../kernels.h"

enum { MR = 12, NR = 32 };

/* ---- packing ---- */

/* Rows [i0, i0+mr) x cols [p0, p0+kc) of A into a 12-wide micro-panel:
 * dst[p*MR + r] = A(i0+r, p0+p), zero for r >= mr. */
static void pack_a_panel(lpci_gemm_matrix a, int64_t i0, int mr, int64_t p0, int kc, float *dst)
{
    if (a.trans) { /* A(i, p) = a[p*ld + i]: the 12 values of one p are adjacent */
        __mmask16 live = (__mmask16)((1u << mr) - 1), row = (__mmask16)((1u << MR) - 1);
        const float *src = a.p + p0 * a.ld + i0;
        for (int p = 0; p < kc; p++, src += a.ld)
            _mm512_mask_storeu_ps(dst + p * MR, row, _mm512_maskz_loadu_ps(live, src));
        return;
    }
    /* rows lie ld apart: 8 columns at a time through block transposes of
     * rows 0-7 and 8-11 (rows from mr on read as zero) */
    const float *src = a.p + i0 * a.ld + p0;
    int p8 = kc & ~7;
    for (int p = 0; p < p8; p += 8) {
        __m256 r[MR];
        for (int i = 0; i < MR; i++)
            r[i] = i < mr ? _mm256_loadu_ps(src + i * a.ld + p) : _mm256_setzero_ps();
        transpose8_regs(r, dst + p * MR, MR);
        transpose4x8_regs(r + 8, dst + p * MR + 8, MR);
    }
    for (int p = p8; p < kc; p++)
        for (int i = 0; i < MR; i++)
            dst[p * MR + i] = i < mr ? src[i * a.ld + p] : 0.0f;
}

/* Rows [p0, p0+kc) x cols [j0, j0+nr) of B into a 32-wide micro-panel:
 * dst[p*NR + c] = B(p0+p, j0+c), zero for c >= nr. A contiguous panel
 * streams into L1 far better than rows that lie ldb apart. */
static void pack_b_panel(lpci_gemm_matrix b, int64_t p0, int kc, int64_t j0, int nr, float *dst)
{
    if (!b.trans) {
        __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
        __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
        const float *src = b.p + p0 * b.ld + j0;
        for (int p = 0; p < kc; p++, src += b.ld) {
            _mm512_store_ps(dst + p * NR, _mm512_maskz_loadu_ps(m0, src));
            _mm512_store_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
        return;
    }
    /* B stored transposed, B(p, j) = b[j*ld + p]: 8 x 8 block transposes */
    const float *src = b.p + j0 * b.ld + p0;
    int c8 = nr & ~7, p8 = kc & ~7;
    for (int c = 0; c < c8; c += 8)
        for (int p = 0; p < p8; p += 8)
            transpose8(src + c * b.ld + p, b.ld, dst + p * NR + c, NR);
    for (int p = 0; p < kc; p++)
        for (int c = p < p8 ? c8 : 0; c < NR; c++)
            dst[p * NR + c] = c < nr ? src[c * b.ld + p] : 0.0f;
}

/* ---- micro-kernel ---- */

/* Tile of C (mr x nr, both at most the full 12 x 32) = beta C + alpha a b
 * from packed micro-panels a and b. beta == 0 never reads C. */
static void micro_kernel(int kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                          int nr, float alpha, float beta)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00,
           c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00, c90 = c00, c91 = c00,
           ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
    for (int r = 0; r < mr; r++) { /* C's rows are far apart: fetch them during the loop */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + nr - 1), _MM_HINT_T0);
    }
#define LPCI_ROW(r, x0, x1)                                                                        \
    {                                                                                              \
        __m512 ar = _mm512_set1_ps(a[r]);                                                          \
        x0 = _mm512_fmadd_ps(ar, b0, x0);                                                          \
        x1 = _mm512_fmadd_ps(ar, b1, x1);                                                          \
    }
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0); /* B streams from L2 */
        _mm_prefetch((const char *)(b + 8 * NR + 16), _MM_HINT_T0);
        LPCI_ROW(0, c00, c01) LPCI_ROW(1, c10, c11) LPCI_ROW(2, c20, c21)
        LPCI_ROW(3, c30, c31) LPCI_ROW(4, c40, c41) LPCI_ROW(5, c50, c51)
        LPCI_ROW(6, c60, c61) LPCI_ROW(7, c70, c71) LPCI_ROW(8, c80, c81)
        LPCI_ROW(9, c90, c91) LPCI_ROW(10, ca0, ca1) LPCI_ROW(11, cb0, cb1)
        a += MR;
        b += NR;
    }
#undef LPCI_ROW
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define LPCI_STORE(r, x0, x1)                                                                      \
    if (r < mr) {                                                                                  \
        float *cr = c + (r) * ldc;                                                                 \
        __m512 y0 = _mm512_mul_ps(va, x0), y1 = _mm512_mul_ps(va, x1);                             \
        if (beta != 0.0f) {                                                                        \
            y0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), y0);                           \
            y1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), y1);                      \
        }                                                                                          \
        _mm512_mask_storeu_ps(cr, m0, y0);                                                         \
        _mm512_mask_storeu_ps(cr + 16, m1, y1);                                                    \
    }
    LPCI_STORE(0, c00, c01) LPCI_STORE(1, c10, c11) LPCI_STORE(2, c20, c21)
    LPCI_STORE(3, c30, c31) LPCI_STORE(4, c40, c41) LPCI_STORE(5, c50, c51)
    LPCI_STORE(6, c60, c61) LPCI_STORE(7, c70, c71) LPCI_STORE(8, c80, c81)
    LPCI_STORE(9, c90, c91) LPCI_STORE(10, ca0, ca1) LPCI_STORE(11, cb0, cb1)
#undef LPCI_STORE
}

#define GOTO_ENTRY lpci_sgemm_avx512
#include "../gemm_goto.h"
