#include "result.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

ab_result_state ab_result_load(const char *path, const char *identity, jv **out, char *why,
                               size_t why_size)
{
    if (out)
        *out = NULL;
    snprintf(why, why_size, "ok");
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        snprintf(why, why_size, "not finished");
        return AB_RESULT_NONE;
    }
    jv *v = jv_load(path, why, why_size);
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
    }
    if (st == AB_RESULT_OK && out)
        *out = v;
    else
        jv_free(v);
    return st;
}
