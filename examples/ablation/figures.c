#include "figures.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>
#include "../common/recipes.h"
#include "cell.h"

#define FIG_W 800
#define FIG_H 560
#define HIST_BINS 80
#define HIST_NODES 6

/* lpc_plot_color cycles after 10 colours; the eleventh model is black. */
static uint32_t model_color(int m)
{
    return m < 10 ? lpc_plot_color(m) : 0x000000u;
}

/* Legend entries stacked below the top-right corner of the plot area. */
static void legend(lpc_canvas *cv, const double xr[2], const double yr[2], int i,
                   const char *label, uint32_t rgb)
{
    int px, py;
    if (lpc_canvas_map(cv, xr[1], yr[1], &px, &py) == LPC_OK)
        lpc_canvas_text(cv, px - 6 * 14, py + 6 + 10 * i, label, 1, rgb);
}

static int save(lpc_canvas *cv, const char *out, const char *name, const char *what, FILE *md)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (lpc_canvas_save_png(cv, path) != LPC_OK) {
        fprintf(md, "- %s: not written (%s)\n", name, lpc_last_error());
        return 1;
    }
    fprintf(md, "- [%s](%s): %s\n", name, name, what);
    return 0;
}

/* The first chosen (best-LR) run of a model, or NULL. */
static const ab_record *chosen_run(const ab_record *recs, int n, const char *model)
{
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && strcmp(recs[i].cell.model, model) == 0)
            return &recs[i];
    return NULL;
}

/* Figs. 2/4: histograms of the first latent nodes of the training features. */
static void latent_histograms(const char *out, const ab_record *recs, int n,
                              const char *model, FILE *md)
{
    const ab_record *r = chosen_run(recs, n, model);
    char path[4200], name[64], title[96];
    snprintf(name, sizeof name, "latent_hist_%s.png", model);
    if (!r) {
        fprintf(md, "- %s: skipped (%s has not finished)\n", name, model);
        return;
    }
    ab_cell_path(out, &r->cell, "features_train.npy", path, sizeof path);
    lpc_npy *a = NULL;
    if (lpc_npy_load(path, &a) != LPC_OK || lpc_npy_ndim(a) != 2) {
        fprintf(md, "- %s: skipped (cannot read %s)\n", name, path);
        lpc_npy_free(a);
        return;
    }
    int64_t rows = lpc_npy_dim(a, 0), p = lpc_npy_dim(a, 1), nodes = p < HIST_NODES ? p : HIST_NODES;
    double *z = malloc((size_t)(rows * p) * sizeof *z), *col = malloc((size_t)rows * sizeof *col);
    double counts[HIST_NODES][HIST_BINS], centres[HIST_BINS], xr[2], yr[2] = {0, 1};
    lpc_canvas *cv = lpc_canvas_new(FIG_W, FIG_H);
    int ok = z && col && cv && lpc_npy_copy_f64(a, z, rows * p) == LPC_OK &&
             lpc_plot_range(z, rows * p, 0, xr) == LPC_OK;
    for (int64_t j = 0; ok && j < nodes; j++) {
        for (int64_t i = 0; i < rows; i++)
            col[i] = z[i * p + j];
        ok = lpc_histogram(col, rows, xr[0], xr[1], HIST_BINS, counts[j]) == LPC_OK;
        for (int b = 0; ok && b < HIST_BINS; b++)
            yr[1] = counts[j][b] > yr[1] ? counts[j][b] : yr[1];
    }
    for (int b = 0; b < HIST_BINS; b++)
        centres[b] = xr[0] + (xr[1] - xr[0]) * (b + 0.5) / HIST_BINS;
    yr[1] *= 1.05;
    snprintf(title, sizeof title, "%s: first %d latent nodes (train)", model, (int)nodes);
    ok = ok && lpc_canvas_axes(cv, xr, yr, 0, title, "z value", "count") == LPC_OK;
    for (int64_t j = 0; ok && j < nodes; j++) {
        char label[32];
        snprintf(label, sizeof label, "node %d", (int)j);
        lpc_canvas_polyline(cv, centres, counts[j], HIST_BINS, lpc_plot_color((int)j));
        legend(cv, xr, yr, (int)j, label, lpc_plot_color((int)j));
    }
    if (ok)
        save(cv, out, name, "per-node latent histograms (the paper's Figs. 2/4)", md);
    else
        fprintf(md, "- %s: skipped (%s)\n", name, lpc_last_error());
    lpc_canvas_free(cv);
    free(z);
    free(col);
    lpc_npy_free(a);
}

