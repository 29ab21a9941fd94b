#include "result.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The configuration, final metrics and timings take a few KiB (64 KiB
 * leaves room for long dataset paths); a log entry takes under 1 KiB. */
#define FIXED_BYTES ((size_t)64 << 10)
#define ENTRY_BYTES ((size_t)2 << 10)

static size_t max_bytes(long epochs)
{
    return FIXED_BYTES + (size_t)(epochs > 0 ? epochs : 0) * ENTRY_BYTES;
}

ab_result_state ab_result_load(const char *path, const char *identity, long epochs, jv **out,
                               char *why, size_t why_size)
{
    if (out)
        *out = NULL;
    snprintf(why, why_size, "ok");
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        snprintf(why, why_size, "not finished");
        return AB_RESULT_NONE;
    }
    jv *v = jv_load(path, max_bytes(epochs), why, why_size);
    if (!v)
        return AB_RESULT_DAMAGED;
    const char *id = jv_str(v, "config.identity");
    ab_result_state st = AB_RESULT_OK;
    if (!id) {
        snprintf(why, why_size, "damaged: no config.identity");
        st = AB_RESULT_DAMAGED;
    } else if (strcmp(id, identity) != 0) {
        snprintf(why, why_size, "the result of another configuration");
        st = AB_RESULT_FOREIGN;
    } else if (!cJSON_IsArray(jv_get(v, "log")) ||
               cJSON_GetArraySize(jv_get(v, "log")) != epochs) {
        snprintf(why, why_size, "damaged: the log holds %d entries for %ld epochs",
                 cJSON_IsArray(jv_get(v, "log")) ? cJSON_GetArraySize(jv_get(v, "log")) : 0,
                 epochs);
        st = AB_RESULT_DAMAGED;
    }
    if (st == AB_RESULT_OK && out)
        *out = v;
    else
        jv_free(v);
    return st;
}
