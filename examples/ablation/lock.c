#include "lock.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../common/atomic.h"
#include "../common/files.h"

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
    char why[128];
    int f = ex_open_regular(path, O_RDONLY, 0, why, sizeof why);
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
    char why[128];
    int f = ex_open_regular(path, O_RDWR | O_CREAT, 0644, why, sizeof why);
    if (f < 0) {
        fprintf(stderr, "error: cannot open the lock file %s: %s\n", path, why);
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

int ab_lock_results(const char *out, int *rc)
{
    int fd = -1;
    long holder = 0;
    *rc = 1;
    if (ex_mkdirs(out) != 0) {
        fprintf(stderr, "error: cannot create %s: %s\n", out, strerror(errno));
        return -1;
    }
    int locked = ab_lock_cell(out, &fd, &holder);
    if (locked > 0) {
        fprintf(stderr, "error: process %ld is writing a report or job script in %s; "
                        "try again when it has finished\n", holder, out);
        *rc = AB_EXIT_LOCKED;
    }
    if (locked != 0)
        return -1;
    ex_remove_stale_temps(out);
    return fd;
}
