#include "lock.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void lock_path(const char *dir, char *path, size_t n)
{
    snprintf(path, n, "%s/lock", dir);
}

/* The PID of a lock on f that conflicts with a write lock, or 0. */
static long conflicting(int f)
{
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(f, F_GETLK, &who) == 0 && who.l_type != F_UNLCK ? (long)who.l_pid : 0;
}

long ab_lock_holder(const char *dir)
{
    char path[4200];
    lock_path(dir, path, sizeof path);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    long pid = conflicting(f);
    close(f);
    return pid;
}

int ab_lock_cell(const char *dir, int *fd, long *holder)
{
    char path[4200];
    lock_path(dir, path, sizeof path);
    *fd = -1;
    *holder = 0;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        fprintf(stderr, "error: cannot open the lock file %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &fl) == 0) {
        *fd = f;
        return 0;
    }
    int err = errno;
    if (err != EAGAIN && err != EACCES) {
        fprintf(stderr, "error: cannot lock %s: %s\n", path, strerror(err));
        close(f);
        return -1;
    }
    *holder = conflicting(f);
    close(f);
    return 1;
}

/* The suffix mkstemp gives the atomic writers' temporary files. */
static int is_temp_name(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    return t && strlen(t) == strlen(".tmp-XXXXXX");
}

void ab_lock_remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[4200];
        if (!is_temp_name(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}
