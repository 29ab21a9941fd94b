/* The Latent Point Collapse head: penultimate layer, bias-free classifier
 * and the configurable training loss, on any backbone. */
#include <math.h>
#include <string.h>
#include "../nn/module_internal.h"

struct lpc_head {
    lpc_module *net; /* children: backbone, [penultimate], classifier */
    lpc_module *backbone, *penult, *classifier;
    int64_t latent_dim;
    int num_classes;
    lpc_head_loss_kind loss;
    lpc_l2_target l2;
    int supcon;
    int margin_clamp; /* LPC_HEAD_MARGIN_CLAMP */
    double supcon_tau, cosface_s, cosface_m;
};

/* Frees the layers a failed lpc_head_new did not attach (a module some
 * container owns is left alone: lpc_module_free refuses it). */
static void discard(lpc_module *backbone, lpc_module *penultimate)
{
    lpc_module_free(backbone);
    lpc_module_free(penultimate);
}

lpc_status lpc_head_new(lpc_module *backbone, int64_t feature_dim, lpc_module *penultimate,
                        int64_t latent_dim, int num_classes, lpc_rng *rng, lpc_head **out)
{
    if (out)
        *out = NULL;
    const char *fn = "lpc_head_new";
    if (!out || !backbone || !rng) {
        discard(backbone, penultimate);
        return lpci_error(LPC_E_ARG, "%s: %s is NULL", fn,
                          !out ? "out" : !backbone ? "the backbone" : "the generator");
    }
    if (feature_dim < 1 || latent_dim < 1 || num_classes < 2 ||
        (!penultimate && latent_dim != feature_dim)) {
        discard(backbone, penultimate);
        return lpci_error(LPC_E_ARG, "%s: feature width %lld and latent width %lld must be >= 1 "
                          "(and equal without a penultimate layer), classes %d >= 2", fn,
                          (long long)feature_dim, (long long)latent_dim, num_classes);
    }
    lpc_head *h = lpci_calloc(1, sizeof *h);
    lpc_module *net = h ? lpc_sequential_new() : NULL;
    if (!net) {
        lpci_free(h);
        discard(backbone, penultimate);
        return lpci_error(LPC_E_NOMEM, "lpc_head_new: out of memory");
    }
    net->holder = "a head"; /* lpc_module_free and adoption refuse it */
    *h = (lpc_head){.net = net, .backbone = backbone, .penult = penultimate,
                    .latent_dim = latent_dim, .num_classes = num_classes, .loss = LPC_HEAD_CE,
                    .l2 = LPC_L2_ON_Z, .supcon_tau = 0.05, .cosface_s = 32.0, .cosface_m = 0.25};
    /* lpc_sequential_add takes its child, or frees it on failure. */
    lpc_status s = lpc_sequential_add(net, "backbone", backbone);
    if (s != LPC_OK) {
        lpc_module_free(penultimate);
    } else if (penultimate) {
        s = lpc_sequential_add(net, "penultimate", penultimate);
    }
    if (s == LPC_OK) {
        h->classifier = lpc_linear_new(latent_dim, num_classes, 0, rng);
        s = h->classifier ? lpc_sequential_add(net, "classifier", h->classifier) : LPC_E_NOMEM;
    }
    if (s != LPC_OK) {
        lpc_head_free(h);
        return s;
    }
    *out = h;
    return LPC_OK;
}

void lpc_head_free(lpc_head *h)
{
    if (!h)
        return;
    if (h->net)
        h->net->holder = NULL;
    lpc_module_free(h->net);
    lpci_free(h);
}

lpc_status lpc_head_set(lpc_head *h, lpc_head_setting what, double v)
{
    if (!h)
        return lpci_error(LPC_E_ARG, "lpc_head_set: head is NULL");
    switch (what) {
    case LPC_HEAD_LOSS:
        if (v != LPC_HEAD_CE && v != LPC_HEAD_ARCFACE && v != LPC_HEAD_COSFACE)
            break;
        h->loss = (lpc_head_loss_kind)v;
        return LPC_OK;
    case LPC_HEAD_L2:
        if (v != LPC_L2_OFF && v != LPC_L2_ON_Z && v != LPC_L2_ON_H)
            break;
        h->l2 = (lpc_l2_target)v;
        return LPC_OK;
    case LPC_HEAD_SUPCON:
        if (v != 0 && v != 1)
            break;
        h->supcon = (int)v;
        return LPC_OK;
    case LPC_HEAD_SUPCON_TAU:
        if (!(v > 0 && v <= 100))
            break;
        h->supcon_tau = v;
        return LPC_OK;
    case LPC_HEAD_COSFACE_S:
        if (!(v > 0 && v <= 1e4))
            break;
        h->cosface_s = v;
        return LPC_OK;
    case LPC_HEAD_COSFACE_M:
        if (!(v >= 0 && v <= 1))
            break;
        h->cosface_m = v;
        return LPC_OK;
    case LPC_HEAD_MARGIN_CLAMP:
        if (v != 0 && v != 1)
            break;
        h->margin_clamp = (int)v;
        return LPC_OK;
    }
    return lpci_error(LPC_E_ARG, "lpc_head_set: value %g is out of bounds for setting %d "
                      "(see lpc/head.h)", v, (int)what);
}

