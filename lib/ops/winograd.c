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
 * the kernels of the path in use (kernels.h), which skip the padding; the
 * output and gradient transforms write and read a row of tiles through a
 * small band buffer (band_geom).
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
                t->out_off[tau * OUTS + k] = (int32_t)(r * g->w + x);
                t->out_valid[tau] |= (uint16_t)(1u << k);
            }
    }
}

/* U[xi][i][o0 + l] = (G f_l G^T)[xi] for the 3x3 filters f[k][l] of the
 * `lanes` output channels from o0 on, from input channel i: lanes side by
 * side, so that each row of U is written whole. Writing U one filter at a
 * time touched the 16 rows xi, cout * cin floats apart (the same cache set
 * for power-of-two channel counts), once per filter: 6.5% of a resnet18
 * step on the AMD EPYC. */
static void filter_transform(const float f[9][LANES], int lanes, float *u, int64_t xi_step)
{
    float t[4][3][LANES], out[TAPS][LANES];
    for (int c = 0; c < 3; c++) /* t = G f */
        for (int l = 0; l < LANES; l++) {
            t[0][c][l] = f[c][l];
            t[1][c][l] = 0.5f * (f[c][l] + f[3 + c][l] + f[6 + c][l]);
            t[2][c][l] = 0.5f * (f[c][l] - f[3 + c][l] + f[6 + c][l]);
            t[3][c][l] = f[6 + c][l];
        }
    for (int r = 0; r < 4; r++) /* U = t G^T */
        for (int l = 0; l < LANES; l++) {
            out[4 * r][l] = t[r][0][l];
            out[4 * r + 1][l] = 0.5f * (t[r][0][l] + t[r][1][l] + t[r][2][l]);
            out[4 * r + 2][l] = 0.5f * (t[r][0][l] - t[r][1][l] + t[r][2][l]);
            out[4 * r + 3][l] = t[r][2][l];
        }
    for (int xi = 0; xi < TAPS; xi++)
        memcpy(u + xi * xi_step, out[xi], (size_t)lanes * sizeof(float));
}

/* U of every filter: W[o][i] itself, or for `flip` (the input gradient) W
 * read as [i][o] and rotated by 180 degrees. */
