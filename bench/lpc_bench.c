/* lpc-bench: training-step throughput (forward + backward + AdamW, batch 128,
 * LPC head 64 -> 10, loss CE + gamma * L2) on synthetic inputs.
 * Ends with "MODEL images_per_s=<number> peak_rss_mb=<number> ..." and the
 * step's rate in model GFLOP/s against the measured FMA peak of the kernel
 * path at the same thread count (peak_share: wall-clock rate against the
 * threads' peak; cpu_peak_share: model FLOPs per CPU-second of the process
 * against one thread's peak, which a machine loaded by other processes
 * changes far less). Model FLOPs are counted from the layer shapes, as a
 * direct convolution and a plain matrix product would execute them
 * (Winograd executes fewer multiply-adds than this count). */
#include <lpc/lpc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "../examples/common/recipes.h"
#include "fma_peak.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* Output height and width of the convolution whose weight is called
 * `name`, in a CIFAR-style ResNet on hw x hw inputs: the stem keeps hw,
 * stage s ("layer<s>.") runs at hw / 2^(s-1); the first block of a later
 * stage halves the size in its first 3x3 convolution (basic blocks: conv1)
 * or its 3x3 conv2 (bottlenecks, whose 1x1 conv1 still sees the stage's
 * input). */
static int64_t conv_out_hw(const char *name, int64_t k, int64_t hw)
{
    const char *at = strstr(name, "layer");
    int stage = 1, block = -1;
    if (!at || sscanf(at, "layer%d.%d.", &stage, &block) != 2)
        return hw;
    int halvings = stage - 1;
    if (block == 0 && stage > 1 && k == 1 && strstr(at, ".conv1."))
        halvings--;
    return hw >> halvings;
}

/* Forward + backward FLOPs of one step on `batch` samples: for every
 * convolution 2 N Cout Hout Wout Cin k k forward, for every matrix product
 * 2 N out in, x3 for the forward pass and both gradients (input and
 * weight). Batch norm, activations, the loss and AdamW are left out. */
static double model_flops(lpc_module *net, int64_t batch, int64_t hw)
{
    double f = 0;
    for (int i = 0; i < lpc_module_num_params(net); i++) {
        lpc_tensor *w = lpc_module_param(net, i);
        const char *name = lpc_module_param_name(net, i);
        if (lpc_tensor_ndim(w) == 4) {
            int64_t k = lpc_tensor_dim(w, 2), out = conv_out_hw(name, k, hw);
            f += 2.0 * (double)batch * (double)(out * out) * (double)lpc_tensor_numel(w);
        } else if (lpc_tensor_ndim(w) == 2) {
            f += 2.0 * (double)batch * (double)lpc_tensor_numel(w);
        }
    }
    return 3 * f;
}

static void usage(void)
{
    fprintf(stderr, "usage: lpc-bench mlp|resnet-small|resnet18|resnet50 [--threads N] [--steps N]\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const char *name = argv[1];
    int threads = 2, steps = 0, batch = 128, warmup = 2;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
            steps = atoi(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    ex_backbone backbone;
    int c = 1, hw = 28;
    if (strcmp(name, "mlp") == 0)
        backbone = EX_BACKBONE_MLP;
    else if (strcmp(name, "resnet-small") == 0)
        backbone = EX_BACKBONE_RESNET_SMALL;
    else if (strcmp(name, "resnet18") == 0)
        backbone = EX_BACKBONE_RESNET18, c = 3, hw = 32;
    else if (strcmp(name, "resnet50") == 0)
        backbone = EX_BACKBONE_RESNET50, c = 3, hw = 32;
    else {
        usage();
        return 2;
    }
    if (threads < 1 || lpc_set_num_threads(threads) != LPC_OK) {
        usage();
        return 2;
    }
    if (steps <= 0)
        steps = backbone == EX_BACKBONE_MLP ? 200 : backbone == EX_BACKBONE_RESNET_SMALL ? 20 : 5;

    lpc_rng *rng = lpc_rng_new(1);
    lpc_head *model = NULL;
    const int widths[3] = {64, 128, 16};
    if (ex_model_new(ex_model_index("LPC"), backbone, c, hw, hw, 10, widths, rng, &model) !=
        LPC_OK) {
        fprintf(stderr, "error: %s\n", lpc_last_error());
        return 1;
    }
    lpc_adamw *opt = lpc_head_adamw_new(model, 1e-3, 5e-4);
    lpc_module *net = lpc_head_module(model);
    lpc_module_set_train(net, 1);
    int64_t n_in = (int64_t)batch * c * hw * hw;
    float *x = malloc((size_t)n_in * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    for (int64_t i = 0; i < n_in; i++)
        x[i] = (float)lpc_rng_normal(rng);
    for (int i = 0; i < batch; i++)
        y[i] = (int32_t)lpc_rng_below(rng, 10);
    lpc_ctx *ctx = lpc_ctx_new();
    if (!ctx) { /* e.g. LPC_CPU names a path this CPU cannot run */
        fprintf(stderr, "error: %s\n", lpc_last_error());
        return 1;
    }
    double t0 = 0, c0 = 0;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) {
            t0 = now();
            c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        }
        lpc_ctx_reset(ctx);
        lpc_tensor *xt = lpc_tensor_from(ctx, 4, (int64_t[]){batch, c, hw, hw}, x, n_in);
        lpc_tensor *loss = lpc_head_loss(model, ctx, xt, y, 1.0, 0, 0, NULL);
        if (lpc_ctx_status(ctx) != LPC_OK || lpc_backward(ctx, loss) != LPC_OK ||
            lpc_adamw_step(opt) != LPC_OK) {
            fprintf(stderr, "error: %s\n", lpc_last_error());
            return 1;
        }
        lpc_module_zero_grad(net);
    }
    double secs = now() - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double flops = model_flops(net, batch, hw) * steps;
    double peak = fma_peak_gflops(lpc_get_cpu_path(), threads, 0.2);
    char share[32] = "n/a", cpu_share[32] = "n/a";
    if (peak > 0) {
        snprintf(share, sizeof share, "%.1f%%", 100 * flops / secs / 1e9 / peak);
        snprintf(cpu_share, sizeof cpu_share, "%.1f%%", 100 * flops / cpu / 1e9 / (peak / threads));
    }
    printf("%s images_per_s=%.1f peak_rss_mb=%.1f threads=%d steps=%d kernel_path=%s "
           "model_gflop_per_step=%.2f model_gflops=%.1f fma_peak_gflops=%.1f peak_share=%s "
           "cpu_peak_share=%s\n",
           name, steps * batch / secs, ru.ru_maxrss / 1024.0, threads, steps,
           lpc_cpu_path_name(lpc_get_cpu_path()), flops / steps / 1e9, flops / secs / 1e9, peak,
           share, cpu_share);
    lpc_ctx_free(ctx);
    free(x);
    free(y);
    lpc_adamw_free(opt);
    lpc_head_free(model);
    lpc_rng_free(rng);
    return 0;
}
