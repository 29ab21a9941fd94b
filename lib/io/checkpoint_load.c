/* Reading checkpoints: every byte is accounted for and every count, size and
 * CRC is checked before it is trusted; a defect is LPC_E_FORMAT naming the
 * file, the problem and its byte offset. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "checkpoint_parse.h"

typedef struct {
    const uint8_t *p;
    size_t off, end; /* absolute offsets into p; reads stay below end */
    const char *src;
    lpc_status status;
} reader;

static int fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->status = lpci_format_error("lpc_checkpoint_load", r->src, r->off, fmt, ap);
    va_end(ap);
    return 0;
}

static int nomem(reader *r)
{
    r->status = lpci_error(LPC_E_NOMEM, "lpc_checkpoint_load: '%s': out of memory", r->src);
    return 0;
}

static size_t left(const reader *r) { return r->end - r->off; }

/* Little-endian unsigned integer of `bytes` bytes. */
static int get(reader *r, int bytes, uint64_t *v, const char *what)
{
    *v = 0;
    if (left(r) < (size_t)bytes)
        return fail(r, "truncated: %s needs %d bytes, %zu left", what, bytes, left(r));
    for (int i = 0; i < bytes; i++)
        *v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += (size_t)bytes;
    return 1;
}

/* Reads an entry name into buf (NUL-terminated) and checks it is new. */
static int get_name(reader *r, lpc_checkpoint *ck, int kind, char buf[LPCI_CK_NAME_MAX + 1])
{
    uint64_t n;
    if (!get(r, 1, &n, "name length"))
        return 0;
    if (left(r) < n)
        return fail(r, "truncated: name of %u bytes", (unsigned)n);
    memcpy(buf, r->p + r->off, n);
    buf[n] = '\0';
    if (!lpci_ck_name_ok(buf, n))
        return fail(r, "invalid entry name of %u bytes", (unsigned)n);
    if (lpci_ck_find(ck, kind, buf))
        return fail(r, "duplicate %s entry '%s'", lpci_ck_tags[kind], buf);
    r->off += n;
    return 1;
}

static int get_shape(reader *r, int *ndim, int64_t shape[LPC_MAX_DIMS], int64_t *numel)
{
    uint64_t v;
    if (!get(r, 4, &v, "ndim"))
        return 0;
    if (v < 1 || v > LPC_MAX_DIMS)
        return fail(r, "tensor with %llu dimensions", (unsigned long long)v);
    *ndim = (int)v;
    *numel = 1;
    for (int i = 0; i < *ndim; i++) {
        if (!get(r, 8, &v, "dimension"))
            return 0;
        if (v < 1 || v > ((uint64_t)1 << 40) / (uint64_t)*numel)
            return fail(r, "tensor dimension %llu is invalid", (unsigned long long)v);
        shape[i] = (int64_t)v;
        *numel *= (int64_t)v;
    }
    return 1;
}

/* numel floats into a new persistent tensor of the given shape. */
static int get_floats(reader *r, int ndim, const int64_t *shape, int64_t numel, lpc_tensor **out)
{
    if (left(r) / 4 < (uint64_t)numel)
        return fail(r, "truncated: %lld floats, %zu bytes left", (long long)numel, left(r));
    lpc_tensor *t = lpc_tensor_new(ndim, shape);
    if (!t)
        return nomem(r);
    t->flags |= LPCI_T_OWNED; /* the checkpoint's, as those of lpc_checkpoint_add_tensor */
    const uint8_t *b = r->p + r->off;
    for (int64_t i = 0; i < numel; i++, b += 4) {
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&t->data[i], &u, 4);
    }
    r->off += (size_t)numel * 4;
    *out = t;
    return 1;
}

