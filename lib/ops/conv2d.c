/* 2-D convolution as im2col + GEMM. The batch is split into chunks of
 * samples: one sample for large images (its GEMM reads and writes the
 * tensors in place), several for small ones, whose columns then sit side by
 * side in one (Cin*kh*kw) x (B*Ho*Wo) matrix so that every GEMM stays large.
 * Threads take whole chunks, each with its own arena scratch, and run
 * single-threaded GEMMs (BLIS called inside a parallel region uses one
 * thread): far cheaper than a fork and join inside every small GEMM. Each
 * output element belongs to one chunk; the weight gradient is summed from
 * per-thread partials in thread order, so results are deterministic for a
 * given thread count.
 *
 * 3x3 stride-1 pad-1 convolutions (ResNet's) run their forward product and
 * input gradient through Winograd's F(2x2, 3x3) instead (winograd.c, on
 * every kernel path), and their weight gradient through its transpose:
 * 2.25x fewer multiply-adds and no column matrices. */
#include <omp.h>
#include <stdatomic.h>
#include <string.h>
#include "../core/internal.h"
#include "winograd.h"

#define DIRECT_HW 256                 /* output pixels from which a sample is one GEMM */
#define TARGET_COLS 1024              /* GEMM width aimed at when samples are chunked */
#define COL_BUDGET ((int64_t)1 << 21) /* most floats in one thread's column matrix */
#define PAR_MIN 32768                 /* elements below which threads cost more */

typedef struct {
    int64_t n, cin, h, w, cout, kh, kw, ho, wo, stride, pad;
    int64_t k;     /* rows of a column matrix: cin * kh * kw */
    int64_t hw;    /* output pixels per sample */
    int64_t chunk; /* samples per GEMM */
} conv_geom;

static void geom_init(conv_geom *g, const lpc_tensor *x, const lpc_tensor *w, int64_t stride,
                      int64_t pad)
{
    g->n = x->shape[0];
    g->cin = x->shape[1];
    g->h = x->shape[2];
    g->w = x->shape[3];
    g->cout = w->shape[0];
    g->kh = w->shape[2];
    g->kw = w->shape[3];
    g->stride = stride;
    g->pad = pad;
    g->ho = (g->h + 2 * pad - g->kh) / stride + 1;
    g->wo = (g->w + 2 * pad - g->kw) / stride + 1;
    g->k = g->cin * g->kh * g->kw;
    g->hw = g->ho * g->wo;
    int64_t b = (TARGET_COLS + g->hw - 1) / g->hw, cap = COL_BUDGET / (g->k * g->hw);
    b = g->hw >= DIRECT_HW ? 1 : b < cap ? b : cap;
    b = b < 1 ? 1 : b;
    /* Every thread gets the same number of chunks (samples split evenly
     * among them), rather than some threads one chunk more. */
    int64_t nt = lpci_threads(), per_thread = (g->n + nt * b - 1) / (nt * b);
    per_thread = per_thread < 1 ? 1 : per_thread;
    g->chunk = (g->n + nt * per_thread - 1) / (nt * per_thread);
    g->chunk = g->chunk < 1 ? 1 : g->chunk;
}

/* A 1x1 stride-1 unpadded conv of one sample is a plain GEMM on its input. */
static int is_pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

/* Output columns ox whose input column ox*s - p + kj lies in [0, w). */
static void valid_range(int64_t w, int64_t wo, int64_t s, int64_t off, int64_t *lo, int64_t *hi)
{
    int64_t a = off < 0 ? (-off + s - 1) / s : 0;
    int64_t b = w - off <= 0 ? 0 : (w - off - 1) / s + 1;
    *lo = a < wo ? a : wo;
    *hi = b < wo ? b : wo;
    if (*hi < *lo)
        *hi = *lo;
}

/* A stride-1 conv whose output has the input's size (3x3 with pad 1, the
 * ResNet case): each row of a column matrix is then one shifted copy of a
 * whole input plane, apart from the rows and columns that fall in padding. */
static int is_same_size(const conv_geom *g)
{
    return g->stride == 1 && g->ho == g->h && g->wo == g->w;
}

/* For tap (ki, kj) of a same-size conv: the shift off = dy*w + dx of input
 * against output, the output rows [*oy0, *oy1) that read inside the input and
 * the output columns [*ox0, *ox1) that do. */
