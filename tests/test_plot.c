/* PNG writing (read back with libpng) and the plotting layer: primitives,
 * font, axes mapping (linear and log), scatter, histogram bars, misuse. */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lpct.h"

/* Reads a PNG in the given libpng format; returns malloc'd pixels. */
static uint8_t *read_png(const char *path, png_uint_32 format, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s", img.message);
    *w = (int)img.width;
    *h = (int)img.height;
    int native_gray = !(img.format & PNG_FORMAT_FLAG_COLOR);
    ck_assert_int_eq(native_gray, format == PNG_FORMAT_GRAY);
    img.format = format;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    ck_assert_msg(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    return px;
}

static const uint8_t *pixel(const lpc_canvas *c, int w, int x, int y)
{
    return lpc_canvas_pixels(c) + 3 * ((size_t)y * (size_t)w + (size_t)x);
}

static uint32_t rgb_at(const lpc_canvas *c, int w, int x, int y)
{
    const uint8_t *p = pixel(c, w, x, y);
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Whether a pixel within one of (x, y) has the colour. */
static int near(const lpc_canvas *c, int w, int x, int y, uint32_t rgb)
{
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (rgb_at(c, w, x + dx, y + dy) == rgb)
                return 1;
    return 0;
}

START_TEST(png_round_trip)
{
    enum { W = 7, H = 5 };
    uint8_t rgb[W * H * 3], gray[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + 3 * (y * W + x);
            p[0] = (uint8_t)(30 * x);
            p[1] = (uint8_t)(50 * y);
            p[2] = (uint8_t)(x * y + 1);
            gray[y * W + x] = (uint8_t)(x * 36 + y);
        }
    char *path = lpct_tmpfile("rgb.png");
    ck_assert_int_eq(lpc_png_write_rgb(path, rgb, W, H), LPC_OK);
    int w, h;
    uint8_t *back = read_png(path, PNG_FORMAT_RGB, &w, &h);
    ck_assert_int_eq(w, W);
    ck_assert_int_eq(h, H);
    ck_assert_mem_eq(back, rgb, sizeof rgb);
    free(back);
    ck_assert_int_eq(lpc_png_write_gray(path, gray, W, H), LPC_OK);
    back = read_png(path, PNG_FORMAT_GRAY, &w, &h);
    ck_assert_mem_eq(back, gray, sizeof gray);
    free(back);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(png_misuse)
{
    uint8_t px[12] = {0};
    lpc_clear_error();
    ck_assert_int_eq(lpc_png_write_rgb("/nonexistent-dir/a.png", px, 2, 2), LPC_E_IO);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "/nonexistent-dir/a.png"));
    char *dir = lpct_tmpfile("pngdir");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(lpc_png_write_gray(dir, px, 2, 2), LPC_E_IO); /* a directory */
    rmdir(dir);
    free(dir);
    ck_assert_int_eq(lpc_png_write_rgb(NULL, px, 2, 2), LPC_E_ARG);
    ck_assert_int_eq(lpc_png_write_rgb("x.png", NULL, 2, 2), LPC_E_ARG);
    ck_assert_int_eq(lpc_png_write_rgb("x.png", px, 0, 2), LPC_E_ARG);
    ck_assert_int_eq(lpc_png_write_gray("x.png", px, 2, 70000), LPC_E_ARG);
    ck_assert_str_ne(lpc_last_error(), "");
}
END_TEST

START_TEST(primitives_and_font)
{
    enum { W = 40, H = 30 };
    lpc_canvas *c = lpc_canvas_new(W, H);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(rgb_at(c, W, 0, 0), 0xFFFFFF);
    ck_assert_int_eq(lpc_canvas_rect(c, 5, 6, 3, 2, 0xFF0000), LPC_OK);
    ck_assert_uint_eq(rgb_at(c, W, 5, 6), 0xFF0000);
    ck_assert_uint_eq(rgb_at(c, W, 7, 7), 0xFF0000);
    ck_assert_uint_eq(rgb_at(c, W, 8, 7), 0xFFFFFF);
    ck_assert_uint_eq(rgb_at(c, W, 5, 8), 0xFFFFFF);
    ck_assert_int_eq(lpc_canvas_line(c, 0, 20, 39, 20, 0x00FF00), LPC_OK);
    for (int x = 0; x < W; x++)
        ck_assert_uint_eq(rgb_at(c, W, x, 20), 0x00FF00);
    ck_assert_int_eq(lpc_canvas_line(c, 0, 0, 9, 9, 0x0000FF), LPC_OK); /* diagonal */
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(rgb_at(c, W, i, i), 0x0000FF);
    /* Clipped drawing far outside the canvas is harmless. */
    ck_assert_int_eq(lpc_canvas_rect(c, -100, -100, 1000000, 102, 0x123456), LPC_OK);
    ck_assert_uint_eq(rgb_at(c, W, 39, 1), 0x123456);
    ck_assert_uint_eq(rgb_at(c, W, 39, 2), 0xFFFFFF);
    ck_assert_int_eq(lpc_canvas_line(c, -2000000000, 5, 2000000000, 5, 0x111111), LPC_OK);
    ck_assert_int_eq(lpc_canvas_point(c, -1, 40, 0), LPC_OK);
    ck_assert_int_eq(lpc_canvas_point(c, 3, 25, 0xABCDEF), LPC_OK);
    ck_assert_uint_eq(rgb_at(c, W, 3, 25), 0xABCDEF);
    /* 'A' at (20, 8): top row .XXX., middle row XXXXX, bottom row X...X. */
    ck_assert_int_eq(lpc_canvas_text(c, 20, 8, "a1", 1, 0), LPC_OK);
    ck_assert_uint_eq(rgb_at(c, W, 20, 8), 0xFFFFFF);
    ck_assert_uint_eq(rgb_at(c, W, 21, 8), 0);
    ck_assert_uint_eq(rgb_at(c, W, 23, 8), 0);
    ck_assert_uint_eq(rgb_at(c, W, 24, 8), 0xFFFFFF);
    for (int x = 20; x < 25; x++)
        ck_assert_uint_eq(rgb_at(c, W, x, 11), 0);
    ck_assert_uint_eq(rgb_at(c, W, 22, 14), 0xFFFFFF);
    /* '1' starts 6 pixels later: its stem is column 2. */
    ck_assert_uint_eq(rgb_at(c, W, 28, 10), 0);
    ck_assert_uint_eq(rgb_at(c, W, 27, 10), 0xFFFFFF);
    /* Scale 2 doubles every dot. */
    lpc_canvas_clear(c, 0xFFFFFF);
    ck_assert_int_eq(lpc_canvas_text(c, 0, 0, "-", 2, 0), LPC_OK); /* row 3 */
    ck_assert_uint_eq(rgb_at(c, W, 9, 7), 0);
    ck_assert_uint_eq(rgb_at(c, W, 9, 5), 0xFFFFFF);
    ck_assert_uint_eq(rgb_at(c, W, 10, 6), 0xFFFFFF);
    lpc_canvas_free(c);
}
END_TEST

START_TEST(axes_mapping)
{
    enum { W = 320, H = 240 };
    lpc_canvas *c = lpc_canvas_new(W, H);
    int px, py, qx, qy, mx, my;
    ck_assert_int_eq(lpc_canvas_map(c, 0, 0, &px, &py), LPC_E_STATE);
    ck_assert_int_eq(lpc_canvas_axes(c, (double[]){0, 10}, (double[]){-1, 1}, 0, "Title",
                                     "epoch", "accuracy"), LPC_OK);
    ck_assert_int_eq(lpc_canvas_map(c, 0, -1, &px, &py), LPC_OK);
    ck_assert_int_eq(lpc_canvas_map(c, 10, 1, &qx, &qy), LPC_OK);
    ck_assert_int_eq(lpc_canvas_map(c, 5, 0, &mx, &my), LPC_OK);
    ck_assert(px < qx && py > qy);
    ck_assert(abs(2 * mx - px - qx) <= 1 && abs(2 * my - py - qy) <= 1);
    ck_assert(px > 20 && qx < W - 5 && qy > 10 && py < H - 20); /* margins for labels */
    /* The frame passes through the corners of the data range. */
    ck_assert_uint_lt(rgb_at(c, W, px, py), 0x808080);
    ck_assert_uint_lt(rgb_at(c, W, qx, qy), 0x808080);
    ck_assert_uint_eq(rgb_at(c, W, mx, my), 0xFFFFFF);
    /* Labels put ink left of and below the frame, and the title above it. */
    int ink_left = 0, ink_below = 0, ink_above = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int dark = rgb_at(c, W, x, y) < 0x808080;
            ink_left += dark && x < px - 5;
            ink_below += dark && y > py + 5;
            ink_above += dark && y < qy - 2;
        }
    ck_assert(ink_left > 50 && ink_below > 50 && ink_above > 20);

    /* Log axes: decades are equally spaced. */
    ck_assert_int_eq(lpc_canvas_axes(c, (double[]){1, 100}, (double[]){1, 1000},
                                     LPC_PLOT_LOGX | LPC_PLOT_LOGY, NULL, NULL, NULL), LPC_OK);
    lpc_canvas_map(c, 1, 1, &px, &py);
    lpc_canvas_map(c, 100, 1000, &qx, &qy);
    lpc_canvas_map(c, 10, 10, &mx, &my);
    ck_assert(abs(2 * mx - px - qx) <= 1);
    ck_assert(abs(3 * my - 2 * py - qy) <= 2);
    ck_assert_int_eq(lpc_canvas_map(c, -1, 10, &mx, &my), LPC_E_ARG);
    lpc_canvas_free(c);
}
END_TEST

