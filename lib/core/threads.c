/* Process-wide thread count shared by liblpc's OpenMP loops and BLIS. */
#include <blis.h>
#include <omp.h>
#include <stdatomic.h>
#include "internal.h"

static atomic_int num_threads = 1;

lpc_status lpc_set_num_threads(int n)
{
    if (n < 1 || n > 1024)
        return lpci_error(LPC_E_ARG, "lpc_set_num_threads: %d is not in 1..1024", n);
    atomic_store(&num_threads, n);
    bli_thread_set_num_threads(n);
    return LPC_OK;
}

int lpc_get_num_threads(void) { return atomic_load(&num_threads); }

int lpci_threads(void) { return atomic_load(&num_threads); }

void lpci_thread_span(int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}
