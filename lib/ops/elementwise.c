/* Elementwise ops: add, sub, mul, scale, bias-add, SiLU, ReLU. Each output
 * element is written by exactly one thread (static OpenMP schedule). */
#include <math.h>
#include "../core/internal.h"
#include "sigmoid.h"

#define PAR_MIN 65536 /* below this many elements threads cost more than they save */
/* Parallel loop over a local `n` elements (each element owned by one thread). */
#define PARALLEL_FOR _Pragma("omp parallel for schedule(static) num_threads(lpci_threads()) if(n > PAR_MIN)")

/* Shared front half of binary same-shape ops. */
static lpc_tensor *binary_prepare(lpc_ctx *ctx, const char *op, lpc_tensor *a, lpc_tensor *b)
{
    lpc_tensor *in[2] = {a, b};
    if (!lpci_op_check(ctx, op, 2, in))
        return NULL;
    if (!lpci_same_shape(a, b)) {
        char sa[64], sb[64];
        lpci_ctx_fail(ctx, LPC_E_SHAPE, "%s: shapes %s and %s differ", op,
                      lpci_shape_str(a, sa, sizeof sa), lpci_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    lpc_tensor *y = lpci_temp_like(ctx, a);
    return ctx->status == LPC_OK ? y : NULL;
}

static lpc_tensor *binary_op(lpc_ctx *ctx, int op, const char *name, lpc_tensor *a, lpc_tensor *b)
{
    lpc_tensor *y = binary_prepare(ctx, name, a, b);
    if (!y)
        return ctx ? &ctx->poison : NULL;
    const float *pa = a->data, *pb = b->data;
    float *py = y->data;
    int64_t n = y->numel;
    if (op == LPCI_OP_ADD) {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            py[i] = pa[i] + pb[i];
    } else if (op == LPCI_OP_SUB) {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            py[i] = pa[i] - pb[i];
    } else {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            py[i] = pa[i] * pb[i];
    }
    lpc_tensor *in[2] = {a, b};
    if (lpci_needs_tape(ctx, 2, in))
        lpci_tape_push(ctx, op, y, 2, in);
    return y;
}

lpc_tensor *lpc_add(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b)
{
    return binary_op(ctx, LPCI_OP_ADD, "add", a, b);
}
lpc_tensor *lpc_sub(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b)
{
    return binary_op(ctx, LPCI_OP_SUB, "sub", a, b);
}
lpc_tensor *lpc_mul(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b)
{
    return binary_op(ctx, LPCI_OP_MUL, "mul", a, b);
}

/* da += sa * dy (and likewise for b), the backward of add and sub. */
static void accumulate(float *dst, const float *dy, float s, int64_t n)
{
    if (!dst)
        return;
    PARALLEL_FOR
    for (int64_t i = 0; i < n; i++)
        dst[i] += s * dy[i];
}

void lpci_backward_ADD(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    accumulate(node->in[0]->grad, node->out->grad, 1.0f, node->out->numel);
    accumulate(node->in[1]->grad, node->out->grad, 1.0f, node->out->numel);
}

void lpci_backward_SUB(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    accumulate(node->in[0]->grad, node->out->grad, 1.0f, node->out->numel);
    accumulate(node->in[1]->grad, node->out->grad, -1.0f, node->out->numel);
}

void lpci_backward_MUL(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *a = node->in[0], *b = node->in[1];
    const float *dy = node->out->grad;
    int64_t n = node->out->numel;
    if (a->grad) {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            a->grad[i] += dy[i] * b->data[i];
    }
    if (b->grad) {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            b->grad[i] += dy[i] * a->data[i];
    }
}

lpc_tensor *lpc_scale(lpc_ctx *ctx, lpc_tensor *a, float s)
{
    if (!lpci_op_check(ctx, "scale", 1, &a))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *y = lpci_temp_like(ctx, a);
    if (ctx->status != LPC_OK)
        return y;
    int64_t n = a->numel;
    PARALLEL_FOR
    for (int64_t i = 0; i < n; i++)
        y->data[i] = s * a->data[i];
    if (lpci_needs_tape(ctx, 1, &a)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_SCALE, y, 1, &a);
        if (node)
            node->f[0] = s;
    }
    return y;
}

void lpci_backward_SCALE(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    accumulate(node->in[0]->grad, node->out->grad, (float)node->f[0], node->out->numel);
}

lpc_tensor *lpc_bias_add(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *b)
{
    lpc_tensor *in[2] = {x, b};
    if (!lpci_op_check(ctx, "bias_add", 2, in))
        return ctx ? &ctx->poison : NULL;
    char sx[64], sb[64];
    if (x->ndim < 2 || b->ndim != 1 || b->shape[0] != x->shape[1])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "bias_add: bias %s does not match the channels "
                             "of %s", lpci_shape_str(b, sb, sizeof sb),
                             lpci_shape_str(x, sx, sizeof sx));
    lpc_tensor *y = lpci_temp_like(ctx, x);
    if (ctx->status != LPC_OK)
        return y;
    int64_t rows = x->shape[0] * x->shape[1], inner = x->numel / rows, c = x->shape[1];
    int64_t n = x->numel;
    PARALLEL_FOR
    for (int64_t r = 0; r < rows; r++)
        for (int64_t s = 0; s < inner; s++)
            y->data[r * inner + s] = x->data[r * inner + s] + b->data[r % c];
    if (lpci_needs_tape(ctx, 2, in))
        lpci_tape_push(ctx, LPCI_OP_BIAS_ADD, y, 2, in);
    return y;
}

