/* Modules: linear init and naming, containers, parameter listing, misuse. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "lpct.h"

START_TEST(linear_init_matches_pytorch_bounds)
{
    lpc_rng *rng = lpc_rng_new(1);
    lpc_module *m = lpc_linear_new(100, 30, 1, rng);
    ck_assert_int_eq(lpc_module_num_params(m), 2);
    ck_assert_str_eq(lpc_module_param_name(m, 0), "weight");
    ck_assert_str_eq(lpc_module_param_name(m, 1), "bias");
    lpc_tensor *w = lpc_module_param(m, 0);
    ck_assert_int_eq(lpc_tensor_dim(w, 0), 30);
    ck_assert_int_eq(lpc_tensor_dim(w, 1), 100);
    ck_assert(lpc_tensor_requires_grad(w));
    /* kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    double bound = 0.1, mx = 0, sum2 = 0;
    const float *d = lpc_tensor_data(w);
    for (int i = 0; i < 3000; i++) {
        mx = fmax(mx, fabs(d[i]));
        sum2 += d[i] * d[i];
    }
    ck_assert(mx <= bound && mx > 0.95 * bound);
    ck_assert(fabs(sum2 / 3000 - bound * bound / 3) < 0.1 * bound * bound / 3);
    ck_assert_int_eq(lpc_module_num_weights(m), 3030);
    lpc_module_free(m);
    m = lpc_linear_new(4, 3, 0, rng);
    ck_assert_int_eq(lpc_module_num_params(m), 1);
    lpc_module_free(m);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(sequential_names_and_forward)
{
    lpc_rng *rng = lpc_rng_new(2);
    lpc_module *inner = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(inner, "fc", lpc_linear_new(3, 4, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(inner, NULL, lpc_silu_new()), LPC_OK);
    lpc_module *net = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(net, "body", inner), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(net, "head", lpc_linear_new(4, 2, 0, rng)), LPC_OK);
    ck_assert_int_eq(lpc_module_num_params(net), 3);
    ck_assert_str_eq(lpc_module_param_name(net, 0), "body.fc.weight");
    ck_assert_str_eq(lpc_module_param_name(net, 1), "body.fc.bias");
    ck_assert_str_eq(lpc_module_param_name(net, 2), "head.weight");
    ck_assert_ptr_eq(lpc_module_find_param(net, "head.weight"), lpc_module_param(net, 2));
    ck_assert_ptr_null(lpc_module_find_param(net, "head.bias"));
    ck_assert_ptr_eq(lpc_module_find(net, "body"), inner);
    ck_assert_ptr_nonnull(lpc_module_find(net, "body.fc"));
    ck_assert_ptr_null(lpc_module_find(net, "body.nope"));
    /* Forward equals the composition of the ops. */
    lpc_ctx *ctx = lpc_ctx_new();
    float xv[6] = {1, -2, 0.5f, 0, 3, -1};
    lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){2, 3}, xv, 6);
    lpc_tensor *y = lpc_module_forward(net, ctx, x);
    lpc_tensor *ref = lpc_linear(ctx, lpc_silu(ctx, lpc_linear(ctx, x, lpc_module_param(net, 0),
                                                               lpc_module_param(net, 1))),
                                 lpc_module_param(net, 2), NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(lpc_tensor_data(y)[i], lpc_tensor_data(ref)[i]);
    /* Gradients reach every parameter; zero_grad clears them. */
    ck_assert_int_eq(lpc_backward(ctx, lpc_sum(ctx, y)), LPC_OK);
    ck_assert_ptr_nonnull(lpc_tensor_grad(lpc_module_param(net, 0)));
    ck_assert_int_eq(lpc_module_zero_grad(net), LPC_OK);
    ck_assert_float_eq(lpc_tensor_grad(lpc_module_param(net, 2))[0], 0.0f);
    /* Train/eval propagates. */
    lpc_module_set_train(net, 0);
    ck_assert_int_eq(lpc_module_is_train(inner), 0);
    /* Wrong input width: sticky shape error naming linear. */
    lpc_ctx_reset(ctx);
    lpc_module_forward(net, ctx, lpc_tensor_temp(ctx, 2, (int64_t[]){2, 5}));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "linear"));
    lpc_ctx_free(ctx);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(flatten_module)
{
    lpc_module *f = lpc_flatten_new();
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *y = lpc_module_forward(f, ctx, lpc_tensor_temp(ctx, 4, (int64_t[]){2, 1, 3, 4}));
    ck_assert_int_eq(lpc_tensor_ndim(y), 2);
    ck_assert_int_eq(lpc_tensor_dim(y, 1), 12);
    ck_assert_int_eq(lpc_module_num_params(f), 0);
    lpc_ctx_free(ctx);
    lpc_module_free(f);
}
END_TEST

