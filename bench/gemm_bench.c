/* GFLOP/s of BLIS and of each of liblpc's own sgemm kernels this CPU can
 * run (AVX2, AVX-512 on x86-64; NEON on aarch64) on the shapes the dense
 * and convolutional models run, plus a large square one for the peak, and
 * each kernel's ratio to BLIS with their geometric means. Rounds alternate
 * between the implementations and each keeps its best, so that load from
 * other processes hits all alike. First prints the CPU (vendor, family,
 * model, microarchitecture) and the kernel path in use. Usage: lpc-bench-gemm [--threads N]
 * [--rounds R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include "ops/kernels.h"

typedef struct {
    const char *what;
    int ta, tb;
    int64_t m, n, k;
} shape;

/* The conv shapes are resnet-small's per-thread im2col GEMMs (forward W col,
 * weight gradient dY col^T, column gradient W^T dY, per stage), which the
 * stride-2 and 1x1 convolutions and CPUs without AVX-512 run, and on
 * AVX-512 CPUs its Winograd GEMMs for the 3x3 convolutions (per entry of
 * the 4x4 tile: tiles x cout x cin for forward and input gradient, and
 * cout x cin x tiles for the weight gradient). */
static const shape shapes[] = {
    {"square 1536", 0, 0, 1536, 1536, 1536},
    {"mlp fwd x W^T", 0, 1, 128, 512, 784},
    {"mlp dW = dY^T x", 1, 0, 512, 784, 128},
    {"mlp dx = dY W", 0, 0, 128, 784, 512},
    {"conv1 fwd 32ch 28x28", 0, 0, 32, 784, 288},
    {"conv1 dW", 0, 1, 32, 288, 784},
    {"conv1 dcol", 1, 0, 288, 784, 32},
    {"conv2 fwd 64ch 14x14 x6", 0, 0, 64, 1176, 576},
    {"conv2 dW", 0, 1, 64, 576, 1176},
    {"conv2 dcol", 1, 0, 576, 1176, 64},
    {"conv3 fwd 128ch 7x7 x21", 0, 0, 128, 1029, 1152},
    {"conv3 dW", 0, 1, 128, 1152, 1029},
    {"conv3 dcol", 1, 0, 1152, 1029, 128},
    {"wino1 fwd 392 tiles", 1, 0, 392, 32, 32},
    {"wino1 dU", 1, 1, 32, 32, 392},
    {"wino2 fwd 294 tiles", 1, 0, 294, 64, 64},
    {"wino2 dU", 1, 1, 64, 64, 294},
    {"wino3 fwd 256 tiles", 1, 0, 256, 128, 128},
    {"wino3 dU", 1, 1, 128, 128, 256},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { N_SHAPES = sizeof shapes / sizeof *shapes, MOST_KERNELS = 4 };

/* Best GFLOP/s over repeats of about 0.1 s in all; kernel k < 0 is BLIS. */
static double gflops(int k, const shape *s, const float *a, const float *b, float *c)
{
    double flop = 2.0 * (double)s->m * (double)s->n * (double)s->k, best = 0.0, spent = 0.0;
    int64_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    while (spent < 0.1) {
        double t = now();
        if (k >= 0)
            lpci_sgemm_kernels[k].fn(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c,
                                     s->n);
        else
            lpci_sgemm_blis(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
        t = now() - t;
        spent += t;
        if (flop / t / 1e9 > best)
            best = flop / t / 1e9;
    }
    return best;
}

int main(int argc, char **argv)
{
    int threads = 1, rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: lpc-bench-gemm [--threads N] [--rounds R]\n");
            return 2;
        }
    }
    if (lpc_set_num_threads(threads) != LPC_OK || rounds < 1) {
        fprintf(stderr, "lpc-bench-gemm: %s\n",
                rounds < 1 ? "rounds must be >= 1" : lpc_last_error());
        return 2;
    }
    size_t most = 1536 * 1536; /* the largest operand of any shape */
    float *a = malloc(most * sizeof *a), *b = malloc(most * sizeof *b);
    float *c = malloc(most * sizeof *c);
    if (!a || !b || !c)
        return 1;
    for (size_t i = 0; i < most; i++)
        a[i] = b[i] = (float)(i % 17) / 17.0f - 0.5f;
    static double best[N_SHAPES][MOST_KERNELS + 1]; /* column 0: BLIS */
    for (int r = 0; r < rounds; r++)
        for (int s = 0; s < N_SHAPES; s++)
            for (int k = -1; k < lpci_sgemm_kernel_count; k++) {
                if (k >= 0 && !lpc_cpu_path_supported(lpci_sgemm_kernels[k].path))
                    continue;
                double g = gflops(k, &shapes[s], a, b, c);
                if (g > best[s][k + 1])
                    best[s][k + 1] = g;
            }
    lpci_cpu_model cpu;
    lpci_cpu_identify(&cpu);
    printf("cpu: %s (vendor %s, family %d, model %d); path in use %s\n", cpu.name,
           cpu.vendor[0] ? cpu.vendor : "n/a", cpu.family, cpu.model,
           lpc_cpu_path_name(lpc_get_cpu_path()));
    printf("threads=%d rounds=%d (GFLOP/s, best of the rounds; ratio = kernel / blis)\n%-28s %8s",
           threads, rounds, "shape (m n k)", "blis");
    for (int k = 0; k < lpci_sgemm_kernel_count; k++)
        printf(" %8s %6s", lpc_cpu_path_name(lpci_sgemm_kernels[k].path), "ratio");
    double log_sum[MOST_KERNELS] = {0};
    for (int s = 0; s < N_SHAPES; s++) {
        printf("\n%-28s %8.1f", shapes[s].what, best[s][0]);
        for (int k = 0; k < lpci_sgemm_kernel_count; k++) {
            double ratio = best[s][k + 1] / best[s][0];
            log_sum[k] += best[s][k + 1] > 0 ? log(ratio) : 0.0;
            printf(" %8.1f %6.2f", best[s][k + 1], ratio);
        }
    }
    printf("\n%-37s", "geometric mean of the ratios");
    for (int k = 0; k < lpci_sgemm_kernel_count; k++) {
        lpc_cpu_path path = lpci_sgemm_kernels[k].path;
        if (lpc_cpu_path_supported(path))
            printf(" %8s %6.2f", lpc_cpu_path_name(path), exp(log_sum[k] / N_SHAPES));
        else
            printf(" %8s %6s", lpc_cpu_path_name(path), "n/a");
    }
    printf("\n");
    free(a);
    free(b);
    free(c);
    return 0;
}
