/* Advanced SIMD (NEON) Winograd F(2x2, 3x3) transforms for aarch64: the 16
 * tiles or 16 channels of a call in four quarters of 4 lanes, one q
 * register each, with the strided reads and writes of winograd_access.h.
 * The arithmetic is the AVX-512 kernel's, operation for operation, so every
 * path computes the same values. The contracts are kernels.h's. */
#include <arm_neon.h>
#include "../winograd_access.h"

enum { LANES = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS, QUARTER = 4 };

void lpci_wino_input_neon(const lpci_wino_tables *t, const float *plane, int64_t grp,
                          uint16_t live, float *v, int64_t xi_step)
{
    float taps[TAPS][LANES] __attribute__((aligned(16)));
    load_taps(t, plane, grp, live, taps);
    for (int h = 0; h < LANES; h += QUARTER) {
        float32x4_t d[TAPS], e[TAPS];
        for (int k = 0; k < TAPS; k++)
            d[k] = vld1q_f32(taps[k] + h);
        for (int c = 0; c < 4; c++) { /* rows: B^T d */
            e[0 + c] = vsubq_f32(d[0 + c], d[8 + c]);
            e[4 + c] = vaddq_f32(d[4 + c], d[8 + c]);
            e[8 + c] = vsubq_f32(d[8 + c], d[4 + c]);
            e[12 + c] = vsubq_f32(d[4 + c], d[12 + c]);
        }
        for (int r = 0; r < 4; r++) { /* columns: (B^T d) B */
            const float32x4_t *q = e + 4 * r;
            float *row = v + 4 * r * xi_step + h;
            vst1q_f32(row, vsubq_f32(q[0], q[2]));
            vst1q_f32(row + xi_step, vaddq_f32(q[1], q[2]));
            vst1q_f32(row + 2 * xi_step, vsubq_f32(q[2], q[1]));
            vst1q_f32(row + 3 * xi_step, vsubq_f32(q[1], q[3]));
        }
    }
}

/* Lanes [0, n) of the 4 at p, the others 0: p[n..4) may lie past m's end. */
static float32x4_t load_first(const float *p, int n)
{
    if (n == QUARTER)
        return vld1q_f32(p);
    float val[QUARTER] = {0};
    for (int l = 0; l < n; l++)
        val[l] = p[l];
    return vld1q_f32(val);
}

void lpci_wino_output_neon(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *m,
                           int64_t xi_step, int64_t tau, int lanes, float *y)
{
    for (int h = 0; h < lanes; h += QUARTER) {
        int n = lanes - h < QUARTER ? lanes - h : QUARTER;
        float32x4_t z[8], out[OUTS];
        for (int c = 0; c < 4; c++) { /* rows: A^T m */
            float32x4_t m0 = load_first(m + (0 + c) * xi_step + h, n),
                        m1 = load_first(m + (4 + c) * xi_step + h, n),
                        m2 = load_first(m + (8 + c) * xi_step + h, n),
                        m3 = load_first(m + (12 + c) * xi_step + h, n);
            z[c] = vaddq_f32(vaddq_f32(m0, m1), m2);
            z[4 + c] = vsubq_f32(vsubq_f32(m1, m2), m3);
        }
        for (int r = 0; r < 2; r++) { /* columns: (A^T m) A */
            const float32x4_t *q = z + 4 * r;
            out[2 * r] = vaddq_f32(vaddq_f32(q[0], q[1]), q[2]);
            out[2 * r + 1] = vsubq_f32(vsubq_f32(q[1], q[2]), q[3]);
        }
        for (int k = 0; k < OUTS; k++) {
            if (!(t->out_valid[tau] >> k & 1))
                continue;
            float val[QUARTER];
            vst1q_f32(val, out[k]);
            store_channels(val, n, g->hw, y + t->out_off[tau * OUTS + k] + h * g->hw);
        }
    }
}

/* Lanes [0, n) of val to p; p[n..4) is not touched. */
static void store_first(float *p, float32x4_t val, int n)
{
    if (n == QUARTER) {
        vst1q_f32(p, val);
        return;
    }
    float out[QUARTER];
    vst1q_f32(out, val);
    for (int l = 0; l < n; l++)
        p[l] = out[l];
}

void lpci_wino_grad_neon(const lpci_wino_geom *g, const lpci_wino_tables *t, const float *dy,
                         int64_t tau, int lanes, float *z, int64_t xi_step)
{
    for (int h = 0; h < lanes; h += QUARTER) {
        int n = lanes - h < QUARTER ? lanes - h : QUARTER;
        float32x4_t e[OUTS], f[8], zero = vdupq_n_f32(0.0f);
        for (int k = 0; k < OUTS; k++) { /* outputs outside the image read as 0 */
            float val[QUARTER];
            load_channels(dy + t->out_off[tau * OUTS + k] + h * g->hw,
                          t->out_valid[tau] >> k & 1 ? n : 0, QUARTER, g->hw, val);
            e[k] = vld1q_f32(val);
        }
        for (int c = 0; c < 2; c++) { /* rows: A e */
            f[0 + c] = e[c];
            f[2 + c] = vaddq_f32(e[c], e[2 + c]);
            f[4 + c] = vsubq_f32(e[c], e[2 + c]);
            f[6 + c] = vsubq_f32(zero, e[2 + c]);
        }
        for (int r = 0; r < 4; r++) { /* columns: (A e) A^T */
            const float32x4_t *q = f + 2 * r;
            float *row = z + 4 * r * xi_step + h;
            store_first(row, q[0], n);
            store_first(row + xi_step, vaddq_f32(q[0], q[1]), n);
            store_first(row + 2 * xi_step, vsubq_f32(q[0], q[1]), n);
            store_first(row + 3 * xi_step, vsubq_f32(zero, q[1]), n);
        }
    }
}