static int64_t same_tap(const conv_geom *g, int64_t ki, int64_t kj, int64_t *oy0, int64_t *oy1,
                        int64_t *ox0, int64_t *ox1)
{
    int64_t dy = ki - g->pad, dx = kj - g->pad;
    *oy0 = dy < 0 ? -dy : 0;
    *oy1 = dy > 0 ? g->h - dy : g->h;
    *ox0 = dx < 0 ? -dx : 0;
    *ox1 = dx > 0 ? g->w - dx : g->w;
    if (*oy1 < *oy0)
        *oy1 = *oy0;
    if (*ox1 < *ox0)
        *ox1 = *ox0;
    return dy * g->w + dx;
}

/* Tests switch Winograd off to compare it with im2col + GEMM. */
static atomic_int winograd_off;

void lpci_conv2d_set_winograd(int on) { atomic_store(&winograd_off, !on); }

/* 3x3, stride 1, pad 1: the case the Winograd path computes. */
static int use_winograd(const conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride == 1 && g->pad == 1 &&
           !atomic_load(&winograd_off) &&
           lpci_winograd_usable(g->n, g->cin, g->cout, g->h, g->w);
}

/* y += bias, per output channel. */
static void add_bias(const conv_geom *g, const float *bias, float *y)
{
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (g->n * g->cout * g->hw > PAR_MIN)
    for (int64_t p = 0; p < g->n * g->cout; p++)
        for (int64_t i = 0; i < g->hw; i++)
            y[p * g->hw + i] += bias[p % g->cout];
}

/* Zeros columns outside [ox0, ox1) of rows [oy0, oy1) of a w-wide plane.
 * Column by column: a few strided stores, where row by row the compiler
 * would call memset for every one- or two-element run. */
static void zero_edges(float *p, int64_t w, int64_t oy0, int64_t oy1, int64_t ox0, int64_t ox1)
{
    for (int64_t ox = 0; ox < ox0; ox++)
        for (int64_t oy = oy0; oy < oy1; oy++)
            p[oy * w + ox] = 0.0f;
    for (int64_t ox = ox1; ox < w; ox++)
        for (int64_t oy = oy0; oy < oy1; oy++)
            p[oy * w + ox] = 0.0f;
}

/* One column-matrix row of a same-size conv from one input plane: a single
 * shifted copy, then zeros where the tap reads padding. */
static inline void same_row(const conv_geom *g, const float *plane, int64_t ki,
                                        int64_t kj, float *dst)
{
    int64_t oy0, oy1, ox0, ox1, off = same_tap(g, ki, kj, &oy0, &oy1, &ox0, &ox1), w = g->w;
    int64_t lo = oy0 * w + ox0, hi = oy1 > oy0 ? (oy1 - 1) * w + ox1 : lo;
    for (int64_t q = 0; q < lo; q++)
        dst[q] = 0.0f;
    for (int64_t q = lo; q < hi; q++) /* wraps across rows: the edges are fixed below */
        dst[q] = plane[q + off];
    for (int64_t q = hi; q < g->hw; q++)
        dst[q] = 0.0f;
    zero_edges(dst, w, oy0, oy1, ox0, ox1);
}

/* The adjoint of same_row: plane += the row, skipping the padding taps.
 * The row is scratch, so its padding entries are zeroed first and the add
 * then runs over one contiguous range. */
static inline void same_row_add(const conv_geom *g, float *row, int64_t ki,
                                            int64_t kj, float *plane)
{
    int64_t oy0, oy1, ox0, ox1, off = same_tap(g, ki, kj, &oy0, &oy1, &ox0, &ox1), w = g->w;
    int64_t lo = oy0 * w + ox0, hi = oy1 > oy0 ? (oy1 - 1) * w + ox1 : lo;
    zero_edges(row, w, oy0, oy1, ox0, ox1);
    for (int64_t q = lo; q < hi; q++)
        plane[q + off] += row[q];
}

