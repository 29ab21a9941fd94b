/* Linear layer y = x W^T + b (PyTorch layout and initialisation). */
#include <math.h>
#include "module_internal.h"

static lpc_tensor *linear_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_linear(ctx, x, lpci_own_param(m, 0), m->n_params > 1 ? lpci_own_param(m, 1) : NULL);
}

static const lpci_module_vt linear_vt = {"linear", linear_forward, NULL};

lpc_module *lpc_linear_new(int64_t in_features, int64_t out_features, int bias, lpc_rng *rng)
{
    if (in_features < 1 || out_features < 1 || !rng)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_linear_new: need positive sizes (got %lld, %lld) "
                              "and a generator", (long long)in_features, (long long)out_features);
    lpc_module *m = lpci_module_new(&linear_vt, NULL);
    if (!m)
        return NULL;
    double bound = 1.0 / sqrt((double)in_features);
    lpc_tensor *w = lpc_tensor_new(2, (int64_t[]){out_features, in_features});
    if (w)
        lpci_init_uniform(w, bound, rng);
    if (lpci_module_add_param(m, "weight", w) != LPC_OK)
        goto fail;
    if (bias) {
        lpc_tensor *b = lpc_tensor_new(1, (int64_t[]){out_features});
        if (b)
            lpci_init_uniform(b, bound, rng);
        if (lpci_module_add_param(m, "bias", b) != LPC_OK)
            goto fail;
    }
    return m;
fail:
    lpc_module_free(m);
    return NULL;
}
