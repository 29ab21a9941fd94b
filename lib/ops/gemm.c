/* Row-major single-precision GEMM: the micro-kernel of the kernel path in
 * use (lib/ops/x86/, lib/ops/arm/), or BLIS's typed API on the generic path
 * (BLIS picks its own kernels for the CPU). Also what those micro-kernels
 * share: cache blocking from the CPU's reported cache sizes, per-thread
 * packing workspace, and the split of C between threads. Every element of C
 * is computed by one thread with one summation order, so all paths are
 * deterministic for a given thread count. */
#include <blis.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kernels.h"

void lpci_sgemm_blis(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
              (dim_t)m, (dim_t)n, (dim_t)k, &alpha, (float *)a, (inc_t)lda, 1, (float *)b,
              (inc_t)ldb, 1, &beta, c, (inc_t)ldc, 1);
}

void lpci_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    lpci_sgemm_fn *own = lpci_kernels_now()->sgemm;
    if (own && own(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
        return;
    lpci_sgemm_blis(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ---- cache sizes ---- */

/* Size in bytes of the level-`level` data (or unified) cache from sysfs, 0
 * when it does not say. */
static long sysfs_cache(int level)
{
    for (int i = 0; i < 8; i++) {
        char path[96], type[32] = "";
        int lv = 0;
        long kib = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int ok = fscanf(f, "%d", &lv) == 1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (!ok || lv != level || !(f = fopen(path, "r")))
            continue;
        ok = fscanf(f, "%31s", type) == 1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!ok || strcmp(type, "Instruction") == 0 || !(f = fopen(path, "r")))
            continue;
        ok = fscanf(f, "%ldK", &kib) == 1;
        fclose(f);
        if (ok && kib > 0)
            return kib * 1024;
    }
    return 0;
}

/* The data cache of a level: what sysconf reports (cpuid on x86 glibc), else
 * sysfs, else `fallback`; clamped to sizes a real cache has. */
static long cache_bytes(int sysconf_name, int level, long fallback, long least, long most)
{
    long s = sysconf(sysconf_name);
    if (s <= 0)
        s = sysfs_cache(level);
    if (s <= 0)
        s = fallback;
    return s < least ? least : s > most ? most : s;
}

typedef struct {
    long l1, l2;
} caches;

static caches found;
static pthread_once_t found_once = PTHREAD_ONCE_INIT;

static void find_caches(void)
{
    found.l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 1, 32 << 10, 16 << 10, 256 << 10);
    found.l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 2, 512 << 10, 128 << 10, 8 << 20);
}

/* The loops keep one mr-row micro-panel of A (mr x kc) in half of L1 while
 * nr-column micro-panels of B stream past it from a packed kc x nb block
 * that fills half of L2; the mb x kc block of A is packed once per K block
 * and lives in the other half of L2 (or in L3). */
void lpci_gemm_blocking(int mr, int nr, int *kc, int *mb, int *nb)
{
    pthread_once(&found_once, find_caches);
    long k = found.l1 / 2 / ((long)sizeof(float) * mr);
    k = k < 128 ? 128 : k > 512 ? 512 : k / 16 * 16;
    long half_l2 = found.l2 / 2 / ((long)sizeof(float) * k);
    long n = half_l2 / nr * nr, m = half_l2 / mr * mr;
    *kc = (int)k;
    *nb = (int)(n < 4 * nr ? 4 * nr : n > 4096 ? 4096 / nr * nr : n);
    *mb = (int)(m < 4 * mr ? 4 * mr : m > 2048 ? 2048 / mr * mr : m);
}

/* ---- per-thread packing workspace ---- */

typedef struct {
    size_t floats;
    char *raw;
} workspace;

static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;
static int work_key_ok;

static void work_free(void *p)
{
    workspace *w = p;
    lpci_free(w->raw);
    lpci_free(w);
}
static void work_key_init(void) { work_key_ok = pthread_key_create(&work_key, work_free) == 0; }

float *lpci_gemm_workspace(size_t floats)
{
    pthread_once(&work_once, work_key_init);
    if (!work_key_ok)
        return NULL;
    workspace *w = pthread_getspecific(work_key);
    if (!w) {
        if (!(w = lpci_calloc(1, sizeof *w)))
            return NULL;
        if (pthread_setspecific(work_key, w) != 0) {
            lpci_free(w);
            return NULL;
        }
    }
    if (w->floats < floats) { /* grows only when the blocking asks for more */
        char *raw = lpci_malloc(floats * sizeof(float) + 64);
        if (!raw)
            return NULL;
        lpci_free(w->raw);
        w->raw = raw;
        w->floats = floats;
    }
    return lpci_align64(w->raw);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

int lpci_gemm_split(int64_t m, int64_t n, int mr, int nr, int nt, int t, int64_t *i0,
                    int64_t *mi, int64_t *j0, int64_t *nj)
{
    int by_cols = (n + nr - 1) / nr >= nt;
    int64_t len = by_cols ? n : m, unit = by_cols ? nr : mr;
    int64_t units = (len + unit - 1) / unit, per = units / nt, extra = units % nt;
    int64_t start = (t * per + (t < extra ? t : extra)) * unit;
    int64_t count = min64((per + (t < extra)) * unit, len - start);
    *i0 = by_cols ? 0 : start;
    *mi = by_cols ? m : count;
    *j0 = by_cols ? start : 0;
    *nj = by_cols ? count : n;
    return count > 0;
}
