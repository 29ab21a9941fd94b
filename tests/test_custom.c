/* Extending liblpc from user code: custom ops (gradient checks, sticky
 * errors, NaN/Inf checks), the public gradient checker, custom modules
 * (residual forward, names, train hook, optimizer, checkpoint round trip,
 * DeepFool) and the ownership rules of modules (cycles, owned children and
 * tensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

/* ---- a leaky ReLU op (slope in user data) and a two-input op ---- */

static lpc_status leaky_fwd(void *user, int n, const lpc_tensor *const *in, lpc_tensor *out)
{
    (void)n;
    float slope = *(const float *)user;
    const float *x = lpc_tensor_cdata(in[0]);
    float *y = lpc_tensor_data(out);
    for (int64_t i = 0; i < lpc_tensor_numel(out); i++)
        y[i] = x[i] > 0 ? x[i] : slope * x[i];
    return LPC_OK;
}

static lpc_status leaky_bwd(void *user, int n, const lpc_tensor *const *in, const lpc_tensor *out,
                            const float *gy, float *const *gx)
{
    (void)n;
    float slope = *(const float *)user;
    const float *x = lpc_tensor_cdata(in[0]);
    for (int64_t i = 0; gx[0] && i < lpc_tensor_numel(out); i++)
        gx[0][i] += gy[i] * (x[i] > 0 ? 1.0f : slope);
    return LPC_OK;
}

/* y = a * b + a (same shapes): both inputs get gradients. */
static lpc_status muladd_fwd(void *user, int n, const lpc_tensor *const *in, lpc_tensor *out)
{
    (void)user;
    (void)n;
    const float *a = lpc_tensor_cdata(in[0]), *b = lpc_tensor_cdata(in[1]);
    float *y = lpc_tensor_data(out);
    for (int64_t i = 0; i < lpc_tensor_numel(out); i++)
        y[i] = a[i] * b[i] + a[i];
    return LPC_OK;
}

static lpc_status muladd_bwd(void *user, int n, const lpc_tensor *const *in,
                             const lpc_tensor *out, const float *gy, float *const *gx)
{
    (void)n;
    int wrong = user != NULL; /* a deliberately wrong backward for the checker */
    const float *a = lpc_tensor_cdata(in[0]), *b = lpc_tensor_cdata(in[1]);
    for (int64_t i = 0; i < lpc_tensor_numel(out); i++) {
        if (gx[0])
            gx[0][i] += gy[i] * (b[i] + (wrong ? 0.0f : 1.0f));
        if (gx[1])
            gx[1][i] += gy[i] * a[i];
    }
    return LPC_OK;
}

static lpc_status failing_fwd(void *user, int n, const lpc_tensor *const *in, lpc_tensor *out)
{
    (void)user, (void)n, (void)in, (void)out;
    return LPC_E_NUMERIC;
}

static lpc_status nan_bwd(void *user, int n, const lpc_tensor *const *in, const lpc_tensor *out,
                          const float *gy, float *const *gx)
{
    (void)user, (void)n, (void)in, (void)out, (void)gy;
    gx[0][0] = NAN;
    return LPC_OK;
}

static lpc_status failing_bwd(void *user, int n, const lpc_tensor *const *in,
                              const lpc_tensor *out, const float *gy, float *const *gx)
{
    (void)user, (void)n, (void)in, (void)out, (void)gy, (void)gx;
    return LPC_E_NOMEM;
}

typedef struct {
    const lpc_op *op;
    uint64_t seed;
} op_case;

static lpc_tensor *op_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    const op_case *c = user;
    return lpct_project(ctx, lpc_op_apply(ctx, c->op, 2, in, 0, NULL), c->seed);
}

static lpc_tensor *leaky_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    const op_case *c = user;
    return lpct_project(ctx, lpc_op_apply(ctx, c->op, 1, in, 0, NULL), c->seed);
}

