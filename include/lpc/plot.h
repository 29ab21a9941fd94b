/* liblpc — PNG images and a small plotting layer for the paper's figures
 * (latent histograms, 2-D latent scatter, R-vs-robustness).
 *
 * Colours are 0xRRGGBB. Pixel coordinates start at the top-left corner;
 * drawing outside the canvas is clipped. A canvas draws in data coordinates
 * after lpc_canvas_axes has fixed the data ranges of its plot area; data
 * drawing is clipped to that area and skips non-finite points (and points
 * <= 0 on a log axis). */
#ifndef LPC_PLOT_H
#define LPC_PLOT_H
#include <stdint.h>
#include "export.h"
#include "status.h"

typedef struct lpc_canvas lpc_canvas;

/* Axis flags for lpc_canvas_axes. */
#define LPC_PLOT_LOGX 1u
#define LPC_PLOT_LOGY 2u

LPC_BEGIN_DECLS
/* ---- PNG files (8 bits per channel, w and h in 1..65535) ---- */
/* rgb holds h rows of w RGB triples; gray h rows of w values. LPC_E_IO when
 * the file cannot be written (a partial file is removed). */
LPC_API lpc_status lpc_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h);
LPC_API lpc_status lpc_png_write_gray(const char *path, const uint8_t *gray, int w, int h);

/* ---- canvas ---- */
/* White w x h canvas (w, h in 1..16384); NULL on error. */
LPC_API lpc_canvas *lpc_canvas_new(int w, int h);
LPC_API void lpc_canvas_free(lpc_canvas *c); /* NULL is a no-op */
/* The h rows of w RGB triples (owned by the canvas). */
LPC_API const uint8_t *lpc_canvas_pixels(const lpc_canvas *c);
LPC_API lpc_status lpc_canvas_save_png(const lpc_canvas *c, const char *path);
/* Fills with a colour and forgets the axes. */
LPC_API lpc_status lpc_canvas_clear(lpc_canvas *c, uint32_t rgb);

/* Pixel-space primitives. */
LPC_API lpc_status lpc_canvas_point(lpc_canvas *c, int x, int y, uint32_t rgb);
LPC_API lpc_status lpc_canvas_line(lpc_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb);
LPC_API lpc_status lpc_canvas_rect(lpc_canvas *c, int x, int y, int w, int h, uint32_t rgb);
/* Text in a 5x7 font (digits, letters shown upper-case, " .,-+:=()/%_*|";
 * others as '?'), each glyph scale x scale pixels per dot and 6*scale wide;
 * (x, y) is the top-left corner. */
LPC_API lpc_status lpc_canvas_text(lpc_canvas *c, int x, int y, const char *s, int scale,
                                   uint32_t rgb);

/* ---- data plots ---- */
/* Range [lo, hi] covering the finite values of v (positive ones when log),
 * widened by 5% on each side (a factor on a log axis); a single value gets a
 * unit-wide range. LPC_E_ARG when no value qualifies. */
LPC_API lpc_status lpc_plot_range(const double *v, int64_t n, int log, double range[2]);
/* Fixes the plot area's data ranges (x = xr[0]..xr[1], y = yr[0]..yr[1], lo <
 * hi, both > 0 on a log axis) and draws the frame, ticks with labels, the
 * title and axis labels (each may be NULL). The canvas must be at least
 * 120 x 100 pixels. */
LPC_API lpc_status lpc_canvas_axes(lpc_canvas *c, const double xr[2], const double yr[2],
                                   unsigned flags, const char *title, const char *xlabel,
                                   const char *ylabel);
/* Pixel of a data point (LPC_E_STATE before lpc_canvas_axes; LPC_E_ARG for a
 * point that cannot be mapped); points outside the ranges map outside the area. */
LPC_API lpc_status lpc_canvas_map(const lpc_canvas *c, double x, double y, int *px, int *py);
/* Filled discs of the given radius (0: single pixels) at (x[i], y[i]). */
LPC_API lpc_status lpc_canvas_scatter(lpc_canvas *c, const double *x, const double *y, int64_t n,
                                      int radius, uint32_t rgb);
/* Line through consecutive points; a non-finite point breaks it. */
LPC_API lpc_status lpc_canvas_polyline(lpc_canvas *c, const double *x, const double *y,
                                       int64_t n, uint32_t rgb);
/* Counts of the finite values of v in `bins` equal bins over [lo, hi] (hi
 * falls in the last bin; values outside are not counted). */
LPC_API lpc_status lpc_histogram(const double *v, int64_t n, double lo, double hi, int bins,
                                 double *counts);
/* Bars of bins equal widths over [lo, hi] of height counts[i], from the
 * bottom of the y range (or from 0 when 0 is inside a linear y range). */
LPC_API lpc_status lpc_canvas_bars(lpc_canvas *c, double lo, double hi, const double *counts,
                                   int bins, uint32_t rgb);
/* A distinct colour per class index (cycles after 10). */
LPC_API uint32_t lpc_plot_color(int i);
LPC_END_DECLS
#endif
