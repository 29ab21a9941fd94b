/* GFLOP/s of liblpc's two sgemm paths (the AVX-512 kernel and BLIS) on the
 * shapes the dense and convolutional models run, plus a large square one
 * for the peak. Usage: lpc-bench-gemm [--threads N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/internal.h"

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

typedef void gemm_fn(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                     const float *, int64_t, float, float *, int64_t);

static void run_avx512(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc)
{
    lpci_sgemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Best GFLOP/s over repeats of about 0.3 s in all. */
static double gflops(gemm_fn *f, const shape *s, const float *a, const float *b, float *c)
{
    double flop = 2.0 * (double)s->m * (double)s->n * (double)s->k, best = 0.0, spent = 0.0;
    int64_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    while (spent < 0.3) {
        double t = now();
        f(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
        t = now() - t;
        spent += t;
        if (flop / t / 1e9 > best)
            best = flop / t / 1e9;
    }
    return best;
}

int main(int argc, char **argv)
{
    int threads = 1;
    if (argc == 3 && strcmp(argv[1], "--threads") == 0)
        threads = atoi(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: lpc-bench-gemm [--threads N]\n");
        return 2;
    }
    if (lpc_set_num_threads(threads) != LPC_OK) {
        fprintf(stderr, "lpc-bench-gemm: %s\n", lpc_last_error());
        return 2;
    }
    int avx512 = lpci_sgemm_avx512_usable();
    size_t most = 1536 * 1536; /* the largest operand of any shape */
    float *a = malloc(most * sizeof *a), *b = malloc(most * sizeof *b);
    float *c = malloc(most * sizeof *c);
    if (!a || !b || !c)
        return 1;
    for (size_t i = 0; i < most; i++)
        a[i] = b[i] = (float)(i % 17) / 17.0f - 0.5f;
    printf("threads=%d\n%-28s %10s %10s %7s\n", threads, "shape (m n k)", "blis", "avx512",
           "ratio");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        double gb = gflops(lpci_sgemm_blis, s, a, b, c);
        double ga = avx512 ? gflops(run_avx512, s, a, b, c) : 0.0;
        printf("%-28s %10.1f %10.1f %7.2f\n", s->what, gb, ga, ga / gb);
    }
    if (!avx512)
        printf("(no AVX-512F on this CPU: liblpc uses BLIS)\n");
    free(a);
    free(b);
    free(c);
    return 0;
}
