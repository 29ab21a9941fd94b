/* Misuse of every public function: NULL handles and pointers, out-of-range
 * arguments, mismatched shapes, missing and malformed files. Each call must
 * fail with the documented status (LPC_E_ARG where a header only says "bad
 * arguments") and leave a non-empty lpc_last_error(); getters return their
 * documented sentinel. tests/test_api_coverage.sh checks that every LPC_API
 * function is called from some tests/ C file. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

/* call returns an lpc_status (or a negative status as an integer). */
#define EXPECT(code, call)                                                                  \
    do {                                                                                    \
        lpc_clear_error();                                                                  \
        lpc_status s_ = (lpc_status)(call);                                                 \
        ck_assert_msg(s_ == (code), "%s gave %s, expected %s (%s)", #call,                  \
                      lpc_status_name(s_), lpc_status_name(code), lpc_last_error());        \
        ck_assert_msg(lpc_last_error()[0] != '\0', "%s: empty lpc_last_error()", #call);    \
    } while (0)
/* Any failure status (the header names no code), with a message. */
#define EXPECT_FAIL(call)                                                                   \
    do {                                                                                    \
        lpc_clear_error();                                                                  \
        lpc_status s_ = (lpc_status)(call);                                                 \
        ck_assert_msg(s_ < 0, "%s did not fail", #call);                                    \
        ck_assert_msg(lpc_last_error()[0] != '\0', "%s: empty lpc_last_error()", #call);    \
    } while (0)
/* call returns a pointer that must be NULL, with a message. */
#define EXPECT_NULL(call)                                                                   \
    do {                                                                                    \
        lpc_clear_error();                                                                  \
        const void *p_ = (call);                                                            \
        ck_assert_msg(p_ == NULL, "%s did not return NULL", #call);                         \
        ck_assert_msg(lpc_last_error()[0] != '\0', "%s: empty lpc_last_error()", #call);    \
    } while (0)
/* An op on a fresh ctx: sticky status `code`, poisoned result, messages. */
#define EXPECT_OP(ctx, code, call)                                                          \
    do {                                                                                    \
        lpc_ctx_reset(ctx);                                                                 \
        lpc_clear_error();                                                                  \
        lpc_tensor *t_ = (call);                                                            \
        ck_assert_msg(lpc_ctx_status(ctx) == (code), "%s: ctx status %s, expected %s (%s)", \
                      #call, lpc_status_name(lpc_ctx_status(ctx)), lpc_status_name(code),   \
                      lpc_ctx_error(ctx));                                                  \
        ck_assert_msg(lpc_tensor_data(t_) == NULL, "%s: result not poisoned", #call);       \
        ck_assert_msg(lpc_ctx_error(ctx)[0] != '\0', "%s: empty lpc_ctx_error()", #call);   \
        ck_assert_msg(lpc_last_error()[0] != '\0', "%s: empty lpc_last_error()", #call);    \
    } while (0)

static lpc_tensor *tensor2(int64_t r, int64_t c, float v)
{
    lpc_tensor *t = lpc_tensor_new(2, (int64_t[]){r, c});
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(lpc_tensor_fill(t, v), LPC_OK);
    return t;
}

/* A file holding `text` (caller frees the path). */
static char *garbage_file(const char *name, const char *text)
{
    char *path = lpct_tmpfile(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static lpc_dataset *small_dataset(void)
{
    uint8_t img[4 * 2 * 3 * 3];
    int32_t lab[4] = {0, 1, 0, 1};
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7);
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(img, lab, 4, 2, 3, 3, 2, &ds), LPC_OK);
    return ds;
}

START_TEST(status_version_threads)
{
    ck_assert_str_eq(lpc_status_name((lpc_status)99), "LPC_E_UNKNOWN");
    ck_assert_ptr_nonnull(lpc_strerror((lpc_status)-99));
    lpc_clear_error();
    ck_assert_str_eq(lpc_last_error(), "");
    ck_assert_uint_ge(lpc_alloc_count(), 0);
    ck_assert_int_eq(lpc_version_number(), LPC_VERSION_NUMBER);
    ck_assert_ptr_nonnull(lpc_version_string());
    EXPECT(LPC_E_ARG, lpc_set_num_threads(0));
    EXPECT(LPC_E_ARG, lpc_set_num_threads(1025));
    ck_assert_int_eq(lpc_get_num_threads(), 1);
}
END_TEST

START_TEST(ctx_and_tensor)
{
    lpc_ctx_free(NULL);
    lpc_ctx_reset(NULL);
    ck_assert_int_eq(lpc_ctx_status(NULL), LPC_E_ARG);
    ck_assert_ptr_nonnull(lpc_ctx_error(NULL));
    EXPECT(LPC_E_ARG, lpc_ctx_set_grad(NULL, 1));
    ck_assert_int_eq(lpc_ctx_grad_enabled(NULL), 0);
    EXPECT(LPC_E_ARG, lpc_ctx_set_check_finite(NULL, 1));
    ck_assert_uint_eq(lpc_ctx_arena_bytes(NULL), 0);
    EXPECT(LPC_E_ARG, lpc_backward(NULL, NULL));

    EXPECT_NULL(lpc_tensor_new(LPC_MAX_DIMS + 1, (int64_t[]){1, 1, 1, 1, 1}));
    EXPECT_NULL(lpc_tensor_new(2, (int64_t[]){-1, 2}));
    EXPECT_NULL(lpc_tensor_new(2, NULL));
    lpc_tensor_free(NULL);
    ck_assert_int_eq(lpc_tensor_ndim(NULL), -1);
    ck_assert_int_eq(lpc_tensor_numel(NULL), -1);
    ck_assert_ptr_null(lpc_tensor_data(NULL));
    ck_assert_ptr_null(lpc_tensor_cdata(NULL));
    ck_assert_ptr_null(lpc_tensor_grad(NULL));
    ck_assert_int_eq(lpc_tensor_requires_grad(NULL), 0);
    EXPECT(LPC_E_ARG, lpc_tensor_set_requires_grad(NULL, 1));
    EXPECT(LPC_E_ARG, lpc_tensor_zero_grad(NULL));
    EXPECT(LPC_E_ARG, lpc_tensor_fill(NULL, 1.0f));
    lpc_tensor *t = tensor2(2, 3, 1.0f);
    ck_assert_int_eq(lpc_tensor_dim(t, 2), -1);
    ck_assert_int_eq(lpc_tensor_dim(t, -1), -1);
    float buf[6];
    EXPECT_FAIL(lpc_tensor_copy_in(t, buf, 5));
    EXPECT_FAIL(lpc_tensor_copy_out(t, buf, 7));
    EXPECT(LPC_E_ARG, lpc_tensor_copy_in(t, NULL, 6));
    EXPECT(LPC_E_ARG, lpc_tensor_copy_out(NULL, buf, 6));

    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_ptr_nonnull(ctx);
    /* Temporaries: bad shapes poison the ctx; lpc_tensor_free refuses them. */
    EXPECT_OP(ctx, LPC_E_ARG, lpc_tensor_temp(ctx, 0 - 1, (int64_t[]){2}));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_tensor_from(ctx, 1, (int64_t[]){4}, buf, 3));
    EXPECT_NULL(lpc_tensor_temp(NULL, 1, (int64_t[]){2}));
    lpc_ctx_reset(ctx);
    lpc_tensor *tmp = lpc_tensor_temp(ctx, 1, (int64_t[]){2});
    lpc_clear_error();
    lpc_tensor_free(tmp);
    ck_assert_str_ne(lpc_last_error(), "");
    /* backward from a non-scalar, and from a tensor that is not of this ctx's tape */
    lpc_tensor_set_requires_grad(t, 1);
    lpc_tensor *y = lpc_scale(ctx, t, 2.0f);
    EXPECT_FAIL(lpc_backward(ctx, y));
    /* Another ctx's temporaries are refused, naming the op and the input
     * (taped here, they dangled once their ctx was freed); persistent
     * tensors work with any ctx. */
    lpc_ctx *other = lpc_ctx_new();
    lpc_ctx_reset(ctx);
    lpc_tensor *foreign = lpc_scale(other, t, 3.0f), *view = lpc_reshape(other, foreign, 1,
                                                                          (int64_t[]){6});
    ck_assert_int_eq(lpc_ctx_status(other), LPC_OK);
    EXPECT_OP(ctx, LPC_E_ARG, lpc_add(ctx, t, foreign));
    ck_assert_msg(strstr(lpc_ctx_error(ctx), "add: input 1 is a temporary of another ctx"), "%s",
                  lpc_ctx_error(ctx));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_sum(ctx, view));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_reshape(ctx, foreign, 1, (int64_t[]){6}));
    int64_t s4[4] = {2, 1, 1, 3}, s1[1] = {1};
    lpc_tensor *x4 = lpc_tensor_new(4, s4), *g = lpc_tensor_new(1, s1), *b = lpc_tensor_new(1, s1);
    lpc_tensor *rm = lpc_tensor_temp(other, 1, s1), *rv = lpc_tensor_temp(other, 1, s1);
    EXPECT_OP(ctx, LPC_E_ARG, lpc_batchnorm2d(ctx, x4, g, b, rm, rv, 1, 0.1f, 1e-5f));
    ck_assert_msg(strstr(lpc_ctx_error(ctx), "running_mean is a temporary of another ctx"), "%s",
                  lpc_ctx_error(ctx));
    lpc_ctx_reset(ctx);
    EXPECT(LPC_E_ARG, lpc_backward(ctx, lpc_sum(other, foreign)));
    ck_assert_msg(strstr(lpc_last_error(), "loss is a temporary of another ctx"), "%s",
                  lpc_last_error());
    lpc_ctx_reset(ctx);
    lpc_tensor *loss = lpc_sum(ctx, lpc_scale(ctx, t, 2.0f));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    lpc_ctx_free(other);
    lpc_tensor_free(x4);
    lpc_tensor_free(g);
    lpc_tensor_free(b);
    lpc_ctx_free(ctx);
    lpc_tensor_free(t);
}
END_TEST

START_TEST(ops_and_losses)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *a = tensor2(2, 3, 1.0f), *b = tensor2(4, 5, 1.0f), *v = tensor2(1, 7, 1.0f);
    lpc_tensor *w = tensor2(3, 5, 0.5f);
    int32_t lab[2] = {0, 7}, ok_lab[4] = {0, 1, 2, 0};
    EXPECT_NULL(lpc_matmul(NULL, a, a, 0, 1));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_matmul(ctx, NULL, a, 0, 0));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_matmul(ctx, a, b, 0, 0));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_linear(ctx, a, b, NULL));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_add(ctx, a, b));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_sub(ctx, a, b));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_mul(ctx, a, b));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_scale(ctx, NULL, 2.0f));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_bias_add(ctx, a, v));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_silu(ctx, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_relu(ctx, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_sum(ctx, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_mean(ctx, NULL));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_log_softmax(ctx, lpc_reshape(ctx, a, 1, (int64_t[]){6})));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_gather(ctx, a, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_gather(ctx, a, lab));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_reshape(ctx, a, 2, (int64_t[]){4, 2}));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_conv2d(ctx, a, w, NULL, 1, 0));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_batchnorm2d(ctx, a, v, v, NULL, NULL, 1, 0.1f, 1e-5f));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_global_avgpool(ctx, a));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_cross_entropy(ctx, a, lab));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_cross_entropy(ctx, a, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_l2_latent(ctx, NULL, 1.0f));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_supcon(ctx, a, NULL, 0.1f));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_arcface(ctx, b, a, ok_lab, 16.0f, 0.1f)); /* P 5 vs 3 */
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_cosface(ctx, b, a, ok_lab, 32.0f, 0.25f));
    /* Sticky: after a failure every op is a no-op returning the poisoned tensor. */
    lpc_ctx_reset(ctx);
    lpc_add(ctx, a, b);
    ck_assert_ptr_null(lpc_tensor_data(lpc_add(ctx, a, a)));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    lpc_ctx_free(ctx);
    lpc_tensor_free(a);
    lpc_tensor_free(b);
    lpc_tensor_free(v);
    lpc_tensor_free(w);
}
END_TEST

