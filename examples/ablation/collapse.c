#include "collapse.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#define EVAL_BATCH 500

void ab_collapse_clear(ab_epoch_log *e)
{
    e->acc_train = e->r = e->sigma_w = e->cov = e->nc1 = e->nc1_weighted = e->equinorm =
        e->equiangularity = e->max_angle = e->nc3 = e->nc4 = NAN;
}

/* One metric: NaN with a warning when the library calls it undefined. */
static double checked(lpc_status s, double v, const char *what, const char *cell)
{
    if (s == LPC_OK)
        return v;
    fprintf(stderr, "warning: cell %s: %s during training not computed: %s\n", cell, what,
            lpc_last_error());
    return NAN;
}

int ab_collapse_measure(const ab_config *c, lpc_head *m, ex_trainer *t,
                        const lpc_dataset *train, uint64_t seed, const char *cell,
                        ab_epoch_log *e)
{
    int64_t n = lpc_dataset_size(train), p = lpc_head_latent_dim(m);
    int k = lpc_head_num_classes(m);
    const double *mean = ex_trainer_mean(t), *std = ex_trainer_std(t);
    float *z = malloc((size_t)(n * p) * sizeof *z);
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    const lpc_tensor *w = lpc_module_find_param(lpc_head_module(m), "classifier.weight");
    lpc_status s = z && pred ? LPC_OK : LPC_E_NOMEM;
    if (s == LPC_OK)
        s = c->fid.train_augmented && c->augment
                ? ex_evaluate_augmented(m, train, mean, std, EVAL_BATCH, 4, 1, seed, z, NULL,
                                               pred, &e->acc_train)
                : ex_evaluate(m, train, mean, std, EVAL_BATCH, z, NULL, pred,
                                     &e->acc_train);
    if (s != LPC_OK) {
        fprintf(stderr, "error: cell %s: training-set metrics: %s\n", cell, lpc_last_error());
        free(z);
        free(pred);
        return 1;
    }
    const int32_t *labels = lpc_dataset_labels(train);
    double v = 0;
    /* Each status is taken before its value is read: the order in which a
     * call's arguments are evaluated is unspecified. */
    lpc_status s1 = lpc_separation_ratio(z, n, (int)p, labels, k, &v);
    e->r = checked(s1, v, "R", cell);
    s1 = lpc_sigma_w(z, n, (int)p, pred, k, &v);
    e->sigma_w = checked(s1, v, "Sigma_W", cell);
    s1 = lpc_norm_cov(z, n, (int)p, &v);
    e->cov = checked(s1, v, "CoV", cell);
    lpc_nc *nc = NULL;
    /* Classes follow the predictions only under that convention, as in the
     * final metrics (metrics.c). */
    const int32_t *by = c->fid.nc_flags & LPC_NC_BY_PREDICTION ? pred : NULL;
    lpc_status ns = lpc_nc_compute_flags(z, n, (int)p, labels, k, lpc_tensor_cdata(w), NULL, by,
                                         c->fid.nc_flags, &nc);
    static const struct {
        size_t at;
        lpc_nc_metric m;
    } rows[] = {{offsetof(ab_epoch_log, nc1), LPC_NC_NC1},
                {offsetof(ab_epoch_log, nc1_weighted), LPC_NC_NC1_WEIGHTED},
                {offsetof(ab_epoch_log, equinorm), LPC_NC_EQUINORM},
                {offsetof(ab_epoch_log, equiangularity), LPC_NC_EQUIANGULARITY},
                {offsetof(ab_epoch_log, max_angle), LPC_NC_MAX_ANGLE},
                {offsetof(ab_epoch_log, nc3), LPC_NC_NC3},
                {offsetof(ab_epoch_log, nc4), LPC_NC_NC4}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        v = 0;
        lpc_status g = ns == LPC_OK ? lpc_nc_get(nc, rows[i].m, &v) : ns;
        *(double *)((char *)e + rows[i].at) = checked(g, v, "neural collapse", cell);
    }
    lpc_nc_free(nc);
    free(z);
    free(pred);
    return 0;
}

void ab_collapse_write(jw *w, const ab_epoch_log *e)
{
    static const struct {
        const char *key;
        size_t at;
    } rows[] = {{"acc_train", offsetof(ab_epoch_log, acc_train)},
                {"R_train", offsetof(ab_epoch_log, r)},
                {"sigma_w_train", offsetof(ab_epoch_log, sigma_w)},
                {"cov_train", offsetof(ab_epoch_log, cov)},
                {"nc1", offsetof(ab_epoch_log, nc1)},
                {"nc1_weighted", offsetof(ab_epoch_log, nc1_weighted)},
                {"equinorm", offsetof(ab_epoch_log, equinorm)},
                {"equiangularity", offsetof(ab_epoch_log, equiangularity)},
                {"max_angle", offsetof(ab_epoch_log, max_angle)},
                {"nc3", offsetof(ab_epoch_log, nc3)},
                {"nc4", offsetof(ab_epoch_log, nc4)}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v = *(const double *)((const char *)e + rows[i].at);
        if (!isnan(v))
            jw_num(w, rows[i].key, v);
    }
}
