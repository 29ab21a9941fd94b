/* Matrix product and the fully connected layer, both on BLIS sgemm. */
#include "../core/internal.h"

lpc_tensor *lpc_matmul(lpc_ctx *ctx, lpc_tensor *a, lpc_tensor *b, int ta, int tb)
{
    lpc_tensor *in[2] = {a, b};
    if (!lpci_op_check(ctx, "matmul", 2, in))
        return ctx ? &ctx->poison : NULL;
    char sa[64], sb[64];
    if (a->ndim != 2 || b->ndim != 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "matmul: inputs must be 2-D, got %s and %s",
                             lpci_shape_str(a, sa, sizeof sa), lpci_shape_str(b, sb, sizeof sb));
    int64_t m = ta ? a->shape[1] : a->shape[0], k = ta ? a->shape[0] : a->shape[1];
    int64_t kb = tb ? b->shape[1] : b->shape[0], n = tb ? b->shape[0] : b->shape[1];
    if (k != kb)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "matmul: inner sizes differ (%s%s x %s%s)",
                             lpci_shape_str(a, sa, sizeof sa), ta ? "^T" : "",
                             lpci_shape_str(b, sb, sizeof sb), tb ? "^T" : "");
    lpc_tensor *c = lpci_temp(ctx, 2, (int64_t[]){m, n});
    if (ctx->status != LPC_OK)
        return c;
    lpci_sgemm(ta, tb, m, n, k, 1.0f, a->data, a->shape[1], b->data, b->shape[1], 0.0f, c->data, n);
    if (lpci_needs_tape(ctx, 2, in)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_MATMUL, c, 2, in);
        if (node) {
            node->i[0] = ta != 0;
            node->i[1] = tb != 0;
        }
    }
    return c;
}

void lpci_backward_MATMUL(lpc_ctx *ctx, const lpci_node *node)
{
    (void)ctx;
    lpc_tensor *a = node->in[0], *b = node->in[1], *c = node->out;
    int ta = (int)node->i[0], tb = (int)node->i[1];
    int64_t m = c->shape[0], n = c->shape[1], k = ta ? a->shape[0] : a->shape[1];
    const float *dc = c->grad;
    if (a->grad) {
        if (!ta) /* dA (m x k) += dC op(B)^T */
            lpci_sgemm(0, !tb, m, k, n, 1.0f, dc, n, b->data, b->shape[1], 1.0f, a->grad, k);
        else /* dA (k x m) += op(B) dC^T */
            lpci_sgemm(tb, 1, k, m, n, 1.0f, b->data, b->shape[1], dc, n, 1.0f, a->grad, m);
    }
    if (b->grad) {
        if (!tb) /* dB (k x n) += op(A)^T dC */
            lpci_sgemm(!ta, 0, k, n, m, 1.0f, a->data, a->shape[1], dc, n, 1.0f, b->grad, n);
        else /* dB (n x k) += dC^T op(A) */
            lpci_sgemm(1, ta, n, k, m, 1.0f, dc, n, a->data, a->shape[1], 1.0f, b->grad, k);
    }
}

lpc_tensor *lpc_linear(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *w, lpc_tensor *b)
{
    lpc_tensor *in[3] = {x, w, b};
    if (!lpci_op_check(ctx, "linear", b ? 3 : 2, in))
        return ctx ? &ctx->poison : NULL;
    char sx[64], sw[64];
    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "linear: input %s does not fit weight %s "
                             "(expects N x %lld)", lpci_shape_str(x, sx, sizeof sx),
                             lpci_shape_str(w, sw, sizeof sw), (long long)w->shape[1]);
    int64_t n = x->shape[0], out = w->shape[0], d = w->shape[1];
    if (b && (b->ndim != 1 || b->shape[0] != out))
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "linear: bias %s does not match %lld outputs",
                             lpci_shape_str(b, sx, sizeof sx), (long long)out);
    lpc_tensor *y = lpci_temp(ctx, 2, (int64_t[]){n, out});
    if (ctx->status != LPC_OK)
        return y;
    if (b)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out; j++)
                y->data[i * out + j] = b->data[j];
    lpci_sgemm(0, 1, n, out, d, 1.0f, x->data, d, w->data, d, b ? 1.0f : 0.0f, y->data, out);
    if (lpci_needs_tape(ctx, 3, in))
        lpci_tape_push(ctx, LPCI_OP_LINEAR, y, 3, in);
    return y;
}

void lpci_backward_LINEAR(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *x = node->in[0], *w = node->in[1], *b = node->in[2], *y = node->out;
    int64_t n = x->shape[0], out = w->shape[0], d = w->shape[1];
    const float *dy = y->grad;
    if (x->grad) /* dx (n x d) += dy W */
        lpci_sgemm(0, 0, n, d, out, 1.0f, dy, out, w->data, d, lpci_grad_fresh(x) ? 0.0f : 1.0f,
                   x->grad, d);
    if (w->grad) /* dW (out x d) += dy^T x */
        lpci_sgemm(1, 0, out, d, n, 1.0f, dy, out, x->data, d, lpci_grad_fresh(w) ? 0.0f : 1.0f,
                   w->grad, d);
    if (b && b->grad) {
        int fresh = lpci_grad_fresh(b);
        double *s = lpci_ctx_alloc(ctx, (size_t)out * sizeof *s);
        if (!s)
            return;
        for (int64_t j = 0; j < out; j++) /* row by row: the same order per j, read in sequence */
            s[j] = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out; j++)
                s[j] += dy[i * out + j];
        for (int64_t j = 0; j < out; j++)
            b->grad[j] = (fresh ? 0.0f : b->grad[j]) + (float)s[j];
    }
}
