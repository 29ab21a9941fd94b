/* The eleven models of the ablation as rows of one table (SPEC.md §3). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "../nn/module_internal.h"

typedef enum { PENULT_NONE, PENULT_LIN, PENULT_NONLIN } penult_kind;
typedef enum { WIDTH_MID, WIDTH_WIDE, WIDTH_NARROW } width_kind;
typedef enum { HEAD_CE, HEAD_ARCFACE, HEAD_COSFACE } head_kind;
typedef enum { L2_NONE, L2_ON_Z, L2_ON_H } l2_kind;

typedef struct {
    const char *name;
    penult_kind penult;
    width_kind width;
    head_kind head;
    l2_kind l2;
    int supcon; /* SupCon on the backbone feature h */
} recipe;

/* Adding a model is one row here. */
static const recipe recipes[] = {
    {"LPC", PENULT_LIN, WIDTH_MID, HEAD_CE, L2_ON_Z, 0},
    {"LPC-Wide", PENULT_LIN, WIDTH_WIDE, HEAD_CE, L2_ON_Z, 0},
    {"LPC-Narrow", PENULT_LIN, WIDTH_NARROW, HEAD_CE, L2_ON_Z, 0},
    {"LPC-SCL", PENULT_LIN, WIDTH_MID, HEAD_CE, L2_ON_Z, 1},
    {"LPC-NoPen", PENULT_NONE, WIDTH_MID, HEAD_CE, L2_ON_H, 0},
    {"LinPen", PENULT_LIN, WIDTH_MID, HEAD_CE, L2_NONE, 0},
    {"NonlinPen", PENULT_NONLIN, WIDTH_MID, HEAD_CE, L2_NONE, 0},
    {"SCL", PENULT_NONE, WIDTH_MID, HEAD_CE, L2_NONE, 1},
    {"ArcFace", PENULT_NONE, WIDTH_MID, HEAD_ARCFACE, L2_NONE, 0},
    {"CosFace", PENULT_NONE, WIDTH_MID, HEAD_COSFACE, L2_NONE, 0},
    {"NoPen", PENULT_NONE, WIDTH_MID, HEAD_CE, L2_NONE, 0},
};
#define N_RECIPES ((int)(sizeof recipes / sizeof recipes[0]))

#define SUPCON_TAU 0.05f
#define COSFACE_S 32.0f
#define COSFACE_M 0.25f
#define MLP_WIDTH 512

struct lpc_model {
    const recipe *r;
    lpc_module *net; /* children: backbone, [penultimate], classifier */
    lpc_module *backbone, *penult, *classifier;
    int64_t latent_dim;
    int num_classes;
    unsigned margin_flags; /* LPC_MARGIN_* for ArcFace / CosFace */
};

int lpc_model_count(void) { return N_RECIPES; }

const char *lpc_model_name_at(int i) { return i >= 0 && i < N_RECIPES ? recipes[i].name : NULL; }

