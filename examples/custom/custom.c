/* lpc-custom: Latent Point Collapse on your own network, written the way a
 * user of liblpc would. It defines
 *   - a custom op: a leaky ReLU with its own backward (lpc_op_new);
 *   - a custom module: a residual block, y = act(bn(conv(act(bn(conv x)))) + x)
 *     (lpc_module_new, children added by name);
 * builds a small CNN from them, puts the LPC head on it (linear 128 -> 64
 * penultimate, bias-free classifier, CE + gamma * mean(z^2)) and, for
 * comparison, the same network with the NoPen head (CE only), trains both
 * on Fashion-MNIST, prints accuracy, R, Sigma_W and DeepFool robustness,
 * NC1, CDNV and R at every layer (layers.c, lpc_module_forward_collect), and
 * round-trips the LPC network through a checkpoint file.
 *
 *   lpc-custom [--data DIR] [--epochs N] [--subset N] [--deepfool N] [--threads N]
 *              [--head lpc|nopen]   (default: both, one after the other) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lpc/lpc.h>
#include "../common/closeout.h"
#include "../common/trainer.h"
#include "layers.h"

#define SLOPE 0.05f
#define D 128 /* feature dimension of the backbone */
#define LAYER_SAMPLES 10000 /* training images measured at every layer */

/* ---- the custom op: leaky ReLU ---- */
static lpc_status leaky_forward(void *user, int n, const lpc_tensor *const *in, lpc_tensor *out)
{
    (void)user, (void)n;
    const float *x = lpc_tensor_cdata(in[0]);
    float *y = lpc_tensor_data(out);
    for (int64_t i = 0; i < lpc_tensor_numel(out); i++)
        y[i] = x[i] > 0 ? x[i] : SLOPE * x[i];
    return LPC_OK;
}

/* Adds dL/dx = dL/dy * (1 or SLOPE) into the input's gradient. */
static lpc_status leaky_backward(void *user, int n, const lpc_tensor *const *in,
                                 const lpc_tensor *out, const float *gy, float *const *gx)
{
    (void)user, (void)n;
    const float *x = lpc_tensor_cdata(in[0]);
    for (int64_t i = 0; i < lpc_tensor_numel(out); i++)
        gx[0][i] += gy[i] * (x[i] > 0 ? 1.0f : SLOPE);
    return LPC_OK;
}

static lpc_op *leaky; /* made once in main, freed after every ctx is gone */
static lpc_tensor *act(lpc_ctx *ctx, lpc_tensor *x)
{
    return lpc_op_apply(ctx, leaky, 1, &x, 0, NULL);
}

/* ---- the custom module: a residual block of two 3x3 convolutions ---- */
typedef struct {
    lpc_module *conv1, *bn1, *conv2, *bn2; /* owned by the module, kept for forward */
} resblock;

static lpc_tensor *resblock_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self;
    resblock *b = user;
    lpc_tensor *h = act(ctx, lpc_module_forward(b->bn1, ctx, lpc_module_forward(b->conv1, ctx, x)));
    h = lpc_module_forward(b->bn2, ctx, lpc_module_forward(b->conv2, ctx, h));
    return act(ctx, lpc_add(ctx, h, x)); /* two branches meet here */
}

static lpc_module *resblock_new(int64_t ch, lpc_rng *rng)
{
    resblock *b = calloc(1, sizeof *b);
    lpc_module *m = b ? lpc_module_new(resblock_forward, b, free) : NULL;
    if (!m)
        return NULL;
    b->conv1 = lpc_conv2d_new(ch, ch, 3, 1, 1, 0, rng);
    b->bn1 = lpc_batchnorm2d_new(ch);
    b->conv2 = lpc_conv2d_new(ch, ch, 3, 1, 1, 0, rng);
    b->bn2 = lpc_batchnorm2d_new(ch);
    if (lpc_module_add_child(m, "conv1", b->conv1) != LPC_OK ||
        lpc_module_add_child(m, "bn1", b->bn1) != LPC_OK ||
        lpc_module_add_child(m, "conv2", b->conv2) != LPC_OK ||
        lpc_module_add_child(m, "bn2", b->bn2) != LPC_OK) {
        lpc_module_free(m);
        return NULL;
    }
    return m;
}

