/* The .npy inputs of lpc-analyze (load.c), shared by the in-memory and the
 * streaming modes. Each failure prints a message naming the file. */
#ifndef LPC_ANALYZE_LOAD_H
#define LPC_ANALYZE_LOAD_H
#include <stdint.h>
#include <lpc/lpc.h>

/* The most classes (largest label + 1) lpc-analyze accepts. */
#define AN_MAX_CLASSES 1000000

/* Prints "lpc-analyze: what path: lpc_last_error()"; returns 2 (the exit status). */
int an_fail(const char *what, const char *path);
/* A 2-D float array (rows x cols) of finite values (NaN or Inf is refused,
 * naming the entry); NULL on failure. The caller frees it. */
float *an_load_matrix(const char *path, int64_t *rows, int64_t *cols);
/* A 1-D array of labels as int32 (*n of them); NULL on failure. */
int32_t *an_load_labels(const char *path, int64_t *n);
/* out[i] = the first column of row i of the n x k logits with the largest value. */
void an_argmax_rows(const float *logits, int64_t n, int64_t k, int32_t *out);
#endif
