/* An exclusive lock per cell, so that two processes never train the same
 * cell: an fcntl write lock on DIR/cells/<name>/lock. The kernel releases
 * it when the holder exits or dies (even by kill -9), so a lock never
 * outlives its process; the file itself may stay and means nothing. */
#ifndef AB_LOCK_H
#define AB_LOCK_H

/* Exit code of `run` for a cell locked by another process (EX_TEMPFAIL). */
#define AB_EXIT_LOCKED 75

/* Locks the cell directory dir (which must exist); the lock file must be a
 * regular file (a FIFO or a folder there is an error). Returns 0 with *fd the
 * open lock file (the lock lasts until it is closed or the process ends),
 * 1 when another process holds it (*holder: its PID, 0 if unknown), or -1
 * on an error (message naming the file on stderr). */
int ab_lock_cell(const char *dir, int *fd, long *holder);
/* PID of the process holding the lock of cell directory dir, 0 when none
 * does (or there is no lock file); reads only, takes nothing. */
long ab_lock_holder(const char *dir);
/* The results directory out itself, for `report` and `slurm`, which write
 * there: creates out, locks out/lock and removes the temporary files that
 * a report killed in the middle of a write left. Returns the lock's
 * descriptor (close it when done), or -1 after a message with *rc the exit
 * code (AB_EXIT_LOCKED when another process holds it, else 1). */
int ab_lock_results(const char *out, int *rc);
#endif
