#include "fig5.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/plot.h"

#define FIG_W 960
#define FIG_H 600
#define LABEL_FONT 14

/* The four panels of the paper's Fig. 5, one PNG each. */
static const struct {
    const char *field, *file, *title, *ylabel;
} panels[] = {
    {"nc1_weighted", "fig5_nc1_weighted.png",
     "Weighted NC1 = Tr(\xce\xa3_W \xce\xa3_B\xe2\x81\xba) / (K P), training set", "Weighted NC1"},
    {"equinorm", "fig5_equinorm.png", "Equinorm: std / mean of \xe2\x80\x96\xce\xbc_c \xe2\x88\x92 "
     "\xce\xbc_G\xe2\x80\x96, training set", "Equinorm"},
    {"equiangularity", "fig5_equiangularity.png",
     "Equiangularity: std of the cosines between class means, training set", "Equiangularity"},
    {"max_angle", "fig5_max_angle.png",
     "Max-angle: mean |cos + 1/(K\xe2\x88\x92" "1)| between class means, training set",
     "Max-angle"},
};

/* The log of the first best-LR run of model m, or NULL. */
static const jv *log_of(const ab_record *recs, int n, int m)
{
    for (int i = 0; i < n; i++)
        if (recs[i].json && recs[i].chosen && recs[i].model == m) {
            const jv *log = jv_get(recs[i].json, "log");
            return cJSON_IsArray(log) ? log : NULL;
        }
    return NULL;
}

/* First epoch whose measured training accuracy is 100%, or 0. */
static double perfect_epoch(const jv *log)
{
    int e = 0;
    const jv *row;
    cJSON_ArrayForEach(row, log) {
        e++;
        if (jv_num(row, "acc_train", 0) >= 1.0)
            return jv_num(row, "epoch", e);
    }
    return 0;
}

/* One figure: a line with markers per model over the epochs where it was
 * measured (--metrics-every), log y, and a dashed line in the model's colour
 * at the epoch its training accuracy reaches 100%. Returns 1 when the figure
 * could not be written. */
static int panel(const ab_config *c, const char *out, const ab_record *recs, int n, int which,
                 FILE *md)
{
    long epochs = c->epochs > 0 ? c->epochs : 1;
    size_t cells = (size_t)epochs * (size_t)c->n_models;
    double *x = malloc(cells * sizeof *x), *y = malloc(cells * sizeof *y);
    int *count = calloc((size_t)c->n_models, sizeof *count);
    const char **labels = malloc((size_t)c->n_models * sizeof *labels);
    uint32_t *rgb = malloc((size_t)c->n_models * sizeof *rgb);
    ex_marker *marks = malloc((size_t)c->n_models * sizeof *marks);
    int total = 0, shown = 0, bad = 0;
    for (int m = 0; x && y && count && labels && rgb && marks && m < c->n_models; m++) {
        const jv *log = log_of(recs, n, m);
        long e = 0;
        const jv *row;
        cJSON_ArrayForEach(row, log) { /* in order: one pass, not one per entry */
            if (e++ == epochs)
                break;
            double v = jv_num(row, panels[which].field, NAN);
            if (isfinite(v) && v > 0) {
                x[total + count[m]] = jv_num(row, "epoch", (double)e);
                y[total + count[m]++] = v;
            }
        }
        total += count[m];
        if (count[m]) {
            labels[shown] = ex_model_name_at(c->models[m]);
            rgb[shown] = ex_color(m);
            marks[shown++] = (ex_marker)(m % EX_NUM_MARKERS);
        }
    }
    const char *file = panels[which].file;
    ex_fig f = {0};
    double yr[2];
    if (!shown || ex_range(y, total, 1, yr) != 0) {
        fprintf(md, "- %s: skipped (no run logged training-set metrics; --metrics-every)\n", file);
    } else if (ex_fig_init(&f, FIG_W, FIG_H) != 0) {
        fprintf(md, "- %s: not written (see the error output)\n", file);
        bad = 1;
    } else {
        double lw = ex_legend_width(&f, labels, shown, LABEL_FONT - 1);
        ex_axes a = {.x = 96, .y = 64, .w = FIG_W - 96 - lw - 44, .h = FIG_H - 64 - 70,
                     .xr = {0.5, (double)epochs + 0.5}, .logy = 1};
        memcpy(a.yr, yr, sizeof yr);
        ex_text(&f, FIG_W / 2.0, 16, panels[which].title, LABEL_FONT + 2, 1, 0.5, 0, 0);
        ex_axes_draw(&f, &a, NULL, "Epoch", panels[which].ylabel, LABEL_FONT - 1);
        int off = 0, s = 0;
        for (int m = 0; m < c->n_models; m++) {
            if (!count[m])
                continue;
            double at = perfect_epoch(log_of(recs, n, m));
            if (at > 0)
                ex_plot_vline(&f, &a, at, rgb[s], 1.5, 1);
            ex_plot_line(&f, &a, x + off, y + off, count[m], rgb[s], 2);
            ex_plot_points(&f, &a, x + off, y + off, count[m], 3.5, rgb[s], marks[s]);
            off += count[m];
            s++;
        }
        ex_legend(&f, a.x + a.w + 20, a.y, labels, rgb, marks, shown, LABEL_FONT - 1);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", out, file);
        if (ex_fig_save(&f, path) != 0) {
            fprintf(md, "- %s: not written (see the error output)\n", file);
            bad = 1;
        } else {
            fprintf(md, "- [%s](%s): %s over epochs (the paper's Fig. 5; dashed: the epoch the "
                        "training accuracy reaches 100%%)\n", file, file, panels[which].ylabel);
        }
    }
    ex_fig_done(&f);
    free(x);
    free(y);
    free(count);
    free(labels);
    free(rgb);
    free(marks);
    return bad;
}

int ab_fig5(const ab_config *c, const char *out, const ab_record *recs, int n, FILE *md)
{
    int bad = 0;
    for (int i = 0; i < (int)(sizeof panels / sizeof panels[0]); i++)
        bad += panel(c, out, recs, n, i, md);
    return bad;
}
