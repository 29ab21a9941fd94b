/* xoshiro256** seeded through splitmix64 (Blackman & Vigna). */
#include <math.h>
#include <string.h>
#include "internal.h"

struct lpc_rng {
    uint64_t s[LPC_RNG_STATE_WORDS];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

lpc_rng *lpc_rng_new(uint64_t seed)
{
    lpc_rng *r = lpci_malloc(sizeof *r);
    if (!r)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_rng_new: out of memory");
    for (int i = 0; i < LPC_RNG_STATE_WORDS; i++)
        r->s[i] = splitmix64(&seed);
    return r;
}

void lpc_rng_free(lpc_rng *r) { lpci_free(r); }

uint64_t lpc_rng_u64(lpc_rng *r)
{
    if (!r)
        return 0;
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lpc_rng_uniform(lpc_rng *r) { return (double)(lpc_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t lpc_rng_below(lpc_rng *r, uint64_t n)
{
    if (!r || n <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = lpc_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double lpc_rng_normal(lpc_rng *r)
{
    double u1 = 1.0 - lpc_rng_uniform(r); /* (0, 1] */
    double u2 = lpc_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

lpc_status lpc_rng_get_state(const lpc_rng *r, uint64_t state[LPC_RNG_STATE_WORDS])
{
    if (!r || !state)
        return lpci_error(LPC_E_ARG, "lpc_rng_get_state: NULL argument");
    memcpy(state, r->s, sizeof r->s);
    return LPC_OK;
}

lpc_status lpc_rng_set_state(lpc_rng *r, const uint64_t state[LPC_RNG_STATE_WORDS])
{
    if (!r || !state)
        return lpci_error(LPC_E_ARG, "lpc_rng_set_state: NULL argument");
    if (!(state[0] | state[1] | state[2] | state[3]))
        return lpci_error(LPC_E_ARG, "lpc_rng_set_state: the all-zero state is invalid");
    memcpy(r->s, state, sizeof r->s);
    return LPC_OK;
}
