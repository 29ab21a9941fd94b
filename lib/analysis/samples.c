/* The sample view and the checks every function that reads one shares. */
#include <string.h>
#include "analysis_internal.h"

lpc_samples lpc_samples_make(const float *x, int64_t n, int c, int h, int w,
                             const int32_t *labels)
{
    return (lpc_samples){.size = sizeof(lpc_samples), .x = x, .n = n, .c = c, .h = h, .w = w,
                         .labels = labels};
}

lpc_status lpci_samples_check(const char *fn, const lpc_samples *s, int k)
{
    if (!s)
        return lpci_error(LPC_E_ARG, "%s: samples is NULL", fn);
    if (s->size < sizeof *s)
        return lpci_error(LPC_E_ARG, "%s: samples.size is %zu, need %zu; build the view with "
                          "lpc_samples_make", fn, s->size, sizeof *s);
    if (!s->x)
        return lpci_error(LPC_E_ARG, "%s: samples.x is NULL", fn);
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1)
        return lpci_error(LPC_E_ARG, "%s: samples must be N x C x H x W with each >= 1, got "
                          "%lld x %d x %d x %d", fn, (long long)s->n, s->c, s->h, s->w);
    size_t total;
    if (lpci_mul_size((size_t)s->c * (size_t)s->h, (size_t)s->w, &total) ||
        lpci_mul_size(total, (size_t)s->n, &total) ||
        lpci_mul_size(total, sizeof(float), &total) || total > (size_t)INT64_MAX)
        return lpci_error(LPC_E_ARG, "%s: %lld samples of %d x %d x %d floats are more than "
                          "memory can address", fn, (long long)s->n, s->c, s->h, s->w);
    for (int64_t i = 0; k >= 1 && s->labels && i < s->n; i++)
        if (s->labels[i] < 0 || s->labels[i] >= k)
            return lpci_error(LPC_E_ARG, "%s: label %d of sample %lld is not in [0, %d)", fn,
                              (int)s->labels[i], (long long)i, k);
    return LPC_OK;
}

lpc_status lpci_outputs_read(const char *fn, void *dst, size_t dst_size, const void *src)
{
    memset(dst, 0, dst_size);
    if (src) {
        size_t size = *(const size_t *)src;
        if (size < sizeof(size_t))
            return lpci_error(LPC_E_ARG, "%s: outputs.size is %zu; set it to sizeof the "
                              "outputs struct", fn, size);
        memcpy(dst, src, size < dst_size ? size : dst_size);
    }
    *(size_t *)dst = dst_size;
    return LPC_OK;
}
