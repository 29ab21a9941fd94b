/* liblpc — safetensors files (https://github.com/huggingface/safetensors),
 * so that weights move between liblpc and PyTorch: a file written by
 * lpc_safetensors_save_module loads with safetensors.torch.load_file, and a
 * PyTorch state_dict saved with safetensors.torch.save_file loads into a
 * liblpc module of the same architecture.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 * ..., "__metadata__": {"key": "value", ...}}), then the raw little-endian
 * tensor bytes, which the offsets (relative to the end of the header) must
 * cover exactly, without holes or overlaps. doc/formats.md has the details.
 *
 * Names. A module's tensors are written under their liblpc names
 * ("backbone.layer2.0.shortcut.0.weight") with LPC_NAMES_NATIVE. With
 * LPC_NAMES_TORCHVISION every path component "shortcut" becomes "downsample"
 * and each batch norm (a module with a "running_var" buffer) gets a
 * "<bn>.num_batches_tracked" int64 scalar (written as 0, ignored when read),
 * as in torchvision's ResNets; other names are unchanged. */
#ifndef LPC_SAFETENSORS_H
#define LPC_SAFETENSORS_H
#include <stdint.h>
#include "module.h"

typedef struct lpc_safetensors lpc_safetensors;

typedef enum {
    LPC_NAMES_NATIVE = 0,     /* liblpc's structural names */
    LPC_NAMES_TORCHVISION = 1 /* "downsample" for "shortcut", plus num_batches_tracked */
} lpc_name_style;

LPC_BEGIN_DECLS
/* Writes every parameter and buffer of m as F32 under "<prefix><name>"
 * (prefix may be NULL) with the metadata "format": "pt", "liblpc_version"
 * and, when description is not NULL, "description". The file is written
 * atomically (unique temporary file, fsync, rename): on failure (LPC_E_IO
 * naming the file and the reason) any previous file at path is intact.
 * Every string of the header (description, "<prefix><name>") must be UTF-8
 * and at most 1024 bytes as written in JSON, where '"' and '\' take two
 * bytes and control characters six: the limit lpc_safetensors_load
 * enforces; anything else is LPC_E_ARG and nothing is written. */
LPC_API lpc_status lpc_safetensors_save_module(const char *path, lpc_module *m, const char *prefix,
                                               lpc_name_style names, const char *description);
/* Reads and validates a whole file: *out is a new handle owned by the caller
 * (free with lpc_safetensors_free), NULL on failure. LPC_E_IO when the file
 * cannot be read, LPC_E_FORMAT (naming the file and the defect) when it is
 * not a valid safetensors file. Tensors of every safetensors dtype load;
 * only F32 ones can be restored into a module. */
LPC_API lpc_status lpc_safetensors_load(const char *path, lpc_safetensors **out);
LPC_API void lpc_safetensors_free(lpc_safetensors *st); /* NULL is a no-op */

/* Tensors in the order of the file's header; -1 / NULL for NULL or an index
 * out of range. Strings are owned by st. */
LPC_API int lpc_safetensors_num_tensors(const lpc_safetensors *st);
LPC_API const char *lpc_safetensors_tensor_name(const lpc_safetensors *st, int i);
/* The safetensors dtype name: "F32", "F64", "I64", "BF16", ... */
LPC_API const char *lpc_safetensors_tensor_dtype(const lpc_safetensors *st, int i);
LPC_API int lpc_safetensors_tensor_ndim(const lpc_safetensors *st, int i);
LPC_API int64_t lpc_safetensors_tensor_dim(const lpc_safetensors *st, int i, int d);
/* Value of a "__metadata__" entry (owned by st), NULL when absent. */
LPC_API const char *lpc_safetensors_metadata(const lpc_safetensors *st, const char *key);

/* Copies "<prefix><name>" (mapped by `names`) into every parameter and
 * buffer of m. The file must fit the module exactly: a missing tensor or one
 * that is not F32 is LPC_E_FORMAT, a different shape LPC_E_SHAPE, and a tensor
 * under the prefix that the module does not have is LPC_E_FORMAT; the
 * message names the first mismatch. m is unchanged on failure. */
LPC_API lpc_status lpc_safetensors_restore_module(const lpc_safetensors *st, const char *prefix,
                                                  lpc_module *m, lpc_name_style names);
LPC_END_DECLS
#endif
