#include "metrics.h"
#include <lpc/lpc.h>
#include <stdio.h>

static void value(jw *w, const char *key, lpc_status s, double v, const char *cell)
{
    if (s == LPC_OK) {
        jw_num(w, key, v);
        return;
    }
    fprintf(stderr, "warning: cell %s: %s not computed: %s\n", cell, key, lpc_last_error());
    jw_null(w, key);
}

static void binarity(jw *w, const float *z, int64_t n, int p, const char *cell)
{
    static const struct { const char *key; lpc_binarity_metric m; } rows[] = {
        {"l", LPC_BINARITY_L}, {"sigma", LPC_BINARITY_SIGMA}, {"mu", LPC_BINARITY_MU},
        {"l_min", LPC_BINARITY_L_MIN}, {"sigma_min", LPC_BINARITY_SIGMA_MIN},
        {"mu_min", LPC_BINARITY_MU_MIN}};
    lpc_binarity *b = NULL;
    lpc_status s = lpc_binarity_compute(z, n, p, &b);
    if (s != LPC_OK) {
        fprintf(stderr, "warning: cell %s: binarity not computed: %s\n", cell, lpc_last_error());
        jw_null(w, "binarity");
        return;
    }
    jw_obj(w, "binarity");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v = 0;
        lpc_status s = lpc_binarity_get(b, rows[i].m, &v);
        value(w, rows[i].key, s, v, cell);
    }
    jw_end_obj(w);
    lpc_binarity_free(b);
}

static void neural_collapse(jw *w, const float *z, int64_t n, int p, const int32_t *labels,
                            const int32_t *pred, int k, const float *wcls, unsigned flags,
                            const char *cell)
{
    static const struct { const char *key; lpc_nc_metric m; } rows[] = {
        {"nc1", LPC_NC_NC1}, {"nc1_weighted", LPC_NC_NC1_WEIGHTED},
        {"equinorm", LPC_NC_EQUINORM}, {"equiangularity", LPC_NC_EQUIANGULARITY},
        {"max_angle", LPC_NC_MAX_ANGLE}, {"nc3", LPC_NC_NC3}, {"nc4", LPC_NC_NC4},
        {"nc1_svd", LPC_NC_NC1_SVD}, {"nc1_quotient", LPC_NC_NC1_QUOTIENT}, {"cdnv", LPC_NC_CDNV},
        {"etf_error", LPC_NC_ETF_ERROR}, {"self_duality", LPC_NC_SELF_DUALITY},
        {"uniform_duality", LPC_NC_UNIFORM_DUALITY}};
    lpc_nc *nc = NULL;
    /* Predictions are needed only when classes follow them (the authors' convention). */
    const int32_t *by = flags & LPC_NC_BY_PREDICTION ? pred : NULL;
    if (lpc_nc_compute_flags(z, n, p, labels, k, wcls, NULL, by, flags, &nc) != LPC_OK) {
        fprintf(stderr, "warning: cell %s: neural collapse not computed: %s\n", cell,
                lpc_last_error());
        jw_null(w, "nc");
        return;
    }
    jw_obj(w, "nc");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v = 0;
        lpc_status s = lpc_nc_get(nc, rows[i].m, &v);
        value(w, rows[i].key, s, v, cell);
    }
    jw_end_obj(w);
    lpc_nc_free(nc);
}

void ab_metrics_write(jw *w, const char *key, const float *z, int64_t n, int p,
                      const int32_t *labels, const int32_t *pred, int k, const float *wcls,
                      unsigned nc_flags, const char *cell)
{
    double r = 0, sw = 0, cov = 0, h = 0, hp = 0;
    jw_obj(w, key);
    jw_int(w, "n", n);
    /* Each status is taken before its value is read (argument order is unspecified). */
    lpc_status s = lpc_separation_ratio(z, n, p, labels, k, &r);
    value(w, "R", s, r, cell);
    s = lpc_sigma_w(z, n, p, pred, k, &sw);
    value(w, "sigma_w", s, sw, cell);
    s = lpc_norm_cov(z, n, p, &cov);
    value(w, "cov", s, cov, cell);
    s = lpc_kl_entropy(z, n, p, LPC_KL_DEFAULT_K, LPC_KL_STANDARDIZE, &h, &hp);
    value(w, "H", s, h, cell);
    value(w, "H_per_dim", s, hp, cell);
    binarity(w, z, n, p, cell);
    neural_collapse(w, z, n, p, labels, pred, k, wcls, nc_flags, cell);
    jw_end_obj(w);
}
