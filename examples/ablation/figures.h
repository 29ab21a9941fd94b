/* The report's figures as PNG: per-node latent histograms of LPC and LinPen
 * (the paper's Figs. 2/4), R vs robustness over all runs (Fig. 3), and test
 * accuracy and gamma over epochs. */
#ifndef AB_FIGURES_H
#define AB_FIGURES_H
#include <stdio.h>
#include "report.h"

/* Writes the figures into out/ and a markdown list of them to md; a figure
 * whose data is missing is skipped with a line saying why. */
void ab_figures(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md);
#endif
