/* The Latent Point Collapse authors' conventions where they differ from
 * liblpc's specification (doc/fidelity.md), the learning-rate decays and the
 * authors' current schedules (schedules.h), as options shared by lpc-train
 * and lpc-ablation. ex_fidelity_default is liblpc's behaviour. */
#ifndef LPC_EXAMPLES_FIDELITY_H
#define LPC_EXAMPLES_FIDELITY_H
#include <stddef.h>
#include <stdio.h>
#include <lpc/lpc.h>
#include "schedules.h"
#include "trainer.h"

typedef struct {
    lpc_lr_decay lr_decay; /* non-classifier learning-rate decay */
    int gamma_uncapped;    /* gamma x1.05 while < 1e6 (paper / compressed protocols) */
    int margin_clamp;      /* ArcFace / CosFace clamp after the margin */
    int train_augmented;   /* training-set metrics through the training augmentation */
    unsigned nc_flags;     /* LPC_NC_* of the neural-collapse metrics */
    unsigned pick;         /* LPC_PICK_* of the DeepFool samples */
    int schedule;          /* 0: the paper's first-version schedules; i + 1: ex_schedule_at(i) */
    /* Changes to the named schedule (the defaults leave it as it is): */
    double gamma_final;    /* > 0: its final gamma (gamma.max_2) */
    long warmup;           /* >= 0: linear warmup over epochs (0, warmup] of its clock (0: none) */
    double warmup_factor;  /* > 0: the warmup's first fraction of the rate */
    long lr_hold;          /* >= 0: last epoch of the constant rate */
    double lr_floor;       /* >= 0: the rate at the end of the clock */
} ex_fidelity;

void ex_fidelity_default(ex_fidelity *f);
/* Every convention of the authors' code (--authors); the learning-rate decay stays. */
void ex_fidelity_authors(ex_fidelity *f);
/* Sets one option by name: "lr-decay" (protocol|constant|halvings|cosine),
 * "gamma" (capped|uncapped), "margin-clamp" (off|on), "train-metrics"
 * (clean|augmented), "nc1" (liblpc|authors), "deepfool-pick"
 * (first|random|correct|random-correct), "authors" (value ignored),
 * "schedule" (v1 or a name of schedules.h), "gamma-final", "warmup",
 * "warmup-factor", "lr-hold", "lr-floor" (numbers).
 * Returns 1, or 0 with a message on stderr; -1 when `name` is not one of these. */
int ex_fidelity_option(ex_fidelity *f, const char *name, const char *value);
/* Usage lines for the options above, as --NAME VALUE. */
void ex_fidelity_usage(FILE *out);
/* The named schedule with the changes above into *out: 1, or 0 for the
 * first-version schedules; -1 with a message for changes without a named
 * schedule, a first-version option (--lr-decay, --gamma uncapped) with one,
 * or values the library refuses. */
int ex_fidelity_schedule(const ex_fidelity *f, ex_schedule *out);
/* Applies the training-side options (decay, gamma, margin clamp, named
 * schedule) to a trainer. */
lpc_status ex_fidelity_apply(const ex_fidelity *f, ex_trainer *t);
/* "lr-decay=...,gamma=...,..." : the options that are not liblpc's defaults
 * ("" when all are), of the training (decay, gamma, margin clamp, schedule
 * and its changes), of the
 * analysis (training-set metrics, NC1, DeepFool samples) or both; for cell
 * identities and result files. */
#define EX_FIDELITY_TRAINING 1u
#define EX_FIDELITY_ANALYSIS 2u
void ex_fidelity_describe(const ex_fidelity *f, unsigned parts, char *buf, size_t n);
#endif
