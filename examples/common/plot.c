#include "plot.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic.h"

#define FONT "DejaVu Sans"

static void set_rgb(cairo_t *cr, uint32_t rgb)
{
    cairo_set_source_rgb(cr, (rgb >> 16 & 255) / 255.0, (rgb >> 8 & 255) / 255.0,
                         (rgb & 255) / 255.0);
}

int ex_fig_init(ex_fig *f, int w, int h)
{
    f->w = w;
    f->h = h;
    f->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    f->cr = cairo_create(f->surface);
    if (cairo_status(f->cr) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "error: cannot create a %dx%d figure: %s\n", w, h,
                cairo_status_to_string(cairo_status(f->cr)));
        ex_fig_done(f);
        return -1;
    }
    set_rgb(f->cr, 0xffffff);
    cairo_paint(f->cr);
    return 0;
}

void ex_fig_done(ex_fig *f)
{
    if (f->cr)
        cairo_destroy(f->cr);
    if (f->surface)
        cairo_surface_destroy(f->surface);
    f->cr = NULL;
    f->surface = NULL;
}

typedef struct {
    unsigned char *data;
    size_t n, cap;
} membuf;

static cairo_status_t to_memory(void *closure, const unsigned char *data, unsigned int length)
{
    membuf *b = closure;
    if (b->n + length > b->cap) {
        size_t cap = (b->n + length) * 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown)
            return CAIRO_STATUS_NO_MEMORY;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, length);
    b->n += length;
    return CAIRO_STATUS_SUCCESS;
}

int ex_fig_save(ex_fig *f, const char *path)
{
    membuf b = {0};
    cairo_surface_flush(f->surface);
    cairo_status_t s = cairo_surface_write_to_png_stream(f->surface, to_memory, &b);
    int rc = -1;
    if (s != CAIRO_STATUS_SUCCESS)
        fprintf(stderr, "error: cannot encode %s: %s\n", path, cairo_status_to_string(s));
    else
        rc = ex_write_atomic(path, b.data, b.n);
    free(b.data);
    return rc;
}

void ex_text(ex_fig *f, double x, double y, const char *s, double size, int bold, double ax,
             double ay, double angle)
{
    cairo_t *cr = f->cr;
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_save(cr);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &te);
    cairo_font_extents(cr, &fe);
    set_rgb(cr, 0x000000);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    /* Vertical alignment on the font's ascent and descent, not the glyphs'
     * ink, so that labels on one line share a baseline. */
    cairo_move_to(cr, -ax * te.x_advance, fe.ascent - ay * (fe.ascent + fe.descent));
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static double text_width(ex_fig *f, const char *s, double size)
{
    cairo_text_extents_t te;
    cairo_save(f->cr);
    cairo_select_font_face(f->cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(f->cr, size);
    cairo_text_extents(f->cr, s, &te);
    cairo_restore(f->cr);
    return te.x_advance;
}

int ex_range(const double *v, int64_t n, int log, double r[2])
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (!log || v[i] > 0)) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    if (!(lo <= hi))
        return -1;
    if (log) {
        /* 25% margins, then out to the nearer decade if none is in view;
         * inside the normal doubles, so that both ends and their decades
         * stay finite (a value near DBL_MAX or a subnormal one is drawn at
         * the edge). */
        double top = log10(DBL_MAX), bottom = log10(DBL_MIN);
        double a = fmin(fmax(log10(lo) - 0.097, bottom), top - 0.2);
        double b = fmin(fmax(log10(hi) + 0.097, a + 0.2), top);
        if (floor(b) < ceil(a)) {
            if (a - floor(a) <= ceil(b) - b || ceil(b) > top)
                a = floor(a);
            else
                b = ceil(b);
        }
        r[0] = pow(10, a);
        r[1] = fmin(pow(10, b), DBL_MAX); /* 10^log10(DBL_MAX) may round up to inf */
    } else if (hi > lo) {
        r[0] = lo - 0.05 * (hi - lo);
        r[1] = hi + 0.05 * (hi - lo);
    } else {
        r[0] = lo - 0.5;
        r[1] = hi + 0.5;
    }
    return 0;
}

