/* AVX-512F Winograd F(2x2, 3x3) transforms (compiled with -mavx512f): 16
 * tiles or 16 channels per zmm register, gathered and scattered by scalar
 * loads and stores that skip the padding (winograd_access.h). The contracts are kernels.h's. */
#include <immintrin.h>
#include "../winograd_access.h"

enum { LANES = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS };

/* V[xi][i][tau] = (B^T d B)[xi] for the live lanes of the 16 tiles of group
 * grp of one input plane, into v (xi_step floats between entries xi). */
void lpci_wino_input_avx512(const lpci_wino_tables *t, const float *plane, int64_t grp,
                            uint16_t live, float *v, int64_t xi_step)
{
    float taps[TAPS][LANES] __attribute__((aligned(64)));
    load_taps(t, plane, grp, live, taps);
    __m512 d[TAPS], e[TAPS];
    for (int k = 0; k < TAPS; k++)
        d[k] = _mm512_load_ps(taps[k]);
    for (int c = 0; c < 4; c++) { /* rows: B^T d */
        e[0 + c] = _mm512_sub_ps(d[0 + c], d[8 + c]);
        e[4 + c] = _mm512_add_ps(d[4 + c], d[8 + c]);
        e[8 + c] = _mm512_sub_ps(d[8 + c], d[4 + c]);
        e[12 + c] = _mm512_sub_ps(d[4 + c], d[12 + c]);
    }
    for (int r = 0; r < 4; r++) { /* columns: (B^T d) B */
        const __m512 *q = e + 4 * r;
        _mm512_storeu_ps(v + (4 * r + 0) * xi_step, _mm512_sub_ps(q[0], q[2]));
        _mm512_storeu_ps(v + (4 * r + 1) * xi_step, _mm512_add_ps(q[1], q[2]));
        _mm512_storeu_ps(v + (4 * r + 2) * xi_step, _mm512_sub_ps(q[2], q[1]));
        _mm512_storeu_ps(v + (4 * r + 3) * xi_step, _mm512_sub_ps(q[1], q[3]));
    }
}

/* The 2x2 outputs A^T m A of tile tau for `lanes` (<= 16) output channels,
 * from m (m[xi * xi_step + lane]), stored into their planes from y on. */
void lpci_wino_output_avx512(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *m,
                             int64_t xi_step, int64_t tau, int lanes, float *y)
{
    __mmask16 live = (__mmask16)((1u << lanes) - 1);
    __m512 z[8], out[OUTS];
    for (int c = 0; c < 4; c++) { /* rows: A^T m */
        __m512 m0 = _mm512_maskz_loadu_ps(live, m + (0 + c) * xi_step),
               m1 = _mm512_maskz_loadu_ps(live, m + (4 + c) * xi_step),
               m2 = _mm512_maskz_loadu_ps(live, m + (8 + c) * xi_step),
               m3 = _mm512_maskz_loadu_ps(live, m + (12 + c) * xi_step);
        z[c] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        z[4 + c] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
    }
    for (int r = 0; r < 2; r++) { /* columns: (A^T m) A */
        const __m512 *q = z + 4 * r;
        out[2 * r] = _mm512_add_ps(_mm512_add_ps(q[0], q[1]), q[2]);
        out[2 * r + 1] = _mm512_sub_ps(_mm512_sub_ps(q[1], q[2]), q[3]);
    }
    for (int k = 0; k < OUTS; k++) {
        if (!(t->out_valid[tau] >> k & 1))
            continue;
        float val[LANES] __attribute__((aligned(64)));
        _mm512_store_ps(val, out[k]);
        store_channels(val, lanes, g->hw, y + t->out_off[tau * OUTS + k]);
    }
}

/* Z[xi][tau][o] = (A e A^T)[xi] of the 2x2 output gradient e of tile tau
 * for `lanes` (<= 16) channels, read from their planes from dy on; outputs
 * outside the image read as 0. */
void lpci_wino_grad_avx512(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *dy,
                           int64_t tau, int lanes, float *z, int64_t xi_step)
{
    __mmask16 live = (__mmask16)((1u << lanes) - 1);
    __m512 e[OUTS], f[8];
    for (int k = 0; k < OUTS; k++) { /* outputs outside the image read as 0 */
        float val[LANES] __attribute__((aligned(64)));
        load_channels(dy + t->out_off[tau * OUTS + k], t->out_valid[tau] >> k & 1 ? lanes : 0,
                      LANES, g->hw, val);
        e[k] = _mm512_load_ps(val);
    }
    for (int c = 0; c < 2; c++) { /* rows: A e */
        f[0 + c] = e[c];
        f[2 + c] = _mm512_add_ps(e[c], e[2 + c]);
        f[4 + c] = _mm512_sub_ps(e[c], e[2 + c]);
        f[6 + c] = _mm512_sub_ps(_mm512_setzero_ps(), e[2 + c]);
    }
    for (int r = 0; r < 4; r++) { /* columns: (A e) A^T */
        const __m512 *q = f + 2 * r;
        _mm512_mask_storeu_ps(z + (4 * r + 0) * xi_step, live, q[0]);
        _mm512_mask_storeu_ps(z + (4 * r + 1) * xi_step, live, _mm512_add_ps(q[0], q[1]));
        _mm512_mask_storeu_ps(z + (4 * r + 2) * xi_step, live, _mm512_sub_ps(q[0], q[1]));
        _mm512_mask_storeu_ps(z + (4 * r + 3) * xi_step, live, _mm512_sub_ps(_mm512_setzero_ps(),
                                                                             q[1]));
    }
}

