/* 3x3 stride-1 pad-1 convolutions (the ResNet case) by Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin & Gray, 2016). Each 2x2 output tile is
 * A^T [ sum_ci (G g G^T) .* (B^T d B) ] A for the 4x4 input patch d around
 * it, so the products over input channels become 16 GEMMs, one per entry
 * xi of the transformed 4x4 tile, of 4 multiply-adds per output pixel
 * instead of 9. The weight gradient is the transpose of the same map: per
 * xi, dU = sum over tiles of (A dY A^T) (B^T d B), then dW = G^T dU G.
 *
 * The GEMMs are M^T = V^T U^T (tiles x output channels): many tiles make a
 * tall product that fills the 12 x 32 kernel, where U V (output channels x
 * tiles) would waste much of it. The input transform runs on 16 tiles at a
 * time, the output and gradient transforms on 16 channels at a time, by
 * the kernels of the path in use (kernels.h), which gather and scatter
 * with masks that skip the padding.
 *
 * Threads take whole chunks of samples (each output element written by one
 * thread) and run single-threaded GEMMs. Forward and input-gradient tile
 * sums do not depend on the chunking; the weight gradient is summed from
 * per-thread partials in thread order. Results are therefore the same for
 * a given thread count. */
#include <omp.h>
#include <string.h>
#include "winograd.h"

enum { LANES = LPCI_WINO_LANES, TAPS = LPCI_WINO_TAPS, OUTS = LPCI_WINO_OUTS };
typedef lpci_wino_geom wino_geom;
typedef lpci_wino_tables wino_tables;

static void tables_init(const wino_geom *g, const wino_tables *t)
{
    memset(t->in_mask, 0, (size_t)(g->groups * TAPS) * sizeof *t->in_mask);
    memset(t->out_valid, 0, (size_t)g->per * sizeof *t->out_valid);
    memset(t->in_idx, 0, (size_t)(g->groups * TAPS * LANES) * sizeof *t->in_idx);
    memset(t->out_off, 0, (size_t)(g->per * OUTS) * sizeof *t->out_off);
    for (int64_t tau = 0; tau < g->per; tau++) {
        int64_t b = tau / g->tiles, ty = tau % g->tiles / g->tw, tx = tau % g->tw;
        int64_t grp = tau / LANES, lane = tau % LANES;
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) {
                int64_t y = 2 * ty - 1 + r, x = 2 * tx - 1 + s, e = grp * TAPS + r * 4 + s;
                if (y < 0 || y >= g->h || x < 0 || x >= g->w)
                    continue;
                t->in_idx[e * LANES + lane] = (int32_t)(b * g->cin * g->hw + y * g->w + x);
                t->in_mask[e] |= (uint16_t)(1u << lane);
            }
        for (int r = 0; r < 2; r++)
            for (int s = 0; s < 2; s++) {
                int64_t y = 2 * ty + r, x = 2 * tx + s, k = r * 2 + s;
                if (y >= g->h || x >= g->w)
                    continue;
                t->out_off[tau * OUTS + k] = (int32_t)(b * g->cout * g->hw + y * g->w + x);
                t->out_valid[tau] |= (uint16_t)(1u << k);
            }
    }
}

/* U[xi][i][o] = (G f G^T)[xi] for the 3x3 filter f = w[o][i] from input
 * channel i to output channel o. */
static void filter_transform(const float *f, float *u, int64_t xi_step)
{
    float t[4][3];
    for (int c = 0; c < 3; c++) { /* t = G f */
        t[0][c] = f[c];
        t[1][c] = 0.5f * (f[c] + f[3 + c] + f[6 + c]);
        t[2][c] = 0.5f * (f[c] - f[3 + c] + f[6 + c]);
        t[3][c] = f[6 + c];
    }
    for (int r = 0; r < 4; r++) { /* U = t G^T */
        float *dst = u + 4 * r * xi_step;
        dst[0] = t[r][0];
        dst[xi_step] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
        dst[2 * xi_step] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
        dst[3 * xi_step] = t[r][2];
    }
}

/* U of every filter: W[o][i] itself, or for `flip` (the input gradient) W
 * read as [i][o] and rotated by 180 degrees. Blocks of 16 x 16 filters
 * keep both the reads and the 16 strided writes in L1. */