static int get_optim(reader *r, lpci_ck_entry *e)
{
    uint64_t v;
    if (!get(r, 8, &v, "step count"))
        return 0;
    if (v > INT64_MAX)
        return fail(r, "step count %llu", (unsigned long long)v);
    e->u.opt.steps = (int64_t)v;
    if (!get(r, 4, &v, "group count"))
        return 0;
    if (v > INT32_MAX || v > left(r) / 16)
        return fail(r, "%llu groups do not fit", (unsigned long long)v);
    e->u.opt.n_groups = (int)v;
    if (!(e->u.opt.hyper = lpci_malloc(16 * v + 1)))
        return nomem(r);
    for (uint64_t g = 0; g < 2 * v; g++) {
        uint64_t bits;
        if (!get(r, 8, &bits, "hyper-parameter"))
            return 0;
        memcpy(&e->u.opt.hyper[g], &bits, 8);
        if (!(e->u.opt.hyper[g] >= 0.0 && isfinite(e->u.opt.hyper[g])))
            return fail(r, "group %llu has an invalid %s", (unsigned long long)(g / 2),
                        g % 2 ? "weight decay" : "learning rate");
    }
    if (!get(r, 4, &v, "parameter count"))
        return 0;
    if (v > INT32_MAX || v > left(r) / 24) /* group, ndim, one dimension, two floats */
        return fail(r, "%llu parameters do not fit", (unsigned long long)v);
    e->u.opt.group = lpci_malloc(4 * v + 1);
    e->u.opt.moment = lpci_calloc(2 * v + 1, sizeof(lpc_tensor *));
    if (!e->u.opt.group || !e->u.opt.moment)
        return nomem(r);
    e->u.opt.n_params = (int)v;
    for (int i = 0; i < e->u.opt.n_params; i++) {
        uint64_t g;
        int ndim;
        int64_t shape[LPC_MAX_DIMS], numel;
        if (!get(r, 4, &g, "parameter group") || !get_shape(r, &ndim, shape, &numel))
            return 0;
        if (g >= (uint64_t)e->u.opt.n_groups)
            return fail(r, "parameter %d is in group %llu of %d", i, (unsigned long long)g,
                        e->u.opt.n_groups);
        e->u.opt.group[i] = (int32_t)g;
        for (int w = 0; w < 2; w++)
            if (!get_floats(r, ndim, shape, numel, &e->u.opt.moment[2 * i + w]))
                return 0;
    }
    return 1;
}