/* An activation layer: a parameter-free custom module applying the op. */
static lpc_tensor *act_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self, (void)user;
    return act(ctx, x);
}

/* conv (stride) -> batch norm -> leaky ReLU, appended to seq as name.0/.1/.2 */
static int add_conv_bn_act(lpc_module *seq, const char *name, int64_t cin, int64_t cout,
                           int stride, lpc_rng *rng)
{
    lpc_module *s = lpc_sequential_new();
    return s && lpc_sequential_add(seq, name, s) == LPC_OK &&
           lpc_sequential_add(s, NULL, lpc_conv2d_new(cin, cout, 3, stride, 1, 0, rng)) == LPC_OK &&
           lpc_sequential_add(s, NULL, lpc_batchnorm2d_new(cout)) == LPC_OK &&
           lpc_sequential_add(s, NULL, lpc_module_new(act_forward, NULL, NULL)) == LPC_OK;
}

/* 1x28x28 -> 16@28 -> 32@14 -> 64@7 -> res -> flatten -> linear
 * 3136 -> 128 -> act: h has D = 128. The fully connected layer keeps where
 * on the image a feature is (a global average pool at 7x7 would lose it). */
static lpc_module *backbone_new(lpc_rng *rng)
{
    lpc_module *seq = lpc_sequential_new();
    if (!seq || !add_conv_bn_act(seq, "stem", 1, 16, 1, rng) ||
        !add_conv_bn_act(seq, "down1", 16, 32, 2, rng) ||
        !add_conv_bn_act(seq, "down2", 32, 64, 2, rng) ||
        lpc_sequential_add(seq, "res", resblock_new(64, rng)) != LPC_OK ||
        lpc_sequential_add(seq, "flatten", lpc_flatten_new()) != LPC_OK ||
        lpc_sequential_add(seq, "fc", lpc_linear_new(64 * 7 * 7, D, 1, rng)) != LPC_OK ||
        lpc_sequential_add(seq, "act", lpc_module_new(act_forward, NULL, NULL)) != LPC_OK) {
        lpc_module_free(seq);
        return NULL;
    }
    return seq;
}

/* The LPC head (penultimate D -> 64, gamma * mean(z^2) on z) or NoPen (z = h, CE only). */
static lpc_head *network_new(int lpc, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *bb = rng ? backbone_new(rng) : NULL;
    lpc_head *h = NULL;
    if (bb && lpc_head_new(bb, D, lpc ? lpc_linear_new(D, 64, 1, rng) : NULL, lpc ? 64 : D, 10, rng,
                           &h) == LPC_OK &&
        lpc_head_set(h, LPC_HEAD_L2, lpc ? LPC_L2_ON_Z : LPC_L2_OFF) != LPC_OK) {
        lpc_head_free(h);
        h = NULL;
    }
    lpc_rng_free(rng);
    return h;
}

/* Where collapse is measured: the backbone's stages, h, z (LPC only), logits. */
static const char *const layer_names[] = {"backbone.stem", "backbone.down1", "backbone.down2",
                                          "backbone.res", "backbone.act", "penultimate",
                                          "classifier"};
#define N_LAYERS (int)(sizeof layer_names / sizeof *layer_names)

typedef struct {
    double acc, r, sigma_w, robustness;
    layer_collapse layers[N_LAYERS];
} report;

