/* The .npy inputs of lpc-analyze, shared by the in-memory and streaming modes. */
#include "load.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int an_fail(const char *what, const char *path)
{
    fprintf(stderr, "lpc-analyze: %s%s%s: %s\n", what, path ? " " : "", path ? path : "",
            lpc_last_error());
    return 2;
}

float *an_load_matrix(const char *path, int64_t *rows, int64_t *cols)
{
    lpc_npy *a = NULL;
    float *data = NULL;
    if (lpc_npy_load(path, &a) != LPC_OK) {
        an_fail("cannot load", path);
        return NULL;
    }
    int nd = lpc_npy_ndim(a);
    if (nd != 2) {
        fprintf(stderr, "lpc-analyze: %s: expected a 2-D array, got %d dimensions\n", path, nd);
        goto done;
    }
    *rows = lpc_npy_dim(a, 0);
    *cols = lpc_npy_dim(a, 1);
    data = malloc((size_t)(lpc_npy_numel(a) ? lpc_npy_numel(a) : 1) * sizeof *data);
    if (!data) {
        fprintf(stderr, "lpc-analyze: %s: out of memory\n", path);
        goto done;
    }
    if (lpc_npy_copy_f32(a, data, lpc_npy_numel(a)) != LPC_OK) {
        an_fail("cannot read", path);
        free(data);
        data = NULL;
        goto done;
    }
    /* Non-finite values would silently turn into predictions or null metrics. */
    for (int64_t i = 0; i < lpc_npy_numel(a); i++)
        if (!isfinite(data[i])) {
            fprintf(stderr, "lpc-analyze: %s: row %lld, column %lld is %g (values must be "
                    "finite)\n", path, (long long)(i / *cols), (long long)(i % *cols),
                    (double)data[i]);
            free(data);
            data = NULL;
            break;
        }
done:
    lpc_npy_free(a);
    return data;
}

int32_t *an_load_labels(const char *path, int64_t *n)
{
    lpc_npy *a = NULL;
    int32_t *y = NULL;
    if (lpc_npy_load(path, &a) != LPC_OK) {
        an_fail("cannot load", path);
        return NULL;
    }
    if (lpc_npy_ndim(a) != 1) {
        fprintf(stderr, "lpc-analyze: %s: labels must be a 1-D array\n", path);
    } else if (!(y = malloc((size_t)(lpc_npy_numel(a) ? lpc_npy_numel(a) : 1) * sizeof *y))) {
        fprintf(stderr, "lpc-analyze: %s: out of memory\n", path);
    } else if (lpc_npy_copy_i32(a, y, lpc_npy_numel(a)) != LPC_OK) {
        an_fail("cannot read", path);
        free(y);
        y = NULL;
    } else {
        *n = lpc_npy_numel(a);
    }
    lpc_npy_free(a);
    return y;
}

void an_argmax_rows(const float *logits, int64_t n, int64_t k, int32_t *out)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t best = 0;
        for (int64_t c = 1; c < k; c++)
            if (logits[i * k + c] > logits[i * k + best])
                best = c;
        out[i] = (int32_t)best;
    }
}
