/* The files and folders the example programs open: an input is opened only
 * when it is a regular file (a FIFO would block the program, a device or a
 * folder is no input), and an output path is checked before any work. */
#ifndef LPC_EXAMPLES_FILES_H
#define LPC_EXAMPLES_FILES_H
#include <stddef.h>
#include <stdio.h>

/* Opens path with open(2) flags (O_RDONLY, O_RDWR | O_CREAT, ...; mode for
 * O_CREAT) without ever blocking on a FIFO, and keeps it only when it is a
 * regular file. Returns the descriptor (close-on-exec, blocking I/O), or -1
 * with why holding the cause ("No such file or directory", "not a regular
 * file (a FIFO)", ...) and errno set (ENOENT when it does not exist). */
int ex_open_regular(const char *path, int flags, int mode, char *why, size_t why_size);
/* The same as a FILE opened for reading ("rb"), with *size its size in
 * bytes (size may be NULL); NULL and why on failure. */
FILE *ex_fopen_regular(const char *path, size_t *size, char *why, size_t why_size);
/* Whether s holds a control character (newline, tab, escape, DEL, ...). */
int ex_has_control(const char *s);
/* Checks the value of a folder option (opt, e.g. "--out") before any work:
 * an empty path, one with a control character, one too long, or an
 * existing path that is not a folder is refused with a message naming opt
 * and the value. Returns 1 when usable (it need not exist yet), else 0. */
int ex_check_dir_option(const char *opt, const char *path);
/* The same for a file option (e.g. "--json FILE"): not empty, not a
 * folder, no control character, and its folder must exist. */
int ex_check_file_option(const char *opt, const char *path);
/* Creates path and its missing parents (mode 0755); 0, or -1 with errno
 * (ENOENT for an empty path, ENOTDIR when a component is a file). */
int ex_mkdirs(const char *path);
#endif