static double frac(double v, const double r[2], int log)
{
    return log ? (log10(v) - log10(r[0])) / (log10(r[1]) - log10(r[0]))
               : (v - r[0]) / (r[1] - r[0]);
}

double ex_px(const ex_axes *a, double x)
{
    return a->x + frac(x, a->xr, a->logx) * a->w;
}

double ex_py(const ex_axes *a, double y)
{
    return a->y + a->h - frac(y, a->yr, a->logy) * a->h;
}

static int plottable(const ex_axes *a, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!a->logx || x > 0) && (!a->logy || y > 0);
}

/* Linear tick step: 1, 2, 2.5 or 5 times a power of ten giving about
 * `target` ticks over the range. */
static double nice_step(double span, int target)
{
    double raw = span / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 2.25 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10);
}

/* "%.*f" with as many decimals as the step needs and a true minus sign. */
static void linear_label(char *buf, size_t n, double v, double step)
{
    int dec = 0;
    while (dec < 8 && fabs(step * pow(10, dec) - round(step * pow(10, dec))) > 1e-6)
        dec++;
    if (fabs(v) < step * 1e-9)
        v = 0;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*f", dec, v);
    snprintf(buf, n, "%s%s", tmp[0] == '-' ? "\xe2\x88\x92" : "", tmp + (tmp[0] == '-'));
}

/* A tick: a major one is labelled with `label`, or with 10 to the power
 * `decade` when it is a decade tick of a log axis. */
typedef struct {
    double v;
    int major, is_decade, decade;
    char label[32];
} tick;

#define MAX_TICKS 160

static double label_width(ex_fig *f, const tick *t, double font)
{
    if (!t->is_decade)
        return text_width(f, t->label, font);
    char e[16];
    snprintf(e, sizeof e, "%d", t->decade);
    return text_width(f, "10", font) + text_width(f, e, font * 0.7);
}

/* Linear ticks: the most (up to about one per 45 or 40 pixels) whose labels
 * do not touch along the axis. */
static int linear_ticks(ex_fig *f, const double r[2], double len, int horizontal, double font,
                        tick *t)
{
    int n = 0;
    for (int target = (int)fmin(8, fmax(3, len / (horizontal ? 45 : 40))); target >= 1; target--) {
        double step = nice_step(r[1] - r[0], target), room = 0;
        n = 0;
        for (double v = ceil(r[0] / step - 1e-9) * step; v <= r[1] + step * 1e-9 && n < MAX_TICKS;
             v += step) {
            t[n] = (tick){.v = v, .major = 1};
            linear_label(t[n].label, sizeof t[n].label, v, step);
            room += (horizontal ? label_width(f, &t[n], font) : font) + font;
            n++;
        }
        if (room <= len)
            break;
    }
    return n;
}

/* Log ticks: decades labelled (every other one or fewer when there are
 * many), minor ticks at 2..9. With less than two decades in view the minor
 * ticks at 2 and 5 are labelled too, and all of them if that still makes
 * fewer than three labels; a minor label is kept only where it does not
 * touch a label kept before it (decades first, then 5, 2 and the others). */
