/* AVX2 + FMA sgemm micro-kernel and packing (compiled with -mavx2 -mfma),
 * inside the loops of gemm_goto.h. C is computed in 6 x 16 tiles: 6 rows
 * broadcast from a packed panel of A against two 8-float vectors of a
 * packed panel of B, accumulated in 12 ymm registers; with the two B
 * vectors and the broadcast that is 15 of the 16. */
#include <immintrin.h>
#include <string.h>
#include "transpose.h"
#include "../kernels.h"

enum { MR = 6, NR = 16 };
#include "../gemm_pack.h"

/* Rows A(i0.., p0..) ld apart go through 8 x 8 transposes, 8 columns of
 * the panel at a time; the rest packs portably. */
static void pack_a_panel(lpci_gemm_matrix a, int64_t i0, int mr, int64_t p0, int kc, float *dst)
{
    if (a.trans || mr < MR) {
        pack_a_portable(a, i0, mr, p0, kc, dst);
        return;
    }
    const float *src = a.p + i0 * a.ld + p0;
    int p8 = kc & ~7;
    for (int p = 0; p < p8; p += 8) {
        __m256 r[8];
        float t[8 * 8];
        for (int i = 0; i < 8; i++)
            r[i] = i < MR ? _mm256_loadu_ps(src + i * a.ld + p) : _mm256_setzero_ps();
        transpose8_regs(r, t, 8);
        for (int q = 0; q < 8; q++)
            memcpy(dst + (p + q) * MR, t + q * 8, MR * sizeof(float));
    }
    for (int p = p8; p < kc; p++)
        for (int i = 0; i < MR; i++)
            dst[p * MR + i] = src[i * a.ld + p];
}

static void pack_b_panel(lpci_gemm_matrix b, int64_t p0, int kc, int64_t j0, int nr, float *dst)
{
    if (nr < NR) {
        pack_b_portable(b, p0, kc, j0, nr, dst);
        return;
    }
    if (!b.trans) {
        const float *src = b.p + p0 * b.ld + j0;
        for (int p = 0; p < kc; p++, src += b.ld) {
            _mm256_store_ps(dst + p * NR, _mm256_loadu_ps(src));
            _mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(src + 8));
        }
        return;
    }
    /* B stored transposed, B(p, j) = b[j*ld + p]: 8 x 8 block transposes */
    const float *src = b.p + j0 * b.ld + p0;
    int p8 = kc & ~7;
    for (int c = 0; c < NR; c += 8)
        for (int p = 0; p < p8; p += 8)
            transpose8(src + c * b.ld + p, b.ld, dst + p * NR + c, NR);
    for (int p = p8; p < kc; p++)
        for (int c = 0; c < NR; c++)
            dst[p * NR + c] = src[c * b.ld + p];
}

/* Lanes [0, n) of 8 as a maskload/maskstore mask (n may be <= 0 or >= 8). */
static __m256i first_lanes(int n)
{
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
}

static void micro_kernel(int kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                         int nr, float alpha, float beta)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int r = 0; r < mr; r++) /* C's rows are far apart: fetch them during the loop */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
#define LPCI_ROW(r, x0, x1)                                                                        \
    {                                                                                              \
        __m256 ar = _mm256_broadcast_ss(a + (r));                                                  \
        x0 = _mm256_fmadd_ps(ar, b0, x0);                                                          \
        x1 = _mm256_fmadd_ps(ar, b1, x1);                                                          \
    }
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0); /* B streams from L2 */
        LPCI_ROW(0, c00, c01) LPCI_ROW(1, c10, c11) LPCI_ROW(2, c20, c21)
        LPCI_ROW(3, c30, c31) LPCI_ROW(4, c40, c41) LPCI_ROW(5, c50, c51)
        a += MR;
        b += NR;
    }
#undef LPCI_ROW
    __m256i m0 = first_lanes(nr), m1 = first_lanes(nr - 8);
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#define LPCI_STORE(r, x0, x1)                                                                      \
    if (r < mr) {                                                                                  \
        float *cr = c + (r) * ldc;                                                                 \
        __m256 y0 = _mm256_mul_ps(va, x0), y1 = _mm256_mul_ps(va, x1);                             \
        if (nr == NR) {                                                                            \
            if (beta != 0.0f) {                                                                    \
                y0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), y0);                                 \
                y1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), y1);                             \
            }                                                                                      \
            _mm256_storeu_ps(cr, y0);                                                              \
            _mm256_storeu_ps(cr + 8, y1);                                                          \
        } else {                                                                                   \
            if (beta != 0.0f) {                                                                    \
                y0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), y0);                          \
                y1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), y1);                      \
            }                                                                                      \
            _mm256_maskstore_ps(cr, m0, y0);                                                       \
            _mm256_maskstore_ps(cr + 8, m1, y1);                                                   \
        }                                                                                          \
    }
    LPCI_STORE(0, c00, c01) LPCI_STORE(1, c10, c11) LPCI_STORE(2, c20, c21)
    LPCI_STORE(3, c30, c31) LPCI_STORE(4, c40, c41) LPCI_STORE(5, c50, c51)
#undef LPCI_STORE
}

#define GOTO_ENTRY lpci_sgemm_avx2
#include "../gemm_goto.h"
