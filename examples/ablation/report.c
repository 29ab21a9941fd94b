#include "report.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lpc/lpc.h>
#include "../common/atomic.h"
#include "../common/files.h"
#include "../common/recipes.h"
#include "cell.h"
#include "figures.h"
#include "lock.h"
#include "openset.h"
#include "paper.h"
#include "result.h"
#include "table4.h"
#include "fig5.h"

static const struct {
    const char *key, *path;
} metrics[AB_NUM_METRICS] = {
    {"acc_test", "final.acc_test"},         {"acc_train", "final.acc_train"},
    {"R_train", "final.train.R"},           {"R_test", "final.test.R"},
    {"sigma_w_train", "final.train.sigma_w"}, {"sigma_w_test", "final.test.sigma_w"},
    {"cov_train", "final.train.cov"},       {"H_train", "final.train.H_per_dim"},
    {"robustness", "final.robustness"},
    {"fmn_median_ratio", "final.fmn_median_ratio"}, {"pgd_linf_2_255", "final.pgd_linf_2_255"},
    {"pgd_linf_8_255", "final.pgd_linf_8_255"},
};

typedef struct {
    double mean, std;
    int n;
} stat;

/* Per model: mean and population std (ddof 0) over the chosen runs (one per seed). */
typedef struct {
    const char *name;
    int n_seeds;
    stat s[AB_NUM_METRICS];
    double lrs[AB_MAX_SEEDS];
} model_summary;

static stat summarise(const ab_record *recs, int n, int model, ab_metric m)
{
    stat st = {NAN, NAN, 0};
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && recs[i].model == model && isfinite(recs[i].v[m])) {
            sum += recs[i].v[m];
            st.n++;
        }
    if (!st.n)
        return st;
    st.mean = sum / st.n;
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && recs[i].model == model && isfinite(recs[i].v[m]))
            sq += (recs[i].v[m] - st.mean) * (recs[i].v[m] - st.mean);
    st.std = sqrt(sq / st.n);
    return st;
}

/* Best learning rate per (model, seed) by final test accuracy, as the paper. */
static void choose(ab_record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        if (!recs[i].json)
            continue;
        int best = 1;
        for (int j = 0; j < n && best; j++)
            if (j != i && recs[j].json && recs[j].model == recs[i].model &&
                recs[j].cell.seed == recs[i].cell.seed &&
                (recs[j].v[AB_ACC_TEST] > recs[i].v[AB_ACC_TEST] ||
                 (recs[j].v[AB_ACC_TEST] == recs[i].v[AB_ACC_TEST] && j < i)))
                best = 0;
        recs[i].chosen = best;
    }
}

static const char *fmt(char *buf, size_t n, const stat *s, const char *spec, double scale)
{
    if (!s->n) {
        snprintf(buf, n, "—");
        return buf;
    }
    char a[64], b[64];
    snprintf(a, sizeof a, spec, s->mean * scale);
    snprintf(b, sizeof b, spec, s->std * scale);
    if (s->n > 1)
        snprintf(buf, n, "%s ± %s", a, b);
    else
        snprintf(buf, n, "%s", a);
    return buf;
}

static const char *pv(char *buf, size_t n, const ab_paper_row *p, double v, const char *spec)
{
    if (p)
        snprintf(buf, n, spec, v);
    else
        snprintf(buf, n, "—");
    return buf;
}

static int model_index(const ab_config *c, const char *name)
{
    for (int m = 0; m < c->n_models; m++)
        if (strcmp(ex_model_name_at(c->models[m]), name) == 0)
            return m;
    return -1;
}

