#include "atomic.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

lpc_status lpci_atomic_open(lpci_atomic *a, const char *fn, const char *path)
{
    *a = (lpci_atomic){.path = path};
    size_t n = strlen(path) + sizeof ".tmp-XXXXXX";
    if (!(a->tmp = lpci_malloc(n)))
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", fn);
    snprintf(a->tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        lpc_status s = lpci_error(LPC_E_IO, "%s: cannot create a temporary file for '%s': %s",
                                  fn, path, strerror(err));
        lpci_free(a->tmp);
        a->tmp = NULL;
        return s;
    }
    fchmod(fd, 0644); /* mkstemp creates 0600; results are meant to be shared */
    return LPC_OK;
}

void lpci_atomic_write(lpci_atomic *a, const void *p, size_t n)
{
    if (!a->err && n && fwrite(p, 1, n, a->f) != n)
        a->err = errno ? errno : EIO;
}

/* Makes the rename durable. Best effort: some file systems refuse to fsync
 * a directory, and the file itself is complete either way. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096] = ".";
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

lpc_status lpci_atomic_commit(lpci_atomic *a, const char *fn)
{
    int err = a->err;
    const char *stage = "writing";
    errno = 0;
    if (!err && ferror(a->f))
        err = EIO;
    if (!err && fflush(a->f) != 0)
        err = errno ? errno : EIO;
    if (!err && fsync(fileno(a->f)) != 0)
        err = errno;
    if (fclose(a->f) != 0 && !err)
        err = errno ? errno : EIO;
    a->f = NULL;
    if (!err && rename(a->tmp, a->path) != 0) {
        err = errno;
        stage = "renaming";
    }
    lpc_status s = LPC_OK;
    if (err) {
        unlink(a->tmp);
        s = lpci_error(LPC_E_IO, "%s: %s '%s' failed: %s (any old '%s' is intact)", fn, stage,
                       a->tmp, strerror(err), a->path);
    } else {
        sync_dir(a->path);
    }
    lpci_free(a->tmp);
    a->tmp = NULL;
    return s;
}

void lpci_atomic_abort(lpci_atomic *a)
{
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        unlink(a->tmp);
    lpci_free(a->tmp);
    *a = (lpci_atomic){0};
}