START_TEST(custom_op_gradients)
{
    float slope = 0.1f;
    lpc_op *leaky = lpc_op_new("leaky_relu", leaky_fwd, leaky_bwd, &slope);
    lpc_op *muladd = lpc_op_new("muladd", muladd_fwd, muladd_bwd, NULL);
    ck_assert_ptr_nonnull(leaky);
    lpc_tensor *x = lpct_rand(2, (int64_t[]){3, 5}, -1, 1, 1);
    op_case c = {leaky, 7};
    ck_assert_double_le(lpct_gradcheck(leaky_graph, &x, 1, &c, 1e-3, 1e-3, 1e-2), 1.0);
    lpc_tensor *ab[2] = {lpct_rand(2, (int64_t[]){4, 3}, -1, 1, 2),
                         lpct_rand(2, (int64_t[]){4, 3}, -1, 1, 3)};
    c = (op_case){muladd, 9};
    ck_assert_double_le(lpct_gradcheck(op_graph, ab, 2, &c, 1e-3, 1e-3, 1e-2), 1.0);
    /* The checker catches a wrong backward. */
    int flag = 1;
    lpc_op *wrong = lpc_op_new("muladd_wrong", muladd_fwd, muladd_bwd, &flag);
    c = (op_case){wrong, 9};
    ck_assert_double_gt(lpct_gradcheck(op_graph, ab, 2, &c, 1e-3, 1e-3, 1e-2), 10.0);
    /* An input without requires_grad gets no gradient buffer (NULL in the callback). */
    lpc_tensor_set_requires_grad(ab[1], 0);
    c = (op_case){muladd, 9};
    ck_assert_double_le(lpct_gradcheck(op_graph, ab, 2, &c, 1e-3, 1e-3, 1e-2), 1.0);
    for (int i = 0; i < 2; i++)
        lpc_tensor_free(ab[i]);
    lpc_tensor_free(x);
    lpc_op_free(wrong);
    lpc_op_free(muladd);
    lpc_op_free(leaky);
}
END_TEST

START_TEST(custom_op_errors)
{
    float slope = 0.1f;
    lpc_op *fails = lpc_op_new("always_fails", failing_fwd, leaky_bwd, &slope);
    lpc_op *nanb = lpc_op_new("nan_backward", leaky_fwd, nan_bwd, &slope);
    lpc_op *badb = lpc_op_new("failing_backward", leaky_fwd, failing_bwd, &slope);
    lpc_op *nob = lpc_op_new("no_backward", leaky_fwd, NULL, &slope);
    lpc_tensor *x = lpct_rand(2, (int64_t[]){2, 3}, -1, 1, 4);
    lpc_ctx *ctx = lpc_ctx_new();
    /* A failing forward poisons the ctx, naming the op; later ops do nothing. */
    lpc_tensor *y = lpc_op_apply(ctx, fails, 1, &x, 0, NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "always_fails"));
    ck_assert_ptr_null(lpc_tensor_data(lpc_sum(ctx, y)));
    /* No backward: fine without grad recording, a sticky LPC_E_STATE with it. */
    lpc_ctx_reset(ctx);
    lpc_ctx_set_grad(ctx, 0);
    ck_assert_ptr_nonnull(lpc_tensor_data(lpc_op_apply(ctx, nob, 1, &x, 0, NULL)));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    lpc_ctx_set_grad(ctx, 1);
    lpc_op_apply(ctx, nob, 1, &x, 0, NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_STATE);
    /* NaN/Inf check: a NaN output names the op; a NaN gradient fails backward. */
    lpc_ctx_reset(ctx);
    lpc_ctx_set_check_finite(ctx, 1);
    lpc_tensor *xn = lpc_tensor_new(1, (int64_t[]){2});
    lpc_tensor_fill(xn, NAN);
    lpc_tensor_set_requires_grad(xn, 1);
    lpc_op_apply(ctx, badb, 1, &xn, 0, NULL);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "failing_backward"));
    lpc_ctx_reset(ctx);
    lpc_tensor *loss = lpc_sum(ctx, lpc_op_apply(ctx, nanb, 1, &x, 0, NULL));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "nan_backward"));
    /* A failing backward stops lpc_backward with its status and the op's name. */
    lpc_ctx_reset(ctx);
    lpc_ctx_set_check_finite(ctx, 0);
    loss = lpc_sum(ctx, lpc_op_apply(ctx, badb, 1, &x, 0, NULL));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_E_NOMEM);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "failing_backward"));
    /* Output shape other than the input's. */
    lpc_ctx_reset(ctx);
    lpc_tensor *flat = lpc_op_apply(ctx, nob, 1, &x, 1, (int64_t[]){6});
    ck_assert_int_eq(lpc_tensor_ndim(flat), -1); /* no backward and x requires grad */
    lpc_ctx_reset(ctx);
    lpc_ctx_set_grad(ctx, 0);
    flat = lpc_op_apply(ctx, nob, 1, &x, 1, (int64_t[]){6});
    ck_assert_int_eq(lpc_tensor_ndim(flat), 1);
    lpc_ctx_free(ctx);
    lpc_tensor_free(xn);
    lpc_tensor_free(x);
    lpc_op_free(fails);
    lpc_op_free(nanb);
    lpc_op_free(badb);
    lpc_op_free(nob);
}
END_TEST