/* col (k x bn*hw) from samples [n0, n0 + bn) of x. */
LPCI_VECTOR_BODY void im2col_body(const conv_geom *g, const float *x, int64_t n0, int64_t bn,
                                      float *col)
{
    int64_t l = bn * g->hw, s = g->stride;
    if (is_same_size(g)) {
        for (int64_t r = 0; r < g->k; r++) {
            int64_t ci = r / (g->kh * g->kw), ki = r / g->kw % g->kh, kj = r % g->kw;
            for (int64_t b = 0; b < bn; b++)
                same_row(g, x + ((n0 + b) * g->cin + ci) * g->hw, ki, kj,
                         col + r * l + b * g->hw);
        }
        return;
    }
    for (int64_t r = 0; r < g->k; r++) {
        int64_t ci = r / (g->kh * g->kw), ki = r / g->kw % g->kh, kj = r % g->kw;
        int64_t off = kj - g->pad, lo, hi;
        valid_range(g->w, g->wo, s, off, &lo, &hi);
        for (int64_t b = 0; b < bn; b++) {
            const float *plane = x + ((n0 + b) * g->cin + ci) * g->h * g->w;
            float *blk = col + r * l + b * g->hw, *dst = blk;
            for (int64_t oy = 0; oy < g->ho; oy++, dst += g->wo) {
                int64_t iy = oy * s - g->pad + ki;
                if (iy < 0 || iy >= g->h) { /* a padding row */
                    for (int64_t ox = 0; ox < g->wo; ox++)
                        dst[ox] = 0.0f;
                    continue;
                }
                const float *src = plane + iy * g->w;
                if (s == 1)
                    for (int64_t ox = lo; ox < hi; ox++)
                        dst[ox] = src[ox + off];
                else
                    for (int64_t ox = lo; ox < hi; ox++)
                        dst[ox] = src[ox * s + off];
            }
            /* padding columns once per plane: row by row they are one- or
             * two-element runs, each a memset call */
            zero_edges(blk, g->wo, 0, g->ho, lo, hi);
        }
    }
}
LPCI_VECTOR_KERNEL(im2col,
                   (const conv_geom *g, const float *x, int64_t n0, int64_t bn, float *col),
                   (g, x, n0, bn, col))

/* dx[n0 .. n0+bn) += col2im(dcol); dcol is scratch and may be changed. */
LPCI_VECTOR_BODY void col2im_add_body(const conv_geom *g, float *dcol, int64_t n0,
                                          int64_t bn, float *dx)
{
    int64_t l = bn * g->hw, s = g->stride, planes = bn * g->cin;
    if (is_same_size(g)) {
        for (int64_t p = 0; p < planes; p++) {
            int64_t b = p / g->cin, ci = p % g->cin;
            for (int64_t t = 0; t < g->kh * g->kw; t++)
                same_row_add(g, dcol + (ci * g->kh * g->kw + t) * l + b * g->hw, t / g->kw,
                             t % g->kw, dx + ((n0 + b) * g->cin + ci) * g->hw);
        }
        return;
    }
    for (int64_t p = 0; p < planes; p++) {
        int64_t b = p / g->cin, ci = p % g->cin;
        float *plane = dx + ((n0 + b) * g->cin + ci) * g->h * g->w;
        for (int64_t ki = 0; ki < g->kh; ki++)
            for (int64_t kj = 0; kj < g->kw; kj++) {
                int64_t r = (ci * g->kh + ki) * g->kw + kj, off = kj - g->pad, lo, hi;
                valid_range(g->w, g->wo, s, off, &lo, &hi);
                const float *src = dcol + r * l + b * g->hw;
                for (int64_t oy = 0; oy < g->ho; oy++, src += g->wo) {
                    int64_t iy = oy * s - g->pad + ki;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    float *dst = plane + iy * g->w;
                    if (s == 1) /* the common case, kept separate so that it vectorises */
                        for (int64_t ox = lo; ox < hi; ox++)
                            dst[ox + off] += src[ox];
                    else
                        for (int64_t ox = lo; ox < hi; ox++)
                            dst[ox * s + off] += src[ox];
                }
            }
    }
}
LPCI_VECTOR_KERNEL(col2im_add,
                   (const conv_geom *g, float *dcol, int64_t n0, int64_t bn, float *dx),
                   (g, dcol, n0, bn, dx))

