/* The eleven models of the ablation as rows of one table (doc/method.md §3). */
#include "recipes.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum { PENULT_NONE, PENULT_LIN, PENULT_NONLIN } penult_kind;
typedef enum { WIDTH_MID, WIDTH_WIDE, WIDTH_NARROW } width_kind;

typedef struct {
    const char *name;
    penult_kind penult;
    width_kind width;
    lpc_head_loss_kind loss;
    lpc_l2_target l2;
    int supcon; /* SupCon on the backbone feature h */
} recipe;

/* Adding a model is one row here. */
static const recipe recipes[] = {
    {"LPC", PENULT_LIN, WIDTH_MID, LPC_HEAD_CE, LPC_L2_ON_Z, 0},
    {"LPC-Wide", PENULT_LIN, WIDTH_WIDE, LPC_HEAD_CE, LPC_L2_ON_Z, 0},
    {"LPC-Narrow", PENULT_LIN, WIDTH_NARROW, LPC_HEAD_CE, LPC_L2_ON_Z, 0},
    {"LPC-SCL", PENULT_LIN, WIDTH_MID, LPC_HEAD_CE, LPC_L2_ON_Z, 1},
    {"LPC-NoPen", PENULT_NONE, WIDTH_MID, LPC_HEAD_CE, LPC_L2_ON_H, 0},
    {"LinPen", PENULT_LIN, WIDTH_MID, LPC_HEAD_CE, LPC_L2_OFF, 0},
    {"NonlinPen", PENULT_NONLIN, WIDTH_MID, LPC_HEAD_CE, LPC_L2_OFF, 0},
    {"SCL", PENULT_NONE, WIDTH_MID, LPC_HEAD_CE, LPC_L2_OFF, 1},
    {"ArcFace", PENULT_NONE, WIDTH_MID, LPC_HEAD_ARCFACE, LPC_L2_OFF, 0},
    {"CosFace", PENULT_NONE, WIDTH_MID, LPC_HEAD_COSFACE, LPC_L2_OFF, 0},
    {"NoPen", PENULT_NONE, WIDTH_MID, LPC_HEAD_CE, LPC_L2_OFF, 0},
};
#define N_RECIPES ((int)(sizeof recipes / sizeof recipes[0]))
#define MLP_WIDTH 512

int ex_model_count(void) { return N_RECIPES; }

const char *ex_model_name_at(int i) { return i >= 0 && i < N_RECIPES ? recipes[i].name : NULL; }

int ex_model_index(const char *name)
{
    for (int i = 0; name && i < N_RECIPES; i++)
        if (strcasecmp(recipes[i].name, name) == 0)
            return i;
    return -1;
}

const char *ex_model_list(void)
{
    static char list[256];
    if (!list[0])
        for (int i = 0; i < N_RECIPES; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     recipes[i].name);
    return list;
}

int ex_model_has_l2(int i) { return i >= 0 && i < N_RECIPES && recipes[i].l2 != LPC_L2_OFF; }

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

static lpc_module *make_backbone(ex_backbone kind, int c, int h, int w, lpc_rng *rng,
                                 int64_t *feature_dim)
{
    lpc_module *m = NULL;
    switch (kind) {
    case EX_BACKBONE_MLP:
        *feature_dim = MLP_WIDTH;
        return mlp_backbone((int64_t)c * h * w, rng);
    case EX_BACKBONE_RESNET_SMALL: m = lpc_resnet_small_new(c, rng); break;
    case EX_BACKBONE_RESNET18: m = lpc_resnet18_new(c, rng); break;
    case EX_BACKBONE_RESNET50: m = lpc_resnet50_new(c, rng); break;
    case EX_BACKBONE_WRN50_2: m = lpc_wide_resnet50_2_new(c, rng); break;
    }
    if (m)
        *feature_dim = lpc_resnet_feature_dim(m);
    return m;
}

/* Linear D -> P with bias; NonlinPen adds a SiLU ("penultimate.0", ".1"). */
static lpc_module *make_penult(penult_kind kind, int64_t d, int64_t p, lpc_rng *rng)
{
    lpc_module *lin = lpc_linear_new(d, p, 1, rng);
    if (kind == PENULT_LIN || !lin)
        return lin;
    lpc_module *seq = lpc_sequential_new();
    if (!seq) {
        lpc_module_free(lin);
        return NULL;
    }
    if (lpc_sequential_add(seq, "0", lin) != LPC_OK ||
        lpc_sequential_add(seq, "1", lpc_silu_new()) != LPC_OK) {
        lpc_module_free(seq);
        return NULL;
    }
    return seq;
}

lpc_status ex_model_new(int i, ex_backbone backbone, int c, int h, int w, int k,
                        const int widths[3], lpc_rng *rng, lpc_head **out)
{
    if (out)
        *out = NULL;
    if (i < 0 || i >= N_RECIPES || !widths || !out || !rng || backbone < EX_BACKBONE_MLP ||
        backbone > EX_BACKBONE_WRN50_2 || widths[recipes[i].width] < 1 || c < 1 || h < 1 ||
        w < 1 || k < 2) {
        fprintf(stderr, "error: cannot build model %d (%s) for %dx%dx%d inputs and %d classes "
                "(needs a known model and backbone, positive sizes and widths, 2 classes or "
                "more)\n", i, i >= 0 && i < N_RECIPES ? recipes[i].name : "unknown", c, h, w, k);
        return LPC_E_ARG;
    }
    const recipe *r = &recipes[i];
    int64_t d = 0, p;
    lpc_module *bb = make_backbone(backbone, c, h, w, rng, &d), *pen = NULL;
    if (!bb)
        return LPC_E_NOMEM;
    p = d;
    if (r->penult != PENULT_NONE) {
        p = widths[r->width];
        if (!(pen = make_penult(r->penult, d, p, rng))) {
            lpc_module_free(bb);
            return LPC_E_NOMEM;
        }
    }
    lpc_status s = lpc_head_new(bb, d, pen, p, k, rng, out);
    if (s == LPC_OK &&
        ((s = lpc_head_set(*out, LPC_HEAD_LOSS, r->loss)) != LPC_OK ||
         (s = lpc_head_set(*out, LPC_HEAD_L2, r->l2)) != LPC_OK ||
         (s = lpc_head_set(*out, LPC_HEAD_SUPCON, r->supcon)) != LPC_OK)) {
        lpc_head_free(*out);
        *out = NULL;
    }
    return s;
}
