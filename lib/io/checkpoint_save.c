/* Writing checkpoints (layout in doc/formats.md): everything little-endian,
 * one CRC32 per section, written atomically (atomic.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "atomic.h"
#include "checkpoint_parse.h"

/* Byte sink: a file, or (f == NULL) a counter that only measures sizes. */
typedef struct {
    FILE *f;
    uint64_t count;
    uLong crc;
    int err; /* first errno */
} writer;

static void put(writer *w, const void *p, size_t n)
{
    w->count += n;
    if (!w->f)
        return;
    w->crc = crc32_z(w->crc, p, n);
    if (!w->err && fwrite(p, 1, n, w->f) != n)
        w->err = errno ? errno : EIO;
}

static void put_u64(writer *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

static void put_name(writer *w, const char *name)
{
    size_t n = strlen(name);
    put_u64(w, n, 1);
    put(w, name, n);
}

static void put_floats(writer *w, const float *x, int64_t n)
{
    if (!w->f) {
        w->count += (uint64_t)n * 4;
        return;
    }
    uint8_t buf[4096];
    for (int64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof buf && i < n; k += 4, i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            for (int j = 0; j < 4; j++)
                buf[k + j] = (uint8_t)(u >> (8 * j));
        }
        put(w, buf, k);
    }
}

static void put_shape(writer *w, const lpc_tensor *t)
{
    put_u64(w, (uint64_t)t->ndim, 4);
    for (int i = 0; i < t->ndim; i++)
        put_u64(w, (uint64_t)t->shape[i], 8);
}

static void put_entry(writer *w, const lpci_ck_entry *e)
{
    put_name(w, e->name);
    switch (e->kind) {
    case LPCI_CK_TENSOR:
        put_shape(w, e->u.tensor);
        put_floats(w, e->u.tensor->data, e->u.tensor->numel);
        break;
    case LPCI_CK_OPTIM:
        put_u64(w, (uint64_t)e->u.opt.steps, 8);
        put_u64(w, (uint64_t)e->u.opt.n_groups, 4);
        for (int g = 0; g < 2 * e->u.opt.n_groups; g++) {
            uint64_t bits;
            memcpy(&bits, &e->u.opt.hyper[g], 8);
            put_u64(w, bits, 8);
        }
        put_u64(w, (uint64_t)e->u.opt.n_params, 4);
        for (int i = 0; i < e->u.opt.n_params; i++) {
            const lpc_tensor *m = e->u.opt.moment[2 * i], *v = e->u.opt.moment[2 * i + 1];
            put_u64(w, (uint64_t)e->u.opt.group[i], 4);
            put_shape(w, m);
            put_floats(w, m->data, m->numel);
            put_floats(w, v->data, v->numel);
        }
        break;
    case LPCI_CK_SCALAR:
        put_u64(w, (uint64_t)e->u.scalar.type, 1);
        put_u64(w, e->u.scalar.bits, 8);
        break;
    case LPCI_CK_RNG:
        for (int i = 0; i < LPC_RNG_STATE_WORDS; i++)
            put_u64(w, e->u.rng[i], 8);
        break;
    case LPCI_CK_BLOB:
        put_u64(w, e->u.blob.n, 8);
        put(w, e->u.blob.data, e->u.blob.n);
        break;
    }
}

static void put_payload(writer *w, const lpc_checkpoint *ck, int kind)
{
    uint32_t count = 0;
    for (int i = 0; i < ck->n_entries; i++)
        count += ck->entries[i].kind == kind;
    put_u64(w, count, 4);
    for (int i = 0; i < ck->n_entries; i++)
        if (ck->entries[i].kind == kind)
            put_entry(w, &ck->entries[i]);
}

static void put_file(writer *w, const lpc_checkpoint *ck)
{
    w->crc = crc32_z(0, NULL, 0);
    put(w, LPCI_CK_MAGIC, 8);
    put_u64(w, LPCI_CK_VERSION, 4);
    put_u64(w, LPCI_CK_BOM, 4);
    put_u64(w, LPCI_CK_KINDS, 4);
    put_u64(w, w->crc, 4);
    for (int k = 0; k < LPCI_CK_KINDS; k++) {
        writer size = {0};
        put_payload(&size, ck, k);
        w->crc = crc32_z(0, NULL, 0);
        put(w, lpci_ck_tags[k], 4);
        put_u64(w, size.count, 8);
        put_payload(w, ck, k);
        put_u64(w, w->crc, 4);
    }
}

lpc_status lpc_checkpoint_save(const lpc_checkpoint *ck, const char *path)
{
    if (!ck || !path || !*path)
        return lpci_error(LPC_E_ARG, "lpc_checkpoint_save: NULL checkpoint or empty path");
    lpci_atomic a;
    lpc_status s = lpci_atomic_open(&a, "lpc_checkpoint_save", path);
    if (s != LPC_OK)
        return s;
    writer w = {.f = a.f};
    put_file(&w, ck);
    a.err = w.err;
    return lpci_atomic_commit(&a, "lpc_checkpoint_save");
}