START_TEST(rng)
{
    lpc_rng_free(NULL);
    ck_assert_uint_eq(lpc_rng_u64(NULL), 0);
    ck_assert(lpc_rng_uniform(NULL) == 0.0);
    ck_assert_uint_eq(lpc_rng_below(NULL, 5), 0);
    lpc_rng_normal(NULL);
    uint64_t st[LPC_RNG_STATE_WORDS] = {0};
    EXPECT(LPC_E_ARG, lpc_rng_get_state(NULL, st));
    lpc_rng *r = lpc_rng_new(1);
    EXPECT(LPC_E_ARG, lpc_rng_set_state(r, st)); /* all-zero state */
    EXPECT(LPC_E_ARG, lpc_rng_set_state(r, NULL));
    ck_assert_uint_eq(lpc_rng_below(r, 1), 0);
    lpc_rng_free(r);
}
END_TEST

START_TEST(modules)
{
    lpc_rng *rng = lpc_rng_new(3);
    EXPECT_NULL(lpc_linear_new(0, 3, 1, rng));
    EXPECT_NULL(lpc_linear_new(3, 2, 1, NULL));
    EXPECT_NULL(lpc_conv2d_new(3, 4, 0, 1, 0, 1, rng));
    EXPECT_NULL(lpc_conv2d_new(3, 4, 3, 0, 1, 1, rng));
    EXPECT_NULL(lpc_batchnorm2d_new(0));
    EXPECT_NULL(lpc_resnet_new(LPC_RESNET_BASIC, 3, 16, 0, NULL, NULL, rng));
    EXPECT_NULL(lpc_resnet_new((lpc_resnet_block)7, 3, 16, 1, (int[]){8}, (int[]){1}, rng));
    ck_assert_msg(strstr(lpc_last_error(), "unknown block kind 7"), "%s", lpc_last_error());
    EXPECT_NULL(lpc_resnet_new(LPC_RESNET_BASIC, 3, 16, 2, (int[]){8, 0}, (int[]){1, 1}, rng));
    ck_assert_msg(strstr(lpc_last_error(), "stage 1 has width 0 and 1 blocks"), "%s",
                  lpc_last_error());
    EXPECT_NULL(lpc_resnet_new(LPC_RESNET_BASIC, 3, 16, 17, (int[]){8}, (int[]){1}, rng));
    ck_assert_msg(strstr(lpc_last_error(), "17 stages, must be 1..16"), "%s", lpc_last_error());
    EXPECT_NULL(lpc_resnet18_new(0, rng));
    EXPECT_NULL(lpc_resnet50_new(3, NULL));
    EXPECT_NULL(lpc_resnet_small_new(-1, rng));
    EXPECT_NULL(lpc_wide_resnet50_2_new(0, rng));
    ck_assert_ptr_null(lpc_resnet_block_name((lpc_resnet_block)-1));

    lpc_module_free(NULL);
    ck_assert_int_eq(lpc_module_num_params(NULL), -1);
    ck_assert_ptr_null(lpc_module_param(NULL, 0));
    ck_assert_ptr_null(lpc_module_param_name(NULL, 0));
    ck_assert_ptr_null(lpc_module_find_param(NULL, "weight"));
    ck_assert_int_le(lpc_module_num_buffers(NULL), 0);
    ck_assert_ptr_null(lpc_module_buffer(NULL, 0));
    ck_assert_ptr_null(lpc_module_buffer_name(NULL, 0));
    ck_assert_ptr_null(lpc_module_find(NULL, "0"));
    ck_assert_int_le(lpc_module_num_weights(NULL), 0);
    ck_assert_int_eq(lpc_resnet_feature_dim(NULL), -1);
    EXPECT(LPC_E_ARG, lpc_module_set_train(NULL, 1));
    ck_assert_int_le(lpc_module_is_train(NULL), 0);
    EXPECT(LPC_E_ARG, lpc_module_zero_grad(NULL));
    /* lpc_sequential_add owns the child even when it fails (ASan checks the leak). */
    EXPECT(LPC_E_ARG, lpc_sequential_add(NULL, "x", lpc_silu_new()));

    lpc_module *seq = lpc_sequential_new();
    ck_assert_int_eq(lpc_sequential_add(seq, "fc", lpc_linear_new(4, 3, 1, rng)), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(seq, NULL, lpc_relu_new()), LPC_OK);
    ck_assert_int_eq(lpc_sequential_add(seq, NULL, lpc_flatten_new()), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_sequential_add(seq, "x", NULL));
    EXPECT(LPC_E_ARG, lpc_sequential_add(lpc_module_find(seq, "fc"), "y", lpc_silu_new()));
    ck_assert_ptr_null(lpc_module_param(seq, 99));
    ck_assert_ptr_null(lpc_module_param(seq, -1));
    ck_assert_ptr_null(lpc_module_param_name(seq, 99));
    ck_assert_ptr_null(lpc_module_buffer(seq, 0));
    ck_assert_ptr_null(lpc_module_buffer_name(seq, 0));
    ck_assert_ptr_null(lpc_module_find_param(seq, "nope.weight"));
    ck_assert_ptr_null(lpc_module_find(seq, "nope"));
    ck_assert_int_eq(lpc_resnet_feature_dim(seq), -1);

    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = tensor2(2, 5, 1.0f);
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward(NULL, ctx, x));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_module_forward(seq, ctx, x));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward(seq, ctx, NULL));
    const char *paths[] = {"fc", "nope"}, *null_path[] = {NULL};
    lpc_tensor *outs[2];
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(NULL, ctx, x, 1, paths, outs));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, NULL, 1, paths, outs));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, x, -1, paths, outs));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, x, 1, NULL, outs));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, x, 1, paths, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, x, 1, null_path, outs));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_module_forward_collect(seq, ctx, x, 2, paths, outs));
    ck_assert_msg(strstr(lpc_ctx_error(ctx), "no module at 'nope'"), "%s", lpc_ctx_error(ctx));
    ck_assert_ptr_null(lpc_tensor_data(outs[0]));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_module_forward_collect(seq, ctx, x, 1, paths, outs));
    ck_assert_ptr_null(lpc_tensor_data(outs[0]));
    ck_assert_ptr_null(lpc_module_forward_collect(seq, NULL, x, 1, paths, outs));
    lpc_module *pool = lpc_global_avgpool_new();
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_module_forward(pool, ctx, x));
    lpc_module *bn = lpc_batchnorm2d_new(3);
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_module_forward(bn, ctx, x));
    lpc_module_free(bn);
    lpc_module_free(pool);
    lpc_tensor_free(x);
    lpc_ctx_free(ctx);
    lpc_module_free(seq);
    lpc_rng_free(rng);
}
END_TEST

static lpc_status copy_fwd(void *user, int n, const lpc_tensor *const *in, lpc_tensor *out)
{
    (void)user, (void)n;
    return lpc_tensor_copy_in(out, lpc_tensor_cdata(in[0]), lpc_tensor_numel(in[0]));
}

static lpc_tensor *identity_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self, (void)ctx, (void)user;
    return x;
}

static lpc_tensor *null_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self, (void)ctx, (void)x, (void)user;
    return NULL;
}

static lpc_tensor *sum_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    (void)user;
    return lpc_sum(ctx, in[0]);
}

static lpc_tensor *vector_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    (void)user;
    return lpc_scale(ctx, in[0], 2.0f); /* not a scalar */
}

