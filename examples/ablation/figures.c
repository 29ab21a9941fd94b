#include "figures.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>

#define HIST_BINS 40
/* Histogram grid: cell size, plot area margins inside a cell, figure margins. */
#define CELL_W 200
#define CELL_H 150
#define IN_LEFT 46
#define IN_TOP 22
#define IN_RIGHT 10
#define IN_BOTTOM 30
#define FIG_LEFT 34
#define FIG_TOP 58
#define FIG_RIGHT 12
#define FIG_BOTTOM 40
#define TICK_FONT 11
#define LABEL_FONT 14

static int grid_cols(int nodes)
{
    int cols = (int)ceil(sqrt((double)nodes));
    return cols < 1 ? 1 : cols;
}

static int drawn_nodes(int nodes)
{
    return nodes < AB_HIST_MAX_NODES ? nodes : AB_HIST_MAX_NODES;
}

void ab_hist_layout(int nodes, int *w, int *h)
{
    int n = drawn_nodes(nodes), cols = grid_cols(n), rows = (n + cols - 1) / cols;
    *w = FIG_LEFT + cols * CELL_W + FIG_RIGHT;
    *h = FIG_TOP + rows * CELL_H + FIG_BOTTOM;
}

void ab_hist_panel(int nodes, int i, ex_axes *a)
{
    int cols = grid_cols(drawn_nodes(nodes));
    *a = (ex_axes){.x = FIG_LEFT + (i % cols) * CELL_W + IN_LEFT,
                   .y = FIG_TOP + (i / cols) * CELL_H + IN_TOP,
                   .w = CELL_W - IN_LEFT - IN_RIGHT,
                   .h = CELL_H - IN_TOP - IN_BOTTOM};
}

/* Saves the figure and lists it in md; returns 1 when it could not be written. */
static int save(ex_fig *f, const char *out, const char *name, const char *what, FILE *md)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (ex_fig_save(f, path) != 0) {
        fprintf(md, "- %s: not written (see the error output)\n", name);
        return 1;
    }
    fprintf(md, "- [%s](%s): %s\n", name, name, what);
    return 0;
}

static const ab_fig_run *chosen_run(const ab_fig_run *runs, int n, const char *model)
{
    for (int i = 0; i < n; i++)
        if (runs[i].chosen && strcmp(runs[i].model, model) == 0)
            return &runs[i];
    return NULL;
}

/* One panel: the histogram of column j of the rows x p matrix z. */
static void node_panel(ex_fig *f, const double *z, int64_t rows, int64_t p, int j, int nodes,
                       double *col)
{
    double counts[HIST_BINS] = {0}, peak = 0;
    ex_axes a;
    ab_hist_panel(nodes, j, &a);
    for (int64_t i = 0; i < rows; i++)
        col[i] = z[i * p + j];
    if (ex_range(col, rows, 0, a.xr) != 0)
        return;
    for (int64_t i = 0; i < rows; i++) {
        if (!isfinite(col[i]))
            continue;
        int b = (int)((col[i] - a.xr[0]) / (a.xr[1] - a.xr[0]) * HIST_BINS);
        counts[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
    }
    for (int b = 0; b < HIST_BINS; b++)
        peak = fmax(peak, counts[b]);
    a.yr[0] = 0;
    a.yr[1] = peak * 1.1 + 1;
    char title[32];
    snprintf(title, sizeof title, "Node %d", j + 1);
    ex_axes_draw(f, &a, title, NULL, NULL, TICK_FONT);
    ex_plot_bars(f, &a, a.xr[0], a.xr[1], counts, HIST_BINS, ex_color(0));
}

/* Figs. 2/4: one histogram panel per latent node of the training features. */
static int latent_histograms(const char *out, const ab_fig_run *runs, int n, const char *model,
                             FILE *md)
{
    const ab_fig_run *r = chosen_run(runs, n, model);
    char path[4200], name[96];
    snprintf(name, sizeof name, "latent_hist_%s.png", model);
    if (!r) {
        fprintf(md, "- %s: skipped (%s has not finished)\n", name, model);
        return 0;
    }
    snprintf(path, sizeof path, "%s/features_train.npy", r->dir);
    lpc_npy *arr = NULL;
    if (lpc_npy_load(path, &arr) != LPC_OK || lpc_npy_ndim(arr) != 2 || lpc_npy_dim(arr, 0) < 1 ||
        lpc_npy_dim(arr, 1) < 1) {
        fprintf(md, "- %s: skipped (cannot read %s: %s)\n", name, path,
                arr ? "not a non-empty 2-D array" : lpc_last_error());
        lpc_npy_free(arr);
        return 0;
    }
    int64_t rows = lpc_npy_dim(arr, 0), p = lpc_npy_dim(arr, 1);
    int nodes = (int)(p < AB_HIST_MAX_NODES ? p : AB_HIST_MAX_NODES), w, h, bad = 0;
    double *z = malloc((size_t)(rows * p) * sizeof *z), *col = malloc((size_t)rows * sizeof *col);
    ex_fig f = {0};
    ab_hist_layout(nodes, &w, &h);
    if (!z || !col || lpc_npy_copy_f64(arr, z, rows * p) != LPC_OK || ex_fig_init(&f, w, h) != 0) {
        fprintf(md, "- %s: not written (out of memory)\n", name);
        bad = 1;
    } else {
        char title[160];
        snprintf(title, sizeof title, "%s: latent node histograms (%lld training samples%s)",
                 model, (long long)rows, p > nodes ? ", first 64 nodes" : "");
        ex_text(&f, w / 2.0, 14, title, LABEL_FONT + 2, 1, 0.5, 0, 0);
        ex_text(&f, w / 2.0, h - 8, "Latent value z", LABEL_FONT, 0, 0.5, 1, 0);
        ex_text(&f, 10, FIG_TOP + (h - FIG_TOP - FIG_BOTTOM) / 2.0, "Count", LABEL_FONT, 0, 0.5,
                0, -M_PI / 2);
        for (int j = 0; j < nodes; j++)
            node_panel(&f, z, rows, p, j, nodes, col);
        bad = save(&f, out, name, "per-node latent histograms, one panel per node (the paper's "
                                  "Figs. 2/4)", md);
    }
    ex_fig_done(&f);
    free(z);
    free(col);
    lpc_npy_free(arr);
    return bad;
}

/* Plot area of a single-panel figure with the legend in a column on its
 * right, outside the data: it never covers a point. */
static ex_axes wide_axes(ex_fig *f, const char *const *labels, int n)
{
    double lw = ex_legend_width(f, labels, n, LABEL_FONT - 1);
    return (ex_axes){.x = 96, .y = 64, .w = f->w - 96 - lw - 44, .h = f->h - 64 - 70};
}

static double pearson_of(const ab_fig_run *runs, int n)
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    double r = NAN;
    int k = 0;
    for (int i = 0; x && y && i < n; i++)
        if (runs[i].r_train > 0 && runs[i].robustness > 0 && isfinite(runs[i].r_train) &&
            isfinite(runs[i].robustness)) {
            x[k] = runs[i].r_train;
            y[k++] = runs[i].robustness;
        }
    if (k < 2 || lpc_pearson(x, y, k, &r) != LPC_OK)
        r = NAN;
    free(x);
    free(y);
    return r;
}