static void tables(FILE *f, const ab_config *c, const model_summary *ms)
{
    char a[160], b[160], d[160], e[160], g[160], h[160], i8[160], j[160];
    fprintf(f, "## Table 1: latent geometry (training features)\n\n"
               "Mean ± std (population) over seeds; per seed the learning rate with the best "
               "final test accuracy. Paper: CIFAR-10 ResNet-18 (Table 1).\n\n"
               "| Model | seeds | R | R paper | Sigma_W | Sigma_W paper | CoV | CoV paper | H/P | H/P paper |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < c->n_models; m++) {
        const model_summary *s = &ms[m];
        const ab_paper_row *p = ab_paper_find(s->name);
        fprintf(f, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", s->name, s->n_seeds,
                fmt(a, sizeof a, &s->s[AB_R_TRAIN], "%.2f", 1), pv(b, sizeof b, p, p ? p->r : 0, "%.2f"),
                fmt(d, sizeof d, &s->s[AB_SW_TRAIN], "%.3e", 1),
                pv(e, sizeof e, p, p ? p->sigma_w : 0, "%.3e"),
                fmt(g, sizeof g, &s->s[AB_COV_TRAIN], "%.3f", 1),
                pv(h, sizeof h, p, p ? p->cov : 0, "%.3f"),
                fmt(i8, sizeof i8, &s->s[AB_H_TRAIN], "%.3f", 1),
                pv(j, sizeof j, p, p ? p->h_per_dim : 0, "%.3f"));
    }
    fprintf(f, "\n## Table 2: robustness (DeepFool) and accuracy\n\n"
               "| Model | robustness | robustness paper | test acc (%%) | test acc paper | train acc (%%) | R test | LR per seed |\n"
               "|---|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < c->n_models; m++) {
        const model_summary *s = &ms[m];
        const ab_paper_row *p = ab_paper_find(s->name);
        char lrs[256] = "";
        for (int k = 0; k < s->n_seeds; k++) {
            char one[32];
            snprintf(one, sizeof one, "%s%g", k ? ", " : "", s->lrs[k]);
            strncat(lrs, one, sizeof lrs - strlen(lrs) - 1);
        }
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s->name,
                fmt(a, sizeof a, &s->s[AB_ROBUST], "%.4f", 1),
                pv(b, sizeof b, p, p ? p->robustness : 0, "%.3f"),
                fmt(d, sizeof d, &s->s[AB_ACC_TEST], "%.2f", 100),
                pv(e, sizeof e, p, p ? p->acc : 0, "%.2f"),
                fmt(g, sizeof g, &s->s[AB_ACC_TRAIN], "%.2f", 100),
                fmt(h, sizeof h, &s->s[AB_R_TEST], "%.2f", 1), s->n_seeds ? lrs : "—");
    }
    int attacked = 0;
    for (int m = 0; m < c->n_models; m++)
        attacked |= ms[m].s[AB_FMN].n > 0;
    if (!attacked)
        return;
    fprintf(f, "\n### Table 2, other attacks (--attacks 1)\n\n"
               "FMN: median |r|_2 / |x|_2 (L2, normalised input, as DeepFool); PGD: robust "
               "accuracy (Linf in [0,1] pixels, 50 steps, one random start).\n\n"
               "| Model | FMN median ratio | DeepFool mean ratio | PGD acc 2/255 (%%) | PGD acc 8/255 (%%) |\n"
               "|---|---|---|---|---|\n");
    for (int m = 0; m < c->n_models; m++) {
        const model_summary *s = &ms[m];
        fprintf(f, "| %s | %s | %s | %s | %s |\n", s->name,
                fmt(a, sizeof a, &s->s[AB_FMN], "%.4f", 1),
                fmt(b, sizeof b, &s->s[AB_ROBUST], "%.4f", 1),
                fmt(d, sizeof d, &s->s[AB_PGD_2], "%.2f", 100),
                fmt(e, sizeof e, &s->s[AB_PGD_8], "%.2f", 100));
    }
}

static double mean_of(const ab_config *c, const model_summary *ms, const char *name, ab_metric m)
{
    int i = model_index(c, name);
    return i >= 0 && ms[i].s[m].n ? ms[i].s[m].mean : NAN;
}

