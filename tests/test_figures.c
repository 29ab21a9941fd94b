/* The figures of lpc-ablation (examples/ablation/figures.c, drawn with
 * cairo), from the small fixed results directory tests/fixtures/figures
 * (LPC with 6 latent nodes, LinPen with 5, NoPen without features): every
 * figure is written, is a valid PNG of the expected size, and has ink in
 * each panel and in each series' colour; failures are reported, not
 * hidden. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../examples/ablation/figures.h"
#include "lpct.h"

static const char *const models[] = {"LPC", "LinPen", "NoPen"};
static const char *const hist[] = {"LPC", "LinPen"};

typedef struct {
    jv *json[3];
    char dir[3][4096];
    ab_fig_run runs[3];
} fixture;

static void load_fixture(fixture *fx)
{
    for (int m = 0; m < 3; m++) {
        char path[4200], why[256];
        snprintf(fx->dir[m], sizeof fx->dir[m], "%s/%s", LPCT_FIXTURES "/figures", models[m]);
        snprintf(path, sizeof path, "%s/result.json", fx->dir[m]);
        fx->json[m] = jv_load(path, 1 << 20, why, sizeof why);
        ck_assert_msg(fx->json[m] != NULL, "%s: %s", path, why);
        fx->runs[m] = (ab_fig_run){models[m], m, 1, jv_num(fx->json[m], "final.train.R", 0),
                                   jv_num(fx->json[m], "final.robustness", 0),
                                   jv_get(fx->json[m], "log"), fx->dir[m]};
    }
}

static void free_fixture(fixture *fx)
{
    for (int m = 0; m < 3; m++)
        jv_free(fx->json[m]);
}

/* The image, checked to be a valid PNG of w x h. */
static cairo_surface_t *open_png(const char *dir, const char *name, int w, int h)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, "%s: %s", path,
                  cairo_status_to_string(cairo_surface_status(s)));
    ck_assert_int_eq(cairo_image_surface_get_width(s), w);
    ck_assert_int_eq(cairo_image_surface_get_height(s), h);
    return s;
}

static uint32_t pixel(cairo_surface_t *s, int x, int y)
{
    const unsigned char *row = cairo_image_surface_get_data(s) +
                               (size_t)y * (size_t)cairo_image_surface_get_stride(s);
    return ((const uint32_t *)row)[x] & 0xffffffu;
}

/* Whether p is rgb blended over white with at least half coverage (the
 * antialiased edge of a line or marker of that colour). */
static int like(uint32_t p, uint32_t rgb)
{
    double a = -1;
    int ok = 1;
    for (int sh = 0; sh <= 16; sh += 8) {
        double c = rgb >> sh & 255, v = p >> sh & 255;
        if (c < 200 && a < 0)
            a = (255 - v) / (255 - c);
    }
    for (int sh = 0; sh <= 16; sh += 8) {
        double c = rgb >> sh & 255, v = p >> sh & 255;
        ok &= fabs(v - (a * c + (1 - a) * 255)) <= 12;
    }
    return ok && a >= 0.5;
}

/* Pixels in the rectangle that are not white (rgb = -1) or are of colour rgb. */
static long count(cairo_surface_t *s, int x0, int y0, int x1, int y1, long rgb)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += rgb < 0 ? pixel(s, x, y) != 0xffffffu : like(pixel(s, x, y), (uint32_t)rgb);
    return n;
}

static char *out_dir(const char *name)
{
    char *dir = lpct_tmpfile(name);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    return dir;
}

static void remove_dir(char *dir)
{
    const char *files[] = {"latent_hist_LPC.png", "latent_hist_LinPen.png", "r_vs_robustness.png",
                           "test_accuracy.png", "gamma.png"};
    char path[4200];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0); /* nothing else, no temporary file, is left */
    free(dir);
}