static int log_ticks(ex_fig *f, const double r[2], double len, int horizontal, double font,
                     tick *t)
{
    /* Decades within the doubles (ex_range gives such a range; the bounds
     * keep any other from overflowing an int). */
    double l0 = fmin(fmax(log10(r[0]), -330), 330), l1 = fmin(fmax(log10(r[1]), l0), 330);
    if (!(l1 > l0))
        return 0;
    int k0 = (int)ceil(l0 - 1e-9), k1 = (int)floor(l1 + 1e-9), n = 0;
    int every = (k1 - k0) / 8 + 1, labelled = 0;
    for (int k = k0 - 1; k <= k1 && n < MAX_TICKS - 9; k++) {
        double d = pow(10, k);
        if (k >= k0) {
            t[n++] = (tick){.v = d, .major = (k - k0) % every == 0, .is_decade = 1, .decade = k};
            labelled += t[n - 1].major;
        }
        for (int m = 2; every == 1 && k1 - k0 <= 6 && m <= 9; m++)
            if (d * m >= r[0] && d * m <= r[1]) {
                t[n] = (tick){.v = d * m, .major = k1 - k0 < 1 && (m == 2 || m == 5)};
                labelled += t[n].major;
                n++;
            }
    }
    for (int i = 0; i < n; i++) {
        if (labelled < 3 && !t[i].is_decade)
            t[i].major = 1;
        if (t[i].major && !t[i].is_decade)
            snprintf(t[i].label, sizeof t[i].label, "%g", t[i].v);
    }
    /* Extents along the axis of the labels kept so far, in pixels. */
    double lo[MAX_TICKS], hi[MAX_TICKS];
    int kept = 0;
    static const int order[] = {0, 5, 2, 3, 4, 6, 7, 8, 9}; /* 0: the decades */
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
        for (int i = 0; i < n; i++) {
            int m = t[i].is_decade ? 0 : (int)lround(t[i].v / pow(10, floor(log10(t[i].v) + 1e-9)));
            if (!t[i].major || m != order[o])
                continue;
            double at = (log10(t[i].v) - l0) / (l1 - l0) * len;
            double half = (horizontal ? label_width(f, &t[i], font) : font * 1.2) / 2 + 2;
            int clear = 1;
            for (int j = 0; j < kept && clear; j++)
                clear = at + half <= lo[j] || at - half >= hi[j];
            if (!clear && m != 0) {
                t[i].major = 0; /* a plain minor tick */
                continue;
            }
            lo[kept] = at - half;
            hi[kept++] = at + half;
        }
    return n;
}

/* "10" with a raised exponent, anchored like ex_text. */
static void decade_label(ex_fig *f, double x, double y, int k, double size, double ax, double ay)
{
    char e[16];
    snprintf(e, sizeof e, "%s%d", k < 0 ? "\xe2\x88\x92" : "", abs(k));
    double wb = text_width(f, "10", size), we = text_width(f, e, size * 0.7);
    double left = x - ax * (wb + we), top = y - ay * size * 1.25;
    ex_text(f, left, top + size * 0.25, "10", size, 0, 0, 0, 0);
    ex_text(f, left + wb, top + size * 0.05, e, size * 0.7, 0, 0, 0, 0);
}

/* Grid line, tick mark and label of one tick on the x (horizontal) or y axis. */
static void draw_tick(ex_fig *f, const ex_axes *a, const tick *t, int horizontal, double font)
{
    cairo_t *cr = f->cr;
    double p = horizontal ? ex_px(a, t->v) : ex_py(a, t->v), bottom = a->y + a->h;
    double len = t->major ? 5 : 3;
    if (t->major) {
        set_rgb(cr, 0xe6e6e6);
        cairo_move_to(cr, horizontal ? p : a->x, horizontal ? a->y : p);
        cairo_line_to(cr, horizontal ? p : a->x + a->w, horizontal ? bottom : p);
        cairo_stroke(cr);
    }
    set_rgb(cr, 0x000000);
    cairo_move_to(cr, horizontal ? p : a->x, horizontal ? bottom : p);
    cairo_line_to(cr, horizontal ? p : a->x - len, horizontal ? bottom + len : p);
    cairo_stroke(cr);
    if (!t->major)
        return;
    double x = horizontal ? p : a->x - 7, y = horizontal ? bottom + 7 : p;
    double ax = horizontal ? 0.5 : 1, ay = horizontal ? 0 : 0.5;
    if (!t->is_decade)
        ex_text(f, x, y, t->label, font, 0, ax, ay, 0);
    else
        decade_label(f, x, y, t->decade, font, ax, ay);
}

