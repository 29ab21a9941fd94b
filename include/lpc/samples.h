/* liblpc — the sample view: a batch of samples as one argument. */
#ifndef LPC_SAMPLES_H
#define LPC_SAMPLES_H
#include <stddef.h>
#include <stdint.h>
#include "export.h"

/* A borrowed view of n samples of shape c x h x w (row-major, n x c*h*w
 * floats; vectors have h = w = 1) and their optional labels (n entries).
 * Nothing is copied or freed: x and labels belong to the caller and must
 * stay valid for the call that reads the view. size is sizeof the struct
 * the caller built (lpc_samples_make sets it); a consumer fails with
 * LPC_E_ARG naming itself when the view is NULL, size is too small, x is
 * NULL, n, c, h or w is < 1, n x c x h x w floats exceed the address space,
 * or (where the consumer knows the class count K) a label is outside
 * [0, K). Whether labels may be NULL is the consumer's to say. */
typedef struct {
    size_t size;
    const float *x;
    int64_t n;
    int c, h, w;
    const int32_t *labels;
} lpc_samples;

LPC_BEGIN_DECLS
/* The view of the arguments, with size = sizeof(lpc_samples). Infallible:
 * the arguments are checked by the functions that read the view. */
LPC_API lpc_samples lpc_samples_make(const float *x, int64_t n, int c, int h, int w,
                                     const int32_t *labels);
LPC_END_DECLS
#endif
