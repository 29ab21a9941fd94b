/* Status names, descriptions and the thread-local error detail. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

static _Thread_local char last_error[512];
static _Thread_local lpc_status last_status;

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
    last_status = s;
    return s;
}

lpc_status lpci_format_error(const char *who, const char *src, size_t at, const char *fmt,
                             va_list ap)
{
    char reason[256];
    vsnprintf(reason, sizeof reason, fmt, ap);
    return lpci_error(LPC_E_FORMAT, "%s: '%s' refused: %s (at byte %zu)", who, src, reason, at);
}

lpc_status lpci_error_context(const char *fmt, ...)
{
    char inner[sizeof last_error], context[256];
    snprintf(inner, sizeof inner, "%s", last_error);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    /* context (< 256 bytes) + ": " + as much of the cause as fits. */
    size_t c = strlen(context), room = sizeof last_error - c - 3, k = strlen(inner);
    memcpy(last_error, context, c);
    memcpy(last_error + c, ": ", 2);
    memcpy(last_error + c + 2, inner, k < room ? k : room);
    last_error[c + 2 + (k < room ? k : room)] = '\0';
    return last_status;
}
