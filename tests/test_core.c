/* Core: status table, thread-local errors, ctx arena and sticky errors,
 * tensors, allocation counter, RNG, version. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

START_TEST(status_table)
{
    ck_assert_str_eq(lpc_status_name(LPC_OK), "LPC_OK");
    ck_assert_str_eq(lpc_status_name(LPC_E_SHAPE), "LPC_E_SHAPE");
    ck_assert_str_eq(lpc_status_name(LPC_E_NUMERIC), "LPC_E_NUMERIC");
    ck_assert_str_eq(lpc_status_name((lpc_status)-99), "LPC_E_UNKNOWN");
    ck_assert_str_eq(lpc_strerror(LPC_E_FORMAT), "malformed file");
    lpc_clear_error();
    ck_assert_str_eq(lpc_last_error(), "");
    ck_assert_ptr_null(lpc_tensor_new(0, (int64_t[]){1}));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "lpc_tensor_new"));
}
END_TEST

START_TEST(version)
{
    ck_assert_int_eq(lpc_version_number(), LPC_VERSION_NUMBER);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", LPC_VERSION_MAJOR, LPC_VERSION_MINOR,
             LPC_VERSION_PATCH);
    ck_assert_str_eq(lpc_version_string(), expect);
}
END_TEST

START_TEST(tensor_basics)
{
    lpc_tensor *t = lpc_tensor_new(3, (int64_t[]){2, 3, 4});
    ck_assert_int_eq(lpc_tensor_ndim(t), 3);
    ck_assert_int_eq(lpc_tensor_dim(t, 2), 4);
    ck_assert_int_eq(lpc_tensor_dim(t, 3), -1);
    ck_assert_int_eq(lpc_tensor_numel(t), 24);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(lpc_tensor_data(t)[i], 0.0f);
    ck_assert_ptr_null(lpc_tensor_grad(t));
    ck_assert_int_eq(lpc_tensor_fill(t, 2.5f), LPC_OK);
    float out[24];
    ck_assert_int_eq(lpc_tensor_copy_out(t, out, 24), LPC_OK);
    ck_assert_float_eq(out[23], 2.5f);
    ck_assert_int_eq(lpc_tensor_copy_in(t, out, 23), LPC_E_SHAPE);
    ck_assert_int_eq(lpc_tensor_copy_in(NULL, out, 23), LPC_E_ARG);
    ck_assert_ptr_null(lpc_tensor_new(2, (int64_t[]){3, 0}));
    ck_assert_ptr_null(lpc_tensor_new(5, (int64_t[]){1, 1, 1, 1, 1}));
    ck_assert_ptr_null(lpc_tensor_new(2, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40}));
    ck_assert_ptr_null(lpc_tensor_new(1, NULL));
    ck_assert_int_eq(lpc_tensor_ndim(NULL), -1);
    ck_assert_ptr_null(lpc_tensor_data(NULL));
    lpc_tensor_free(t);
    lpc_tensor_free(NULL);
}
END_TEST

START_TEST(ctx_temporaries_and_reset)
{
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert_int_eq(lpc_ctx_status(NULL), LPC_E_ARG);
    lpc_tensor *a = lpc_tensor_temp(ctx, 2, (int64_t[]){100, 100});
    ck_assert_ptr_nonnull(lpc_tensor_data(a));
    ck_assert_uint_eq(((uintptr_t)lpc_tensor_data(a)) % 64, 0);
    /* Freeing a temporary is refused, not a crash. */
    lpc_tensor_free(a);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "temporary"));
    lpc_tensor *bad = lpc_tensor_temp(ctx, 2, (int64_t[]){-1, 2});
    ck_assert_ptr_null(lpc_tensor_data(bad));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_ARG);
    ck_assert_str_ne(lpc_ctx_error(ctx), "");
    lpc_ctx_reset(ctx);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    float v[3] = {1, 2, 3};
    ck_assert_ptr_null(lpc_tensor_data(lpc_tensor_from(ctx, 1, (int64_t[]){3}, v, 2)));
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_SHAPE);
    ck_assert_int_eq(lpc_ctx_set_grad(NULL, 1), LPC_E_ARG);
    lpc_ctx_free(ctx);
    lpc_ctx_free(NULL);
}
END_TEST

/* After the first step, resetting and repeating the same work allocates nothing,
 * even when the first step needed several arena chunks. */
START_TEST(arena_steady_state_allocates_nothing)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *w = lpct_rand(2, (int64_t[]){64, 300}, -1, 1, 1);
    unsigned long long before = 0;
    for (int step = 0; step < 3; step++) {
        if (step == 2)
            before = lpc_alloc_count();
        lpc_ctx_reset(ctx);
        lpc_tensor *x = lpc_tensor_temp(ctx, 2, (int64_t[]){128, 300});
        lpc_tensor_fill(x, 0.5f);
        lpc_tensor *h = x;
        for (int i = 0; i < 8; i++)
            h = lpc_silu(ctx, lpc_add(ctx, h, x));
        lpc_tensor *loss = lpc_mean(ctx, lpc_linear(ctx, h, w, NULL));
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
    }
    ck_assert_uint_eq(lpc_alloc_count(), before);
    ck_assert_uint_gt(lpc_ctx_arena_bytes(ctx), 16 * 128 * 300 * 4);
    lpc_tensor_free(w);
    lpc_ctx_free(ctx);
}
END_TEST