/* Fig. 3: R (train) against robustness over all runs, log-log, a colour and
 * a marker per model. */
static int r_vs_robustness(const char *out, const char *const *models, int n_models,
                           const ab_fig_run *runs, int n, FILE *md)
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    int k = 0, bad = 0;
    for (int i = 0; x && y && i < n; i++) {
        x[i] = runs[i].r_train;
        y[i] = runs[i].robustness;
        k += x[i] > 0 && y[i] > 0 && isfinite(x[i]) && isfinite(y[i]);
    }
    ex_fig f = {0};
    ex_axes a = {0};
    int drawable = x && y && k >= 1 && ex_range(x, n, 1, a.xr) == 0 &&
                   ex_range(y, n, 1, a.yr) == 0;
    if (!drawable) {
        fprintf(md, "- r_vs_robustness.png: skipped (no finished run with R and robustness)\n");
    } else if (ex_fig_init(&f, AB_FIG_W, AB_FIG_H) != 0) {
        fprintf(md, "- r_vs_robustness.png: not written (see the error output)\n");
        bad = 1;
    } else {
        ex_axes area = wide_axes(&f, models, n_models);
        area.logx = area.logy = 1;
        memcpy(area.xr, a.xr, sizeof a.xr);
        memcpy(area.yr, a.yr, sizeof a.yr);
        a = area;
        char title[160];
        double r = pearson_of(runs, n);
        if (isfinite(r))
            snprintf(title, sizeof title, "Class separation vs robustness: %d runs, Pearson r = %.3f",
                     k, r);
        else
            snprintf(title, sizeof title, "Class separation vs robustness: %d run%s", k,
                     k == 1 ? "" : "s");
        ex_text(&f, AB_FIG_W / 2.0, 16, title, LABEL_FONT + 2, 1, 0.5, 0, 0);
        ex_axes_draw(&f, &a, NULL, "Class separation R (training set)",
                     "Robustness (mean DeepFool perturbation)", LABEL_FONT - 1);
        /* The legend lists the models with at least one point. */
        uint32_t *rgb = malloc((size_t)n_models * sizeof *rgb);
        ex_marker *mk = malloc((size_t)n_models * sizeof *mk);
        const char **labels = malloc((size_t)n_models * sizeof *labels);
        int shown = 0;
        for (int m = 0; rgb && mk && labels && m < n_models; m++) {
            int points = 0;
            for (int i = 0; i < n; i++)
                if (runs[i].series == m) {
                    ex_plot_points(&f, &a, &x[i], &y[i], 1, 5, ex_color(m),
                                   (ex_marker)(m % EX_NUM_MARKERS));
                    points += x[i] > 0 && y[i] > 0 && isfinite(x[i]) && isfinite(y[i]);
                }
            if (points) {
                rgb[shown] = ex_color(m);
                mk[shown] = (ex_marker)(m % EX_NUM_MARKERS);
                labels[shown++] = models[m];
            }
        }
        if (shown)
            ex_legend(&f, a.x + a.w + 20, a.y, labels, rgb, mk, shown, LABEL_FONT - 1);
        free(rgb);
        free(mk);
        free(labels);
        bad = save(&f, out, "r_vs_robustness.png",
                   "class separation vs robustness over all runs (the paper's Fig. 3)", md);
    }
    ex_fig_done(&f);
    free(x);
    free(y);
    return bad;
}