START_TEST(extending)
{
    /* custom ops */
    EXPECT_NULL(lpc_op_new(NULL, copy_fwd, NULL, NULL));
    EXPECT_NULL(lpc_op_new("", copy_fwd, NULL, NULL));
    EXPECT_NULL(lpc_op_new("x", NULL, NULL, NULL));
    char longname[100];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    EXPECT_NULL(lpc_op_new(longname, copy_fwd, NULL, NULL));
    ck_assert_msg(strstr(lpc_last_error(), "1..63 characters, got"), "%s", lpc_last_error());
    lpc_op_free(NULL);
    lpc_op *op = lpc_op_new("copy", copy_fwd, NULL, NULL);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = tensor2(2, 2, 1.0f);
    EXPECT_NULL(lpc_op_apply(NULL, op, 1, &x, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, NULL, 1, &x, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 0, &x, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 5, &x, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 1, NULL, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 1, (lpc_tensor *[]){NULL}, 0, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 1, &x, 0, (int64_t[]){4}));    /* ndim 0 */
    EXPECT_OP(ctx, LPC_E_ARG, lpc_op_apply(ctx, op, 1, &x, 1, (int64_t[]){-4}));
    EXPECT_OP(ctx, LPC_E_SHAPE, lpc_op_apply(ctx, op, 1, &x, 1, (int64_t[]){3})); /* copy fails */
    lpc_tensor_set_requires_grad(x, 1);
    EXPECT_OP(ctx, LPC_E_STATE, lpc_op_apply(ctx, op, 1, &x, 0, NULL)); /* no backward */

    /* gradient checker */
    double worst;
    EXPECT(LPC_E_ARG, lpc_gradcheck(NULL, NULL, 1, &x, 1e-3, 1e-3, 1e-2, &worst));
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 0, &x, 1e-3, 1e-3, 1e-2, &worst));
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 1, NULL, 1e-3, 1e-3, 1e-2, &worst));
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 1, &x, 0.0, 1e-3, 1e-2, &worst));
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 1, &x, 1e-3, 0.0, 0.0, &worst));
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 1, &x, 1e-3, 1e-3, 1e-2, NULL));
    lpc_ctx_reset(ctx);
    lpc_tensor *tmp = lpc_tensor_temp(ctx, 1, (int64_t[]){2});
    EXPECT(LPC_E_ARG, lpc_gradcheck(sum_graph, NULL, 1, &tmp, 1e-3, 1e-3, 1e-2, &worst));
    EXPECT(LPC_E_SHAPE, lpc_gradcheck(vector_graph, NULL, 1, &x, 1e-3, 1e-3, 1e-2, &worst));
    ck_assert_int_eq(lpc_gradcheck(sum_graph, NULL, 1, &x, 1e-3, 1e-3, 1e-2, &worst), LPC_OK);
    ck_assert_double_le(worst, 1.0);

    /* custom modules */
    EXPECT_NULL(lpc_module_new(NULL, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_module_set_train_hook(NULL, NULL));
    ck_assert_ptr_null(lpc_module_user(NULL));
    lpc_module *relu = lpc_relu_new();
    EXPECT(LPC_E_ARG, lpc_module_set_train_hook(relu, NULL)); /* not a custom module */
    lpc_module *m = lpc_module_new(identity_forward, NULL, NULL);
    ck_assert_ptr_nonnull(m);
    EXPECT(LPC_E_ARG, lpc_module_add_param(NULL, "w", lpc_tensor_new(1, (int64_t[]){2})));
    EXPECT(LPC_E_ARG, lpc_module_add_param(relu, "w", lpc_tensor_new(1, (int64_t[]){2})));
    EXPECT(LPC_E_ARG, lpc_module_add_param(m, "w", NULL));
    EXPECT(LPC_E_ARG, lpc_module_add_param(m, "a.b", lpc_tensor_new(1, (int64_t[]){2})));
    ck_assert_msg(strstr(lpc_last_error(), "the name contains '.' (name 'a.b')"), "%s",
                  lpc_last_error());
    EXPECT(LPC_E_ARG, lpc_module_add_param(m, "", lpc_tensor_new(1, (int64_t[]){2})));
    EXPECT(LPC_E_ARG, lpc_module_add_param(m, NULL, lpc_tensor_new(1, (int64_t[]){2})));
    EXPECT(LPC_E_ARG, lpc_module_add_param(m, "t", tmp)); /* a temporary: not freed */
    ck_assert_int_eq(lpc_module_add_param(m, "w", lpc_tensor_new(1, (int64_t[]){2})), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_module_add_buffer(m, "w", lpc_tensor_new(1, (int64_t[]){2})));
    ck_assert_msg(strstr(lpc_last_error(), "a parameter has that name already"), "%s",
                  lpc_last_error());
    EXPECT(LPC_E_ARG, lpc_module_add_buffer(m, "v", lpc_module_param(m, 0))); /* owned */
    EXPECT(LPC_E_ARG, lpc_module_add_buffer(NULL, "v", NULL));
    EXPECT(LPC_E_ARG, lpc_module_add_child(NULL, "c", lpc_relu_new()));
    EXPECT(LPC_E_ARG, lpc_module_add_child(m, "c", NULL));
    EXPECT(LPC_E_ARG, lpc_module_add_child(m, "c.d", lpc_relu_new()));
    EXPECT(LPC_E_ARG, lpc_module_add_child(relu, "c", lpc_relu_new()));
    EXPECT(LPC_E_ARG, lpc_module_add_child(m, "me", m));
    lpc_module_free(relu);
    lpc_module *bad = lpc_module_new(null_forward, NULL, NULL);
    EXPECT_OP(ctx, LPC_E_STATE, lpc_module_forward(bad, ctx, x));
    lpc_module_free(bad);
    lpc_module_free(m);
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_op_free(op);
}
END_TEST

START_TEST(optimizer_and_schedules)
{
    EXPECT_NULL(lpc_adamw_new(1.0, 0.999, 1e-8));
    EXPECT_NULL(lpc_adamw_new(0.9, -0.1, 1e-8));
    EXPECT_NULL(lpc_adamw_new(0.9, 0.999, -1.0));
    lpc_adamw_free(NULL);
    EXPECT(LPC_E_ARG, lpc_adamw_add_group(NULL, 1e-3, 0.0));
    EXPECT(LPC_E_ARG, lpc_adamw_add_param(NULL, 0, NULL));
    EXPECT(LPC_E_ARG, lpc_adamw_step(NULL));
    ck_assert_int_eq(lpc_adamw_steps(NULL), -1);
    EXPECT(LPC_E_ARG, lpc_adamw_set_steps(NULL, 1));
    ck_assert_int_le(lpc_adamw_num_params(NULL), 0);
    ck_assert_ptr_null(lpc_adamw_param(NULL, 0));
    ck_assert_ptr_null(lpc_adamw_moment(NULL, 0, 1));
    ck_assert(isnan(lpc_adamw_get_lr(NULL, 0)));

    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    EXPECT(LPC_E_ARG, lpc_adamw_add_group(opt, -1.0, 0.0));
    EXPECT(LPC_E_ARG, lpc_adamw_add_group(opt, NAN, 0.0));
    int g = lpc_adamw_add_group(opt, 1e-3, 1e-2);
    ck_assert_int_eq(g, 0);
    lpc_tensor *p = tensor2(2, 2, 1.0f);
    lpc_ctx *ctx = lpc_ctx_new();
    EXPECT(LPC_E_ARG, lpc_adamw_add_param(opt, 1, p));  /* no such group */
    EXPECT(LPC_E_ARG, lpc_adamw_add_param(opt, 0, NULL));
    EXPECT_FAIL(lpc_adamw_add_param(opt, 0, lpc_tensor_temp(ctx, 1, (int64_t[]){2})));
    ck_assert_int_eq(lpc_adamw_add_param(opt, 0, p), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_adamw_add_param(opt, 0, p));  /* added twice */
    EXPECT(LPC_E_ARG, lpc_adamw_set_lr(opt, 5, 1e-3));
    EXPECT(LPC_E_ARG, lpc_adamw_set_lr(opt, 0, -1.0));
    ck_assert(isnan(lpc_adamw_get_lr(opt, 3)));
    EXPECT(LPC_E_ARG, lpc_adamw_set_steps(opt, -1));
    ck_assert_ptr_null(lpc_adamw_param(opt, 1));
    ck_assert_ptr_null(lpc_adamw_moment(opt, 0, 3));
    /* A non-finite gradient is refused before anything changes. */
    lpc_tensor_set_requires_grad(p, 1);
    lpc_tensor *loss = lpc_sum(ctx, lpc_scale(ctx, p, NAN));
    ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    EXPECT(LPC_E_NUMERIC, lpc_adamw_step(opt));
    ck_assert_float_eq(lpc_tensor_data(p)[0], 1.0f);
    lpc_ctx_free(ctx);
    lpc_adamw_free(opt);
    lpc_tensor_free(p);

    ck_assert(isnan(lpc_gamma_paper(NAN)));
    ck_assert(isnan(lpc_lr_factor_paper(NAN)));
    ck_assert(isnan(lpc_arcface_scale(NAN)));
    ck_assert(isnan(lpc_arcface_margin(NAN)));
    ck_assert(isnan(lpc_paper_epoch(0, 0, 0, 10)));
    ck_assert(isnan(lpc_paper_epoch(0, 0, 10, 0)));
    ck_assert(isnan(lpc_gamma_ramp(0, 0, 100.0, 0.7)));
    ck_assert(isnan(lpc_gamma_ramp(0, 10, -1.0, 0.7)));
    ck_assert(isnan(lpc_gamma_ramp(0, 10, 100.0, 1.5)));
    double out;
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_PAPER, LPC_SCHED_GAMMA, 0, 0, 10, 10, 100,
                                        0.7, NULL));
    EXPECT(LPC_E_ARG, lpc_schedule_eval((lpc_protocol)9, LPC_SCHED_GAMMA, 0, 0, 10, 10, 100,
                                        0.7, &out));
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_PAPER, (lpc_sched_value)9, 0, 0, 10, 10,
                                        100, 0.7, &out));
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_COMPRESSED, LPC_SCHED_GAMMA, -1, 0, 10, 10,
                                        100, 0.7, &out));
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_COMPRESSED, LPC_SCHED_GAMMA, 0, 10, 10, 10,
                                        100, 0.7, &out));
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_RAMP, LPC_SCHED_GAMMA, 0, 0, 10, 10, 0.0,
                                        0.7, &out));
    EXPECT(LPC_E_ARG, lpc_schedule_eval(LPC_PROTOCOL_RAMP, LPC_SCHED_GAMMA, 0, 0, 10, 10, 100,
                                        0.0, &out));

    /* Generic building blocks: out, epoch, options size and ranges. */
    lpc_gamma_two_phase_options_init(NULL);
    lpc_lr_cosine_options_init(NULL);
    lpc_gamma_two_phase_options go;
    lpc_lr_cosine_options lo;
    lpc_gamma_two_phase_options_init(&go);
    lpc_lr_cosine_options_init(&lo);
    out = 7.0;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, NULL));
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, -1, &out));
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, (int64_t)1 << 31, &out));
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, NULL));
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, -1, &out));
    go.size = sizeof go + 8;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    go.size = 0;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    lo.size = 1;
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, &out));
    lpc_gamma_two_phase_options_init(&go);
    go.factor_1 = 1.0;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    go.factor_1 = 1.0 + 1e-12; /* would take ~1e13 multiplications */
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    lpc_gamma_two_phase_options_init(&go);
    go.max_2 = go.max_1 / 2;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    go.max_2 = INFINITY;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    lpc_gamma_two_phase_options_init(&go);
    go.initial = NAN;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    lpc_gamma_two_phase_options_init(&go);
    go.step_2 = 0;
    EXPECT(LPC_E_ARG, lpc_gamma_two_phase(&go, 1, &out));
    lpc_lr_cosine_options_init(&lo);
    lo.floor = 2 * lo.lr;
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, &out));
    lpc_lr_cosine_options_init(&lo);
    lo.warmup_begin = 5;
    lo.warmup_end = 5;
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, &out));
    lpc_lr_cosine_options_init(&lo);
    lo.warmup_factor = 0.0;
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, &out));
    lpc_lr_cosine_options_init(&lo);
    lo.total = 0;
    EXPECT(LPC_E_ARG, lpc_lr_cosine(&lo, 1, &out));
    ck_assert(out == 7.0); /* failures leave the out-value alone */
}
END_TEST

