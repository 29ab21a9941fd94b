/* Choice of the samples DeepFool measures (robust.h): the first ones, a
 * uniform random subset (partial Fisher-Yates over the eligible indices), and
 * optionally only the correctly classified. */
#include <stdlib.h>
#include "analysis_internal.h"

static int ascending(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

lpc_status lpc_deepfool_pick(int64_t n, int64_t count, unsigned flags, uint64_t seed,
                             const int32_t *labels, const int32_t *predictions, int64_t *idx,
                             int64_t *picked)
{
    const char *fn = "lpc_deepfool_pick";
    if (!idx || !picked)
        return lpci_error(LPC_E_ARG, "%s: NULL output", fn);
    if (n < 0 || count < 1)
        return lpci_error(LPC_E_ARG, "%s: needs n >= 0 and count >= 1, got %lld and %lld", fn,
                          (long long)n, (long long)count);
    if (flags & ~(LPC_PICK_RANDOM | LPC_PICK_CORRECT))
        return lpci_error(LPC_E_ARG, "%s: unknown flags 0x%x", fn, flags);
    if ((flags & LPC_PICK_CORRECT) && (!labels || !predictions))
        return lpci_error(LPC_E_ARG, "%s: LPC_PICK_CORRECT needs labels and predictions", fn);
    int64_t *pool = lpci_malloc((size_t)(n ? n : 1) * sizeof *pool), m = 0;
    if (!pool)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %lld indices", fn, (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!(flags & LPC_PICK_CORRECT) || labels[i] == predictions[i])
            pool[m++] = i;
    int64_t take = m < count ? m : count;
    if (flags & LPC_PICK_RANDOM) {
        lpc_rng *r = lpc_rng_new(seed);
        if (!r) {
            lpci_free(pool);
            return lpci_error(LPC_E_NOMEM, "%s: no memory for the generator", fn);
        }
        for (int64_t i = 0; i < take; i++) {
            int64_t j = i + (int64_t)lpc_rng_below(r, (uint64_t)(m - i)), t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        lpc_rng_free(r);
        qsort(pool, (size_t)take, sizeof *pool, ascending);
    }
    for (int64_t i = 0; i < take; i++)
        idx[i] = pool[i];
    *picked = take;
    lpci_free(pool);
    return LPC_OK;
}
