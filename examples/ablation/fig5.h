/* The paper's Fig. 5 from the training-set metrics in the cell logs: weighted
 * NC1, equinorm, equiangularity and max-angle over epochs, one curve per model
 * (its first best-LR run), with a dashed line at the epoch where that run's
 * training accuracy first reaches 100%. */
#ifndef AB_FIG5_H
#define AB_FIG5_H
#include <stdio.h>
#include "report.h"

/* Writes fig5_<metric>.png into out/ and a markdown line per figure to md
 * (a figure without data is listed as skipped). Returns the number of
 * figures that could not be written. */
int ab_fig5(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md);
#endif
