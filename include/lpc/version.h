/* liblpc — the single source of the version number (meson.build reads it). */
#ifndef LPC_VERSION_H
#define LPC_VERSION_H
#include "export.h"

#define LPC_VERSION_MAJOR 0
#define LPC_VERSION_MINOR 1
#define LPC_VERSION_PATCH 0
/* Bumped only on an ABI break; it is the N of liblpc.so.N. */
#define LPC_SOVERSION 0

#define LPC_VERSION_NUMBER \
    (LPC_VERSION_MAJOR * 10000 + LPC_VERSION_MINOR * 100 + LPC_VERSION_PATCH)

LPC_BEGIN_DECLS
/* "MAJOR.MINOR.PATCH" of the library actually loaded (static string). */
LPC_API const char *lpc_version_string(void);
/* LPC_VERSION_NUMBER of the library actually loaded. */
LPC_API int lpc_version_number(void);
LPC_END_DECLS
#endif
