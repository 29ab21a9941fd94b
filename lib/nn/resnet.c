/* CIFAR-style ResNet backbones (doc/method.md §2): 3x3 stem without max-pool,
 * post-activation BasicBlocks or Bottlenecks with SiLU, global average pool.
 * Children are named as in torchvision so that parameter names match
 * ("layer2.0.conv1.weight", "layer2.0.shortcut.1.running_var"). */
#include <stdio.h>
#include "../ops/batchnorm.h"
#include "module_internal.h"

#define MAX_STAGES 16

typedef struct {
    int64_t dim; /* output feature width */
} resnet_cfg;

static lpc_tensor *fwd(lpc_module *m, int child, lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_module_forward(lpci_child(m, child), ctx, x);
}

/* silu(bn(x) + res) for the batch-norm module bn, in one fused op. */
static lpc_tensor *bn_silu(lpc_module *bn, lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *res)
{
    return lpci_batchnorm2d_silu(ctx, x, lpci_own_param(bn, 0), lpci_own_param(bn, 1),
                                 bn->buffers[0].t, bn->buffers[1].t, bn->train,
                                 LPCI_BN_MOMENTUM, LPCI_BN_EPS, res);
}

/* conv-BN pairs in children 2i, 2i+1; the shortcut, if any, comes last. */
static lpc_tensor *block_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x, int n_convs)
{
    lpc_tensor *y = x;
    for (int i = 0; i + 1 < n_convs; i++)
        y = bn_silu(lpci_child(m, 2 * i + 1), ctx, fwd(m, 2 * i, ctx, y), NULL);
    y = fwd(m, 2 * n_convs - 2, ctx, y);
    lpc_tensor *s = m->n_children > 2 * n_convs ? fwd(m, 2 * n_convs, ctx, x) : x;
    return bn_silu(lpci_child(m, 2 * n_convs - 1), ctx, y, s);
}

static lpc_tensor *basic_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    return block_forward(m, ctx, x, 2);
}

static lpc_tensor *bottleneck_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    return block_forward(m, ctx, x, 3);
}

static lpc_tensor *resnet_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    x = bn_silu(lpci_child(m, 1), ctx, fwd(m, 0, ctx, x), NULL);
    for (int i = 2; i < m->n_children; i++)
        x = fwd(m, i, ctx, x);
    return lpc_global_avgpool(ctx, x);
}

static const lpci_module_vt basic_vt = {"basic_block", basic_forward, NULL, NULL};
static const lpci_module_vt bottleneck_vt = {"bottleneck", bottleneck_forward, NULL, NULL};
static const lpci_module_vt resnet_vt = {"resnet", resnet_forward, NULL, NULL};

/* Adds child under name; 0 (error already recorded) when it is missing. */
static int add(lpc_module *m, const char *name, lpc_module *child)
{
    return child && lpci_module_add_child(m, name, child) == LPC_OK;
}

static int seq_add(lpc_module *seq, const char *name, lpc_module *child)
{
    return child && lpc_sequential_add(seq, name, child) == LPC_OK;
}

/* Adds "convK" + "bnK" with a k x k conv (pad k/2, no bias). */
static int add_conv_bn(lpc_module *m, int idx, int64_t in, int64_t out, int k, int stride,
                       lpc_rng *rng)
{
    char cname[16], bname[16];
    snprintf(cname, sizeof cname, "conv%d", idx);
    snprintf(bname, sizeof bname, "bn%d", idx);
    return add(m, cname, lpc_conv2d_new(in, out, k, stride, k / 2, 0, rng)) &&
           add(m, bname, lpc_batchnorm2d_new(out));
}

static lpc_module *block_new(lpc_resnet_block kind, int64_t in, int64_t width, int stride,
                             lpc_rng *rng)
{
    int bottle = kind != LPC_RESNET_BASIC;
    int64_t out = bottle ? 4 * width : width;
    int64_t inner = kind == LPC_RESNET_WIDE_BOTTLENECK ? 2 * width : width;
    lpc_module *m = lpci_module_new(bottle ? &bottleneck_vt : &basic_vt, NULL);
    if (!m)
        return NULL;
    int ok = bottle ? add_conv_bn(m, 1, in, inner, 1, 1, rng) &&
                          add_conv_bn(m, 2, inner, inner, 3, stride, rng) &&
                          add_conv_bn(m, 3, inner, out, 1, 1, rng)
                    : add_conv_bn(m, 1, in, width, 3, stride, rng) &&
                          add_conv_bn(m, 2, width, width, 3, 1, rng);
    if (ok && (stride != 1 || in != out)) {
        lpc_module *sc = lpc_sequential_new();
        ok = add(m, "shortcut", sc) &&
             seq_add(sc, "0", lpc_conv2d_new(in, out, 1, stride, 0, 0, rng)) &&
             seq_add(sc, "1", lpc_batchnorm2d_new(out));
    }
    if (!ok) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}

