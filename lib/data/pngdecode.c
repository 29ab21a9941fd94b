/* PNG decoding from memory with libpng. Errors longjmp back here through a
 * custom error handler, so no input can abort the process, and libpng's own
 * allocations go through the counting allocator. */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"

/* Largest accepted image: bounded so hostile headers cannot demand gigabytes. */
#define PNG_MAX_SIDE 8192u
#define PNG_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    char msg[200];
} png_source;

static void on_error(png_structp png, png_const_charp msg)
{
    png_source *src = png_get_error_ptr(png);
    snprintf(src->msg, sizeof src->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {}

static void on_read(png_structp png, png_bytep out, size_t n)
{
    png_source *src = png_get_io_ptr(png);
    if (n > src->len - src->pos)
        png_error(png, "file truncated");
    memcpy(out, src->p + src->pos, n);
    src->pos += n;
}

static png_voidp on_malloc(png_structp png, png_alloc_size_t n) { return lpci_malloc(n); }
static void on_free(png_structp png, png_voidp p) { lpci_free(p); }

/* Every chunk must fit in the buffer: libpng allocates a chunk's declared
 * length before reading it (a 41-byte file could make it malloc 2 GiB), and
 * the chunk-size limit does not bound that in every libpng build. */
static int chunk_too_long(const uint8_t *buf, size_t len, char *msg, size_t cap)
{
    size_t pos = 8;
    while (len - pos >= 8) {
        const uint8_t *p = buf + pos;
        size_t n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        size_t avail = len - pos - 8; /* data + CRC */
        if (n > avail || avail - n < 4) {
            snprintf(msg, cap, "chunk '%.4s' at byte %zu declares %zu bytes, %zu remain "
                     "(truncated)", p + 4, pos, n, avail < 4 ? 0 : avail - 4);
            return 1;
        }
        if (memcmp(p + 4, "IEND", 4) == 0)
            break;
        pos += 12 + n;
    }
    return 0;
}

lpc_status lpci_parse_png(const uint8_t *buf, size_t len, const char *name, int *c, int *h,
                          int *w, uint8_t **pixels)
{
    *pixels = NULL;
    if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
        return lpci_error(LPC_E_FORMAT, "%s: not a PNG file (bad signature)", name);
    char why[120];
    if (chunk_too_long(buf, len, why, sizeof why))
        return lpci_error(LPC_E_FORMAT, "%s: corrupt PNG: %s", name, why);
    png_source src = {buf, len, 0, ""};
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &src, on_error,
                                               on_warning, NULL, on_malloc, on_free);
    if (!png)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for the PNG decoder", name);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for the PNG decoder", name);
    }
    /* Modified after setjmp, so volatile for the error path. */
    uint8_t *volatile packed = NULL, *volatile planar = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        lpci_free(packed);
        lpci_free(planar);
        lpci_free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return lpci_error(LPC_E_FORMAT, "%s: corrupt PNG: %s", name, src.msg);
    }
    png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
    png_set_chunk_malloc_max(png, PNG_MAX_BYTES);
    png_set_read_fn(png, &src, on_read);
    png_read_info(png, info);
    png_uint_32 width, height;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &width, &height, &depth, &ctype, &interlace, NULL, NULL);
    /* Everything becomes 8-bit grey or RGB. */
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((ch != 1 && ch != 3) || png_get_bit_depth(png, info) != 8 ||
        rowbytes != (size_t)width * (size_t)ch)
        png_error(png, "unsupported pixel layout after conversion");
    if ((size_t)height * rowbytes > PNG_MAX_BYTES)
        png_error(png, "image too large");
    packed = lpci_malloc((size_t)height * rowbytes);
    planar = lpci_malloc((size_t)height * rowbytes);
    rows = lpci_malloc((size_t)height * sizeof *rows);
    if (!packed || !planar || !rows)
        png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++)
        rows[y] = packed + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    /* Interleaved (H x W x C) to planar (C x H x W). */
    size_t plane = (size_t)width * height;
    for (int k = 0; k < ch; k++)
        for (size_t i = 0; i < plane; i++)
            planar[(size_t)k * plane + i] = packed[i * (size_t)ch + (size_t)k];
    lpci_free(packed);
    lpci_free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *c = ch;
    *h = (int)height;
    *w = (int)width;
    *pixels = planar;
    return LPC_OK;
}
