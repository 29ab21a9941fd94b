/* JPEG decoding from memory with libjpeg(-turbo). Errors longjmp back here
 * through a custom error manager, so no input can abort the process or print;
 * the image size and the number of progressive scans are bounded before any
 * pixel is decoded, so hostile headers cannot demand gigabytes or minutes. */
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE and size_t */
#include <string.h>
#include <jpeglib.h>
#include "parse.h"

#define JPEG_MAX_SIDE 16384u
#define JPEG_MAX_PIXELS ((size_t)64 << 20) /* width x height x channels */
#define JPEG_MAX_SCANS 256                 /* progressive scans (libjpeg-turbo's fuzzers: 500) */

typedef struct {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX + 64];
} jpeg_guard;

static void on_error(j_common_ptr cinfo)
{
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    snprintf(g->msg, sizeof g->msg, "%s", text);
    longjmp(g->jump, 1);
}

/* Corrupt-data warnings (e.g. premature end of data) are errors here: a
 * damaged file is named, never half-decoded. Trace messages are ignored. */
static void on_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        on_error(cinfo);
}

static void on_progress(j_common_ptr cinfo)
{
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    if (cinfo->is_decompressor &&
        ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        snprintf(g->msg, sizeof g->msg, "more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(g->jump, 1);
    }
}

lpc_status lpci_parse_jpeg(const uint8_t *buf, size_t len, const char *name, int *c, int *h,
                           int *w, uint8_t **pixels)
{
    *pixels = NULL;
    if (len < 3 || buf[0] != 0xFF || buf[1] != 0xD8 || buf[2] != 0xFF)
        return lpci_error(LPC_E_FORMAT, "%s: not a JPEG file (bad signature)", name);
    if (len > (size_t)(unsigned long)-1)
        return lpci_error(LPC_E_FORMAT, "%s: JPEG file too large", name);
    struct jpeg_decompress_struct cinfo;
    jpeg_guard g;
    memset(&g, 0, sizeof g);
    cinfo.err = jpeg_std_error(&g.pub);
    g.pub.error_exit = on_error;
    g.pub.emit_message = on_message;
    /* Modified after setjmp, so volatile for the error path. */
    uint8_t *volatile packed = NULL, *volatile planar = NULL;
    if (setjmp(g.jump)) {
        jpeg_destroy_decompress(&cinfo);
        lpci_free(packed);
        lpci_free(planar);
        return lpci_error(LPC_E_FORMAT, "%s: corrupt JPEG: %s", name, g.msg);
    }
    jpeg_create_decompress(&cinfo);
    g.progress.progress_monitor = on_progress;
    cinfo.progress = &g.progress;
    cinfo.mem->max_memory_to_use = (long)(JPEG_MAX_PIXELS * 4);
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.num_components == 1)
        cinfo.out_color_space = JCS_GRAYSCALE;
    else if (cinfo.num_components == 3)
        cinfo.out_color_space = JCS_RGB;
    else {
        snprintf(g.msg, sizeof g.msg, "%d colour components (CMYK and others are not read; "
                 "grey and colour are)", cinfo.num_components);
        longjmp(g.jump, 1);
    }
    size_t ch = (size_t)cinfo.num_components;
    if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
        cinfo.image_width > JPEG_MAX_SIDE || cinfo.image_height > JPEG_MAX_SIDE ||
        (size_t)cinfo.image_width * cinfo.image_height * ch > JPEG_MAX_PIXELS) {
        snprintf(g.msg, sizeof g.msg, "image %ux%u is too large (at most %u a side and %zu "
                 "values)", (unsigned)cinfo.image_width, (unsigned)cinfo.image_height,
                 JPEG_MAX_SIDE, JPEG_MAX_PIXELS);
        longjmp(g.jump, 1);
    }
    jpeg_start_decompress(&cinfo);
    size_t width = cinfo.output_width, height = cinfo.output_height;
    if ((size_t)cinfo.output_components != ch) {
        snprintf(g.msg, sizeof g.msg, "unexpected output layout");
        longjmp(g.jump, 1);
    }
    /* Rows arrive interleaved (W x C), 16 at a time, and go planar (C x H x W)
     * at once, so only 16 rows are ever held twice. */
    size_t row = width * ch, plane = width * height;
    packed = lpci_malloc(16 * row);
    planar = lpci_malloc(height * row);
    if (!packed || !planar) {
        snprintf(g.msg, sizeof g.msg, "out of memory");
        longjmp(g.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[16];
        size_t at = cinfo.output_scanline, n = cinfo.output_height - at;
        n = n < 16 ? n : 16;
        for (size_t r = 0; r < n; r++)
            rows[r] = packed + r * row;
        n = jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)n);
        if (n == 0) { /* never with a memory source; no endless loop if it were */
            snprintf(g.msg, sizeof g.msg, "decoder returned no rows");
            longjmp(g.jump, 1);
        }
        if (ch == 1) {
            memcpy(planar + at * width, packed, n * row);
            continue;
        }
        for (size_t r = 0; r < n; r++) {
            const uint8_t *src = packed + r * row;
            uint8_t *p0 = planar + (at + r) * width, *p1 = p0 + plane, *p2 = p1 + plane;
            for (size_t x = 0; x < width; x++) {
                p0[x] = src[3 * x];
                p1[x] = src[3 * x + 1];
                p2[x] = src[3 * x + 2];
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    lpci_free(packed);
    *c = (int)ch;
    *h = (int)height;
    *w = (int)width;
    *pixels = planar;
    return LPC_OK;
}
