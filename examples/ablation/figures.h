/* The report's figures as PNG, drawn with cairo (examples/common/plot.h):
 * per-node latent histograms as small multiples, one panel per latent node
 * (the paper's Figs. 2/4), R against robustness over all runs on log-log
 * axes (Fig. 3), and test accuracy and gamma over epochs. */
#ifndef AB_FIGURES_H
#define AB_FIGURES_H
#include <stdio.h>
#include "../common/plot.h"
#include "json.h"

/* One finished run as the figures see it. */
typedef struct {
    const char *model; /* model name */
    int series;        /* position of the model in the legend (colour, marker) */
    int chosen;        /* best learning rate of its (model, seed) */
    double r_train, robustness;
    const jv *log;     /* result.json's "log" array (may be NULL) */
    const char *dir;   /* the run's directory, holding features_train.npy */
} ab_fig_run;

/* Writes latent_hist_<model>.png for each name in hist_models (its first
 * chosen run), r_vs_robustness.png, test_accuracy.png and gamma.png into
 * out/, and a markdown line per figure to md (a figure without data is
 * listed as skipped with the reason). models[] are the legend's names by
 * series. Returns the number of figures that could not be written (each
 * with a message naming the file on stderr). */
int ab_figures(const char *out, const char *const *models, int n_models,
               const char *const *hist_models, int n_hist, const ab_fig_run *runs, int n,
               FILE *md);

/* Layout of latent_hist_*.png for `nodes` panels (at most AB_HIST_MAX_NODES
 * are drawn): the figure's size and the plot area of panel i. */
#define AB_HIST_MAX_NODES 64
void ab_hist_layout(int nodes, int *w, int *h);
void ab_hist_panel(int nodes, int i, ex_axes *a);
/* Size of the other figures. */
#define AB_FIG_W 960
#define AB_FIG_H 600
#endif