START_TEST(scatter_histogram_bars)
{
    enum { W = 200, H = 160 };
    lpc_canvas *c = lpc_canvas_new(W, H);
    ck_assert_int_eq(lpc_canvas_axes(c, (double[]){0, 1}, (double[]){0, 4}, 0, NULL, NULL, NULL),
                     LPC_OK);
    double xs[4] = {0.5, NAN, 50.0, 0.25}, ys[4] = {2.0, 1.0, 2.0, INFINITY};
    ck_assert_int_eq(lpc_canvas_scatter(c, xs, ys, 4, 2, 0xFF0000), LPC_OK);
    int px, py;
    lpc_canvas_map(c, 0.5, 2.0, &px, &py);
    ck_assert_uint_eq(rgb_at(c, W, px, py), 0xFF0000);
    ck_assert_uint_eq(rgb_at(c, W, px + 2, py), 0xFF0000);
    ck_assert_uint_eq(rgb_at(c, W, px + 4, py), 0xFFFFFF);
    int fx, fy, gx, gy, red = 0;
    lpc_canvas_map(c, 0, 0, &fx, &fy);
    lpc_canvas_map(c, 1, 4, &gx, &gy);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (rgb_at(c, W, x, y) == 0xFF0000) {
                red++;
                ck_assert(x > fx && x < gx && y > gy && y < fy); /* only inside the area */
            }
    ck_assert_int_eq(red, 21); /* one disc of radius 2 */

    double v[8] = {0, 0.1, 0.5, 0.99, 1.0, 2.0, -0.5, NAN}, counts[2];
    ck_assert_int_eq(lpc_histogram(v, 8, 0, 1, 2, counts), LPC_OK);
    ck_assert(counts[0] == 2 && counts[1] == 3);
    lpc_canvas_clear(c, 0xFFFFFF);
    lpc_canvas_axes(c, (double[]){0, 1}, (double[]){0, 4}, 0, NULL, NULL, NULL);
    ck_assert_int_eq(lpc_canvas_bars(c, 0, 1, counts, 2, 0x0000FF), LPC_OK);
    lpc_canvas_map(c, 0.25, 1.0, &px, &py);
    ck_assert_uint_eq(rgb_at(c, W, px, py), 0x0000FF);
    lpc_canvas_map(c, 0.25, 2.5, &px, &py);
    ck_assert_uint_eq(rgb_at(c, W, px, py), 0xFFFFFF);
    lpc_canvas_map(c, 0.75, 2.5, &px, &py);
    ck_assert_uint_eq(rgb_at(c, W, px, py), 0x0000FF);
    lpc_canvas_map(c, 0.5, 1.0, &px, &py);
    ck_assert_uint_ne(rgb_at(c, W, px, py), 0x0000FF); /* gap between the bars */

    double line_x[3] = {0, 0.5, 1}, line_y[3] = {0, 4, 0};
    ck_assert_int_eq(lpc_canvas_polyline(c, line_x, line_y, 3, 0x00AA00), LPC_OK);
    lpc_canvas_map(c, 0.25, 2, &px, &py);
    ck_assert(near(c, W, px, py, 0x00AA00));
    ck_assert(!near(c, W, px, py - 10, 0x00AA00));

    char *path = lpct_tmpfile("figure.png");
    ck_assert_int_eq(lpc_canvas_save_png(c, path), LPC_OK);
    int w, h;
    uint8_t *back = read_png(path, PNG_FORMAT_RGB, &w, &h);
    ck_assert(w == W && h == H);
    ck_assert_mem_eq(back, lpc_canvas_pixels(c), (size_t)W * H * 3);
    free(back);
    unlink(path);
    free(path);
    lpc_canvas_free(c);
}
END_TEST