void lpci_backward_BIAS_ADD(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0], *b = node->in[1], *y = node->out;
    accumulate(x->grad, y->grad, 1.0f, y->numel);
    if (!b->grad)
        return;
    int64_t c = x->shape[1], n = x->shape[0], inner = x->numel / (n * c);
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < inner; k++)
                s += y->grad[(i * c + ch) * inner + k];
        b->grad[ch] += (float)s;
    }
}

LPCI_VECTOR_BODY void silu_span_body(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * lpci_sigmoid(x[i]);
}
LPCI_VECTOR_KERNEL(silu_span, (const float *x, float *y, int64_t n), (x, y, n))

LPCI_VECTOR_BODY void silu_backward_span_body(const float *x, const float *dy, float *dx,
                                                  int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float s = lpci_sigmoid(x[i]);
        dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}
LPCI_VECTOR_KERNEL(silu_backward_span,
                   (const float *x, const float *dy, float *dx, int64_t n),
                   (x, dy, dx, n))

static lpc_tensor *activation(lpc_ctx *ctx, int op, const char *name, lpc_tensor *x)
{
    if (!lpci_op_check(ctx, name, 1, &x))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *y = lpci_temp_like(ctx, x);
    if (ctx->status != LPC_OK)
        return y;
    const float *px = x->data;
    float *py = y->data;
    int64_t n = x->numel;
    if (op == LPCI_OP_SILU) {
        LPCI_PARALLEL_SPANS(n, PAR_MIN, silu_span(px + lo, py + lo, hi - lo));
    } else {
        PARALLEL_FOR
        for (int64_t i = 0; i < n; i++)
            py[i] = px[i] > 0.0f ? px[i] : 0.0f;
    }
    if (lpci_needs_tape(ctx, 1, &x))
        lpci_tape_push(ctx, op, y, 1, &x);
    return y;
}

lpc_tensor *lpc_silu(lpc_ctx *ctx, lpc_tensor *x) { return activation(ctx, LPCI_OP_SILU, "silu", x); }
lpc_tensor *lpc_relu(lpc_ctx *ctx, lpc_tensor *x) { return activation(ctx, LPCI_OP_RELU, "relu", x); }

void lpci_backward_SILU(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    const float *dy = node->out->grad, *px = x->data;
    float *dx = x->grad;
    int64_t n = x->numel;
    LPCI_PARALLEL_SPANS(n, PAR_MIN, silu_backward_span(px + lo, dy + lo, dx + lo, hi - lo));
}

void lpci_backward_RELU(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *x = node->in[0];
    if (!x->grad)
        return;
    const float *dy = node->out->grad;
    int64_t n = x->numel;
    PARALLEL_FOR
    for (int64_t i = 0; i < n; i++)
        x->grad[i] += x->data[i] > 0.0f ? dy[i] : 0.0f;
}
