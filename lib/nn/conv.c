/* Convolution and batch-norm layers (PyTorch layout, initialisation and
 * running-statistics conventions). */
#include <math.h>
#include "../ops/batchnorm.h"
#include "module_internal.h"

typedef lpci_conv_cfg conv_cfg;

static lpc_tensor *conv_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    const conv_cfg *cfg = m->impl;
    return lpc_conv2d(ctx, x, lpci_own_param(m, 0), m->n_params > 1 ? lpci_own_param(m, 1) : NULL,
                      cfg->stride, cfg->pad);
}

static lpc_tensor *bn_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_batchnorm2d(ctx, x, lpci_own_param(m, 0), lpci_own_param(m, 1), m->buffers[0].t,
                           m->buffers[1].t, m->train, LPCI_BN_MOMENTUM, LPCI_BN_EPS);
}

static const lpci_module_vt conv_vt = {"conv2d", conv_forward, NULL, NULL};
static const lpci_module_vt bn_vt = {"batchnorm2d", bn_forward, NULL, NULL};

lpc_module *lpc_conv2d_new(int64_t in_channels, int64_t out_channels, int kernel, int stride,
                           int pad, int bias, lpc_rng *rng)
{
    if (in_channels < 1 || out_channels < 1 || kernel < 1 || stride < 1 || pad < 0 || !rng)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_conv2d_new: need positive channels (got %lld, "
                              "%lld), kernel (%d) and stride (%d), pad >= 0 (%d) and a "
                              "generator", (long long)in_channels, (long long)out_channels,
                              kernel, stride, pad);
    /* The fan-in in_channels * kernel^2 must not overflow (a weight tensor
     * holds at most 2^40 elements anyway). */
    const int64_t limit = (int64_t)1 << 40;
    if (kernel > (1 << 20) || in_channels > limit / ((int64_t)kernel * kernel) ||
        out_channels > limit / (in_channels * kernel * kernel))
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_conv2d_new: %lld x %lld x %d x %d weights are "
                              "more than 2^40", (long long)out_channels, (long long)in_channels,
                              kernel, kernel);
    conv_cfg *cfg = lpci_malloc(sizeof *cfg);
    if (!cfg)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_conv2d_new: out of memory");
    cfg->stride = stride;
    cfg->pad = pad;
    lpc_module *m = lpci_module_new(&conv_vt, cfg);
    if (!m)
        return NULL;
    if (lpci_module_add_weight_bias(m, 4, (int64_t[]){out_channels, in_channels, kernel, kernel},
                                    in_channels * kernel * kernel, bias, rng) != LPC_OK) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}

/* Persistent vector of `c` copies of v (NULL on failure). */
static lpc_tensor *filled(int64_t c, float v)
{
    lpc_tensor *t = lpc_tensor_new(1, &c);
    if (t)
        lpc_tensor_fill(t, v);
    return t;
}

lpc_module *lpc_batchnorm2d_new(int64_t channels)
{
    if (channels < 1)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batchnorm2d_new: need positive channels (got %lld)",
                              (long long)channels);
    lpc_module *m = lpci_module_new(&bn_vt, NULL);
    if (!m)
        return NULL;
    if (lpci_module_add_param(m, "weight", filled(channels, 1.0f)) != LPC_OK ||
        lpci_module_add_param(m, "bias", filled(channels, 0.0f)) != LPC_OK ||
        lpci_module_add_buffer(m, "running_mean", filled(channels, 0.0f)) != LPC_OK ||
        lpci_module_add_buffer(m, "running_var", filled(channels, 1.0f)) != LPC_OK) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}
