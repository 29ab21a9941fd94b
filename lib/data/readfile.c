/* Bounded reads of data files, raw or gzip (detected by the gzip magic).
 * Only regular files are read (a FIFO, a device such as /dev/zero or a
 * folder is refused before any byte is read), a gzip file must hold exactly
 * one member with nothing after it, and no read returns more than the caller's
 * bound, so a decompression bomb costs at most the bound in memory. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "parse.h"

#define IN_CHUNK (1u << 16)

struct lpci_file {
    const char *path;
    int fd;
    int gz, zinit, end, raw_eof;
    uint64_t out_total; /* decompressed bytes delivered so far */
    z_stream zs;
    uint8_t in[IN_CHUNK];
};

/* Raw read of up to n bytes; *got = 0 at end of file. */
static lpc_status raw_read(lpci_file *f, uint8_t *dst, size_t n, size_t *got)
{
    for (;;) {
        ssize_t r = read(f->fd, dst, n);
        if (r >= 0) {
            *got = (size_t)r;
            return LPC_OK;
        }
        if (errno != EINTR)
            return lpci_error(LPC_E_IO, "%s: read failed: %s", f->path, strerror(errno));
    }
}

static lpc_status fill_input(lpci_file *f)
{
    size_t got = 0;
    lpc_status s = raw_read(f, f->in, IN_CHUNK, &got);
    if (s != LPC_OK)
        return s;
    f->zs.next_in = f->in;
    f->zs.avail_in = (uInt)got;
    f->raw_eof = got == 0;
    return LPC_OK;
}

/* After the end of the gzip member: nothing may follow. */
static lpc_status check_no_trailer(lpci_file *f)
{
    uint64_t extra = f->zs.avail_in;
    while (!f->raw_eof) {
        lpc_status s = fill_input(f);
        if (s != LPC_OK)
            return s;
        extra += f->zs.avail_in;
    }
    if (extra)
        return lpci_error(LPC_E_FORMAT, "%s: %llu bytes of trailing data after the gzip member",
                          f->path, (unsigned long long)extra);
    return LPC_OK;
}

static lpc_status gz_read(lpci_file *f, uint8_t *dst, size_t n, size_t *got)
{
    f->zs.next_out = dst;
    f->zs.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
    uInt want = f->zs.avail_out;
    lpc_status s = LPC_OK;
    while (s == LPC_OK && f->zs.avail_out > 0 && !f->end) {
        if (f->zs.avail_in == 0 && !f->raw_eof && (s = fill_input(f)) != LPC_OK)
            break;
        /* inflate is called even without new input: it may hold bits. */
        int z = inflate(&f->zs, Z_NO_FLUSH);
        unsigned long long at = f->out_total + (want - f->zs.avail_out);
        if (z == Z_STREAM_END) {
            f->end = 1;
            s = check_no_trailer(f);
        } else if (z == Z_MEM_ERROR) {
            s = lpci_error(LPC_E_NOMEM, "%s: out of memory in zlib", f->path);
        } else if (z == Z_BUF_ERROR || z == Z_OK) {
            if (z == Z_BUF_ERROR && f->zs.avail_in == 0 && f->raw_eof)
                s = lpci_error(LPC_E_FORMAT, "%s: gzip stream truncated after %llu bytes",
                               f->path, at);
        } else {
            s = lpci_error(LPC_E_FORMAT, "%s: corrupt gzip data after %llu bytes: %s", f->path,
                           at, f->zs.msg ? f->zs.msg : "inflate failed");
        }
    }
    *got = want - f->zs.avail_out;
    f->out_total += *got;
    return s;
}

lpc_status lpci_file_open(const char *path, lpci_file **out)
{
    *out = NULL;
    int fd = lpci_open_regular("", path, NULL);
    if (fd < 0)
        return LPC_E_IO;
    lpci_file *f = lpci_calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", path);
    }
    f->path = path;
    f->fd = fd;
    /* Peek at the first two bytes for the gzip magic 1f 8b. */
    lpc_status s = fill_input(f);
    while (s == LPC_OK && f->zs.avail_in < 2 && !f->raw_eof) {
        size_t got = 0;
        s = raw_read(f, f->in + f->zs.avail_in, IN_CHUNK - f->zs.avail_in, &got);
        f->zs.avail_in += (uInt)got;
        f->raw_eof = got == 0;
    }
    if (s == LPC_OK && f->zs.avail_in >= 2 && f->in[0] == 0x1f && f->in[1] == 0x8b) {
        f->gz = 1;
        /* 16 + MAX_WBITS: gzip wrapper only. */
        if (inflateInit2(&f->zs, 16 + MAX_WBITS) != Z_OK)
            s = lpci_error(LPC_E_NOMEM, "%s: out of memory in zlib", path);
        else
            f->zinit = 1;
    }
    if (s != LPC_OK) {
        lpci_file_close(f);
        return s;
    }
    *out = f;
    return LPC_OK;
}

lpc_status lpci_file_read(lpci_file *f, uint8_t *dst, size_t n, size_t *got)
{
    if (f->gz) {
        size_t total = 0;
        while (total < n && !f->end) {
            size_t g = 0;
            lpc_status s = gz_read(f, dst + total, n - total, &g);
            if (s != LPC_OK)
                return s;
            total += g;
        }
        *got = total;
        return LPC_OK;
    }
    /* Raw: first what the magic peek buffered, then the file. */
    size_t total = 0;
    if (f->zs.avail_in) {
        size_t k = f->zs.avail_in < n ? f->zs.avail_in : n;
        memcpy(dst, f->zs.next_in, k);
        f->zs.next_in += k;
        f->zs.avail_in -= (uInt)k;
        total = k;
    }
    while (total < n && !f->raw_eof) {
        size_t g = 0;
        lpc_status s = raw_read(f, dst + total, n - total, &g);
        if (s != LPC_OK)
            return s;
        f->raw_eof = g == 0;
        total += g;
    }
    *got = total;
    return LPC_OK;
}

lpc_status lpci_file_read_all(lpci_file *f, size_t max, uint8_t **buf, size_t *len)
{
    /* Grow by doubling, so that memory follows the bytes actually present,
     * and never past max + 1 (the one byte that shows there is more). */
    size_t n = *len, cap = n, limit = max == SIZE_MAX ? SIZE_MAX : max + 1;
    for (;;) {
        if (n == cap) {
            size_t next = cap < 4096 ? 4096 : cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (next > limit)
                next = limit;
            if (next <= cap)
                break;
            uint8_t *p = lpci_realloc(*buf, next);
            if (!p)
                return lpci_error(LPC_E_NOMEM, "%s: out of memory after %zu bytes", f->path, n);
            *buf = p;
            cap = next;
        }
        size_t got = 0, asked = cap - n;
        lpc_status s = lpci_file_read(f, *buf + n, asked, &got);
        n += got;
        *len = n;
        if (s != LPC_OK)
            return s;
        if (got < asked)
            break; /* end of data */
    }
    return LPC_OK;
}

void lpci_file_close(lpci_file *f)
{
    if (!f)
        return;
    if (f->zinit)
        inflateEnd(&f->zs);
    close(f->fd);
    lpci_free(f);
}

lpc_status lpci_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    lpci_file *f;
    lpc_status s = lpci_file_open(path, &f);
    if (s == LPC_OK)
        s = lpci_file_read_all(f, max, buf, len);
    if (s == LPC_OK && *len > max)
        s = lpci_error(LPC_E_FORMAT, "%s: more than %zu bytes (larger than any valid file)",
                       path, max);
    lpci_file_close(f);
    if (s != LPC_OK) {
        lpci_free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return s;
}