static const recipe *find_recipe(const char *name)
{
    for (int i = 0; name && i < N_RECIPES; i++)
        if (strcasecmp(recipes[i].name, name) == 0)
            return &recipes[i];
    char list[256] = "";
    for (int i = 0; i < N_RECIPES; i++) {
        strncat(list, recipes[i].name, sizeof list - strlen(list) - 1);
        if (i + 1 < N_RECIPES)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    lpci_error(LPC_E_ARG, "lpc_model_new: unknown model '%s'; valid names: %s",
               name ? name : "(null)", list);
    return NULL;
}

static lpc_module *mlp_backbone(int64_t in_features, lpc_rng *rng)
{
    lpc_module *seq = lpc_sequential_new();
    if (!seq)
        return NULL;
    if (lpc_sequential_add(seq, "flatten", lpc_flatten_new()) != LPC_OK ||
        lpc_sequential_add(seq, "fc1", lpc_linear_new(in_features, MLP_WIDTH, 1, rng)) != LPC_OK ||
        lpc_sequential_add(seq, "act1", lpc_silu_new()) != LPC_OK ||
        lpc_sequential_add(seq, "fc2", lpc_linear_new(MLP_WIDTH, MLP_WIDTH, 1, rng)) != LPC_OK ||
        lpc_sequential_add(seq, "act2", lpc_silu_new()) != LPC_OK) {
        lpc_module_free(seq);
        return NULL;
    }
    return seq;
}

static lpc_module *make_backbone(lpc_backbone kind, int c, int h, int w, lpc_rng *rng,
                                 int64_t *feature_dim)
{
    lpc_module *m = NULL;
    switch (kind) {
    case LPC_BACKBONE_MLP:
        *feature_dim = MLP_WIDTH;
        return mlp_backbone((int64_t)c * h * w, rng);
    case LPC_BACKBONE_RESNET_SMALL: m = lpc_resnet_small_new(c, rng); break;
    case LPC_BACKBONE_RESNET18: m = lpc_resnet18_new(c, rng); break;
    case LPC_BACKBONE_RESNET50: m = lpc_resnet50_new(c, rng); break;
    }
    if (m)
        *feature_dim = lpc_resnet_feature_dim(m);
    return m;
}

static lpc_module *make_penult(penult_kind kind, int64_t d, int64_t p, lpc_rng *rng)
{
    lpc_module *lin = lpc_linear_new(d, p, 1, rng);
    if (kind == PENULT_LIN || !lin)
        return lin;
    lpc_module *seq = lpc_sequential_new();
    if (!seq || lpc_sequential_add(seq, "0", lin) != LPC_OK ||
        lpc_sequential_add(seq, "1", lpc_silu_new()) != LPC_OK) {
        if (!seq)
            lpc_module_free(lin);
        lpc_module_free(seq);
        return NULL;
    }
    return seq;
}

lpc_status lpc_model_new(const char *name, lpc_backbone backbone, int in_c, int in_h, int in_w,
                         int num_classes, const int widths[3], lpc_rng *rng, lpc_model **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_model_new: out is NULL");
    *out = NULL;
    const recipe *r = find_recipe(name);
    if (!r)
        return LPC_E_ARG;
    if (backbone < LPC_BACKBONE_MLP || backbone > LPC_BACKBONE_RESNET50)
        return lpci_error(LPC_E_ARG, "lpc_model_new: unknown backbone %d", (int)backbone);
    if (!widths || !rng || in_c < 1 || in_h < 1 || in_w < 1 || num_classes < 2)
        return lpci_error(LPC_E_ARG, "lpc_model_new: need widths, a generator, a positive input "
                          "size and >= 2 classes (got %dx%dx%d, %d classes)", in_c, in_h, in_w,
                          num_classes);
    int width = widths[r->width];
    if (width < 1)
        return lpci_error(LPC_E_ARG, "lpc_model_new: width %d of %s is not positive", width, r->name);
    lpc_model *m = lpci_calloc(1, sizeof *m);
    if (!m)
        return lpci_error(LPC_E_NOMEM, "lpc_model_new: out of memory");
    m->r = r;
    m->num_classes = num_classes;
    int64_t d = 0;
    m->net = lpc_sequential_new();
    m->backbone = m->net ? make_backbone(backbone, in_c, in_h, in_w, rng, &d) : NULL;
    if (!m->backbone || lpc_sequential_add(m->net, "backbone", m->backbone) != LPC_OK)
        goto fail;
    m->latent_dim = d;
    if (r->penult != PENULT_NONE) {
        m->penult = make_penult(r->penult, d, width, rng);
        if (!m->penult || lpc_sequential_add(m->net, "penultimate", m->penult) != LPC_OK)
            goto fail;
        m->latent_dim = width;
    }
    m->classifier = lpc_linear_new(m->latent_dim, num_classes, 0, rng);
    if (!m->classifier || lpc_sequential_add(m->net, "classifier", m->classifier) != LPC_OK)
        goto fail;
    *out = m;
    return LPC_OK;
fail:
    /* Builders only fail on memory here (arguments were checked above); a
     * child that failed to attach was freed by lpc_sequential_add. */
    lpc_module_free(m->net);
    lpci_free(m);
    return LPC_E_NOMEM;
}

void lpc_model_free(lpc_model *m)
{
    if (!m)
        return;
    lpc_module_free(m->net);
    lpci_free(m);
}

const char *lpc_model_name(const lpc_model *m) { return m ? m->r->name : NULL; }

lpc_status lpc_model_set_margin_flags(lpc_model *m, unsigned flags)
{
    if (!m || (flags & ~LPC_MARGIN_CLAMP_TARGET))
        return lpci_error(LPC_E_ARG, "lpc_model_set_margin_flags: NULL model or unknown flags 0x%x",
                          flags);
    m->margin_flags = flags;
    return LPC_OK;
}

int lpc_model_has(const lpc_model *m, lpc_model_prop p)
{
    if (!m)
        return 0;
    switch (p) {
    case LPC_MODEL_HAS_L2: return m->r->l2 != L2_NONE;
    case LPC_MODEL_HAS_SUPCON: return m->r->supcon;
    case LPC_MODEL_HAS_ARCFACE: return m->r->head == HEAD_ARCFACE;
    case LPC_MODEL_HAS_COSFACE: return m->r->head == HEAD_COSFACE;
    case LPC_MODEL_HAS_PENULT: return m->r->penult != PENULT_NONE;
    }
    return 0;
}

int64_t lpc_model_latent_dim(const lpc_model *m) { return m ? m->latent_dim : -1; }
int lpc_model_num_classes(const lpc_model *m) { return m ? m->num_classes : -1; }
lpc_module *lpc_model_module(lpc_model *m) { return m ? m->net : NULL; }

/* h, z and logits of one forward pass. */
static void forward_parts(lpc_model *m, lpc_ctx *ctx, lpc_tensor *x, lpc_tensor **h,
                          lpc_tensor **z, lpc_tensor **logits)
{
    *h = lpc_module_forward(m->backbone, ctx, x);
    *z = m->penult ? lpc_module_forward(m->penult, ctx, *h) : *h;
    *logits = lpc_module_forward(m->classifier, ctx, *z);
}

lpc_status lpc_model_forward(lpc_model *m, lpc_ctx *ctx, lpc_tensor *x, lpc_tensor **z,
                             lpc_tensor **logits)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_model_forward: ctx is NULL");
    if (!m) {
        lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_model_forward: model is NULL");
        return ctx->status;
    }
    lpc_tensor *h, *zz, *lg;
    forward_parts(m, ctx, x, &h, &zz, &lg);
    if (z)
        *z = zz;
    if (logits)
        *logits = lg;
    return ctx->status;
}

