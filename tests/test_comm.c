/* lpc_comm: misuse, a failing transport, and batch norm over ranks. The
 * ranks are threads here, joined by a shared-memory all-reduce that sums in
 * rank order: a batch split between them must give the full batch's
 * outputs, input gradients and running statistics, and parameter gradients
 * that sum to the full batch's. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ops/batchnorm.h"
#include "lpct.h"
#include "../examples/common/recipes.h"
#include "../examples/common/trainer.h"

#define MAX_RANKS 4

typedef struct {
    pthread_barrier_t barrier;
    void *bufs[MAX_RANKS];
    int size;
} shared_mem;

typedef struct {
    shared_mem *s;
    int rank;
} rank_user;

static int shm_allreduce(void *user, void *buf, int64_t n, lpc_comm_type type)
{
    rank_user *u = user;
    shared_mem *s = u->s;
    size_t elem = type == LPC_COMM_F64 ? sizeof(double) : sizeof(float);
    void *sum = malloc((size_t)n * elem + 1);
    s->bufs[u->rank] = buf;
    pthread_barrier_wait(&s->barrier);
    for (int64_t i = 0; i < n; i++) {
        double acc = 0; /* in rank order */
        float accf = 0;
        for (int r = 0; r < s->size; r++) {
            if (type == LPC_COMM_F64)
                acc = r ? acc + ((double *)s->bufs[r])[i] : ((double *)s->bufs[r])[i];
            else
                accf = r ? accf + ((float *)s->bufs[r])[i] : ((float *)s->bufs[r])[i];
        }
        if (type == LPC_COMM_F64)
            ((double *)sum)[i] = acc;
        else
            ((float *)sum)[i] = accf;
    }
    pthread_barrier_wait(&s->barrier); /* everyone has read every buffer */
    memcpy(buf, sum, (size_t)n * elem);
    free(sum);
    return 0;
}

static int failing_allreduce(void *user, void *buf, int64_t n, lpc_comm_type type)
{
    (void)user, (void)buf, (void)n, (void)type;
    return 7;
}

/* A transport that reports success but hands back NaN sums. */
static int nan_allreduce(void *user, void *buf, int64_t n, lpc_comm_type type)
{
    (void)user;
    for (int64_t i = 0; i < n; i++) {
        if (type == LPC_COMM_F64)
            ((double *)buf)[i] = NAN;
        else
            ((float *)buf)[i] = NAN;
    }
    return 0;
}

/* One that loses this rank's values (sums to zero). */
static int zero_allreduce(void *user, void *buf, int64_t n, lpc_comm_type type)
{
    (void)user;
    memset(buf, 0, (size_t)n * (type == LPC_COMM_F64 ? 8 : 4));
    return 0;
}

/* A failing batch norm leaves the running statistics as they were: a
 * transport that fails, returns NaN or loses values, and a NaN output under
 * the ctx's finite check (they used to be updated before the failure). */
