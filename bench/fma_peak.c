/* Peak FMA probe: 12 independent chains per thread (more than latency x
 * FMA pipes on current x86 cores, so the pipes, not the chains, limit the
 * rate), each vector FMA on registers only, timed in the thread's CPU
 * time. */
#include "fma_peak.h"
#include <pthread.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>

/* CPU time of the calling thread: the rate per second on a core, however
 * many other processes share it. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { CHAINS = 12, BLOCK = 4096 };

#define PROBE(name, isa, vec, lanes, set1, fmadd, add, reduce)                                     \
    __attribute__((target(isa))) static double name(double seconds)                                \
    {                                                                                              \
        vec acc[CHAINS], x = set1(0.9999999f), y = set1(1e-7f);                                    \
        for (int j = 0; j < CHAINS; j++)                                                           \
            acc[j] = set1((float)j);                                                               \
        double t0 = now(), t;                                                                      \
        long blocks = 0;                                                                           \
        do {                                                                                       \
            for (int i = 0; i < BLOCK; i++)                                                        \
                for (int j = 0; j < CHAINS; j++)                                                   \
                    acc[j] = fmadd(acc[j], x, y);                                                  \
            blocks++;                                                                              \
        } while ((t = now() - t0) < seconds);                                                      \
        for (int j = 1; j < CHAINS; j++)                                                           \
            acc[0] = add(acc[0], acc[j]);                                                          \
        volatile float sink = reduce(acc[0]); /* keeps the chains */                               \
        (void)sink;                                                                                \
        return 2.0 * lanes * CHAINS * BLOCK * (double)blocks / t / 1e9;                            \
    }

__attribute__((target("avx"))) static float first_ymm(__m256 v) { return _mm256_cvtss_f32(v); }
__attribute__((target("avx512f"))) static float first_zmm(__m512 v)
{
    return _mm512_cvtss_f32(v);
}
PROBE(probe_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, first_ymm)
PROBE(probe_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
      first_zmm)
#endif

typedef struct {
    double (*probe)(double);
    double seconds, gflops;
} job;

static void *run(void *arg)
{
    job *j = arg;
    j->gflops = j->probe(j->seconds);
    return NULL;
}

double fma_peak_gflops(lpc_cpu_path path, int threads, double seconds)
{
    double (*probe)(double) = NULL;
#if defined(__x86_64__)
    probe = path == LPC_CPU_AVX512 ? probe_avx512 : path == LPC_CPU_AVX2 ? probe_avx2 : NULL;
#else
    (void)path; /* no probe for NEON yet */
#endif
    if (!probe || threads < 1 || threads > 256)
        return 0;
    job jobs[256];
    pthread_t ids[256];
    int started = 0;
    for (; started < threads; started++) {
        jobs[started] = (job){probe, seconds, 0};
        if (pthread_create(&ids[started], NULL, run, &jobs[started]) != 0)
            break;
    }
    double sum = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(ids[i], NULL);
        sum += jobs[i].gflops;
    }
    return started == threads ? sum : 0;
}