/* Samples [n0, n0+bn) of y (N x Cout x hw) from the chunk matrix buf
 * (Cout x bn*hw), plus the bias when there is one. In place (buf is y's
 * own sample) only the bias is added. */
static void chunk_scatter(const conv_geom *g, const float *buf, const float *bias, int64_t n0,
                          int64_t bn, float *y, int in_place)
{
    if (in_place && !bias)
        return;
    int64_t l = bn * g->hw, rows = bn * g->cout;
    for (int64_t p = 0; p < rows; p++) {
        int64_t b = p / g->cout, co = p % g->cout;
        float *yp = y + ((n0 + b) * g->cout + co) * g->hw;
        const float *cp = in_place ? yp : buf + co * l + b * g->hw;
        float bv = bias ? bias[co] : 0.0f;
        for (int64_t i = 0; i < g->hw; i++)
            yp[i] = cp[i] + bv;
    }
}

/* The inverse: the chunk matrix buf from samples [n0, n0+bn) of dy. */
static void chunk_gather(const conv_geom *g, const float *dy, int64_t n0, int64_t bn, float *buf)
{
    int64_t l = bn * g->hw, rows = bn * g->cout;
    for (int64_t p = 0; p < rows; p++) {
        int64_t b = p / g->cout, co = p % g->cout;
        memcpy(buf + co * l + b * g->hw, dy + ((n0 + b) * g->cout + co) * g->hw,
               (size_t)g->hw * sizeof *buf);
    }
}

static lpc_tensor *check_args(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *w, lpc_tensor *b,
                              int stride, int pad)
{
    char sx[64], sw[64];
    if (x->ndim != 4 || w->ndim != 4)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: input %s and weight %s must both be 4-D",
                             lpci_shape_str(x, sx, sizeof sx), lpci_shape_str(w, sw, sizeof sw));
    if (stride < 1 || pad < 0)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "conv2d: stride %d must be >= 1 and pad %d >= 0",
                             stride, pad);
    if (x->shape[1] != w->shape[1])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: input has %lld channels, layer expects "
                             "%lld", (long long)x->shape[1], (long long)w->shape[1]);
    /* In 64 bits: 2 * pad overflows an int for pads near INT_MAX. */
    int64_t ph = x->shape[2] + (int64_t)2 * pad, pw = x->shape[3] + (int64_t)2 * pad;
    if (ph < w->shape[2] || pw < w->shape[3])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: kernel of %s is larger than the padded "
                             "input %s (pad %d)", lpci_shape_str(w, sw, sizeof sw),
                             lpci_shape_str(x, sx, sizeof sx), pad);
    /* The output (and its pixel count, used in products below) must be a
     * tensor we could hold: at most 2^40 elements. */
    int64_t ho = (ph - w->shape[2]) / stride + 1, wo = (pw - w->shape[3]) / stride + 1;
    const int64_t limit = (int64_t)1 << 40;
    if (ho > limit / wo || ho * wo > limit / x->shape[0] ||
        ho * wo * x->shape[0] > limit / w->shape[0])
        return lpci_ctx_fail(ctx, LPC_E_ARG, "conv2d: pad %d and stride %d give a %lld x %lld "
                             "output per channel, more than 2^40 elements in all", pad, stride,
                             (long long)ho, (long long)wo);
    /* One sample's column matrix (Cin kh kw x ho wo floats, one per thread)
     * too: at most 2^50 elements, so its sizes stay far from overflow. */
    int64_t k = w->shape[1] * w->shape[2] * w->shape[3]; /* <= 2^40: a tensor */
    if (k > ((int64_t)1 << 50) / (ho * wo))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "conv2d: pad %d and stride %d give %lld x %lld "
                             "output pixels for %lld kernel elements per output channel: a "
                             "column matrix of more than 2^50 elements", pad, stride,
                             (long long)ho, (long long)wo, (long long)k);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: bias %s does not match %lld output "
                             "channels", lpci_shape_str(b, sx, sizeof sx), (long long)w->shape[0]);
    return NULL;
}

/* Per-thread column matrices, chunk matrices and weight-gradient partials
 * (col_n, buf_n, dw_n floats per thread; NULL where 0), carved from the
 * ctx's reusable scratch. */
typedef struct {
    float *col, *buf, *dw;
} conv_scratch;

