/* NumPy .npy reader and writer. The header is a Python dict literal with
 * exactly the keys 'descr', 'fortran_order' and 'shape'; the parser accepts
 * what NumPy's own reader accepts for those (either quote, any order,
 * whitespace, trailing commas) and nothing it would reject. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../core/internal.h"
#include "atomic.h"
#include "npy_parse.h"

#define GROWTH_DIGITS 21 /* NumPy >= 1.24 leaves room for shape[0] to grow */

struct lpc_npy {
    lpci_npy_header h;
    void *data; /* numel * itemsize bytes, host byte order */
};

/* ---- parsing ---- */

typedef struct {
    const char *s;
    size_t n, i;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' ||
                           c->s[c->i] == '\r'))
        c->i++;
}

static int eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into out (cap bytes incl. NUL). */
static int parse_string(cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->i >= c->n || (c->s[c->i] != '\'' && c->s[c->i] != '"'))
        return 0;
    char q = c->s[c->i++];
    size_t len = 0;
    while (c->i < c->n && c->s[c->i] != q) {
        if (c->s[c->i] == '\\' || len + 1 >= cap)
            return 0;
        out[len++] = c->s[c->i++];
    }
    if (c->i >= c->n)
        return 0;
    c->i++;
    out[len] = '\0';
    return 1;
}

static int parse_word(cursor *c, const char *word)
{
    skip_ws(c);
    size_t len = strlen(word);
    if (c->n - c->i < len || memcmp(c->s + c->i, word, len) != 0)
        return 0;
    c->i += len;
    return 1;
}

