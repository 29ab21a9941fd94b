/* AVX-512F Winograd F(2x2, 3x3) transforms (compiled with -mavx512f): 16
 * tiles or 16 channels per zmm register, with masked gathers and scatters
 * that skip the padding. The contracts are kernels.h's. */
#include <immintrin.h>
#include "../kernels.h"

enum { LANES = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS };

/* V[xi][i][tau] = (B^T d B)[xi] for the live lanes of the 16 tiles of group
 * grp of one input plane, into v (xi_step floats between entries xi). */
void lpci_wino_input_avx512(const lpci_wino_tables *t, const float *plane, int64_t grp,
                            uint16_t live, float *v, int64_t xi_step)
{
    __m512 d[TAPS], e[TAPS];
    for (int k = 0; k < TAPS; k++) {
        int64_t at = grp * TAPS + k;
        __m512i idx = _mm512_loadu_si512(t->in_idx + at * LANES);
        d[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), (__mmask16)(t->in_mask[at] & live), idx, plane,
                                        4);
    }
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

/* Gather/scatter offsets of 16 channels at one pixel: lane l is channel
 * o + l, whose plane lies l * hw further. */
static __m512i channel_planes(const lpci_wino_geom *g)
{
    __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)g->hw));
}

/* The 2x2 outputs A^T m A of tile tau for `lanes` (<= 16) output channels,
 * from m (m[xi * xi_step + lane]), into their planes from y on: stored, or
 * added to what is there. */
void lpci_wino_output_avx512(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *m,
                             int64_t xi_step, int64_t tau, int lanes, float *y, int accumulate)
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
    __m512i planes = channel_planes(g);
    for (int k = 0; k < OUTS; k++) {
        if (!(t->out_valid[tau] >> k & 1))
            continue;
        float *at = y + t->out_off[tau * OUTS + k];
        __m512 val = out[k];
        if (accumulate)
            val = _mm512_add_ps(val, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, planes,
                                                              at, 4));
        _mm512_mask_i32scatter_ps(at, live, planes, val, 4);
    }
}

/* Z[xi][tau][o] = (A e A^T)[xi] of the 2x2 output gradient e of tile tau
 * for `lanes` (<= 16) channels, read from their planes from dy on; outputs
 * outside the image read as 0. */
void lpci_wino_grad_avx512(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *dy,
                           int64_t tau, int lanes, float *z, int64_t xi_step)
{
    __mmask16 live = (__mmask16)((1u << lanes) - 1);
    __m512i planes = channel_planes(g);
    __m512 e[OUTS], f[8];
    for (int k = 0; k < OUTS; k++)
        e[k] = t->out_valid[tau] >> k & 1
                   ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, planes,
                                              dy + t->out_off[tau * OUTS + k], 4)
                   : _mm512_setzero_ps();
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