START_TEST(module_misuse)
{
    lpc_rng *rng = lpc_rng_new(3);
    ck_assert_ptr_null(lpc_linear_new(0, 3, 1, rng));
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_ptr_null(lpc_linear_new(3, 3, 1, NULL));
    ck_assert_int_eq(lpc_module_num_params(NULL), -1);
    ck_assert_ptr_null(lpc_module_param(NULL, 0));
    lpc_module *m = lpc_linear_new(2, 2, 1, rng);
    ck_assert_ptr_null(lpc_module_param(m, 2));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "index 2"));
    ck_assert_ptr_null(lpc_module_param_name(m, -1));
    ck_assert_int_eq(lpc_module_set_train(NULL, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_module_zero_grad(NULL), LPC_E_ARG);
    /* Adding to something that is not a sequential frees the child. */
    ck_assert_int_eq(lpc_sequential_add(m, "x", lpc_silu_new()), LPC_E_ARG);
    ck_assert_int_eq(lpc_sequential_add(NULL, "x", lpc_silu_new()), LPC_E_ARG);
    lpc_module *seq = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(seq, "a.b", lpc_silu_new()), LPC_E_ARG);
    ck_assert_int_eq(lpc_sequential_add(seq, "act", lpc_silu_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(seq, "act", lpc_relu_new()), LPC_E_ARG);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "already exists"));
    ck_assert_int_eq(lpc_sequential_add(seq, "x", NULL), LPC_E_ARG);
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_ptr_null(lpc_tensor_data(lpc_module_forward(NULL, ctx, lpc_tensor_temp(ctx, 1, (int64_t[]){1}))));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    lpc_ctx_free(ctx);
    lpc_module_free(seq);
    lpc_module_free(m);
    lpc_module_free(NULL);
    lpc_rng_free(rng);
}
END_TEST

/* A layer too large for a tensor says why (it said "no tensor for parameter"). */
START_TEST(huge_layer_message)
{
    lpc_rng *rng = lpc_rng_new(1);
    lpc_clear_error();
    ck_assert_ptr_null(lpc_linear_new((int64_t)1 << 30, (int64_t)1 << 30, 1, rng));
    ck_assert_msg(strstr(lpc_last_error(), "parameter 'weight'") &&
                      strstr(lpc_last_error(), "more than 2^40 elements"),
                  "%s", lpc_last_error());
    lpc_rng_free(rng);
}
END_TEST

/* Three training steps of a small ResNet (basic or bottleneck blocks) with
 * an LPC-style head (linear + cross-entropy + L2 on the features, which
 * thus have two consumers). Returns every parameter gradient and the
 * input's, concatenated (malloc'ed), and the arena size. */
