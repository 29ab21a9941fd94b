/* The paper's Table 4 (Appendix D, binarity): per model the mean and minimum
 * over latent nodes of the GMM score l and of the peak distance mu, and the
 * CoV of the latent norms (training set, last epoch), beside the paper's
 * CIFAR-10 values. */
#ifndef AB_TABLE4_H
#define AB_TABLE4_H
#include <stdio.h>
#include "report.h"

/* Writes the markdown table (mean +- population std over the chosen runs). */
void ab_table4(FILE *md, const ab_config *c, const ab_record *recs, int n);
#endif
