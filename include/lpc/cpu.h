/* liblpc — which instruction set the kernels run on.
 *
 * The GEMM, the Winograd convolution transforms and the vectorised
 * elementwise, batch-norm and AdamW kernels exist once per instruction set:
 * portable C ("generic"), x86-64 AVX2 + FMA ("avx2"), x86-64 AVX-512F
 * ("avx512") and aarch64 Advanced SIMD ("neon"). The library picks one path
 * per process, the best the CPU can run, unless the environment variable
 * LPC_CPU (generic | avx2 | avx512 | neon | auto) or lpc_set_cpu_path pins
 * another. Results are bit-identical for a given path and thread count,
 * not across paths.
 *
 * A path the CPU cannot run is refused with a message, never run: when
 * LPC_CPU names one, lpc_ctx_new fails with LPC_E_ARG and says why. */
#ifndef LPC_CPU_H
#define LPC_CPU_H
#include "export.h"
#include "status.h"

typedef enum {
    LPC_CPU_AUTO = 0, /* the best path this CPU can run (only as a request) */
    LPC_CPU_GENERIC = 1,
    LPC_CPU_AVX2 = 2,
    LPC_CPU_AVX512 = 3,
    LPC_CPU_NEON = 4
} lpc_cpu_path;

LPC_BEGIN_DECLS
/* Pins the kernel path for the whole process (LPC_CPU_AUTO: the best one).
 * LPC_E_ARG (with lpc_last_error saying why) for a value outside the enum or
 * a path this CPU or build cannot run; the path in use is then unchanged.
 * Overrides LPC_CPU. Call it while no other thread runs liblpc ops. */
LPC_API lpc_status lpc_set_cpu_path(lpc_cpu_path path);
/* The path the kernels run on now (never LPC_CPU_AUTO). */
LPC_API lpc_cpu_path lpc_get_cpu_path(void);
/* 1 when this CPU and build can run the path, 0 otherwise (and for values
 * outside the enum). LPC_CPU_AUTO: 1. */
LPC_API int lpc_cpu_path_supported(lpc_cpu_path path);
/* "auto", "generic", "avx2", "avx512", "neon"; "unknown" for other values.
 * Static storage: never free it. */
LPC_API const char *lpc_cpu_path_name(lpc_cpu_path path);
LPC_END_DECLS
#endif