static float *resnet_grads(lpc_resnet_block block, int plan, int64_t *count, size_t *arena)
{
    lpci_grad_plan_set(plan);
    lpc_rng *rng = lpc_rng_new(5);
    lpc_module *net = lpc_resnet_new(block, 2, 8, 2, (int[]){8, 16}, (int[]){2, 1}, rng);
    int64_t d = lpc_resnet_feature_dim(net);
    lpc_module *head = lpc_linear_new(d, 4, 1, rng);
    lpc_tensor *x = lpct_rand(4, (int64_t[]){8, 2, 16, 16}, -1, 1, 6);
    lpc_tensor_set_requires_grad(x, 1);
    const int32_t labels[8] = {0, 3, 1, 2, 2, 0, 1, 3};
    lpc_ctx *ctx = lpc_ctx_new();
    unsigned long long allocs = 0;
    for (int step = 0; step < 3; step++) {
        if (step == 2)
            allocs = lpc_alloc_count();
        lpc_ctx_reset(ctx);
        lpc_tensor *z = lpc_module_forward(net, ctx, x);
        lpc_tensor *ce = lpc_cross_entropy(ctx, lpc_module_forward(head, ctx, z), labels);
        lpc_tensor *loss = lpc_add(ctx, ce, lpc_l2_latent(ctx, z, 0.5f));
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    }
    ck_assert_uint_eq(lpc_alloc_count(), allocs); /* no malloc after the first step */
    *arena = lpc_ctx_arena_bytes(ctx);
    lpc_module *mods[2] = {net, head};
    *count = lpc_tensor_numel(x);
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < lpc_module_num_params(mods[m]); i++)
            *count += lpc_tensor_numel(lpc_module_param(mods[m], i));
    float *g = malloc((size_t)*count * sizeof *g), *at = g;
    ck_assert_ptr_nonnull(g);
    memcpy(at, lpc_tensor_grad(x), (size_t)lpc_tensor_numel(x) * sizeof *g);
    at += lpc_tensor_numel(x);
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < lpc_module_num_params(mods[m]); i++) {
            lpc_tensor *p = lpc_module_param(mods[m], i);
            memcpy(at, lpc_tensor_grad(p), (size_t)lpc_tensor_numel(p) * sizeof *g);
            at += lpc_tensor_numel(p);
        }
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_module_free(head);
    lpc_module_free(net);
    lpc_rng_free(rng);
    lpci_grad_plan_set(1);
    return g;
}

/* The gradient memory plan (lib/core/memplan.c) changes where gradients
 * live, not what they are: bit-identical to one buffer per gradient, in a
 * smaller arena. */
START_TEST(grad_plan_bit_identical)
{
    for (int b = 0; b < 2; b++) {
        lpc_resnet_block block = b ? LPC_RESNET_BOTTLENECK : LPC_RESNET_BASIC;
        int64_t n_plan, n_ref;
        size_t arena_plan, arena_ref;
        float *planned = resnet_grads(block, 1, &n_plan, &arena_plan);
        float *ref = resnet_grads(block, 0, &n_ref, &arena_ref);
        ck_assert_int_eq(n_plan, n_ref);
        ck_assert_int_eq(memcmp(planned, ref, (size_t)n_ref * sizeof *ref), 0);
        ck_assert_uint_lt(arena_plan, arena_ref);
        free(planned);
        free(ref);
    }
}
END_TEST

/* Whether a and b hold the same shape and the same floats, bit for bit. */
static int same_tensor(const lpc_tensor *a, const lpc_tensor *b)
{
    if (lpc_tensor_ndim(a) != lpc_tensor_ndim(b))
        return 0;
    for (int d = 0; d < lpc_tensor_ndim(a); d++)
        if (lpc_tensor_dim(a, d) != lpc_tensor_dim(b, d))
            return 0;
    return memcmp(lpc_tensor_cdata(a), lpc_tensor_cdata(b),
                  (size_t)lpc_tensor_numel(a) * sizeof(float)) == 0;
}