START_TEST(failed_batchnorm_keeps_state)
{
    int64_t sx[4] = {2, 3, 2, 2}, sc[1] = {3};
    lpc_tensor *x = lpct_rand(4, sx, -1, 1, 1), *g = lpct_rand(1, sc, 0.5, 1.5, 2);
    lpc_tensor *b = lpct_rand(1, sc, -1, 1, 3);
    lpc_tensor *rm = lpct_rand(1, sc, -1, 1, 4), *rv = lpct_rand(1, sc, 0.5, 1, 5);
    float rm0[3], rv0[3];
    memcpy(rm0, lpc_tensor_data(rm), sizeof rm0);
    memcpy(rv0, lpc_tensor_data(rv), sizeof rv0);
    lpc_comm_allreduce_fn transports[] = {failing_allreduce, nan_allreduce, zero_allreduce};
    lpc_status expect[] = {LPC_E_IO, LPC_E_NUMERIC, LPC_E_NUMERIC};
    lpc_ctx *ctx = lpc_ctx_new();
    for (int t = 0; t < 3; t++) {
        lpc_comm *c = NULL;
        ck_assert_int_eq(lpc_comm_new(0, 2, transports[t], NULL, &c), LPC_OK);
        lpc_ctx_reset(ctx);
        ck_assert_int_eq(lpc_ctx_set_comm(ctx, c), LPC_OK);
        lpc_batchnorm2d(ctx, x, g, b, rm, rv, 1, 0.1f, 1e-5f);
        ck_assert_int_eq(lpc_ctx_status(ctx), expect[t]);
        ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "batchnorm2d"));
        ck_assert_mem_eq(lpc_tensor_data(rm), rm0, sizeof rm0);
        ck_assert_mem_eq(lpc_tensor_data(rv), rv0, sizeof rv0);
        lpc_ctx_set_comm(ctx, NULL);
        lpc_comm_free(c);
    }
    /* gamma = inf makes the output non-finite: the finite check fails the op. */
    lpc_ctx_reset(ctx);
    ck_assert_int_eq(lpc_ctx_set_check_finite(ctx, 1), LPC_OK);
    lpc_tensor_data(g)[1] = INFINITY;
    lpc_batchnorm2d(ctx, x, g, b, rm, rv, 1, 0.1f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_NUMERIC);
    ck_assert_mem_eq(lpc_tensor_data(rm), rm0, sizeof rm0);
    ck_assert_mem_eq(lpc_tensor_data(rv), rv0, sizeof rv0);
    /* And a successful one updates them. */
    lpc_tensor_data(g)[1] = 1.0f;
    lpc_ctx_reset(ctx);
    lpc_batchnorm2d(ctx, x, g, b, rm, rv, 1, 0.1f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert(memcmp(lpc_tensor_data(rm), rm0, sizeof rm0) != 0);
    lpc_ctx_free(ctx);
    lpc_tensor *ts[] = {x, g, b, rm, rv};
    for (int i = 0; i < 5; i++)
        lpc_tensor_free(ts[i]);
}
END_TEST

START_TEST(misuse)
{
    lpc_comm *c = NULL;
    LPCT_EXPECT_ERR(lpc_comm_new(0, 1, shm_allreduce, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_new(1, 1, shm_allreduce, NULL, &c), LPC_E_ARG);
    ck_assert_ptr_null(c);
    LPCT_EXPECT_ERR(lpc_comm_new(-1, 2, shm_allreduce, NULL, &c), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_new(0, 0, shm_allreduce, NULL, &c), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_new(0, 2, NULL, NULL, &c), LPC_E_ARG);
    ck_assert_int_eq(lpc_comm_rank(NULL), -1);
    ck_assert_int_eq(lpc_comm_size(NULL), -1);
    lpc_comm_free(NULL);
    float v[2] = {1, 2};
    LPCT_EXPECT_ERR(lpc_comm_allreduce(NULL, v, 2, LPC_COMM_F32), LPC_E_ARG);
    ck_assert_int_eq(lpc_comm_new(1, 3, failing_allreduce, NULL, &c), LPC_OK);
    ck_assert_int_eq(lpc_comm_rank(c), 1);
    ck_assert_int_eq(lpc_comm_size(c), 3);
    LPCT_EXPECT_ERR(lpc_comm_allreduce(c, v, -1, LPC_COMM_F32), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_allreduce(c, NULL, 2, LPC_COMM_F32), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_allreduce(c, v, 2, (lpc_comm_type)5), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_comm_allreduce(c, v, 2, LPC_COMM_F64), LPC_E_IO);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "code 7"));
    LPCT_EXPECT_ERR(lpc_ctx_set_comm(NULL, c), LPC_E_ARG);
    ck_assert_ptr_null(lpc_ctx_comm(NULL));

    /* A failing transport fails the batch-norm op through the ctx. */
    lpc_ctx *ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_ctx_set_comm(ctx, c), LPC_OK);
    ck_assert_ptr_eq(lpc_ctx_comm(ctx), c);
    int64_t sx[4] = {2, 3, 2, 2}, sc[1] = {3};
    lpc_tensor *x = lpct_rand(4, sx, -1, 1, 1), *g = lpct_rand(1, sc, 0.5, 1.5, 2);
    lpc_tensor *b = lpct_rand(1, sc, -1, 1, 3);
    lpc_batchnorm2d(ctx, x, g, b, NULL, NULL, 1, 0.1f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_E_IO);
    ck_assert_ptr_nonnull(strstr(lpc_ctx_error(ctx), "batchnorm2d"));
    /* Eval mode uses running statistics: no communication. */
    lpc_ctx_reset(ctx);
    lpc_tensor *rm = lpct_rand(1, sc, -1, 1, 4), *rv = lpct_rand(1, sc, 0.5, 1, 5);
    lpc_batchnorm2d(ctx, x, g, b, rm, rv, 0, 0.1f, 1e-5f);
    ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
    ck_assert_int_eq(lpc_ctx_set_comm(ctx, NULL), LPC_OK);
    ck_assert_ptr_null(lpc_ctx_comm(ctx));
    lpc_ctx_free(ctx);
    lpc_tensor_free(x);
    lpc_tensor_free(g);
    lpc_tensor_free(b);
    lpc_tensor_free(rm);
    lpc_tensor_free(rv);
    lpc_comm_free(c);
}
END_TEST

