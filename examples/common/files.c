#include "files.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m)
{
    return S_ISDIR(m)                    ? "a folder"
           : S_ISFIFO(m)                 ? "a FIFO"
           : S_ISCHR(m) || S_ISBLK(m)    ? "a device"
           : S_ISSOCK(m)                 ? "a socket"
                                         : "a special file";
}

int ex_open_regular(const char *path, int flags, int mode, char *why, size_t why_size)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0) {
        int err = errno;
        snprintf(why, why_size, "%s", strerror(err));
        errno = err;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        snprintf(why, why_size, "%s", strerror(err));
        close(fd);
        errno = err;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "not a regular file (%s)", kind(st.st_mode));
        close(fd);
        errno = EINVAL;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

FILE *ex_fopen_regular(const char *path, size_t *size, char *why, size_t why_size)
{
    int fd = ex_open_regular(path, O_RDONLY, 0, why, why_size);
    if (fd < 0)
        return NULL;
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        snprintf(why, why_size, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (size)
        *size = (size_t)st.st_size;
    return f;
}

int ex_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Common checks of a path option; 1 when they pass. */
static int plain_path(const char *opt, const char *path)
{
    if (!path[0]) {
        fprintf(stderr, "error: %s is empty; give a path\n", opt);
        return 0;
    }
    if (ex_has_control(path)) {
        fprintf(stderr, "error: %s '%s' holds a control character (newline, tab, ...)\n", opt,
                path);
        return 0;
    }
    if (strlen(path) >= 3800) {
        fprintf(stderr, "error: %s is %zu characters long (at most 3799)\n", opt, strlen(path));
        return 0;
    }
    return 1;
}

int ex_check_dir_option(const char *opt, const char *path)
{
    struct stat st;
    if (!plain_path(opt, path))
        return 0;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "error: %s '%s' is not a folder (%s)\n", opt, path,
                S_ISREG(st.st_mode) ? "a file" : kind(st.st_mode));
        return 0;
    }
    return 1;
}

int ex_check_file_option(const char *opt, const char *path)
{
    struct stat st;
    if (!plain_path(opt, path))
        return 0;
    size_t len = strlen(path);
    if (path[len - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        fprintf(stderr, "error: %s '%s' is a folder, not a file\n", opt, path);
        return 0;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "error: %s '%s': its folder %s %s\n", opt, path, dir,
                stat(dir, &st) != 0 ? "does not exist" : "is not a folder");
        return 0;
    }
    return 1;
}

int ex_mkdirs(const char *path)
{
    char buf[4096];
    if (!path[0]) {
        errno = ENOENT;
        return -1;
    }
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            struct stat st;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
            if (!(*p = c))
                return 0;
        }
    }
}