static void filters_transform(const wino_geom *g, const float *w, int flip, float *u)
{
    int64_t step = g->cout * g->cin, blocks = (g->cout + LANES - 1) / LANES;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (step > 1024)
    for (int64_t ob = 0; ob < blocks; ob++) {
        int64_t o0 = ob * LANES;
        int lanes = (int)(g->cout - o0 < LANES ? g->cout - o0 : LANES);
        for (int64_t i = 0; i < g->cin; i++) {
            float f[9][LANES] = {{0}};
            for (int l = 0; l < lanes; l++) {
                int64_t o = o0 + l;
                const float *src = flip ? w + (i * g->cout + o) * 9 : w + (o * g->cin + i) * 9;
                for (int k = 0; k < 9; k++)
                    f[k][l] = flip ? src[8 - k] : src[k];
            }
            filter_transform(f, lanes, u + i * g->cout + o0, step);
        }
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

/* The output transforms of a row of tiles go to a band buffer first and
 * from there to the planes whole rows at a time, and the gradient
 * transforms read the output gradient's rows the same way: written or read
 * straight in the planes, 16 channels hw floats apart (the same cache set
 * when hw is a power of two), the scattered stores took 13% of a resnet18
 * step on the AMD EPYC. The band holds two rows of each of 16 channels;
 * the kernels see it as planes of 2w floats (the tables' out_off are
 * offsets within a row of tiles). */
static wino_geom band_geom(const wino_geom *g)
{
    wino_geom gb = *g;
    gb.hw = 2 * g->w;
    return gb;
}

/* Row `row` of the chunk's rows of tiles: the offset of its first pixel in
 * the chunk's output planes, and in *rows how many image rows it covers
 * (1 at the bottom of an odd height). */
static int64_t tile_row(const wino_geom *g, int64_t row, int64_t *rows)
{
    int64_t th = (g->h + 1) / 2, b = row / th, ty = row % th;
    *rows = g->h - 2 * ty < 2 ? 1 : 2;
    return b * g->cout * g->hw + 2 * ty * g->w;
}

/* The band's rows of `lanes` channels to their planes from y on: stored,
 * or added to what is there. */
static void band_flush(const wino_geom *g, const float *band, int lanes, int64_t rows, float *y,
                       int accumulate)
{
    for (int l = 0; l < lanes; l++)
        for (int64_t r = 0; r < rows; r++) {
            const float *src = band + (l * 2 + r) * g->w;
            float *dst = y + l * g->hw + r * g->w;
            if (accumulate)
                for (int64_t x = 0; x < g->w; x++)
                    dst[x] = src[x] + dst[x];
            else
                memcpy(dst, src, (size_t)g->w * sizeof *dst);
        }
}

/* The rows of `lanes` channels' planes from y on into the band. */
static void band_fill(const wino_geom *g, const float *y, int lanes, int64_t rows, float *band)
{
    for (int l = 0; l < lanes; l++)
        for (int64_t r = 0; r < rows; r++)
            memcpy(band + (l * 2 + r) * g->w, y + l * g->hw + r * g->w,
                   (size_t)g->w * sizeof *band);
}

/* One chunk of bn samples: transforms, the 16 GEMMs, inverse transforms. */
static void run_chunk(const lpci_kernels *k, const wino_geom *g, const wino_tables *t,
                      const float *u, const float *x, int64_t bn, float *v, float *m, float *band,
                      float *y, int accumulate)
{
    int64_t tiles = input_chunk(k, g, t, x, bn, v);
    int64_t vstep = g->cin * g->stride, mstep = tiles * g->cout, ustep = g->cout * g->cin;
    for (int xi = 0; xi < TAPS; xi++) /* M^T (tiles x cout) = V^T U^T */
        lpci_sgemm(1, 0, tiles, g->cout, g->cin, 1.0f, v + xi * vstep, g->stride, u + xi * ustep,
                   g->cout, 0.0f, m + xi * mstep, g->cout);
    wino_geom gb = band_geom(g);
    for (int64_t row = 0; row < tiles / g->tw; row++) {
        int64_t rows;
        float *yr = y + tile_row(g, row, &rows);
        for (int64_t o = 0; o < g->cout; o += LANES) {
            int lanes = (int)(g->cout - o < LANES ? g->cout - o : LANES);
            for (int64_t tau = row * g->tw; tau < (row + 1) * g->tw; tau++)
                k->wino_output(&gb, t, m + tau * g->cout + o, mstep, tau, lanes, band);
            band_flush(g, band, lanes, rows, yr + o * g->hw, accumulate);
        }
    }
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
    int64_t nband = LANES * 2 * w;
    wino_tables t;
    float *u = scratch_with_tables(ctx, &g, nu, nv + nm + nband, &t);
    if (!u)
        return 0;
    float *work = u + (nu + 15) / 16 * 16;
    filters_transform(&g, weight, flip, u);
    int64_t n_chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t n0 = c * chunk, bn = n - n0 < chunk ? n - n0 : chunk;
        float *v = work + omp_get_thread_num() * (nv + nm + nband);
        run_chunk(k, &g, &t, u, x + n0 * cin * g.hw, bn, v, v + nv, v + nv + nm,
                  y + n0 * cout * g.hw, accumulate);
    }
    return 1;
}

/* dW (+)= G^T dU G for every filter, dU[xi][o][i] summed over threads in
 * thread order; 16 filters side by side, so that dU is read a row of 16 at
 * a time (not 16 rows nt * 16 times, cout * cin floats apart). */
static void filters_grad(const wino_geom *g, const float *du, int nt, float *dw, int fresh)
{
    int64_t step = g->cout * g->cin, blocks = (step + LANES - 1) / LANES;
#pragma omp parallel for schedule(static) num_threads(nt) if (step > 1024)
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t oi0 = blk * LANES;
        int lanes = (int)(step - oi0 < LANES ? step - oi0 : LANES);
        float d[TAPS][LANES] = {{0}}, t[3][4][LANES], v[9][LANES];
        for (int xi = 0; xi < TAPS; xi++)
            for (int th = 0; th < nt; th++) {
                const float *row = du + (th * TAPS + xi) * step + oi0;
                for (int l = 0; l < lanes; l++)
                    d[xi][l] = th ? d[xi][l] + row[l] : row[l];
            }
        for (int c = 0; c < 4; c++) /* t = G^T d */
            for (int l = 0; l < LANES; l++) {
                t[0][c][l] = d[c][l] + 0.5f * (d[4 + c][l] + d[8 + c][l]);
                t[1][c][l] = 0.5f * (d[4 + c][l] - d[8 + c][l]);
                t[2][c][l] = 0.5f * (d[4 + c][l] + d[8 + c][l]) + d[12 + c][l];
            }
        for (int r = 0; r < 3; r++) /* t G */
            for (int l = 0; l < LANES; l++) {
                v[3 * r][l] = t[r][0][l] + 0.5f * (t[r][1][l] + t[r][2][l]);
                v[3 * r + 1][l] = 0.5f * (t[r][1][l] - t[r][2][l]);
                v[3 * r + 2][l] = 0.5f * (t[r][1][l] + t[r][2][l]) + t[r][3][l];
            }
        for (int l = 0; l < lanes; l++) {
            float *dst = dw + (oi0 + l) * 9;
            for (int k = 0; k < 9; k++)
                dst[k] = (fresh ? 0.0f : dst[k]) + v[k][l];
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
    int64_t nband = LANES * 2 * w;
    wino_tables t;
    float *du = scratch_with_tables(ctx, &g, nt * nu, nv + nz + nband, &t);
    if (!du)
        return 0;
    float *work = du + (nt * nu + 15) / 16 * 16;
    memset(du, 0, (size_t)(nt * nu) * sizeof *du);
    wino_geom gb = band_geom(&g);
    int64_t n_chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < n_chunks; c++) {
        int th = omp_get_thread_num();
        int64_t n0 = c * chunk, bn = n - n0 < chunk ? n - n0 : chunk;
        float *v = work + th * (nv + nz + nband), *z = v + nv, *band = z + nz;
        int64_t tiles = input_chunk(k, &g, &t, x + n0 * cin * g.hw, bn, v), zstep = tiles * cout;
        for (int64_t row = 0; row < tiles / g.tw; row++) {
            int64_t rows;
            const float *dyr = dy + n0 * cout * g.hw + tile_row(&g, row, &rows);
            for (int64_t o = 0; o < cout; o += LANES) {
                int lanes = (int)(cout - o < LANES ? cout - o : LANES);
                band_fill(&g, dyr + o * g.hw, lanes, rows, band);
                for (int64_t tau = row * g.tw; tau < (row + 1) * g.tw; tau++)
                    k->wino_grad(&gb, &t, band, tau, lanes, z + tau * cout + o, zstep);
            }
        }
        for (int xi = 0; xi < TAPS; xi++) /* dU (cout x cin) += Z^T V^T */
            lpci_sgemm(1, 1, cout, cin, tiles, 1.0f, z + xi * zstep, cout, v + xi * nv / TAPS,
                       g.stride, 1.0f, du + (th * TAPS + xi) * nu / TAPS, cin);
    }
    filters_grad(&g, du, nt, dw, fresh);
    return 1;
}
