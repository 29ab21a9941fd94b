/* safetensors internals shared by safetensors.c (loading, getters,
 * restoring), safetensors_parse.c (the validating parser) and the fuzz
 * target. The format is described in include/lpc/safetensors.h. */
#ifndef LPC_SAFETENSORS_PARSE_H
#define LPC_SAFETENSORS_PARSE_H
#include <lpc/safetensors.h>
#include "../core/internal.h"

#define LPCI_ST_MAX_HEADER ((uint64_t)100 << 20) /* as the reference implementation */
#define LPCI_ST_MAX_DIMS 8
/* The longest JSON string of a header (a name or a metadata value), counted
 * as written: escapes take their escaped bytes. The reader refuses longer
 * ones, so the writer refuses to write them. */
#define LPCI_ST_NAME_MAX 1024

typedef struct {
    char *name;
    const char *dtype; /* static dtype name ("F32") */
    int elem_size;     /* bytes per element */
    int ndim;
    int64_t shape[LPCI_ST_MAX_DIMS];
    uint64_t begin, end; /* byte range in data */
} lpci_st_entry;

typedef struct {
    char *key, *value;
} lpci_st_meta;

struct lpc_safetensors {
    lpci_st_entry *entries; /* in header order */
    int n_entries;
    int *by_name; /* entry indices sorted by name, for lookups */
    lpci_st_meta *meta;
    int n_meta;
    uint8_t *data; /* copy of the byte buffer */
    size_t data_len;
    char *source; /* how messages name the file */
};

/* Parses and validates a whole file image; `name` names it in messages. On
 * success *out is a new handle; otherwise *out is NULL and the status is
 * LPC_E_FORMAT (or LPC_E_NOMEM) with the reason recorded. Never reads past
 * buf + n. */
lpc_status lpci_safetensors_parse(const uint8_t *buf, size_t n, const char *name,
                                  lpc_safetensors **out);
/* Index of the entry called name, -1 when there is none. */
int lpci_st_find(const lpc_safetensors *st, const char *name);
#endif
