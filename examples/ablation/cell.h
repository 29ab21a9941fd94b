/* One cell of the ablation: train (resuming from its checkpoint), analyse,
 * and write DIR/cells/<name>/{result.json, features_*.npy, labels_*.npy,
 * checkpoint.lpcc}, every file atomically. result.json is written last: its
 * presence means finished (result.h reads it). A cell runs under its lock
 * (lock.h): a second process on the same cell exits with AB_EXIT_LOCKED. */
#ifndef AB_CELL_H
#define AB_CELL_H
#include <stddef.h>
#include "preset.h"
#include "progress.h"
#include "result.h"

/* DIR/cells/<name> and a file inside it (file may be NULL). */
void ab_cell_path(const char *out, const ab_cell *cell, const char *file, char *buf, size_t n);
/* State of the cell's result.json (result.h): AB_RESULT_OK when finished. */
ab_result_state ab_cell_result(const ab_config *c, const char *out, const ab_cell *cell);
/* Runs cell `index` with `threads` threads; returns the process exit code
 * (AB_EXIT_LOCKED when another process holds the cell).
 * comm (NULL: alone): data-parallel training over its ranks, which all call
 * this together; rank 0 holds the cell's lock, writes the checkpoints and,
 * after training, does the evaluation and writes the results while the
 * other ranks return. */
int ab_cell_run(const ab_config *c, int index, const char *out, int threads,
                ab_progress_mode mode, lpc_comm *comm);
#endif
