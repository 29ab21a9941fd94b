/* liblpc — layers as opaque module handles.
 *
 * A module owns its parameters (persistent tensors, requires_grad) and
 * buffers (e.g. batch-norm running statistics) and its children. Parameters
 * are named by structure ("layer2.0.conv1.weight") so that optimizers and
 * checkpoints can address them. Builders return NULL on error with
 * lpc_last_error() set. Initialisation follows PyTorch's defaults
 * (kaiming-uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) biases)
 * drawn from the given generator. */
#ifndef LPC_MODULE_H
#define LPC_MODULE_H
#include "rng.h"
#include "tensor.h"

typedef struct lpc_module lpc_module;

typedef enum {
    LPC_RESNET_BASIC = 0,      /* BasicBlocks (ResNet-18 style) */
    LPC_RESNET_BOTTLENECK = 1, /* Bottlenecks, expansion 4 (ResNet-50 style) */
    LPC_RESNET_WIDE_BOTTLENECK = 2, /* Bottlenecks of twice the inner width, output 4 x the
                                     * stage width (torchvision's wide_resnet50_2 blocks:
                                     * 1x1 to 2w, 3x3 2w, 1x1 to 4w) */
} lpc_resnet_block;

LPC_BEGIN_DECLS
/* Forward pass: a temporary of ctx (poisoned tensor + sticky error on failure). */
LPC_API lpc_tensor *lpc_module_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x);
/* Training (1) or evaluation (0) mode, recursively (affects batch norm). */
LPC_API lpc_status lpc_module_set_train(lpc_module *m, int train);
LPC_API int lpc_module_is_train(const lpc_module *m);
/* Parameters, flattened in a stable order (depth first, own before children). */
LPC_API int lpc_module_num_params(const lpc_module *m); /* -1 for NULL */
LPC_API lpc_tensor *lpc_module_param(lpc_module *m, int i);
LPC_API const char *lpc_module_param_name(const lpc_module *m, int i);
LPC_API lpc_tensor *lpc_module_find_param(lpc_module *m, const char *name);
/* Buffers (not trained, but saved in checkpoints), same conventions. */
LPC_API int lpc_module_num_buffers(const lpc_module *m);
LPC_API lpc_tensor *lpc_module_buffer(lpc_module *m, int i);
LPC_API const char *lpc_module_buffer_name(const lpc_module *m, int i);
/* Child modules by name ("backbone", "layer1.0"), or NULL. Owned by the parent. */
LPC_API lpc_module *lpc_module_find(lpc_module *m, const char *path);
/* Total number of parameter elements. */
LPC_API int64_t lpc_module_num_weights(const lpc_module *m);
/* Zero every parameter gradient. */
LPC_API lpc_status lpc_module_zero_grad(lpc_module *m);
/* Frees the module, its children, parameters and buffers. NULL is a no-op.
 * A module that belongs to another (a container's child, or a head's
 * network, lpc_head_module) is refused: nothing is freed and lpc_last_error()
 * says who owns it; free the owner instead. */
LPC_API void lpc_module_free(lpc_module *m);

/* Layers. */
LPC_API lpc_module *lpc_linear_new(int64_t in_features, int64_t out_features, int bias,
                                   lpc_rng *rng);
LPC_API lpc_module *lpc_silu_new(void);
LPC_API lpc_module *lpc_relu_new(void);
/* Reshapes N x ... to N x (product of the rest). */
LPC_API lpc_module *lpc_flatten_new(void);
/* Container applying its children in order. */
LPC_API lpc_module *lpc_sequential_new(void);
/* Appends child under `name` (NULL: its index); a name already used by a
 * sibling, or containing '.', is LPC_E_ARG. Takes ownership of child, also
 * on failure (then child is freed), except for a child that belongs to a
 * container or a head already, or would make a cycle: LPC_E_ARG, child left
 * alone. */
LPC_API lpc_status lpc_sequential_add(lpc_module *seq, const char *name, lpc_module *child);

/* Convolutional stack. */
LPC_API lpc_module *lpc_conv2d_new(int64_t in_channels, int64_t out_channels, int kernel,
                                   int stride, int pad, int bias, lpc_rng *rng);
LPC_API lpc_module *lpc_batchnorm2d_new(int64_t channels);
LPC_API lpc_module *lpc_global_avgpool_new(void);
/* CIFAR-style ResNet backbone (doc/method.md §2): 3x3 stem (stride 1, no max-pool) ->
 * BN -> SiLU, then n_stages stages of blocks[s] blocks of width widths[s]
 * (stride 1 for the first stage, 2 after), global average pool -> N x D.
 * D = widths[last] (x4 for bottlenecks). Parameter names follow torchvision:
 * "conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.shortcut.0.weight". */
LPC_API lpc_module *lpc_resnet_new(lpc_resnet_block block, int in_channels, int stem_width,
                                   int n_stages, const int *widths, const int *blocks,
                                   lpc_rng *rng);
/* Presets: ResNet-18 (basic 2-2-2-2, 64..512), ResNet-50 (bottleneck 3-4-6-3),
 * resnet-small (stem 32, stages 32/64/128, 2 basic blocks each, D = 128). */
LPC_API lpc_module *lpc_resnet18_new(int in_channels, lpc_rng *rng);
LPC_API lpc_module *lpc_resnet50_new(int in_channels, lpc_rng *rng);
LPC_API lpc_module *lpc_resnet_small_new(int in_channels, lpc_rng *rng);
/* WideResNet-50-2 in the same CIFAR style (3x3 stem of 64, no max-pool,
 * SiLU): wide bottlenecks 3-4-6-3 of stage widths 64..512, so inner widths
 * 128..1024 and D = 2048; torchvision's wide_resnet50_2 has these blocks
 * (and parameter names) but a 7x7 stride-2 stem, a max-pool and ReLU. */
LPC_API lpc_module *lpc_wide_resnet50_2_new(int in_channels, lpc_rng *rng);
/* "basic", "bottleneck", "wide_bottleneck"; NULL for an unknown value. */
LPC_API const char *lpc_resnet_block_name(lpc_resnet_block block);
/* Output feature width of a module built by lpc_resnet_new (-1 otherwise). */
LPC_API int64_t lpc_resnet_feature_dim(const lpc_module *m);

/* Forward pass that also hands back the outputs of inner modules: outs[i]
 * receives the output of the module at names[i], a path as lpc_module_find
 * takes it ("layer2", "layer2.1", "backbone.fc"; "" is m itself), as that
 * module's forward produced it (a temporary of ctx, the same tensor the next
 * layer read). Returns what lpc_module_forward(m, ctx, x) returns, bit for
 * bit; names and outs (n entries each) are borrowed. A module run more than
 * once in the pass reports its last output. Graph building: on failure the
 * ctx records the error, the poisoned tensor comes back and every outs[i] is
 * the poisoned tensor: LPC_E_ARG for n < 0, NULL names or outs with n > 0, a
 * path naming no module (the message names it), or a module that did not run
 * its own forward (a batch norm a ResNet block fuses with its activation, a
 * child its parent's forward does not call). Modules run as usual, custom
 * ones included; a plain lpc_module_forward pays one thread-local load per
 * module for this, and forwards on other threads are not affected. */
LPC_API lpc_tensor *lpc_module_forward_collect(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x, int n,
                                               const char *const *names, lpc_tensor **outs);
LPC_END_DECLS
#endif
