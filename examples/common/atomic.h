/* Atomic output files for the example programs: the bytes go to a temporary
 * file with a unique name in the target's directory, are fsynced and renamed
 * over the target, so a reader sees the old file or the new one, never a
 * partial one, and a failed write (full disk) keeps the old file. The
 * library's writer (checkpoints, .npy) works the same way and names its
 * temporaries alike, but it is internal to liblpc, not part of its API. */
#ifndef LPC_EXAMPLES_ATOMIC_H
#define LPC_EXAMPLES_ATOMIC_H
#include <stddef.h>

/* Writes len bytes to path; 0 on success, otherwise -1 after printing
 * "error: cannot write PATH: <strerror>" on stderr (the temporary file is
 * removed, an existing PATH is unchanged). */
int ex_write_atomic(const char *path, const void *data, size_t len);
/* Removes from dir the regular files named like ex_write_atomic's
 * temporaries (NAME.tmp- and six letters or digits) that a writer killed in
 * the middle of a write left behind, and nothing else. Call only while
 * holding dir's lock, when no other process can be writing there. */
void ex_remove_stale_temps(const char *dir);
#endif