lpc_tensor *lpc_model_loss(lpc_model *m, lpc_ctx *ctx, lpc_tensor *x, const int32_t *labels,
                           double gamma, double arc_s, double arc_m, lpc_tensor **logits)
{
    if (!ctx)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_model_loss: ctx is NULL");
    if (!m)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_model_loss: model is NULL");
    lpc_tensor *h, *z, *lg;
    forward_parts(m, ctx, x, &h, &z, &lg);
    if (logits)
        *logits = lg;
    lpc_tensor *w = lpci_own_param(m->classifier, 0);
    lpc_tensor *loss;
    switch (m->r->head) {
    case HEAD_ARCFACE:
        loss = lpc_arcface_flags(ctx, z, w, labels, (float)arc_s, (float)arc_m, m->margin_flags);
        break;
    case HEAD_COSFACE:
        loss = lpc_cosface_flags(ctx, z, w, labels, COSFACE_S, COSFACE_M, m->margin_flags);
        break;
    default: loss = lpc_cross_entropy(ctx, lg, labels); break;
    }
    if (m->r->l2 != L2_NONE)
        loss = lpc_add(ctx, loss, lpc_l2_latent(ctx, m->r->l2 == L2_ON_Z ? z : h, (float)gamma));
    if (m->r->supcon)
        loss = lpc_add(ctx, loss, lpc_supcon(ctx, h, labels, SUPCON_TAU));
    return loss;
}

lpc_adamw *lpc_model_adamw_new(lpc_model *m, double lr, double weight_decay)
{
    if (!m)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_model_adamw_new: model is NULL");
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
