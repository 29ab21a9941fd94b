/* liblpc data internals: the dataset object and pure in-memory parsers for
 * each file format. The parsers take a byte buffer plus the name to use in
 * error messages, never touch the file system and never crash on any input,
 * so fuzz targets (tests/fuzz/) can call them directly. */
#ifndef LPC_DATA_PARSE_H
#define LPC_DATA_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "../core/internal.h"

struct lpc_dataset {
    int64_t n;
    int c, h, w;
    int num_classes;
    uint8_t *images; /* n x c x h x w */
    int32_t *labels; /* n */
    char **class_names; /* num_classes names (PNG folders), or NULL */
};

/* Bytes of one image (c*h*w). */
static inline size_t lpci_dataset_image_bytes(const lpc_dataset *ds)
{
    return (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
}
/* New dataset with uninitialised storage for n images of c x h x w. `who`
 * names the caller in error messages (LPC_E_ARG on bad sizes, LPC_E_NOMEM). */
lpc_status lpci_dataset_alloc(int64_t n, int c, int h, int w, int num_classes, const char *who,
                              lpc_dataset **out);

/* A data file opened for bounded reading (readfile.c): raw, or gzip when it
 * starts with the gzip magic (then exactly one member, nothing after it).
 * Only regular files open (LPC_E_IO for a folder, FIFO or device, and with
 * strerror when open fails); `path` must outlive the handle. */
typedef struct lpci_file lpci_file;
lpc_status lpci_file_open(const char *path, lpci_file **out);
/* Up to n (decompressed) bytes into dst; *got < n only at the end of the
 * data. LPC_E_FORMAT for a corrupt or truncated gzip stream or trailing
 * bytes after the member, LPC_E_IO for a failed read. */
lpc_status lpci_file_read(lpci_file *f, uint8_t *dst, size_t n, size_t *got);
/* Appends the rest of the data to *buf (lpci_malloc'ed, *len bytes already
 * there; grown as data arrives) but never more than max bytes in all plus
 * one: *len == max + 1 means the data goes on (the caller refuses it). */
lpc_status lpci_file_read_all(lpci_file *f, size_t max, uint8_t **buf, size_t *len);
void lpci_file_close(lpci_file *f); /* NULL is a no-op */
/* The whole file (open, read_all, close) into a fresh lpci_malloc buffer;
 * LPC_E_FORMAT when it holds more than max bytes. */
lpc_status lpci_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* IDX image (magic 0x00000803, n x rows x cols) and label (0x00000801)
 * buffers, already decompressed. num_classes > 0: labels must be below it
 * (LPC_E_FORMAT naming the record otherwise); 0: largest label + 1. */
lpc_status lpci_parse_idx(const uint8_t *img, size_t img_len, const char *img_name,
                          const uint8_t *lab, size_t lab_len, const char *lab_name,
                          int num_classes, lpc_dataset **out);

/* CIFAR binary record layouts. */
typedef enum {
    LPCI_CIFAR10,        /* label byte + 3072 bytes, labels < 10 */
    LPCI_CIFAR100_FINE,  /* coarse byte + fine byte + 3072, fine labels < 100 */
    LPCI_CIFAR100_COARSE /* same records, coarse labels < 20 */
} lpci_cifar_kind;
/* Number of records in a buffer (size must be a non-zero multiple of the record size). */
lpc_status lpci_cifar_count(size_t len, const char *name, lpci_cifar_kind kind, int64_t *count);
/* Decodes `count` records into images (count x 3 x 32 x 32) and labels. */
lpc_status lpci_cifar_decode(const uint8_t *buf, int64_t count, const char *name,
                             lpci_cifar_kind kind, uint8_t *images, int32_t *labels);
/* One CIFAR batch file's bytes as a whole dataset (count + decode). */
lpc_status lpci_parse_cifar(const uint8_t *buf, size_t len, const char *name,
                            lpci_cifar_kind kind, lpc_dataset **out);

/* PNG image in memory to 8-bit planar pixels (c x h x w, c = 1 grey or 3 RGB,
 * lpci_malloc'ed into *pixels). Palette, low-bit grey and 16-bit images are
 * expanded/reduced to 8 bits; alpha is dropped. LPC_E_FORMAT naming `name`
 * for anything libpng rejects. */
lpc_status lpci_parse_png(const uint8_t *buf, size_t len, const char *name, int *c, int *h,
                          int *w, uint8_t **pixels);
/* JPEG decoding (jpegdecode.c): like lpci_parse_png, 8-bit grey (c = 1) or
 * RGB (c = 3) planar pixels; CMYK, damaged data (a truncated file included)
 * and images over 16384 a side or 2^26 values are LPC_E_FORMAT naming `name`. */
lpc_status lpci_parse_jpeg(const uint8_t *buf, size_t len, const char *name, int *c, int *h,
                           int *w, uint8_t **pixels);
/* Resizes planar 8-bit images (c planes of h x w) to oh x ow with Pillow's
 * bilinear filter: a triangle filter widened by the scale when shrinking
 * (antialiased), separable, rounded to nearest. dst holds c x oh x ow.
 * LPC_E_NOMEM when the scratch space cannot be allocated. */
lpc_status lpci_resize_bilinear(const uint8_t *src, int c, int h, int w, uint8_t *dst, int oh,
                                int ow);
/* The crop (cy, cx, ch, cw) of a planar 8-bit image (c x h x w), resized
 * back to h x w with the filter of lpci_resize_bilinear (weights computed
 * in double, no rounding to 8 bits), flipped horizontally when `flip`, and
 * normalised through lut (c x 256, affine in the byte value) into dst
 * (c x h x w floats). Allocates nothing. */
void lpci_resized_crop_f32(const uint8_t *src, int c, int h, int w, int cy, int cx, int ch,
                           int cw, int flip, const float *lut, float *dst);
#endif
