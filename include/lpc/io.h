/* liblpc — NumPy .npy files (format 1.0), so that features and labels move
 * between liblpc and NumPy: `np.load("z.npy")` reads what lpc_npy_save_*
 * writes, and lpc_npy_load reads what `np.save` writes.
 *
 * Writers produce little-endian, C-order files whose header is byte for byte
 * what NumPy (>= 1.24) writes. The reader accepts versions 1.0-3.0, C order,
 * little-endian float32/float64/int32/int64 ('<f4', '<f8', '<i4', '<i8'),
 * 0 to LPC_NPY_MAX_DIMS dimensions; anything else is LPC_E_FORMAT, an
 * unreadable file LPC_E_IO. */
#ifndef LPC_IO_H
#define LPC_IO_H
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "tensor.h"

#define LPC_NPY_MAX_DIMS 8

typedef struct lpc_npy lpc_npy;
typedef enum {
    LPC_NPY_FLOAT32,
    LPC_NPY_FLOAT64,
    LPC_NPY_INT32,
    LPC_NPY_INT64
} lpc_npy_dtype;

LPC_BEGIN_DECLS
/* Write float32 data of the given shape (ndim 0..LPC_NPY_MAX_DIMS, each
 * dimension >= 0; data holds the product of the shape). Overwrites path. */
LPC_API lpc_status lpc_npy_save_f32(const char *path, const float *data, int ndim,
                                    const int64_t *shape);
/* Write n int32 values as a 1-D array (e.g. labels). */
LPC_API lpc_status lpc_npy_save_i32(const char *path, const int32_t *data, int64_t n);
/* Write a tensor with its shape. */
LPC_API lpc_status lpc_npy_save_tensor(const char *path, const lpc_tensor *t);

/* Read a whole file. On success *out is a new handle owned by the caller
 * (free with lpc_npy_free); on failure *out is NULL. */
LPC_API lpc_status lpc_npy_load(const char *path, lpc_npy **out);
LPC_API void lpc_npy_free(lpc_npy *a); /* NULL is a no-op */
/* Stored element type; -1 for NULL. */
LPC_API int lpc_npy_dtype_of(const lpc_npy *a);
LPC_API int lpc_npy_ndim(const lpc_npy *a);           /* -1 for NULL */
LPC_API int64_t lpc_npy_dim(const lpc_npy *a, int i);  /* -1 when out of range */
LPC_API int64_t lpc_npy_numel(const lpc_npy *a);       /* -1 for NULL; 1 for 0-D */
/* Copy all n = numel elements out, converting: float32/float64 to float
 * (values beyond float's range are LPC_E_FORMAT) or double; int32/int64 to
 * int32 (values beyond int32 are LPC_E_FORMAT). Asking for a float from an
 * integer file or the reverse is LPC_E_FORMAT; n != numel is LPC_E_SHAPE. */
LPC_API lpc_status lpc_npy_copy_f32(const lpc_npy *a, float *dst, int64_t n);
LPC_API lpc_status lpc_npy_copy_f64(const lpc_npy *a, double *dst, int64_t n);
LPC_API lpc_status lpc_npy_copy_i32(const lpc_npy *a, int32_t *dst, int64_t n);
LPC_END_DECLS
#endif
