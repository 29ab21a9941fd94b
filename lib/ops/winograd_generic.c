/* The portable Winograd F(2x2, 3x3) transforms, for CPUs without a kernel
 * path of their own (and LPC_CPU=generic): plain C over the 16 lanes (tiles
 * or channels) of a call. The arithmetic is the AVX-512 kernel's, operation
 * for operation, so every path computes the same values. The contracts are
 * kernels.h's. */
#include "winograd_access.h"

enum { L = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS };

void lpci_wino_input_generic(const lpci_wino_tables *t, const float *plane, int64_t grp,
                             uint16_t live, float *v, int64_t xi_step)
{
    float d[TAPS][L], e[TAPS][L], out[TAPS][L];
    load_taps(t, plane, grp, live, d);
    for (int c = 0; c < 4; c++) /* rows: B^T d */
        for (int l = 0; l < L; l++) {
            e[0 + c][l] = d[0 + c][l] - d[8 + c][l];
            e[4 + c][l] = d[4 + c][l] + d[8 + c][l];
            e[8 + c][l] = d[8 + c][l] - d[4 + c][l];
            e[12 + c][l] = d[4 + c][l] - d[12 + c][l];
        }
    for (int r = 0; r < 4; r++) /* columns: (B^T d) B */
        for (int l = 0; l < L; l++) {
            const float(*q)[L] = e + 4 * r;
            out[4 * r + 0][l] = q[0][l] - q[2][l];
            out[4 * r + 1][l] = q[1][l] + q[2][l];
            out[4 * r + 2][l] = q[2][l] - q[1][l];
            out[4 * r + 3][l] = q[1][l] - q[3][l];
        }
    for (int xi = 0; xi < TAPS; xi++)
        for (int l = 0; l < L; l++)
            v[xi * xi_step + l] = out[xi][l];
}

void lpci_wino_output_generic(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *m,
                              int64_t xi_step, int64_t tau, int lanes, float *y)
{
    float mm[TAPS][L], z[8][L], out[OUTS][L];
    for (int xi = 0; xi < TAPS; xi++)
        for (int l = 0; l < L; l++)
            mm[xi][l] = l < lanes ? m[xi * xi_step + l] : 0.0f;
    for (int c = 0; c < 4; c++) /* rows: A^T m */
        for (int l = 0; l < L; l++) {
            z[c][l] = mm[0 + c][l] + mm[4 + c][l] + mm[8 + c][l];
            z[4 + c][l] = mm[4 + c][l] - mm[8 + c][l] - mm[12 + c][l];
        }
    for (int r = 0; r < 2; r++) /* columns: (A^T m) A */
        for (int l = 0; l < L; l++) {
            const float(*q)[L] = z + 4 * r;
            out[2 * r][l] = q[0][l] + q[1][l] + q[2][l];
            out[2 * r + 1][l] = q[1][l] - q[2][l] - q[3][l];
        }
    for (int k = 0; k < OUTS; k++) {
        if (!(t->out_valid[tau] >> k & 1))
            continue;
        store_channels(out[k], lanes, g->hw, y + t->out_off[tau * OUTS + k]);
    }
}

void lpci_wino_grad_generic(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *dy,
                            int64_t tau, int lanes, float *z, int64_t xi_step)
{
    float e[OUTS][L], f[8][L], out[TAPS][L];
    for (int k = 0; k < OUTS; k++)
        load_channels(dy + t->out_off[tau * OUTS + k], t->out_valid[tau] >> k & 1 ? lanes : 0, L,
                      g->hw, e[k]);
    for (int c = 0; c < 2; c++) /* rows: A e */
        for (int l = 0; l < L; l++) {
            f[0 + c][l] = e[c][l];
            f[2 + c][l] = e[c][l] + e[2 + c][l];
            f[4 + c][l] = e[c][l] - e[2 + c][l];
            f[6 + c][l] = 0.0f - e[2 + c][l];
        }
    for (int r = 0; r < 4; r++) /* columns: (A e) A^T */
        for (int l = 0; l < L; l++) {
            const float(*q)[L] = f + 2 * r;
            out[4 * r + 0][l] = q[0][l];
            out[4 * r + 1][l] = q[0][l] + q[1][l];
            out[4 * r + 2][l] = q[0][l] - q[1][l];
            out[4 * r + 3][l] = 0.0f - q[1][l];
        }
    for (int xi = 0; xi < TAPS; xi++)
        for (int l = 0; l < lanes; l++)
            z[xi * xi_step + l] = out[xi][l];
}