static int parse_dim(cursor *c, int64_t *v)
{
    skip_ws(c);
    if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9')
        return 0;
    int64_t x = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        int d = c->s[c->i++] - '0';
        if (x > (INT64_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* "()", "(n,)", "(n, m)", "(n, m,)" ... */
static int parse_shape(cursor *c, lpci_npy_header *h)
{
    if (!eat(c, '('))
        return 0;
    h->ndim = 0;
    if (eat(c, ')'))
        return 1;
    for (;;) {
        if (h->ndim == LPC_NPY_MAX_DIMS || !parse_dim(c, &h->shape[h->ndim]))
            return 0;
        h->ndim++;
        int comma = eat(c, ',');
        if (eat(c, ')'))
            return h->ndim > 1 || comma; /* "(3)" is an int, not a tuple */
        if (!comma)
            return 0;
    }
}

static int parse_descr(const char *d, lpci_npy_header *h)
{
    static const struct {
        const char *name;
        lpc_npy_dtype dtype;
        size_t size;
    } known[] = {{"f4", LPC_NPY_FLOAT32, 4}, {"f8", LPC_NPY_FLOAT64, 8},
                 {"i4", LPC_NPY_INT32, 4}, {"i8", LPC_NPY_INT64, 8}};
    if (d[0] != '<')
        return 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(d + 1, known[i].name) == 0) {
            h->dtype = known[i].dtype;
            h->itemsize = known[i].size;
            return 1;
        }
    return 0;
}

static lpc_status parse_dict(cursor *c, lpci_npy_header *h)
{
    const char *fn = "npy";
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    if (!eat(c, '{'))
        return lpci_error(LPC_E_FORMAT, "%s: header is not a dict", fn);
    while (!eat(c, '}')) {
        char key[32], descr[32];
        if (!parse_string(c, key, sizeof key) || !eat(c, ':'))
            return lpci_error(LPC_E_FORMAT, "%s: malformed header key", fn);
        if (strcmp(key, "descr") == 0 && !seen_descr++) {
            if (!parse_string(c, descr, sizeof descr))
                return lpci_error(LPC_E_FORMAT, "%s: 'descr' is not a string", fn);
            if (descr[0] == '>')
                return lpci_error(LPC_E_FORMAT, "%s: big-endian data ('%s') is not supported",
                                  fn, descr);
            if (!parse_descr(descr, h))
                return lpci_error(LPC_E_FORMAT, "%s: unsupported dtype '%s' (need <f4, <f8, "
                                  "<i4 or <i8)", fn, descr);
        } else if (strcmp(key, "fortran_order") == 0 && !seen_order++) {
            if (parse_word(c, "True"))
                return lpci_error(LPC_E_FORMAT, "%s: fortran_order True is not supported", fn);
            if (!parse_word(c, "False"))
                return lpci_error(LPC_E_FORMAT, "%s: 'fortran_order' is not a bool", fn);
        } else if (strcmp(key, "shape") == 0 && !seen_shape++) {
            if (!parse_shape(c, h))
                return lpci_error(LPC_E_FORMAT, "%s: malformed 'shape' tuple", fn);
        } else {
            return lpci_error(LPC_E_FORMAT, "%s: unexpected or repeated header key '%s'", fn,
                              key);
        }
        if (!eat(c, ',')) {
            if (!eat(c, '}'))
                return lpci_error(LPC_E_FORMAT, "%s: expected ',' or '}' in the header", fn);
            break;
        }
    }
    skip_ws(c);
    if (c->i != c->n)
        return lpci_error(LPC_E_FORMAT, "%s: trailing characters after the header dict", fn);
    if (!seen_descr || !seen_order || !seen_shape)
        return lpci_error(LPC_E_FORMAT, "%s: header lacks 'descr', 'fortran_order' or 'shape'",
                          fn);
    return LPC_OK;
}

lpc_status lpci_npy_parse(const uint8_t *buf, size_t len, lpci_npy_header *h)
{
    if (!buf || !h)
        return lpci_error(LPC_E_ARG, "npy: NULL argument");
    memset(h, 0, sizeof *h);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return lpci_error(LPC_E_FORMAT, "npy: bad magic (not a .npy file)");
    size_t hlen, start;
    if (buf[6] == 1 && buf[7] == 0) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && buf[7] == 0 && len >= 12) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        start = 12;
    } else {
        return lpci_error(LPC_E_FORMAT, "npy: unsupported format version %u.%u", buf[6], buf[7]);
    }
    if (hlen > len - start)
        return lpci_error(LPC_E_FORMAT, "npy: header of %zu bytes runs past the end", hlen);
    for (size_t i = 0; i < hlen; i++)
        if (buf[start + i] == 0 || buf[start + i] > 126)
            return lpci_error(LPC_E_FORMAT, "npy: header has a non-ASCII byte at %zu", start + i);
    cursor c = {(const char *)buf + start, hlen, 0};
    lpc_status s = parse_dict(&c, h);
    if (s != LPC_OK)
        return s;
    uint64_t numel = 1;
    for (int d = 0; d < h->ndim; d++) {
        if (h->shape[d] != 0 && numel > (uint64_t)INT64_MAX / (uint64_t)h->shape[d])
            return lpci_error(LPC_E_FORMAT, "npy: shape is too large: dimension %d of %lld after "
                              "%llu elements passes 2^63", d, (long long)h->shape[d],
                              (unsigned long long)numel);
        numel *= (uint64_t)h->shape[d];
    }
    h->numel = (int64_t)numel;
    h->data_offset = start + hlen;
    size_t bytes;
    if (numel > SIZE_MAX || lpci_mul_size((size_t)numel, h->itemsize, &bytes))
        return lpci_error(LPC_E_FORMAT, "npy: shape is too large: %llu elements of %zu bytes",
                          (unsigned long long)numel, (size_t)h->itemsize);
    size_t have = len - h->data_offset;
    if (have < bytes)
        return lpci_error(LPC_E_FORMAT, "npy: truncated data: %zu of %zu bytes", have, bytes);
    if (have > bytes)
        return lpci_error(LPC_E_FORMAT, "npy: %zu bytes after the data", have - bytes);
    return LPC_OK;
}

/* ---- byte order ---- */

/* Files are little-endian; swap in place on a big-endian host. */
static void to_host(void *data, size_t count, size_t itemsize)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint8_t *b = data;
    for (size_t i = 0; i < count; i++, b += itemsize)
        for (size_t k = 0; k < itemsize / 2; k++) {
            uint8_t t = b[k];
            b[k] = b[itemsize - 1 - k];
            b[itemsize - 1 - k] = t;
        }
#else
    (void)data;
    (void)count;
    (void)itemsize;
#endif
}

/* ---- reading ---- */