/* The paper's headline comparisons, and its claims checked one by one. */
static void headline(FILE *f, const ab_config *c, const model_summary *ms, const ab_record *recs,
                     int n)
{
    fprintf(f, "\n## Headline ratios\n\n");
    double r0 = mean_of(c, ms, "NoPen", AB_R_TRAIN), s0 = mean_of(c, ms, "NoPen", AB_SW_TRAIN);
    double b0 = mean_of(c, ms, "NoPen", AB_ROBUST), a0 = mean_of(c, ms, "NoPen", AB_ACC_TEST);
    if (!isfinite(r0)) {
        fprintf(f, "NoPen has not finished: no ratios.\n");
    } else {
        fprintf(f, "| Model | R / R(NoPen) | Sigma_W(NoPen) / Sigma_W | robustness / robustness(NoPen) | test acc - NoPen (points) |\n"
                   "|---|---|---|---|---|\n");
        for (int m = 0; m < c->n_models; m++) {
            if (!ms[m].s[AB_ACC_TEST].n)
                continue;
            fprintf(f, "| %s | %.2f | %.3g | %.2f | %+.2f |\n", ms[m].name,
                    ms[m].s[AB_R_TRAIN].mean / r0, s0 / ms[m].s[AB_SW_TRAIN].mean,
                    ms[m].s[AB_ROBUST].mean / b0, 100 * (ms[m].s[AB_ACC_TEST].mean - a0));
        }
        double max_l2 = NAN, min_other = NAN;
        for (int m = 0; m < c->n_models; m++) {
            int l2 = ex_model_has_l2(ex_model_index(ms[m].name));
            double v = ms[m].s[AB_SW_TRAIN].mean;
            if (!ms[m].s[AB_SW_TRAIN].n)
                continue;
            if (l2 && !(v <= max_l2))
                max_l2 = v;
            if (!l2 && !(v >= min_other))
                min_other = v;
        }
        fprintf(f, "\nSigma_W: largest over the L2 models %.3e, smallest over the others %.3e "
                   "(ratio %.3g).\n", max_l2, min_other, min_other / max_l2);
    }
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    int k = 0;
    for (int i = 0; x && y && i < n; i++)
        if (recs[i].json && isfinite(recs[i].v[AB_R_TRAIN]) && isfinite(recs[i].v[AB_ROBUST])) {
            x[k] = recs[i].v[AB_R_TRAIN];
            y[k++] = recs[i].v[AB_ROBUST];
        }
    double r;
    if (k >= 2 && lpc_pearson(x, y, k, &r) == LPC_OK)
        fprintf(f, "\nPearson r between R (train) and robustness over all %d runs: %.3f.\n", k, r);
    else
        fprintf(f, "\nPearson r between R and robustness: needs two runs that differ.\n");
    free(x);
    free(y);

    if (!isfinite(r0))
        return;
    fprintf(f, "\n## Paper claims\n\n"
               "Each model against NoPen (means over the chosen runs); a cell reads pass or FAIL "
               "and the measured value:\n\n"
               "- Sigma_W: NoPen's Sigma_W / the model's is at least 1e4 for LPC and at least "
               "1e3 for LPC-Wide, LPC-Narrow and LPC-SCL (latent collapse);\n"
               "- R: the model's R / NoPen's is at least 5 for LPC and at least 4 for the other "
               "three (class separation);\n"
               "- robustness: the model's DeepFool robustness / NoPen's is at least 1.5 for LPC "
               "and at least 1.3 for the other three;\n"
               "- accuracy: every model's test accuracy is within 1.5 points of NoPen's "
               "(the value: the difference in points).\n\n"
               "| Model | Sigma_W | R | robustness | accuracy |\n|---|---|---|---|---|\n");
    static const char *l2lin[] = {"LPC", "LPC-Wide", "LPC-Narrow", "LPC-SCL"};
    for (int m = 0; m < c->n_models; m++) {
        if (!ms[m].s[AB_ACC_TEST].n)
            continue;
        int strict = strcmp(ms[m].name, "LPC") == 0, lin = strict;
        for (int i = 1; i < 4; i++)
            lin |= strcmp(ms[m].name, l2lin[i]) == 0;
        double sw = s0 / ms[m].s[AB_SW_TRAIN].mean, rr = ms[m].s[AB_R_TRAIN].mean / r0;
        double rb = ms[m].s[AB_ROBUST].mean / b0, da = 100 * fabs(ms[m].s[AB_ACC_TEST].mean - a0);
        const char *acc = da <= 1.5 ? "pass" : "FAIL";
        if (!lin) {
            fprintf(f, "| %s | | | | %s (%.2f) |\n", ms[m].name, acc, da);
            continue;
        }
        fprintf(f, "| %s | %s (%.3g) | %s (%.2f) | %s (%.2f) | %s (%.2f) |\n", ms[m].name,
                sw >= (strict ? 1e4 : 1e3) ? "pass" : "FAIL", sw,
                rr >= (strict ? 5 : 4) ? "pass" : "FAIL", rr,
                rb >= (strict ? 1.5 : 1.3) ? "pass" : "FAIL", rb, acc, da);
    }
}

