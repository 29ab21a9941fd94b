#include "imgwrite.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jpeglib.h>
#include <png.h>

int lpct_write_jpeg(const char *path, const uint8_t *px, int h, int w, int c, int quality)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err); /* valid arguments: libjpeg does not fail here */
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = c;
    cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)cinfo.next_scanline * (size_t)w * (size_t)c);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return fclose(f) == 0 ? 0 : -1;
}

int lpct_write_png(const char *path, const uint8_t *px, int h, int w, int c)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    return png_image_write_to_file(&img, path, 0, px, 0, NULL) ? 0 : -1;
}

uint8_t lpct_class_colour(int k, int j)
{
    static const uint8_t table[][3] = {{200, 40, 40}, {40, 200, 40}, {40, 40, 200},
                                       {200, 200, 40}, {40, 200, 200}, {200, 40, 200}};
    return table[k % 6][j];
}

int lpct_make_jpeg_folder(const char *root, int classes, int per_class, int h, int w, int noise,
                          unsigned seed)
{
    char path[4096];
    uint8_t *px = malloc((size_t)h * (size_t)w * 3);
    if (!px || (mkdir(root, 0755) != 0 && errno != EEXIST)) {
        free(px);
        return -1;
    }
    unsigned state = seed * 2654435761u + 1u;
    for (int k = 0; k < classes; k++) {
        snprintf(path, sizeof path, "%s/class%d", root, k);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            break;
        for (int i = 0; i < per_class; i++) {
            for (int p = 0; p < h * w; p++)
                for (int j = 0; j < 3; j++) {
                    state = state * 1664525u + 1013904223u;
                    int v = lpct_class_colour(k, j) + (int)(state >> 24) % (2 * noise + 1) - noise;
                    px[p * 3 + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            snprintf(path, sizeof path, "%s/class%d/img%03d.jpg", root, k, i);
            if (lpct_write_jpeg(path, px, h, w, 3, 90) != 0) {
                free(px);
                return -1;
            }
        }
    }
    free(px);
    return 0;
}

int lpct_write_jpeg_many_scans(const char *path)
{
    static jpeg_scan_info scans[1 + 3 * 63 * 2];
    int n = 0;
    scans[n++] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, 0, 0}; /* DC of all, full precision */
    for (int c = 0; c < 3; c++)
        for (int k = 1; k < 64; k++) {
            scans[n++] = (jpeg_scan_info){1, {c, 0, 0, 0}, k, k, 0, 1}; /* first pass, Al 1 */
            scans[n++] = (jpeg_scan_info){1, {c, 0, 0, 0}, k, k, 1, 0}; /* refinement */
        }
    uint8_t px[8 * 8 * 3];
    for (int i = 0; i < 8 * 8 * 3; i++)
        px[i] = (uint8_t)(i * 29);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = cinfo.image_height = 8;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    cinfo.scan_info = scans;
    cinfo.num_scans = n;
    jpeg_start_compress(&cinfo, TRUE);
    for (int y = 0; y < 8; y++) {
        JSAMPROW row = px + y * 24;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return fclose(f) == 0 ? 0 : -1;
}
