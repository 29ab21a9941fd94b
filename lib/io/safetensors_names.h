/* How module tensors are named in safetensors files (the styles of
 * lpc_name_style), shared by the writer and the restorer. */
#ifndef LPC_SAFETENSORS_NAMES_H
#define LPC_SAFETENSORS_NAMES_H
#include "safetensors_parse.h"

/* Module tensor i of m: parameters first (i < np), then buffers; *name (may
 * be NULL) receives its liblpc name. */
lpc_tensor *lpci_st_module_tensor(lpc_module *m, int i, int np, const char **name);
/* "<prefix><name>" in the given style into out (cap bytes); 0 when it does
 * not fit. */
int lpci_st_map_name(char *out, size_t cap, const char *prefix, const char *name,
                     lpc_name_style style);
/* Whether a buffer name ends in ".running_var" (marks a batch norm, which
 * torchvision names carry a num_batches_tracked counter for). */
int lpci_st_is_bn_var(const char *name);
/* Whether entry k is a torchvision batch counter: "*.num_batches_tracked",
 * a single I64. */
int lpci_st_is_batch_counter(const lpc_safetensors *st, int k);
#endif
