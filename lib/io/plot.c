/* A small raster plotting layer: an RGB canvas, pixel primitives, a 5x7
 * font, and axes (linear or log) that map data into a plot area. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/internal.h"
#include "font5x7.h"

#define CANVAS_MAX_SIDE 16384
/* Plot-area margins in pixels: tick labels and the y label on the left, tick
 * labels and the x label below, the title above. */
#define MARGIN_LEFT 58
#define MARGIN_RIGHT 14
#define MARGIN_TOP 22
#define MARGIN_BOTTOM 38
#define INK 0x202020u

typedef struct {
    int x0, y0, x1, y1; /* inclusive pixel bounds */
} box;

struct lpc_canvas {
    int w, h;
    uint8_t *px;
    box clip;      /* where drawing lands: the canvas, or the plot area for data */
    int has_axes;
    box area;      /* plot area */
    double lo[2], hi[2]; /* data ranges after the axis transform (log10 on log axes) */
    int log[2];
};

lpc_canvas *lpc_canvas_new(int w, int h)
{
    if (w < 1 || h < 1 || w > CANVAS_MAX_SIDE || h > CANVAS_MAX_SIDE)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_canvas_new: size %dx%d is not in 1..%d", w, h,
                              CANVAS_MAX_SIDE);
    lpc_canvas *c = lpci_calloc(1, sizeof *c);
    uint8_t *px = c ? lpci_malloc((size_t)w * (size_t)h * 3) : NULL;
    if (!px) {
        lpci_free(c);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_canvas_new: out of memory for %dx%d", w, h);
    }
    c->w = w;
    c->h = h;
    c->px = px;
    lpc_canvas_clear(c, 0xFFFFFFu);
    return c;
}

void lpc_canvas_free(lpc_canvas *c)
{
    if (!c)
        return;
    lpci_free(c->px);
    lpci_free(c);
}

const uint8_t *lpc_canvas_pixels(const lpc_canvas *c) { return c ? c->px : NULL; }

lpc_status lpc_canvas_save_png(const lpc_canvas *c, const char *path)
{
    if (!c)
        return lpci_error(LPC_E_ARG, "lpc_canvas_save_png: canvas is NULL");
    return lpc_png_write_rgb(path, c->px, c->w, c->h);
}

static box whole(const lpc_canvas *c) { return (box){0, 0, c->w - 1, c->h - 1}; }

lpc_status lpc_canvas_clear(lpc_canvas *c, uint32_t rgb)
{
    if (!c)
        return lpci_error(LPC_E_ARG, "lpc_canvas_clear: canvas is NULL");
    for (size_t i = 0; i < (size_t)c->w * (size_t)c->h; i++) {
        c->px[3 * i] = (uint8_t)(rgb >> 16);
        c->px[3 * i + 1] = (uint8_t)(rgb >> 8);
        c->px[3 * i + 2] = (uint8_t)rgb;
    }
    c->clip = whole(c);
    c->has_axes = 0;
    return LPC_OK;
}

