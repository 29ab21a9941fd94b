/* The safetensors reader: the 8-byte header length, then a small strict
 * JSON parser for the one shape of header the format allows (an object of
 * tensor objects and one "__metadata__" object of strings), then checks
 * that the tensors' byte ranges fit their dtypes and shapes and tile the
 * data exactly. Every defect is LPC_E_FORMAT naming the file, the problem
 * and its byte offset; nothing is read past the buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "safetensors_parse.h"

static const struct {
    const char *name;
    int size;
} dtypes[] = {{"BOOL", 1}, {"U8", 1},       {"I8", 1},       {"F8_E5M2", 1}, {"F8_E4M3", 1},
              {"I16", 2},  {"U16", 2},      {"F16", 2},      {"BF16", 2},    {"I32", 4},
              {"U32", 4},  {"F32", 4},      {"F64", 8},      {"I64", 8},     {"U64", 8}};

typedef struct {
    const char *s; /* the JSON header */
    size_t n, i;   /* its length and the cursor */
    const char *src;
    lpc_status status;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    if (p->status != LPC_OK)
        return 0; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    p->status = lpci_format_error("lpc_safetensors_load", p->src, p->i + 8, fmt, ap);
    va_end(ap);
    return 0;
}

static int nomem(parser *p)
{
    if (p->status == LPC_OK)
        p->status = lpci_error(LPC_E_NOMEM, "lpc_safetensors_load: '%s': out of memory", p->src);
    return 0;
}

static void skip_space(parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

/* Consumes character c (after whitespace). */
static int expect(parser *p, char c)
{
    skip_space(p);
    if (p->i >= p->n || p->s[p->i] != c)
        return fail(p, "expected '%c'", c);
    p->i++;
    return 1;
}

/* Consumes c if it comes next; 1 when it did. */
static int accept(parser *p, char c)
{
    skip_space(p);
    if (p->i < p->n && p->s[p->i] == c) {
        p->i++;
        return 1;
    }
    return 0;
}

static int hex4(parser *p, unsigned *v)
{
    *v = 0;
    if (p->n - p->i < 4)
        return fail(p, "truncated \\u escape");
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return fail(p, "bad hex digit in \\u escape");
        *v = *v << 4 | (unsigned)d;
    }
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string into a fresh NUL-terminated buffer (*out, lpci_free it).
 * Escapes are decoded (a decoded output is never longer than its source);
 * control characters and \u0000 are refused. */
static int string(parser *p, char **out)
{
    *out = NULL;
    if (!expect(p, '"'))
        return 0;
    size_t start = p->i;
    while (p->i < p->n && p->s[p->i] != '"')
        p->i += p->s[p->i] == '\\' ? 2 : 1;
    if (p->i >= p->n)
        return fail(p, "unterminated string");
    size_t end = p->i;
    if (end - start > LPCI_ST_NAME_MAX)
        return fail(p, "string longer than %d bytes", LPCI_ST_NAME_MAX);
    char *o = lpci_malloc(end - start + 1);
    if (!o)
        return nomem(p);
    size_t k = 0;
    for (p->i = start; p->i < end;) {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c < 0x20) {
            lpci_free(o);
            return fail(p, "control character in a string");
        }
        if (c != '\\') {
            o[k++] = (char)c;
            continue;
        }
        char e = p->s[p->i++]; /* the scan above guarantees it exists */
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            o[k++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        int ok = e == 'u' && p->i <= end && hex4(p, &cp) && p->i <= end;
        if (ok && cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
            ok = p->i + 2 <= end && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u' &&
                 (p->i += 2, hex4(p, &lo)) && p->i <= end && lo >= 0xDC00 && lo < 0xE000;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (ok && cp >= 0xDC00 && cp < 0xE000) {
            ok = 0;
        }
        if (!ok || cp == 0) {
            lpci_free(o);
            return fail(p, "bad escape in a string");
        }
        k += put_utf8(o + k, cp);
    }
    o[k] = '\0';
    p->i = end + 1;
    *out = o;
    return 1;
}

/* A non-negative integer without sign, fraction or exponent, < 2^62. */
static int integer(parser *p, uint64_t *v)
{
    skip_space(p);
    *v = 0;
    size_t start = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        if (*v >= (UINT64_C(1) << 62) / 10)
            return fail(p, "integer too large");
        *v = *v * 10 + (uint64_t)(p->s[p->i++] - '0');
    }
    if (p->i == start)
        return fail(p, "expected a non-negative integer");
    if (p->s[start] == '0' && p->i - start > 1)
        return fail(p, "integer with a leading zero");
    return 1;
}

/* [a, b, ...] of at most max integers; *count receives their number. */
static int int_array(parser *p, uint64_t *v, int max, int *count, const char *what)
{
    *count = 0;
    if (!expect(p, '['))
        return 0;
    if (accept(p, ']'))
        return 1;
    do {
        if (*count == max)
            return fail(p, "%s has more than %d entries", what, max);
        if (!integer(p, &v[(*count)++]))
            return 0;
    } while (accept(p, ','));
    return expect(p, ']');
}

static int dtype(parser *p, lpci_st_entry *e)
{
    char *s;
    if (!string(p, &s))
        return 0;
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
        if (strcmp(s, dtypes[k].name) == 0) {
            e->dtype = dtypes[k].name;
            e->elem_size = dtypes[k].size;
        }
    int ok = e->dtype != NULL || fail(p, "unknown dtype '%.20s' of '%.64s'", s, e->name);
    lpci_free(s);
    return ok;
}

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]}, each key once. */
static int tensor(parser *p, lpci_st_entry *e)
{
    int seen[3] = {0, 0, 0};
    uint64_t v[LPCI_ST_MAX_DIMS];
    int count;
    if (!expect(p, '{'))
        return 0;
    do {
        char *key;
        if (!string(p, &key))
            return 0;
        int which = strcmp(key, "dtype") == 0 ? 0 : strcmp(key, "shape") == 0 ? 1
                    : strcmp(key, "data_offsets") == 0 ? 2 : -1;
        lpci_free(key);
        if (which < 0 || seen[which])
            return fail(p, "unknown or repeated key in the entry of '%.64s'", e->name);
        seen[which] = 1;
        if (!expect(p, ':'))
            return 0;
        if (which == 0 && !dtype(p, e))
            return 0;
        if (which == 1) {
            if (!int_array(p, v, LPCI_ST_MAX_DIMS, &count, "shape"))
                return 0;
            e->ndim = count;
            for (int d = 0; d < count; d++)
                e->shape[d] = (int64_t)v[d];
        }
        if (which == 2) {
            if (!int_array(p, v, 2, &count, "data_offsets"))
                return 0;
            if (count != 2 || v[0] > v[1])
                return fail(p, "data_offsets of '%.64s' are not [begin, end]", e->name);
            e->begin = v[0];
            e->end = v[1];
        }
    } while (accept(p, ','));
    if (!expect(p, '}'))
        return 0;
    if (!seen[0] || !seen[1] || !seen[2])
        return fail(p, "the entry of '%.64s' lacks dtype, shape or data_offsets", e->name);
    return 1;
}