static void filters_transform(const wino_geom *g, const float *w, int flip, float *u)
{
    enum { BLOCK = 16 };
    int64_t step = g->cout * g->cin, blocks = (g->cout + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (step > 1024)
    for (int64_t ob = 0; ob < blocks; ob++)
        for (int64_t i0 = 0; i0 < g->cin; i0 += BLOCK)
            for (int64_t o = ob * BLOCK; o < (ob + 1) * BLOCK && o < g->cout; o++)
                for (int64_t i = i0; i < i0 + BLOCK && i < g->cin; i++) {
                    float f[9];
                    const float *src = flip ? w + (i * g->cout + o) * 9 : w + (o * g->cin + i) * 9;
                    for (int k = 0; k < 9; k++)
                        f[k] = flip ? src[8 - k] : src[k];
                    filter_transform(f, u + i * g->cout + o, step);
                }
}

/* V of the chunk starting at x (bn samples) into v; returns its tiles. */
static int64_t input_chunk(const lpci_kernels *k, const wino_geom *g, const wino_tables *t,
                           const float *x, int64_t bn, float *v)
{
    int64_t tiles = bn * g->tiles, groups = (tiles + LANES - 1) / LANES;
    /* lanes of the last group past the chunk's tiles (a short last chunk) */
    uint16_t tail = (uint16_t)((1u << (tiles - (groups - 1) * LANES)) - 1);
    for (int64_t i = 0; i < g->cin; i++)
        for (int64_t grp = 0; grp < groups; grp++)
            k->wino_input(t, x + i * g->hw, grp, grp == groups - 1 ? tail : 0xFFFF,
                        v + i * g->stride + grp * LANES, g->cin * g->stride);
    return tiles;
}

/* One chunk of bn samples: transforms, the 16 GEMMs, inverse transforms. */
static void run_chunk(const lpci_kernels *k, const wino_geom *g, const wino_tables *t,
                      const float *u, const float *x, int64_t bn, float *v, float *m, float *y,
                      int accumulate)
{
    int64_t tiles = input_chunk(k, g, t, x, bn, v);
    int64_t vstep = g->cin * g->stride, mstep = tiles * g->cout, ustep = g->cout * g->cin;
    for (int xi = 0; xi < TAPS; xi++) /* M^T (tiles x cout) = V^T U^T */
        lpci_sgemm(1, 0, tiles, g->cout, g->cin, 1.0f, v + xi * vstep, g->stride, u + xi * ustep,
                   g->cout, 0.0f, m + xi * mstep, g->cout);
    for (int64_t tau = 0; tau < tiles; tau++)
        for (int64_t o = 0; o < g->cout; o += LANES)
            k->wino_output(g, t, m + tau * g->cout + o, mstep, tau,
                        (int)(g->cout - o < LANES ? g->cout - o : LANES), y + o * g->hw,
                        accumulate);
}

#define CHUNK_BYTES ((int64_t)1 << 20)     /* a thread's V and M (or Z): half of L2 */
#define MIN_TILES 256                        /* GEMM rows that pay for packing the filters */
#define MAX_CHUNK_BYTES ((int64_t)4 << 20) /* ... unless that takes more memory than this */

/* Samples per chunk: as many as keep a thread's transformed tiles within
 * CHUNK_BYTES, but at least MIN_TILES tiles (small planes, many channels)
 * where that fits MAX_CHUNK_BYTES, with every thread given the same number
 * of chunks. */
static int64_t chunk_of(int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
    int64_t tiles = ((h + 1) / 2) * ((w + 1) / 2), per_sample = TAPS * (cin + cout) * tiles * 4;
    int64_t b = CHUNK_BYTES / per_sample, least = (MIN_TILES + tiles - 1) / tiles;
    int64_t most = MAX_CHUNK_BYTES / per_sample, nt = lpci_threads();
    least = least < most ? least : most;
    b = b < least ? least : b;
    b = b < 1 ? 1 : b; /* a sample larger than MAX_CHUNK_BYTES still makes a chunk */
    int64_t per_thread = (n + nt * b - 1) / (nt * b);
    return (n + nt * per_thread - 1) / (nt * per_thread);
}

int lpci_winograd_usable(int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
    /* gather offsets within a chunk are 32-bit */
    int64_t most = chunk_of(n, cin, cout, h, w) * (cin > cout ? cin : cout) * h * w;
    return most < ((int64_t)1 << 31);
}

static wino_geom geom_of(int64_t chunk, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
    wino_geom g = {cin, cout, h, w, h * w, (w + 1) / 2, 0, 0, 0, 0};
    g.tiles = (h + 1) / 2 * g.tw;
    g.per = chunk * g.tiles;
    g.groups = (g.per + LANES - 1) / LANES;
    g.stride = g.groups * LANES;
    return g;
}

static int64_t tables_floats(const wino_geom *g)
{
    return g->groups * TAPS * LANES + g->per * OUTS + (g->groups * TAPS + g->per + 1) / 2;
}

/* Scratch of `lead` floats, then per-thread regions of `each` floats, then
 * the tables (filled in); NULL when out of memory. */
static float *scratch_with_tables(lpc_ctx *ctx, const wino_geom *g, int64_t lead, int64_t each,
                                  wino_tables *t)
{
    int nt = lpci_threads();
    lead = (lead + 15) / 16 * 16;
    float *p = lpci_ctx_scratch(ctx, (size_t)(lead + nt * each + tables_floats(g)) * sizeof(float));
    if (!p)
        return NULL;
    t->in_idx = (int32_t *)(void *)(p + lead + nt * each);
    t->out_off = t->in_idx + g->groups * TAPS * LANES;
    t->in_mask = (uint16_t *)(void *)(t->out_off + g->per * OUTS);
    t->out_valid = t->in_mask + g->groups * TAPS;
    tables_init(g, t);
    return p;
}

int lpci_winograd_conv3x3(lpc_ctx *ctx, int64_t n, int64_t cin, int64_t cout, int64_t h,
                          int64_t w, const float *x, const float *weight, int flip, float *y,
                          int accumulate)
{
    int64_t chunk = chunk_of(n, cin, cout, h, w);
    wino_geom g = geom_of(chunk, cin, cout, h, w);
    const lpci_kernels *k = lpci_kernels_now();
    int64_t nu = TAPS * cout * cin, nv = TAPS * cin * g.stride, nm = TAPS * cout * g.per;
    wino_tables t;
    float *u = scratch_with_tables(ctx, &g, nu, nv + nm, &t);
    if (!u)
        return 0;
    float *work = u + (nu + 15) / 16 * 16;
    filters_transform(&g, weight, flip, u);
    int64_t n_chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t n0 = c * chunk, bn = n - n0 < chunk ? n - n0 : chunk;
        float *v = work + omp_get_thread_num() * (nv + nm);
        run_chunk(k, &g, &t, u, x + n0 * cin * g.hw, bn, v, v + nv, y + n0 * cout * g.hw,
                  accumulate);
    }
    return 1;
}

