/* Image resizing with Pillow's bilinear filter (Image.resize(..., BILINEAR)):
 * the same coefficients in the same 22-bit fixed point, horizontal pass
 * first into 8 bits, then vertical, so the results match Pillow's. */
#include <math.h>
#include <string.h>
#include "parse.h"

#define PRECISION_BITS 22

/* Taps of one axis: output i reads in[lo[i] .. lo[i] + n[i]) with weights
 * k[i * taps ..]. */
typedef struct {
    int *lo, *n, taps;
    int32_t *k;
} axis;

static void axis_free(axis *a)
{
    lpci_free(a->lo);
    lpci_free(a->n);
    lpci_free(a->k);
}

static double tent(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static lpc_status axis_new(int in, int out, axis *a)
{
    double scale = (double)in / (double)out, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filterscale; /* the tent's support 1, widened when shrinking */
    memset(a, 0, sizeof *a);
    a->taps = (int)ceil(support) * 2 + 1;
    a->lo = lpci_malloc((size_t)out * sizeof *a->lo);
    a->n = lpci_malloc((size_t)out * sizeof *a->n);
    a->k = lpci_malloc((size_t)out * (size_t)a->taps * sizeof *a->k);
    double *w = lpci_malloc((size_t)a->taps * sizeof *w);
    if (!a->lo || !a->n || !a->k || !w) {
        lpci_free(w);
        axis_free(a);
        return lpci_error(LPC_E_NOMEM, "resizing an image: out of memory");
    }
    for (int i = 0; i < out; i++) {
        double center = ((double)i + 0.5) * scale, sum = 0.0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in ? in : hi;
        for (int x = 0; x < hi - lo; x++)
            sum += w[x] = tent(((double)(x + lo) - center + 0.5) / filterscale);
        int32_t *k = a->k + (size_t)i * (size_t)a->taps;
        for (int x = 0; x < hi - lo; x++) {
            double v = sum != 0.0 ? w[x] / sum : 0.0;
            k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                                   : 0.5 + v * (1 << PRECISION_BITS));
        }
        a->lo[i] = lo;
        a->n[i] = hi - lo;
    }
    lpci_free(w);
    return LPC_OK;
}

static uint8_t clip8(int64_t v)
{
    v >>= PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Horizontal pass: each of `lines` rows of w samples to `out` samples. */
static void pass_rows(const uint8_t *src, uint8_t *dst, const axis *a, int lines, int w, int out)
{
    for (int l = 0; l < lines; l++) {
        const uint8_t *row = src + (size_t)l * (size_t)w;
        for (int i = 0; i < out; i++) {
            const int32_t *k = a->k + (size_t)i * (size_t)a->taps;
            const uint8_t *p = row + a->lo[i];
            int64_t acc = (int64_t)1 << (PRECISION_BITS - 1);
            for (int x = 0; x < a->n[i]; x++)
                acc += (int64_t)p[x] * k[x];
            dst[(size_t)l * (size_t)out + (size_t)i] = clip8(acc);
        }
    }
}

/* Vertical pass: rows of `width` samples, `out` output rows; row by row so
 * that the inner loop runs along contiguous samples. */
static void pass_cols(const uint8_t *src, uint8_t *dst, const axis *a, int width, int out)
{
    for (int i = 0; i < out; i++) {
        const int32_t *k = a->k + (size_t)i * (size_t)a->taps;
        const uint8_t *p = src + (size_t)a->lo[i] * (size_t)width;
        for (int x = 0; x < width; x++) {
            int64_t acc = (int64_t)1 << (PRECISION_BITS - 1);
            for (int t = 0; t < a->n[i]; t++)
                acc += (int64_t)p[(size_t)t * (size_t)width + (size_t)x] * k[t];
            dst[(size_t)i * (size_t)width + (size_t)x] = clip8(acc);
        }
    }
}

lpc_status lpci_resize_bilinear(const uint8_t *src, int c, int h, int w, uint8_t *dst, int oh,
                                int ow)
{
    size_t in_plane = (size_t)h * (size_t)w, out_plane = (size_t)oh * (size_t)ow;
    if (oh == h && ow == w) {
        memcpy(dst, src, (size_t)c * in_plane);
        return LPC_OK;
    }
    axis ax = {0}, ay = {0};
    uint8_t *mid = lpci_malloc((size_t)h * (size_t)ow);
    lpc_status s = mid ? LPC_OK : lpci_error(LPC_E_NOMEM, "resizing an image: out of memory");
    if (s == LPC_OK && ow != w)
        s = axis_new(w, ow, &ax);
    if (s == LPC_OK && oh != h)
        s = axis_new(h, oh, &ay);
    for (int k = 0; k < c && s == LPC_OK; k++) {
        const uint8_t *in = src + (size_t)k * in_plane;
        uint8_t *out = dst + (size_t)k * out_plane;
        if (ow != w) /* rows: h lines of w -> ow */
            pass_rows(in, oh != h ? mid : out, &ax, h, w, ow);
        else
            memcpy(mid, in, in_plane);
        if (oh != h) /* columns: h rows of ow -> oh rows */
            pass_cols(mid, out, &ay, ow, oh);
    }
    lpci_free(mid);
    axis_free(&ax);
    axis_free(&ay);
    return s;
}

/* Tent weights of output index i of an axis of `in` samples (from `off`)
 * mapped onto `out`: first tap *lo, count returned; w has room for
 * 2 * ceil(in / out) + 1 taps (3 when in <= out). */
static int taps_of(int i, int in, int out, int off, double *w, int *lo)
{
    double scale = (double)in / (double)out, fs = scale < 1.0 ? 1.0 : scale, sum = 0.0;
    double center = ((double)i + 0.5) * scale;
    int a = (int)(center - fs + 0.5), b = (int)(center + fs + 0.5);
    a = a < 0 ? 0 : a;
    b = b > in ? in : b;
    for (int x = a; x < b; x++)
        sum += w[x - a] = tent(((double)x - center + 0.5) / fs);
    for (int x = 0; x < b - a; x++)
        w[x] = sum != 0.0 ? w[x] / sum : 0.0;
    *lo = a + off;
    return b - a;
}

/* A crop is never larger than the output (it is part of an image of the
 * output's size), so the tent is never widened: at most 3 taps. */
#define MAX_TAPS 4

void lpci_resized_crop_f32(const uint8_t *src, int c, int h, int w, int cy, int cx, int ch,
                           int cw, int flip, const float *lut, float *dst)
{
    double wy[MAX_TAPS], wx[MAX_TAPS];
    size_t plane = (size_t)h * (size_t)w;
    for (int y = 0; y < h; y++) {
        int y0, ny = taps_of(y, ch, h, cy, wy, &y0);
        for (int x = 0; x < w; x++) {
            int x0, nx = taps_of(x, cw, w, cx, wx, &x0);
            int ox = flip ? w - 1 - x : x;
            for (int k = 0; k < c; k++) {
                const uint8_t *p = src + (size_t)k * plane;
                double v = 0.0;
                for (int j = 0; j < ny; j++) {
                    const uint8_t *row = p + (size_t)(y0 + j) * (size_t)w + x0;
                    double r = 0.0;
                    for (int t = 0; t < nx; t++)
                        r += wx[t] * row[t];
                    v += wy[j] * r;
                }
                /* lut is affine in the byte value: lut[0] + v (lut[255] - lut[0]) / 255. */
                const float *l = lut + k * 256;
                dst[(size_t)k * plane + (size_t)y * (size_t)w + (size_t)ox] =
                    (float)(l[0] + v * ((double)l[255] - l[0]) / 255.0);
            }
        }
    }
}
