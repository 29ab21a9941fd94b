/* Figures of the example programs, drawn with cairo (antialiased lines and
 * real fonts) and saved as PNG through ex_write_atomic.
 *
 * A figure is a white canvas holding one or more panels (ex_axes): a plot
 * area in pixels plus the data ranges it shows. Data drawing is clipped to
 * the plot area and skips non-finite points (and points <= 0 on a log axis).
 * Colours are 0xRRGGBB. */
#ifndef LPC_EXAMPLES_PLOT_H
#define LPC_EXAMPLES_PLOT_H
#include <cairo.h>
#include <stdint.h>

typedef struct {
    cairo_surface_t *surface;
    cairo_t *cr;
    int w, h;
} ex_fig;

typedef struct {
    double x, y, w, h;   /* plot area in pixels, (x, y) its top-left corner */
    double xr[2], yr[2]; /* data ranges, lo < hi (> 0 on a log axis) */
    int logx, logy;
} ex_axes;

/* Marker shapes for scatter plots (a colour and a shape per series). */
typedef enum { EX_CIRCLE, EX_SQUARE, EX_TRIANGLE, EX_DIAMOND, EX_DOWN, EX_NUM_MARKERS } ex_marker;

/* A white w x h figure; 0, or -1 with a message on stderr. */
int ex_fig_init(ex_fig *f, int w, int h);
void ex_fig_done(ex_fig *f);
/* Writes the figure as PNG atomically; 0, or -1 with a message naming path. */
int ex_fig_save(ex_fig *f, const char *path);

/* Black text of `size` pixels at (x, y), aligned by ax, ay in [0, 1] (0: left /
 * top, 0.5: centre, 1: right / bottom) and rotated by `angle` radians. */
void ex_text(ex_fig *f, double x, double y, const char *s, double size, int bold, double ax,
             double ay, double angle);

/* Range covering the finite values of v (positive ones when log): widened
 * by 5% of its width on each side (a unit range around a single value), or
 * on a log axis by a factor 1.25 and then to the nearer power of ten when no
 * decade tick would be in view. -1 when no value qualifies. */
int ex_range(const double *v, int64_t n, int log, double r[2]);
/* Data point to pixel. */
double ex_px(const ex_axes *a, double x);
double ex_py(const ex_axes *a, double y);
/* Frame, ticks with labels (decades as 10 with a superscript exponent on a
 * log axis), light grid, title and axis labels (each may be NULL). */
void ex_axes_draw(ex_fig *f, const ex_axes *a, const char *title, const char *xlabel,
                  const char *ylabel, double font);
/* The values of the labelled ticks ex_axes_draw draws on the x
 * (horizontal) or y axis of a, at most max of them into values; returns
 * their number. No two labels touch along the axis. */
int ex_axis_labels(ex_fig *f, const ex_axes *a, int horizontal, double font, double *values,
                   int max);
/* Line through consecutive points; a skipped point breaks it. */
void ex_plot_line(ex_fig *f, const ex_axes *a, const double *x, const double *y, int64_t n,
                  uint32_t rgb, double width);
/* Vertical line at data x across the whole plot area, dashed (6 px on, 4 off)
 * or solid. */
void ex_plot_vline(ex_fig *f, const ex_axes *a, double x, uint32_t rgb, double width, int dashed);
void ex_plot_points(ex_fig *f, const ex_axes *a, const double *x, const double *y, int64_t n,
                    double radius, uint32_t rgb, ex_marker m);
/* Filled bars of `bins` equal widths over [lo, hi] rising from the bottom. */
void ex_plot_bars(ex_fig *f, const ex_axes *a, double lo, double hi, const double *counts,
                  int bins, uint32_t rgb);
/* Legend box with its top-left corner at (x, y): a line (markers NULL) or a
 * marker per entry; returns the box's height. ex_legend_width measures it. */
double ex_legend(ex_fig *f, double x, double y, const char *const *labels, const uint32_t *rgb,
                 const ex_marker *markers, int n, double font);
double ex_legend_width(ex_fig *f, const char *const *labels, int n, double font);
/* Colour of series i: the ten of matplotlib's tab10, then darker variants. */
uint32_t ex_color(int i);
#endif
