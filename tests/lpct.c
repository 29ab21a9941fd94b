#include "lpct.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

double lpct_gradcheck(lpct_graph_fn f, lpc_tensor **inputs, int n_inputs, void *user,
                      double eps, double atol, double rtol)
{
    double worst = INFINITY;
    lpc_status s = lpc_gradcheck(f, user, n_inputs, inputs, eps, atol, rtol, &worst);
    ck_assert_msg(s == LPC_OK, "gradcheck failed: %s", lpc_last_error());
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

void lpct_limit_file_size(long bytes)
{
    static struct rlimit old;
    static int saved;
    if (!bytes) {
        ck_assert_int_eq(saved, 1);
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
        saved = 0;
        return;
    }
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    saved = 1;
    struct rlimit lim = old;
    lim.rlim_cur = (rlim_t)bytes;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

int lpct_count_temps(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096], prefix[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(prefix, sizeof prefix, "%s.tmp", slash ? slash + 1 : path);
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

int lpct_emulated(void)
{
    const char *e = getenv("LPCT_EMULATED");
    return e && *e && strcmp(e, "0") != 0;
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