/* Trains one network and measures it; 0 on success. */
static int run(lpc_head *net, const lpc_dataset *train, const lpc_dataset *test, long epochs,
               long n_deepfool, report *out)
{
    ex_trainer *t = NULL;
    int64_t n = lpc_dataset_size(train), p = lpc_head_latent_dim(net);
    float *z = malloc((size_t)(n * p) * sizeof *z);
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    lpc_batcher *b = NULL;
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x;
    const int32_t *y;
    int rc = !z || !pred || !ctx ||
             ex_trainer_new(net, train, LPC_PROTOCOL_RAMP, epochs, 128, 1e-3, 5e-4, 0, &t);
    for (long e = 0; !rc && e < epochs; e++) {
        rc = ex_trainer_epoch(t) != LPC_OK;
        if (!rc)
            printf("  epoch %ld: loss %.4f, training accuracy %.4f\n", e + 1,
                   ex_trainer_get(t, EX_TRAIN_LOSS), ex_trainer_get(t, EX_TRAIN_ACCURACY));
        fflush(stdout); /* progress shows in a log file too */
    }
    const double *mean = ex_trainer_mean(t), *std = ex_trainer_std(t);
    rc = rc || ex_evaluate(net, train, mean, std, 500, z, NULL, pred, NULL) != LPC_OK ||
         ex_evaluate(net, test, mean, std, 500, NULL, NULL, NULL, &out->acc) != LPC_OK ||
         lpc_separation_ratio(z, n, (int)p, lpc_dataset_labels(train), 10, &out->r) != LPC_OK ||
         lpc_sigma_w(z, n, (int)p, pred, 10, &out->sigma_w) != LPC_OK;
    /* DeepFool on the first test images, normalised as in training. */
    rc = rc || !(b = lpc_batcher_new(test, n_deepfool, 0, 0, mean, std)) ||
         lpc_batcher_next(b, ctx, &x, &y) != n_deepfool ||
         lpc_module_set_train(lpc_head_module(net), 0) != LPC_OK ||
         lpc_deepfool(lpc_head_module(net), lpc_tensor_cdata(x), n_deepfool, 1, 28, 28,
                      LPC_DEEPFOOL_CANDIDATES, LPC_DEEPFOOL_OVERSHOOT, LPC_DEEPFOOL_MAX_ITER, NULL,
                      &out->robustness) != LPC_OK;
    rc = rc || layers_measure(lpc_head_module(net), train, mean, std, LAYER_SAMPLES, 10, N_LAYERS,
                              layer_names, out->layers);
    if (rc)
        fprintf(stderr, "error: %s\n", lpc_last_error());
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    ex_trainer_free(t);
    free(z);
    free(pred);
    return rc;
}

/* Saves net, loads it into a freshly built network and compares the logits
 * of a few test images bit for bit; 0 when they match. */
static int round_trip(lpc_head *net, const lpc_dataset *test)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/lpc-custom-%ld.lpcc", (long)getpid());
    lpc_head *copy = network_new(1, 99); /* other initial weights */
    lpc_checkpoint *ck = lpc_checkpoint_new(), *back = NULL;
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(test, 16, 0, 0, NULL, NULL);
    lpc_tensor *x, *l1 = NULL, *l2 = NULL;
    const int32_t *y;
    int rc = !copy || !ck || !ctx || !b ||
             lpc_checkpoint_add_module(ck, "net.", lpc_head_module(net)) != LPC_OK ||
             lpc_checkpoint_save(ck, path) != LPC_OK ||
             lpc_checkpoint_load(path, &back) != LPC_OK ||
             lpc_checkpoint_restore_module(back, "net.", lpc_head_module(copy)) != LPC_OK ||
             lpc_module_set_train(lpc_head_module(copy), 0) != LPC_OK ||
             lpc_batcher_next(b, ctx, &x, &y) != 16 || lpc_ctx_set_grad(ctx, 0) != LPC_OK ||
             lpc_head_forward(net, ctx, x, NULL, NULL, &l1) != LPC_OK ||
             lpc_head_forward(copy, ctx, x, NULL, NULL, &l2) != LPC_OK ||
             memcmp(lpc_tensor_cdata(l1), lpc_tensor_cdata(l2), 160 * sizeof(float)) != 0;
    printf("checkpoint round trip: %s (%s)\n", rc ? "FAILED" : "identical logits", path);
    remove(path);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_checkpoint_free(back);
    lpc_checkpoint_free(ck);
    lpc_head_free(copy);
    return rc;
}

