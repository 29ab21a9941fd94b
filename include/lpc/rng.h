/* liblpc — seeded random numbers (xoshiro256**), the only source of
 * randomness in the library: same seed, same numbers, on every machine. */
#ifndef LPC_RNG_H
#define LPC_RNG_H
#include <stdint.h>
#include "export.h"
#include "status.h"

typedef struct lpc_rng lpc_rng;
#define LPC_RNG_STATE_WORDS 4

LPC_BEGIN_DECLS
/* New generator seeded with splitmix64(seed); NULL on no memory. */
LPC_API lpc_rng *lpc_rng_new(uint64_t seed);
LPC_API void lpc_rng_free(lpc_rng *r); /* NULL is a no-op */
/* Uniform 64-bit word; 0 for NULL. */
LPC_API uint64_t lpc_rng_u64(lpc_rng *r);
/* Uniform double in [0, 1); 0 for NULL. */
LPC_API double lpc_rng_uniform(lpc_rng *r);
/* Uniform integer in [0, n) without modulo bias (n >= 1); 0 for NULL. */
LPC_API uint64_t lpc_rng_below(lpc_rng *r, uint64_t n);
/* Standard normal (Box-Muller, deterministic). */
LPC_API double lpc_rng_normal(lpc_rng *r);
/* Save / restore the whole state (for checkpoints). An all-zero state is refused. */
LPC_API lpc_status lpc_rng_get_state(const lpc_rng *r, uint64_t state[LPC_RNG_STATE_WORDS]);
LPC_API lpc_status lpc_rng_set_state(lpc_rng *r, const uint64_t state[LPC_RNG_STATE_WORDS]);
LPC_END_DECLS
#endif