/* ---- a residual block as a custom module: y = relu(fc2(relu(fc1(x))) + x) ---- */

typedef struct {
    lpc_module *fc1, *fc2;
    lpc_tensor *scale; /* own parameter: y = relu(scale * branch + x) */
    int *freed, *train_calls;
} block;

static lpc_tensor *block_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self;
    block *b = user;
    lpc_tensor *h = lpc_relu(ctx, lpc_module_forward(b->fc1, ctx, x));
    lpc_tensor *branch = lpc_module_forward(b->fc2, ctx, h);
    int64_t n = lpc_tensor_dim(x, 0), d = lpc_tensor_dim(x, 1);
    lpc_tensor *ones = lpc_tensor_temp(ctx, 2, (int64_t[]){n, 1});
    lpc_tensor_fill(ones, 1.0f);
    /* scale broadcast over the batch: (N x 1) (1 x D) */
    lpc_tensor *s = lpc_matmul(ctx, ones, lpc_reshape(ctx, b->scale, 2, (int64_t[]){1, d}), 0, 0);
    return lpc_relu(ctx, lpc_add(ctx, lpc_mul(ctx, s, branch), x));
}

static void block_train(lpc_module *self, int train, void *user)
{
    (void)self;
    (void)train;
    (*((block *)user)->train_calls)++;
}

static void block_free(void *user)
{
    block *b = user;
    (*b->freed)++;
    free(b);
}

static lpc_module *block_new(int64_t d, lpc_rng *rng, int *freed, int *train_calls)
{
    block *b = calloc(1, sizeof *b);
    b->freed = freed;
    b->train_calls = train_calls;
    lpc_module *m = lpc_module_new(block_forward, b, block_free);
    ck_assert_ptr_nonnull(m);
    b->fc1 = lpc_linear_new(d, d, 1, rng);
    b->fc2 = lpc_linear_new(d, d, 1, rng);
    b->scale = lpc_tensor_new(1, (int64_t[]){d});
    lpc_tensor_fill(b->scale, 0.5f);
    ck_assert_int_eq(lpc_module_add_child(m, "fc1", b->fc1), LPC_OK);
    ck_assert_int_eq(lpc_module_add_child(m, "fc2", b->fc2), LPC_OK);
    ck_assert_int_eq(lpc_module_add_param(m, "scale", b->scale), LPC_OK);
    lpc_tensor *count = lpc_tensor_new(1, (int64_t[]){1});
    ck_assert_int_eq(lpc_module_add_buffer(m, "count", count), LPC_OK);
    ck_assert_int_eq(lpc_module_set_train_hook(m, block_train), LPC_OK);
    return m;
}

/* Network: block -> linear classifier (3 classes). */
static lpc_module *net_new(lpc_rng *rng, int *freed, int *train_calls)
{
    lpc_module *seq = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(seq, "block", block_new(4, rng, freed, train_calls)),
                     LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(seq, "head", lpc_linear_new(4, 3, 0, rng)), LPC_OK);
    return seq;
}

typedef struct {
    lpc_module *net;
    lpc_tensor *x;
} module_case;

