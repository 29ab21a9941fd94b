/* Atomic output files for the example programs: the bytes go to a temporary
 * file with a unique name in the target's directory, are fsynced and renamed
 * over the target, so a reader sees the old file or the new one, never a
 * partial one, and a failed write (full disk) keeps the old file. */
#ifndef LPC_EXAMPLES_ATOMIC_H
#define LPC_EXAMPLES_ATOMIC_H
#include <stddef.h>

/* Writes len bytes to path; 0 on success, otherwise -1 after printing
 * "error: cannot write PATH: <strerror>" on stderr (the temporary file is
 * removed, an existing PATH is unchanged). */
int ex_write_atomic(const char *path, const void *data, size_t len);
#endif