/* The ticks of one axis; returns their number. */
static int ticks_of(ex_fig *f, const ex_axes *a, int horizontal, double font, tick *t)
{
    const double *r = horizontal ? a->xr : a->yr;
    double len = horizontal ? a->w : a->h;
    return (horizontal ? a->logx : a->logy) ? log_ticks(f, r, len, horizontal, font, t)
                                            : linear_ticks(f, r, len, horizontal, font, t);
}

static void axis_ticks(ex_fig *f, const ex_axes *a, int horizontal, double font)
{
    tick t[MAX_TICKS];
    int n = ticks_of(f, a, horizontal, font, t);
    for (int i = 0; i < n; i++)
        draw_tick(f, a, &t[i], horizontal, font);
}

int ex_axis_labels(ex_fig *f, const ex_axes *a, int horizontal, double font, double *values,
                   int max)
{
    tick t[MAX_TICKS];
    int n = ticks_of(f, a, horizontal, font, t), got = 0;
    for (int i = 0; i < n; i++)
        if (t[i].major && got < max)
            values[got++] = t[i].v;
    return got;
}

void ex_axes_draw(ex_fig *f, const ex_axes *a, const char *title, const char *xlabel,
                  const char *ylabel, double font)
{
    cairo_t *cr = f->cr;
    cairo_save(cr);
    cairo_set_line_width(cr, 1);
    axis_ticks(f, a, 1, font);
    axis_ticks(f, a, 0, font);
    set_rgb(cr, 0x000000);
    cairo_rectangle(cr, a->x, a->y, a->w, a->h);
    cairo_stroke(cr);
    set_rgb(cr, 0x000000);
    if (title)
        ex_text(f, a->x + a->w / 2, a->y - 6, title, font * 1.1, 0, 0.5, 1, 0);
    if (xlabel)
        ex_text(f, a->x + a->w / 2, a->y + a->h + 9 + font * 1.5, xlabel, font, 0, 0.5, 0, 0);
    if (ylabel) {
        /* Left of the widest tick label (about five digits). */
        double gap = (a->logy ? 3.2 : 4.4) * font * 0.6 + 14;
        ex_text(f, a->x - gap, a->y + a->h / 2, ylabel, font, 0, 0.5, 1, -M_PI / 2);
    }
    cairo_restore(cr);
}

/* Restricts drawing to the plot area. */
static void clip(ex_fig *f, const ex_axes *a)
{
    cairo_save(f->cr);
    cairo_rectangle(f->cr, a->x, a->y, a->w, a->h);
    cairo_clip(f->cr);
}

void ex_plot_line(ex_fig *f, const ex_axes *a, const double *x, const double *y, int64_t n,
                  uint32_t rgb, double width)
{
    cairo_t *cr = f->cr;
    clip(f, a);
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    int open = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!plottable(a, x[i], y[i])) {
            open = 0;
            continue;
        }
        if (open)
            cairo_line_to(cr, ex_px(a, x[i]), ex_py(a, y[i]));
        else
            cairo_move_to(cr, ex_px(a, x[i]), ex_py(a, y[i]));
        open = 1;
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

void ex_plot_vline(ex_fig *f, const ex_axes *a, double x, uint32_t rgb, double width, int dashed)
{
    if (!isfinite(x) || (a->logx && x <= 0))
        return;
    cairo_t *cr = f->cr;
    clip(f, a);
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, width);
    if (dashed) {
        const double dash[2] = {6, 4};
        cairo_set_dash(cr, dash, 2, 0);
    }
    cairo_move_to(cr, ex_px(a, x), a->y);
    cairo_line_to(cr, ex_px(a, x), a->y + a->h);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void marker_path(cairo_t *cr, double x, double y, double r, ex_marker m)
{
    switch (m) {
    case EX_SQUARE: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8); break;
    case EX_TRIANGLE:
    case EX_DOWN: {
        double s = m == EX_TRIANGLE ? 1 : -1;
        cairo_move_to(cr, x, y - s * r * 1.15);
        cairo_line_to(cr, x + r * 1.05, y + s * r * 0.75);
        cairo_line_to(cr, x - r * 1.05, y + s * r * 0.75);
        cairo_close_path(cr);
        break;
    }
    case EX_DIAMOND:
        cairo_move_to(cr, x, y - r * 1.25);
        cairo_line_to(cr, x + r, y);
        cairo_line_to(cr, x, y + r * 1.25);
        cairo_line_to(cr, x - r, y);
        cairo_close_path(cr);
        break;
    default: cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    }
}