START_TEST(histograms_one_panel_per_node)
{
    fixture fx;
    load_fixture(&fx);
    char *dir = out_dir("figs-hist");
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    ck_assert_int_eq(ab_figures(dir, models, 3, hist, 2, fx.runs, 3, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(md, "[latent_hist_LPC.png]"));
    ck_assert_ptr_nonnull(strstr(md, "[latent_hist_LinPen.png]"));
    const int nodes[2] = {6, 5};
    for (int k = 0; k < 2; k++) {
        char name[64];
        int w, h;
        snprintf(name, sizeof name, "latent_hist_%s.png", hist[k]);
        ab_hist_layout(nodes[k], &w, &h);
        cairo_surface_t *s = open_png(dir, name, w, h);
        for (int i = 0; i < nodes[k]; i++) {
            ex_axes a;
            ab_hist_panel(nodes[k], i, &a);
            /* Bars inside the frame, in the bar colour. */
            long bars = count(s, (int)a.x + 2, (int)a.y + 2, (int)(a.x + a.w) - 2,
                              (int)(a.y + a.h) - 1, ex_color(0));
            ck_assert_msg(bars > 100, "%s panel %d: %ld bar pixels", name, i, bars);
        }
        /* No panel beyond the last node: the next grid cell is empty. */
        ex_axes extra;
        ab_hist_panel(nodes[k], nodes[k], &extra);
        if (extra.y + extra.h < h)
            ck_assert_int_eq(count(s, (int)extra.x, (int)extra.y, (int)(extra.x + extra.w),
                                   (int)(extra.y + extra.h), -1), 0);
        cairo_surface_destroy(s);
    }
    free(md);
    remove_dir(dir);
    free_fixture(&fx);
}
END_TEST

START_TEST(scatter_and_curves_show_every_series)
{
    fixture fx;
    load_fixture(&fx);
    char *dir = out_dir("figs-series");
    FILE *f = fopen("/dev/null", "w");
    ck_assert_int_eq(ab_figures(dir, models, 3, hist, 0, fx.runs, 3, f), 0);
    fclose(f);
    cairo_surface_t *s = open_png(dir, "r_vs_robustness.png", AB_FIG_W, AB_FIG_H);
    for (int m = 0; m < 3; m++) /* a marker per run and one in the legend */
        ck_assert_msg(count(s, 0, 0, AB_FIG_W, AB_FIG_H, ex_color(m)) > 25, "model %d: %ld", m,
                      count(s, 0, 0, AB_FIG_W, AB_FIG_H, ex_color(m)));
    cairo_surface_destroy(s);
    s = open_png(dir, "test_accuracy.png", AB_FIG_W, AB_FIG_H);
    for (int m = 0; m < 3; m++)
        ck_assert_msg(count(s, 0, 0, AB_FIG_W, AB_FIG_H, ex_color(m)) > 200, "model %d: %ld", m,
                      count(s, 0, 0, AB_FIG_W, AB_FIG_H, ex_color(m)));
    cairo_surface_destroy(s);
    /* gamma: NoPen's zeros are off the log axis; LPC and LinPen share one
     * schedule and are drawn once. */
    s = open_png(dir, "gamma.png", AB_FIG_W, AB_FIG_H);
    ck_assert_int_gt(count(s, 0, 0, AB_FIG_W, AB_FIG_H, -1), 5000);
    cairo_surface_destroy(s);
    remove_dir(dir);
    free_fixture(&fx);
}
END_TEST

START_TEST(missing_data_is_skipped_and_write_errors_counted)
{
    fixture fx;
    load_fixture(&fx);
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    /* NoPen has no features: its histogram is skipped with the reason. */
    static const char *const nopen[] = {"NoPen", "CosFace"};
    char *dir = out_dir("figs-skip");
    ck_assert_int_eq(ab_figures(dir, models, 3, nopen, 2, fx.runs, 3, f), 0);
    fflush(f);
    ck_assert_ptr_nonnull(strstr(md, "latent_hist_NoPen.png: skipped (cannot read"));
    ck_assert_ptr_nonnull(strstr(md, "latent_hist_CosFace.png: skipped (CosFace has not finished)"));
    remove_dir(dir);
    /* An output directory that does not exist: every figure fails, each is
     * counted and listed as not written. */
    ck_assert_int_eq(ab_figures("/nonexistent-lpc-dir", models, 3, hist, 2, fx.runs, 3, f), 5);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(md, "r_vs_robustness.png: not written"));
    free(md);
    free_fixture(&fx);
}
END_TEST

