/* The strided reads and writes of the Winograd transforms of every path
 * (x86/winograd_avx2.c, x86/winograd_avx512.c, arm/winograd_neon.c,
 * winograd_generic.c), by
 * scalar loads and stores. On an
 * AMD EPYC (Zen 5 class) the masked vgatherdps and vscatterdps they
 * replace cost a resnet-small training step 38% of its time on the AVX-512
 * path; the scalar accesses cut the step's CPU time by 12%
 * (doc/performance.md). Not vectorised, or the compiler would make the
 * gathers again. */
#ifndef LPC_OPS_WINOGRAD_ACCESS_H
#define LPC_OPS_WINOGRAD_ACCESS_H
#include "kernels.h"

#define WINO_SCALAR __attribute__((optimize("no-tree-vectorize"))) static inline

/* d[k][l]: tap k of tile l of group grp of one input plane; 0 outside the
 * image and for lanes not live. */
WINO_SCALAR void load_taps(const lpci_wino_tables *t, const float *plane, int64_t grp,
                           uint16_t live, float d[LPCI_WINO_TAPS][LPCI_WINO_LANES])
{
    for (int k = 0; k < LPCI_WINO_TAPS; k++) {
        int64_t at = grp * LPCI_WINO_TAPS + k;
        const int32_t *idx = t->in_idx + at * LPCI_WINO_LANES;
        unsigned mask = t->in_mask[at] & live;
        for (int l = 0; l < LPCI_WINO_LANES; l++)
            d[k][l] = mask >> l & 1 ? plane[idx[l]] : 0.0f;
    }
}

/* One value per channel at one pixel: channel l's plane lies l * hw after
 * at. store_channels writes val[0..lanes); load_channels reads lanes of
 * the width values, the rest 0. */
WINO_SCALAR void store_channels(const float *val, int lanes, int64_t hw, float *at)
{
    for (int l = 0; l < lanes; l++)
        at[l * hw] = val[l];
}

WINO_SCALAR void load_channels(const float *at, int lanes, int width, int64_t hw, float *val)
{
    for (int l = 0; l < width; l++)
        val[l] = l < lanes ? at[l * hw] : 0.0f;
}
#endif