START_TEST(ranges_and_colors)
{
    double r[2];
    ck_assert_int_eq(lpc_plot_range((double[]){1, 2, 3, NAN}, 4, 0, r), LPC_OK);
    LPCT_ASSERT_CLOSE(r[0], 0.9, 1e-12);
    LPCT_ASSERT_CLOSE(r[1], 3.1, 1e-12);
    ck_assert_int_eq(lpc_plot_range((double[]){1, 100, -5, 0}, 4, 1, r), LPC_OK);
    LPCT_ASSERT_CLOSE(r[0], pow(10, -0.1), 1e-12);
    LPCT_ASSERT_CLOSE(r[1], pow(10, 2.1), 1e-12);
    ck_assert_int_eq(lpc_plot_range((double[]){5}, 1, 0, r), LPC_OK);
    ck_assert(r[0] == 4.5 && r[1] == 5.5);
    ck_assert_int_eq(lpc_plot_range((double[]){NAN, INFINITY}, 2, 0, r), LPC_E_ARG);
    ck_assert_int_eq(lpc_plot_range((double[]){-1, 0}, 2, 1, r), LPC_E_ARG);
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(lpc_plot_color(i), lpc_plot_color(j));
    ck_assert_uint_eq(lpc_plot_color(13), lpc_plot_color(3));
    ck_assert_uint_eq(lpc_plot_color(-1), lpc_plot_color(9));
}
END_TEST