static void put(lpc_canvas *c, int x, int y, uint32_t rgb)
{
    if (x < c->clip.x0 || x > c->clip.x1 || y < c->clip.y0 || y > c->clip.y1)
        return;
    uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

static void fill(lpc_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    if (x0 > x1) { int t = x0; x0 = x1; x1 = t; }
    if (y0 > y1) { int t = y0; y0 = y1; y1 = t; }
    x0 = x0 < c->clip.x0 ? c->clip.x0 : x0;
    y0 = y0 < c->clip.y0 ? c->clip.y0 : y0;
    x1 = x1 > c->clip.x1 ? c->clip.x1 : x1;
    y1 = y1 > c->clip.y1 ? c->clip.y1 : y1;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            put(c, x, y, rgb);
}

/* Bresenham; coordinates are clamped far outside so that the loop stays short. */
static void line(lpc_canvas *c, long x0, long y0, long x1, long y1, uint32_t rgb)
{
    long dx = labs(x1 - x0), dy = -labs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long err = dx + dy;
    for (;;) {
        if (x0 >= c->clip.x0 && x0 <= c->clip.x1 && y0 >= c->clip.y0 && y0 <= c->clip.y1)
            put(c, (int)x0, (int)y0, rgb);
        if (x0 == x1 && y0 == y1)
            break;
        long e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

lpc_status lpc_canvas_point(lpc_canvas *c, int x, int y, uint32_t rgb)
{
    if (!c)
        return lpci_error(LPC_E_ARG, "lpc_canvas_point: canvas is NULL");
    put(c, x, y, rgb);
    return LPC_OK;
}

static long clamp_coord(long v) { return v < -100000 ? -100000 : v > 100000 ? 100000 : v; }

lpc_status lpc_canvas_line(lpc_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    if (!c)
        return lpci_error(LPC_E_ARG, "lpc_canvas_line: canvas is NULL");
    line(c, clamp_coord(x0), clamp_coord(y0), clamp_coord(x1), clamp_coord(y1), rgb);
    return LPC_OK;
}

lpc_status lpc_canvas_rect(lpc_canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
    if (!c || w < 0 || h < 0)
        return lpci_error(LPC_E_ARG, "lpc_canvas_rect: NULL canvas or negative size %dx%d", w, h);
    if (w > 0 && h > 0)
        fill(c, x, y, (int)clamp_coord((long)x + w - 1), (int)clamp_coord((long)y + h - 1), rgb);
    return LPC_OK;
}

/* One glyph; `up` rotates it a quarter turn anticlockwise (for the y label). */
static void glyph(lpc_canvas *c, int x, int y, char ch, int scale, int up, uint32_t rgb)
{
    const uint8_t *rows = lpci_glyph(ch);
    for (int r = 0; r < 7; r++)
        for (int k = 0; k < 5; k++)
            if (rows[r] & (0x10 >> k)) {
                int gx = up ? r : k, gy = up ? 4 - k : r;
                fill(c, x + gx * scale, y + gy * scale, x + gx * scale + scale - 1,
                     y + gy * scale + scale - 1, rgb);
            }
}

static int text_width(const char *s, int scale) { return (int)strlen(s) * 6 * scale - scale; }

static void text(lpc_canvas *c, int x, int y, const char *s, int scale, int up, uint32_t rgb)
{
    for (int i = 0; s[i]; i++) {
        if (up)
            glyph(c, x, y - (i + 1) * 6 * scale + scale, s[i], scale, 1, rgb);
        else
            glyph(c, x + i * 6 * scale, y, s[i], scale, 0, rgb);
    }
}

lpc_status lpc_canvas_text(lpc_canvas *c, int x, int y, const char *s, int scale, uint32_t rgb)
{
    if (!c || !s || scale < 1 || scale > 64)
        return lpci_error(LPC_E_ARG, "lpc_canvas_text: NULL argument or scale %d not in 1..64",
                          scale);
    text(c, x, y, s, scale, 0, rgb);
    return LPC_OK;
}

/* ---- data coordinates ---- */

lpc_status lpc_plot_range(const double *v, int64_t n, int log, double range[2])
{
    if (!v || !range || n < 0)
        return lpci_error(LPC_E_ARG, "lpc_plot_range: NULL argument or n < 0");
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double t = log ? (v[i] > 0 ? log10(v[i]) : NAN) : v[i];
        if (isfinite(t)) {
            lo = t < lo ? t : lo;
            hi = t > hi ? t : hi;
        }
    }
    if (lo > hi)
        return lpci_error(LPC_E_ARG, "lpc_plot_range: no finite%s value among %lld",
                          log ? " positive" : "", (long long)n);
    double pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
    range[0] = log ? pow(10.0, lo - pad) : lo - pad;
    range[1] = log ? pow(10.0, hi + pad) : hi + pad;
    return LPC_OK;
}

/* Axis transform of a value (log10 on a log axis); NAN where undefined. */
static double axis_value(const lpc_canvas *c, int axis, double v)
{
    if (c->log[axis])
        return v > 0 ? log10(v) : NAN;
    return v;
}

/* Fractional pixel position along an axis. */
static double to_pixel(const lpc_canvas *c, int axis, double v)
{
    double f = (axis_value(c, axis, v) - c->lo[axis]) / (c->hi[axis] - c->lo[axis]);
    if (axis == 0)
        return c->area.x0 + f * (c->area.x1 - c->area.x0);
    return c->area.y1 - f * (c->area.y1 - c->area.y0);
}

lpc_status lpc_canvas_map(const lpc_canvas *c, double x, double y, int *px, int *py)
{
    if (!c || !px || !py)
        return lpci_error(LPC_E_ARG, "lpc_canvas_map: NULL argument");
    if (!c->has_axes)
        return lpci_error(LPC_E_STATE, "lpc_canvas_map: call lpc_canvas_axes first");
    double fx = to_pixel(c, 0, x), fy = to_pixel(c, 1, y);
    if (!isfinite(fx) || !isfinite(fy) || fabs(fx) > 1e6 || fabs(fy) > 1e6)
        return lpci_error(LPC_E_ARG, "lpc_canvas_map: (%g, %g) cannot be mapped", x, y);
    *px = (int)lround(fx);
    *py = (int)lround(fy);
    return LPC_OK;
}

/* Ticks with labels at "nice" steps (1, 2, 5 x 10^k) on a linear axis, at
 * powers of ten on a log axis. Ticks are indexed by integers so that a range
 * narrow next to its magnitude cannot stall the loop. */
static void ticks(lpc_canvas *c, int axis)
{
    double lo = c->lo[axis], hi = c->hi[axis], step;
    if (c->log[axis]) {
        step = fmax(1.0, ceil((hi - lo) / 8.0));
    } else {
        double raw = (hi - lo) / 5.0, p = pow(10.0, floor(log10(raw))), f = raw / p;
        step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
    }
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    if (!(k1 - k0 <= 50))
        return;
    for (double k = k0; k <= k1; k++) {
        double t = k * step;
        char label[32];
        if (c->log[axis])
            snprintf(label, sizeof label, "1e%d", (int)lround(t));
        else
            snprintf(label, sizeof label, "%.3g", fabs(t) < 1e-9 * step ? 0.0 : t);
        int p = (int)lround(to_pixel(c, axis, c->log[axis] ? pow(10.0, t) : t));
        if (axis == 0) {
            line(c, p, c->area.y1, p, c->area.y1 + 4, INK);
            text(c, p - text_width(label, 1) / 2, c->area.y1 + 7, label, 1, 0, INK);
        } else {
            line(c, c->area.x0 - 4, p, c->area.x0, p, INK);
            text(c, c->area.x0 - 7 - text_width(label, 1), p - 3, label, 1, 0, INK);
        }
    }
}

lpc_status lpc_canvas_axes(lpc_canvas *c, const double xr[2], const double yr[2], unsigned flags,
                           const char *title, const char *xlabel, const char *ylabel)
{
    if (!c || !xr || !yr)
        return lpci_error(LPC_E_ARG, "lpc_canvas_axes: NULL argument");
    if (c->w < 120 || c->h < 100)
        return lpci_error(LPC_E_ARG, "lpc_canvas_axes: canvas %dx%d is below 120x100", c->w, c->h);
    const double *r[2] = {xr, yr};
    for (int a = 0; a < 2; a++) {
        int lg = (flags & (a ? LPC_PLOT_LOGY : LPC_PLOT_LOGX)) != 0;
        if (!(isfinite(r[a][0]) && isfinite(r[a][1]) && r[a][0] < r[a][1]) || (lg && r[a][0] <= 0))
            return lpci_error(LPC_E_ARG, "lpc_canvas_axes: %c range [%g, %g] is not valid%s",
                              a ? 'y' : 'x', r[a][0], r[a][1], lg ? " for a log axis" : "");
    }
    c->clip = whole(c);
    c->area = (box){MARGIN_LEFT, MARGIN_TOP, c->w - 1 - MARGIN_RIGHT, c->h - 1 - MARGIN_BOTTOM};
    for (int a = 0; a < 2; a++) {
        c->log[a] = (flags & (a ? LPC_PLOT_LOGY : LPC_PLOT_LOGX)) != 0;
        c->lo[a] = c->log[a] ? log10(r[a][0]) : r[a][0];
        c->hi[a] = c->log[a] ? log10(r[a][1]) : r[a][1];
    }
    c->has_axes = 1;
    const box *b = &c->area;
    line(c, b->x0, b->y0, b->x1, b->y0, INK);
    line(c, b->x0, b->y1, b->x1, b->y1, INK);
    line(c, b->x0, b->y0, b->x0, b->y1, INK);
    line(c, b->x1, b->y0, b->x1, b->y1, INK);
    ticks(c, 0);
    ticks(c, 1);
    int mid_x = (b->x0 + b->x1) / 2, mid_y = (b->y0 + b->y1) / 2;
    int title_scale = c->w < 300 ? 1 : 2;
    if (title)
        text(c, mid_x - text_width(title, title_scale) / 2, 4, title, title_scale, 0, INK);
    if (xlabel)
        text(c, mid_x - text_width(xlabel, 1) / 2, c->h - 12, xlabel, 1, 0, INK);
    if (ylabel)
        text(c, 4, mid_y + text_width(ylabel, 1) / 2, ylabel, 1, 1, INK);
    return LPC_OK;
}

/* Validates a data-drawing call and clips to the plot area. */
static lpc_status begin_data(lpc_canvas *c, const void *x, const void *y, int64_t n,
                             const char *fn)
{
    if (!c || !x || !y || n < 0)
        return lpci_error(LPC_E_ARG, "%s: NULL argument or n < 0", fn);
    if (!c->has_axes)
        return lpci_error(LPC_E_STATE, "%s: call lpc_canvas_axes first", fn);
    c->clip = c->area;
    return LPC_OK;
}

/* Pixel of a data point, or 0 when it is not drawable. */
static int data_pixel(const lpc_canvas *c, double x, double y, long *px, long *py)
{
    double fx = to_pixel(c, 0, x), fy = to_pixel(c, 1, y);
    if (!isfinite(fx) || !isfinite(fy))
        return 0;
    *px = clamp_coord(lround(fmax(fmin(fx, 1e9), -1e9)));
    *py = clamp_coord(lround(fmax(fmin(fy, 1e9), -1e9)));
    return 1;
}

lpc_status lpc_canvas_scatter(lpc_canvas *c, const double *x, const double *y, int64_t n,
                              int radius, uint32_t rgb)
{
    lpc_status s = begin_data(c, x, y, n, "lpc_canvas_scatter");
    if (s != LPC_OK)
        return s;
    if (radius < 0 || radius > 100) {
        c->clip = whole(c);
        return lpci_error(LPC_E_ARG, "lpc_canvas_scatter: radius %d not in 0..100", radius);
    }
    for (int64_t i = 0; i < n; i++) {
        long px, py;
        if (!data_pixel(c, x[i], y[i], &px, &py))
            continue;
        for (int dy = -radius; dy <= radius; dy++)
            for (int dx = -radius; dx <= radius; dx++)
                if (dx * dx + dy * dy <= radius * radius + radius)
                    put(c, (int)(px + dx), (int)(py + dy), rgb);
    }
    c->clip = whole(c);
    return LPC_OK;
}

lpc_status lpc_canvas_polyline(lpc_canvas *c, const double *x, const double *y, int64_t n,
                               uint32_t rgb)
{
    lpc_status s = begin_data(c, x, y, n, "lpc_canvas_polyline");
    if (s != LPC_OK)
        return s;
    long px = 0, py = 0;
    int have = 0;
    for (int64_t i = 0; i < n; i++) {
        long qx, qy;
        int ok = data_pixel(c, x[i], y[i], &qx, &qy);
        if (ok && have)
            line(c, px, py, qx, qy, rgb);
        else if (ok)
            put(c, (int)qx, (int)qy, rgb);
        px = qx;
        py = qy;
        have = ok;
    }
    c->clip = whole(c);
    return LPC_OK;
}

lpc_status lpc_histogram(const double *v, int64_t n, double lo, double hi, int bins,
                         double *counts)
{
    if (!v || !counts || n < 0 || bins < 1 || !(isfinite(lo) && isfinite(hi) && lo < hi))
        return lpci_error(LPC_E_ARG,
                          "lpc_histogram: need data, counts, n >= 0, bins >= 1 and lo < hi, got "
                          "bins %d, [%g, %g]", bins, lo, hi);
    memset(counts, 0, (size_t)bins * sizeof *counts);
    for (int64_t i = 0; i < n; i++) {
        if (!(v[i] >= lo && v[i] <= hi))
            continue;
        int k = (int)((v[i] - lo) / (hi - lo) * bins);
        counts[k >= bins ? bins - 1 : k] += 1.0;
    }
    return LPC_OK;
}

lpc_status lpc_canvas_bars(lpc_canvas *c, double lo, double hi, const double *counts, int bins,
                           uint32_t rgb)
{
    lpc_status s = begin_data(c, counts, counts, bins, "lpc_canvas_bars");
    if (s != LPC_OK)
        return s;
    if (bins < 1 || !(isfinite(lo) && isfinite(hi) && lo < hi)) {
        c->clip = whole(c);
        return lpci_error(LPC_E_ARG, "lpc_canvas_bars: need bins >= 1 and lo < hi");
    }
    int base_y = c->area.y1 - 1; /* keep the frame visible */
    if (!c->log[1] && c->lo[1] < 0 && c->hi[1] > 0)
        base_y = (int)lround(to_pixel(c, 1, 0.0));
    for (int i = 0; i < bins; i++) {
        long x0, x1, top, unused;
        double a = lo + (hi - lo) * i / bins, b = lo + (hi - lo) * (i + 1) / bins;
        if (!data_pixel(c, a, counts[i], &x0, &top) || !data_pixel(c, b, counts[i], &x1, &unused))
            continue;
        /* A one-pixel gap at each bin edge where bars are wide enough for it. */
        int gap = x1 - x0 >= 3;
        fill(c, (int)x0 + gap, (int)top, (int)x1 - gap, base_y, rgb);
    }
    c->clip = whole(c);
    return LPC_OK;
}

uint32_t lpc_plot_color(int i)
{
    static const uint32_t palette[10] = {0x1B64A8, 0xE8760C, 0x2E9E3A, 0xCC2A2A, 0x8A5CC2,
                                         0x8B5A3C, 0xDD6FB8, 0x6E6E6E, 0xB5B020, 0x1AAFC2};
    return palette[((i % 10) + 10) % 10];
}
