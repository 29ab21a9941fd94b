/* Experiment configurations: the named presets, command-line overrides and
 * the grid of cells (model x learning rate x seed) they define. */
#ifndef AB_PRESET_H
#define AB_PRESET_H
#include <stdio.h>
#include <lpc/lpc.h>
#include "../common/fidelity.h"
#include "../common/recipes.h"

#define AB_MAX_LRS 16
#define AB_MAX_SEEDS 64
#define AB_MAX_MODELS 16

typedef struct {
    char preset[32];
    char dataset[1024];
    ex_backbone backbone;
    lpc_protocol protocol;
    long epochs, batch, subset, deepfool_samples; /* subset 0: whole training set */
    double wd, gamma_max, reach;
    int augment, widths[3];
    double lrs[AB_MAX_LRS];
    int n_lrs;
    long seeds[AB_MAX_SEEDS];
    int n_seeds;
    int models[AB_MAX_MODELS]; /* indices for ex_model_name_at */
    int n_models;
    ex_fidelity fid;     /* the authors' conventions and the LR decay (fidelity.h) */
    long metrics_every;  /* training-set metrics every E epochs during training (0: off) */
    long attacks;        /* 1: FMN and PGD on DeepFool's samples too (Table 2) */
    int resized_crop;    /* 1: RandomResizedCrop instead of the padded crop (flips: augment) */
    uint64_t holdout;    /* bit k: class k held out as near OOD (openset.h; 0: closed set) */
} ab_config;

/* One point of the grid. */
typedef struct {
    int index;
    const char *model;
    double lr;
    long seed;
    char name[128]; /* "<index>-<model>-lr<lr>-s<seed>" */
} ab_cell;

/* Loads a named preset ("quick", "fmnist", "paper-cifar10", "paper-cifar100");
 * 0 with a message on stderr for an unknown name. */
int ab_preset_load(const char *name, ab_config *c);
void ab_preset_list(FILE *f);
/* Applies one override ("epochs", "lrs", "seeds", "backbone", "dataset",
 * "subset", "gamma-max", "models", "deepfool-samples", "protocol",
 * "widths", "augment", "metrics-every", "weight-decay", "resized-crop", "holdout"
 * (openset.h), and the options of
 * ex_fidelity_option); 0 with a message on a bad value. */
int ab_preset_override(ab_config *c, const char *what, const char *value);

int ab_num_cells(const ab_config *c);
/* Cell i in [0, ab_num_cells); index = (model * n_lrs + lr) * n_seeds + seed. */
void ab_cell_at(const ab_config *c, int i, ab_cell *out);
/* Canonical description of everything that determines a cell's training
 * (compared against checkpoints and finished results). */
void ab_cell_identity(const ab_config *c, const ab_cell *cell, char *buf, size_t n);
/* The part of the identity that determines the training (kept in checkpoints):
 * the analysis conventions (--train-metrics, --nc1, --deepfool-pick) are left
 * out, so a cell's checkpoint can be re-analysed under other conventions by
 * copying it into another --out (the log keeps the metrics it was trained with). */
void ab_cell_training_identity(const ab_config *c, const ab_cell *cell, char *buf, size_t n);
const char *ab_backbone_name(ex_backbone b);
const char *ab_protocol_name(lpc_protocol p);
#endif