/* One line per model (its first chosen run) of an epoch-log field. */
static int curves(const char *out, const char *const *models, int n_models,
                  const ab_fig_run *runs, int n, const char *field, int logy, const char *file,
                  const char *title, const char *ylabel, FILE *md)
{
    int epochs = 0, bad = 0, shown = 0;
    for (int m = 0; m < n_models; m++) {
        const ab_fig_run *r = chosen_run(runs, n, models[m]);
        if (r && cJSON_IsArray(r->log))
            epochs = fmax(epochs, cJSON_GetArraySize(r->log));
    }
    double *ep = malloc((size_t)(epochs ? epochs : 1) * sizeof *ep);
    double *all = malloc((size_t)(epochs ? epochs : 1) * (size_t)n_models * sizeof *all);
    const char **labels = malloc((size_t)n_models * sizeof *labels);
    uint32_t *rgb = malloc((size_t)n_models * sizeof *rgb);
    for (int e = 0; ep && e < epochs; e++)
        ep[e] = e + 1;
    for (int m = 0; all && labels && rgb && m < n_models; m++) {
        const ab_fig_run *r = chosen_run(runs, n, models[m]);
        if (!r || !cJSON_IsArray(r->log))
            continue;
        double *row = all + (size_t)shown * (size_t)epochs;
        int e = 0;
        const jv *entry;
        cJSON_ArrayForEach(entry, r->log) /* in order: one pass, not one per entry */
            if (e < epochs)
                row[e++] = jv_num(entry, field, NAN);
        while (e < epochs)
            row[e++] = NAN;
        labels[shown] = models[m];
        rgb[shown++] = ex_color(m);
    }
    /* Series that are all the same (gamma follows one schedule for every
     * model) are drawn once. */
    int same = shown > 1;
    for (int s = 1; same && s < shown; s++)
        same = memcmp(all, all + (size_t)s * (size_t)epochs, (size_t)epochs * sizeof *all) == 0;
    if (same) {
        shown = 1;
        labels[0] = "All models";
        rgb[0] = 0x333333;
    }
    ex_fig f = {0};
    double yr[2];
    if (!ep || !all || !labels || !rgb || !shown ||
        ex_range(all, (int64_t)shown * epochs, logy, yr) != 0) {
        fprintf(md, "- %s: skipped (no finished run with a log of %s)\n", file, field);
    } else if (ex_fig_init(&f, AB_FIG_W, AB_FIG_H) != 0) {
        fprintf(md, "- %s: not written (see the error output)\n", file);
        bad = 1;
    } else {
        ex_axes a = wide_axes(&f, labels, shown);
        a.logy = logy;
        a.xr[0] = 0.5;
        a.xr[1] = epochs + 0.5;
        memcpy(a.yr, yr, sizeof yr);
        ex_text(&f, AB_FIG_W / 2.0, 16, title, LABEL_FONT + 2, 1, 0.5, 0, 0);
        ex_axes_draw(&f, &a, NULL, "Epoch", ylabel, LABEL_FONT - 1);
        for (int s = 0; s < shown; s++)
            ex_plot_line(&f, &a, ep, all + (size_t)s * (size_t)epochs, epochs, rgb[s], 2);
        ex_legend(&f, a.x + a.w + 20, a.y, labels, rgb, NULL, shown, LABEL_FONT - 1);
        bad = save(&f, out, file, title, md);
    }
    ex_fig_done(&f);
    free(ep);
    free(all);
    free(labels);
    free(rgb);
    return bad;
}

int ab_figures(const char *out, const char *const *models, int n_models,
               const char *const *hist_models, int n_hist, const ab_fig_run *runs, int n,
               FILE *md)
{
    int bad = 0;
    for (int i = 0; i < n_hist; i++)
        bad += latent_histograms(out, runs, n, hist_models[i], md);
    bad += r_vs_robustness(out, models, n_models, runs, n, md);
    bad += curves(out, models, n_models, runs, n, "acc_test_head", 0, "test_accuracy.png",
                  "Test accuracy per epoch (first 1000 test samples)", "Test accuracy", md);
    bad += curves(out, models, n_models, runs, n, "gamma", 1, "gamma.png",
                  "Penalty weight \xce\xb3 at the end of each epoch", "\xce\xb3 (log scale)", md);
    return bad;
}