static int scratch_get(lpc_ctx *ctx, int64_t col_n, int64_t buf_n, int64_t dw_n, conv_scratch *s)
{
    int64_t nt = lpci_threads(), pad = 16; /* keeps each region 64-byte aligned */
    int64_t c = (col_n * nt + pad - 1) / pad * pad, b = (buf_n * nt + pad - 1) / pad * pad;
    int64_t total = c + b + dw_n * nt;
    float *p = total ? lpci_ctx_scratch(ctx, (size_t)total * sizeof(float)) : NULL;
    if (total && !p)
        return 0;
    s->col = col_n ? p : NULL;
    s->buf = buf_n ? p + c : NULL;
    s->dw = dw_n ? p + c + b : NULL;
    return 1;
}

static int64_t chunk_len(const conv_geom *g, int64_t n0)
{
    return g->n - n0 < g->chunk ? g->n - n0 : g->chunk;
}

/* y = conv(x) (+ bias); 0 when out of memory. */
static int run_forward(lpc_ctx *ctx, const conv_geom *g, const float *x, const float *w,
                       const float *bias, float *y)
{
    int direct = g->chunk == 1, pointwise = direct && is_pointwise(g);
    int64_t l = g->chunk * g->hw, n_chunks = (g->n + g->chunk - 1) / g->chunk;
    conv_scratch sc;
    if (!scratch_get(ctx, pointwise ? 0 : g->k * l, direct ? 0 : g->cout * l, 0, &sc))
        return 0;
    float *col = sc.col, *buf = sc.buf;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t c = 0; c < n_chunks; c++) {
        int t = omp_get_thread_num();
        int64_t n0 = c * g->chunk, bn = chunk_len(g, n0), lb = bn * g->hw;
        const float *src = x + n0 * g->k * g->hw;
        if (!pointwise) {
            im2col(g, x, n0, bn, col + t * g->k * l);
            src = col + t * g->k * l;
        }
        float *dst = direct ? y + n0 * g->cout * g->hw : buf + t * g->cout * l;
        lpci_sgemm(0, 0, g->cout, lb, g->k, 1.0f, w, g->k, src, lb, 0.0f, dst, lb);
        chunk_scatter(g, dst, bias, n0, bn, y, direct);
    }
    return 1;
}

lpc_tensor *lpc_conv2d(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *w, lpc_tensor *b, int stride,
                       int pad)
{
    lpc_tensor *in[3] = {x, w, b};
    if (!lpci_op_check(ctx, "conv2d", b ? 3 : 2, in))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *bad = check_args(ctx, x, w, b, stride, pad);
    if (bad)
        return bad;
    conv_geom g;
    geom_init(&g, x, w, stride, pad);
    lpc_tensor *y = lpci_temp(ctx, 4, (int64_t[]){g.n, g.cout, g.ho, g.wo});
    if (ctx->status != LPC_OK)
        return y;
    if (use_winograd(&g)) {
        if (!lpci_winograd_conv3x3(ctx, g.n, g.cin, g.cout, g.h, g.w, x->data, w->data, 0,
                                   y->data, 0))
            return &ctx->poison;
        if (b)
            add_bias(&g, b->data, y->data);
    } else if (!run_forward(ctx, &g, x->data, w->data, b ? b->data : NULL, y->data)) {
        return &ctx->poison;
    }
    if (lpci_needs_tape(ctx, 3, in)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_CONV2D, y, b ? 3 : 2, in);
        if (node) {
            node->i[0] = stride;
            node->i[1] = pad;
        }
    }
    return y;
}

/* db (+)= per-channel sums of dy: stored when `fresh`, else accumulated. */
static void bias_grad(const conv_geom *g, const float *dy, float *db, int fresh)
{
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (g->n * g->cout * g->hw > PAR_MIN)
    for (int64_t co = 0; co < g->cout; co++) {
        double s = 0.0;
        for (int64_t i = 0; i < g->n; i++) {
            const float *p = dy + (i * g->cout + co) * g->hw;
            for (int64_t k = 0; k < g->hw; k++)
                s += p[k];
        }
        db[co] = (fresh ? 0.0f : db[co]) + (float)s;
    }
}

