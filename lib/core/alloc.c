/* Heap allocation for the whole library, counted so that tests (and users)
 * can verify that a training step allocates nothing after the first. */
#include <stdatomic.h>
#include <stdlib.h>
#include "internal.h"

static atomic_ullong alloc_count;

unsigned long long lpc_alloc_count(void) { return atomic_load(&alloc_count); }

void *lpci_malloc(size_t n)
{
    atomic_fetch_add(&alloc_count, 1);
    return malloc(n ? n : 1);
}

void *lpci_calloc(size_t count, size_t size)
{
    atomic_fetch_add(&alloc_count, 1);
    return calloc(count ? count : 1, size ? size : 1);
}

void *lpci_realloc(void *p, size_t n)
{
    atomic_fetch_add(&alloc_count, 1);
    return realloc(p, n ? n : 1);
}

void lpci_free(void *p) { free(p); }

int lpci_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}
