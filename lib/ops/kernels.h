/* The kernel seam: what each instruction set implements (lib/ops/x86/,
 * lib/ops/arm/, portable C in lib/ops/) and the table cpu.c picks from. */
#ifndef LPC_OPS_KERNELS_H
#define LPC_OPS_KERNELS_H
#include "../core/internal.h"

/* C (m x n) = alpha op(A) op(B) + beta C as lpci_sgemm; 0, with C
 * untouched, when a thread cannot get its packing workspace. */
typedef int lpci_sgemm_fn(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                          float *c, int64_t ldc);

/* ---- Winograd F(2x2, 3x3) (winograd.c drives, the kernels transform) ---- */
enum { LPCI_WINO_LANES = 16, LPCI_WINO_TAPS = 16, LPCI_WINO_OUTS = 4 };

typedef struct {
    int64_t cin, cout, h, w, hw;
    int64_t tw, tiles;      /* tiles per row and per sample */
    int64_t per;            /* tiles in a full chunk */
    int64_t groups, stride; /* its groups of 16 tiles; floats between channels of V */
} lpci_wino_geom;

/* Gather/scatter tables for the tiles of one chunk: lane offsets and masks
 * of the 16 input taps of every tile, grouped by 16 tiles, relative to the
 * chunk's first sample (chunks differ only in their base); and the offsets
 * of the 4 outputs of every tile within its row of tiles (r * w + x: the
 * outputs and output gradients pass through winograd.c's band buffer of
 * two image rows per channel), with a bit per output inside the image. */
typedef struct {
    int32_t *in_idx, *out_off;     /* [group][tap][lane], [tile][out] */
    uint16_t *in_mask, *out_valid; /* [group][tap], [tile] */
} lpci_wino_tables;

/* V[xi][i][tau] = (B^T d B)[xi] for the lanes set in `live` of the 16 tiles
 * of group grp of one input plane, into v (xi_step floats between entries
 * xi); lanes not live are written as 0. */
typedef void lpci_wino_input_fn(const lpci_wino_tables *t, const float *plane, int64_t grp,
                                uint16_t live, float *v, int64_t xi_step);
/* The 2x2 outputs A^T m A of tile tau for `lanes` (<= 16) output channels,
 * from m (m[xi * xi_step + lane]), stored into their planes from y on
 * (plane l at y + l * hw). */
typedef void lpci_wino_output_fn(const lpci_wino_geom *g, const lpci_wino_tables *t,
                                 const float *m, int64_t xi_step, int64_t tau, int lanes,
                                 float *y);
/* Z[xi][tau][o] = (A e A^T)[xi] of the 2x2 output gradient e of tile tau
 * for `lanes` (<= 16) channels, read from their planes from dy on; outputs
 * outside the image read as 0. Only the `lanes` first values are written. */
typedef void lpci_wino_grad_fn(const lpci_wino_geom *g, const lpci_wino_tables *t,
                               const float *dy, int64_t tau, int lanes, float *z,
                               int64_t xi_step);

typedef struct {
    lpc_cpu_path path;
    lpci_sgemm_fn *sgemm; /* NULL: BLIS */
    lpci_wino_input_fn *wino_input;
    lpci_wino_output_fn *wino_output;
    lpci_wino_grad_fn *wino_grad;
} lpci_kernels;

/* The kernels of the path in use (lib/ops/cpu.c). */
const lpci_kernels *lpci_kernels_now(void);

/* The processor as cpuid reports it on x86-64 (lib/ops/cpu.c): vendor
 * ("AuthenticAMD", "GenuineIntel"), display family and model (extended
 * fields folded in) and the microarchitecture from a small table ("AMD Zen
 * 4"; "unknown" when not in it). Elsewhere: vendor "", family and model 0,
 * name "unknown". */
typedef struct {
    char vendor[13];
    int family, model;
    const char *name; /* static storage */
} lpci_cpu_model;
void lpci_cpu_identify(lpci_cpu_model *out);
/* The table's name for a vendor string, display family and model. */
const char *lpci_cpu_microarch(const char *vendor, int family, int model);

/* What each path provides (declared for cpu.c, tests and benchmarks). */
#define LPCI_KERNELS_DECL(isa)                                                                     \
    lpci_wino_input_fn lpci_wino_input_##isa;                                                      \
    lpci_wino_output_fn lpci_wino_output_##isa;                                                    \
    lpci_wino_grad_fn lpci_wino_grad_##isa;
LPCI_KERNELS_DECL(generic)
#if defined(__x86_64__)
LPCI_KERNELS_DECL(avx2)
LPCI_KERNELS_DECL(avx512)
lpci_sgemm_fn lpci_sgemm_avx2, lpci_sgemm_avx512;
#elif defined(__aarch64__)
LPCI_KERNELS_DECL(neon)
lpci_sgemm_fn lpci_sgemm_neon;
#endif
#undef LPCI_KERNELS_DECL

/* This build's own sgemm kernels with their paths (lib/ops/cpu.c), for
 * tests and benchmarks; lpci_sgemm_kernel_count of them. */
typedef struct {
    lpc_cpu_path path;
    lpci_sgemm_fn *fn;
} lpci_sgemm_kernel;
extern const lpci_sgemm_kernel lpci_sgemm_kernels[];
extern const int lpci_sgemm_kernel_count;

/* ---- GEMM helpers shared by the kernels (lib/ops/gemm.c) ---- */
/* An operand: element (i, j) of op(X) is p[i*ld + j], or p[j*ld + i] when
 * trans. */
typedef struct {
    const float *p;
    int64_t ld;
    int trans;
} lpci_gemm_matrix;

/* Cache blocking for an mr x nr micro-kernel: K in blocks of at most *kc,
 * rows of A in blocks of *mb (a multiple of mr), columns of B in blocks of
 * *nb (a multiple of nr), from the cache sizes the CPU reports. */
void lpci_gemm_blocking(int mr, int nr, int *kc, int *mb, int *nb);
/* This thread's 64-byte aligned packing workspace of at least `floats`
 * floats (kept for the thread's life), or NULL when none can be had. */
float *lpci_gemm_workspace(size_t floats);
/* Thread t's share of C for nt threads: column blocks (multiples of nr)
 * when C is wide enough, row blocks (multiples of mr) otherwise; 0 when the
 * share is empty. */
int lpci_gemm_split(int64_t m, int64_t n, int mr, int nr, int nt, int t, int64_t *i0,
                    int64_t *mi, int64_t *j0, int64_t *nj);
#endif
