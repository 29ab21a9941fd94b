/* AVX2 Winograd F(2x2, 3x3) transforms (compiled with -mavx2 -mfma): the
 * 16 tiles or 16 channels of a call in two halves of 8 lanes, one ymm
 * register each, with the strided reads and writes of winograd_access.h. The
 * arithmetic is the AVX-512 kernel's, operation for operation, so both
 * paths compute the same values. The contracts are kernels.h's. */
#include <immintrin.h>
#include "../winograd_access.h"

enum { LANES = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS, HALF = 8 };

/* Lanes [0, n) of 8 as a maskload/maskstore mask. */
static __m256i first_lanes(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void lpci_wino_input_avx2(const lpci_wino_tables *t, const float *plane, int64_t grp,
                          uint16_t live, float *v, int64_t xi_step)
{
    float taps[TAPS][LANES] __attribute__((aligned(32)));
    load_taps(t, plane, grp, live, taps);
    for (int h = 0; h < LANES; h += HALF) {
        __m256 d[TAPS], e[TAPS];
        for (int k = 0; k < TAPS; k++)
            d[k] = _mm256_load_ps(taps[k] + h);
        for (int c = 0; c < 4; c++) { /* rows: B^T d */
            e[0 + c] = _mm256_sub_ps(d[0 + c], d[8 + c]);
            e[4 + c] = _mm256_add_ps(d[4 + c], d[8 + c]);
            e[8 + c] = _mm256_sub_ps(d[8 + c], d[4 + c]);
            e[12 + c] = _mm256_sub_ps(d[4 + c], d[12 + c]);
        }
        for (int r = 0; r < 4; r++) { /* columns: (B^T d) B */
            const __m256 *q = e + 4 * r;
            float *row = v + 4 * r * xi_step + h;
            _mm256_storeu_ps(row, _mm256_sub_ps(q[0], q[2]));
            _mm256_storeu_ps(row + xi_step, _mm256_add_ps(q[1], q[2]));
            _mm256_storeu_ps(row + 2 * xi_step, _mm256_sub_ps(q[2], q[1]));
            _mm256_storeu_ps(row + 3 * xi_step, _mm256_sub_ps(q[1], q[3]));
        }
    }
}

void lpci_wino_output_avx2(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *m,
                           int64_t xi_step, int64_t tau, int lanes, float *y)
{
    for (int h = 0; h < lanes; h += HALF) {
        int n = lanes - h < HALF ? lanes - h : HALF;
        __m256i live = first_lanes(n);
        __m256 z[8], out[OUTS];
        for (int c = 0; c < 4; c++) { /* rows: A^T m */
            __m256 m0 = _mm256_maskload_ps(m + (0 + c) * xi_step + h, live),
                   m1 = _mm256_maskload_ps(m + (4 + c) * xi_step + h, live),
                   m2 = _mm256_maskload_ps(m + (8 + c) * xi_step + h, live),
                   m3 = _mm256_maskload_ps(m + (12 + c) * xi_step + h, live);
            z[c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
            z[4 + c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
        }
        for (int r = 0; r < 2; r++) { /* columns: (A^T m) A */
            const __m256 *q = z + 4 * r;
            out[2 * r] = _mm256_add_ps(_mm256_add_ps(q[0], q[1]), q[2]);
            out[2 * r + 1] = _mm256_sub_ps(_mm256_sub_ps(q[1], q[2]), q[3]);
        }
        for (int k = 0; k < OUTS; k++) {
            if (!(t->out_valid[tau] >> k & 1))
                continue;
            float val[HALF] __attribute__((aligned(32)));
            _mm256_store_ps(val, out[k]);
            store_channels(val, n, g->hw, y + t->out_off[tau * OUTS + k] + h * g->hw);
        }
    }
}

void lpci_wino_grad_avx2(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *dy,
                         int64_t tau, int lanes, float *z, int64_t xi_step)
{
    for (int h = 0; h < lanes; h += HALF) {
        int n = lanes - h < HALF ? lanes - h : HALF;
        __m256i live = first_lanes(n);
        __m256 e[OUTS], f[8], zero = _mm256_setzero_ps();
        for (int k = 0; k < OUTS; k++) { /* outputs outside the image read as 0 */
            float val[HALF] __attribute__((aligned(32)));
            load_channels(dy + t->out_off[tau * OUTS + k] + h * g->hw,
                          t->out_valid[tau] >> k & 1 ? n : 0, HALF, g->hw, val);
            e[k] = _mm256_load_ps(val);
        }
        for (int c = 0; c < 2; c++) { /* rows: A e */
            f[0 + c] = e[c];
            f[2 + c] = _mm256_add_ps(e[c], e[2 + c]);
            f[4 + c] = _mm256_sub_ps(e[c], e[2 + c]);
            f[6 + c] = _mm256_sub_ps(zero, e[2 + c]);
        }
        for (int r = 0; r < 4; r++) { /* columns: (A e) A^T */
            const __m256 *q = f + 2 * r;
            float *row = z + 4 * r * xi_step + h;
            _mm256_maskstore_ps(row, live, q[0]);
            _mm256_maskstore_ps(row + xi_step, live, _mm256_add_ps(q[0], q[1]));
            _mm256_maskstore_ps(row + 2 * xi_step, live, _mm256_sub_ps(q[0], q[1]));
            _mm256_maskstore_ps(row + 3 * xi_step, live, _mm256_sub_ps(zero, q[1]));
        }
    }
}
