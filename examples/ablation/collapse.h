/* Training-set metrics during training (the paper's Fig. 5, Papyan et al.'s
 * figures): accuracy, R, Sigma_W, norm CoV and NC1-NC4 every E epochs,
 * stored in the cell's epoch log. */
#ifndef AB_COLLAPSE_H
#define AB_COLLAPSE_H
#include <lpc/lpc.h>
#include "json.h"
#include "preset.h"
#include "resume.h"

/* Sets the training-set fields of e to NaN (not measured). */
void ab_collapse_clear(ab_epoch_log *e);
/* Measures the training set with the model as it is now (eval mode, the
 * training normalisation; through the augmentation when the configuration
 * asks for the authors' convention). Returns 0, or 1 with a message. */
int ab_collapse_measure(const ab_config *c, lpc_head *m, ex_trainer *t,
                        const lpc_dataset *train, uint64_t seed, const char *cell,
                        ab_epoch_log *e);
/* Writes the measured fields of e (nothing for NaN ones) into the open log object. */
void ab_collapse_write(jw *w, const ab_epoch_log *e);
#endif