static void write_csv(FILE *f, const ab_config *c, const model_summary *ms)
{
    fprintf(f, "model,n_seeds");
    for (int m = 0; m < AB_NUM_METRICS; m++)
        fprintf(f, ",%s_mean,%s_std", metrics[m].key, metrics[m].key);
    fprintf(f, ",paper_R,paper_sigma_w,paper_cov,paper_H_per_dim,paper_robustness,paper_acc_test\n");
    for (int i = 0; i < c->n_models; i++) {
        fprintf(f, "%s,%d", ms[i].name, ms[i].n_seeds);
        for (int m = 0; m < AB_NUM_METRICS; m++)
            if (ms[i].s[m].n)
                fprintf(f, ",%.10g,%.10g", ms[i].s[m].mean, ms[i].s[m].std);
            else
                fprintf(f, ",,");
        const ab_paper_row *p = ab_paper_find(ms[i].name);
        if (p)
            fprintf(f, ",%g,%g,%g,%g,%g,%g\n", p->r, p->sigma_w, p->cov, p->h_per_dim,
                    p->robustness, p->acc / 100);
        else
            fprintf(f, ",,,,,,\n");
    }
}

static void write_summary(FILE *f, const ab_config *c, const model_summary *ms)
{
    jw w;
    jw_init(&w, f);
    jw_obj(&w, NULL);
    for (int i = 0; i < c->n_models; i++) {
        jw_obj(&w, ms[i].name);
        for (int m = 0; m < AB_NUM_METRICS; m++) {
            jw_obj(&w, metrics[m].key);
            jw_num(&w, "mean", ms[i].s[m].n ? ms[i].s[m].mean : NAN);
            jw_num(&w, "std", ms[i].s[m].n ? ms[i].s[m].std : NAN);
            jw_end_obj(&w);
        }
        jw_int(&w, "n_seeds", ms[i].n_seeds);
        jw_arr(&w, "lrs");
        for (int k = 0; k < ms[i].n_seeds; k++)
            jw_num(&w, NULL, ms[i].lrs[k]);
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
}

/* Text built in memory and written atomically (ex_write_atomic): a failed
 * write leaves the previous file. */
typedef struct {
    FILE *f;
    char *text;
    size_t len;
} output;

static int output_open(output *o)
{
    *o = (output){0};
    o->f = open_memstream(&o->text, &o->len);
    if (!o->f)
        fprintf(stderr, "error: cannot build the report in memory: %s\n", strerror(errno));
    return o->f != NULL;
}

/* Closes o and writes it to out/name; 0 on success. */
static int output_write(output *o, const char *out, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, name);
    int rc = 0;
    if (fclose(o->f) != 0) {
        fprintf(stderr, "error: cannot build %s in memory: %s\n", path, strerror(errno));
        rc = 1;
    }
    rc = rc || ex_write_atomic(path, o->text, o->len) != 0;
    free(o->text);
    return rc;
}

/* The figures' view of the finished runs. */
static int figures(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md)
{
    ab_fig_run *runs = calloc((size_t)(n ? n : 1), sizeof *runs);
    const char **models = calloc((size_t)c->n_models, sizeof *models);
    char (*dirs)[4200] = calloc((size_t)(n ? n : 1), sizeof *dirs);
    int k = 0, bad = 1;
    static const char *const hist[] = {"LPC", "LinPen"};
    if (runs && models && dirs) {
        for (int m = 0; m < c->n_models; m++)
            models[m] = ex_model_name_at(c->models[m]);
        for (int i = 0; i < n; i++) {
            if (!recs[i].json)
                continue;
            ab_cell_path(out, &recs[i].cell, NULL, dirs[k], sizeof dirs[k]);
            runs[k] = (ab_fig_run){recs[i].cell.model, recs[i].model, recs[i].chosen,
                                   recs[i].v[AB_R_TRAIN], recs[i].v[AB_ROBUST],
                                   jv_get(recs[i].json, "log"), dirs[k]};
            k++;
        }
        bad = ab_figures(out, models, c->n_models, hist, 2, runs, k, md);
    } else {
        fprintf(stderr, "error: out of memory drawing the figures\n");
    }
    free(runs);
    free(models);
    free(dirs);
    return bad;
}

