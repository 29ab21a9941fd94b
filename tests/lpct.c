#include "lpct.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double eval_loss(lpct_graph_fn f, lpc_tensor **inputs, void *user, lpc_ctx *ctx)
{
    lpc_ctx_reset(ctx);
    lpc_ctx_set_grad(ctx, 0);
    lpc_tensor *loss = f(ctx, inputs, user);
    ck_assert_msg(lpc_ctx_status(ctx) == LPC_OK, "forward failed: %s", lpc_ctx_error(ctx));
    double v = lpc_tensor_data(loss)[0];
    lpc_ctx_set_grad(ctx, 1);
    return v;
}

double lpct_gradcheck(lpct_graph_fn f, lpc_tensor **inputs, int n_inputs, void *user,
                      double eps, double atol, double rtol)
{
    lpc_ctx *ctx = lpc_ctx_new();
    for (int i = 0; i < n_inputs; i++)
        lpc_tensor_zero_grad(inputs[i]);
    lpc_tensor *loss = f(ctx, inputs, user);
    ck_assert_msg(lpc_ctx_status(ctx) == LPC_OK, "forward failed: %s", lpc_ctx_error(ctx));
    ck_assert_msg(lpc_backward(ctx, loss) == LPC_OK, "backward failed: %s", lpc_last_error());
    double worst = 0.0;
    for (int i = 0; i < n_inputs; i++) {
        lpc_tensor *t = inputs[i];
        if (!lpc_tensor_requires_grad(t))
            continue;
        int64_t n = lpc_tensor_numel(t);
        float *g = lpc_tensor_grad(t);
        ck_assert_msg(g != NULL, "input %d received no gradient", i);
        float *analytic = malloc((size_t)n * sizeof *analytic);
        memcpy(analytic, g, (size_t)n * sizeof *analytic);
        float *x = lpc_tensor_data(t);
        for (int64_t k = 0; k < n; k++) {
            float orig = x[k];
            x[k] = (float)(orig + eps);
            double up = eval_loss(f, inputs, user, ctx);
            x[k] = (float)(orig - eps);
            double down = eval_loss(f, inputs, user, ctx);
            x[k] = orig;
            double num = (up - down) / (2.0 * eps);
            double ratio = fabs(analytic[k] - num) / (atol + rtol * fabs(num));
            if (ratio > worst)
                worst = ratio;
            if (ratio > 1.0)
                fprintf(stderr, "gradcheck: input %d element %lld analytic %.8g numeric %.8g\n",
                        i, (long long)k, analytic[k], num);
        }
        free(analytic);
    }
    lpc_ctx_free(ctx);
    return worst;
}

lpc_tensor *lpct_project(lpc_ctx *ctx, lpc_tensor *y, uint64_t seed)
{
    int64_t shape[LPC_MAX_DIMS];
    int nd = lpc_tensor_ndim(y);
    for (int i = 0; i < nd; i++)
        shape[i] = lpc_tensor_dim(y, i);
    lpc_tensor *r = lpc_tensor_temp(ctx, nd, shape);
    float *d = lpc_tensor_data(r);
    if (d) {
        lpc_rng *rng = lpc_rng_new(seed);
        for (int64_t i = 0; i < lpc_tensor_numel(r); i++)
            d[i] = (float)(lpc_rng_uniform(rng) * 2.0 - 1.0);
        lpc_rng_free(rng);
    }
    return lpc_sum(ctx, lpc_mul(ctx, y, r));
}

lpc_tensor *lpct_rand(int ndim, const int64_t *shape, double lo, double hi, uint64_t seed)
{
    lpc_tensor *t = lpc_tensor_new(ndim, shape);
    ck_assert_ptr_nonnull(t);
    lpc_rng *rng = lpc_rng_new(seed);
    float *d = lpc_tensor_data(t);
    for (int64_t i = 0; i < lpc_tensor_numel(t); i++)
        d[i] = (float)(lo + (hi - lo) * lpc_rng_uniform(rng));
    lpc_rng_free(rng);
    lpc_tensor_set_requires_grad(t, 1);
    return t;
}

int lpct_close(double a, double b, double rtol, double atol)
{
    return fabs(a - b) <= atol + rtol * fabs(b);
}

char *lpct_tmpfile(const char *name)
{
    const char *dir = getenv("TMPDIR");
    if (!dir)
        dir = "/tmp";
    size_t n = strlen(dir) + strlen(name) + 64;
    char *p = malloc(n);
    snprintf(p, n, "%s/lpct-%ld-%s", dir, (long)getpid(), name);
    return p;
}

int lpct_run(Suite *s)
{
    /* run with LPC_CPU naming a kernel path this CPU lacks: skip (77) */
    const char *want = getenv("LPC_CPU");
    for (int p = LPC_CPU_GENERIC; want && p <= LPC_CPU_NEON; p++)
        if (strcmp(want, lpc_cpu_path_name((lpc_cpu_path)p)) == 0 &&
            !lpc_cpu_path_supported((lpc_cpu_path)p)) {
            printf("skipped: this CPU cannot run the %s kernels\n", want);
            srunner_free(srunner_create(s)); /* frees the suite */
            return 77;
        }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