lpc_module *lpc_resnet_new(lpc_resnet_block block, int in_channels, int stem_width,
                           int n_stages, const int *widths, const int *blocks, lpc_rng *rng)
{
    const char *fn = "lpc_resnet_new";
    if (!lpc_resnet_block_name(block))
        return LPCI_FAIL_NULL(LPC_E_ARG, "%s: unknown block kind %d", fn, (int)block);
    if (in_channels < 1 || stem_width < 1)
        return LPCI_FAIL_NULL(LPC_E_ARG, "%s: in_channels %d and stem_width %d must be >= 1", fn,
                              in_channels, stem_width);
    if (n_stages < 1 || n_stages > MAX_STAGES)
        return LPCI_FAIL_NULL(LPC_E_ARG, "%s: %d stages, must be 1..%d", fn, n_stages, MAX_STAGES);
    if (!widths || !blocks || !rng)
        return LPCI_FAIL_NULL(LPC_E_ARG, "%s: %s is NULL", fn,
                              !widths ? "widths" : !blocks ? "blocks" : "the generator");
    for (int s = 0; s < n_stages; s++)
        if (widths[s] < 1 || blocks[s] < 1)
            return LPCI_FAIL_NULL(LPC_E_ARG, "%s: stage %d has width %d and %d blocks (both must "
                                  "be >= 1)", fn, s, widths[s], blocks[s]);
    resnet_cfg *cfg = lpci_malloc(sizeof *cfg);
    if (!cfg)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_resnet_new: out of memory");
    int64_t expansion = block == LPC_RESNET_BASIC ? 1 : 4;
    cfg->dim = widths[n_stages - 1] * expansion;
    lpc_module *m = lpci_module_new(&resnet_vt, cfg);
    if (!m)
        return NULL;
    int ok = add_conv_bn(m, 1, in_channels, stem_width, 3, 1, rng);
    int64_t in = stem_width;
    for (int s = 0; ok && s < n_stages; s++) {
        char name[16];
        snprintf(name, sizeof name, "layer%d", s + 1);
        lpc_module *layer = lpc_sequential_new();
        ok = add(m, name, layer);
        for (int b = 0; ok && b < blocks[s]; b++) {
            lpc_module *blk = block_new(block, in, widths[s], s > 0 && b == 0 ? 2 : 1, rng);
            ok = seq_add(layer, NULL, blk);
            in = widths[s] * expansion;
        }
    }
    if (!ok) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}

lpc_module *lpc_resnet18_new(int in_channels, lpc_rng *rng)
{
    static const int widths[4] = {64, 128, 256, 512}, blocks[4] = {2, 2, 2, 2};
    return lpc_resnet_new(LPC_RESNET_BASIC, in_channels, 64, 4, widths, blocks, rng);
}

lpc_module *lpc_resnet50_new(int in_channels, lpc_rng *rng)
{
    static const int widths[4] = {64, 128, 256, 512}, blocks[4] = {3, 4, 6, 3};
    return lpc_resnet_new(LPC_RESNET_BOTTLENECK, in_channels, 64, 4, widths, blocks, rng);
}

lpc_module *lpc_wide_resnet50_2_new(int in_channels, lpc_rng *rng)
{
    static const int widths[4] = {64, 128, 256, 512}, blocks[4] = {3, 4, 6, 3};
    return lpc_resnet_new(LPC_RESNET_WIDE_BOTTLENECK, in_channels, 64, 4, widths, blocks, rng);
}

const char *lpc_resnet_block_name(lpc_resnet_block block)
{
    switch (block) {
    case LPC_RESNET_BASIC: return "basic";
    case LPC_RESNET_BOTTLENECK: return "bottleneck";
    case LPC_RESNET_WIDE_BOTTLENECK: return "wide_bottleneck";
    }
    return NULL;
}

lpc_module *lpc_resnet_small_new(int in_channels, lpc_rng *rng)
{
    static const int widths[3] = {32, 64, 128}, blocks[3] = {2, 2, 2};
    return lpc_resnet_new(LPC_RESNET_BASIC, in_channels, 32, 3, widths, blocks, rng);
}

int64_t lpc_resnet_feature_dim(const lpc_module *m)
{
    if (!m || m->vt != &resnet_vt) {
        lpci_error(LPC_E_ARG, "lpc_resnet_feature_dim: module is %s", m ? "not a resnet" : "NULL");
        return -1;
    }
    return ((const resnet_cfg *)m->impl)->dim;
}
