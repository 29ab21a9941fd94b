/* The eleven models of the paper's ablation (doc/method.md §3), assembled from the
 * public API: a backbone, the LPC head (lpc/head.h) and its settings. One
 * table row per model in recipes.c; adding a model is one row. */
#ifndef LPC_EXAMPLES_RECIPES_H
#define LPC_EXAMPLES_RECIPES_H
#include <lpc/lpc.h>

/* Backbones of the ablation. */
typedef enum {
    EX_BACKBONE_MLP = 0,          /* flatten -> 512 -> SiLU -> 512 -> SiLU */
    EX_BACKBONE_RESNET_SMALL = 1, /* lpc_resnet_small_new */
    EX_BACKBONE_RESNET18 = 2,
    EX_BACKBONE_RESNET50 = 3,
    EX_BACKBONE_WRN50_2 = 4,      /* lpc_wide_resnet50_2_new (CIFAR-style stem) */
} ex_backbone;

/* Number of models and their canonical names ("LPC", "LPC-Wide", ...). */
int ex_model_count(void);
const char *ex_model_name_at(int i); /* NULL when out of range */
/* Index of a model by name (case-insensitive), or -1 after printing nothing;
 * ex_model_list() gives "LPC, LPC-Wide, ..." for messages. */
int ex_model_index(const char *name);
const char *ex_model_list(void);
/* Whether model i has the gamma * L2 term (its gamma is worth printing). */
int ex_model_has_l2(int i);
/* Builds model i: backbone for a c x h x w input, the penultimate width
 * widths[0|1|2] = {mid, wide, narrow} the row picks, k classes. The head
 * owns the network; free it with lpc_head_free. */
lpc_status ex_model_new(int i, ex_backbone backbone, int c, int h, int w, int k,
                        const int widths[3], lpc_rng *rng, lpc_head **out);
#endif