enum { N = 8, C = 3, H = 4, W = 5 };

/* One rank's (or the whole batch's) batch norm: inputs rows [lo, hi) of
 * the full batch, its own copies of gamma, beta and the running statistics. */
typedef struct {
    int lo, hi, silu;
    lpc_comm *comm;
    const float *x_all, *res_all, *w_all; /* full batch: input, residual, loss weights */
    lpc_tensor *x, *res, *gamma, *beta, *rm, *rv;
    float *y; /* output rows */
    lpc_status status;
} bn_run;

static void *bn_rank(void *arg)
{
    bn_run *r = arg;
    int64_t n = r->hi - r->lo, per = (int64_t)C * H * W;
    int64_t sx[4] = {n, C, H, W}, sc[1] = {C};
    r->x = lpc_tensor_new(4, sx);
    r->res = lpc_tensor_new(4, sx);
    r->gamma = lpc_tensor_new(1, sc);
    r->beta = lpc_tensor_new(1, sc);
    r->rm = lpc_tensor_new(1, sc);
    r->rv = lpc_tensor_new(1, sc);
    lpc_tensor *w = lpc_tensor_new(4, sx);
    lpc_tensor_copy_in(r->x, r->x_all + r->lo * per, n * per);
    lpc_tensor_copy_in(r->res, r->res_all + r->lo * per, n * per);
    lpc_tensor_copy_in(w, r->w_all + r->lo * per, n * per);
    lpc_tensor_copy_in(r->gamma, (float[]){0.8f, 1.2f, -0.5f}, C);
    lpc_tensor_copy_in(r->beta, (float[]){0.1f, -0.3f, 0.2f}, C);
    lpc_tensor_fill(r->rv, 1.0f);
    lpc_tensor *in[4] = {r->x, r->res, r->gamma, r->beta};
    for (int i = 0; i < 4; i++)
        lpc_tensor_set_requires_grad(in[i], 1);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_ctx_set_comm(ctx, r->comm);
    lpc_tensor *y = r->silu ? lpci_batchnorm2d_silu(ctx, r->x, r->gamma, r->beta, r->rm, r->rv, 1,
                                                    0.1f, 1e-5f, r->res)
                            : lpc_batchnorm2d(ctx, r->x, r->gamma, r->beta, r->rm, r->rv, 1,
                                              0.1f, 1e-5f);
    r->status = lpc_ctx_status(ctx);
    if (r->status == LPC_OK) {
        memcpy(r->y, lpc_tensor_cdata(y), (size_t)(n * per) * sizeof(float));
        r->status = lpc_backward(ctx, lpc_sum(ctx, lpc_mul(ctx, y, w)));
    }
    lpc_ctx_free(ctx);
    lpc_tensor_free(w);
    return NULL;
}

static void bn_free(bn_run *r)
{
    lpc_tensor *t[6] = {r->x, r->res, r->gamma, r->beta, r->rm, r->rv};
    for (int i = 0; i < 6; i++)
        lpc_tensor_free(t[i]);
}