/* dW and dX (where they are wanted) by im2col + GEMM, chunk by chunk. */
static void gemm_backward(lpc_ctx *ctx, const conv_geom *gp, const lpci_node *node, int x_fresh)
{
    const conv_geom g = *gp;
    lpc_tensor *x = node->in[0], *w = node->in[1];
    const float *dy = node->out->grad;
    float *dx = x->grad;
    int direct = g.chunk == 1, pointwise = direct && is_pointwise(&g), nt = lpci_threads();
    int64_t l = g.chunk * g.hw, n_chunks = (g.n + g.chunk - 1) / g.chunk, nw = g.cout * g.k;
    conv_scratch sc;
    if (!scratch_get(ctx, pointwise ? 0 : g.k * l, direct ? 0 : g.cout * l, w->grad ? nw : 0,
                     &sc))
        return;
    float *col = sc.col, *buf = sc.buf, *dw = sc.dw;
    if (dw)
        memset(dw, 0, (size_t)(nw * nt) * sizeof *dw);
    int w_fresh = w->grad && lpci_grad_fresh(w);
    int64_t x_sample = g.cin * g.h * g.w;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < n_chunks; c++) {
        int t = omp_get_thread_num();
        int64_t n0 = c * g.chunk, bn = chunk_len(&g, n0), lb = bn * g.hw;
        const float *dyc = dy + n0 * g.cout * g.hw, *xc = x->data + n0 * g.k * g.hw;
        float *ct = pointwise ? NULL : col + t * g.k * l;
        if (!direct) {
            chunk_gather(&g, dy, n0, bn, buf + t * g.cout * l);
            dyc = buf + t * g.cout * l;
        }
        if (dw) { /* this thread's dW += dY col^T */
            if (!pointwise) {
                im2col(&g, x->data, n0, bn, ct);
                xc = ct;
            }
            lpci_sgemm(0, 1, g.cout, g.k, lb, 1.0f, dyc, lb, xc, lb, 1.0f, dw + t * nw, g.k);
        }
        if (!dx)
            continue;
        if (pointwise) { /* dX (+)= W^T dY */
            lpci_sgemm(1, 0, g.k, lb, g.cout, 1.0f, w->data, g.k, dyc, lb, x_fresh ? 0.0f : 1.0f,
                       dx + n0 * g.k * g.hw, lb);
        } else { /* dcol = W^T dY, scattered back onto the input */
            lpci_sgemm(1, 0, g.k, lb, g.cout, 1.0f, w->data, g.k, dyc, lb, 0.0f, ct, lb);
            if (x_fresh) /* zeroed here, while this chunk's part is about to be used */
                memset(dx + n0 * x_sample, 0, (size_t)(bn * x_sample) * sizeof(float));
            col2im_add(&g, ct, n0, bn, dx);
        }
    }
    if (!dw)
        return;
#pragma omp parallel for schedule(static) num_threads(nt) if (nw * nt > PAR_MIN)
    for (int64_t i = 0; i < nw; i++) {
        float sum = 0.0f;
        for (int t = 0; t < nt; t++)
            sum += dw[t * nw + i];
        w->grad[i] = (w_fresh ? 0.0f : w->grad[i]) + sum;
    }
}

void lpci_backward_CONV2D(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *x = node->in[0], *w = node->in[1], *b = node->in[2];
    const float *dy = node->out->grad;
    conv_geom g;
    geom_init(&g, x, w, node->i[0], node->i[1]);
    if (b && b->grad)
        bias_grad(&g, dy, b->grad, lpci_grad_fresh(b));
    int x_fresh = x->grad && lpci_grad_fresh(x);
    if (!use_winograd(&g)) {
        if (w->grad || x->grad)
            gemm_backward(ctx, &g, node, x_fresh);
        return;
    }
    /* one after the other: each reuses the ctx scratch */
    if (w->grad && !lpci_winograd_weight_grad(ctx, g.n, g.cin, g.cout, g.h, g.w, x->data,
                                              dy, w->grad, lpci_grad_fresh(w)))
        return;
    /* dX = dY convolved with the transposed filters rotated by 180 degrees */
    if (x->grad)
        lpci_winograd_conv3x3(ctx, g.n, g.cout, g.cin, g.h, g.w, dy, w->data, 1, x->grad,
                              !x_fresh);
}
