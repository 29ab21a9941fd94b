/* Runtime version of the loaded library. */
#include "internal.h"

#define LPCI_STR_(x) #x
#define LPCI_STR(x) LPCI_STR_(x)

const char *lpc_version_string(void)
{
    return LPCI_STR(LPC_VERSION_MAJOR) "." LPCI_STR(LPC_VERSION_MINOR) "." LPCI_STR(
        LPC_VERSION_PATCH);
}

int lpc_version_number(void) { return LPC_VERSION_NUMBER; }
