/* Advanced SIMD (NEON) sgemm micro-kernel for aarch64, inside the loops of
 * gemm_goto.h with the portable packing. C is computed in 8 x 12 tiles:
 * each step loads 8 values of A (two q registers) and 12 of B (three), and
 * multiplies every B vector by every A lane into 24 accumulators: 29 of
 * the 32 q registers. */
#include <arm_neon.h>
#include "../kernels.h"

enum { MR = 8, NR = 12 };
#include "../gemm_pack.h"

#define pack_a_panel pack_a_portable
#define pack_b_panel pack_b_portable

static void micro_kernel(int kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                         int nr, float alpha, float beta)
{
    float32x4_t z = vdupq_n_f32(0.0f);
    float32x4_t c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z,
                c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z,
                c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
#define LPCI_ROW(x0, x1, x2, av, lane)                                                             \
    x0 = vfmaq_laneq_f32(x0, b0, av, lane);                                                        \
    x1 = vfmaq_laneq_f32(x1, b1, av, lane);                                                        \
    x2 = vfmaq_laneq_f32(x2, b2, av, lane);
    for (int p = 0; p < kc; p++) {
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        LPCI_ROW(c00, c01, c02, a0, 0) LPCI_ROW(c10, c11, c12, a0, 1)
        LPCI_ROW(c20, c21, c22, a0, 2) LPCI_ROW(c30, c31, c32, a0, 3)
        LPCI_ROW(c40, c41, c42, a1, 0) LPCI_ROW(c50, c51, c52, a1, 1)
        LPCI_ROW(c60, c61, c62, a1, 2) LPCI_ROW(c70, c71, c72, a1, 3)
        a += MR;
        b += NR;
    }
#undef LPCI_ROW
    float32x4_t rows[MR][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22},
                               {c30, c31, c32}, {c40, c41, c42}, {c50, c51, c52},
                               {c60, c61, c62}, {c70, c71, c72}};
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc, out[NR];
        for (int v = 0; v < 3; v++)
            vst1q_f32(out + 4 * v, vmulq_n_f32(rows[r][v], alpha));
        if (beta != 0.0f)
            for (int j = 0; j < nr; j++)
                cr[j] = beta * cr[j] + out[j];
        else
            for (int j = 0; j < nr; j++)
                cr[j] = out[j];
    }
}

#define GOTO_ENTRY lpci_sgemm_neon
#include "../gemm_goto.h"