static lpc_status read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = NULL;
    size_t file_size = 0;
    lpc_status s = lpci_fopen_regular("lpc_npy_load", path, &f, &file_size);
    if (s != LPC_OK)
        return s;
    long size = (long)file_size;
    *buf = lpci_malloc((size_t)size);
    if (!*buf) {
        fclose(f);
        return lpci_error(LPC_E_NOMEM, "lpc_npy_load: no memory for %ld bytes", size);
    }
    size_t got = fread(*buf, 1, (size_t)size, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != (size_t)size) {
        lpci_free(*buf);
        *buf = NULL;
        return lpci_error(LPC_E_IO, "lpc_npy_load: cannot read %s", path);
    }
    *len = (size_t)size;
    return LPC_OK;
}

lpc_status lpc_npy_load(const char *path, lpc_npy **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_npy_load: output is NULL");
    *out = NULL;
    if (!path)
        return lpci_error(LPC_E_ARG, "lpc_npy_load: path is NULL");
    uint8_t *buf = NULL;
    size_t len = 0;
    lpc_status s = read_file(path, &buf, &len);
    if (s != LPC_OK)
        return s;
    lpc_npy *a = lpci_calloc(1, sizeof *a);
    if (!a) {
        lpci_free(buf);
        return lpci_error(LPC_E_NOMEM, "lpc_npy_load: no memory");
    }
    s = lpci_npy_parse(buf, len, &a->h);
    if (s != LPC_OK) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s", lpc_last_error());
        lpci_error(s, "lpc_npy_load: %s: %s", path, detail);
        lpci_free(buf);
        lpci_free(a);
        return s;
    }
    /* Keep the file image and point at its data: no second copy. */
    size_t bytes = len - a->h.data_offset;
    memmove(buf, buf + a->h.data_offset, bytes);
    a->data = buf;
    to_host(a->data, (size_t)a->h.numel, a->h.itemsize);
    *out = a;
    return LPC_OK;
}

void lpc_npy_free(lpc_npy *a)
{
    if (!a)
        return;
    lpci_free(a->data);
    lpci_free(a);
}

int lpc_npy_dtype_of(const lpc_npy *a) { return a ? (int)a->h.dtype : -1; }
int lpc_npy_ndim(const lpc_npy *a) { return a ? a->h.ndim : -1; }
int64_t lpc_npy_numel(const lpc_npy *a) { return a ? a->h.numel : -1; }

int64_t lpc_npy_dim(const lpc_npy *a, int i)
{
    if (!a || i < 0 || i >= a->h.ndim)
        return -1;
    return a->h.shape[i];
}

static lpc_status check_copy(const char *fn, const lpc_npy *a, const void *dst, int64_t n,
                             int want_float)
{
    if (!a || !dst)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    if (n != a->h.numel)
        return lpci_error(LPC_E_SHAPE, "%s: asked for %lld elements, array has %lld", fn,
                          (long long)n, (long long)a->h.numel);
    int is_float = a->h.dtype == LPC_NPY_FLOAT32 || a->h.dtype == LPC_NPY_FLOAT64;
    if (is_float != want_float)
        return lpci_error(LPC_E_FORMAT, "%s: array holds %s, expected %s", fn,
                          is_float ? "floats" : "integers", want_float ? "floats" : "integers");
    return LPC_OK;
}

lpc_status lpc_npy_copy_f64(const lpc_npy *a, double *dst, int64_t n)
{
    lpc_status s = check_copy("lpc_npy_copy_f64", a, dst, n, 1);
    if (s != LPC_OK)
        return s;
    if (a->h.dtype == LPC_NPY_FLOAT64)
        memcpy(dst, a->data, (size_t)n * sizeof *dst);
    else
        for (int64_t i = 0; i < n; i++)
            dst[i] = ((const float *)a->data)[i];
    return LPC_OK;
}

lpc_status lpc_npy_copy_f32(const lpc_npy *a, float *dst, int64_t n)
{
    lpc_status s = check_copy("lpc_npy_copy_f32", a, dst, n, 1);
    if (s != LPC_OK)
        return s;
    if (a->h.dtype == LPC_NPY_FLOAT32) {
        memcpy(dst, a->data, (size_t)n * sizeof *dst);
        return LPC_OK;
    }
    const double *src = a->data;
    for (int64_t i = 0; i < n; i++) {
        if (isfinite(src[i]) && fabs(src[i]) > 3.4028234663852886e38)
            return lpci_error(LPC_E_FORMAT, "lpc_npy_copy_f32: value %lld (%g) overflows float",
                              (long long)i, src[i]);
        dst[i] = (float)src[i];
    }
    return LPC_OK;
}

