/* 2-D convolution as im2col + GEMM. Large images take one GEMM per sample,
 * reading and writing the tensors in place. Small images are processed in
 * chunks of samples whose columns sit side by side in one (Cin*kh*kw) x
 * (B*Ho*Wo) matrix, so that every GEMM stays large; the chunk size bounds
 * the scratch, which comes from the ctx arena. */
#include <string.h>
#include "../core/internal.h"

#define COL_BUDGET ((int64_t)1 << 20) /* floats in one column matrix (4 MiB) */
#define DIRECT_HW 256                 /* output pixels from which a sample is one GEMM */
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
    int64_t b = g->hw >= DIRECT_HW ? 1 : COL_BUDGET / (g->k * g->hw);
    g->chunk = b < 1 ? 1 : b > g->n ? g->n : b;
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

/* col (k x bn*hw) from samples [n0, n0 + bn) of x; one thread per row. */
static void im2col(const conv_geom *g, const float *x, int64_t n0, int64_t bn, float *col)
{
    int64_t l = bn * g->hw, s = g->stride;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (g->k * l > PAR_MIN)
    for (int64_t r = 0; r < g->k; r++) {
        int64_t ci = r / (g->kh * g->kw), ki = r / g->kw % g->kh, kj = r % g->kw;
        int64_t off = kj - g->pad, lo, hi;
        valid_range(g->w, g->wo, s, off, &lo, &hi);
        float *dst = col + r * l;
        for (int64_t b = 0; b < bn; b++) {
            const float *plane = x + ((n0 + b) * g->cin + ci) * g->h * g->w;
            for (int64_t oy = 0; oy < g->ho; oy++, dst += g->wo) {
                int64_t iy = oy * s - g->pad + ki;
                if (iy < 0 || iy >= g->h) {
                    memset(dst, 0, (size_t)g->wo * sizeof *dst);
                    continue;
                }
                const float *src = plane + iy * g->w;
                for (int64_t ox = 0; ox < lo; ox++)
                    dst[ox] = 0.0f;
                if (s == 1)
                    memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof *dst);
                else
                    for (int64_t ox = lo; ox < hi; ox++)
                        dst[ox] = src[ox * s + off];
                for (int64_t ox = hi; ox < g->wo; ox++)
                    dst[ox] = 0.0f;
            }
        }
    }
}

/* dx[n0 .. n0+bn) += col2im(dcol); one thread per (sample, channel) plane. */
static void col2im_add(const conv_geom *g, const float *dcol, int64_t n0, int64_t bn, float *dx)
{
    int64_t l = bn * g->hw, s = g->stride, planes = bn * g->cin;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (g->k * l > PAR_MIN)
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

/* Samples [n0, n0+bn) of y (N x Cout x hw) from the chunk matrix buf
 * (Cout x bn*hw), plus the bias when there is one. */
static void chunk_scatter(const conv_geom *g, const float *buf, const float *bias, int64_t n0,
                          int64_t bn, float *y)
{
    int64_t l = bn * g->hw, rows = bn * g->cout;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (rows * g->hw > PAR_MIN)
    for (int64_t p = 0; p < rows; p++) {
        int64_t b = p / g->cout, co = p % g->cout;
        float *yp = y + ((n0 + b) * g->cout + co) * g->hw;
        const float *cp = buf + co * l + b * g->hw;
        float bv = bias ? bias[co] : 0.0f;
        for (int64_t i = 0; i < g->hw; i++)
            yp[i] = cp[i] + bv;
    }
}

/* The inverse: the chunk matrix buf from samples [n0, n0+bn) of dy. */
static void chunk_gather(const conv_geom *g, const float *dy, int64_t n0, int64_t bn, float *buf)
{
    int64_t l = bn * g->hw, rows = bn * g->cout;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (rows * g->hw > PAR_MIN)
    for (int64_t p = 0; p < rows; p++) {
        int64_t b = p / g->cout, co = p % g->cout;
        memcpy(buf + co * l + b * g->hw, dy + ((n0 + b) * g->cout + co) * g->hw,
               (size_t)g->hw * sizeof *buf);
    }
}

static void add_bias(const conv_geom *g, float *y, const float *bias)
{
    int64_t rows = g->n * g->cout;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (rows * g->hw > PAR_MIN)
    for (int64_t p = 0; p < rows; p++) {
        float bv = bias[p % g->cout], *yp = y + p * g->hw;
        for (int64_t i = 0; i < g->hw; i++)
            yp[i] += bv;
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
    if (x->shape[2] + 2 * pad < w->shape[2] || x->shape[3] + 2 * pad < w->shape[3])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: kernel of %s is larger than the padded "
                             "input %s (pad %d)", lpci_shape_str(w, sw, sizeof sw),
                             lpci_shape_str(x, sx, sizeof sx), pad);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "conv2d: bias %s does not match %lld output "
                             "channels", lpci_shape_str(b, sx, sizeof sx), (long long)w->shape[0]);
    return NULL;
}

