/* Writing a module as a safetensors file: the JSON header (metadata, then
 * the tensors in module order with ascending offsets, padded with spaces to
 * a multiple of 8 bytes as the reference writer does), then the float32 data
 * little-endian, through an atomic replacement of path (atomic.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <lpc/version.h>
#include "safetensors_names.h"
#include "atomic.h"

/* A growing string; `failed` once an allocation failed. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void append(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *p = lpci_realloc(t->s, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void append_str(text *t, const char *s) { append(t, s, strlen(s)); }

static void appendf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(text *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    append(t, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Length of the UTF-8 sequence at s (1 to 4 bytes, no overlong form, no
 * surrogate, at most U+10FFFF), 0 when s does not start one. */
static int utf8_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
            : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

/* A JSON string: quotes, backslashes and control characters escaped; other
 * characters as they are. LPC_E_ARG naming `what` when s is not UTF-8 or
 * longer, escaped, than the reader takes (LPCI_ST_NAME_MAX bytes). */
static lpc_status append_string(text *t, const char *s, const char *what)
{
    const char *fn = "lpc_safetensors_save_module";
    size_t escaped = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        int n = utf8_length(c);
        if (!n)
            return lpci_error(LPC_E_ARG, "%s: %s is not UTF-8 (byte 0x%02x at offset %zu)", fn,
                              what, *c, (size_t)((const char *)c - s));
        escaped += *c == '"' || *c == '\\' ? 2 : *c < 0x20 ? 6 : (size_t)n;
        c += n;
    }
    if (escaped > LPCI_ST_NAME_MAX)
        return lpci_error(LPC_E_ARG, "%s: %s takes %zu bytes in JSON, more than the %d a "
                          "safetensors string may have", fn, what, escaped, LPCI_ST_NAME_MAX);
    append(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            appendf(t, "\\%c", c);
        else if (c < 0x20)
            appendf(t, "\\u%04x", c);
        else
            append(t, s, 1);
    }
    append(t, "\"", 1);
    return LPC_OK;
}

static lpc_status append_entry(text *t, const char *name, const char *dtype,
                               const lpc_tensor *shape, uint64_t *offset, uint64_t bytes)
{
    append(t, ",", 1);
    char what[64];
    snprintf(what, sizeof what, "tensor name '%.32s%s'", name, strlen(name) > 32 ? "..." : "");
    lpc_status s = append_string(t, name, what);
    if (s != LPC_OK)
        return s;
    appendf(t, ":{\"dtype\":\"%s\",\"shape\":[", dtype);
    for (int d = 0; shape && d < shape->ndim; d++)
        appendf(t, d ? ",%lld" : "%lld", (long long)shape->shape[d]);
    appendf(t, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)*offset,
            (unsigned long long)(*offset + bytes));
    *offset += bytes;
    return LPC_OK;
}

/* The whole header. */
static lpc_status build_header(text *t, lpc_module *m, const char *prefix, lpc_name_style names,
                        const char *description)
{
    const char *fn = "lpc_safetensors_save_module";
    append_str(t, "{\"__metadata__\":{\"format\":\"pt\",\"liblpc_version\":");
    lpc_status s = append_string(t, lpc_version_string(), "the version");
    if (s == LPC_OK && description) {
        append_str(t, ",\"description\":");
        s = append_string(t, description, "the description");
    }
    if (s != LPC_OK)
        return s;
    append(t, "}", 1);
    int np = lpc_module_num_params(m), nt = np + lpc_module_num_buffers(m);
    uint64_t offset = 0;
    for (int i = 0; i < nt; i++) {
        const char *name;
        const lpc_tensor *x = lpci_st_module_tensor(m, i, np, &name);
        char full[LPCI_ST_NAME_MAX + 1];
        if (!lpci_st_map_name(full, sizeof full, prefix, name, names))
            return lpci_error(LPC_E_ARG, "%s: name '%s' is too long", fn, name);
        if ((s = append_entry(t, full, "F32", x, &offset, (uint64_t)x->numel * 4)) != LPC_OK)
            return s;
        if (names == LPC_NAMES_TORCHVISION && i >= np && lpci_st_is_bn_var(name)) {
            size_t base = strlen(full) - strlen("running_var");
            if (base + strlen("num_batches_tracked") >= sizeof full)
                return lpci_error(LPC_E_ARG, "%s: name '%s' is too long", fn, name);
            strcpy(full + base, "num_batches_tracked");
            if ((s = append_entry(t, full, "I64", NULL, &offset, 8)) != LPC_OK)
                return s;
        }
    }
    append(t, "}", 1);
    while ((8 + t->len) % 8)
        append(t, " ", 1);
    if (t->failed)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", fn);
    if (t->len > LPCI_ST_MAX_HEADER) /* the reader's limit */
        return lpci_error(LPC_E_ARG, "%s: the header takes %zu bytes, more than the %llu a "
                          "safetensors file may have", fn, t->len,
                          (unsigned long long)LPCI_ST_MAX_HEADER);
    return LPC_OK;
}

/* Data in header order; returns the first errno, 0 on success. */
static int write_data(FILE *f, lpc_module *m, lpc_name_style names, const char *header,
                      size_t hlen)
{
    uint8_t len[8];
    for (int k = 0; k < 8; k++)
        len[k] = (uint8_t)((uint64_t)hlen >> (8 * k));
    if (fwrite(len, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen)
        return errno ? errno : EIO;
    int np = lpc_module_num_params(m), nt = np + lpc_module_num_buffers(m);
    uint8_t buf[4096];
    for (int i = 0; i < nt; i++) {
        const char *name;
        const lpc_tensor *x = lpci_st_module_tensor(m, i, np, &name);
        for (int64_t j = 0; j < x->numel;) {
            size_t k = 0;
            for (; k < sizeof buf && j < x->numel; k += 4, j++) {
                uint32_t u;
                memcpy(&u, &x->data[j], 4);
                for (int b = 0; b < 4; b++)
                    buf[k + b] = (uint8_t)(u >> (8 * b));
            }
            if (fwrite(buf, 1, k, f) != k)
                return errno ? errno : EIO;
        }
        if (names == LPC_NAMES_TORCHVISION && i >= np && lpci_st_is_bn_var(name)) {
            static const uint8_t zero[8];
            if (fwrite(zero, 1, 8, f) != 8)
                return errno ? errno : EIO;
        }
    }
    return 0;
}

/* header + data through an atomic replacement of path (atomic.h). */
static lpc_status write_atomically(const char *path, lpc_module *m, lpc_name_style names,
                                   const text *header)
{
    const char *fn = "lpc_safetensors_save_module";
    lpci_atomic a;
    lpc_status s = lpci_atomic_open(&a, fn, path);
    if (s != LPC_OK)
        return s;
    errno = 0;
    a.err = write_data(a.f, m, names, header->s, header->len);
    return lpci_atomic_commit(&a, fn);
}

lpc_status lpc_safetensors_save_module(const char *path, lpc_module *m, const char *prefix,
                                       lpc_name_style names, const char *description)
{
    const char *fn = "lpc_safetensors_save_module";
    if (!path || !*path || !m)
        return lpci_error(LPC_E_ARG, "%s: NULL module or empty path", fn);
    if (names != LPC_NAMES_NATIVE && names != LPC_NAMES_TORCHVISION)
        return lpci_error(LPC_E_ARG, "%s: unknown name style %d", fn, (int)names);
    text header = {0};
    lpc_status s = build_header(&header, m, prefix, names, description);
    if (s == LPC_OK)
        s = write_atomically(path, m, names, &header);
    lpci_free(header.s);
    return s;
}
