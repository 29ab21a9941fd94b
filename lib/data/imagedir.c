/* JPEG and PNG class folders (listed by classdir.c), decoded in parallel,
 * converted to one channel count and resized to one size when asked. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "classdir.h"

#define IMAGE_MAX_BYTES ((size_t)64 << 20)    /* largest file read */
#define RESIZED_MAX_VALUES ((size_t)64 << 20) /* largest intermediate of a centre crop */

static const char png_magic[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};

static int is_image_name(const char *s)
{
    return lpci_has_suffix(s, ".jpg") || lpci_has_suffix(s, ".jpeg") ||
           lpci_has_suffix(s, ".png");
}

void lpc_imagedir_options_init(lpc_imagedir_options *o)
{
    if (o)
        *o = (lpc_imagedir_options){.size = sizeof *o, .center_crop = 1.0};
}

/* Reads and decodes one file (the content decides the format) into planar
 * pixels (*px, lpci_malloc'ed). */
static lpc_status decode(const char *path, int *c, int *h, int *w, uint8_t **px)
{
    uint8_t *buf;
    size_t len;
    lpc_status s = lpci_read_file(path, IMAGE_MAX_BYTES, &buf, &len);
    if (s != LPC_OK)
        return s;
    if (len >= 8 && memcmp(buf, png_magic, 8) == 0)
        s = lpci_parse_png(buf, len, path, c, h, w, px);
    else if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xD8)
        s = lpci_parse_jpeg(buf, len, path, c, h, w, px);
    else
        s = lpci_error(LPC_E_FORMAT, "%s: neither a JPEG nor a PNG file (bad signature)", path);
    lpci_free(buf);
    return s;
}

/* Grey from RGB as Pillow's convert("L"): (R 19595 + G 38470 + B 7471 + 2^15) >> 16;
 * RGB from grey by copying the plane. In place into out (c_out planes). */
static void convert(const uint8_t *in, int c_in, size_t plane, uint8_t *out, int c_out)
{
    if (c_in == c_out)
        memcpy(out, in, (size_t)c_in * plane);
    else if (c_out == 3)
        for (int k = 0; k < 3; k++)
            memcpy(out + (size_t)k * plane, in, plane);
    else
        for (size_t i = 0; i < plane; i++)
            out[i] = (uint8_t)((in[i] * 19595u + in[plane + i] * 38470u +
                                in[2 * plane + i] * 7471u + 0x8000u) >> 16);
}

/* torchvision's Resize(S) + CenterCrop(ds->h, ds->w) of decoded pixels px,
 * converted to the set's channels, into dst. */
static lpc_status resize_center_crop(const char *path, const uint8_t *px, int c, int h, int w,
                                     const lpc_dataset *ds, double fraction, uint8_t *dst)
{
    double side = (double)(ds->h > ds->w ? ds->h : ds->w) / fraction;
    int rh, rw; /* the shorter side becomes S (as torchvision: the longer one truncated) */
    if (h <= w) {
        rh = (int)(side + 0.5);
        rw = (int)((double)rh * w / h);
    } else {
        rw = (int)(side + 0.5);
        rh = (int)((double)rw * h / w);
    }
    rh = rh < ds->h ? ds->h : rh;
    rw = rw < ds->w ? ds->w : rw;
    size_t plane = (size_t)h * (size_t)w, big = (size_t)rh * (size_t)rw;
    if (big > RESIZED_MAX_VALUES / (size_t)ds->c)
        return lpci_error(LPC_E_FORMAT, "%s: a %dx%d image resized to %dx%d for the centre "
                          "crop exceeds %zu values", path, h, w, rh, rw, RESIZED_MAX_VALUES);
    const uint8_t *conv = c == ds->c ? px : NULL;
    uint8_t *own = c == ds->c ? NULL : lpci_malloc((size_t)ds->c * plane);
    uint8_t *resized = lpci_malloc((size_t)ds->c * big);
    lpc_status s = LPC_OK;
    if ((!conv && !own) || !resized) {
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", path);
    } else {
        if (own) {
            convert(px, c, plane, own, ds->c);
            conv = own;
        }
        s = lpci_resize_bilinear(conv, ds->c, h, w, resized, rh, rw);
        if (s != LPC_OK)
            lpci_error_context("%s", path);
    }
    /* CenterCrop's offsets: int(round((size - crop) / 2)), Python's round
     * (halves to even, as nearbyint in the default rounding mode). */
    int top = (int)nearbyint((rh - ds->h) / 2.0), left = (int)nearbyint((rw - ds->w) / 2.0);
    for (int k = 0; k < ds->c && s == LPC_OK; k++)
        for (int y = 0; y < ds->h; y++)
            memcpy(dst + ((size_t)k * ds->h + y) * ds->w,
                   resized + (size_t)k * big + (size_t)(top + y) * rw + left, (size_t)ds->w);
    lpci_free(own);
    lpci_free(resized);
    return s;
}

