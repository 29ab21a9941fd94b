#include "atomic.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the rename durable; best effort (some file systems refuse). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int ex_write_atomic(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path) + sizeof ".tmp-XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(ENOMEM));
        return -1;
    }
    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp), err = 0;
    const char *stage = "cannot create a temporary file for";
    if (fd < 0) {
        err = errno;
    } else {
        fchmod(fd, 0644);
        stage = "cannot write";
        if (write_all(fd, data, len) != 0 || fsync(fd) != 0)
            err = errno;
        if (close(fd) != 0 && !err)
            err = errno;
        if (!err && rename(tmp, path) != 0) {
            err = errno;
            stage = "cannot rename the temporary file to";
        }
        if (err)
            unlink(tmp);
    }
    free(tmp);
    if (err) {
        fprintf(stderr, "error: %s %s: %s\n", stage, path, strerror(err));
        return -1;
    }
    sync_dir(path);
    return 0;
}

/* The temporary names ex_write_atomic makes: PATH.tmp-XXXXXX, where mkstemp
 * replaces the six X with letters and digits. */
static int is_temp_name(const char *name)
{
    size_t n = strlen(name), suffix = strlen(".tmp-XXXXXX");
    if (n <= suffix || strncmp(name + n - suffix, ".tmp-", 5) != 0)
        return 0;
    for (const char *p = name + n - 6; *p; p++)
        if (!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

void ex_remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[4200];
        struct stat st;
        if (!is_temp_name(e->d_name) ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            unlink(path);
    }
    if (d)
        closedir(d);
}