static void check_split(int ranks, int silu)
{
    int64_t per = (int64_t)C * H * W;
    float x[N * C * H * W], res[N * C * H * W], w[N * C * H * W];
    float y_full[N * C * H * W], y_split[N * C * H * W];
    lpc_rng *rng = lpc_rng_new(42);
    for (int i = 0; i < N * C * H * W; i++) {
        x[i] = (float)(3.0 * lpc_rng_uniform(rng) - 1.0);
        res[i] = (float)(lpc_rng_uniform(rng) - 0.5);
        w[i] = (float)(lpc_rng_uniform(rng) - 0.5);
    }
    lpc_rng_free(rng);
    bn_run full = {0, N, silu, NULL, x, res, w, .y = y_full};
    bn_rank(&full);
    ck_assert_int_eq(full.status, LPC_OK);

    shared_mem s = {.size = ranks};
    pthread_barrier_init(&s.barrier, NULL, (unsigned)ranks);
    rank_user users[MAX_RANKS];
    bn_run runs[MAX_RANKS];
    pthread_t th[MAX_RANKS];
    for (int r = 0; r < ranks; r++) {
        users[r] = (rank_user){&s, r};
        runs[r] = (bn_run){N * r / ranks, N * (r + 1) / ranks, silu, NULL, x, res, w,
                           .y = y_split + N * r / ranks * per};
        ck_assert_int_eq(lpc_comm_new(r, ranks, shm_allreduce, &users[r], &runs[r].comm), LPC_OK);
        pthread_create(&th[r], NULL, bn_rank, &runs[r]);
    }
    for (int r = 0; r < ranks; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&s.barrier);
    for (int r = 0; r < ranks; r++)
        ck_assert_int_eq(runs[r].status, LPC_OK);
    for (int i = 0; i < N * C * H * W; i++)
        ck_assert_msg(lpct_close(y_split[i], y_full[i], 1e-5, 1e-6), "y[%d] %g vs %g", i,
                      (double)y_split[i], (double)y_full[i]);
    for (int r = 0; r < ranks; r++) {
        const float *dx = lpc_tensor_grad(runs[r].x), *dr = lpc_tensor_grad(runs[r].res);
        const float *dx_full = lpc_tensor_grad(full.x) + runs[r].lo * per;
        const float *dr_full = lpc_tensor_grad(full.res) + runs[r].lo * per;
        for (int64_t i = 0; i < (runs[r].hi - runs[r].lo) * per; i++) {
            ck_assert_msg(lpct_close(dx[i], dx_full[i], 1e-4, 1e-6), "rank %d dx[%lld] %g vs %g",
                          r, (long long)i, (double)dx[i], (double)dx_full[i]);
            if (silu)
                ck_assert(lpct_close(dr[i], dr_full[i], 1e-4, 1e-6));
        }
        for (int ch = 0; ch < C; ch++) {
            LPCT_ASSERT_CLOSE(lpc_tensor_cdata(runs[r].rm)[ch], lpc_tensor_cdata(full.rm)[ch], 1e-5);
            LPCT_ASSERT_CLOSE(lpc_tensor_cdata(runs[r].rv)[ch], lpc_tensor_cdata(full.rv)[ch], 1e-5);
        }
    }
    /* Parameter gradients stay per rank; their sum is the full batch's. */
    for (int ch = 0; ch < C; ch++) {
        double dg = 0, db = 0;
        for (int r = 0; r < ranks; r++) {
            dg += lpc_tensor_grad(runs[r].gamma)[ch];
            db += lpc_tensor_grad(runs[r].beta)[ch];
        }
        ck_assert(lpct_close(dg, lpc_tensor_grad(full.gamma)[ch], 1e-4, 1e-6));
        ck_assert(lpct_close(db, lpc_tensor_grad(full.beta)[ch], 1e-4, 1e-6));
    }
    for (int r = 0; r < ranks; r++) {
        bn_free(&runs[r]);
        lpc_comm_free(runs[r].comm);
    }
    bn_free(&full);
}

