/* Opening input files: only regular files, and never blocking on a FIFO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

int lpci_open_regular(const char *who, const char *path, size_t *size)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        lpci_error(LPC_E_IO, "%s%s%s: cannot open: %s", who, *who ? ": " : "", path,
                   strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lpci_error(LPC_E_IO, "%s%s%s: cannot stat: %s", who, *who ? ": " : "", path,
                   strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        lpci_error(LPC_E_IO, "%s%s%s: not a regular file (%s)", who, *who ? ": " : "", path,
                   S_ISDIR(st.st_mode)                          ? "a folder"
                   : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                   : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                : "a special file");
        close(fd);
        return -1;
    }
    /* Back to blocking reads (the flag means nothing for a regular file). */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (size)
        *size = (size_t)st.st_size;
    return fd;
}

lpc_status lpci_fopen_regular(const char *who, const char *path, FILE **f, size_t *size)
{
    int fd = lpci_open_regular(who, path, size);
    if (fd < 0)
        return LPC_E_IO;
    *f = fdopen(fd, "rb");
    if (!*f) {
        close(fd);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory opening %s", who, path);
    }
    return LPC_OK;
}