START_TEST(misuse)
{
    ck_assert_ptr_null(lpc_canvas_new(0, 10));
    ck_assert_ptr_null(lpc_canvas_new(10, 20000));
    lpc_canvas_free(NULL);
    ck_assert_ptr_null(lpc_canvas_pixels(NULL));
    double xy[2] = {0, 1}, counts[2];
    lpc_canvas *small = lpc_canvas_new(100, 100), *c = lpc_canvas_new(200, 150);
    LPCT_EXPECT_ERR(lpc_canvas_axes(small, xy, xy, 0, NULL, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_scatter(c, xy, xy, 2, 1, 0), LPC_E_STATE);
    LPCT_EXPECT_ERR(lpc_canvas_polyline(c, xy, xy, 2, 0), LPC_E_STATE);
    LPCT_EXPECT_ERR(lpc_canvas_bars(c, 0, 1, xy, 2, 0), LPC_E_STATE);
    LPCT_EXPECT_ERR(lpc_canvas_axes(c, (double[]){1, 1}, xy, 0, NULL, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_axes(c, xy, (double[]){NAN, 1}, 0, NULL, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_axes(c, xy, xy, LPC_PLOT_LOGX, NULL, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_axes(NULL, xy, xy, 0, NULL, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_axes(c, NULL, xy, 0, NULL, NULL, NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_canvas_axes(c, xy, xy, 0, NULL, NULL, NULL), LPC_OK);
    LPCT_EXPECT_ERR(lpc_canvas_scatter(c, NULL, xy, 2, 1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_scatter(c, xy, xy, -1, 1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_scatter(c, xy, xy, 2, -1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_bars(c, 1, 0, xy, 2, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_bars(c, 0, 1, xy, 0, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_histogram(xy, 2, 0, 1, 0, counts), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_histogram(xy, 2, 1, 1, 2, counts), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_histogram(NULL, 2, 0, 1, 2, counts), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_text(c, 0, 0, "x", 0, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_text(c, 0, 0, NULL, 1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_rect(c, 0, 0, -1, 2, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_point(NULL, 0, 0, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_line(NULL, 0, 0, 1, 1, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_clear(NULL, 0), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_save_png(NULL, "x.png"), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_canvas_save_png(c, "/nonexistent-dir/x.png"), LPC_E_IO);
    LPCT_EXPECT_ERR(lpc_canvas_map(c, 0, 0, NULL, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_plot_range(NULL, 2, 0, xy), LPC_E_ARG);
    /* Unknown characters render as '?', never crash. */
    ck_assert_int_eq(lpc_canvas_text(c, 0, 0, "\x01\xff~", 1, 0), LPC_OK);
    lpc_canvas_free(small);
    lpc_canvas_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_test(tc, png_round_trip);
    tcase_add_test(tc, png_misuse);
    tcase_add_test(tc, primitives_and_font);
    tcase_add_test(tc, axes_mapping);
    tcase_add_test(tc, scatter_histogram_bars);
    tcase_add_test(tc, ranges_and_colors);
    tcase_add_test(tc, misuse);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
