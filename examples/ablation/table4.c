#include "table4.h"
#include <math.h>
#include <string.h>

/* Table 4 of the paper, CIFAR-10 (ResNet-18): score l (mean, std), min score,
 * peak distance mu (mean, std), min peak distance, CoV of the latent norms. */
static const struct {
    const char *model;
    double l, l_std, l_min, mu, mu_std, mu_min, cov;
} paper4[] = {
    {"LPC", 0.181, 0.154, -0.331, 19.810, 3.329, 11.468, 0.204},
    {"LPC-Wide", 0.011, 0.106, -0.540, 16.897, 1.699, 9.409, 0.232},
    {"LPC-Narrow", 0.559, 0.358, 0.139, 30.726, 12.860, 18.727, 0.174},
    {"LPC-SCL", -0.057, 0.116, -0.558, 15.839, 1.597, 9.163, 0.245},
    {"LinPen", -1.307, 0.081, -1.421, 2.174, 0.154, 0.439, 0.953},
};

static const char *const fields[] = {"final.train.binarity.l", "final.train.binarity.l_min",
                                     "final.train.binarity.mu", "final.train.binarity.mu_min",
                                     "final.train.cov"};
#define N_FIELDS (sizeof fields / sizeof fields[0])

/* "mean ± std" over the chosen runs of model m, or "n/a". */
static void cell(char *buf, size_t size, const ab_record *recs, int n, int m, const char *path)
{
    double sum = 0, sq = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && recs[i].model == m) {
            double v = jv_num(recs[i].json, path, NAN);
            if (isfinite(v)) {
                sum += v;
                sq += v * v;
                k++;
            }
        }
    if (!k) {
        snprintf(buf, size, "n/a");
        return;
    }
    double mean = sum / k, var = sq / k - mean * mean;
    if (k > 1)
        snprintf(buf, size, "%.3f ± %.3f", mean, sqrt(var > 0 ? var : 0));
    else
        snprintf(buf, size, "%.3f", mean);
}

void ab_table4(FILE *md, const ab_config *c, const ab_record *recs, int n)
{
    fprintf(md, "\n## Table 4: binarity (training set, last epoch)\n\n"
                "Score l and peak distance mu of the per-node 2-component GMMs (Appendix D), "
                "mean and minimum over the latent nodes, and the CoV of the latent norms; "
                "mean ± std over seeds of the best-LR runs. Paper: CIFAR-10, ResNet-18.\n\n"
                "| Model | score | score paper | min score | min paper | peak dist | peak dist "
                "paper | min peak dist | min paper | CoV | CoV paper |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < c->n_models; m++) {
        const char *name = ex_model_name_at(c->models[m]);
        char v[N_FIELDS][48];
        for (size_t f = 0; f < N_FIELDS; f++)
            cell(v[f], sizeof v[f], recs, n, m, fields[f]);
        int row = -1;
        for (size_t i = 0; i < sizeof paper4 / sizeof paper4[0]; i++)
            if (strcmp(paper4[i].model, name) == 0)
                row = (int)i;
        if (row >= 0)
            fprintf(md, "| %s | %s | %.3f ± %.3f | %s | %.3f | %s | %.3f ± %.3f | %s | %.3f | %s | "
                        "%.3f |\n", name, v[0], paper4[row].l, paper4[row].l_std, v[1],
                    paper4[row].l_min, v[2], paper4[row].mu, paper4[row].mu_std, v[3],
                    paper4[row].mu_min, v[4], paper4[row].cov);
        else
            fprintf(md, "| %s | %s | - | %s | - | %s | - | %s | - | %s | - |\n", name, v[0], v[1],
                    v[2], v[3], v[4]);
    }
}