/* y = conv(x) (+ bias), chunk by chunk; 0 when the arena is exhausted. */
static int run_forward(lpc_ctx *ctx, const conv_geom *g, const float *x, const float *w,
                       const float *bias, float *y)
{
    int direct = g->chunk == 1, pointwise = direct && is_pointwise(g);
    int64_t l = g->chunk * g->hw;
    float *col = pointwise ? NULL : lpci_ctx_alloc(ctx, (size_t)(g->k * l) * sizeof(float));
    float *buf = direct ? NULL : lpci_ctx_alloc(ctx, (size_t)(g->cout * l) * sizeof(float));
    if ((!pointwise && !col) || (!direct && !buf))
        return 0;
    for (int64_t n0 = 0; n0 < g->n; n0 += g->chunk) {
        int64_t bn = g->n - n0 < g->chunk ? g->n - n0 : g->chunk, lb = bn * g->hw;
        const float *src = x + n0 * g->k * g->hw;
        if (!pointwise) {
            im2col(g, x, n0, bn, col);
            src = col;
        }
        if (direct) {
            lpci_sgemm(0, 0, g->cout, lb, g->k, 1.0f, w, g->k, src, lb, 0.0f,
                       y + n0 * g->cout * g->hw, lb);
        } else {
            lpci_sgemm(0, 0, g->cout, lb, g->k, 1.0f, w, g->k, src, lb, 0.0f, buf, lb);
            chunk_scatter(g, buf, bias, n0, bn, y);
        }
    }
    if (direct && bias)
        add_bias(g, y, bias);
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
    if (!run_forward(ctx, &g, x->data, w->data, b ? b->data : NULL, y->data))
        return &ctx->poison;
    if (lpci_needs_tape(ctx, 3, in)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_CONV2D, y, b ? 3 : 2, in);
        if (node) {
            node->i[0] = stride;
            node->i[1] = pad;
        }
    }
    return y;
}

static void bias_grad(const conv_geom *g, const float *dy, float *db)
{
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (g->n * g->cout * g->hw > PAR_MIN)
    for (int64_t co = 0; co < g->cout; co++) {
        double s = 0.0;
        for (int64_t i = 0; i < g->n; i++) {
            const float *p = dy + (i * g->cout + co) * g->hw;
            for (int64_t k = 0; k < g->hw; k++)
                s += p[k];
        }
        db[co] += (float)s;
    }
}

void lpci_backward_CONV2D(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *x = node->in[0], *w = node->in[1], *b = node->in[2];
    const float *dy = node->out->grad;
    conv_geom g;
    geom_init(&g, x, w, node->i[0], node->i[1]);
    if (b && b->grad)
        bias_grad(&g, dy, b->grad);
    if (!x->grad && !w->grad)
        return;
    int direct = g.chunk == 1, pointwise = direct && is_pointwise(&g);
    int64_t l = g.chunk * g.hw;
    float *col = pointwise ? NULL : lpci_ctx_alloc(ctx, (size_t)(g.k * l) * sizeof(float));
    float *buf = direct ? NULL : lpci_ctx_alloc(ctx, (size_t)(g.cout * l) * sizeof(float));
    if ((!pointwise && !col) || (!direct && !buf))
        return;
    for (int64_t n0 = 0; n0 < g.n; n0 += g.chunk) {
        int64_t bn = g.n - n0 < g.chunk ? g.n - n0 : g.chunk, lb = bn * g.hw;
        const float *dyc = dy + n0 * g.cout * g.hw, *xc = x->data + n0 * g.k * g.hw;
        if (!direct) {
            chunk_gather(&g, dy, n0, bn, buf);
            dyc = buf;
        }
        if (w->grad) { /* dW += dY col^T */
            if (!pointwise) {
                im2col(&g, x->data, n0, bn, col);
                xc = col;
            }
            lpci_sgemm(0, 1, g.cout, g.k, lb, 1.0f, dyc, lb, xc, lb, 1.0f, w->grad, g.k);
        }
        if (!x->grad)
            continue;
        if (pointwise) { /* dX += W^T dY */
            lpci_sgemm(1, 0, g.k, lb, g.cout, 1.0f, w->data, g.k, dyc, lb, 1.0f,
                       x->grad + n0 * g.k * g.hw, lb);
        } else { /* dcol = W^T dY, scattered back onto the input */
            lpci_sgemm(1, 0, g.k, lb, g.cout, 1.0f, w->data, g.k, dyc, lb, 0.0f, col, lb);
            col2im_add(&g, col, n0, bn, x->grad);
        }
    }
}
