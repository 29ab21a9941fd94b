/* In-memory .npy parser (lib/io/npy.c), separate so that fuzz targets can
 * drive it without files. */
#ifndef LPC_NPY_PARSE_H
#define LPC_NPY_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "lpc/io.h"

typedef struct {
    lpc_npy_dtype dtype;
    int ndim;
    int64_t shape[LPC_NPY_MAX_DIMS];
    int64_t numel;
    size_t itemsize;
    size_t data_offset; /* the data are buf[data_offset .. len), exactly numel*itemsize bytes */
} lpci_npy_header;

/* Parses the whole file image buf[0..len). LPC_E_FORMAT (with a message)
 * on anything malformed; never reads outside buf. */
lpc_status lpci_npy_parse(const uint8_t *buf, size_t len, lpci_npy_header *h);
#endif
