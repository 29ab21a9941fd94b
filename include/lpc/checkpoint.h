/* liblpc — training checkpoints: named tensors, AdamW states, scalars (the
 * schedule position: "epoch", "global_step"), RNG states and byte blobs in
 * one versioned binary file with a CRC32 per section (doc/formats.md).
 *
 * A checkpoint is an in-memory collection that owns copies of everything
 * added to it. Saving is atomic: a crash or a failed write never leaves a
 * torn file and never damages an existing one. Loading verifies the whole
 * file and refuses a corrupt, truncated or foreign one with LPC_E_FORMAT and
 * a reason naming the file. Restore functions check everything they need
 * before they change anything.
 *
 * Names are 1..255 printable ASCII characters without spaces, unique per
 * kind (tensors, optimizers, scalars, RNGs, blobs). */
#ifndef LPC_CHECKPOINT_H
#define LPC_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include "module.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

typedef struct lpc_checkpoint lpc_checkpoint;

LPC_BEGIN_DECLS
/* Empty checkpoint; NULL on no memory. */
LPC_API lpc_checkpoint *lpc_checkpoint_new(void);
LPC_API void lpc_checkpoint_free(lpc_checkpoint *ck); /* NULL is a no-op */

/* ---- adding (everything is copied; a name already used is LPC_E_ARG) ---- */
LPC_API lpc_status lpc_checkpoint_add_tensor(lpc_checkpoint *ck, const char *name,
                                             const lpc_tensor *t);
/* Every parameter and buffer of m as "<prefix><name>" (prefix may be NULL,
 * e.g. "model." gives "model.0.weight"). All or nothing. */
LPC_API lpc_status lpc_checkpoint_add_module(lpc_checkpoint *ck, const char *prefix,
                                             lpc_module *m);
/* The optimizer's state: step count, each group's lr and weight decay, each
 * parameter's group and moments. */
LPC_API lpc_status lpc_checkpoint_add_adamw(lpc_checkpoint *ck, const char *name,
                                            lpc_adamw *opt);
LPC_API lpc_status lpc_checkpoint_add_rng(lpc_checkpoint *ck, const char *name,
                                          const lpc_rng *rng);
LPC_API lpc_status lpc_checkpoint_add_blob(lpc_checkpoint *ck, const char *name,
                                           const void *data, size_t n);
/* Scalars; setting an existing name replaces its value (and type). */
LPC_API lpc_status lpc_checkpoint_set_u64(lpc_checkpoint *ck, const char *name, uint64_t v);
LPC_API lpc_status lpc_checkpoint_set_f64(lpc_checkpoint *ck, const char *name, double v);

/* ---- files ---- */
/* Writes path atomically (path.tmp, fsync, rename, fsync of the directory).
 * LPC_E_IO on failure, leaving any previous file at path untouched. */
LPC_API lpc_status lpc_checkpoint_save(const lpc_checkpoint *ck, const char *path);
/* Reads and verifies a whole file; *out is a new checkpoint (free it) or NULL.
 * LPC_E_IO when it cannot be read, LPC_E_FORMAT when it is not a valid
 * checkpoint of a supported version. */
LPC_API lpc_status lpc_checkpoint_load(const char *path, lpc_checkpoint **out);

/* ---- reading and restoring ---- */
LPC_API int lpc_checkpoint_num_tensors(const lpc_checkpoint *ck); /* -1 for NULL */
LPC_API const char *lpc_checkpoint_tensor_name(const lpc_checkpoint *ck, int i);
/* The stored tensor (owned by ck, valid until it is freed; lpc_tensor_free
 * refuses it) or NULL. */
LPC_API const lpc_tensor *lpc_checkpoint_tensor(const lpc_checkpoint *ck, const char *name);
/* Copies "<prefix><name>" into every parameter and buffer of m. A missing
 * tensor is LPC_E_FORMAT, a different shape LPC_E_SHAPE, both naming the
 * tensor; m is then unchanged. Tensors of ck that m lacks are ignored. */
LPC_API lpc_status lpc_checkpoint_restore_module(const lpc_checkpoint *ck, const char *prefix,
                                                 lpc_module *m);
/* Restores step count, group hyper-parameters and moments into opt, which
 * must have the same groups and parameters (group and shape of each, in
 * order) as the saved one; otherwise an error and opt is unchanged. */
LPC_API lpc_status lpc_checkpoint_restore_adamw(const lpc_checkpoint *ck, const char *name,
                                                lpc_adamw *opt);
LPC_API lpc_status lpc_checkpoint_restore_rng(const lpc_checkpoint *ck, const char *name,
                                              lpc_rng *rng);
/* Scalars: LPC_E_FORMAT when missing or stored with the other type. */
LPC_API lpc_status lpc_checkpoint_get_u64(const lpc_checkpoint *ck, const char *name,
                                          uint64_t *out);
LPC_API lpc_status lpc_checkpoint_get_f64(const lpc_checkpoint *ck, const char *name,
                                          double *out);
/* Blob bytes (owned by ck) and their size, or NULL when missing. */
LPC_API const void *lpc_checkpoint_blob(const lpc_checkpoint *ck, const char *name, size_t *n);
LPC_END_DECLS
#endif
