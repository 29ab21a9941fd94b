/* lpc-bench: training-step throughput (forward + backward + AdamW, batch 128,
 * LPC head 64 -> 10, loss CE + gamma * L2) on synthetic inputs.
 * Ends with "MODEL images_per_s=<number> peak_rss_mb=<number>". */
#include <lpc/lpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "../examples/common/recipes.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
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
    double t0 = 0;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup)
            t0 = now();
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
    double secs = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s images_per_s=%.1f peak_rss_mb=%.1f threads=%d steps=%d kernel_path=%s\n", name,
           steps * batch / secs, ru.ru_maxrss / 1024.0, threads, steps,
           lpc_cpu_path_name(lpc_get_cpu_path()));
    lpc_ctx_free(ctx);
    free(x);
    free(y);
    lpc_adamw_free(opt);
    lpc_head_free(model);
    lpc_rng_free(rng);
    return 0;
}