START_TEST(collect_mlp_outputs)
{
    lpc_rng *rng = lpc_rng_new(3);
    lpc_module *net = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(net, "fc1", lpc_linear_new(5, 8, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(net, "act1", lpc_silu_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(net, "fc2", lpc_linear_new(8, 6, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(net, "act2", lpc_relu_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(net, "out", lpc_linear_new(6, 3, 0, rng)), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    float xv[20];
    for (int i = 0; i < 20; i++)
        xv[i] = (float)lpc_rng_normal(rng);
    lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){4, 5}, xv, 20);
    const char *names[] = {"fc1", "act2", "act1", "", "fc1"};
    lpc_tensor *outs[5];
    lpc_tensor *y = lpc_module_forward_collect(net, ctx, x, 5, names, outs);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    /* Each collected output is its module's forward of the previous one. */
    lpc_tensor *h1 = lpc_module_forward(lpc_module_find(net, "fc1"), ctx, x);
    lpc_tensor *a1 = lpc_module_forward(lpc_module_find(net, "act1"), ctx, h1);
    lpc_tensor *h2 = lpc_module_forward(lpc_module_find(net, "fc2"), ctx, a1);
    lpc_tensor *a2 = lpc_module_forward(lpc_module_find(net, "act2"), ctx, h2);
    lpc_tensor *ref = lpc_module_forward(lpc_module_find(net, "out"), ctx, a2);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert(same_tensor(outs[0], h1));
    ck_assert(same_tensor(outs[1], a2));
    ck_assert(same_tensor(outs[2], a1));
    ck_assert(same_tensor(outs[4], h1));
    ck_assert_ptr_eq(outs[3], y);
    ck_assert(same_tensor(y, ref));
    ck_assert(same_tensor(lpc_module_forward(net, ctx, x), y));
    /* n = 0 is a plain forward; outputs carry gradients like any temporary. */
    ck_assert(same_tensor(lpc_module_forward_collect(net, ctx, x, 0, NULL, NULL), y));
    ck_assert_int_eq(lpc_backward(ctx, lpc_sum(ctx, outs[1])), LPC_OK);
    ck_assert_ptr_nonnull(lpc_tensor_grad(lpc_module_param(net, 0)));
    /* An unknown path is refused with its name; every out is poisoned. */
    lpc_ctx_reset(ctx);
    x = lpc_tensor_from(ctx, 2, (int64_t[]){4, 5}, xv, 20);
    const char *bad[] = {"fc1", "fc1.nope"};
    lpc_tensor *y2 = lpc_module_forward_collect(net, ctx, x, 2, bad, outs);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "'fc1.nope'"));
    ck_assert_ptr_null(lpc_tensor_data(y2));
    ck_assert_ptr_null(lpc_tensor_data(outs[0]));
    ck_assert_ptr_null(lpc_tensor_data(outs[1]));
    lpc_ctx_free(ctx);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(collect_resnet_outputs)
{
    lpc_rng *rng = lpc_rng_new(4);
    lpc_module *net = lpc_resnet_small_new(3, rng);
    ck_assert_int_eq(lpc_module_set_train(net, 0), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_ctx_set_grad(ctx, 0);
    int64_t shape[4] = {2, 3, 8, 8};
    float xv[384];
    for (int i = 0; i < 384; i++)
        xv[i] = (float)lpc_rng_normal(rng);
    lpc_tensor *x = lpc_tensor_from(ctx, 4, shape, xv, 384);
    const char *names[] = {"conv1", "layer1", "layer2.0", "layer2", "layer3"};
    lpc_tensor *outs[5];
    lpc_tensor *y = lpc_module_forward_collect(net, ctx, x, 5, names, outs);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert(same_tensor(y, lpc_module_forward(net, ctx, x)));
    /* The stages rerun from the collected input give the collected output. */
    ck_assert(same_tensor(outs[0], lpc_module_forward(lpc_module_find(net, "conv1"), ctx, x)));
    lpc_tensor *b0 = lpc_module_forward(lpc_module_find(net, "layer2.0"), ctx, outs[1]);
    ck_assert(same_tensor(outs[2], b0));
    ck_assert(same_tensor(outs[3], lpc_module_forward(lpc_module_find(net, "layer2.1"), ctx, b0)));
    ck_assert(same_tensor(outs[3], lpc_module_forward(lpc_module_find(net, "layer2"), ctx, outs[1])));
    ck_assert(same_tensor(outs[4], lpc_module_forward(lpc_module_find(net, "layer3"), ctx, outs[3])));
    ck_assert(same_tensor(y, lpc_global_avgpool(ctx, outs[4])));
    ck_assert_int_eq(lpc_tensor_dim(outs[3], 1), 64);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    /* A block's convolutions and its shortcut (conv, batch norm) run on their own. */
    const char *inner[] = {"layer1", "layer2.0.conv1", "layer2.0.shortcut"};
    lpc_module_forward_collect(net, ctx, x, 3, inner, outs);
    ck_assert(same_tensor(outs[1], lpc_module_forward(lpc_module_find(net, "layer2.0.conv1"),
                                                      ctx, outs[0])));
    ck_assert(same_tensor(outs[2], lpc_module_forward(lpc_module_find(net, "layer2.0.shortcut"),
                                                      ctx, outs[0])));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    /* A batch norm fused into its block's activation never runs on its own. */
    const char *fused[] = {"layer1.0.bn1"};
    lpc_module_forward_collect(net, ctx, x, 1, fused, outs);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "'layer1.0.bn1' did not run"));
    lpc_ctx_free(ctx);
    lpc_module_free(net);
    lpc_rng_free(rng);
}
END_TEST

/* A custom module holding its child in user data, as a user writes one. */
static lpc_tensor *twice_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)user;
    lpc_module *fc = lpc_module_find(self, "fc");
    return lpc_module_forward(fc, ctx, lpc_module_forward(fc, ctx, x));
}