START_TEST(datasets_and_batcher)
{
    lpc_dataset *ds = NULL;
    EXPECT(LPC_E_ARG, lpc_dataset_load_idx(NULL, "x", &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_idx("x", "y", NULL));
    EXPECT(LPC_E_IO, lpc_dataset_load_idx("/nonexistent/a", "/nonexistent/b", &ds));
    ck_assert_ptr_null(ds);
    char *bad = garbage_file("bad.idx", "not an idx file at all");
    EXPECT(LPC_E_FORMAT, lpc_dataset_load_idx(bad, bad, &ds));
    ck_assert_ptr_null(ds);
    EXPECT(LPC_E_IO, lpc_dataset_load_mnist_dir("/nonexistent", 1, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_mnist_dir(NULL, 1, NULL));
    EXPECT(LPC_E_IO, lpc_dataset_load_cifar10("/nonexistent", 1, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_cifar10(NULL, 0, &ds));
    EXPECT(LPC_E_IO, lpc_dataset_load_cifar100("/nonexistent", 0, 1, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_cifar100("/nonexistent", 0, 1, NULL));
    EXPECT(LPC_E_IO, lpc_dataset_load_pngdir("/nonexistent", &ds));
    lpc_imagedir_options_init(NULL);
    lpc_imagedir_options io;
    lpc_imagedir_options_init(&io);
    EXPECT(LPC_E_ARG, lpc_dataset_load_imagedir(NULL, &io, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_imagedir("/nonexistent", &io, NULL));
    EXPECT(LPC_E_IO, lpc_dataset_load_imagedir("/nonexistent", NULL, &ds));
    ck_assert_ptr_null(ds);
    io.height = 8; /* width left 0 */
    EXPECT(LPC_E_ARG, lpc_dataset_load_imagedir("/nonexistent", &io, &ds));
    lpc_imagedir_options_init(&io);
    io.channels = 2;
    EXPECT(LPC_E_ARG, lpc_dataset_load_imagedir("/nonexistent", &io, &ds));
    io.size = sizeof io + 1;
    EXPECT(LPC_E_ARG, lpc_dataset_load_imagedir("/nonexistent", &io, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_pngdir(NULL, &ds));
    EXPECT(LPC_E_IO, lpc_dataset_load_pngdir_classes("/nonexistent", "/nonexistent2", &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_pngdir_classes(NULL, "x", &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_load_pngdir_classes("x", "y", NULL));
    ck_assert_ptr_null(lpc_dataset_class_name(NULL, 0));
    ck_assert_ptr_null(ds);
    remove(bad);
    free(bad);

    uint8_t img[8] = {0};
    int32_t lab[2] = {0, 5};
    EXPECT(LPC_E_ARG, lpc_dataset_from_memory(NULL, lab, 2, 1, 2, 2, 2, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_from_memory(img, lab, 0, 1, 2, 2, 2, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_from_memory(img, lab, 2, 0, 2, 2, 2, &ds));
    EXPECT(LPC_E_ARG, lpc_dataset_from_memory(img, lab, 2, 1, 2, 2, 2, &ds)); /* label 5 >= 2 */
    lpc_dataset_free(NULL);
    ck_assert_int_eq(lpc_dataset_size(NULL), -1);
    ck_assert_int_le(lpc_dataset_channels(NULL), 0);
    ck_assert_int_le(lpc_dataset_height(NULL), 0);
    ck_assert_int_le(lpc_dataset_width(NULL), 0);
    ck_assert_int_le(lpc_dataset_num_classes(NULL), 0);
    ck_assert_ptr_null(lpc_dataset_images(NULL));
    ck_assert_ptr_null(lpc_dataset_labels(NULL));
    double mean[2], std[2];
    EXPECT(LPC_E_ARG, lpc_dataset_channel_stats(NULL, mean, std));
    EXPECT(LPC_E_ARG, lpc_dataset_truncate(NULL, 1));

    ds = small_dataset();
    EXPECT(LPC_E_ARG, lpc_dataset_channel_stats(ds, NULL, std));
    EXPECT(LPC_E_ARG, lpc_dataset_truncate(ds, 0));
    EXPECT(LPC_E_ARG, lpc_dataset_truncate(ds, 5));
    EXPECT_NULL(lpc_batcher_new(NULL, 2, 0, 1, NULL, NULL));
    EXPECT_NULL(lpc_batcher_new(ds, 0, 0, 1, NULL, NULL));
    EXPECT_NULL(lpc_batcher_new(ds, 2, 0, 1, mean, NULL)); /* mean without std */
    EXPECT_NULL(lpc_batcher_new(ds, 2, 0, 1, (double[]){0, 0}, (double[]){1, 0}));
    lpc_batcher_free(NULL);
    EXPECT(LPC_E_ARG, lpc_batcher_set_augment(NULL, 0, 0));
    ck_assert_int_le(lpc_batcher_batches_per_epoch(NULL), 0);
    uint64_t st[4] = {0};
    EXPECT(LPC_E_ARG, lpc_batcher_get_rng_state(NULL, st));
    EXPECT(LPC_E_ARG, lpc_batcher_set_rng_state(NULL, st));

    lpc_batcher *b = lpc_batcher_new(ds, 3, 1, 7, NULL, NULL);
    ck_assert_ptr_nonnull(b);
    EXPECT(LPC_E_ARG, lpc_batcher_set_augment(b, -1, 0));
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x;
    const int32_t *y;
    EXPECT(LPC_E_ARG, lpc_batcher_next(NULL, ctx, &x, &y));
    EXPECT(LPC_E_ARG, lpc_batcher_next(b, NULL, &x, &y));
    EXPECT(LPC_E_ARG, lpc_batcher_next(b, ctx, NULL, &y));
    ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &y), 3);
    EXPECT(LPC_E_STATE, lpc_batcher_get_rng_state(b, st)); /* mid-epoch */
    EXPECT(LPC_E_ARG, lpc_batcher_set_rng_state(b, st));   /* all-zero state */
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(npy_files)
{
    lpc_npy *a = NULL;
    float f[6] = {0};
    int32_t i32[6];
    double f64[6];
    char *path = lpct_tmpfile("m.npy");
    EXPECT(LPC_E_ARG, lpc_npy_load(NULL, &a));
    EXPECT(LPC_E_ARG, lpc_npy_load(path, NULL));
    EXPECT(LPC_E_IO, lpc_npy_load("/nonexistent/x.npy", &a));
    ck_assert_ptr_null(a);
    char *bad = garbage_file("bad.npy", "\x93NUMPY\x01\x00garbage");
    EXPECT(LPC_E_FORMAT, lpc_npy_load(bad, &a));
    ck_assert_ptr_null(a);
    remove(bad);
    free(bad);
    EXPECT(LPC_E_ARG, lpc_npy_save_f32(NULL, f, 1, (int64_t[]){6}));
    EXPECT(LPC_E_ARG, lpc_npy_save_f32(path, NULL, 1, (int64_t[]){6}));
    EXPECT(LPC_E_ARG, lpc_npy_save_f32(path, f, LPC_NPY_MAX_DIMS + 1, (int64_t[9]){1}));
    EXPECT(LPC_E_ARG, lpc_npy_save_f32(path, f, 1, (int64_t[]){-1}));
    EXPECT(LPC_E_IO, lpc_npy_save_f32("/nonexistent/x.npy", f, 1, (int64_t[]){6}));
    EXPECT(LPC_E_ARG, lpc_npy_save_i32(path, NULL, 3));
    EXPECT(LPC_E_ARG, lpc_npy_save_i32(path, i32, -1));
    EXPECT(LPC_E_ARG, lpc_npy_save_tensor(path, NULL));
    lpc_npy_free(NULL);
    ck_assert_int_eq(lpc_npy_dtype_of(NULL), -1);
    ck_assert_int_eq(lpc_npy_ndim(NULL), -1);
    ck_assert_int_eq(lpc_npy_dim(NULL, 0), -1);
    ck_assert_int_eq(lpc_npy_numel(NULL), -1);
    EXPECT(LPC_E_ARG, lpc_npy_copy_f32(NULL, f, 6));
    EXPECT(LPC_E_ARG, lpc_npy_copy_f64(NULL, f64, 6));
    EXPECT(LPC_E_ARG, lpc_npy_copy_i32(NULL, i32, 6));

    ck_assert_int_eq(lpc_npy_save_f32(path, f, 2, (int64_t[]){2, 3}), LPC_OK);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_dim(a, 2), -1);
    ck_assert_int_eq(lpc_npy_dim(a, -1), -1);
    EXPECT(LPC_E_SHAPE, lpc_npy_copy_f32(a, f, 5));
    EXPECT(LPC_E_SHAPE, lpc_npy_copy_f64(a, f64, 7));
    EXPECT(LPC_E_FORMAT, lpc_npy_copy_i32(a, i32, 6)); /* float file as integers */
    EXPECT(LPC_E_ARG, lpc_npy_copy_f32(a, NULL, 6));
    lpc_npy_free(a);
    remove(path);
    free(path);
}
END_TEST

START_TEST(checkpoints)
{
    lpc_checkpoint *ck = NULL;
    char *path = lpct_tmpfile("m.ckpt");
    EXPECT(LPC_E_ARG, lpc_checkpoint_load(NULL, &ck));
    EXPECT(LPC_E_ARG, lpc_checkpoint_load(path, NULL));
    EXPECT(LPC_E_IO, lpc_checkpoint_load("/nonexistent/x.ckpt", &ck));
    ck_assert_ptr_null(ck);
    char *bad = garbage_file("bad.ckpt", "\x89LPCCKPT truncated");
    EXPECT(LPC_E_FORMAT, lpc_checkpoint_load(bad, &ck));
    ck_assert_ptr_null(ck);
    remove(bad);
    free(bad);
    lpc_checkpoint_free(NULL);
    lpc_tensor *t = tensor2(2, 2, 1.0f);
    lpc_rng *rng = lpc_rng_new(5);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    uint64_t u;
    double d;
    size_t n;
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(NULL, "t", t));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_module(NULL, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_adamw(NULL, "o", opt));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_rng(NULL, "r", rng));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_blob(NULL, "b", "x", 1));
    EXPECT(LPC_E_ARG, lpc_checkpoint_set_u64(NULL, "u", 1));
    EXPECT(LPC_E_ARG, lpc_checkpoint_set_f64(NULL, "f", 1.0));
    EXPECT(LPC_E_ARG, lpc_checkpoint_save(NULL, path));
    ck_assert_int_eq(lpc_checkpoint_num_tensors(NULL), -1);
    ck_assert_ptr_null(lpc_checkpoint_tensor_name(NULL, 0));
    ck_assert_ptr_null(lpc_checkpoint_tensor(NULL, "t"));
    ck_assert_ptr_null(lpc_checkpoint_blob(NULL, "b", &n));
    EXPECT(LPC_E_ARG, lpc_checkpoint_restore_module(NULL, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_checkpoint_restore_adamw(NULL, "o", opt));
    EXPECT(LPC_E_ARG, lpc_checkpoint_restore_rng(NULL, "r", rng));
    EXPECT(LPC_E_ARG, lpc_checkpoint_get_u64(NULL, "u", &u));
    EXPECT(LPC_E_ARG, lpc_checkpoint_get_f64(NULL, "f", &d));

    ck = lpc_checkpoint_new();
    ck_assert_ptr_nonnull(ck);
    ck_assert_int_eq(lpc_checkpoint_add_tensor(ck, "t", t), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(ck, "t", t)); /* name used */
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(ck, "has space", t));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(ck, "", t));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(ck, NULL, t));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_tensor(ck, "u", NULL));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_blob(ck, "b", NULL, 3));
    /* Sizes no object can have: refused before n + 1 is allocated (it wrapped). */
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_blob(ck, "b", "x", SIZE_MAX));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_blob(ck, "b", "x", (size_t)PTRDIFF_MAX));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_rng(ck, "r", NULL));
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_adamw(ck, "o", NULL));
    EXPECT(LPC_E_ARG, lpc_checkpoint_set_u64(ck, "bad\nname", 1));
    ck_assert_int_eq(lpc_checkpoint_set_f64(ck, "f", 0.5), LPC_OK);
    EXPECT(LPC_E_FORMAT, lpc_checkpoint_get_u64(ck, "f", &u)); /* other type */
    EXPECT(LPC_E_FORMAT, lpc_checkpoint_get_f64(ck, "missing", &d));
    EXPECT(LPC_E_ARG, lpc_checkpoint_get_f64(ck, "f", NULL));
    ck_assert_ptr_null(lpc_checkpoint_tensor_name(ck, 1));
    ck_assert_ptr_null(lpc_checkpoint_tensor(ck, "missing"));
    /* The checkpoint's tensors stay its own: freeing one is refused. */
    ck_assert_int_eq(lpc_checkpoint_add_tensor(ck, "owned", t), LPC_OK);
    lpc_clear_error();
    lpc_tensor_free((lpc_tensor *)lpc_checkpoint_tensor(ck, "owned"));
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_int_eq(lpc_tensor_numel(lpc_checkpoint_tensor(ck, "owned")), lpc_tensor_numel(t));
    ck_assert_ptr_null(lpc_checkpoint_blob(ck, "missing", &n));
    EXPECT(LPC_E_FORMAT, lpc_checkpoint_restore_rng(ck, "missing", rng));
    EXPECT_FAIL(lpc_checkpoint_restore_adamw(ck, "missing", opt));
    EXPECT(LPC_E_IO, lpc_checkpoint_save(ck, "/nonexistent/dir/x.ckpt"));
    EXPECT(LPC_E_ARG, lpc_checkpoint_save(ck, NULL));

    /* Restoring into a module: missing tensor, then a shape mismatch. */
    lpc_module *m = lpc_linear_new(3, 2, 0, rng);
    EXPECT(LPC_E_FORMAT, lpc_checkpoint_restore_module(ck, "model.", m));
    EXPECT(LPC_E_ARG, lpc_checkpoint_restore_module(ck, NULL, NULL));
    lpc_checkpoint *ck2 = lpc_checkpoint_new();
    lpc_tensor *wrong = tensor2(3, 3, 2.0f);
    ck_assert_int_eq(lpc_checkpoint_add_tensor(ck2, "weight", wrong), LPC_OK);
    EXPECT(LPC_E_SHAPE, lpc_checkpoint_restore_module(ck2, NULL, m));
    ck_assert_int_eq(lpc_checkpoint_add_module(ck2, "m.", m), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_checkpoint_add_module(ck2, "m.", m)); /* names used: all or nothing */
    ck_assert_int_eq(lpc_checkpoint_num_tensors(ck2), 2);
    /* An optimizer with other parameters than the saved one is refused. */
    lpc_adamw_add_group(opt, 1e-3, 0.0);
    lpc_adamw_add_param(opt, 0, t);
    ck_assert_int_eq(lpc_checkpoint_add_adamw(ck2, "o", opt), LPC_OK);
    lpc_adamw *other = lpc_adamw_new(0.9, 0.999, 1e-8);
    EXPECT_FAIL(lpc_checkpoint_restore_adamw(ck2, "o", other));
    lpc_adamw_free(other);
    lpc_checkpoint_free(ck2);
    lpc_tensor_free(wrong);
    lpc_module_free(m);
    lpc_checkpoint_free(ck);
    lpc_adamw_free(opt);
    lpc_rng_free(rng);
    lpc_tensor_free(t);
    free(path);
}
END_TEST

