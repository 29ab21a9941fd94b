/* Finite-difference gradient checker (lpc_gradcheck), public so that users
 * check their own ops and modules the way the library checks its own. */
#include <math.h>
#include <string.h>
#include "internal.h"

/* f's loss on ctx with grad recording off; LPC_OK and *v, or the error. */
static lpc_status eval_loss(lpc_graph_fn f, lpc_tensor **inputs, void *user, lpc_ctx *ctx,
                            double *v)
{
    lpc_ctx_reset(ctx);
    lpc_ctx_set_grad(ctx, 0);
    lpc_tensor *loss = f(ctx, inputs, user);
    lpc_ctx_set_grad(ctx, 1);
    if (ctx->status != LPC_OK)
        return lpci_error(ctx->status, "lpc_gradcheck: forward failed: %s", ctx->message);
    if (!loss || loss->numel != 1)
        return lpci_error(LPC_E_SHAPE, "lpc_gradcheck: the graph must return a scalar loss, got "
                          "%s%lld elements", !loss ? "NULL, " : "",
                          loss ? (long long)loss->numel : 0LL);
    *v = loss->data[0];
    return LPC_OK;
}

lpc_status lpc_gradcheck(lpc_graph_fn f, void *user, int n, lpc_tensor **inputs, double eps,
                         double atol, double rtol, double *worst)
{
    if (!f || n < 1 || !inputs || !worst || !(eps > 0) || !isfinite(eps) || !(atol >= 0) ||
        !(rtol >= 0) || !(atol + rtol > 0))
        return lpci_error(LPC_E_ARG, "lpc_gradcheck: need a graph, inputs, worst, eps > 0 and "
                          "tolerances >= 0 (not both 0)");
    for (int i = 0; i < n; i++)
        if (!inputs[i] || !lpci_is_persistent(inputs[i]))
            return lpci_error(LPC_E_ARG, "lpc_gradcheck: input %d is NULL or a temporary", i);
    *worst = 0.0;
    lpc_ctx *ctx = lpc_ctx_new();
    if (!ctx)
        return LPC_E_NOMEM;
    for (int i = 0; i < n; i++)
        lpc_tensor_zero_grad(inputs[i]);
    lpc_status s = LPC_OK;
    lpc_tensor *loss = f(ctx, inputs, user);
    if (ctx->status != LPC_OK)
        s = lpci_error(ctx->status, "lpc_gradcheck: forward failed: %s", ctx->message);
    else if ((s = lpc_backward(ctx, loss)) != LPC_OK)
        s = lpci_error(s, "lpc_gradcheck: %s", lpc_last_error());
    for (int i = 0; s == LPC_OK && i < n; i++) {
        lpc_tensor *t = inputs[i];
        if (!lpci_requires_grad(t))
            continue;
        if (!t->grad) {
            s = lpci_error(LPC_E_STATE, "lpc_gradcheck: input %d received no gradient", i);
            break;
        }
        for (int64_t k = 0; s == LPC_OK && k < t->numel; k++) {
            float orig = t->data[k];
            double up = 0, down = 0;
            t->data[k] = (float)(orig + eps);
            s = eval_loss(f, inputs, user, ctx, &up);
            t->data[k] = (float)(orig - eps);
            if (s == LPC_OK)
                s = eval_loss(f, inputs, user, ctx, &down);
            t->data[k] = orig;
            double num = (up - down) / (2.0 * eps);
            double ratio = fabs(t->grad[k] - num) / (atol + rtol * fabs(num));
            if (s == LPC_OK && !(ratio <= *worst))
                *worst = isnan(ratio) ? INFINITY : ratio;
        }
    }
    lpc_ctx_free(ctx);
    return s;
}
