/* Linear layer y = x W^T + b (PyTorch layout and initialisation). */
#include "module_internal.h"

static lpc_tensor *linear_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_linear(ctx, x, lpci_own_param(m, 0), m->n_params > 1 ? lpci_own_param(m, 1) : NULL);
}

static const lpci_module_vt linear_vt = {"linear", linear_forward, NULL, NULL};

lpc_module *lpc_linear_new(int64_t in_features, int64_t out_features, int bias, lpc_rng *rng)
{
    if (in_features < 1 || out_features < 1 || !rng)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_linear_new: need positive sizes (got %lld, %lld) "
                              "and a generator", (long long)in_features, (long long)out_features);
    lpc_module *m = lpci_module_new(&linear_vt, NULL);
    if (!m)
        return NULL;
    if (lpci_module_add_weight_bias(m, 2, (int64_t[]){out_features, in_features}, in_features,
                                    bias, rng) != LPC_OK) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}