START_TEST(analysis)
{
    float z[8] = {0, 1, 2, 3, 4, 5, 6, 7}, zc[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    int32_t lab[4] = {0, 1, 0, 1}, badlab[4] = {0, 1, 2, 1}, one[4] = {0, 0, 0, 0};
    double r, x[4] = {1, 2, 3, 4}, c[4] = {2, 2, 2, 2}, w2[2], m2[2], v2[2];
    EXPECT(LPC_E_ARG, lpc_separation_ratio(NULL, 4, 2, lab, 2, &r));
    EXPECT(LPC_E_ARG, lpc_separation_ratio(z, 4, 2, badlab, 2, &r));
    EXPECT(LPC_E_ARG, lpc_separation_ratio(z, 4, 2, lab, 2, NULL));
    EXPECT_FAIL(lpc_separation_ratio(z, 4, 2, one, 2, &r)); /* class 1 absent */
    EXPECT(LPC_E_ARG, lpc_sigma_w(z, 4, 0, lab, 2, &r));
    EXPECT(LPC_E_NUMERIC, lpc_sigma_w(z, 4, 2, (int32_t[]){0, 1, 2, 3}, 4, &r));
    EXPECT(LPC_E_ARG, lpc_norm_cov(z, 0, 2, &r));
    EXPECT(LPC_E_NUMERIC, lpc_norm_cov((float[4]){0}, 2, 2, &r));
    EXPECT(LPC_E_ARG, lpc_pearson(x, NULL, 4, &r));
    EXPECT(LPC_E_ARG, lpc_pearson(x, c, 1, &r));
    EXPECT(LPC_E_NUMERIC, lpc_pearson(x, c, 4, &r));
    ck_assert(isnan(lpc_ln_unit_ball_volume(-1)));
    EXPECT(LPC_E_ARG, lpc_kl_entropy(NULL, 4, 2, 1, 0, &r, NULL));
    EXPECT(LPC_E_ARG, lpc_kl_entropy(z, 4, 2, 4, 0, &r, NULL)); /* needs n >= k + 1 */
    EXPECT(LPC_E_NUMERIC, lpc_kl_entropy(zc, 4, 2, 1, 0, &r, NULL));
    EXPECT(LPC_E_ARG, lpc_gmm1d_fit(x, 1, w2, m2, v2, &r));
    EXPECT(LPC_E_ARG, lpc_gmm1d_fit(NULL, 4, w2, m2, v2, &r));
    EXPECT_FAIL(lpc_gmm1d_fit(c, 4, w2, m2, v2, &r)); /* one distinct value */
    lpc_binarity *b = NULL;
    EXPECT(LPC_E_ARG, lpc_binarity_compute(NULL, 4, 2, &b));
    EXPECT(LPC_E_NUMERIC, lpc_binarity_compute(zc, 4, 2, &b));
    ck_assert_ptr_null(b);
    lpc_binarity_free(NULL);
    EXPECT(LPC_E_ARG, lpc_binarity_get(NULL, LPC_BINARITY_L, &r));
    EXPECT(LPC_E_ARG, lpc_binarity_dim(NULL, 0, &r, NULL, NULL));
    float zb[16] = {0, 0, 1, 1, 0.1f, 0.2f, 0.9f, 1.1f, 0.05f, 0.1f, 1.05f, 0.95f, 0, 0.3f, 1, 0.8f};
    ck_assert_int_eq(lpc_binarity_compute(zb, 8, 2, &b), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_binarity_get(b, (lpc_binarity_metric)42, &r));
    EXPECT(LPC_E_ARG, lpc_binarity_get(b, LPC_BINARITY_L, NULL));
    EXPECT(LPC_E_ARG, lpc_binarity_dim(b, 2, &r, NULL, NULL));
    lpc_binarity_free(b);
    lpc_nc *nc = NULL;
    EXPECT(LPC_E_ARG, lpc_nc_compute(NULL, 4, 2, lab, 2, NULL, NULL, NULL, &nc));
    EXPECT(LPC_E_ARG, lpc_nc_compute(z, 4, 2, lab, 1, NULL, NULL, NULL, &nc));
    EXPECT(LPC_E_ARG, lpc_nc_compute(z, 4, 2, badlab, 2, NULL, NULL, NULL, &nc));
    EXPECT(LPC_E_NUMERIC, lpc_nc_compute(zc, 4, 2, lab, 2, NULL, NULL, NULL, &nc));
    ck_assert_ptr_null(nc);
    lpc_nc_free(NULL);
    EXPECT(LPC_E_ARG, lpc_nc_get(NULL, LPC_NC_NC1, &r));
    ck_assert_int_eq(lpc_nc_compute(z, 4, 2, lab, 2, NULL, NULL, NULL, &nc), LPC_OK);
    EXPECT(LPC_E_STATE, lpc_nc_get(nc, LPC_NC_NC3, &r)); /* needs w */
    EXPECT(LPC_E_STATE, lpc_nc_get(nc, LPC_NC_NC4, &r));
    EXPECT(LPC_E_ARG, lpc_nc_get(nc, (lpc_nc_metric)42, &r));
    lpc_nc_free(nc);
}
END_TEST

START_TEST(ood_and_generalized_collapse)
{
    float z[8] = {0, 1, 2, 3, 4, 5, 6, 7}, bad[2] = {0, NAN}, logits[4] = {1, 2, 3, 4};
    int32_t lab[4] = {0, 1, 0, 1}, badlab[4] = {0, 1, 2, 1};
    double r = 7, id[2] = {1, 2}, ood[2] = {0, NAN}, s[4];
    EXPECT(LPC_E_ARG, lpc_ood_metric_compute(NULL, 2, id, 2, LPC_OOD_AUROC, &r));
    EXPECT(LPC_E_ARG, lpc_ood_metric_compute(id, 2, id, 0, LPC_OOD_AUROC, &r));
    EXPECT(LPC_E_ARG, lpc_ood_metric_compute(id, 2, id, 2, (lpc_ood_metric)9, &r));
    EXPECT(LPC_E_ARG, lpc_ood_metric_compute(id, 2, id, 2, LPC_OOD_AUROC, NULL));
    EXPECT(LPC_E_NUMERIC, lpc_ood_metric_compute(id, 2, ood, 2, LPC_OOD_FPR95, &r));
    ck_assert(r == 7);
    ck_assert_ptr_null(lpc_ood_metric_name((lpc_ood_metric)-1));
    ck_assert_ptr_null(lpc_ood_score_name((lpc_ood_score)99));
    EXPECT(LPC_E_ARG, lpc_ood_logit_score(NULL, 2, 2, LPC_OOD_MSP, 1.0, s));
    EXPECT(LPC_E_ARG, lpc_ood_logit_score(logits, 2, 2, LPC_OOD_MAHALANOBIS, 1.0, s));
    EXPECT(LPC_E_ARG, lpc_ood_logit_score(logits, 2, 2, LPC_OOD_ENERGY, 0.0, s));
    EXPECT(LPC_E_ARG, lpc_ood_logit_score(logits, 2, 0, LPC_OOD_ENERGY, 1.0, s));
    EXPECT(LPC_E_ARG, lpc_ood_logit_score(logits, 2, 2, LPC_OOD_ENERGY, 1.0, NULL));
    EXPECT(LPC_E_NUMERIC, lpc_ood_logit_score(bad, 1, 2, LPC_OOD_MSP, 1.0, s));
    lpc_ood_detector_options_init(NULL); /* no-op */
    lpc_ood_detector_options o;
    lpc_ood_detector_options_init(&o);
    lpc_ood_detector *d = (lpc_ood_detector *)&d;
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, NULL));
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(NULL, 4, 2, 1, 1, lab), 2, &o, &d));
    ck_assert_ptr_null(d);
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, badlab), 2, &o, &d));
    EXPECT(LPC_E_ARG,
           lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 1, NULL,
                                &d)); /* default NECO d = K - 1 */
    int32_t one_class[4] = {0, 0, 0, 0};
    EXPECT(LPC_E_NUMERIC, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, one_class), 2, &o, &d));
    o.size = 1;
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, &d));
    lpc_ood_detector_options_init(&o);
    o.temperature = -1;
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, &d));
    lpc_ood_detector_options_init(&o);
    o.neco_dim = 3;
    EXPECT(LPC_E_ARG, lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, &d));
    lpc_ood_detector_options_init(&o);
    o.b = logits;
    EXPECT(LPC_E_ARG,
           lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, &d)); /* b without w */
    lpc_ood_detector_options_init(&o);
    o.vim_dim = 1;
    EXPECT(LPC_E_ARG,
           lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o,
                                &d)); /* vim_dim without w */
    o.w = logits;
    o.vim_dim = 2;
    EXPECT(LPC_E_ARG,
           lpc_ood_detector_new(LPCT_SAMPLES(z, 4, 2, 1, 1, lab), 2, &o, &d)); /* vim_dim >= P */
    ck_assert_ptr_null(d);
    float zt[8] = {0, 0, 1, 2, 5, 5, 7, 6};
    ck_assert_int_eq(lpc_ood_detector_new(LPCT_SAMPLES(zt, 4, 2, 1, 1, lab), 2, NULL, &d), LPC_OK);
    ck_assert_int_eq(lpc_ood_detector_dim(NULL), 0);
    ck_assert_int_eq(lpc_ood_detector_classes(NULL), 0);
    EXPECT(LPC_E_ARG, lpc_ood_detector_score(NULL, LPC_OOD_MSP, z, logits, 2, s));
    EXPECT(LPC_E_ARG, lpc_ood_detector_score(d, (lpc_ood_score)42, z, logits, 2, s));
    EXPECT(LPC_E_ARG, lpc_ood_detector_score(d, LPC_OOD_MSP, z, logits, 2, NULL));
    EXPECT(LPC_E_ARG, lpc_ood_detector_score(d, LPC_OOD_MSP, z, logits, 0, s));
    EXPECT(LPC_E_NUMERIC, lpc_ood_detector_score(d, LPC_OOD_MAHALANOBIS, bad, NULL, 1, s));
    EXPECT(LPC_E_STATE, lpc_ood_detector_score(d, LPC_OOD_ENERGY, z, NULL, 2, s)); /* no logits */
    EXPECT(LPC_E_STATE, lpc_ood_detector_score(d, LPC_OOD_VIM, z, logits, 2, s));   /* no w */
    EXPECT(LPC_E_ARG, lpc_ood_detector_nc5(NULL, z, 4, &r));
    EXPECT(LPC_E_ARG, lpc_ood_detector_nc5(d, z, 4, NULL));
    EXPECT(LPC_E_ARG, lpc_ood_detector_nc5(d, z, 0, &r));
    EXPECT(LPC_E_NUMERIC, lpc_ood_detector_nc5(d, (float[2]){0, 0}, 1, &r));
    lpc_ood_detector_free(d);
    lpc_ood_detector_free(NULL);
    lpc_gnc *g = (lpc_gnc *)&g;
    EXPECT(LPC_E_ARG, lpc_gnc_compute(z, 4, 2, lab, 2, NULL));
    EXPECT(LPC_E_ARG, lpc_gnc_compute(NULL, 4, 2, lab, 2, &g));
    ck_assert_ptr_null(g);
    EXPECT(LPC_E_ARG, lpc_gnc_compute(z, 4, 2, lab, 1, &g));
    EXPECT(LPC_E_ARG, lpc_gnc_compute(z, 4, 2, badlab, 2, &g));
    EXPECT(LPC_E_NUMERIC, lpc_gnc_compute(z, 4, 2, (int32_t[]){0, 0, 0, 0}, 2, &g));
    EXPECT(LPC_E_NUMERIC, lpc_gnc_compute((float[8]){1, 1, 1, 1, 1, 1, 1, 1}, 4, 2, lab, 2, &g));
    EXPECT(LPC_E_ARG, lpc_gnc_get(NULL, LPC_GNC_LOG_VAR, &r));
    ck_assert_int_eq(lpc_gnc_compute(zt, 4, 2, lab, 2, &g), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_gnc_get(g, (lpc_gnc_metric)42, &r));
    EXPECT(LPC_E_ARG, lpc_gnc_get(g, LPC_GNC_LOG_VAR, NULL));
    ck_assert_ptr_null(lpc_gnc_metric_name((lpc_gnc_metric)-1));
    lpc_gnc_free(g);
    lpc_gnc_free(NULL);
}
END_TEST

