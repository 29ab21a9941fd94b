/* A cell's training checkpoint: model parameters and buffers, AdamW state,
 * epochs done, the batcher's generator state, the epoch log and the cell's
 * identity (a checkpoint of another configuration is refused). */
#ifndef AB_RESUME_H
#define AB_RESUME_H
#include <lpc/lpc.h>
#include "../common/trainer.h"

/* One epoch: mean training loss, running training accuracy, last gamma,
 * wall seconds, and the accuracy on the first test samples (see cell.c). */
typedef struct {
    double loss, acc, gamma, seconds, acc_test;
    /* Training-set metrics every config.metrics_every epochs (NaN in between;
     * collapse.c): accuracy, R, Sigma_W, norm CoV and neural collapse. */
    double acc_train, r, sigma_w, cov, nc1, nc1_weighted, equinorm, equiangularity, max_angle,
        nc3, nc4;
} ab_epoch_log;

/* The data part of a checkpoint identity: what (e.g. "train"), sample count,
 * image shape, class count and a 64-bit hash of the images and labels in
 * memory, so that resuming on replaced data files is refused. */
#define AB_DATA_MARK " data: "
void ab_data_fingerprint(const char *what, const lpc_dataset *ds, char *buf, size_t n);

/* Saves atomically after `done` epochs; 0 on success (message on stderr otherwise). */
int ab_resume_save(const char *path, const char *identity, lpc_head *m, ex_trainer *t,
                   const ab_epoch_log *log, long done);
/* Restores everything from path into m, t and log (room for max_epochs) and
 * sets *done; 0 on success, 1 when the file is corrupt, foreign or does not
 * fit (message on stderr; the caller must not train on). */
int ab_resume_load(const char *path, const char *identity, lpc_head *m, ex_trainer *t,
                   ab_epoch_log *log, long max_epochs, long *done);
#endif