/* A filled marker with a thin darker outline, so overlapping ones stay visible. */
static void draw_marker(cairo_t *cr, double x, double y, double r, uint32_t rgb, ex_marker m)
{
    marker_path(cr, x, y, r, m);
    set_rgb(cr, rgb);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
}

void ex_plot_points(ex_fig *f, const ex_axes *a, const double *x, const double *y, int64_t n,
                    double radius, uint32_t rgb, ex_marker m)
{
    clip(f, a);
    for (int64_t i = 0; i < n; i++)
        if (plottable(a, x[i], y[i]))
            draw_marker(f->cr, ex_px(a, x[i]), ex_py(a, y[i]), radius, rgb, m);
    cairo_restore(f->cr);
}

void ex_plot_bars(ex_fig *f, const ex_axes *a, double lo, double hi, const double *counts,
                  int bins, uint32_t rgb)
{
    cairo_t *cr = f->cr;
    clip(f, a);
    double base = a->logy ? a->yr[0] : fmax(a->yr[0], 0);
    for (int b = 0; b < bins; b++) {
        double x0 = lo + (hi - lo) * b / bins, x1 = lo + (hi - lo) * (b + 1) / bins;
        if (!plottable(a, x0, counts[b]) || counts[b] <= base)
            continue;
        double px0 = ex_px(a, x0), px1 = ex_px(a, x1), top = ex_py(a, counts[b]);
        cairo_rectangle(cr, px0, top, px1 - px0, ex_py(a, base) - top);
    }
    set_rgb(cr, rgb);
    cairo_fill(cr);
    cairo_restore(cr);
}

double ex_legend_width(ex_fig *f, const char *const *labels, int n, double font)
{
    double w = 0;
    for (int i = 0; i < n; i++)
        w = fmax(w, text_width(f, labels[i], font));
    return w + 2.6 * font + 16;
}

double ex_legend(ex_fig *f, double x, double y, const char *const *labels, const uint32_t *rgb,
                 const ex_marker *markers, int n, double font)
{
    cairo_t *cr = f->cr;
    double row = font * 1.45, w = ex_legend_width(f, labels, n, font), h = row * n + 10;
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_fill_preserve(cr);
    set_rgb(cr, 0xbbbbbb);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double cy = y + 5 + row * (i + 0.5), sx = x + 8;
        if (markers) {
            draw_marker(cr, sx + font * 0.9, cy, font * 0.33, rgb[i], markers[i]);
        } else {
            set_rgb(cr, rgb[i]);
            cairo_set_line_width(cr, 2);
            cairo_move_to(cr, sx, cy);
            cairo_line_to(cr, sx + font * 1.8, cy);
            cairo_stroke(cr);
        }
        set_rgb(cr, 0x000000);
        ex_text(f, sx + font * 2.4, cy, labels[i], font, 0, 0, 0.5, 0);
    }
    cairo_restore(cr);
    return h;
}

uint32_t ex_color(int i)
{
    static const uint32_t tab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    uint32_t c = tab10[(i < 0 ? -i : i) % 10];
    if (i >= 10 && i < 20) /* second round: darker */
        c = ((c >> 16 & 255) * 3 / 5) << 16 | ((c >> 8 & 255) * 3 / 5) << 8 | (c & 255) * 3 / 5;
    return i >= 20 ? 0x000000u : c;
}
