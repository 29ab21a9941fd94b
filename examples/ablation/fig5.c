#include "fig5.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>

#define FIG_W 800
#define FIG_H 560
#define DASH 6

static const struct {
    const char *field, *file, *title;
    int logy;
} panels[] = {
    {"nc1_weighted", "fig5_nc1_weighted.png", "weighted NC1 = Tr(Sw Sb+)/(K P), training set", 1},
    {"equinorm", "fig5_equinorm.png", "equinorm: std/mean of |mu_c - mu_G|", 1},
    {"equiangularity", "fig5_equiangularity.png", "equiangularity: std of the mean cosines", 1},
    {"max_angle", "fig5_max_angle.png", "max-angle: mean |cos + 1/(K-1)|", 1},
};

/* The first best-LR run of model m with a log, or NULL. */
static const jv *log_of(const ab_record *recs, int n, int m)
{
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && recs[i].model == m) {
            const jv *log = jv_get(recs[i].json, "log");
            return log && log->type == JV_ARR ? log : NULL;
        }
    return NULL;
}

/* Measured (epoch, value) points of a log field; returns their count. */
static int points(const jv *log, const char *field, int logy, double *x, double *y)
{
    int k = 0;
    for (int e = 0; e < log->n; e++) {
        double v = jv_num(log->items[e], field, NAN);
        if (isfinite(v) && (!logy || v > 0)) {
            x[k] = jv_num(log->items[e], "epoch", e + 1);
            y[k++] = v;
        }
    }
    return k;
}

/* First epoch whose measured training accuracy is 100%, or 0. */
static double perfect_epoch(const jv *log)
{
    for (int e = 0; e < log->n; e++)
        if (jv_num(log->items[e], "acc_train", 0) >= 1.0)
            return jv_num(log->items[e], "epoch", e + 1);
    return 0;
}

static void dashed_vertical(lpc_canvas *cv, double x, const double yr[2], int logy, uint32_t rgb)
{
    int x0, y0, x1, y1;
    double lo = logy ? yr[0] * 1.0000001 : yr[0];
    if (lpc_canvas_map(cv, x, lo, &x0, &y0) != LPC_OK ||
        lpc_canvas_map(cv, x, yr[1], &x1, &y1) != LPC_OK)
        return;
    for (int y = y1; y < y0; y += 2 * DASH)
        lpc_canvas_line(cv, x0, y, x0, y + DASH < y0 ? y + DASH : y0, rgb);
}

static uint32_t color(int m) { return m < 10 ? lpc_plot_color(m) : 0x000000u; }

static void panel(const ab_config *c, const char *out, const ab_record *recs, int n, int which,
                  FILE *md)
{
    long cap = c->epochs > 0 ? c->epochs : 1;
    double *x = malloc((size_t)(cap * c->n_models) * sizeof *x);
    double *y = malloc((size_t)(cap * c->n_models) * sizeof *y);
    int *count = calloc((size_t)c->n_models, sizeof *count), total = 0;
    for (int m = 0; x && y && count && m < c->n_models; m++) {
        const jv *log = log_of(recs, n, m);
        if (log && log->n <= cap)
            total += count[m] = points(log, panels[which].field, panels[which].logy,
                                       x + total, y + total);
    }
    double xr[2] = {0.5, (double)c->epochs + 0.5}, yr[2];
    lpc_canvas *cv = lpc_canvas_new(FIG_W, FIG_H);
    int logy = panels[which].logy;
    if (!cv || total < 1 || lpc_plot_range(y, total, logy, yr) != LPC_OK ||
        lpc_canvas_axes(cv, xr, yr, logy ? LPC_PLOT_LOGY : 0, panels[which].title, "epoch",
                        panels[which].field) != LPC_OK) {
        fprintf(md, "- %s: skipped (no run logged training-set metrics; --metrics-every)\n",
                panels[which].file);
    } else {
        int off = 0, row = 0;
        for (int m = 0; m < c->n_models; m++) {
            if (!count[m])
                continue;
            lpc_canvas_polyline(cv, x + off, y + off, count[m], color(m));
            lpc_canvas_scatter(cv, x + off, y + off, count[m], 2, color(m));
            double at = perfect_epoch(log_of(recs, n, m));
            if (at > 0)
                dashed_vertical(cv, at, yr, logy, color(m));
            int px, py;
            if (lpc_canvas_map(cv, xr[1], yr[1], &px, &py) == LPC_OK)
                lpc_canvas_text(cv, px - 6 * 14, py + 6 + 10 * row++,
                                lpc_model_name_at(c->models[m]), 1, color(m));
            off += count[m];
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", out, panels[which].file);
        if (lpc_canvas_save_png(cv, path) != LPC_OK)
            fprintf(md, "- %s: not written (%s)\n", panels[which].file, lpc_last_error());
        else
            fprintf(md, "- [%s](%s): %s over epochs (the paper's Fig. 5; dashed: the epoch the "
                        "training accuracy reaches 100%%)\n", panels[which].file,
                    panels[which].file, panels[which].field);
    }
    lpc_canvas_free(cv);
    free(x);
    free(y);
    free(count);
}

void ab_fig5(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md)
{
    for (int i = 0; i < (int)(sizeof panels / sizeof panels[0]); i++)
        panel(c, out, recs, n, i, md);
}