START_TEST(collect_head_and_custom_outputs)
{
    lpc_rng *rng = lpc_rng_new(5);
    lpc_module *twice = lpc_module_new(twice_forward, NULL, NULL);
    ck_assert_int_eq(lpc_module_add_child(twice, "fc", lpc_linear_new(4, 4, 1, rng)), LPC_OK);
    lpc_module *bb = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(bb, "twice", twice), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(bb, "act", lpc_silu_new()), LPC_OK);
    lpc_head *head = NULL;
    ck_assert_int_eq(lpc_head_new(bb, 4, lpc_linear_new(4, 3, 1, rng), 3, 5, rng, &head), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    float xv[8] = {1, -2, 0.5f, 3, 0, 1, -1, 2};
    lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){2, 4}, xv, 8);
    lpc_tensor *h, *z, *logits;
    ck_assert_int_eq(lpc_head_forward(head, ctx, x, &h, &z, &logits), LPC_OK);
    const char *names[] = {"backbone", "backbone.twice.fc", "classifier", "backbone.twice"};
    lpc_tensor *outs[4];
    lpc_tensor *y = lpc_module_forward_collect(lpc_head_module(head), ctx, x, 4, names, outs);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert(same_tensor(outs[0], h));
    ck_assert(same_tensor(outs[2], logits));
    ck_assert(same_tensor(y, logits));
    /* A module run twice reports its second output: fc(fc(x)). */
    ck_assert(same_tensor(outs[1], outs[3]));
    lpc_tensor *once = lpc_module_forward(lpc_module_find(lpc_head_module(head),
                                                          "backbone.twice.fc"), ctx, x);
    ck_assert(!same_tensor(outs[1], once));
    lpc_ctx_free(ctx);
    lpc_head_free(head);
    lpc_rng_free(rng);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("nn");
    tcase_add_test(tc, linear_init_matches_pytorch_bounds);
    tcase_add_test(tc, sequential_names_and_forward);
    tcase_add_test(tc, flatten_module);
    tcase_add_test(tc, module_misuse);
    tcase_add_test(tc, huge_layer_message);
    tcase_add_test(tc, grad_plan_bit_identical);
    tcase_add_test(tc, collect_mlp_outputs);
    tcase_add_test(tc, collect_resnet_outputs);
    tcase_add_test(tc, collect_head_and_custom_outputs);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