START_TEST(deepfool)
{
    lpc_rng *rng = lpc_rng_new(9);
    lpc_module *m = lpc_linear_new(4, 3, 1, rng);
    float x[8] = {1, 2, 3, 4, 0, 0, 0, 0};
    double ratios[2], mean;
    float r[8];
    EXPECT(LPC_E_STATE, lpc_deepfool(m, x, 1, 4, 1, 1, 10, 0.02, 50, ratios, &mean)); /* train mode */
    lpc_module_set_train(m, 0);
    EXPECT(LPC_E_ARG, lpc_deepfool(NULL, x, 1, 4, 1, 1, 10, 0.02, 50, ratios, &mean));
    EXPECT(LPC_E_ARG, lpc_deepfool(m, NULL, 1, 4, 1, 1, 10, 0.02, 50, ratios, &mean));
    EXPECT(LPC_E_ARG, lpc_deepfool(m, x, 1, 4, 1, 1, 10, 0.02, 50, ratios, NULL));
    EXPECT(LPC_E_ARG, lpc_deepfool(m, x, 0, 4, 1, 1, 10, 0.02, 50, ratios, &mean));
    /* Sizes whose products overflow: refused before they are multiplied out. */
    EXPECT(LPC_E_ARG, lpc_deepfool(m, x, 1, INT_MAX, INT_MAX, INT_MAX, 10, 0.02, 50, ratios,
                                   &mean));
    ck_assert_msg(strstr(lpc_last_error(), "more than 2^40 elements"), "%s", lpc_last_error());
    EXPECT(LPC_E_ARG, lpc_deepfool(m, x, INT64_MAX / 2, 4, 1, 1, 10, 0.02, 50, ratios, &mean));
    EXPECT(LPC_E_SHAPE, lpc_deepfool(m, x, 1, 5, 1, 1, 10, 0.02, 50, ratios, &mean));
    EXPECT(LPC_E_NUMERIC, lpc_deepfool(m, x, 2, 4, 1, 1, 10, 0.02, 50, ratios, &mean));
    EXPECT(LPC_E_ARG, lpc_deepfool_perturb(m, x, 1, 4, 1, 1, 10, 0.02, 50, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_deepfool_perturb(NULL, x, 1, 4, 1, 1, 10, 0.02, 50, r, NULL));
    lpc_module_free(m);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(lipschitz)
{
    lpc_rng *rng = lpc_rng_new(13);
    lpc_module *m = lpc_linear_new(4, 3, 1, rng);
    float x[8] = {1, 2, 3, 4, 0, 0, 0, 0}, w[6] = {1, 0, 0, 1, 1, 1}, logits[6] = {1, 0, 0};
    int32_t labels[2] = {0, 1}, bad_label[2] = {3, 0};
    double norms[2] = {-1, -1}, b = -1, radii[2], eps[2] = {0, 1}, acc[2];
    lpc_lipschitz_summary sum = {.size = sizeof sum};
    lpc_lipschitz_estimate_options eo;
    lpc_lipschitz_bound_options bo;
    lpc_lipschitz_estimate_options_init(NULL); /* no-ops */
    lpc_lipschitz_bound_options_init(NULL);
    /* estimate */
    EXPECT(LPC_E_STATE,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), NULL, norms, &sum));
    EXPECT(LPC_E_STATE, lpc_lipschitz_bound(m, 4, 1, 1, NULL, &b)); /* train mode */
    EXPECT(LPC_E_STATE, lpc_lipschitz_bound_estimate(m, 4, 1, 1, NULL, &b));
    lpc_module_set_train(m, 0);
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(NULL, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), NULL, norms, &sum));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(NULL, 2, 4, 1, 1, labels), NULL, norms, &sum));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, NULL), NULL, norms, &sum));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), NULL, NULL, NULL));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 0, 4, 1, 1, labels), NULL, norms, &sum));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 0, 1, labels), NULL, norms, &sum));
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, bad_label), NULL, norms, &sum));
    EXPECT(LPC_E_SHAPE,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 2, 1, 2, labels), NULL, norms, &sum));
    lpc_lipschitz_estimate_options_init(&eo);
    eo.chunk = 0;
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), &eo, norms, &sum));
    lpc_lipschitz_estimate_options_init(&eo);
    eo.min_norm = NAN;
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), &eo, norms, &sum));
    eo.size = 0;
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), &eo, norms, &sum));
    sum.size = 0;
    EXPECT(LPC_E_ARG,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(x, 2, 4, 1, 1, labels), NULL, norms, &sum));
    ck_assert(norms[0] == -1 && norms[1] == -1); /* untouched on failure */
    float inf_x[8] = {INFINITY, 0, 0, 0, 1, 1, 1, 1};
    EXPECT(LPC_E_NUMERIC,
           lpc_lipschitz_estimate(m, LPCT_SAMPLES(inf_x, 2, 4, 1, 1, labels), NULL, norms, NULL));
    /* bound */
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(NULL, 4, 1, 1, NULL, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 4, 1, 1, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 0, 1, 1, NULL, &b));
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_bound(m, 5, 1, 1, NULL, &b));
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_bound(m, 4, 2, 2, NULL, &b)); /* images into a linear */
    lpc_lipschitz_bound_options_init(&bo);
    bo.tol = 0;
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 4, 1, 1, &bo, &b));
    lpc_lipschitz_bound_options_init(&bo);
    bo.max_iter = 0;
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 4, 1, 1, &bo, &b));
    lpc_lipschitz_bound_options_init(&bo);
    bo.dense_limit = -1;
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 4, 1, 1, &bo, &b));
    bo.size = 1;
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound(m, 4, 1, 1, &bo, &b));
    ck_assert(b == -1);
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound_estimate(NULL, 4, 1, 1, NULL, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound_estimate(m, 4, 1, 1, NULL, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound_estimate(m, 4, 0, 1, NULL, &b));
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_bound_estimate(m, 3, 1, 1, NULL, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_bound_estimate(m, 4, 1, 1, &bo, &b)); /* size 1 */
    ck_assert(b == -1);
    lpc_tensor_data(lpc_module_param(m, 0))[2] = NAN;
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_bound(m, 4, 1, 1, NULL, &b));
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_bound_estimate(m, 4, 1, 1, NULL, &b));
    lpc_module *conv = lpc_conv2d_new(2, 2, 3, 1, 0, 0, rng);
    lpc_module_set_train(conv, 0);
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_bound(conv, 2, 2, 2, NULL, &b)); /* kernel > input */
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_bound(conv, 3, 4, 4, NULL, &b)); /* channels */
    lpc_tensor_data(lpc_module_param(conv, 0))[5] = INFINITY;
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_bound(conv, 2, 4, 4, NULL, &b));
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_bound_estimate(conv, 2, 4, 4, NULL, &b));
    ck_assert(b == -1);
    lpc_module_free(conv);
    /* certificates */
    lpc_lipschitz_cert *cert = (lpc_lipschitz_cert *)&b;
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(1.0, NULL, 3, 2, &cert));
    ck_assert_ptr_null(cert);
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(1.0, w, 3, 2, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(1.0, w, 1, 2, &cert));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(1.0, w, 3, 0, &cert));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(-1.0, w, 3, 2, &cert));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_new(INFINITY, w, 3, 2, &cert));
    float nan_w[6] = {1, 0, NAN, 1, 1, 1};
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_cert_new(1.0, nan_w, 3, 2, &cert));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_head(NULL, 4, 1, 1, NULL, &cert));
    ck_assert_int_eq(lpc_lipschitz_cert_new(1.0, w, 3, 2, &cert), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_latent(NULL, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_latent(cert, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_pair(NULL, 0, 1, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_pair(cert, 0, 1, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_pair(cert, 0, 3, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_pair(cert, -1, 0, &b));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(NULL, logits, 2, labels, radii));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(cert, NULL, 2, labels, radii));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(cert, logits, 2, NULL, radii));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(cert, logits, 2, labels, NULL));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(cert, logits, 0, labels, radii));
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_radii(cert, logits, 2, bad_label, radii));
    logits[4] = NAN;
    EXPECT(LPC_E_NUMERIC, lpc_lipschitz_cert_radii(cert, logits, 2, labels, radii));
    lpc_lipschitz_cert_free(cert);
    lpc_lipschitz_cert_free(NULL);
    radii[0] = 0.5;
    radii[1] = 0.0;
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(NULL, 2, eps, 2, acc));
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 2, NULL, 2, acc));
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 2, eps, 2, NULL));
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 0, eps, 2, acc));
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 2, eps, 0, acc));
    eps[1] = -1;
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 2, eps, 2, acc));
    eps[1] = 1;
    radii[1] = NAN;
    EXPECT(LPC_E_ARG, lpc_certified_accuracy(radii, 2, eps, 2, acc));
    lpc_module_free(m);
    /* A head in training mode; a head with a custom backbone and no bound. */
    lpc_head *h = NULL;
    ck_assert_int_eq(lpc_head_new(lpc_linear_new(4, 3, 1, rng), 3, NULL, 3, 2, rng, &h),
                     LPC_OK);
    EXPECT(LPC_E_STATE, lpc_lipschitz_cert_head(h, 4, 1, 1, NULL, &cert));
    lpc_module_set_train(lpc_head_module(h), 0);
    EXPECT(LPC_E_ARG, lpc_lipschitz_cert_head(h, 4, 1, 1, NULL, NULL));
    EXPECT(LPC_E_SHAPE, lpc_lipschitz_cert_head(h, 5, 1, 1, NULL, &cert));
    ck_assert_ptr_null(cert);
    lpc_head_free(h);
    lpc_rng_free(rng);
}
END_TEST

