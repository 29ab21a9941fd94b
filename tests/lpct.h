/* Shared helpers for the Check suites: finite-difference gradient checks,
 * a fixed random generator, temp files and a main() helper. */
#ifndef LPCT_H
#define LPCT_H
#include <check.h>
#include <math.h>
#include <stdint.h>
#include "lpc/lpc.h"

/* Builds a scalar loss from persistent input tensors. */
typedef lpc_graph_fn lpct_graph_fn;

/* lpc_gradcheck, failing the test on an error: returns the worst violation
 * of |a - n| <= atol + rtol |n| as the ratio |a - n| / (atol + rtol |n|):
 * <= 1 passes. */
double lpct_gradcheck(lpct_graph_fn f, lpc_tensor **inputs, int n_inputs, void *user,
                      double eps, double atol, double rtol);
/* Fixed pseudo-random weights: sum(y * R) as a scalar, so that a gradient
 * check of a non-scalar op sees every output element differently. */
lpc_tensor *lpct_project(lpc_ctx *ctx, lpc_tensor *y, uint64_t seed);
/* Persistent tensor filled with uniform values in [lo, hi), requires_grad. */
lpc_tensor *lpct_rand(int ndim, const int64_t *shape, double lo, double hi, uint64_t seed);
/* Absolute + relative closeness. */
int lpct_close(double a, double b, double rtol, double atol);
/* A fresh path under the build's temp dir (caller frees). */
char *lpct_tmpfile(const char *name);
/* Limits the size of files this process writes to `bytes` (0: restores the
 * limit it had before); SIGXFSZ is ignored, so writes past it fail with
 * EFBIG ("File too large"), standing in for a full disk. */
void lpct_limit_file_size(long bytes);
/* Number of temporary files "<path>.tmp*" left next to path by an atomic write. */
int lpct_count_temps(const char *path);
/* Nonzero when LPCT_EMULATED is set: scripts/test sets it for the suites it
 * runs under qemu-user, where training runs about two hundred times slower.
 * A suite that trains models on real data then trains on fewer images,
 * checking the same properties. */
int lpct_emulated(void);
/* Views and output structs as compound literals, for the calls under test. */
#define LPCT_SAMPLES(x, n, c, h, w, labels) \
    (&(lpc_samples){sizeof(lpc_samples), (x), (n), (c), (h), (w), (labels)})
#define LPCT_FMN_OUT(r, norms, ratios, success) \
    (&(lpc_fmn_outputs){sizeof(lpc_fmn_outputs), (r), (norms), (ratios), (success)})
#define LPCT_PGD_OUT(success, robust_accuracy) \
    (&(lpc_pgd_outputs){sizeof(lpc_pgd_outputs), (success), (robust_accuracy)})
/* Runs one suite; returns the process exit status. */
int lpct_run(Suite *s);

#define LPCT_ASSERT_CLOSE(a, b, rtol)                                                   \
    ck_assert_msg(lpct_close((a), (b), (rtol), 0.0), "%s = %.12g, expected %.12g", #a,   \
                  (double)(a), (double)(b))
/* A misuse call returns `code` and leaves a non-empty lpc_last_error(). */
#define LPCT_EXPECT_ERR(call, code)                                                     \
    do {                                                                                \
        lpc_clear_error();                                                              \
        ck_assert_int_eq((call), (code));                                               \
        ck_assert_str_ne(lpc_last_error(), "");                                         \
    } while (0)
#endif