static int get_entry(reader *r, lpc_checkpoint *ck, int kind)
{
    char name[LPCI_CK_NAME_MAX + 1];
    if (!get_name(r, ck, kind, name))
        return 0;
    lpci_ck_entry *e = lpci_ck_append(ck, kind, name, strlen(name));
    if (!e)
        return nomem(r);
    uint64_t v;
    int ndim;
    int64_t shape[LPC_MAX_DIMS], numel;
    switch (kind) {
    case LPCI_CK_TENSOR:
        return get_shape(r, &ndim, shape, &numel) &&
               get_floats(r, ndim, shape, numel, &e->u.tensor);
    case LPCI_CK_OPTIM:
        return get_optim(r, e);
    case LPCI_CK_SCALAR:
        if (!get(r, 1, &v, "scalar type") || !get(r, 8, &e->u.scalar.bits, "scalar"))
            return 0;
        if (v != LPCI_CK_U64 && v != LPCI_CK_F64)
            return fail(r, "scalar '%s' has unknown type %u", name, (unsigned)v);
        e->u.scalar.type = (int)v;
        return 1;
    case LPCI_CK_RNG:
        for (int i = 0; i < LPC_RNG_STATE_WORDS; i++)
            if (!get(r, 8, &e->u.rng[i], "RNG state"))
                return 0;
        if (!(e->u.rng[0] | e->u.rng[1] | e->u.rng[2] | e->u.rng[3]))
            return fail(r, "RNG state '%s' is all zero", name);
        return 1;
    default: /* LPCI_CK_BLOB */
        if (!get(r, 8, &v, "blob size"))
            return 0;
        if (v > left(r))
            return fail(r, "truncated: blob '%s' of %llu bytes", name, (unsigned long long)v);
        if (!(e->u.blob.data = lpci_malloc((size_t)v + 1)))
            return nomem(r);
        memcpy(e->u.blob.data, r->p + r->off, (size_t)v);
        e->u.blob.n = (size_t)v;
        r->off += (size_t)v;
        return 1;
    }
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int get_header(reader *r)
{
    if (left(r) < LPCI_CK_HEADER_BYTES)
        return fail(r, "%zu bytes is too short for a checkpoint", left(r));
    const uint8_t *h = r->p;
    if (memcmp(h, LPCI_CK_MAGIC, 8) != 0)
        return fail(r, "not a liblpc checkpoint (bad magic)");
    if (le32(h + 8) != LPCI_CK_VERSION)
        return fail(r, "format version %u is not supported (this library reads %u)", le32(h + 8),
                    LPCI_CK_VERSION);
    if (le32(h + 12) != LPCI_CK_BOM)
        return fail(r, "bad byte-order mark 0x%08x", le32(h + 12));
    if (le32(h + 16) != LPCI_CK_KINDS)
        return fail(r, "%u sections, expected %d", le32(h + 16), LPCI_CK_KINDS);
    if (le32(h + 20) != (uint32_t)crc32_z(0, h, 20))
        return fail(r, "header CRC mismatch");
    r->off = LPCI_CK_HEADER_BYTES;
    return 1;
}

static int get_section(reader *r, lpc_checkpoint *ck, int kind)
{
    const char *tag = lpci_ck_tags[kind];
    size_t start = r->off;
    uint64_t len, count;
    if (left(r) < 4)
        return fail(r, "truncated before section %s", tag);
    if (memcmp(r->p + r->off, tag, 4) != 0)
        return fail(r, "expected section %s", tag);
    r->off += 4;
    if (!get(r, 8, &len, "section length"))
        return 0;
    if (len > left(r) || left(r) - len < 4)
        return fail(r, "truncated: section %s of %llu bytes, %zu left", tag,
                    (unsigned long long)len, left(r));
    size_t end = r->off + (size_t)len;
    uint32_t want = le32(r->p + end);
    uint32_t have = (uint32_t)crc32_z(0, r->p + start, end - start);
    if (want != have)
        return fail(r, "section %s is corrupt (CRC32 %08x, stored %08x)", tag, have, want);
    reader sub = {r->p, r->off, end, r->src, LPC_OK};
    int ok = get(&sub, 4, &count, "entry count");
    for (uint64_t i = 0; ok && i < count; i++)
        ok = get_entry(&sub, ck, kind);
    if (ok && sub.off != end)
        ok = fail(&sub, "%zu unread bytes at the end of section %s", end - sub.off, tag);
    if (!ok) {
        r->status = sub.status;
        return 0;
    }
    r->off = end + 4;
    return 1;
}

lpc_status lpci_checkpoint_parse(const uint8_t *buf, size_t n, const char *name,
                                 lpc_checkpoint **out)
{
    *out = NULL;
    reader r = {buf, 0, n, name, LPC_OK};
    lpc_checkpoint *ck = lpc_checkpoint_new();
    if (!ck)
        return LPC_E_NOMEM;
    int ok = get_header(&r);
    for (int k = 0; ok && k < LPCI_CK_KINDS; k++)
        ok = get_section(&r, ck, k);
    if (ok && r.off != n)
        ok = fail(&r, "%zu bytes after the last section", n - r.off);
    if (ok && !(ck->source = lpci_malloc(strlen(name) + 1)))
        ok = nomem(&r);
    if (!ok) {
        lpc_checkpoint_free(ck);
        return r.status;
    }
    strcpy(ck->source, name);
    *out = ck;
    return LPC_OK;
}

lpc_status lpc_checkpoint_load(const char *path, lpc_checkpoint **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return lpci_error(LPC_E_ARG, "lpc_checkpoint_load: NULL argument");
    FILE *f = NULL;
    size_t n = 0;
    lpc_status os = lpci_fopen_regular("lpc_checkpoint_load", path, &f, &n);
    if (os != LPC_OK)
        return os;
    uint8_t *buf = lpci_malloc(n + 1);
    if (!buf) {
        fclose(f);
        return lpci_error(LPC_E_NOMEM, "lpc_checkpoint_load: no memory for '%s' (%zu bytes)",
                          path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    lpc_status s = got == n ? lpci_checkpoint_parse(buf, n, path, out)
                            : lpci_error(LPC_E_IO, "lpc_checkpoint_load: reading '%s': %s", path,
                                         err ? strerror(err) : "file shrank while reading");
    lpci_free(buf);
    return s;
}