int main(int argc, char **argv)
{
    ex_closeout_init("lpc-custom");
    const char *dir = "/usr/share/datasets/fashion-mnist";
    long epochs = 3, subset = 0, n_deepfool = 1000, threads = 2;
    int first = 0, last = 1; /* heads to train: 0 LPC, 1 NoPen */
    for (int i = 1; i < argc; i += 2) {
        long *v = !strcmp(argv[i], "--epochs") ? &epochs : !strcmp(argv[i], "--subset") ? &subset
                  : !strcmp(argv[i], "--deepfool") ? &n_deepfool
                  : !strcmp(argv[i], "--threads") ? &threads : NULL;
        char *end = NULL;
        if (i + 1 < argc && !strcmp(argv[i], "--data"))
            dir = argv[i + 1];
        else if (i + 1 < argc && !strcmp(argv[i], "--head") &&
                 (!strcmp(argv[i + 1], "lpc") || !strcmp(argv[i + 1], "nopen")))
            first = last = !strcmp(argv[i + 1], "nopen");
        else if (i + 1 >= argc || !v || (*v = strtol(argv[i + 1], &end, 10)) < (v != &subset) ||
                 *end) {
            fprintf(stderr, "usage: lpc-custom [--data DIR] [--epochs N] [--subset N] "
                            "[--deepfool N] [--threads N] [--head lpc|nopen]\n");
            return 2;
        }
    }
    if (!dir[0] || strlen(dir) > 4000) {
        fprintf(stderr, "error: --data needs a folder path (got %s)\n",
                dir[0] ? "a path of over 4000 characters" : "an empty one");
        return 2;
    }
    lpc_set_num_threads((int)threads);
    char img[2][4096], lab[2][4096];
    for (int s = 0; s < 2; s++) {
        snprintf(img[s], sizeof img[s], "%s/%s-images-idx3-ubyte.gz", dir, s ? "t10k" : "train");
        snprintf(lab[s], sizeof lab[s], "%s/%s-labels-idx1-ubyte.gz", dir, s ? "t10k" : "train");
    }
    lpc_dataset *train = NULL, *test = NULL;
    if (lpc_dataset_load_idx(img[0], lab[0], &train) != LPC_OK ||
        lpc_dataset_load_idx(img[1], lab[1], &test) != LPC_OK) {
        fprintf(stderr, "error: loading Fashion-MNIST from %s: %s\n", dir, lpc_last_error());
        lpc_dataset_free(train);
        return 1;
    }
    if (subset && subset < lpc_dataset_size(train))
        lpc_dataset_truncate(train, subset);
    if (n_deepfool > lpc_dataset_size(test))
        n_deepfool = lpc_dataset_size(test);
    leaky = lpc_op_new("leaky_relu", leaky_forward, leaky_backward, NULL);
    report r[2];
    lpc_head *nets[2] = {network_new(1, 0), network_new(0, 0)};
    const char *names[2] = {"LPC", "NoPen"};
    int rc = !leaky || !nets[0] || !nets[1];
    for (int i = first; i <= last && !rc; i++) {
        printf("%s head, %lld weights:\n", names[i],
               (long long)lpc_module_num_weights(lpc_head_module(nets[i])));
        rc = run(nets[i], train, test, epochs, n_deepfool, &r[i]);
    }
    for (int i = first; i <= last && !rc; i++)
        printf("%-5s test accuracy %.4f  R %.3f  Sigma_W(train) %.3e  DeepFool robustness %.4f\n",
               names[i], r[i].acc, r[i].r, r[i].sigma_w, r[i].robustness);
    if (!rc && first < last)
        printf("Sigma_W ratio NoPen / LPC: %.3g\n", r[1].sigma_w / r[0].sigma_w);
    if (!rc) {
        int64_t n = lpc_dataset_size(train) < LAYER_SAMPLES ? lpc_dataset_size(train)
                                                            : LAYER_SAMPLES;
        printf("Collapse by layer (first %lld training images; conv maps averaged per "
               "channel):\n", (long long)n);
        layers_print(N_LAYERS, layer_names, last - first + 1, names + first,
                     (const layer_collapse *const[]){r[first].layers, r[last].layers});
    }
    rc = rc || (first == 0 && round_trip(nets[0], test));
    lpc_head_free(nets[0]);
    lpc_head_free(nets[1]);
    lpc_op_free(leaky);
    lpc_dataset_free(train);
    lpc_dataset_free(test);
    return rc;
}