/* Image i of the data set: decoded, converted and resized to the set's layout. */
static lpc_status load_one(const char *path, const lpc_imagedir_options *o, lpc_dataset *ds,
                           int64_t i)
{
    uint8_t *px = NULL, *conv = NULL;
    int c, h, w;
    lpc_status s = decode(path, &c, &h, &w, &px);
    if (s != LPC_OK)
        return s;
    uint8_t *dst = ds->images + (size_t)i * lpci_dataset_image_bytes(ds);
    size_t plane = (size_t)h * (size_t)w;
    if ((!o->channels && c != ds->c) || (!o->height && (h != ds->h || w != ds->w))) {
        s = lpci_error(LPC_E_FORMAT, "%s: image is %dx%dx%d (CxHxW) but the first image is "
                       "%dx%dx%d (ask for a size and a channel count to convert)", path, c, h, w,
                       ds->c, ds->h, ds->w);
    } else if (o->center_crop < 1.0) { /* shorter side to S, then the centre */
        s = resize_center_crop(path, px, c, h, w, ds, o->center_crop, dst);
    } else if (h == ds->h && w == ds->w) {
        convert(px, c, plane, dst, ds->c);
    } else if (!(conv = c == ds->c ? px : lpci_malloc((size_t)ds->c * plane))) {
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", path);
    } else {
        if (conv != px)
            convert(px, c, plane, conv, ds->c);
        if ((s = lpci_resize_bilinear(conv, ds->c, h, w, dst, ds->h, ds->w)) != LPC_OK)
            lpci_error_context("%s", path);
    }
    if (conv != px)
        lpci_free(conv);
    lpci_free(px);
    return s;
}

static lpc_status check_options(const lpc_imagedir_options *in, lpc_imagedir_options *o)
{
    lpc_imagedir_options_init(o);
    if (!in)
        return LPC_OK;
    if (in->size < sizeof(size_t) || in->size > sizeof *o)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_imagedir: options size %zu is not in "
                          "[%zu, %zu] (call lpc_imagedir_options_init first)", in->size,
                          sizeof(size_t), sizeof *o);
    memcpy(o, in, in->size);
    if ((o->height == 0) != (o->width == 0) || o->height < 0 || o->width < 0 ||
        o->height > 16384 || o->width > 16384 ||
        (o->channels != 0 && o->channels != 1 && o->channels != 3) ||
        !(o->center_crop >= 0.05 && o->center_crop <= 1.0) ||
        (o->center_crop < 1.0 && !o->height))
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_imagedir: need height and width both 0 "
                          "or both in 1..16384, channels 0, 1 or 3 and center_crop in [0.05, 1] "
                          "(below 1 only with a size); got %dx%d, %d channels, center_crop %g",
                          o->height, o->width, o->channels, o->center_crop);
    return LPC_OK;
}

lpc_status lpc_dataset_load_imagedir(const char *dir, const lpc_imagedir_options *opts,
                                     lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_imagedir: out is NULL");
    *out = NULL;
    if (!dir)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_imagedir: dir is NULL");
    lpc_imagedir_options o;
    lpc_status s = check_options(opts, &o);
    lpci_class_listing li;
    if (s != LPC_OK ||
        (s = lpci_list_class_dir(dir, o.classes_dir, is_image_name, ".jpg, .jpeg or .png",
                                 &li)) != LPC_OK)
        return s;
    /* The first image fixes whatever the options leave open. */
    int c = o.channels, h = o.height, w = o.width;
    if (!c || !h) {
        uint8_t *px = NULL;
        int c0, h0, w0;
        s = decode(li.paths.names[0], &c0, &h0, &w0, &px);
        lpci_free(px);
        c = c ? c : c0;
        h = h ? h : h0;
        w = w ? w : w0;
    }
    lpc_dataset *ds = NULL;
    lpc_status *each = NULL;
    int64_t n = (int64_t)li.paths.n;
    if (s == LPC_OK)
        s = lpci_dataset_alloc(n, c, h, w, (int)li.classes.n, dir, &ds);
    if (s == LPC_OK && !(each = lpci_malloc((size_t)n * sizeof *each)))
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", dir);
    if (s == LPC_OK) {
        ds->class_names = li.classes.names; /* moved into the data set */
        li.classes.names = NULL;
        li.classes.n = 0;
        memcpy(ds->labels, li.labels, (size_t)n * sizeof *ds->labels);
        /* Images are independent: any thread order gives the same bytes. A
         * thread's message is its own, so the first failure is decoded again
         * here to report it. */
#pragma omp parallel for schedule(dynamic, 4) num_threads(lpci_threads())
        for (int64_t i = 0; i < n; i++)
            each[i] = load_one(li.paths.names[i], &o, ds, i);
        for (int64_t i = 0; i < n && s == LPC_OK; i++)
            if (each[i] != LPC_OK && (s = load_one(li.paths.names[i], &o, ds, i)) == LPC_OK)
                s = lpci_error(each[i], "%s: failed while decoding in parallel, not again",
                               li.paths.names[i]);
    }
    lpci_free(each);
    lpci_class_listing_free(&li);
    if (s != LPC_OK) {
        lpc_dataset_free(ds);
        return s;
    }
    *out = ds;
    return LPC_OK;
}
