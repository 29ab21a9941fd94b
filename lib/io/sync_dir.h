/* The last step of an atomic file write (temporary file, fsync, rename). */
#ifndef LPC_SYNC_DIR_H
#define LPC_SYNC_DIR_H

/* fsyncs the directory that holds path, making a rename into it durable.
 * Best effort: some file systems refuse to fsync a directory, and the file
 * itself is complete either way. */
void lpci_sync_dir(const char *path);
#endif
