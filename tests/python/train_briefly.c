/* Trains a resnet-small network (backbone, linear penultimate layer of 64,
 * classifier without bias: the structure of the examples' LPC recipe) for a
 * few AdamW steps on random 3 x 16 x 16 images, so that weights and batch
 * norm statistics are no longer their initial values, and saves it as
 * safetensors (or, with "checkpoint", as a liblpc checkpoint with the
 * network under "model.", as lpc-ablation saves it) for the Python tests:
 *   train_briefly OUT [native|torchvision|checkpoint] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>

#define N 32
#define C 3
#define S 16
#define CLASSES 10
#define STEPS 3

static int fail(const char *what)
{
    fprintf(stderr, "train_briefly: %s: %s\n", what, lpc_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: train_briefly OUT [native|torchvision|checkpoint]\n");
        return 2;
    }
    const char *format = argc == 3 ? argv[2] : "native";
    lpc_rng *rng = lpc_rng_new(7);
    lpc_module *net = lpc_sequential_new();
    if (!rng || !net || lpc_sequential_add(net, "backbone", lpc_resnet_small_new(C, rng)) != LPC_OK ||
        lpc_sequential_add(net, "penultimate", lpc_linear_new(128, 64, 1, rng)) != LPC_OK ||
        lpc_sequential_add(net, "classifier", lpc_linear_new(64, CLASSES, 0, rng)) != LPC_OK)
        return fail("building the network");
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    if (!opt || lpc_adamw_add_group(opt, 1e-2, 5e-4) != 0)
        return fail("optimizer");
    for (int i = 0; i < lpc_module_num_params(net); i++)
        if (lpc_adamw_add_param(opt, 0, lpc_module_param(net, i)) != LPC_OK)
            return fail("optimizer");
    static float x[N * C * S * S];
    int32_t y[N];
    for (int i = 0; i < N * C * S * S; i++)
        x[i] = (float)lpc_rng_normal(rng);
    for (int i = 0; i < N; i++)
        y[i] = i % CLASSES;
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_module_set_train(net, 1);
    for (int step = 0; step < STEPS; step++) {
        lpc_ctx_reset(ctx);
        lpc_module_zero_grad(net);
        lpc_tensor *in = lpc_tensor_from(ctx, 4, (int64_t[]){N, C, S, S}, x, N * C * S * S);
        lpc_tensor *loss = lpc_cross_entropy(ctx, lpc_module_forward(net, ctx, in), y);
        if (lpc_ctx_status(ctx) != LPC_OK || lpc_backward(ctx, loss) != LPC_OK ||
            lpc_adamw_step(opt) != LPC_OK)
            return fail("training step");
    }
    lpc_module_set_train(net, 0);
    lpc_status s;
    if (strcmp(format, "checkpoint") == 0) {
        lpc_checkpoint *ck = lpc_checkpoint_new();
        s = ck ? lpc_checkpoint_add_module(ck, "model.", net) : LPC_E_NOMEM;
        if (s == LPC_OK)
            s = lpc_checkpoint_save(ck, argv[1]);
        lpc_checkpoint_free(ck);
    } else {
        lpc_name_style names = strcmp(format, "torchvision") == 0 ? LPC_NAMES_TORCHVISION
                                                                  : LPC_NAMES_NATIVE;
        s = lpc_safetensors_save_module(argv[1], net, NULL, names, "resnet-small, 3 steps");
    }
    if (s != LPC_OK)
        return fail("saving");
    lpc_ctx_free(ctx);
    lpc_adamw_free(opt);
    lpc_module_free(net);
    lpc_rng_free(rng);
    return 0;
}
