/* The Latent Point Collapse authors' conventions where they differ from
 * liblpc's specification (doc/fidelity.md), and the learning-rate decays, as
 * options shared by lpc-train and lpc-ablation. The zero value
 * (ex_fidelity_default) is liblpc's behaviour. */
#ifndef LPC_EXAMPLES_FIDELITY_H
#define LPC_EXAMPLES_FIDELITY_H
#include <stddef.h>
#include <stdio.h>
#include <lpc/lpc.h>
#include "trainer.h"

typedef struct {
    lpc_lr_decay lr_decay; /* non-classifier learning-rate decay */
    int gamma_uncapped;    /* gamma x1.05 while < 1e6 (paper / compressed protocols) */
    int margin_clamp;      /* ArcFace / CosFace clamp after the margin */
    int train_augmented;   /* training-set metrics through the training augmentation */
    unsigned nc_flags;     /* LPC_NC_* of the neural-collapse metrics */
    unsigned pick;         /* LPC_PICK_* of the DeepFool samples */
} ex_fidelity;

void ex_fidelity_default(ex_fidelity *f);
/* Every convention of the authors' code (--authors); the learning-rate decay stays. */
void ex_fidelity_authors(ex_fidelity *f);
/* Sets one option by name: "lr-decay" (protocol|constant|halvings|cosine),
 * "gamma" (capped|uncapped), "margin-clamp" (off|on), "train-metrics"
 * (clean|augmented), "nc1" (liblpc|authors), "deepfool-pick"
 * (first|random|correct|random-correct), "authors" (value ignored).
 * Returns 1, or 0 with a message on stderr; -1 when `name` is not one of these. */
int ex_fidelity_option(ex_fidelity *f, const char *name, const char *value);
/* Usage lines for the options above, as --NAME VALUE. */
void ex_fidelity_usage(FILE *out);
/* Applies the training-side options (decay, gamma, margin clamp) to a trainer. */
lpc_status ex_fidelity_apply(const ex_fidelity *f, ex_trainer *t);
/* "lr-decay=...,gamma=...,..." : the options that are not liblpc's defaults
 * ("" when all are), of the training (decay, gamma, margin clamp), of the
 * analysis (training-set metrics, NC1, DeepFool samples) or both; for cell
 * identities and result files. */
#define EX_FIDELITY_TRAINING 1u
#define EX_FIDELITY_ANALYSIS 2u
void ex_fidelity_describe(const ex_fidelity *f, unsigned parts, char *buf, size_t n);
#endif
