#include "lock.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ab_lock_cell(const char *dir, int *fd, long *holder)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
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
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
        *holder = (long)who.l_pid;
    close(f);
    return 1;
}