static lpc_tensor *module_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    (void)in; /* the parameters are read through the module */
    module_case *c = user;
    return lpct_project(ctx, lpc_module_forward(c->net, ctx, c->x), 11);
}

START_TEST(custom_module_works_like_builtin)
{
    int freed = 0, train_calls = 0;
    lpc_rng *rng = lpc_rng_new(3);
    lpc_module *net = net_new(rng, &freed, &train_calls);
    /* Structural names, own parameter before children, buffers. */
    ck_assert_int_eq(lpc_module_num_params(net), 6);
    ck_assert_str_eq(lpc_module_param_name(net, 0), "block.scale");
    ck_assert_str_eq(lpc_module_param_name(net, 1), "block.fc1.weight");
    ck_assert_str_eq(lpc_module_param_name(net, 5), "head.weight");
    ck_assert_int_eq(lpc_module_num_buffers(net), 1);
    ck_assert_str_eq(lpc_module_buffer_name(net, 0), "block.count");
    ck_assert_ptr_nonnull(lpc_module_find(net, "block.fc2"));
    ck_assert_ptr_nonnull(lpc_module_user(lpc_module_find(net, "block")));
    ck_assert_ptr_null(lpc_module_user(net));
    /* Train/eval recursion reaches the children and calls the hook. */
    ck_assert_int_eq(lpc_module_set_train(net, 0), LPC_OK);
    ck_assert_int_eq(lpc_module_is_train(lpc_module_find(net, "block.fc1")), 0);
    ck_assert_int_eq(train_calls, 1);
    /* Finite-difference check of every parameter through the residual forward. */
    module_case c = {net, lpct_rand(2, (int64_t[]){5, 4}, -1, 1, 5)};
    lpc_tensor *params[6];
    for (int i = 0; i < 6; i++)
        params[i] = lpc_module_param(net, i);
    ck_assert_double_le(lpct_gradcheck(module_graph, params, 6, &c, 1e-3, 1e-3, 1e-2), 1.0);
    ck_assert_double_le(lpct_gradcheck(module_graph, &c.x, 1, &c, 1e-3, 1e-3, 1e-2), 1.0);
    /* An optimizer step over all parameters (groups by name) changes them. */
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_adamw_add_group(opt, 1e-2, 0);
    lpc_adamw_add_group(opt, 1e-2, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(lpc_adamw_add_param(opt, strncmp(lpc_module_param_name(net, i), "head.",
                                                          5) == 0, params[i]), LPC_OK);
    float before = lpc_tensor_data(params[0])[0];
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    ck_assert_float_ne(before, lpc_tensor_data(params[0])[0]);
    lpc_adamw_free(opt);
    lpc_tensor_free(c.x);
    lpc_module_free(net);
    ck_assert_int_eq(freed, 1);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(custom_module_checkpoint_and_deepfool)
{
    int freed = 0, calls = 0;
    lpc_rng *rng = lpc_rng_new(4);
    lpc_module *a = net_new(rng, &freed, &calls), *b = net_new(rng, &freed, &calls);
    lpc_tensor_fill(lpc_module_buffer(a, 0), 42.0f);
    char *path = lpct_tmpfile("custom.lpcc");
    lpc_checkpoint *ck = lpc_checkpoint_new();
    ck_assert_int_eq(lpc_checkpoint_add_module(ck, "model.", a), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_save(ck, path), LPC_OK);
    lpc_checkpoint_free(ck);
    ck_assert_int_eq(lpc_checkpoint_load(path, &ck), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_restore_module(ck, "model.", b), LPC_OK);
    lpc_checkpoint_free(ck);
    remove(path);
    free(path);
    for (int i = 0; i < lpc_module_num_params(a); i++)
        ck_assert_mem_eq(lpc_tensor_cdata(lpc_module_param(a, i)),
                         lpc_tensor_cdata(lpc_module_param(b, i)),
                         (size_t)lpc_tensor_numel(lpc_module_param(a, i)) * sizeof(float));
    ck_assert_float_eq(lpc_tensor_cdata(lpc_module_buffer(b, 0))[0], 42.0f);
    /* DeepFool through the custom module; both copies give the same answer. */
    float x[8 * 4];
    for (int i = 0; i < 32; i++)
        x[i] = (float)(lpc_rng_uniform(rng) * 2 - 1);
    double ra[8], rb[8], ma, mb;
    lpc_module_set_train(a, 0);
    lpc_module_set_train(b, 0);
    ck_assert_int_eq(lpc_deepfool(a, x, 8, 4, 1, 1, 3, 0.02, 50, ra, &ma), LPC_OK);
    ck_assert_int_eq(lpc_deepfool(b, x, 8, 4, 1, 1, 3, 0.02, 50, rb, &mb), LPC_OK);
    ck_assert(ma > 0 && isfinite(ma));
    ck_assert_double_eq(ma, mb);
    lpc_module_free(a);
    lpc_module_free(b);
    ck_assert_int_eq(freed, 2);
    lpc_rng_free(rng);
}
END_TEST

/* Issue 12 items 2 and 3: cycles are refused; freeing an owned module or
 * tensor is refused, so the container's own free stays valid. */
START_TEST(ownership_and_cycles)
{
    int freed = 0, calls = 0;
    lpc_rng *rng = lpc_rng_new(5);
    lpc_module *seq = lpc_sequential_new();
    LPCT_EXPECT_ERR(lpc_sequential_add(seq, "x", seq), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_sequential_add(seq, "a.b", seq), LPC_E_ARG); /* must not free seq */
    lpc_module *inner = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(seq, "inner", inner), LPC_OK);
    LPCT_EXPECT_ERR(lpc_sequential_add(inner, "back", seq), LPC_E_ARG); /* a -> b -> a */
    lpc_module *blk = block_new(2, rng, &freed, &calls);
    ck_assert_int_eq(lpc_sequential_add(inner, "blk", blk), LPC_OK);
    LPCT_EXPECT_ERR(lpc_module_add_child(blk, "up", seq), LPC_E_ARG);   /* to an ancestor */
    LPCT_EXPECT_ERR(lpc_module_add_child(blk, "self", blk), LPC_E_ARG); /* to itself */
    lpc_module *lin = lpc_linear_new(2, 2, 1, rng);
    LPCT_EXPECT_ERR(lpc_module_add_child(blk, "fc1", lin), LPC_E_ARG);  /* name taken: freed */
    /* set_train and the parameter list still terminate. */
    ck_assert_int_eq(lpc_module_set_train(seq, 0), LPC_OK);
    ck_assert_int_eq(lpc_module_num_params(seq), 5);
    /* Freeing a child a container owns is refused; the container frees it. */
    lpc_clear_error();
    lpc_module_free(inner);
    ck_assert_str_ne(lpc_last_error(), "");
    lpc_clear_error();
    lpc_module_free(lpc_module_find(seq, "inner.blk.fc1"));
    ck_assert_str_ne(lpc_last_error(), "");
    /* Freeing a tensor a module or optimizer owns is refused. */
    lpc_clear_error();
    lpc_tensor_free(lpc_module_param(seq, 0));
    ck_assert_str_ne(lpc_last_error(), "");
    LPCT_EXPECT_ERR(lpc_module_add_param(blk, "again", lpc_module_param(seq, 1)), LPC_E_ARG);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_adamw_add_group(opt, 1e-3, 0);
    lpc_adamw_add_param(opt, 0, lpc_module_param(seq, 0));
    lpc_clear_error();
    lpc_tensor_free(lpc_adamw_moment(opt, 0, 1));
    ck_assert_str_ne(lpc_last_error(), "");
    lpc_adamw_free(opt);
    lpc_module_free(seq); /* everything once: ASan proves no double free */
    ck_assert_int_eq(freed, 1);
    lpc_rng_free(rng);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("custom");
    TCase *tc = tcase_create("custom");
    tcase_add_test(tc, custom_op_gradients);
    tcase_add_test(tc, custom_op_errors);
    tcase_add_test(tc, custom_module_works_like_builtin);
    tcase_add_test(tc, custom_module_checkpoint_and_deepfool);
    tcase_add_test(tc, ownership_and_cycles);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
