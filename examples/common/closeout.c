#include "closeout.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program = "lpc";

/* atexit: flush and close stdout; _exit(1) on failure (the exit status of
 * exit() cannot be changed otherwise). A failure is reported only once. */
static void close_stdout(void)
{
    errno = 0;
    int bad = ferror(stdout), err = bad ? EIO : 0;
    if (fflush(stdout) != 0) {
        bad = 1;
        err = errno;
    }
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (!bad)
        return;
    fprintf(stderr, "%s: error: cannot write the standard output: %s\n", program,
            strerror(err ? err : EIO));
    fflush(stderr);
    _exit(1);
}

void ex_closeout_init(const char *prog)
{
    program = prog;
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int got = open("/dev/null", O_RDONLY);
            if (got >= 0 && got != fd) { /* cannot happen: the lowest free number is fd */
                dup2(got, fd);
                close(got);
            }
        }
    atexit(close_stdout);
}
