/* Custom ops: user forward and backward callbacks, taped like built-in ops
 * (the node's aux holds the op). */
#include <string.h>
#include "../core/internal.h"

_Static_assert(LPC_OP_MAX_INPUTS <= LPCI_MAX_INPUTS, "a tape node holds every input of a custom op");

struct lpc_op {
    char name[64];
    lpc_op_forward_fn forward;
    lpc_op_backward_fn backward;
    void *user;
};

lpc_op *lpc_op_new(const char *name, lpc_op_forward_fn forward, lpc_op_backward_fn backward,
                   void *user)
{
    size_t max = sizeof ((lpc_op *)0)->name - 1;
    if (!name || !name[0] || strlen(name) > max)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_op_new: the name must have 1..%zu characters, got "
                              "%s%zu", max, name ? "" : "NULL, ", name ? strlen(name) : 0);
    if (!forward)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_op_new: op '%s' has no forward callback", name);
    lpc_op *op = lpci_calloc(1, sizeof *op);
    if (!op)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_op_new: out of memory");
    strcpy(op->name, name);
    op->forward = forward;
    op->backward = backward;
    op->user = user;
    return op;
}

void lpc_op_free(lpc_op *op) { lpci_free(op); }

/* The callback's own message, or the status's text when it left none. */
static const char *callback_message(lpc_status s)
{
    return lpc_last_error()[0] ? lpc_last_error() : lpc_strerror(s);
}

lpc_tensor *lpc_op_apply(lpc_ctx *ctx, const lpc_op *op, int n, lpc_tensor *const *in, int ndim,
                         const int64_t *out_shape)
{
    if (!ctx)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_op_apply: ctx is NULL");
    if (!op || n < 1 || n > LPC_OP_MAX_INPUTS || !in)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_op_apply: need an op and 1..%d inputs (got %d)",
                             LPC_OP_MAX_INPUTS, n);
    if (!lpci_op_check(ctx, op->name, n, in))
        return &ctx->poison;
    lpc_tensor *y = out_shape ? lpci_temp(ctx, ndim, out_shape) : lpci_temp_like(ctx, in[0]);
    if (y->flags & LPCI_T_POISON)
        return y;
    lpc_clear_error();
    lpc_status s = op->forward(op->user, n, (const lpc_tensor *const *)in, y);
    if (s != LPC_OK)
        return lpci_ctx_fail(ctx, s, "%s: forward failed: %s", op->name, callback_message(s));
    if (lpci_needs_tape(ctx, n, in)) {
        if (!op->backward)
            return lpci_ctx_fail(ctx, LPC_E_STATE, "%s: an input requires grad but the op has "
                                 "no backward (turn grad recording off for inference)", op->name);
        lpci_node *node = lpci_tape_push_named(ctx, LPCI_OP_CUSTOM, op->name, y, n, in);
        if (!node)
            return &ctx->poison;
        node->aux = (void *)op;
        node->i[0] = n;
    }
    return y;
}

void lpci_backward_CUSTOM(lpc_ctx *ctx, const lpci_node *node)
{
    const lpc_op *op = node->aux;
    int n = (int)node->i[0];
    float *grad_in[LPC_OP_MAX_INPUTS] = {0};
    for (int j = 0; j < n; j++)
        if (lpci_requires_grad(node->in[j]))
            grad_in[j] = node->in[j]->grad;
    lpc_clear_error();
    lpc_status s = op->backward(op->user, n, (const lpc_tensor *const *)node->in, node->out,
                                node->out->grad, grad_in);
    if (s != LPC_OK)
        lpci_ctx_fail(ctx, s, "%s: backward failed: %s", op->name, callback_message(s));
}