lpc_status lpc_npy_copy_i32(const lpc_npy *a, int32_t *dst, int64_t n)
{
    lpc_status s = check_copy("lpc_npy_copy_i32", a, dst, n, 0);
    if (s != LPC_OK)
        return s;
    if (a->h.dtype == LPC_NPY_INT32) {
        memcpy(dst, a->data, (size_t)n * sizeof *dst);
        return LPC_OK;
    }
    const int64_t *src = a->data;
    for (int64_t i = 0; i < n; i++) {
        if (src[i] < INT32_MIN || src[i] > INT32_MAX)
            return lpci_error(LPC_E_FORMAT, "lpc_npy_copy_i32: value %lld of element %lld "
                              "overflows int32", (long long)src[i], (long long)i);
        dst[i] = (int32_t)src[i];
    }
    return LPC_OK;
}

/* ---- writing ---- */

/* Version-1.0 header exactly as NumPy >= 1.24 writes it; returns its length. */
static size_t make_header(char *out, size_t cap, const char *descr, int ndim,
                          const int64_t *shape)
{
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int d = 0; d < ndim; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, d ? ", %lld" : "%lld",
                        (long long)shape[d]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%s), }", ndim == 1 ? "," : "");
    if (ndim > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
        for (int i = digits; i < GROWTH_DIGITS; i++)
            dict[len++] = ' ';
    }
    size_t hlen = (size_t)len + 1, pad = 64 - (10 + hlen) % 64;
    size_t total = 10 + hlen + pad;
    if (total > cap)
        return 0;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((hlen + pad) & 0xff);
    out[9] = (char)((hlen + pad) >> 8);
    memcpy(out + 10, dict, (size_t)len);
    memset(out + 10 + len, ' ', pad);
    out[total - 1] = '\n';
    return total;
}

static lpc_status save(const char *fn, const char *path, const char *descr, const void *data,
                       size_t itemsize, int ndim, const int64_t *shape)
{
    if (!path || !data || (ndim > 0 && !shape))
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    if (ndim < 0 || ndim > LPC_NPY_MAX_DIMS)
        return lpci_error(LPC_E_ARG, "%s: ndim %d is not in 0..%d", fn, ndim, LPC_NPY_MAX_DIMS);
    size_t numel = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || lpci_mul_size(numel, (size_t)shape[d], &numel))
            return lpci_error(LPC_E_ARG, "%s: bad dimension %lld", fn, (long long)shape[d]);
    size_t bytes;
    if (lpci_mul_size(numel, itemsize, &bytes))
        return lpci_error(LPC_E_ARG, "%s: array is too large", fn);
    char header[640];
    size_t hsize = make_header(header, sizeof header, descr, ndim, shape);
    lpci_atomic a;
    lpc_status s = lpci_atomic_open(&a, fn, path);
    if (s != LPC_OK)
        return s;
    lpci_atomic_write(&a, header, hsize);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; !a.err && i < numel; i++) {
        uint8_t b[8];
        for (size_t k = 0; k < itemsize; k++)
            b[k] = ((const uint8_t *)data)[i * itemsize + itemsize - 1 - k];
        lpci_atomic_write(&a, b, itemsize);
    }
#else
    lpci_atomic_write(&a, data, bytes);
#endif
    return lpci_atomic_commit(&a, fn);
}

lpc_status lpc_npy_save_f32(const char *path, const float *data, int ndim, const int64_t *shape)
{
    return save("lpc_npy_save_f32", path, "<f4", data, sizeof(float), ndim, shape);
}

lpc_status lpc_npy_save_i32(const char *path, const int32_t *data, int64_t n)
{
    if (n < 0)
        return lpci_error(LPC_E_ARG, "lpc_npy_save_i32: n = %lld is negative", (long long)n);
    return save("lpc_npy_save_i32", path, "<i4", data, sizeof(int32_t), 1, &n);
}

lpc_status lpc_npy_save_tensor(const char *path, const lpc_tensor *t)
{
    if (!t)
        return lpci_error(LPC_E_ARG, "lpc_npy_save_tensor: tensor is NULL");
    const float *data = lpc_tensor_cdata(t);
    if (!data)
        return lpci_error(LPC_E_ARG, "lpc_npy_save_tensor: tensor has no data (poisoned?)");
    return save("lpc_npy_save_tensor", path, "<f4", data, sizeof(float), t->ndim, t->shape);
}