/* A log axis over values up to 1.7e308: the range stays finite (its upper
 * end was 10^308.33 = inf, and the decade count then overflowed an int). */
START_TEST(log_axis_of_huge_values)
{
    const double v[2] = {1.0, 1.7e308};
    double r[2], labels[64];
    ck_assert_int_eq(ex_range(v, 2, 1, r), 0);
    ck_assert_msg(isfinite(r[0]) && isfinite(r[1]) && r[0] <= 1.0 && r[1] >= 1.7e308,
                  "range %g..%g", r[0], r[1]);
    ex_fig fig = {0};
    ck_assert_int_eq(ex_fig_init(&fig, 400, 300), 0);
    ex_axes a = {.x = 60, .y = 20, .w = 300, .h = 240, .xr = {0, 1}, .yr = {r[0], r[1]},
                 .logy = 1};
    ex_axes_draw(&fig, &a, "huge", "x", "y", 11);
    int n = ex_axis_labels(&fig, &a, 0, 11, labels, 64);
    ck_assert_int_ge(n, 2);
    for (int i = 0; i < n; i++)
        ck_assert_msg(isfinite(labels[i]) && labels[i] > 0, "label %d is %g", i, labels[i]);
    ex_fig_done(&fig);
}
END_TEST

/* Minor labels of a log axis never overlap: over 0.0055..0.0105 (the
 * weighted-NC1 panel) 0.006..0.009 were all printed, on top of one another
 * and of 10^-2 on a short axis. */
START_TEST(log_axis_minor_labels_do_not_collide)
{
    ex_fig fig = {0};
    ck_assert_int_eq(ex_fig_init(&fig, 600, 400), 0);
    const double font = 11;
    for (int h = 40; h <= 320; h += 20) {
        for (int horizontal = 0; horizontal < 2; horizontal++) {
            ex_axes a = {.x = 60, .y = 20, .w = horizontal ? 2 * h : 300, .h = horizontal ? 200 : h,
                         .xr = {0.0055, 0.0105}, .yr = {0.0055, 0.0105}, .logx = 1, .logy = 1};
            double v[64];
            int n = ex_axis_labels(&fig, &a, horizontal, font, v, 64);
            ck_assert_int_ge(n, 1);
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) {
                    double gap = horizontal ? fabs(ex_px(&a, v[i]) - ex_px(&a, v[j]))
                                            : fabs(ex_py(&a, v[i]) - ex_py(&a, v[j]));
                    /* Vertical: one text line (font * 1.2); horizontal: "0.009" is
                     * about 2.7 font sizes wide. */
                    double need = horizontal ? 2.7 * font : 1.2 * font;
                    ck_assert_msg(gap >= need, "%s axis of %d px: labels %g and %g %.1f px "
                                  "apart (< %.1f)", horizontal ? "x" : "y", h, v[i], v[j], gap,
                                  need);
                }
        }
    }
    ex_fig_done(&fig);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("figures");
    TCase *tc = tcase_create("figures");
    tcase_add_test(tc, histograms_one_panel_per_node);
    tcase_add_test(tc, scatter_and_curves_show_every_series);
    tcase_add_test(tc, missing_data_is_skipped_and_write_errors_counted);
    tcase_add_test(tc, log_axis_of_huge_values);
    tcase_add_test(tc, log_axis_minor_labels_do_not_collide);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
