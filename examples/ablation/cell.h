/* One cell of the ablation: train (resuming from its checkpoint), analyse,
 * and write DIR/cells/<name>/{result.json, features_*.npy, labels_*.npy,
 * checkpoint.lpcc}. result.json is written last: its presence means finished. */
#ifndef AB_CELL_H
#define AB_CELL_H
#include <stddef.h>
#include "preset.h"
#include "progress.h"

/* DIR/cells/<name> and a file inside it (file may be NULL). */
void ab_cell_path(const char *out, const ab_cell *cell, const char *file, char *buf, size_t n);
/* 1 when the cell's result.json exists. */
int ab_cell_finished(const char *out, const ab_cell *cell);
/* Runs cell `index` with `threads` threads; returns the process exit code.
 * comm (NULL: alone): data-parallel training over its ranks, which all call
 * this together; rank 0 writes the checkpoints and, after training, does
 * the evaluation and writes the results while the other ranks return. */
int ab_cell_run(const ab_config *c, int index, const char *out, int threads,
                ab_progress_mode mode, lpc_comm *comm);
/* mkdir -p; 0 on success. */
int ab_mkdirs(const char *path);
#endif
