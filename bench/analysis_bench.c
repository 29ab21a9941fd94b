/* lpc-bench-analysis: time every Table 1 metric (R, Sigma_W, CoV of norms,
 * KL entropy), binarity and neural collapse on a synthetic, 10-class,
 * 60,000 x 128 feature matrix (class centres on hypercube vertices plus
 * Gaussian noise), with 2 threads by default.
 *
 *   lpc-bench-analysis [--n N] [--p P] [--threads T] [--save DIR] [--only entropy]
 *
 * --only entropy times the KL entropy alone (for wide shapes, where the
 * NumPy/scikit-learn reference of the other metrics takes long).
 * --save writes DIR/z.npy, DIR/y.npy and DIR/w.npy so that
 * bench/analysis_bench.py can time NumPy/scikit-learn on the same data.
 * Prints one JSON object: the metric values and the seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lpc/lpc.h>

#define K 10

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int check(lpc_status s, const char *what)
{
    if (s != LPC_OK)
        fprintf(stderr, "lpc-bench-analysis: %s: %s\n", what, lpc_last_error());
    return s == LPC_OK;
}

int main(int argc, char **argv)
{
    long n = 60000, p = 128, threads = 2;
    const char *save = NULL;
    int only_entropy = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--p") == 0)
            p = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--save") == 0)
            save = argv[i + 1];
        else if (strcmp(argv[i], "--only") == 0 && strcmp(argv[i + 1], "entropy") == 0)
            only_entropy = 1;
        else
            break;
    }
    if (n < 2 * K || p < 1 || p > 4096 || threads < 1 || (argc % 2) == 0) {
        fprintf(stderr, "usage: lpc-bench-analysis [--n N>=20] [--p P] [--threads T] "
                        "[--save DIR] [--only entropy]\n");
        return 2;
    }
    if (!check(lpc_set_num_threads((int)threads), "threads"))
        return 1;
    float *z = malloc((size_t)n * p * sizeof *z), *w = malloc((size_t)K * p * sizeof *w);
    int32_t *y = malloc((size_t)n * sizeof *y);
    lpc_rng *r = lpc_rng_new(2025);
    if (!z || !w || !y || !r)
        return 1;
    for (long i = 0; i < K * p; i++)
        w[i] = lpc_rng_uniform(r) < 0.5 ? -1.0f : 1.0f;
    for (long i = 0; i < n; i++) {
        y[i] = (int32_t)(i % K);
        for (long j = 0; j < p; j++)
            z[i * p + j] = w[y[i] * p + j] + (float)(0.4 * lpc_rng_normal(r));
    }
    lpc_rng_free(r);
    if (save) {
        char path[4096];
        snprintf(path, sizeof path, "%s/z.npy", save);
        if (!check(lpc_npy_save_f32(path, z, 2, (int64_t[]){n, p}), "save z"))
            return 1;
        snprintf(path, sizeof path, "%s/y.npy", save);
        if (!check(lpc_npy_save_i32(path, y, n), "save y"))
            return 1;
        snprintf(path, sizeof path, "%s/w.npy", save);
        if (!check(lpc_npy_save_f32(path, w, 2, (int64_t[]){K, p}), "save w"))
            return 1;
    }

    double t[6], R, sw, cv, h, hp, l, mu, nc1, nc3, nc4;
    lpc_binarity *b = NULL;
    lpc_nc *nc = NULL;
    if (only_entropy) {
        t[0] = now();
        int ok = check(lpc_kl_entropy(z, n, (int)p, 20, LPC_KL_STANDARDIZE, &h, &hp), "entropy");
        t[1] = now();
        free(z);
        free(w);
        free(y);
        if (!ok)
            return 1;
        printf("{\"n\": %ld, \"p\": %ld, \"threads\": %ld, \"entropy\": %.10g, "
               "\"entropy_per_dim\": %.10g, \"seconds\": {\"entropy\": %.3f}}\n",
               n, p, threads, h, hp, t[1] - t[0]);
        return 0;
    }
    t[0] = now();
    int ok = check(lpc_separation_ratio(z, n, (int)p, y, K, &R), "R") &&
             check(lpc_sigma_w(z, n, (int)p, y, K, &sw), "sigma_w") &&
             check(lpc_norm_cov(z, n, (int)p, &cv), "cov");
    t[1] = now();
    ok = ok && check(lpc_kl_entropy(z, n, (int)p, 20, LPC_KL_STANDARDIZE, &h, &hp), "entropy");
    t[2] = now();
    ok = ok && check(lpc_binarity_compute(z, n, (int)p, &b), "binarity") &&
         check(lpc_binarity_get(b, LPC_BINARITY_L, &l), "l") &&
         check(lpc_binarity_get(b, LPC_BINARITY_MU, &mu), "mu");
    t[3] = now();
    ok = ok && check(lpc_nc_compute(z, n, (int)p, y, K, w, NULL, NULL, &nc), "nc") &&
         check(lpc_nc_get(nc, LPC_NC_NC1, &nc1), "nc1") &&
         check(lpc_nc_get(nc, LPC_NC_NC3, &nc3), "nc3") &&
         check(lpc_nc_get(nc, LPC_NC_NC4, &nc4), "nc4");
    t[4] = now();
    lpc_binarity_free(b);
    lpc_nc_free(nc);
    free(z);
    free(w);
    free(y);
    if (!ok)
        return 1;
    printf("{\"n\": %ld, \"p\": %ld, \"threads\": %ld, \"R\": %.10g, \"sigma_w\": %.10g, "
           "\"cov_norm\": %.10g, \"entropy\": %.10g, \"entropy_per_dim\": %.10g, "
           "\"gmm_l\": %.10g, \"gmm_mu\": %.10g, \"nc1\": %.10g, \"nc3\": %.10g, \"nc4\": %.10g, "
           "\"seconds\": {\"separation\": %.3f, \"entropy\": %.3f, \"binarity\": %.3f, "
           "\"neural_collapse\": %.3f, \"total\": %.3f}}\n",
           n, p, threads, R, sw, cv, h, hp, l, mu, nc1, nc3, nc4, t[1] - t[0], t[2] - t[1],
           t[3] - t[2], t[4] - t[3], t[4] - t[0]);
    return 0;
}
