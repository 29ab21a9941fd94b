/* Test helpers: writing small JPEG (libjpeg) and PNG (libpng) files and
 * class folders of them, deterministically, for the image-folder reader. */
#ifndef LPCT_IMGWRITE_H
#define LPCT_IMGWRITE_H
#include <stdint.h>

/* Interleaved h x w x c bytes (c = 1 or 3) to path; 0 on success. */
int lpct_write_jpeg(const char *path, const uint8_t *px, int h, int w, int c, int quality);
int lpct_write_png(const char *path, const uint8_t *px, int h, int w, int c);
/* A valid progressive 8 x 8 RGB JPEG of 1 + 3 x 63 x 2 = 379 scans (every AC
 * coefficient of every component alone, first and refinement pass). */
int lpct_write_jpeg_many_scans(const char *path);
/* The colour of class k (of the folder generator), channel j. */
uint8_t lpct_class_colour(int k, int j);
/* root/class<k>/img<i>.jpg for `classes` classes of `per_class` h x w RGB
 * images: the class colour plus a seeded +-`noise` pattern; creates the
 * folders. 0 on success. */
int lpct_make_jpeg_folder(const char *root, int classes, int per_class, int h, int w, int noise,
                          unsigned seed);
#endif