int ab_report(const ab_config *c, const char *out, int quiet)
{
    int n = ab_num_cells(c), finished = 0, rc;
    int lock_fd = ab_lock_results(out, &rc);
    if (lock_fd < 0)
        return rc;
    ab_record *recs = calloc((size_t)n, sizeof *recs);
    model_summary *ms = calloc((size_t)c->n_models, sizeof *ms);
    if (!recs || !ms) {
        free(recs);
        free(ms);
        close(lock_fd);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        ab_record *r = &recs[i];
        char path[4200], id[2048], why[256];
        ab_cell_at(c, i, &r->cell);
        r->model = model_index(c, r->cell.model);
        ab_cell_path(out, &r->cell, "result.json", path, sizeof path);
        ab_cell_identity(c, &r->cell, id, sizeof id);
        r->state = ab_result_load(path, id, c->epochs, &r->json, why, sizeof why);
        if (r->state == AB_RESULT_DAMAGED || r->state == AB_RESULT_FOREIGN)
            fprintf(stderr, "warning: %s is %s (%s); counted as missing\n", path,
                    r->state == AB_RESULT_DAMAGED ? "damaged" : "not this configuration's", why);
        for (int m = 0; m < AB_NUM_METRICS; m++)
            r->v[m] = jv_num(r->json, metrics[m].path, NAN);
        finished += r->json != NULL;
    }
    choose(recs, n);
    for (int m = 0; m < c->n_models; m++) {
        ms[m].name = ex_model_name_at(c->models[m]);
        for (int k = 0; k < AB_NUM_METRICS; k++)
            ms[m].s[k] = summarise(recs, n, m, (ab_metric)k);
        for (int i = 0; i < n; i++)
            if (recs[i].json && recs[i].chosen && recs[i].model == m && ms[m].n_seeds < AB_MAX_SEEDS)
                ms[m].lrs[ms[m].n_seeds++] = recs[i].cell.lr;
    }

    rc = 0;
    output md, csv, js, ood;
    if (!rc && output_open(&md)) {
        fprintf(md.f, "# Ablation report: preset %s\n\n%s, %s backbone, %s protocol, %ld epochs, "
                      "batch %ld, training subset %ld (0 = all), widths %d/%d/%d, gamma_max %g, "
                      "%ld DeepFool samples.\n\n%d of %d cells finished.\n",
                c->preset, c->dataset, ab_backbone_name(c->backbone), ab_protocol_name(c->protocol),
                c->epochs, c->batch, c->subset, c->widths[0], c->widths[1], c->widths[2],
                c->gamma_max, c->deepfool_samples, finished, n);
        if (finished < n) {
            fprintf(md.f, "\nMissing cells (run `lpc-ablation all` with the same options):\n\n");
            for (int i = 0; i < n; i++)
                if (!recs[i].json)
                    fprintf(md.f, "- %s%s\n", recs[i].cell.name,
                            recs[i].state == AB_RESULT_DAMAGED   ? " (result.json damaged)"
                            : recs[i].state == AB_RESULT_FOREIGN ? " (another configuration's result)"
                                                                 : "");
        }
        fprintf(md.f, "\n");
        tables(md.f, c, ms);
        if (c->holdout && output_open(&ood)) {
            ab_openset_report(md.f, ood.f, c, recs, n);
            rc |= output_write(&ood, out, "ood.csv");
        } else if (c->holdout) {
            rc = 1;
        }
        headline(md.f, c, ms, recs, n);
        ab_table4(md.f, c, recs, n);
        fprintf(md.f, "\n## Figures\n\n");
        rc |= figures(c, out, recs, n, md.f) != 0;
        rc |= ab_fig5(c, out, recs, n, md.f) != 0;
        rc |= output_write(&md, out, "tables.md");
    } else {
        rc = 1;
    }
    if (output_open(&csv)) {
        write_csv(csv.f, c, ms);
        rc |= output_write(&csv, out, "tables.csv");
    } else {
        rc = 1;
    }
    if (output_open(&js)) {
        write_summary(js.f, c, ms);
        rc |= output_write(&js, out, "summary.json");
    } else {
        rc = 1;
    }
    if (!quiet) {
        printf("%d of %d cells finished", finished, n);
        if (finished < n) {
            printf("; missing:");
            for (int i = 0, shown = 0; i < n; i++)
                if (!recs[i].json && shown++ < 20)
                    printf(" %s", recs[i].cell.name);
            if (n - finished > 20)
                printf(" ... (%d more)", n - finished - 20);
        }
        printf("\n");
        if (!rc)
            printf("wrote %s/tables.md, %s/tables.csv, %s/summary.json%s%s%s\n", out, out, out,
                   c->holdout ? ", " : "", c->holdout ? out : "", c->holdout ? "/ood.csv" : "");
    }
    if (rc) {
        fprintf(stderr, "error: the report in %s is incomplete: some outputs could not be "
                        "written (see above); files written before were kept\n", out);
    }
    for (int i = 0; i < n; i++)
        jv_free(recs[i].json);
    free(recs);
    free(ms);
    close(lock_fd);
    return rc;
}
