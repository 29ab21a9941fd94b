/* Portable packing of GEMM micro-panels for an MR x NR micro-kernel (MR
 * and NR defined by the including kernel file, which compiles them with its
 * own instruction set). Layouts as gemm_goto.h describes. */
#include "kernels.h"

static void pack_a_portable(lpci_gemm_matrix a, int64_t i0, int mr, int64_t p0, int kc, float *dst)
{
    if (a.trans) { /* A(i, p) = a[p*ld + i]: the MR values of one p are adjacent */
        const float *src = a.p + p0 * a.ld + i0;
        for (int p = 0; p < kc; p++, src += a.ld)
            for (int i = 0; i < MR; i++)
                dst[p * MR + i] = i < mr ? src[i] : 0.0f;
        return;
    }
    for (int i = 0; i < MR; i++) { /* one row of A at a time, read in order */
        const float *src = a.p + (i0 + i) * a.ld + p0;
        for (int p = 0; p < kc; p++)
            dst[p * MR + i] = i < mr ? src[p] : 0.0f;
    }
}

static void pack_b_portable(lpci_gemm_matrix b, int64_t p0, int kc, int64_t j0, int nr, float *dst)
{
    if (!b.trans) { /* B(p, j) = b[p*ld + j]: the NR values of one p are adjacent */
        const float *src = b.p + p0 * b.ld + j0;
        for (int p = 0; p < kc; p++, src += b.ld)
            for (int c = 0; c < NR; c++)
                dst[p * NR + c] = c < nr ? src[c] : 0.0f;
        return;
    }
    for (int c = 0; c < NR; c++) { /* one row of the stored B^T at a time */
        const float *src = b.p + (j0 + c) * b.ld + p0;
        for (int p = 0; p < kc; p++)
            dst[p * NR + c] = c < nr ? src[p] : 0.0f;
    }
}