/* Fig. 3: R (train) against robustness over all runs, one colour per model. */
static void r_vs_robustness(const ab_config *c, const char *out, const ab_record *recs, int n,
                            FILE *md)
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    double xr[2], yr[2];
    int k = 0;
    for (int i = 0; x && y && i < n; i++)
        if (recs[i].json && recs[i].v[AB_R_TRAIN] > 0 && recs[i].v[AB_ROBUST] > 0) {
            x[k] = recs[i].v[AB_R_TRAIN];
            y[k++] = recs[i].v[AB_ROBUST];
        }
    lpc_canvas *cv = lpc_canvas_new(FIG_W, FIG_H);
    if (!cv || k < 1 || lpc_plot_range(x, k, 1, xr) != LPC_OK ||
        lpc_plot_range(y, k, 1, yr) != LPC_OK ||
        lpc_canvas_axes(cv, xr, yr, LPC_PLOT_LOGX | LPC_PLOT_LOGY, "R vs robustness (all runs)",
                        "R (train)", "robustness") != LPC_OK) {
        fprintf(md, "- r_vs_robustness.png: skipped (no finished run with R and robustness)\n");
    } else {
        for (int m = 0; m < c->n_models; m++) {
            const char *name = ex_model_name_at(c->models[m]);
            for (int i = 0; i < n; i++)
                if (recs[i].json && recs[i].model == m && recs[i].v[AB_R_TRAIN] > 0 &&
                    recs[i].v[AB_ROBUST] > 0)
                    lpc_canvas_scatter(cv, &recs[i].v[AB_R_TRAIN], &recs[i].v[AB_ROBUST], 1, 3,
                                       model_color(m));
            legend(cv, xr, yr, m, name, model_color(m));
        }
        save(cv, out, "r_vs_robustness.png", "class separation vs robustness (the paper's Fig. 3)", md);
    }
    lpc_canvas_free(cv);
    free(x);
    free(y);
}

/* One series per model (its first best-LR run) of an epoch-log field. */
static void curves(const ab_config *c, const char *out, const ab_record *recs, int n,
                   const char *field, int logy, const char *file, const char *title,
                   const char *ylabel, FILE *md)
{
    long epochs = c->epochs;
    double *ep = malloc((size_t)epochs * sizeof *ep);
    double *all = malloc((size_t)(epochs * c->n_models) * sizeof *all);
    int *have = calloc((size_t)c->n_models, sizeof *have), any = 0;
    for (long e = 0; ep && e < epochs; e++)
        ep[e] = (double)(e + 1);
    for (int m = 0; ep && all && have && m < c->n_models; m++) {
        const ab_record *r = chosen_run(recs, n, ex_model_name_at(c->models[m]));
        const jv *log = r ? jv_get(r->json, "log") : NULL;
        if (!log || log->type != JV_ARR || log->n != epochs)
            continue;
        for (long e = 0; e < epochs; e++)
            all[m * epochs + e] = jv_num(log->items[e], field, NAN);
        have[m] = any = 1;
    }
    double xr[2] = {0.5, (double)epochs + 0.5}, yr[2];
    lpc_canvas *cv = lpc_canvas_new(FIG_W, FIG_H);
    int64_t total = 0;
    for (int m = 0; any && m < c->n_models; m++)
        if (have[m])
        {
            memmove(all + total, all + m * epochs, (size_t)epochs * sizeof *all);
            total += epochs;
        }
    if (!cv || !any || lpc_plot_range(all, total, logy, yr) != LPC_OK ||
        lpc_canvas_axes(cv, xr, yr, logy ? LPC_PLOT_LOGY : 0, title, "epoch", ylabel) != LPC_OK) {
        fprintf(md, "- %s: skipped (no finished run with a log)\n", file);
    } else {
        int64_t off = 0;
        for (int m = 0; m < c->n_models; m++) {
            if (!have[m])
                continue;
            lpc_canvas_polyline(cv, ep, all + off, epochs, model_color(m));
            legend(cv, xr, yr, m, ex_model_name_at(c->models[m]), model_color(m));
            off += epochs;
        }
        save(cv, out, file, title, md);
    }
    lpc_canvas_free(cv);
    free(ep);
    free(all);
    free(have);
}

void ab_figures(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md)
{
    latent_histograms(out, recs, n, "LPC", md);
    latent_histograms(out, recs, n, "LinPen", md);
    r_vs_robustness(c, out, recs, n, md);
    curves(c, out, recs, n, "acc_test_head", 0, "test_accuracy.png",
           "test accuracy (first 1000 test samples) per epoch", "accuracy", md);
    curves(c, out, recs, n, "gamma", 1, "gamma.png", "gamma at the end of each epoch", "gamma", md);
}
