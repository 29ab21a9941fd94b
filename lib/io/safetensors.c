/* safetensors files: loading, the getters, and restoring a module from a
 * loaded file (the reader itself is safetensors_parse.c, the writer
 * safetensors_save.c). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "../data/parse.h"
#include "../nn/module_internal.h"
#include "safetensors_names.h"
#include "safetensors_parse.h"

lpc_status lpc_safetensors_load(const char *path, lpc_safetensors **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_safetensors_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return lpci_error(LPC_E_ARG, "lpc_safetensors_load: NULL or empty path");
    uint8_t *buf = NULL;
    size_t n = 0;
    /* A regular file is read whole (lpci_read_file refuses FIFOs and
     * devices); the parser checks that its header covers every byte. */
    lpc_status s = lpci_read_file(path, SIZE_MAX - 1, &buf, &n);
    if (s != LPC_OK)
        return s;
    s = lpci_safetensors_parse(buf, n, path, out);
    lpci_free(buf);
    return s;
}

void lpc_safetensors_free(lpc_safetensors *st)
{
    if (!st)
        return;
    for (int k = 0; k < st->n_entries; k++)
        lpci_free(st->entries[k].name);
    for (int k = 0; k < st->n_meta; k++) {
        lpci_free(st->meta[k].key);
        lpci_free(st->meta[k].value);
    }
    lpci_free(st->entries);
    lpci_free(st->by_name);
    lpci_free(st->meta);
    lpci_free(st->data);
    lpci_free(st->source);
    lpci_free(st);
}

static const lpci_st_entry *entry(const lpc_safetensors *st, int i)
{
    return st && i >= 0 && i < st->n_entries ? &st->entries[i] : NULL;
}

int lpc_safetensors_num_tensors(const lpc_safetensors *st) { return st ? st->n_entries : -1; }

const char *lpc_safetensors_tensor_name(const lpc_safetensors *st, int i)
{
    const lpci_st_entry *e = entry(st, i);
    return e ? e->name : NULL;
}

const char *lpc_safetensors_tensor_dtype(const lpc_safetensors *st, int i)
{
    const lpci_st_entry *e = entry(st, i);
    return e ? e->dtype : NULL;
}

int lpc_safetensors_tensor_ndim(const lpc_safetensors *st, int i)
{
    const lpci_st_entry *e = entry(st, i);
    return e ? e->ndim : -1;
}

int64_t lpc_safetensors_tensor_dim(const lpc_safetensors *st, int i, int d)
{
    const lpci_st_entry *e = entry(st, i);
    return e && d >= 0 && d < e->ndim ? e->shape[d] : -1;
}

const char *lpc_safetensors_metadata(const lpc_safetensors *st, const char *key)
{
    for (int k = 0; st && key && k < st->n_meta; k++)
        if (strcmp(st->meta[k].key, key) == 0)
            return st->meta[k].value;
    return NULL;
}

static const char *shape_str(const lpci_st_entry *e, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < e->ndim && off < n; d++)
        off += (size_t)snprintf(buf + off, n - off, d ? ", %lld" : "%lld", (long long)e->shape[d]);
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

/* Finds the file entry for module tensor t called file_name and checks its
 * dtype and shape; *k receives its index. */
static lpc_status match(const lpc_safetensors *st, const char *file_name, const lpc_tensor *t,
                        int *k)
{
    const char *fn = "lpc_safetensors_restore_module";
    *k = lpci_st_find(st, file_name);
    if (*k < 0)
        return lpci_error(LPC_E_FORMAT, "%s: '%s' has no tensor '%s' that the module needs", fn,
                          st->source, file_name);
    const lpci_st_entry *e = &st->entries[*k];
    if (strcmp(e->dtype, "F32") != 0)
        return lpci_error(LPC_E_FORMAT, "%s: '%s': tensor '%s' is %s, the module needs F32", fn,
                          st->source, file_name, e->dtype);
    int same = e->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++)
        same = e->shape[d] == t->shape[d];
    if (!same) {
        char a[128], b[64];
        return lpci_error(LPC_E_SHAPE, "%s: '%s': tensor '%s' has shape %s, the module [%s]", fn,
                          st->source, file_name, shape_str(e, a, sizeof a),
                          lpci_shape_str(t, b, sizeof b));
    }
    return LPC_OK;
}

/* Little-endian float32 bytes into floats. */
static void decode_f32(const uint8_t *src, float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(&dst[i], &u, 4);
    }
}

lpc_status lpc_safetensors_restore_module(const lpc_safetensors *st, const char *prefix,
                                          lpc_module *m, lpc_name_style names)
{
    const char *fn = "lpc_safetensors_restore_module";
    if (!st || !m)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    if (names != LPC_NAMES_NATIVE && names != LPC_NAMES_TORCHVISION)
        return lpci_error(LPC_E_ARG, "%s: unknown name style %d", fn, (int)names);
    int np = lpc_module_num_params(m), nt = np + lpc_module_num_buffers(m);
    int *found = lpci_malloc((size_t)(nt ? nt : 1) * sizeof *found);
    uint8_t *used = lpci_calloc((size_t)(st->n_entries ? st->n_entries : 1), 1);
    lpc_status s = found && used ? LPC_OK : lpci_error(LPC_E_NOMEM, "%s: out of memory", fn);
    /* Every module tensor has its entry... */
    for (int i = 0; s == LPC_OK && i < nt; i++) {
        const char *name;
        lpc_tensor *t = lpci_st_module_tensor(m, i, np, &name);
        char full[LPCI_ST_NAME_MAX + 1];
        if (!lpci_st_map_name(full, sizeof full, prefix, name, names))
            s = lpci_error(LPC_E_FORMAT, "%s: name '%s' is too long", fn, name);
        else if ((s = match(st, full, t, &found[i])) == LPC_OK)
            used[found[i]] = 1;
    }
    /* ...and every entry under the prefix belongs to the module. */
    size_t plen = prefix ? strlen(prefix) : 0;
    for (int k = 0; s == LPC_OK && k < st->n_entries; k++) {
        const char *name = st->entries[k].name;
        if (used[k] || strncmp(name, prefix ? prefix : "", plen) != 0)
            continue;
        if (names == LPC_NAMES_TORCHVISION && lpci_st_is_batch_counter(st, k))
            continue;
        s = lpci_error(LPC_E_FORMAT, "%s: '%s' has tensor '%s' that the module does not have",
                       fn, st->source, name);
    }
    for (int i = 0; s == LPC_OK && i < nt; i++) {
        const lpci_st_entry *e = &st->entries[found[i]];
        lpc_tensor *t = lpci_st_module_tensor(m, i, np, NULL);
        decode_f32(st->data + e->begin, t->data, t->numel);
    }
    lpci_free(found);
    lpci_free(used);
    return s;
}
