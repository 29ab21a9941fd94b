/* Checkpoint internals shared by checkpoint.c (the in-memory object),
 * checkpoint_save.c and checkpoint_load.c, and the fuzz target. The byte
 * layout is documented in doc/formats.md. */
#ifndef LPC_CHECKPOINT_PARSE_H
#define LPC_CHECKPOINT_PARSE_H
#include "../core/internal.h"

#define LPCI_CK_MAGIC "\x89LPCCKPT" /* 8 bytes */
#define LPCI_CK_VERSION 1u
#define LPCI_CK_BOM 0x0A0B0C0Du /* stored little-endian: 0D 0C 0B 0A */
#define LPCI_CK_HEADER_BYTES 24
#define LPCI_CK_NAME_MAX 255

/* Entry kinds, in the order of their sections in a file. */
enum { LPCI_CK_TENSOR, LPCI_CK_OPTIM, LPCI_CK_SCALAR, LPCI_CK_RNG, LPCI_CK_BLOB, LPCI_CK_KINDS };
extern const char lpci_ck_tags[LPCI_CK_KINDS][5]; /* "TNSR", "OPTM", "SCAL", "RNGS", "BLOB" */
enum { LPCI_CK_U64 = 1, LPCI_CK_F64 = 2 };          /* scalar types */

typedef struct {
    int kind;
    char *name;
    union {
        lpc_tensor *tensor;
        struct {
            int64_t steps;
            int n_groups, n_params;
            double *hyper;       /* lr, weight decay per group */
            int32_t *group;      /* per parameter */
            lpc_tensor **moment; /* m0, v0, m1, v1, ... */
        } opt;
        struct {
            int type;
            uint64_t bits; /* the u64, or the f64's bit pattern */
        } scalar;
        uint64_t rng[LPC_RNG_STATE_WORDS];
        struct {
            uint8_t *data;
            size_t n;
        } blob;
    } u;
} lpci_ck_entry;

struct lpc_checkpoint {
    lpci_ck_entry *entries;
    int n_entries;
    char *source; /* the file it was loaded from (for messages), or NULL */
};

/* Whether name (len bytes) is a valid entry name. */
int lpci_ck_name_ok(const char *name, size_t len);
lpci_ck_entry *lpci_ck_find(const lpc_checkpoint *ck, int kind, const char *name);
/* Appends a zeroed entry of kind with a copy of name (len bytes, already
 * validated and unique); NULL with LPC_E_NOMEM recorded. */
lpci_ck_entry *lpci_ck_append(lpc_checkpoint *ck, int kind, const char *name, size_t len);
/* Frees every entry from index n on (undoes partial additions). */
void lpci_ck_truncate(lpc_checkpoint *ck, int n);
/* How messages name a checkpoint. */
const char *lpci_ck_source(const lpc_checkpoint *ck);

/* Parses a whole checkpoint image; `name` names it in messages. On success
 * *out is a new checkpoint; otherwise *out is NULL and the status is
 * LPC_E_FORMAT (or LPC_E_NOMEM) with the reason recorded. Never reads past
 * buf + n. */
lpc_status lpci_checkpoint_parse(const uint8_t *buf, size_t n, const char *name,
                                 lpc_checkpoint **out);
#endif