/* dW (+)= G^T dU G for every filter, dU[xi][o][i] summed over threads in
 * thread order. */
static void filters_grad(const wino_geom *g, const float *du, int nt, float *dw, int fresh)
{
    int64_t step = g->cout * g->cin;
#pragma omp parallel for schedule(static) num_threads(nt) if (step > 1024)
    for (int64_t oi = 0; oi < step; oi++) {
        float d[4][4], t[3][4];
        for (int xi = 0; xi < TAPS; xi++) {
            float sum = 0.0f;
            for (int th = 0; th < nt; th++)
                sum += du[(th * TAPS + xi) * step + oi];
            d[xi / 4][xi % 4] = sum;
        }
        for (int c = 0; c < 4; c++) { /* t = G^T d */
            t[0][c] = d[0][c] + 0.5f * (d[1][c] + d[2][c]);
            t[1][c] = 0.5f * (d[1][c] - d[2][c]);
            t[2][c] = 0.5f * (d[1][c] + d[2][c]) + d[3][c];
        }
        float *dst = dw + oi * 9;
        for (int r = 0; r < 3; r++) { /* t G */
            float v0 = t[r][0] + 0.5f * (t[r][1] + t[r][2]), v1 = 0.5f * (t[r][1] - t[r][2]);
            float v2 = 0.5f * (t[r][1] + t[r][2]) + t[r][3];
            dst[3 * r] = (fresh ? 0.0f : dst[3 * r]) + v0;
            dst[3 * r + 1] = (fresh ? 0.0f : dst[3 * r + 1]) + v1;
            dst[3 * r + 2] = (fresh ? 0.0f : dst[3 * r + 2]) + v2;
        }
    }
}

int lpci_winograd_weight_grad(lpc_ctx *ctx, int64_t n, int64_t cin, int64_t cout, int64_t h,
                              int64_t w, const float *x, const float *dy, float *dw, int fresh)
{
    int64_t chunk = chunk_of(n, cin, cout, h, w);
    wino_geom g = geom_of(chunk, cin, cout, h, w);
    const lpci_kernels *k = lpci_kernels_now();
    int nt = lpci_threads();
    int64_t nu = TAPS * cout * cin, nv = TAPS * cin * g.stride, nz = TAPS * cout * g.per;
    wino_tables t;
    float *du = scratch_with_tables(ctx, &g, nt * nu, nv + nz, &t);
    if (!du)
        return 0;
    float *work = du + (nt * nu + 15) / 16 * 16;
    memset(du, 0, (size_t)(nt * nu) * sizeof *du);
    int64_t n_chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < n_chunks; c++) {
        int th = omp_get_thread_num();
        int64_t n0 = c * chunk, bn = n - n0 < chunk ? n - n0 : chunk;
        float *v = work + th * (nv + nz), *z = v + nv;
        int64_t tiles = input_chunk(k, &g, &t, x + n0 * cin * g.hw, bn, v), zstep = tiles * cout;
        const float *dyc = dy + n0 * cout * g.hw;
        for (int64_t tau = 0; tau < tiles; tau++)
            for (int64_t o = 0; o < cout; o += LANES)
                k->wino_grad(&g, &t, dyc + o * g.hw, tau, (int)(cout - o < LANES ? cout - o : LANES),
                          z + tau * cout + o, zstep);
        for (int xi = 0; xi < TAPS; xi++) /* dU (cout x cin) += Z^T V^T */
            lpci_sgemm(1, 1, cout, cin, tiles, 1.0f, z + xi * zstep, cout, v + xi * nv / TAPS,
                       g.stride, 1.0f, du + (th * TAPS + xi) * nu / TAPS, cin);
    }
    filters_grad(&g, du, nt, dw, fresh);
    return 1;
}