START_TEST(batchnorm_over_ranks)
{
    lpc_set_num_threads(1);
    for (int silu = 0; silu <= 1; silu++) {
        check_split(2, silu);
        check_split(3, silu); /* uneven slices: 2, 3, 3 rows */
    }
}
END_TEST

START_TEST(trainer_refusals)
{
    uint8_t images[16 * 4];
    int32_t labels[16];
    for (int i = 0; i < 16; i++) {
        labels[i] = i % 2;
        for (int j = 0; j < 4; j++)
            images[i * 4 + j] = (uint8_t)(i * 13 + j * 7);
    }
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(images, labels, 16, 1, 2, 2, 2, &ds), LPC_OK);
    lpc_rng *rng = lpc_rng_new(0);
    int widths[3] = {4, 8, 2};
    lpc_head *scl = NULL, *lpc = NULL;
    ck_assert_int_eq(ex_model_new(ex_model_index("SCL"), EX_BACKBONE_MLP, 1, 2, 2, 2, widths, rng,
                                  &scl), LPC_OK);
    ck_assert_int_eq(ex_model_new(ex_model_index("LPC"), EX_BACKBONE_MLP, 1, 2, 2, 2, widths, rng,
                                  &lpc), LPC_OK);
    ex_trainer *ts = NULL, *tl = NULL;
    ck_assert_int_eq(ex_trainer_new(scl, ds, LPC_PROTOCOL_RAMP, 1, 4, 1e-3, 0, 0, &ts), LPC_OK);
    ck_assert_int_eq(ex_trainer_new(lpc, ds, LPC_PROTOCOL_RAMP, 1, 4, 1e-3, 0, 0, &tl), LPC_OK);
    lpc_comm *two = NULL, *five = NULL, *one = NULL;
    ck_assert_int_eq(lpc_comm_new(0, 2, failing_allreduce, NULL, &two), LPC_OK);
    ck_assert_int_eq(lpc_comm_new(0, 5, failing_allreduce, NULL, &five), LPC_OK);
    ck_assert_int_eq(lpc_comm_new(0, 1, failing_allreduce, NULL, &one), LPC_OK);
    /* The examples' trainer prints its refusals (test_mpi.sh checks the text). */
    ck_assert_int_eq(ex_trainer_set_comm(NULL, two), LPC_E_ARG);
    ck_assert_int_eq(ex_trainer_set_comm(ts, two), LPC_E_ARG); /* SupCon couples the batch */
    ck_assert_int_eq(ex_trainer_set_comm(ts, one), LPC_OK);    /* alone: fine */
    ck_assert_int_eq(ex_trainer_set_comm(tl, five), LPC_E_ARG); /* 5 ranks, batch 4 */
    ex_trainer *t3 = NULL; /* 16 samples in batches of 5: the last has 1, for 2 ranks */
    ck_assert_int_eq(ex_trainer_new(lpc, ds, LPC_PROTOCOL_RAMP, 1, 5, 1e-3, 0, 0, &t3), LPC_OK);
    ck_assert_int_eq(ex_trainer_set_comm(t3, two), LPC_E_ARG);
    ex_trainer_free(t3);
    /* A transport failing in the gradient sum stops the epoch with its error. */
    ck_assert_int_eq(ex_trainer_set_comm(tl, two), LPC_OK);
    LPCT_EXPECT_ERR(ex_trainer_epoch(tl), LPC_E_IO);
    ck_assert_int_eq(ex_trainer_get(tl, EX_TRAIN_STEPS), 0);
    ck_assert_int_eq(ex_trainer_set_comm(tl, NULL), LPC_OK);
    ck_assert_int_eq(ex_trainer_epoch(tl), LPC_OK);
    ex_trainer_free(ts);
    ex_trainer_free(tl);
    lpc_head_free(scl);
    lpc_head_free(lpc);
    lpc_comm_free(two);
    lpc_comm_free(five);
    lpc_comm_free(one);
    lpc_rng_free(rng);
    lpc_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("comm");
    TCase *tc = tcase_create("comm");
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, failed_batchnorm_keeps_state);
    tcase_add_test(tc, batchnorm_over_ranks);
    tcase_add_test(tc, trainer_refusals);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