/* The sample view and the output structs: every consumer refuses a NULL
 * view, a size below sizeof(lpc_samples) and shapes past the address space
 * with LPC_E_ARG naming itself; an outputs size below sizeof(size_t) is
 * LPC_E_ARG too. */
#define EXPECT_NAMED(code, who, call)                                                     \
    do {                                                                                  \
        EXPECT(code, call);                                                               \
        ck_assert_msg(strstr(lpc_last_error(), who), "%s: %s", who, lpc_last_error());    \
    } while (0)
START_TEST(sample_view)
{
    float x[8] = {0.5f, 0.2f, 0.3f, 0.4f, 0.1f, 0.9f, 0.3f, 0.2f};
    const int32_t y[2] = {0, 1};
    lpc_samples v = lpc_samples_make(x, 2, 4, 1, 1, y);
    ck_assert_uint_eq(v.size, sizeof v);
    ck_assert_ptr_eq(v.x, x);
    ck_assert_ptr_eq(v.labels, y);
    ck_assert(v.n == 2 && v.c == 4 && v.h == 1 && v.w == 1);
    lpc_rng *rng = lpc_rng_new(3);
    lpc_module *m = lpc_linear_new(4, 3, 1, rng);
    lpc_module_set_train(m, 0);
    double norms[2], ra[1], radius = 0.1, values[LPC_ATTACK_CHECK_COUNT];
    unsigned passed;
    lpc_lipschitz_summary sum = {.size = sizeof sum};
    lpc_ood_detector *d = (lpc_ood_detector *)&d;
    lpc_samples small = v, zero = v, huge = v;
    small.size = sizeof small - 1;
    zero.size = 0;
    huge.n = INT64_MAX / 2;
    huge.c = huge.h = huge.w = 1 << 20;
    const lpc_samples *bad[4] = {NULL, &small, &zero, &huge};
    lpc_fmn_outputs fout = {.size = sizeof fout, .norms = norms};
    lpc_pgd_outputs pout = {.size = sizeof pout, .robust_accuracy = ra};
    for (int i = 0; i < 4; i++) {
        const lpc_samples *s = bad[i];
        EXPECT_NAMED(LPC_E_ARG, "lpc_fmn", lpc_fmn(m, s, NULL, &fout));
        EXPECT_NAMED(LPC_E_ARG, "lpc_pgd", lpc_pgd(m, s, &radius, 1, NULL, &pout));
        EXPECT_NAMED(LPC_E_ARG, "lpc_random_search",
                     lpc_random_search(m, s, &radius, 1, NULL, &pout));
        EXPECT_NAMED(LPC_E_ARG, "lpc_attack_checks",
                     lpc_attack_checks(m, s, NULL, &passed, values));
        EXPECT_NAMED(LPC_E_ARG, "lpc_lipschitz_estimate",
                     lpc_lipschitz_estimate(m, s, NULL, norms, &sum));
        d = (lpc_ood_detector *)&d;
        EXPECT_NAMED(LPC_E_ARG, "lpc_ood_detector_new", lpc_ood_detector_new(s, 2, NULL, &d));
        ck_assert_ptr_null(d);
    }
    /* Features wider than INT_MAX. */
    lpc_samples wide = lpc_samples_make(x, 1, 1 << 16, 1 << 16, 1, y);
    EXPECT_NAMED(LPC_E_ARG, "lpc_ood_detector_new", lpc_ood_detector_new(&wide, 2, NULL, &d));
    /* Output structs that were not sized. */
    fout.size = 0;
    pout.size = 0;
    EXPECT_NAMED(LPC_E_ARG, "lpc_fmn", lpc_fmn(m, &v, NULL, &fout));
    EXPECT_NAMED(LPC_E_ARG, "lpc_pgd", lpc_pgd(m, &v, &radius, 1, NULL, &pout));
    EXPECT_NAMED(LPC_E_ARG, "lpc_random_search", lpc_random_search(m, &v, &radius, 1, NULL, &pout));
    /* A NULL outputs struct: nothing to write (FMN), no robust accuracy (PGD). */
    EXPECT_NAMED(LPC_E_ARG, "lpc_fmn", lpc_fmn(m, &v, NULL, NULL));
    EXPECT_NAMED(LPC_E_ARG, "lpc_pgd", lpc_pgd(m, &v, &radius, 1, NULL, NULL));
    EXPECT_NAMED(LPC_E_ARG, "lpc_random_search", lpc_random_search(m, &v, &radius, 1, NULL, NULL));
    /* The valid view works. */
    pout.size = sizeof pout;
    ck_assert_int_eq(lpc_pgd(m, &v, &radius, 1, NULL, &pout), LPC_OK);
    ck_assert(ra[0] >= 0 && ra[0] <= 1);
    lpc_module_free(m);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(attacks)
{
    lpc_rng *rng = lpc_rng_new(10);
    lpc_module *m = lpc_linear_new(4, 3, 1, rng);
    float x[8] = {0.5f, 0.2f, 0.3f, 0.4f, 0, 0, 0, 0}, r[8];
    const float mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1}, bad_std[4] = {1, 0, 1, 1};
    const int32_t y[2] = {0, 7};
    double norms[2], ra[2], radii[2] = {0.1, -1}, values[LPC_ATTACK_CHECK_COUNT];
    unsigned char ok[2];
    unsigned passed;
    lpc_fmn_options fo;
    lpc_pgd_options po;
    lpc_random_search_options ro;
    lpc_attack_checks_options co;
    lpc_fmn_options_init(&fo);
    lpc_pgd_options_init(&po);
    lpc_random_search_options_init(&ro);
    lpc_attack_checks_options_init(&co);
    lpc_fmn_options_init(NULL); /* no-ops */
    lpc_pgd_options_init(NULL);
    lpc_random_search_options_init(NULL);
    lpc_attack_checks_options_init(NULL);
    /* Training mode. */
    EXPECT(LPC_E_STATE,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_STATE,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &po, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_STATE,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &ro,
                             LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_STATE,
           lpc_attack_checks(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &co, &passed, values));
    lpc_module_set_train(m, 0);
    /* NULL model, x or outputs; bad shapes; zero samples. */
    EXPECT(LPC_E_ARG,
           lpc_fmn(NULL, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(NULL, 1, 4, 1, 1, NULL), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fo,
                   LPCT_FMN_OUT(NULL, NULL, NULL, NULL)));
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 0, 4, 1, 1, NULL), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_SHAPE,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 5, 1, 1, NULL), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_NUMERIC,
           lpc_fmn(m, LPCT_SAMPLES(x, 2, 4, 1, 1, NULL), &fo,
                   LPCT_FMN_OUT(r, norms, NULL, ok))); /* zero sample */
    EXPECT(LPC_E_ARG,
           lpc_pgd(NULL, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &po, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &po, LPCT_PGD_OUT(ok, NULL)));
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), NULL, 1, &po, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 0, &po, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 2, &po,
                   LPCT_PGD_OUT(ok, ra))); /* radius < 0 */
    EXPECT(LPC_E_ARG,
           lpc_random_search(NULL, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &ro,
                             LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &ro,
                             LPCT_PGD_OUT(ok, NULL)));
    EXPECT(LPC_E_ARG,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 2, &ro,
                             LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_attack_checks(NULL, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &co, &passed, values));
    EXPECT(LPC_E_ARG, lpc_attack_checks(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &co, NULL, values));
    EXPECT(LPC_E_ARG,
           lpc_attack_checks(m, LPCT_SAMPLES(NULL, 1, 4, 1, 1, NULL), &co, &passed, values));
    /* Labels outside [0, K). */
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, y + 1), &fo, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, y + 1), radii, 1, &po, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_ARG,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, y + 1), radii, 1, &ro,
                             LPCT_PGD_OUT(ok, ra)));
    /* Options out of range, or never initialised (size 0). */
    lpc_fmn_options fb = fo;
    fb.steps = 0;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb = fo;
    fb.min_step = 2 * fb.max_step;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb = fo;
    fb.gamma = 1.5;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb = fo;
    fb.norm = (lpc_attack_norm)9;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb = fo;
    fb.size = 0;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    /* The pixel domain: needs mean and std, std > 0, pixels in [0,1]. */
    fb = fo;
    fb.domain = LPC_ATTACK_DOMAIN_PIXEL_BOX;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb.mean = mean;
    fb.std = bad_std;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    fb.std = std;
    x[0] = 2.0f; /* pixel 2 */
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    x[0] = 0.5f;
    fb.domain = (lpc_attack_domain)5;
    EXPECT(LPC_E_ARG,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &fb, LPCT_FMN_OUT(r, norms, NULL, ok)));
    lpc_pgd_options pb = po;
    pb.restarts = 0;
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &pb, LPCT_PGD_OUT(ok, ra)));
    pb = po;
    pb.step_fraction = -1;
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &pb, LPCT_PGD_OUT(ok, ra)));
    pb = po;
    pb.loss = (lpc_attack_loss)3;
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &pb, LPCT_PGD_OUT(ok, ra)));
    pb = po;
    pb.schedule = (lpc_attack_schedule)3;
    EXPECT(LPC_E_ARG,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &pb, LPCT_PGD_OUT(ok, ra)));
    lpc_random_search_options rb = ro;
    rb.queries = 0;
    EXPECT(LPC_E_ARG,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &rb,
                             LPCT_PGD_OUT(ok, ra)));
    rb = ro;
    rb.p_init = 2;
    EXPECT(LPC_E_ARG,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, &rb,
                             LPCT_PGD_OUT(ok, ra)));
    lpc_attack_checks_options cb = co;
    cb.radius = 0;
    EXPECT(LPC_E_ARG,
           lpc_attack_checks(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &cb, &passed, values));
    cb = co;
    cb.acc_tolerance = -1;
    EXPECT(LPC_E_ARG,
           lpc_attack_checks(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), &cb, &passed, values));
    /* A non-finite model output names the sample. */
    lpc_tensor_data(lpc_module_param(m, 0))[0] = NAN;
    EXPECT(LPC_E_NUMERIC,
           lpc_fmn(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), NULL, LPCT_FMN_OUT(r, norms, NULL, ok)));
    EXPECT(LPC_E_NUMERIC,
           lpc_pgd(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, NULL, LPCT_PGD_OUT(ok, ra)));
    EXPECT(LPC_E_NUMERIC,
           lpc_random_search(m, LPCT_SAMPLES(x, 1, 4, 1, 1, NULL), radii, 1, NULL,
                             LPCT_PGD_OUT(ok, ra)));
    /* Unknown enum values have no name. */
    ck_assert_ptr_null(lpc_attack_norm_name((lpc_attack_norm)9));
    ck_assert_ptr_null(lpc_attack_domain_name((lpc_attack_domain)9));
    ck_assert_ptr_null(lpc_attack_loss_name((lpc_attack_loss)9));
    ck_assert_ptr_null(lpc_attack_schedule_name((lpc_attack_schedule)9));
    ck_assert_ptr_null(lpc_attack_check_name((lpc_attack_check)9));
    lpc_module_free(m);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(head)
{
    lpc_rng *rng = lpc_rng_new(11);
    lpc_head *h = (lpc_head *)&h;
    EXPECT(LPC_E_ARG, lpc_head_new(NULL, 4, NULL, 4, 3, rng, &h));
    ck_assert_ptr_null(h);
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, NULL, 4, 3, rng, NULL));
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, NULL, 4, 3, NULL, &h));
    ck_assert_msg(strstr(lpc_last_error(), "the generator is NULL"), "%s", lpc_last_error());
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, NULL, 4, 1, rng, &h));
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 0, NULL, 4, 3, rng, &h));
    /* Without a penultimate layer P must equal D. */
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, NULL, 2, 3, rng, &h));
    ck_assert_msg(strstr(lpc_last_error(), "feature width 4 and latent width 2"), "%s",
                  lpc_last_error());
    EXPECT(LPC_E_ARG, lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, lpc_linear_new(4, 2, 1, rng),
                                   0, 3, rng, &h));
    /* A backbone some container owns is refused and left to its owner. */
    lpc_module *seq = lpc_sequential_new();
    lpc_module *owned = lpc_linear_new(4, 4, 1, rng);
    ck_assert_int_eq(lpc_sequential_add(seq, "0", owned), LPC_OK);
    EXPECT(LPC_E_ARG, lpc_head_new(owned, 4, NULL, 4, 3, rng, &h));
    ck_assert_ptr_null(h);
    lpc_module_free(seq);
    /* A head's network belongs to the head: freeing it or adopting it
     * elsewhere is refused (both used to free it twice). */
    ck_assert_int_eq(lpc_head_new(lpc_linear_new(4, 4, 1, rng), 4, NULL, 4, 3, rng, &h), LPC_OK);
    lpc_module *net = lpc_head_module(h);
    lpc_clear_error();
    lpc_module_free(net);
    ck_assert_msg(strstr(lpc_last_error(), "owned by a head"), "%s", lpc_last_error());
    seq = lpc_sequential_new();
    EXPECT(LPC_E_ARG, lpc_sequential_add(seq, "net", net));
    ck_assert_msg(strstr(lpc_last_error(), "belongs to a head"), "%s", lpc_last_error());
    lpc_module *custom = lpc_module_new(identity_forward, NULL, NULL);
    EXPECT(LPC_E_ARG, lpc_module_add_child(custom, "net", net));
    lpc_head *h2 = NULL;
    EXPECT(LPC_E_ARG, lpc_head_new(net, 3, NULL, 3, 2, rng, &h2));
    ck_assert_ptr_null(h2);
    ck_assert_int_eq(lpc_module_num_params(net), 3); /* still whole */
    lpc_module_free(custom);
    lpc_module_free(seq);
    lpc_head_free(h);
    h = NULL;
    lpc_head_free(NULL);
    EXPECT(LPC_E_ARG, lpc_head_set(NULL, LPC_HEAD_LOSS, 0));
    ck_assert(isnan(lpc_head_get(NULL, LPC_HEAD_LOSS)));
    ck_assert_ptr_null(lpc_head_module(NULL));
    ck_assert_int_eq(lpc_head_latent_dim(NULL), -1);
    ck_assert_int_eq(lpc_head_num_classes(NULL), -1);
    EXPECT_NULL(lpc_head_adamw_new(NULL, 1e-3, 0.0));
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *z;
    EXPECT(LPC_E_ARG, lpc_head_forward(NULL, NULL, NULL, NULL, &z, NULL));
    EXPECT(LPC_E_ARG, lpc_head_forward(NULL, ctx, NULL, NULL, &z, NULL));
    EXPECT_NULL(lpc_head_loss(NULL, NULL, NULL, NULL, 1.0, 16.0, 0.1, NULL));

    ck_assert_int_eq(lpc_head_new(lpc_linear_new(5, 4, 1, rng), 4, lpc_linear_new(4, 2, 1, rng),
                                  2, 3, rng, &h), LPC_OK);
    const struct { lpc_head_setting what; double bad; } bounds[] = {
        {LPC_HEAD_LOSS, 3}, {LPC_HEAD_LOSS, -1}, {LPC_HEAD_LOSS, 0.5}, {LPC_HEAD_L2, 3},
        {LPC_HEAD_SUPCON, 2}, {LPC_HEAD_SUPCON_TAU, 0}, {LPC_HEAD_SUPCON_TAU, 101},
        {LPC_HEAD_SUPCON_TAU, NAN}, {LPC_HEAD_COSFACE_S, 0}, {LPC_HEAD_COSFACE_S, INFINITY},
        {LPC_HEAD_COSFACE_M, -0.1}, {LPC_HEAD_COSFACE_M, 1.5}, {LPC_HEAD_MARGIN_CLAMP, 2},
        {LPC_HEAD_MARGIN_CLAMP, 0.5}, {(lpc_head_setting)42, 0}};
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        double before = lpc_head_get(h, bounds[i].what);
        EXPECT(LPC_E_ARG, lpc_head_set(h, bounds[i].what, bounds[i].bad));
        if (bounds[i].what != 42)
            ck_assert_double_eq(lpc_head_get(h, bounds[i].what), before);
    }
    ck_assert(isnan(lpc_head_get(h, (lpc_head_setting)42)));
    lpc_tensor *x = tensor2(2, 7, 1.0f); /* the backbone takes 5 features */
    int32_t lab[2] = {0, 9};
    lpc_ctx_reset(ctx);
    EXPECT(LPC_E_SHAPE, lpc_head_forward(h, ctx, x, NULL, &z, NULL));
    lpc_tensor *x5 = tensor2(2, 5, 1.0f);
    EXPECT_OP(ctx, LPC_E_ARG, lpc_head_loss(h, ctx, x5, lab, 1.0, 16.0, 0.1, NULL)); /* label 9 */
    EXPECT_OP(ctx, LPC_E_ARG, lpc_head_loss(h, ctx, x5, NULL, 1.0, 16.0, 0.1, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_head_loss(h, ctx, x5, (int32_t[]){0, 1}, -1.0, 16.0, 0.1, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_head_loss(h, ctx, x5, (int32_t[]){0, 1}, NAN, 16.0, 0.1, NULL));
    EXPECT_OP(ctx, LPC_E_ARG, lpc_head_loss(h, ctx, NULL, (int32_t[]){0, 1}, 1.0, 16.0, 0.1, NULL));
    EXPECT_NULL(lpc_head_adamw_new(h, INFINITY, 0.0));
    lpc_tensor_free(x);
    lpc_tensor_free(x5);
    lpc_head_free(h);
    lpc_ctx_free(ctx);
    lpc_rng_free(rng);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("misuse");
    tcase_add_test(tc, status_version_threads);
    tcase_add_test(tc, ctx_and_tensor);
    tcase_add_test(tc, ops_and_losses);
    tcase_add_test(tc, rng);
    tcase_add_test(tc, modules);
    tcase_add_test(tc, extending);
    tcase_add_test(tc, optimizer_and_schedules);
    tcase_add_test(tc, datasets_and_batcher);
    tcase_add_test(tc, npy_files);
    tcase_add_test(tc, checkpoints);
    tcase_add_test(tc, analysis);
    tcase_add_test(tc, ood_and_generalized_collapse);
    tcase_add_test(tc, deepfool);
    tcase_add_test(tc, lipschitz);
    tcase_add_test(tc, attacks);
    tcase_add_test(tc, sample_view);
    tcase_add_test(tc, head);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