static int metadata(parser *p, lpc_safetensors *st)
{
    if (st->meta)
        return fail(p, "two __metadata__ entries");
    st->meta = lpci_calloc(1, sizeof *st->meta); /* marks it as seen, even when empty */
    if (!st->meta)
        return nomem(p);
    if (!expect(p, '{'))
        return 0;
    if (accept(p, '}'))
        return 1;
    do {
        lpci_st_meta *m = lpci_realloc(st->meta, (size_t)(st->n_meta + 1) * sizeof *m);
        if (!m)
            return nomem(p);
        st->meta = m;
        m = &st->meta[st->n_meta];
        *m = (lpci_st_meta){0};
        st->n_meta++;
        if (!string(p, &m->key) || !expect(p, ':') || !string(p, &m->value))
            return 0;
        for (int k = 0; k + 1 < st->n_meta; k++)
            if (strcmp(st->meta[k].key, m->key) == 0)
                return fail(p, "repeated metadata key '%.64s'", m->key);
    } while (accept(p, ','));
    return expect(p, '}');
}

static int header(parser *p, lpc_safetensors *st)
{
    if (!expect(p, '{'))
        return 0;
    if (!accept(p, '}')) {
        do {
            char *name;
            if (!string(p, &name))
                return 0;
            if (strcmp(name, "__metadata__") == 0) {
                lpci_free(name);
                if (!expect(p, ':') || !metadata(p, st))
                    return 0;
                continue;
            }
            lpci_st_entry *e = lpci_realloc(st->entries,
                                            (size_t)(st->n_entries + 1) * sizeof *e);
            if (!e) {
                lpci_free(name);
                return nomem(p);
            }
            st->entries = e;
            e = &st->entries[st->n_entries++];
            *e = (lpci_st_entry){.name = name};
            if (!*name)
                return fail(p, "empty tensor name");
            if (!expect(p, ':') || !tensor(p, e))
                return 0;
        } while (accept(p, ','));
        if (!expect(p, '}'))
            return 0;
    }
    skip_space(p);
    return p->i == p->n || fail(p, "bytes after the header object");
}

