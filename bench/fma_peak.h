/* The machine's measured single-precision FMA rate for a kernel path. */
#ifndef LPC_BENCH_FMA_PEAK_H
#define LPC_BENCH_FMA_PEAK_H
#include <lpc/lpc.h>

/* GFLOP/s (an FMA counts 2) of `threads` threads each running independent
 * FMA chains of the widest vectors `path` uses (zmm for avx512, ymm for
 * avx2) for `seconds` of its CPU time, all at once: the sum of the
 * threads' rates per CPU-second, which other load on the machine hardly
 * changes (the wall-clock rate would). 0 for paths without a probe
 * (generic, neon) or when a thread cannot be started. */
double fma_peak_gflops(lpc_cpu_path path, int threads, double seconds);
#endif