START_TEST(backward_misuse)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = lpc_tensor_temp(ctx, 1, (int64_t[]){3});
    lpc_tensor_fill(x, 1.0f);
    lpc_tensor *s = lpc_sum(ctx, x); /* nothing requires grad: not taped */
    ck_assert_int_eq(lpc_backward(ctx, s), LPC_E_STATE);
    ck_assert_int_eq(lpc_backward(ctx, x), LPC_E_SHAPE);
    ck_assert_int_eq(lpc_backward(NULL, s), LPC_E_ARG);
    ck_assert_int_eq(lpc_backward(ctx, NULL), LPC_E_ARG);
    /* Grad recording off: no tape even with a parameter. */
    lpc_tensor *p = lpct_rand(1, (int64_t[]){3}, 0, 1, 2);
    lpc_ctx_set_grad(ctx, 0);
    ck_assert_int_eq(lpc_backward(ctx, lpc_sum(ctx, p)), LPC_E_STATE);
    lpc_tensor_free(p);
    lpc_ctx_free(ctx);
}
END_TEST

START_TEST(rng_reproducible)
{
    lpc_rng *a = lpc_rng_new(42), *b = lpc_rng_new(42), *c = lpc_rng_new(43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = lpc_rng_u64(a);
        ck_assert_uint_eq(x, lpc_rng_u64(b));
        differ |= x != lpc_rng_u64(c);
    }
    ck_assert(differ);
    uint64_t st[4];
    ck_assert_int_eq(lpc_rng_get_state(a, st), LPC_OK);
    double u = lpc_rng_uniform(a);
    ck_assert_int_eq(lpc_rng_set_state(b, st), LPC_OK);
    ck_assert_double_eq(u, lpc_rng_uniform(b));
    uint64_t zero[4] = {0};
    ck_assert_int_eq(lpc_rng_set_state(b, zero), LPC_E_ARG);
    double mean = 0, var = 0;
    for (int i = 0; i < 20000; i++) {
        double z = lpc_rng_normal(a);
        mean += z;
        var += z * z;
        ck_assert_uint_lt(lpc_rng_below(a, 7), 7);
    }
    mean /= 20000;
    var = var / 20000 - mean * mean;
    ck_assert(fabs(mean) < 0.03 && fabs(var - 1) < 0.05);
    lpc_rng_free(a);
    lpc_rng_free(b);
    lpc_rng_free(c);
    lpc_rng_free(NULL);
}
END_TEST

START_TEST(threads_setting)
{
    ck_assert_int_eq(lpc_set_num_threads(0), LPC_E_ARG);
    ck_assert_int_eq(lpc_set_num_threads(2), LPC_OK);
    ck_assert_int_eq(lpc_get_num_threads(), 2);
    ck_assert_int_eq(lpc_set_num_threads(1), LPC_OK);
}
END_TEST

/* One thread's work: its own generator, model, optimizer and ctx, a few
 * training steps, then an error of its own. */
typedef struct {
    uint64_t seed;
    float weights[12];
    char error[128];
} worker;

static void *train_alone(void *arg)
{
    worker *wk = arg;
    lpc_rng *rng = lpc_rng_new(wk->seed);
    lpc_module *m = lpc_linear_new(4, 3, 0, rng);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_adamw_add_group(opt, 1e-2, 0.0);
    lpc_adamw_add_param(opt, 0, lpc_module_param(m, 0));
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = lpc_tensor_new(2, (int64_t[]){8, 4});
    for (int i = 0; i < 32; i++)
        lpc_tensor_data(x)[i] = (float)lpc_rng_uniform(rng);
    const int32_t labels[8] = {0, 1, 2, 0, 1, 2, 0, 1};
    for (int step = 0; step < 50; step++) {
        lpc_ctx_reset(ctx);
        lpc_module_zero_grad(m);
        lpc_tensor *loss = lpc_cross_entropy(ctx, lpc_module_forward(m, ctx, x), labels);
        if (lpc_backward(ctx, loss) != LPC_OK || lpc_adamw_step(opt) != LPC_OK)
            break;
    }
    memcpy(wk->weights, lpc_tensor_cdata(lpc_module_param(m, 0)), sizeof wk->weights);
    lpc_set_num_threads(0); /* fails: this thread's error, naming the value */
    snprintf(wk->error, sizeof wk->error, "%s", lpc_last_error());
    lpc_tensor_free(x);
    lpc_ctx_free(ctx);
    lpc_adamw_free(opt);
    lpc_module_free(m);
    lpc_rng_free(rng);
    return NULL;
}

/* Distinct objects on distinct threads: each thread's training gives what
 * it gives alone, and lpc_last_error() is the calling thread's. */
START_TEST(distinct_objects_on_threads)
{
    enum { T = 4 };
    worker alone[T], together[T];
    for (int t = 0; t < T; t++) {
        alone[t] = (worker){.seed = 100 + (uint64_t)t};
        together[t] = alone[t];
        train_alone(&alone[t]);
    }
    lpc_clear_error();
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, train_alone, &together[t]), 0);
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    ck_assert_str_eq(lpc_last_error(), ""); /* the workers' errors stayed theirs */
    for (int t = 0; t < T; t++) {
        ck_assert_mem_eq(together[t].weights, alone[t].weights, sizeof alone[t].weights);
        ck_assert_ptr_nonnull(strstr(together[t].error, "lpc_set_num_threads"));
    }
    ck_assert(memcmp(alone[0].weights, alone[1].weights, sizeof alone[0].weights) != 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_table);
    tcase_add_test(tc, version);
    tcase_add_test(tc, tensor_basics);
    tcase_add_test(tc, ctx_temporaries_and_reset);
    tcase_add_test(tc, arena_steady_state_allocates_nothing);
    tcase_add_test(tc, backward_misuse);
    tcase_add_test(tc, rng_reproducible);
    tcase_add_test(tc, threads_setting);
    tcase_add_test(tc, distinct_objects_on_threads);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
