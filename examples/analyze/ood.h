/* lpc-analyze's out-of-distribution part (ood.c): options and the "ood"
 * JSON object; also the switch for the generalized collapse keys. */
#ifndef LPC_ANALYZE_OOD_H
#define LPC_ANALYZE_OOD_H
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *id_features, *id_logits, *ood_features, *ood_logits, *bias;
    double temperature;
    long neco_dim;
    int generalized; /* --generalized: print the "gnc_*" keys */
} an_ood_args;

#define AN_OOD_USAGE                                                                           \
    "  --ood-features O.npy  OOD features: adds the \"ood\" object (scores, AUROC, AUPR, FPR95, "  \
    "NC5)\n"                                                                                  \
    "  --ood-logits OL.npy   their logits (else W z when --weights is given)\n"              \
    "  --id-features T.npy   ID evaluation features (default: the --features rows)\n"         \
    "  --id-logits TL.npy    their logits (default: --logits with the --features rows)\n"     \
    "  --bias B.npy          the classifier's bias (K): logits W z + b and ViM's origin\n"  \
    "  --temperature T       softmax / energy temperature (default 1)\n"                      \
    "  --neco-dim D          NECO principal dimensions (default K - 1)\n"                    \
    "  --generalized         adds the generalized collapse keys gnc_* (GNC2, log equinorm, "  \
    "weak NC1)\n"

void an_ood_defaults(an_ood_args *a);
/* Consumes argv[*i] (and its value) when it is an OOD option: returns 1, or
 * 2 after printing a message for a bad value; 0 when the option is not one. */
int an_ood_option(int argc, char **argv, int *i, an_ood_args *a);
/* Fits the detector on the training rows (z, y; w K x P or NULL, with the
 * --bias file if given; lg their logits or NULL) and prints
 * ", \"ood\": {...}" to out. Returns 0, or 2 after printing a message to
 * stderr. */
int an_ood_print(FILE *out, const an_ood_args *a, const float *z, int64_t n, int p,
                 const int32_t *y, int k, const float *w, const float *lg);
#endif
