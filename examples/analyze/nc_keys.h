/* JSON keys of the neural-collapse metrics printed by lpc-analyze, shared by
 * the in-memory (analyze.c) and the streaming (stream.c) modes. */
#ifndef LPC_ANALYZE_NC_KEYS_H
#define LPC_ANALYZE_NC_KEYS_H
#include <lpc/lpc.h>

static const struct {
    const char *key;
    lpc_nc_metric m;
    int needs; /* 0: always; 1: needs W; 2: needs W or predictions */
} nc_keys[] = {{"nc1", LPC_NC_NC1, 0},
               {"nc1_weighted", LPC_NC_NC1_WEIGHTED, 0},
               {"nc1_svd", LPC_NC_NC1_SVD, 0},
               {"nc1_quotient", LPC_NC_NC1_QUOTIENT, 0},
               {"cdnv", LPC_NC_CDNV, 0},
               {"equinorm", LPC_NC_EQUINORM, 0},
               {"equiangularity", LPC_NC_EQUIANGULARITY, 0},
               {"max_angle", LPC_NC_MAX_ANGLE, 0},
               {"etf_error", LPC_NC_ETF_ERROR, 0},
               {"nc3", LPC_NC_NC3, 1},
               {"self_duality", LPC_NC_SELF_DUALITY, 1},
               {"uniform_duality", LPC_NC_UNIFORM_DUALITY, 1},
               {"nc4", LPC_NC_NC4, 2}};
#define NC_KEY_COUNT (sizeof nc_keys / sizeof nc_keys[0])

/* Whether metric i of nc_keys is computed with these inputs. */
static inline int nc_key_wanted(size_t i, int have_w, int have_pred)
{
    return nc_keys[i].needs == 0 || (nc_keys[i].needs == 1 && have_w) ||
           (nc_keys[i].needs == 2 && (have_w || have_pred));
}
#endif
