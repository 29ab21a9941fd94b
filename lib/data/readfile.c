/* Whole-file reads through zlib's gz* layer, which gunzips .gz files and
 * passes anything else through unchanged. */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include "parse.h"

lpc_status lpci_read_file(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return lpci_error(LPC_E_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1u << 18);
    size_t cap = (size_t)1 << 20, n = 0;
    uint8_t *p = lpci_malloc(cap);
    if (!p) {
        gzclose(f);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 2) {
                lpci_free(p);
                gzclose(f);
                return lpci_error(LPC_E_NOMEM, "%s: file too large", path);
            }
            uint8_t *q = lpci_realloc(p, cap * 2);
            if (!q) {
                lpci_free(p);
                gzclose(f);
                return lpci_error(LPC_E_NOMEM, "%s: out of memory after %zu bytes", path, n);
            }
            p = q;
            cap *= 2;
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(f, p + n, (unsigned)want);
        if (got <= 0) {
            int err = Z_OK;
            const char *msg = gzerror(f, &err);
            if (got < 0 || err != Z_OK) {
                lpc_status s = err == Z_ERRNO ? LPC_E_IO : err == Z_MEM_ERROR ? LPC_E_NOMEM
                                                                              : LPC_E_FORMAT;
                const char *why = err == Z_ERRNO ? strerror(errno) : msg;
                lpci_error(s, "%s: %s after %zu bytes: %s", path,
                           s == LPC_E_FORMAT ? "corrupt gzip data" : "read failed", n, why);
                lpci_free(p);
                gzclose(f);
                return s;
            }
            break;
        }
        n += (size_t)got;
    }
    gzclose(f);
    *buf = p;
    *len = n;
    return LPC_OK;
}