static const lpc_safetensors *sort_st; /* qsort has no context argument */

static int by_name(const void *a, const void *b)
{
    return strcmp(sort_st->entries[*(const int *)a].name, sort_st->entries[*(const int *)b].name);
}

static int by_offset(const void *a, const void *b)
{
    const lpci_st_entry *x = &sort_st->entries[*(const int *)a];
    const lpci_st_entry *y = &sort_st->entries[*(const int *)b];
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Each entry's byte count fits its dtype and shape, names are unique and
 * the ranges tile [0, data_len) exactly. Leaves st->by_name sorted. */
static int check_entries(parser *p, lpc_safetensors *st)
{
    for (int k = 0; k < st->n_entries; k++) {
        lpci_st_entry *e = &st->entries[k];
        size_t bytes = (size_t)e->elem_size;
        for (int d = 0; d < e->ndim; d++)
            if (lpci_mul_size(bytes, (size_t)e->shape[d], &bytes) != 0)
                return fail(p, "shape of '%.64s' is too large", e->name);
        if (e->end - e->begin != bytes)
            return fail(p, "'%.64s' has %llu bytes, its %s shape needs %zu", e->name,
                        (unsigned long long)(e->end - e->begin), e->dtype, bytes);
    }
    int *order = lpci_malloc((size_t)(st->n_entries ? st->n_entries : 1) * sizeof *order);
    if (!order)
        return nomem(p);
    for (int k = 0; k < st->n_entries; k++)
        order[k] = k;
    sort_st = st;
    qsort(order, (size_t)st->n_entries, sizeof *order, by_offset);
    uint64_t at = 0;
    int ok = 1;
    for (int k = 0; ok && k < st->n_entries; k++) {
        const lpci_st_entry *e = &st->entries[order[k]];
        if (e->begin != at)
            ok = fail(p, "data of '%.64s' starts at %llu, expected %llu (hole or overlap)",
                      e->name, (unsigned long long)e->begin, (unsigned long long)at);
        at = e->end;
    }
    if (ok && at != st->data_len)
        ok = fail(p, "tensors cover %llu data bytes, the file has %zu", (unsigned long long)at,
                  st->data_len);
    qsort(order, (size_t)st->n_entries, sizeof *order, by_name);
    for (int k = 0; ok && k + 1 < st->n_entries; k++)
        if (strcmp(st->entries[order[k]].name, st->entries[order[k + 1]].name) == 0)
            ok = fail(p, "tensor '%.64s' appears twice", st->entries[order[k]].name);
    st->by_name = order;
    return ok;
}

int lpci_st_find(const lpc_safetensors *st, const char *name)
{
    int lo = 0, hi = st->n_entries;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->entries[st->by_name[mid]].name, name);
        if (c == 0)
            return st->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

lpc_status lpci_safetensors_parse(const uint8_t *buf, size_t n, const char *name,
                                  lpc_safetensors **out)
{
    *out = NULL;
    parser p = {.src = name ? name : "(buffer)"};
    uint64_t hlen = 0;
    if (n < 8)
        return lpci_error(LPC_E_FORMAT, "lpc_safetensors_load: '%s' refused: %zu bytes, shorter "
                          "than the 8-byte header length", p.src, n);
    for (int k = 0; k < 8; k++)
        hlen |= (uint64_t)buf[k] << (8 * k);
    if (hlen < 2 || hlen > LPCI_ST_MAX_HEADER || hlen > n - 8)
        return lpci_error(LPC_E_FORMAT, "lpc_safetensors_load: '%s' refused: header length %llu "
                          "does not fit the %zu-byte file", p.src, (unsigned long long)hlen, n);
    lpc_safetensors *st = lpci_calloc(1, sizeof *st);
    size_t len = strlen(p.src) + 1;
    if (!st || !(st->source = lpci_malloc(len))) {
        lpci_free(st);
        return lpci_error(LPC_E_NOMEM, "lpc_safetensors_load: '%s': out of memory", p.src);
    }
    memcpy(st->source, p.src, len);
    p.s = (const char *)buf + 8;
    p.n = (size_t)hlen;
    st->data_len = n - 8 - (size_t)hlen;
    if (header(&p, st) && check_entries(&p, st)) {
        st->data = lpci_malloc(st->data_len ? st->data_len : 1);
        if (st->data)
            memcpy(st->data, buf + 8 + hlen, st->data_len);
        else
            nomem(&p);
    }
    if (p.status != LPC_OK) {
        lpc_safetensors_free(st);
        return p.status;
    }
    *out = st;
    return LPC_OK;
}