double lpc_head_get(const lpc_head *h, lpc_head_setting what)
{
    if (!h) {
        lpci_error(LPC_E_ARG, "lpc_head_get: head is NULL");
        return NAN;
    }
    switch (what) {
    case LPC_HEAD_LOSS: return h->loss;
    case LPC_HEAD_L2: return h->l2;
    case LPC_HEAD_SUPCON: return h->supcon;
    case LPC_HEAD_SUPCON_TAU: return h->supcon_tau;
    case LPC_HEAD_COSFACE_S: return h->cosface_s;
    case LPC_HEAD_COSFACE_M: return h->cosface_m;
    case LPC_HEAD_MARGIN_CLAMP: return h->margin_clamp;
    }
    lpci_error(LPC_E_ARG, "lpc_head_get: unknown setting %d", (int)what);
    return NAN;
}

lpc_module *lpc_head_module(lpc_head *h) { return h ? h->net : NULL; }
int64_t lpc_head_latent_dim(const lpc_head *h) { return h ? h->latent_dim : -1; }
int lpc_head_num_classes(const lpc_head *h) { return h ? h->num_classes : -1; }

/* h, z and logits of one forward pass. */
static void forward_parts(lpc_head *m, lpc_ctx *ctx, lpc_tensor *x, lpc_tensor **h,
                          lpc_tensor **z, lpc_tensor **logits)
{
    *h = lpc_module_forward(m->backbone, ctx, x);
    *z = m->penult ? lpc_module_forward(m->penult, ctx, *h) : *h;
    *logits = lpc_module_forward(m->classifier, ctx, *z);
}

lpc_status lpc_head_forward(lpc_head *m, lpc_ctx *ctx, lpc_tensor *x, lpc_tensor **feature,
                            lpc_tensor **z, lpc_tensor **logits)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_head_forward: ctx is NULL");
    if (!m) {
        lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_head_forward: head is NULL");
        return ctx->status;
    }
    lpc_tensor *h, *zz, *lg;
    forward_parts(m, ctx, x, &h, &zz, &lg);
    if (feature)
        *feature = h;
    if (z)
        *z = zz;
    if (logits)
        *logits = lg;
    return ctx->status;
}

lpc_tensor *lpc_head_loss(lpc_head *m, lpc_ctx *ctx, lpc_tensor *x, const int32_t *labels,
                          double gamma, double arc_s, double arc_m, lpc_tensor **logits)
{
    if (!ctx)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_head_loss: ctx is NULL");
    if (!m || !labels)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_head_loss: %s is NULL", !m ? "head" : "labels");
    if (!(gamma >= 0) || !isfinite(gamma))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_head_loss: gamma %g must be finite and >= 0",
                             gamma);
    lpc_tensor *h, *z, *lg;
    forward_parts(m, ctx, x, &h, &z, &lg);
    if (logits)
        *logits = lg;
    lpc_tensor *w = lpci_own_param(m->classifier, 0);
    lpc_tensor *loss;
    unsigned flags = m->margin_clamp ? LPC_MARGIN_CLAMP_TARGET : 0;
    switch (m->loss) {
    case LPC_HEAD_ARCFACE:
        loss = lpc_arcface_flags(ctx, z, w, labels, (float)arc_s, (float)arc_m, flags);
        break;
    case LPC_HEAD_COSFACE:
        loss = lpc_cosface_flags(ctx, z, w, labels, (float)m->cosface_s, (float)m->cosface_m,
                                 flags);
        break;
    default: loss = lpc_cross_entropy(ctx, lg, labels); break;
    }
    if (m->l2 != LPC_L2_OFF)
        loss = lpc_add(ctx, loss, lpc_l2_latent(ctx, m->l2 == LPC_L2_ON_Z ? z : h, (float)gamma));
    if (m->supcon)
        loss = lpc_add(ctx, loss, lpc_supcon(ctx, h, labels, (float)m->supcon_tau));
    return loss;
}

lpc_adamw *lpc_head_adamw_new(lpc_head *m, double lr, double weight_decay)
{
    if (!m)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_head_adamw_new: head is NULL");
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    if (!opt)
        return NULL;
    if (lpc_adamw_add_group(opt, lr, weight_decay) != 0 ||
        lpc_adamw_add_group(opt, lr, weight_decay) != 1)
        goto fail;
    int n = lpc_module_num_params(m->net);
    for (int i = 0; i < n; i++) {
        lpc_tensor *p = lpc_module_param(m->net, i);
        int group = strncmp(lpc_module_param_name(m->net, i), "classifier.", 11) == 0;
        if (lpc_adamw_add_param(opt, group, p) != LPC_OK)
            goto fail;
    }
    return opt;
fail:
    lpc_adamw_free(opt);
    return NULL;
}
