/* The small networks of the model_file fuzz target and its seeds (see
 * targets.h): the structure lpc.Model builds (python/lpc/model.py), a
 * sequential of backbone, optional penultimate and classifier. */
#include "targets.h"
#include "lpc/lpc.h"

static int add(lpc_module *seq, const char *name, lpc_module *child)
{
    if (!child)
        return -1;
    if (lpc_sequential_add(seq, name, child) != LPC_OK) {
        lpc_module_free(child);
        return -1;
    }
    return 0;
}

static lpc_module *mlp(lpc_rng *rng)
{
    lpc_module *bb = lpc_sequential_new();
    if (!bb || add(bb, "flatten", lpc_flatten_new()) ||
        add(bb, "fc1", lpc_linear_new(4, 3, 1, rng)) || add(bb, "act1", lpc_silu_new()) ||
        add(bb, "fc2", lpc_linear_new(3, 3, 1, rng)) || add(bb, "act2", lpc_silu_new())) {
        lpc_module_free(bb);
        return NULL;
    }
    return bb;
}

lpc_module *lpcf_model_new(unsigned arch, int64_t input_shape[4], int *input_ndim)
{
    lpc_rng *rng = lpc_rng_new(arch + 1);
    lpc_module *net = rng ? lpc_sequential_new() : NULL;
    int failed = !net;
    arch &= 3;
    if (!failed && arch < 2) {
        failed = add(net, "backbone", mlp(rng));
        *input_ndim = 2;
        input_shape[0] = 2, input_shape[1] = 4;
    } else if (!failed) {
        int widths[2] = {2, 3}, blocks[2] = {1, 1}, small[2] = {1, 1};
        int bottleneck = arch == 3;
        failed = add(net, "backbone",
                     lpc_resnet_new(bottleneck ? LPC_RESNET_BOTTLENECK : LPC_RESNET_BASIC, 1, 2,
                                    2, bottleneck ? small : widths, blocks, rng));
        *input_ndim = 4;
        input_shape[0] = 2, input_shape[1] = 1, input_shape[2] = 4, input_shape[3] = 4;
    }
    /* Latent widths: MLP 3, basic 3, bottleneck 4. */
    int64_t features = arch == 3 ? 4 : 3, classes_in = features;
    if (!failed && arch == 1) { /* linear + SiLU */
        lpc_module *pen = lpc_sequential_new();
        failed = !pen || add(pen, "0", lpc_linear_new(features, 2, 1, rng)) ||
                 add(pen, "1", lpc_silu_new());
        if (failed)
            lpc_module_free(pen);
        else
            failed = add(net, "penultimate", pen);
        classes_in = 2;
    } else if (!failed && arch == 2) { /* linear without bias */
        failed = add(net, "penultimate", lpc_linear_new(features, 2, 0, rng));
        classes_in = 2;
    }
    if (!failed)
        failed = add(net, "classifier", lpc_linear_new(classes_in, 2, arch != 1, rng));
    if (!failed)
        failed = lpc_module_set_train(net, 0) != LPC_OK;
    lpc_rng_free(rng);
    if (failed) {
        lpc_module_free(net);
        return NULL;
    }
    return net;
}
