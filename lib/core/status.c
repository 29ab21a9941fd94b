/* Status names, descriptions and the thread-local error detail. */
#include <stdio.h>
#include "internal.h"

static _Thread_local char last_error[512];

const char *lpc_status_name(lpc_status s)
{
    switch (s) {
#define LPC_STATUS_NAME_(name, value, text) case name: return #name;
        LPC_STATUS_TABLE(LPC_STATUS_NAME_)
#undef LPC_STATUS_NAME_
    }
    return "LPC_E_UNKNOWN";
}

const char *lpc_strerror(lpc_status s)
{
    switch (s) {
#define LPC_STATUS_TEXT_(name, value, text) case name: return text;
        LPC_STATUS_TABLE(LPC_STATUS_TEXT_)
#undef LPC_STATUS_TEXT_
    }
    return "unknown status";
}

const char *lpc_last_error(void) { return last_error; }

void lpc_clear_error(void) { last_error[0] = '\0'; }

lpc_status lpci_error(lpc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}
