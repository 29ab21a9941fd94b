/* Atomic replacement of a file: the bytes go to a temporary file with a
 * unique name next to the target ("<path>.tmp-XXXXXX", so two writers never
 * share one), which is flushed, fsynced and renamed over the target; the
 * directory is fsynced after the rename. On any failure the temporary file
 * is removed and an existing target is left as it was. */
#ifndef LPCI_ATOMIC_H
#define LPCI_ATOMIC_H
#include <stdio.h>
#include "../core/internal.h"

typedef struct {
    FILE *f;     /* write through lpci_atomic_write or directly (then check ferror) */
    char *tmp;   /* the temporary file's name */
    const char *path;
    int err;     /* first errno of a failed write */
} lpci_atomic;

/* Creates the temporary file; fn names the public function in messages. */
lpc_status lpci_atomic_open(lpci_atomic *a, const char *fn, const char *path);
/* fwrite that remembers the first error (later writes are skipped). */
void lpci_atomic_write(lpci_atomic *a, const void *p, size_t n);
/* Flushes, fsyncs, closes and renames; on error removes the temporary file
 * and returns LPC_E_IO with a message naming the file and strerror. */
lpc_status lpci_atomic_commit(lpci_atomic *a, const char *fn);
/* Closes and removes the temporary file (after a failure of the caller's own). */
void lpci_atomic_abort(lpci_atomic *a);
#endif
