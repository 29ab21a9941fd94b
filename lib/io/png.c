/* 8-bit RGB and grayscale PNG files through libpng. libpng reports errors by
 * longjmp to the setjmp below (never by aborting) and allocates through
 * lpci_malloc. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "../core/internal.h"

#define PNG_MAX_SIDE 65535

static void on_error(png_structp png, png_const_charp msg)
{
    char *buf = png_get_error_ptr(png);
    snprintf(buf, 128, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {}

static png_voidp png_alloc(png_structp png, png_alloc_size_t n) { return lpci_malloc(n); }
static void png_release(png_structp png, png_voidp p) { lpci_free(p); }

/* Removes a partial output file (never a device or other special file). */
static void remove_partial(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        remove(path);
}

static lpc_status write_png(const char *fn, const char *path, const uint8_t *px, int w, int h,
                            int channels)
{
    if (!path || !px)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    if (w < 1 || h < 1 || w > PNG_MAX_SIDE || h > PNG_MAX_SIDE)
        return lpci_error(LPC_E_ARG, "%s: size %dx%d is not in 1..%d", fn, w, h, PNG_MAX_SIDE);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return lpci_error(LPC_E_IO, "%s: cannot create '%s': %s", fn, path, strerror(errno));
    char msg[128] = "out of memory";
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, msg, on_error, on_warning,
                                                NULL, png_alloc, png_release);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
        fclose(fp);
        remove_partial(path);
        return lpci_error(LPC_E_IO, "%s: writing '%s' failed: %s", fn, path, msg);
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, px + (size_t)y * (size_t)w * (size_t)channels);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) {
        int err = errno;
        remove_partial(path);
        return lpci_error(LPC_E_IO, "%s: closing '%s' failed: %s", fn, path, strerror(err));
    }
    return LPC_OK;
}

lpc_status lpc_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h)
{
    return write_png("lpc_png_write_rgb", path, rgb, w, h, 3);
}

lpc_status lpc_png_write_gray(const char *path, const uint8_t *gray, int w, int h)
{
    return write_png("lpc_png_write_gray", path, gray, w, h, 1);
}
