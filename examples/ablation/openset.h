/* The open-set experiment (--holdout C1,C2,..): every cell trains on the
 * other classes (labels renumbered 0..K'-1 in their order) and, after
 * training, measures out-of-distribution detection (include/lpc/ood.h) with
 * its penultimate features and logits:
 *  - ID: the test images of the trained classes; the feature detectors are
 *    fitted on the (unaugmented) training features with their labels;
 *  - near: the test images of the held-out classes;
 *  - permuted: ID test images with their pixel positions shuffled (one
 *    permutation per image), and noise: images of uniform random bytes; both
 *    drawn from a generator with a fixed seed, the same for every cell.
 * Per OOD set and score (MSP, max logit, energy, Mahalanobis, NECO, ViM) the
 * cell stores AUROC and FPR95 in result.json under final.ood; the report
 * adds a table per OOD set and DIR/ood.csv. */
#ifndef AB_OPENSET_H
#define AB_OPENSET_H
#include <stdint.h>
#include <stdio.h>
#include <lpc/lpc.h>
#include "json.h"
#include "preset.h"
#include "report.h"

#define AB_OOD_SETS 3      /* near, permuted, noise */
#define AB_OOD_FAR_MAX 2000 /* images in each generated far-OOD set (fewer with fewer ID test images) */

/* What one cell measured; NaN where a score is undefined on the data. */
typedef struct {
    int64_t n_id, n_ood[AB_OOD_SETS];
    double auroc[AB_OOD_SETS][LPC_OOD_SCORE_COUNT], fpr95[AB_OOD_SETS][LPC_OOD_SCORE_COUNT];
} ab_ood;

/* Parses the value of --holdout ("8,9"; "none" for the closed-set
 * experiment) into c->holdout; 0 with a message on a bad value. */
int ab_openset_option(ab_config *c, const char *value);
/* " holdout=8,9" for the identity, "" without held-out classes. */
void ab_openset_describe(const ab_config *c, char *buf, size_t n);
/* Splits the loaded data sets: *train and *test become the trained classes
 * (renumbered), *near gets the held-out classes' test images (label 0).
 * Returns 0, or 1 with a message (a class out of range, fewer than two
 * classes left, a held-out class without test images). */
int ab_openset_split(const ab_config *c, const char *cell, lpc_dataset **train,
                     lpc_dataset **test, lpc_dataset **near);
/* Measures a trained model (normalisation mean/std of training); 0, or 1
 * with a message. */
int ab_openset_measure(lpc_head *m, const double *mean, const double *std,
                       const lpc_dataset *train, const lpc_dataset *test,
                       const lpc_dataset *near, const char *cell, ab_ood *out);
/* Writes the "ood" object of result.json. */
void ab_openset_write(jw *w, const ab_ood *o);
/* The report's section (per OOD set a table of AUROC / FPR95, mean ± std
 * over the chosen runs) into md and the per-run means as CSV into csv. */
void ab_openset_report(FILE *md, FILE *csv, const ab_config *c, const ab_record *recs, int n);
#endif
